"""Partner records out of the warehouse: record level (inside the warehouse boundary only), which
datasets are loaded, and which files their counted records come from. Nothing here suppresses: the
published extracts in :mod:`diogel.gather.partner` and :mod:`diogel.gather.cardiff` do."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from diogel.errors import DiogelError
from diogel.gather.police import membership_frame, resolve, session_table
from diogel.warehouse.counting import counted

if TYPE_CHECKING:
    import ibis

    from diogel.warehouse.protocol import Warehouse

__all__ = ["partner_datasets", "partner_records", "partner_sources"]


def month_start(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.datetime.strptime(str(value)[:7], "%Y-%m").date()
    except ValueError:
        raise DiogelError(f"{what} must be a month as YYYY-MM, not {value!r}") from None


def area_lsoas_of(wh: Warehouse, area: str | None) -> tuple[str | None, list[str] | None]:
    """(label, LSOA codes) of ``area``; (None, None) for no area."""
    if area is None:
        return None, None
    level, code, name = resolve(wh, area)
    return f"{name} ({code})" if name != code else code, lsoas_of(wh, level, code)


def lsoas_of(wh: Warehouse, level: str, code: str) -> list[str]:
    """The LSOA codes (both vintages) of an area, as :func:`diogel.warehouse.geography.area_lsoas` gives
    them, from the membership read once per connection (each ``area_lsoas`` built it again, twice)."""
    m = membership_frame(wh)
    return sorted(m.loc[m[f"{level}_code"] == code, "lsoa_code"].unique())


def area_lsoas_cached(wh: Warehouse, area: str) -> list[str]:
    """:func:`diogel.warehouse.geography.area_lsoas` of ``area`` on the cached membership."""
    level, code, _ = resolve(wh, area)
    return lsoas_of(wh, level, code)


def partner_records(
    wh: Warehouse,
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
    # Every column in the order, not just the date: rows of one day came back in the engine's order,
    # which changed from one query to the next, and the Knox test's permutations follow the row order.
    order = ["dataset", "month", "event_date", "event_time", "lsoa_code", "easting", "northing", "supplier",
             "outward_code", "grid_cell_m", "time_resolution", "count", "disclosure_threshold"]  # fmt: skip
    return df.sort_values(order, kind="stable", na_position="last").reset_index(drop=True)


def safe_count(n: int, threshold: int) -> int | None:
    return None if 0 < n < threshold else int(n)


def disclosure_threshold(records: pd.DataFrame, threshold: int | None) -> int:
    stored = int(records["disclosure_threshold"].max()) if len(records) else 5
    return max(stored, int(threshold or 0))


def partner_datasets(
    wh: Warehouse, lsoas: Sequence[str] | None = None, start: str | None = None, end: str | None = None
):
    """The partner datasets in the warehouse, and those with records in ``lsoas`` from ``start`` to ``end``.

    Returns
    -------
    (loaded, present) : two sorted lists of dataset (schema) names: every dataset loaded, and those with
    at least one record in the LSOAs and months asked for. Names only: no count leaves this function.
    """
    if not wh.has("partner_record"):
        return [], []
    loaded = sorted(wh.execute(counted_partner(wh).select("dataset").distinct())["dataset"])
    t = _counted_records(wh, None, lsoas, start, end)
    present = sorted(wh.execute(t.select("dataset").distinct())["dataset"])
    return loaded, present


def counted_partner(wh: Warehouse) -> ibis.Table:
    """The partner records that count (``counted(wh, "partner")``), evaluated once per connection and
    registry state: an assessment reads them a dozen times, and each read applied the rules (a window
    over every partner record) again."""
    return session_table(wh, "partner", lambda: counted(wh, "partner"))


def _counted_records(
    wh: Warehouse,
    dataset: str | None,
    lsoas: Sequence[str] | None,
    start: str | None,
    end: str | None,
) -> ibis.Table:
    """Partner records that count, restricted to a dataset (None: all), LSOAs and months."""
    t = counted_partner(wh)
    if dataset is not None:
        t = t.filter(t.dataset == dataset)
    lo, hi = month_start(start, "start"), month_start(end, "end")
    if lo:
        t = t.filter(t.month >= lo)
    if hi:
        t = t.filter(t.month <= hi)
    if lsoas is not None:
        t = t.filter(t.lsoa_code.isin(list(lsoas)))
    return t


def partner_sources(
    wh: Warehouse,
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
