"""Partner data: levels and monthly trends per dataset, by LSOA or by area.

Pure functions over a frame of partner records, one row per stored record, with columns

* ``dataset``: the schema name (``ed_assaults``, ``fire_incidents``, ...);
* ``month``: first day of the record's month (anything ``pd.to_datetime`` reads);
* ``lsoa_code``: where the record is placed (missing when it could not be placed);
* ``count``: how many the row stands for (1 for a person-level record; the schema's ``count_field``
  for aggregate datasets such as treatment counts).

Areas are by LSOA membership: pass ``area_of``, a mapping LSOA code -> area code (e.g. the local
authority or CSP of each LSOA from :func:`diogel.warehouse.geography.lsoa_membership`); records whose
LSOA it does not know, or that have no LSOA, go to :data:`NOT_PLACED`.

Nothing here suppresses small counts: these frames stay inside the warehouse boundary until
:mod:`diogel.gather.partner` applies :mod:`diogel.disclosure`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from diogel.analysis.trends import compare_periods

NOT_PLACED = "(not placed)"
__all__ = ["NOT_PLACED", "levels", "monthly_counts", "recent_trend"]


def _prepare(records: pd.DataFrame, area_of: Mapping[str, str] | pd.Series | None) -> pd.DataFrame:
    missing = [c for c in ("dataset", "month", "lsoa_code", "count") if c not in records.columns]
    if missing:
        raise ValueError(f"partner records need column(s) {missing}; they have {list(records.columns)}")
    out = records.copy()
    out["month"] = pd.to_datetime(out["month"]).dt.to_period("M").dt.to_timestamp()
    out["count"] = pd.to_numeric(out["count"]).fillna(0)
    lsoa = out["lsoa_code"].where(out["lsoa_code"].notna(), None)
    if area_of is not None:
        mapping = area_of if isinstance(area_of, pd.Series) else pd.Series(dict(area_of), dtype=object)
        out["area"] = lsoa.map(mapping)
    else:
        out["area"] = lsoa
    out["area"] = out["area"].where(out["area"].notna(), NOT_PLACED).astype(object)
    return out


def levels(
    records: pd.DataFrame,
    area_of: Mapping[str, str] | pd.Series | None = None,
    by: Sequence[str] = ("dataset", "area"),
) -> pd.DataFrame:
    """Totals per group, with each group's share of its dataset's total.

    Parameters
    ----------
    records : see the module docstring.
    area_of : LSOA code -> area code; without it the area is the LSOA itself.
    by : grouping columns among ``dataset``, ``area`` and ``month`` (default: dataset and area).

    Returns
    -------
    Frame with the ``by`` columns, ``count`` (sum of ``count``) and ``share`` (count / dataset total,
    NaN when the dataset total is 0), sorted by dataset then count, largest first.
    """
    frame = _prepare(records, area_of)
    by = list(by)
    if "dataset" not in by:
        raise ValueError("levels are per dataset: 'dataset' must be one of the grouping columns")
    out = frame.groupby(by, as_index=False, dropna=False)["count"].sum()
    totals = out.groupby("dataset")["count"].transform("sum")
    out["share"] = np.where(totals > 0, out["count"] / totals.where(totals > 0, 1), np.nan)
    return out.sort_values(["dataset", "count"], ascending=[True, False], kind="stable").reset_index(
        drop=True
    )


def monthly_counts(
    records: pd.DataFrame,
    start: str | pd.Timestamp,
    end: str | pd.Timestamp,
    area_of: Mapping[str, str] | pd.Series | None = None,
    by: Sequence[str] = ("dataset",),
) -> pd.DataFrame:
    """Counts per month from ``start`` to ``end`` (months, inclusive) per group, months without records as 0.

    Records outside the period are left out. Every group seen in the period gets every month.

    Returns
    -------
    Frame with the ``by`` columns, ``month`` (first day) and ``count``, sorted by group then month.
    """
    frame = _prepare(records, area_of)
    lo = pd.Timestamp(start).to_period("M").to_timestamp()
    hi = pd.Timestamp(end).to_period("M").to_timestamp()
    if hi < lo:
        raise ValueError(f"end {hi:%Y-%m} is before start {lo:%Y-%m}")
    frame = frame[(frame["month"] >= lo) & (frame["month"] <= hi)]
    by = list(by)
    months = pd.date_range(lo, hi, freq="MS")
    summed = frame.groupby([*by, "month"], dropna=False)["count"].sum()
    groups = frame[by].drop_duplicates().sort_values(by, kind="stable") if by else pd.DataFrame(index=[0])
    grid = groups.merge(pd.DataFrame({"month": months}), how="cross")
    out = grid.merge(summed.reset_index(), on=[*by, "month"], how="left")
    out["count"] = out["count"].fillna(0)
    if np.all(np.mod(out["count"].to_numpy(dtype=float), 1) == 0):
        out["count"] = out["count"].astype("int64")
    return out.sort_values([*by, "month"], kind="stable").reset_index(drop=True)


def recent_trend(
    monthly: pd.DataFrame, months: int = 6, by: Sequence[str] = ("dataset",), alpha: float = 0.05
) -> pd.DataFrame:
    """Compare the last ``months`` months with the ``months`` before them, per group.

    The comparison is :func:`diogel.analysis.trends.compare_periods` (exact conditional binomial test,
    equal exposure), on whole-number counts. A group needs ``2 * months`` months in ``monthly``.

    Parameters
    ----------
    monthly : output of :func:`monthly_counts` (every month present, zeros included).

    Returns
    -------
    Frame with the ``by`` columns, ``current``, ``previous``, ``change``, ``percent_change``,
    ``rate_ratio``, ``ci_lower``, ``ci_upper``, ``p_value``, ``direction`` and ``period`` (e.g.
    "2025-01..2025-06 vs 2024-07..2024-12").
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    by = list(by)
    rows = []
    groups = monthly.groupby(by, sort=True, dropna=False) if by else [((), monthly)]
    for key, part in groups:
        part = part.sort_values("month")
        if len(part) < 2 * months:
            raise ValueError(f"group {key}: needs {2 * months} months, has {len(part)}")
        recent = part.iloc[-months:]
        before = part.iloc[-2 * months : -months]
        cur, prev = recent["count"].sum(), before["count"].sum()
        if int(cur) != cur or int(prev) != prev:
            raise ValueError(f"group {key}: counts must be whole numbers for the exact test")
        cmp = compare_periods(int(cur), int(prev), alpha=alpha)
        if cmp.significant:
            direction = "up" if cmp.current > cmp.previous else "down"
        else:
            direction = "no significant change"
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **dict(zip(by, key, strict=True)),
                "current": cmp.current,
                "previous": cmp.previous,
                "change": cmp.change,
                "percent_change": cmp.percent_change,
                "rate_ratio": cmp.rate_ratio,
                "ci_lower": cmp.ci_lower,
                "ci_upper": cmp.ci_upper,
                "p_value": cmp.p_value,
                "direction": direction,
                "period": (
                    f"{recent.month.iloc[0]:%Y-%m}..{recent.month.iloc[-1]:%Y-%m} vs "
                    f"{before.month.iloc[0]:%Y-%m}..{before.month.iloc[-1]:%Y-%m}"
                ),
            }
        )
    return pd.DataFrame(rows)
