"""Getting partner data out of the warehouse for an area and a period, disclosure-controlled.

Partner records stay inside the warehouse boundary: :func:`partner_records` (record level) is for
analysis code running beside the warehouse, never for publication. What may leave, in a report, a
portal page or a CSV, comes from :func:`gather_partner` (counts by LSOA and month, totals, the recent
trend) and :func:`gather_cardiff` (the Cardiff Model view); both suppress small counts with
:mod:`diogel.disclosure` before returning:

* primary suppression: an ED, fire, ambulance... count from 1 to ``threshold - 1`` is hidden
  (``threshold`` is the largest ``disclosure_threshold`` of the schemas the rows were loaded under, 5 in
  every shipped schema; a caller may raise it, never lower it); zeros are shown;
* secondary suppression in every table, so that no hidden count can be recovered from the row and
  column totals (which are published alongside: month totals, LSOA totals);
* every share or rate built on a hidden count is hidden too; counts in sentences are written
  "fewer than 5".

Police-recorded figures (police.uk) are public and are not suppressed.

Areas are by LSOA membership (:func:`diogel.warehouse.geography.area_lsoas`): a record belongs to an
area when its LSOA does. Records without an LSOA (not geocoded, or located only by an outward postcode)
belong to no area; they count only when no area is asked for, as the row :data:`NOT_PLACED`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from diogel.analysis.cardiff import CardiffView, cardiff_view, describe
from diogel.analysis.partner_trends import NOT_PLACED, monthly_counts, recent_trend
from diogel.disclosure import suppress, suppress_long
from diogel.errors import DiogelError

if TYPE_CHECKING:
    import ibis

__all__ = [
    "NOT_PLACED",
    "PartnerHotspots",
    "PartnerNearRepeats",
    "PartnerSummary",
    "gather_cardiff",
    "gather_hotspots",
    "gather_near_repeats",
    "gather_partner",
    "partner_datasets",
    "partner_records",
    "partner_sources",
]


def _month(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.datetime.strptime(str(value)[:7], "%Y-%m").date()
    except ValueError:
        raise DiogelError(f"{what} must be a month as YYYY-MM, not {value!r}") from None


def _area(wh, area: str | None) -> tuple[str | None, list[str] | None]:  # noqa: ANN001
    """(label, LSOA codes) of ``area``; (None, None) for no area."""
    if area is None:
        return None, None
    from diogel.warehouse.geography import area_lsoas, resolve_area

    level, code, name = resolve_area(wh, area)
    return f"{name} ({code})" if name != code else code, area_lsoas(wh, area)


def partner_records(
    wh,  # noqa: ANN001
    dataset: str | None = None,
    lsoas: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    details: bool = False,
) -> pd.DataFrame:
    """Partner records under the counting rules, RECORD LEVEL: for analysis inside the warehouse boundary.

    Parameters
    ----------
    dataset : a schema name (``ed_assaults``); None for every dataset.
    lsoas : keep records in these LSOAs only (None: all, placed or not).
    start, end : first and last month, ``YYYY-MM`` (inclusive).
    details : also expand ``detail_json`` into one column per stored field.

    Returns
    -------
    Frame with ``dataset``, ``supplier``, ``event_date``, ``event_time``, ``month`` (Timestamp),
    ``lsoa_code``, ``outward_code``, ``easting``, ``northing``, ``grid_cell_m``, ``time_resolution``,
    ``count`` and ``disclosure_threshold`` (and the detail fields).
    """
    if not wh.has("partner_record"):
        raise DiogelError("the warehouse has no partner data yet: load some with 'diogel ingest partner'")
    t = _counted_records(wh, dataset, lsoas, start, end)
    cols = ["dataset", "supplier", "event_date", "event_time", "month", "lsoa_code", "outward_code",
            "easting", "northing", "grid_cell_m", "time_resolution", "record_count",
            "disclosure_threshold"]  # fmt: skip
    if details:
        cols.append("detail_json")
    df = wh.execute(t.select(*cols)).rename(columns={"record_count": "count"})
    df["month"] = pd.to_datetime(df["month"])
    df["event_date"] = pd.to_datetime(df["event_date"])
    for c in ("lsoa_code", "outward_code", "event_time"):
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    if details:
        expanded = pd.DataFrame([json.loads(v) for v in df.pop("detail_json")], index=df.index)
        df = df.join(expanded[[c for c in expanded.columns if c not in df.columns]])
    return df.sort_values(["dataset", "month", "event_date"], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------
# Counts by LSOA and month


@dataclass
class PartnerSummary:
    """One dataset's counts for an area and period, safe to publish.

    Counts hidden by disclosure control are ``pd.NA``; ``suppression`` says "primary" (small) or
    "secondary" (hidden to protect another). ``rule`` is the footnote to print under any of them.
    """

    dataset: str
    area: str | None
    start: str
    end: str
    threshold: int
    total: int | None
    not_placed: int | None
    by_month: pd.DataFrame
    by_lsoa: pd.DataFrame
    by_lsoa_month: pd.DataFrame
    trend: pd.DataFrame
    rule: str
    notes: list[str] = field(default_factory=list)


def _safe(n: int, threshold: int) -> int | None:
    return None if 0 < n < threshold else int(n)


def _threshold(records: pd.DataFrame, threshold: int | None) -> int:
    stored = int(records["disclosure_threshold"].max()) if len(records) else 5
    return max(stored, int(threshold or 0))


def gather_partner(
    wh,  # noqa: ANN001
    dataset: str,
    area: str | None = None,
    start: str | None = None,
    end: str | None = None,
    threshold: int | None = None,
    trend_months: int = 6,
    lsoa_months: bool = True,
) -> PartnerSummary:
    """Counts of one partner dataset by LSOA and month for an area and period, with small counts suppressed.

    Parameters
    ----------
    wh : the warehouse.
    dataset : a schema name, e.g. ``fire_incidents``.
    area : an LA, CSP, force, ward or LSOA code or name (by LSOA membership); None for all records.
    start, end : first and last month (``YYYY-MM``); default the dataset's first and last month.
    threshold : raise the disclosure threshold above the schemas' (it is never lowered).
    trend_months : the trend compares the last ``trend_months`` months with the ones before
        (given only when the period has at least twice as many months).
    lsoa_months : also build ``by_lsoa_month`` (LSOA x month, the slowest table to protect); when False
        it is an empty frame.

    Returns
    -------
    PartnerSummary
    """
    label, lsoas = _area(wh, area)
    records = partner_records(wh, dataset, lsoas, start, end)
    if records.empty:
        raise DiogelError(
            f"no {dataset} records in the warehouse" + (f" for {label}" if label else "")
            + (f" from {start or 'the start'} to {end or 'the end'}" if start or end else "")
        )  # fmt: skip
    k = _threshold(records, threshold)
    lo = pd.Timestamp(start + "-01") if start else records["month"].min()
    hi = pd.Timestamp(end + "-01") if end else records["month"].max()
    records = records.assign(lsoa_code=records["lsoa_code"].where(records["lsoa_code"].notna(), NOT_PLACED))

    by_month = monthly_counts(records, lo, hi, by=())
    month_table = suppress_long(by_month.assign(month=by_month.month.dt.strftime("%Y-%m")), "month", None,
                                "count", threshold=k)  # fmt: skip
    lsoa = records.groupby("lsoa_code", as_index=False)["count"].sum()
    lsoa_table = suppress_long(lsoa, "lsoa_code", None, "count", threshold=k)
    long_table = pd.DataFrame(columns=["lsoa_code", "month", "count", "suppressed", "suppression"])
    if lsoa_months:
        long = monthly_counts(records.assign(dataset=dataset), lo, hi, by=("lsoa_code",))
        long = long.assign(month=long.month.dt.strftime("%Y-%m"))
        long_table = suppress_long(long, "lsoa_code", "month", "count", threshold=k)

    trend = pd.DataFrame()
    n_months = len(by_month)
    if n_months >= 2 * trend_months:
        trend = recent_trend(by_month, months=trend_months, by=())
        hidden = trend[["current", "previous"]].apply(lambda s: s.map(lambda v: 0 < v < k)).any(axis=1)
        stats_cols = ["current", "previous", "change", "percent_change", "rate_ratio", "ci_lower",
                      "ci_upper", "p_value"]  # fmt: skip
        trend[stats_cols] = trend[stats_cols].astype("Float64").mask(hidden)
        trend["direction"] = trend["direction"].mask(hidden, "not published (small counts)")

    total = int(records["count"].sum())
    not_placed = int(records.loc[records.lsoa_code == NOT_PLACED, "count"].sum()) if lsoas is None else 0
    return PartnerSummary(
        dataset=dataset,
        area=label,
        start=f"{lo:%Y-%m}",
        end=f"{hi:%Y-%m}",
        threshold=k,
        total=_safe(total, k),
        not_placed=_safe(not_placed, k),
        by_month=month_table,
        by_lsoa=lsoa_table.sort_values("lsoa_code", kind="stable").reset_index(drop=True),
        by_lsoa_month=long_table,
        trend=trend,
        rule=(
            f"Counts from 1 to {k - 1} are hidden (primary suppression); zeros are shown. Further counts are "
            "hidden wherever a hidden count could otherwise be worked out from the totals published beside "
            "it (secondary suppression)."
        ),
        notes=_notes(records, dataset, lsoas is not None),
    )


def _notes(records: pd.DataFrame, dataset: str, by_area: bool) -> list[str]:
    notes = []
    if by_area:
        notes.append(f"{dataset} records without an LSOA are not in any area and are left out.")
    if (records["time_resolution"] == "quarter").any():
        notes.append(
            f"{dataset} is dated by quarter: each quarter's count is in its first month, and the other two "
            "months show zero."
        )
    return notes


# ----------------------------------------------------------------------------------------------------
# The Cardiff Model view


def _police_violence(wh, area: str | None, start: str | None, end: str | None) -> pd.DataFrame:  # noqa: ANN001
    from diogel.analysis.cardiff import VIOLENCE
    from diogel.warehouse.queries import counts

    if not wh.has("police_street"):
        return pd.DataFrame(
            {
                "lsoa_code": pd.Series([], dtype=object),
                "month": pd.Series([], dtype="datetime64[ns]"),
                "count": pd.Series([], dtype="int64"),
            }
        )
    df = counts(wh, ["lsoa", "month", "crime_type"], area, start, end)
    df = df[df.crime_type == VIOLENCE].rename(columns={"lsoa": "lsoa_code"})
    df = df[df.lsoa_code.notna()]
    return df.assign(month=pd.to_datetime(df.month + "-01"))[["lsoa_code", "month", "count"]]


def _hide_single(frame: pd.DataFrame, key: str | list[str], column: str, k: int) -> pd.Series:
    """Mask of ``column`` (a column of counts whose total is published) after suppression."""
    keys = [key] if isinstance(key, str) else key
    label = frame[keys].astype(str).agg("|".join, axis=1) if len(keys) > 1 else frame[keys[0]].astype(str)
    out = suppress_long(pd.DataFrame({"_k": label, "_v": frame[column].to_numpy()}), "_k", None, "_v",
                        threshold=k)  # fmt: skip
    return pd.Series(out["suppressed"].to_numpy(dtype=bool), index=frame.index)


def _hide_answers(frame: pd.DataFrame, key: str | list[str], k: int) -> pd.DataFrame:
    """Suppression mask of the reported / not_reported / not_known columns as one 2-D table."""
    keys = [key] if isinstance(key, str) else key
    cols = ["reported", "not_reported", "not_known"]
    label = frame[keys].astype(str).agg("|".join, axis=1)
    table = pd.DataFrame(frame[cols].to_numpy(dtype=float), index=label, columns=cols)
    keep = table.sum(axis=1) > 0  # rows nobody is in add nothing and would only blur the lines
    mask = pd.DataFrame(False, index=table.index, columns=cols)
    if keep.any():
        mask.loc[keep] = suppress(table[keep], threshold=k, margins=False).suppressed.to_numpy()
    return mask.set_axis(frame.index)


def gather_cardiff(
    wh,  # noqa: ANN001
    area: str | None = None,
    start: str | None = None,
    end: str | None = None,
    threshold: int | None = None,
) -> CardiffView:
    """The Cardiff Model view (:func:`diogel.analysis.cardiff.cardiff_view`) for an area and period, safe to publish.

    ED assaults come from the ``ed_assaults`` dataset (in the area: those whose assault LSOA is in it);
    police-recorded violence is police.uk "Violence and sexual offences" under the counting rules, in the
    same LSOAs and months. Every ED count, share and rate is disclosure-controlled as described in the
    module docstring; ``view.rule`` is the footnote.
    """
    label, lsoas = _area(wh, area)
    ed = partner_records(wh, "ed_assaults", lsoas, start, end, details=True)
    if ed.empty:
        raise DiogelError("no ed_assaults records in the warehouse" + (f" for {label}" if label else ""))
    k = _threshold(ed, threshold)
    police = _police_violence(wh, area, start, end)
    if start is None or end is None:
        # The police comparison covers the months the ED data cover, no more.
        police = police[(police.month >= ed.month.min()) & (police.month <= ed.month.max())]
    view = cardiff_view(ed, police, start, end)
    return _suppress_view(view, k)


def _suppress_view(view: CardiffView, k: int) -> CardiffView:
    monthly = view.monthly.copy()
    hidden = _hide_single(monthly, "month", "ed_assaults", k)
    monthly["ed_assaults"] = monthly["ed_assaults"].astype("Int64").mask(hidden)
    monthly["ed_per_100_police"] = monthly["ed_per_100_police"].mask(hidden)

    by_lsoa = view.by_lsoa.copy()
    by_lsoa["ed_assaults"] = (
        by_lsoa["ed_assaults"].astype("Int64").mask(_hide_single(by_lsoa, "lsoa_code", "ed_assaults", k))
    )

    def answers(frame: pd.DataFrame, key: str | list[str], grid: bool) -> pd.DataFrame:
        frame = frame.copy()
        if grid:
            days = frame.pivot(index="day", columns="hour", values="ed_assaults")
            mask = suppress(days.astype(float), threshold=k, margins=False).suppressed
            hidden = np.array([mask.at[d, h] for d, h in zip(frame.day, frame.hour, strict=True)])
        else:
            hidden = _hide_single(frame, key, "ed_assaults", k).to_numpy()
        frame["ed_assaults"] = frame["ed_assaults"].astype("Int64").mask(hidden)
        if view.method == "recorded":
            mask = _hide_answers(frame.fillna({"ed_assaults": 0}), key, k)
            for c in ("reported", "not_reported", "not_known"):
                frame[c] = frame[c].astype("Int64").mask(mask[c])
            frame["share_not_reported"] = frame["share_not_reported"].mask(
                mask["reported"] | mask["not_reported"]
            )
        return frame

    by_type = answers(view.by_location_type, "location_type", grid=False)
    by_how = answers(view.by_hour_of_week, ["day", "hour"], grid=True)

    small = any(0 < v < k for v in (view.numerator, view.denominator - view.numerator))
    statement = describe(
        view.method,
        view.numerator,
        view.denominator,
        view.ed_total,
        view.police_total,
        view.share_not_reported,
        view.ci_lower,
        view.ci_upper,
        view.alpha,
        threshold=k,
    )
    nan = float("nan")
    return replace(
        view,
        monthly=monthly,
        by_lsoa=by_lsoa,
        by_location_type=by_type,
        by_hour_of_week=by_how,
        share_not_reported=nan if small else view.share_not_reported,
        ci_lower=nan if small else view.ci_lower,
        ci_upper=nan if small else view.ci_upper,
        numerator=None if small else view.numerator,
        denominator=_safe(view.denominator, k),
        statement=statement,
        ed_total=_safe(view.ed_total, k),
        ed_without_lsoa=_safe(view.ed_without_lsoa, k),
        ed_without_time=_safe(view.ed_without_time, k),
        rule=(
            f"Emergency department counts from 1 to {k - 1} are hidden, and further counts wherever a hidden "
            "count could be worked out from published totals; shares and rates built on a hidden count are "
            "hidden too. Police-recorded figures are published by police.uk and are shown in full."
        ),
    )


# ----------------------------------------------------------------------------------------------------
# For the strategic assessment: which datasets, from which files, hot spots and near repeats


def partner_datasets(
    wh, lsoas: Sequence[str] | None = None, start: str | None = None, end: str | None = None
):  # noqa: ANN001, ANN201
    """The partner datasets in the warehouse, and those with records in ``lsoas`` from ``start`` to ``end``.

    Returns
    -------
    (loaded, present) : two sorted lists of dataset (schema) names: every dataset loaded, and those with
    at least one record in the LSOAs and months asked for. Names only: no count leaves this function.
    """
    from diogel.warehouse.counting import counted

    if not wh.has("partner_record"):
        return [], []
    t = counted(wh, "partner")
    loaded = sorted(wh.execute(t.select("dataset").distinct())["dataset"])
    lo, hi = _month(start, "start"), _month(end, "end")
    if lo:
        t = t.filter(t.month >= lo)
    if hi:
        t = t.filter(t.month <= hi)
    if lsoas is not None:
        t = t.filter(t.lsoa_code.isin(list(lsoas)))
    present = sorted(wh.execute(t.select("dataset").distinct())["dataset"])
    return loaded, present


def _counted_records(
    wh,  # noqa: ANN001
    dataset: str | None,
    lsoas: Sequence[str] | None,
    start: str | None,
    end: str | None,
) -> ibis.Table:
    """Partner records that count, restricted to a dataset (None: all), LSOAs and months."""
    from diogel.warehouse.counting import counted

    t = counted(wh, "partner")
    if dataset is not None:
        t = t.filter(t.dataset == dataset)
    lo, hi = _month(start, "start"), _month(end, "end")
    if lo:
        t = t.filter(t.month >= lo)
    if hi:
        t = t.filter(t.month <= hi)
    if lsoas is not None:
        t = t.filter(t.lsoa_code.isin(list(lsoas)))
    return t


def partner_sources(
    wh,  # noqa: ANN001
    dataset: str,
    lsoas: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
) -> list[dict[str, str]]:
    """The files (and ingest runs) whose records of ``dataset`` in the LSOAs and months asked for count.

    Returns
    -------
    list of ``{"kind": "partner", "name", "file_id", "run_id"}`` in ingest order; ``file_id`` is the
    SHA-256 of the raw file, the only trace of it the warehouse keeps.
    """
    t = _counted_records(wh, dataset, lsoas, start, end)
    used = wh.execute(t.select("file_id", "run_id").distinct())
    files = wh.execute(wh.table("source_file").select("file_id", "run_id", "name", "seq"))
    used = used.merge(files, on=["file_id", "run_id"], how="left").sort_values(["seq", "name"])
    return [
        {"kind": "partner", "name": str(r.name), "file_id": str(r.file_id), "run_id": str(r.run_id)}
        for r in used.itertuples()
    ]


@dataclass
class PartnerHotspots:
    """Where one dataset's records fall among an area's LSOAs, safe to publish.

    ``by_lsoa`` has one row per LSOA of the area: ``lsoa_code``, ``count`` (NA where hidden),
    ``suppression`` ("primary", "secondary" or ""), ``population``, ``rate_per_1000`` (NA wherever the
    count is hidden) and ``gi_bin`` (the Getis-Ord Gi* hot or cold spot class, computed inside the
    warehouse boundary from the exact counts; a class is not a count and is always shown). ``placed``
    is the number of records in those LSOAs (None when it would itself be small); ``rule`` the footnote.
    """

    dataset: str
    by_lsoa: pd.DataFrame
    placed: int | None
    threshold: int
    rule: str
    gi_varies: bool


def gather_hotspots(
    wh,  # noqa: ANN001
    dataset: str,
    units: pd.DataFrame,
    start: str,
    end: str,
    weights=None,  # noqa: ANN001
    permutations: int = 999,
    seed: int = 12345,
    threshold: int | None = None,
) -> PartnerHotspots:
    """Records of ``dataset`` per LSOA of an area, with rates and Gi* hot spots, small counts suppressed.

    Parameters
    ----------
    wh : the warehouse.
    dataset : a schema name.
    units : the area's LSOAs: ``lsoa_code`` and ``population`` (residents).
    start, end : first and last month, ``YYYY-MM``.
    weights : libpysal contiguity weights over ``units.lsoa_code`` for Gi*
        (:func:`diogel.analysis.hotspots.contiguity_weights`); None skips Gi* (every class "not tested").
    permutations, seed : for the Gi* conditional permutations.
    threshold : raise the disclosure threshold above the schema's (never lowered).

    Returns
    -------
    PartnerHotspots
    """
    from diogel.analysis.hotspots import gi_star
    from diogel.disclosure import suppress_rates

    codes = list(units["lsoa_code"])
    records = partner_records(wh, dataset, codes, start, end)
    k = _threshold(records, threshold)
    counts = records.groupby("lsoa_code")["count"].sum().reindex(codes, fill_value=0).astype("int64")
    gi_varies = bool(weights is not None and counts.nunique() > 1)
    if gi_varies:
        gi = gi_star(counts.astype(float), weights, permutations=permutations, seed=seed)
        bins = gi["bin"].reindex(codes).to_numpy()
    else:
        bins = np.full(len(codes), "Not significant" if weights is not None else "not tested", dtype=object)
    table = suppress_long(pd.DataFrame({"lsoa_code": codes, "count": counts.to_numpy()}), "lsoa_code", None,
                          "count", threshold=k)  # fmt: skip
    pop = units.set_index("lsoa_code")["population"].reindex(codes).astype(float).to_numpy()
    raw_rate = pd.Series(1000 * counts.to_numpy() / np.where(pop > 0, pop, np.nan), index=codes)
    rate = suppress_rates(raw_rate, pd.Series(table["suppressed"].to_numpy(), index=codes))
    by_lsoa = pd.DataFrame(
        {
            "lsoa_code": codes,
            "count": table["count"].to_numpy(),
            "suppression": table["suppression"].to_numpy(),
            "population": pop,
            "rate_per_1000": rate.to_numpy(),
            "gi_bin": bins,
        }
    )
    return PartnerHotspots(
        dataset=dataset,
        by_lsoa=by_lsoa,
        placed=_safe(int(counts.sum()), k),
        threshold=k,
        rule=(
            f"Counts from 1 to {k - 1} are hidden (primary suppression); zeros are shown. Further counts are "
            "hidden wherever a hidden count could otherwise be worked out from the area total (secondary "
            "suppression). Rates built on a hidden count are hidden. Hot and cold spot classes come from the "
            "exact counts inside the warehouse and reveal no count."
        ),
        gi_varies=gi_varies,
    )


@dataclass
class PartnerNearRepeats:
    """The Knox test and incident labels of one dataset in an area, safe to publish.

    ``table`` has one row per distance band x time band: ``distance_band``, ``time_band``,
    ``knox_ratio`` and ``p_value`` (pair counts are not in it: a cell with few pairs would describe
    few incidents; ``summary`` quotes the near cell's pairs only when there are at least ``threshold``). ``labels`` counts incidents by label (originator, repeat, near repeat, isolated),
    suppressed like any count. ``summary`` is the plain-English reading; ``band_note`` says what the
    bands contain.
    """

    dataset: str
    n_incidents: int | None
    table: pd.DataFrame
    labels: pd.DataFrame
    summary: str
    band_note: str
    near_distance_m: int
    near_days: int
    near_ratio: float
    near_p: float
    permutations: int
    seed: int | None
    grid_cell_m: float | None
    threshold: int
    rule: str


def gather_near_repeats(
    wh,  # noqa: ANN001
    dataset: str,
    lsoas: Sequence[str],
    start: str,
    end: str,
    permutations: int = 999,
    seed: int | None = 12345,
    threshold: int | None = None,
    min_incidents: int = 20,
) -> PartnerNearRepeats | None:
    """Knox near-repeat test of ``dataset`` in ``lsoas`` over the months asked for, when it can be run.

    Only for records with exact dates (``time_resolution`` date or datetime) and a grid cell
    (coordinates coarsened on the way in); distances are Manhattan between the cells' centres.

    Returns
    -------
    PartnerNearRepeats, or None when the dataset has fewer than ``min_incidents`` such records.
    """
    from diogel.analysis.near_repeat import LABELS, knox_test, label_incidents

    records = partner_records(wh, dataset, list(lsoas), start, end)
    exact = records[
        records["time_resolution"].isin(["date", "datetime"])
        & records["easting"].notna()
        & records["northing"].notna()
        & records["event_date"].notna()
    ]
    if len(exact) < min_incidents:
        return None
    k = _threshold(records, threshold)
    frame = pd.DataFrame(
        {
            "x": exact["easting"].astype(float),
            "y": exact["northing"].astype(float),
            "date": exact["event_date"],
        }
    ).reset_index(drop=True)
    knox = knox_test(frame, permutations=permutations, seed=seed)
    labels = label_incidents(frame)
    counts = labels.value_counts().reindex(list(LABELS), fill_value=0)
    label_table = suppress_long(pd.DataFrame({"label": list(LABELS), "count": counts.to_numpy().astype("int64")}),
                                "label", None, "count", threshold=k)  # fmt: skip
    table = knox.to_frame()[["distance_band", "time_band", "knox_ratio", "p_value"]]
    summary = knox.summary
    if 0 < knox.near_observed < k:
        # The summary quotes the pairs in the near cell; a handful of pairs describes a handful of incidents.
        summary = (
            f"Within {knox.near_distance_m} m and {knox.near_days} days of an incident, further incidents were "
            f"{knox.near_ratio:.1f} times as frequent as expected by chance (p = {knox.near_p:.3g}); the number of "
            "pairs is too small to publish."
        )
    cells = exact["grid_cell_m"].dropna()
    return PartnerNearRepeats(
        dataset=dataset,
        n_incidents=_safe(len(exact), k),
        table=table,
        labels=label_table,
        summary=summary,
        band_note=knox.band_note,
        near_distance_m=knox.near_distance_m,
        near_days=knox.near_days,
        near_ratio=knox.near_ratio,
        near_p=knox.near_p,
        permutations=knox.permutations,
        seed=knox.seed,
        grid_cell_m=float(cells.max()) if len(cells) else None,
        threshold=k,
        rule=f"Incident counts from 1 to {k - 1} are hidden, and a further count wherever a hidden one could be "
        "worked out from the total; pairs are counted in the summary only when there are at least "
        f"{k} of them, and not at all in the table of bands.",
    )
