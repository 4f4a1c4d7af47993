"""Data-supply gaps: months whose volume collapses against the months around them, and whether a
period comparison touches one.

Pure: frames in, frames or dataclasses out. Re-exported by :mod:`diogel.analysis.trends`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from diogel.analysis._frames import as_tuple, month_start, require_columns

__all__ = ["GapCheck", "comparison_gap_check", "detect_supply_gaps"]


def _reference_months(i: int, usable: np.ndarray, window: int) -> list[int]:
    """Indices of the ``window`` nearest usable months before and after month ``i``.

    When one side runs out (the ends of the series) the other side tops up, so every month is
    judged against up to ``2 * window`` months.
    """
    before = [j for j in range(i - 1, -1, -1) if usable[j]]
    after = [j for j in range(i + 1, len(usable)) if usable[j]]
    nb = min(len(before), max(window, 2 * window - len(after)))
    na = min(len(after), max(window, 2 * window - len(before)))
    return before[:nb] + after[:na]


def _flag_gaps(
    values: np.ndarray,
    is_loaded: np.ndarray,
    threshold: float,
    window: int,
    min_neighbours: int,
    min_median: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flag months under ``threshold`` of their reference median, repeated until nothing new is flagged.

    Returns the gap flags, each month's reference median and its number of reference months (from the
    last pass, with every gap month left out of the references).
    """
    n = len(values)
    gap = np.zeros(n, dtype=bool)
    med = np.full(n, np.nan)
    nn = np.zeros(n, dtype=int)
    for _ in range(n):
        new = np.zeros(n, dtype=bool)
        for i in range(n):
            idx = _reference_months(i, ~gap & is_loaded, window)
            nn[i] = len(idx)
            med[i] = np.median(values[idx]) if idx else np.nan
            if (
                is_loaded[i]
                and not gap[i]
                and nn[i] >= min_neighbours
                and med[i] >= min_median
                and med[i] > 0
                and values[i] < threshold * med[i]
            ):
                new[i] = True
        if not new.any():
            break
        gap |= new
    return gap, med, nn


def _gap_reasons(
    label: str,
    full: pd.DatetimeIndex,
    published: pd.Series,
    values: np.ndarray,
    gap: np.ndarray,
    ratio: np.ndarray,
    med: np.ndarray,
    nn: np.ndarray,
) -> list[str]:
    """The plain-English reason of each flagged month ("" for the others)."""
    reasons = []
    for i, month in enumerate(full):
        if not gap[i]:
            reasons.append("")
            continue
        what = (
            "no records were published"
            if not published.iloc[i]
            else f"{int(values[i])} records were published"
        )
        reasons.append(
            f"{label} {month:%Y-%m}: {what}, {ratio[i]:.0%} of the median ({med[i]:.0f}) of the "
            f"{nn[i]} nearby months used as reference. This looks like a gap in the data supplied "
            "to police.uk, not a fall in crime; do not report a fall that includes this month."
        )
    return reasons


def _series_gaps(
    group: pd.DataFrame,
    keys: tuple[str, ...],
    key_tuple: tuple,
    loaded: pd.DataFrame | None,
    shared: list[str],
    threshold: float,
    window: int,
    min_neighbours: int,
    min_median: float,
) -> pd.DataFrame:
    """Every loaded month of one series (missing months filled with 0), judged by :func:`_flag_gaps`."""
    s = group.set_index("month")["count"].astype(float).sort_index()
    full = pd.date_range(s.index.min(), s.index.max(), freq="MS")
    published = pd.Series(full.isin(s.index), index=full)
    s = s.reindex(full, fill_value=0.0)
    values = s.to_numpy()
    n = len(values)
    if loaded is None:
        is_loaded = np.ones(n, dtype=bool)
    else:
        mine = loaded
        for k in shared:
            mine = mine[mine[k] == key_tuple[list(keys).index(k)]]
        is_loaded = full.isin(mine["month"]) | published.to_numpy()
    gap, med, nn = _flag_gaps(values, is_loaded, threshold, window, min_neighbours, min_median)
    judged = (nn >= min_neighbours) & (med > 0) & (med >= min_median)
    ratio = np.where(judged, values / np.where(med > 0, med, np.nan), np.nan)
    label = ", ".join(str(k) for k in key_tuple)
    reasons = _gap_reasons(label, full, published, values, gap, ratio, med, nn)
    part = pd.DataFrame(
        {
            "month": full,
            "count": values,
            "neighbour_median": med,
            "n_neighbours": nn,
            "ratio": ratio,
            "gap": gap,
            "reason": reasons,
        }
    )
    for k, v in zip(keys, key_tuple, strict=True):
        part.insert(list(keys).index(k), k, v)
    return part[is_loaded]


def _summed_and_loaded(
    monthly: pd.DataFrame, keys: tuple[str, ...], loaded: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None, list[str]]:
    """Counts summed per series and month, the loaded months (at the first of the month) and the key
    columns ``loaded`` shares with the series."""
    frame = monthly.assign(month=month_start(pd.Index(monthly["month"])))
    summed = frame.groupby([*keys, "month"], as_index=False)["count"].sum()
    shared: list[str] = []
    if loaded is not None:
        shared = [k for k in keys if k in loaded.columns]
        require_columns(loaded, [*shared, "month"], "loaded")
        loaded = loaded.assign(month=month_start(pd.Index(loaded["month"])))
    return summed, loaded, shared


