"""The standard aggregations analysts ask of the warehouse."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from diogel.errors import DiogelError
from diogel.warehouse.counted_table import counted_rows
from diogel.warehouse.counting import counted_in_lsoas, crimes
from diogel.warehouse.geography import lsoa_membership, resolve_area

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

BY_COLUMNS = ("lsoa", "ward", "la", "csp", "force", "month", "crime_type")
UNKNOWN_LSOA = "unknown LSOA"


def _month(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise DiogelError(f"{what} must be a month as YYYY-MM, not {value!r}") from None


def counts_expr(
    wh: Warehouse,
    by: list[str],
    area: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> ibis.Table:
    """Crimes and ASB incidents counted under the counting rules, grouped by ``by``.

    ``by`` takes ``lsoa``, ``ward``, ``la``, ``csp``, ``force`` (areas by LSOA membership),
    ``month`` and ``crime_type``. Incidents with no location have a blank area; those in an LSOA no
    loaded lookup knows (loaded before the lookups; once they are loaded such rows are quarantined
    at ingest) are counted under :data:`UNKNOWN_LSOA`. Where an area is given only its LSOAs'
    incidents are counted.
    """
    unknown = [b for b in by if b not in BY_COLUMNS]
    if unknown or not by:
        raise DiogelError(
            f"--by takes a comma-separated list of {', '.join(BY_COLUMNS)}; got {', '.join(by)}"
        )
    kept = counted_rows(wh)
    t = crimes(wh) if kept is None else kept
    lo, hi = _month(start, "--from"), _month(end, "--to")
    if lo:
        t = t.filter(t.month >= lo)
    if hi:
        t = t.filter(t.month <= hi)
    area_levels = [b for b in by if b in ("ward", "la", "csp", "force")]
    if area or area_levels:
        m = lsoa_membership(wh)
        if area:
            level, code, _ = resolve_area(wh, area)
            m = m.filter(m[f"{level}_code"] == code)
        keep = ["lsoa_code"] + [f"{lv}_code" for lv in area_levels]
        m = m.select(*keep).distinct().mutate(_known=ibis.literal(True))
        how = "inner" if area else "left"
        t = t.join(m, "lsoa_code", how=how)
        if how == "left":
            t = t.drop("lsoa_code_right") if "lsoa_code_right" in t.columns else t
    unknown = t.lsoa_code.notnull() & t._known.isnull() if area_levels and not area else ibis.literal(False)
    columns = {
        "lsoa": t.lsoa_code,
        "month": t.month.strftime("%Y-%m"),
        "crime_type": t.crime_type,
        **{lv: ibis.ifelse(unknown, UNKNOWN_LSOA, t[f"{lv}_code"]) for lv in area_levels},
    }
    grouped = t.group_by([columns[b].name(b) for b in by]).aggregate(count=t.count())
    return grouped.order_by(by)


def counts(
    wh: Warehouse, by: list[str], area: str | None = None, start: str | None = None, end: str | None = None
) -> pd.DataFrame:
    df = wh.execute(counts_expr(wh, by, area, start, end))
    df["count"] = df["count"].astype("int64")
    return df.reset_index(drop=True)


def points(wh: Warehouse, area: str, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Records of an area's LSOAs (either vintage) at their police.uk map points, counted as above.

    One row per ``month``, ``crime_type``, ``lsoa_code``, ``longitude``, ``latitude`` with the
    ``count`` of records there; records without a location are not in any LSOA and are left out.
    police.uk moves every record to the nearest of its anonymous map points, so these are map
    points, not where crimes happened.
    """
    lo, hi = _month(start, "--from"), _month(end, "--to")
    level, code, _ = resolve_area(wh, area)
    m = lsoa_membership(wh)
    codes = wh.execute(m.filter(m[f"{level}_code"] == code).select("lsoa_code").distinct())["lsoa_code"]
    # The counting rules on the area's rows only (the same rows as filtering crimes(wh)).
    t = counted_in_lsoas(wh, "police-street", sorted(codes.dropna()), hi)
    if lo:
        t = t.filter(t.month >= lo)
    t = t.filter(lambda r: r.longitude.notnull() & r.latitude.notnull())
    keys = ["month", "crime_type", "lsoa_code", "longitude", "latitude"]
    df = wh.execute(t.group_by(keys).aggregate(count=t.count()))
    df["month"] = pd.to_datetime(df["month"])
    df["count"] = df["count"].astype(float)
    return df.sort_values(keys).reset_index(drop=True)
