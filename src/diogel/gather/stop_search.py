"""The stop-and-search gatherer: police.uk searches of a period placed in an area's 2021 LSOAs.

police.uk stop-and-search rows carry a point, not an LSOA: a search belongs to the area when its
point falls in one of the area's LSOA polygons. Searches without a location cannot be placed; the
ones by the force(s) whose searches were placed are counted apart. police.uk files a search by its
local (UK) date, so the month of a search is taken from its time in Europe/London (the stored
month is the UTC one: 23:32 UTC on 31 May in summer time is a June search).

Police.uk data are public, so nothing here is suppressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

__all__ = ["TABLE", "StopSearchBundle", "gather_stop_search"]

TABLE = "police_stop_search"


@dataclass(frozen=True)
class StopSearchBundle:
    """The period's searches placed in the area, and how many of the same forces' had no location.

    Attributes
    ----------
    placed : one row per search (police.uk columns as stored, plus ``lsoa_code``); empty when none.
    unlocated : searches in the period by the forces of ``placed`` without latitude and longitude.
    """

    placed: pd.DataFrame
    unlocated: int


def gather_stop_search(
    wh: Warehouse | None, start: pd.Timestamp, end: pd.Timestamp, boundaries: gpd.GeoDataFrame
) -> StopSearchBundle | None:
    """The searches from month ``start`` to month ``end`` placed in ``boundaries`` (``lsoa_code``,
    ``geometry``); None without a warehouse, without the table, or with no searches in the period."""
    if wh is None or not wh.has(TABLE):
        return None
    t = wh.table(TABLE)
    # A month either side: the stored (UTC) month of a search can be one off its local month.
    first = (start - pd.DateOffset(months=1)).date()
    last = (end + pd.DateOffset(months=1)).date()
    rows = wh.execute(t.filter((t.month >= first) & (t.month <= last)))
    if rows.empty:
        return None
    local = pd.to_datetime(rows["searched_at"], utc=True).dt.tz_convert("Europe/London")
    month = local.dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    rows = rows[(month >= start) & (month <= end)].reset_index(drop=True)
    if rows.empty:
        return None
    located = rows.dropna(subset=["latitude", "longitude"])
    points = gpd.GeoDataFrame(
        located, geometry=gpd.points_from_xy(located.longitude, located.latitude), crs=4326
    )
    polys = boundaries[["lsoa_code", "geometry"]].to_crs(4326)
    placed = gpd.sjoin(points, polys, how="inner", predicate="within")
    placed = pd.DataFrame(placed.drop(columns=["geometry", "index_right"]))
    forces = set(placed["force"]) if not placed.empty else set()
    unlocated = int(rows[rows["force"].isin(forces)][["latitude", "longitude"]].isna().any(axis=1).sum())
    return StopSearchBundle(placed=placed, unlocated=unlocated)