def detect_supply_gaps(
    monthly: pd.DataFrame,
    threshold: float = 0.5,
    window: int = 6,
    by: str | Sequence[str] = ("force",),
    min_neighbours: int = 4,
    min_median: float = 10.0,
    return_all: bool = False,
    loaded: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Flag months whose volume collapses relative to the months around them: a supply gap.

    For each series (one per ``by`` key) months missing from the data are first added with count 0
    (a month with nothing published is the extreme gap), unless ``loaded`` says the month was never
    loaded: such a month is unknown, not empty, so it is neither judged nor used as a reference
    month, and it is left out of the result. A month is flagged when

        count < threshold * median(reference months)

    where the reference months are the ``window`` nearest months before it and the ``window``
    nearest after it that are not already flagged (topped up from the other side at the ends
    of the series). Flagging is repeated until no new month is flagged: a gap several months
    long is found from its edges inwards instead of hiding itself by pulling the median down.
    Months with fewer than ``min_neighbours`` usable neighbours, or a neighbour median below
    ``min_median``, are not judged: with a handful of crimes a month, Poisson noise alone halves a
    count often.

    A flagged month is treated as a data-supply problem (records not yet, or not fully, supplied
    to police.uk, or recorded under another type), not a fall in crime. Because of the
    iteration, a sustained drop to under ``threshold`` of the level on both sides of it is flagged
    in full (real Gwent example: Burglary 2023-04..09, except 2023-06 at 61% of its reference);
    and at a step change the whole low side is flagged (Gwent Criminal damage and arson ran at
    about 50 a month until 2023-09 and about 600 from 2023-10: all 15 early months are flagged).
    Check flagged runs by eye before publishing.

    Parameters
    ----------
    monthly : DataFrame
        Columns ``by`` (default ``force``), ``month`` and ``count``; several rows per key and
        month (e.g. one per crime type) are summed.
    threshold : float, default 0.5
    window : int, default 6
        Reference months taken from each side.
    by : str or sequence of str, default ("force",)
        Series keys, e.g. ``("force", "crime_type")`` to check each crime type separately.
    min_neighbours : int, default 4
    min_median : float, default 10
        Smallest neighbour median at which a month is judged.
    return_all : bool, default False
        Return every month with a ``gap`` column instead of only the flagged months.
    loaded : DataFrame, optional
        The months loaded: column ``month`` and any of the ``by`` columns (e.g. ``force`` alone,
        for every crime type of that force). A series' month is loaded when a row matches it on
        those columns. ``None`` (default): every month from a series' first to its last is loaded.

    Returns
    -------
    DataFrame
        ``by`` columns, ``month``, ``count``, ``neighbour_median``, ``n_neighbours``, ``ratio``
        (count / neighbour median), ``gap`` (bool) and ``reason`` (plain English, empty when not
        flagged).
    """
    keys = as_tuple(by)
    require_columns(monthly, [*keys, "month", "count"], "monthly")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    summed, loaded, shared = _summed_and_loaded(monthly, keys, loaded)
    parts = []
    for key, group in summed.groupby(list(keys), sort=True):
        key_tuple = key if isinstance(key, tuple) else (key,)
        parts.append(
            _series_gaps(
                group, keys, key_tuple, loaded, shared, threshold, window, min_neighbours, min_median
            )
        )
    columns = [*keys, "month", "count", "neighbour_median", "n_neighbours", "ratio", "gap", "reason"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    if not return_all:
        out = out[out["gap"]].reset_index(drop=True)
    return out[columns]


@dataclass(frozen=True)
class GapCheck:
    """Whether a period comparison touches a supply-gap month.

    Attributes
    ----------
    includes_gap : bool
    gap_months : list of Timestamp
        Gap months inside either period.
    message : str
        Plain-English sentence for the report ("" when there is no gap).
    """

    includes_gap: bool
    gap_months: list[pd.Timestamp]
    message: str


def comparison_gap_check(
    gaps: pd.DataFrame,
    current: tuple[str | pd.Timestamp, str | pd.Timestamp],
    previous: tuple[str | pd.Timestamp, str | pd.Timestamp],
    **keys: str,
) -> GapCheck:
    """Say whether a comparison of two periods includes a supply-gap month.

    Parameters
    ----------
    gaps : DataFrame
        Output of :func:`detect_supply_gaps` (flagged rows only, or ``return_all=True`` output;
        only rows with ``gap`` true count).
    current, previous : (start, end)
        Inclusive first and last months of each period.
    **keys : str
        Restrict to one series, e.g. ``force="Gwent Police"`` or ``crime_type="Burglary"``.

    Returns
    -------
    GapCheck
        ``includes_gap`` is true when any gap month lies in either period; the message tells the
        report not to describe the change as a fall (or rise) in crime.
    """
    require_columns(gaps, ["month", "gap", *keys], "gaps")
    g = gaps[gaps["gap"].astype(bool)]
    for col, value in keys.items():
        g = g[g[col] == value]
    months = month_start(pd.Index(g["month"]))
    hits: set[pd.Timestamp] = set()
    for start, end in (current, previous):
        s, e = (
            pd.Timestamp(start).to_period("M").to_timestamp(),
            pd.Timestamp(end).to_period("M").to_timestamp(),
        )
        if e < s:
            raise ValueError(f"period end {e:%Y-%m} is before its start {s:%Y-%m}")
        hits.update(m for m in months if s <= m <= e)
    found = sorted(hits)
    if not found:
        return GapCheck(False, [], "")
    listed = ", ".join(f"{m:%Y-%m}" for m in found)
    scope = " (" + ", ".join(f"{v}" for v in keys.values()) + ")" if keys else ""
    message = (
        f"The comparison includes {listed}{scope}, when the data supplied to police.uk was incomplete. "
        "The change cannot be reported as a fall or rise in crime."
    )
    return GapCheck(True, found, message)
