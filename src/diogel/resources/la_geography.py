"""Local authorities in the warehouse: their LSOAs, police force, CSPs and polygons (for the resources tools)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from diogel.errors import DiogelError
from diogel.warehouse.counting import counted
from diogel.warehouse.geography import lsoa_membership

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

__all__ = ["la_csp", "la_force", "la_geometries", "lsoa_to_la"]


def lsoa_to_la(wh: Warehouse) -> pd.DataFrame:
    """``lsoa_code``, ``la_code``, ``la_name``: one LA per LSOA (both vintages), by the lookups."""
    if not wh.has("lookup_lsoa_ward_la"):
        raise DiogelError(
            "no LSOA -> local authority lookup is loaded: run 'diogel init --reference wales' first"
        )
    m = wh.execute(lsoa_membership(wh).select("lsoa_code", "la_code", "la_name").distinct())
    return m.dropna(subset=["la_code"]).drop_duplicates("lsoa_code").reset_index(drop=True)


def la_force(wh: Warehouse) -> pd.DataFrame:
    """``la_code``, ``force_code``, ``force_name`` (the newest LA -> CSP -> force lookup), one row per LA."""
    if not wh.has("lookup_la_csp_force"):
        return pd.DataFrame(columns=["la_code", "force_code", "force_name"])
    t = counted(wh, "lookup-la-csp-force")
    latest = t.group_by("la_code").aggregate(year=t.year.max())
    t = t.semi_join(latest, ["la_code", "year"]).select("la_code", "force_code", "force_name").distinct()
    df = wh.execute(t).sort_values(["la_code", "force_code"])
    return df.drop_duplicates("la_code").reset_index(drop=True)


def la_csp(wh: Warehouse) -> pd.DataFrame:
    """``la_code``, ``csp_code``, ``csp_name`` from the newest LA -> CSP lookup (several rows per LA in
    England from 2024, where the relation is many-to-many)."""
    if not wh.has("lookup_la_csp_force"):
        return pd.DataFrame(columns=["la_code", "csp_code", "csp_name"])
    t = counted(wh, "lookup-la-csp-force")
    latest = t.group_by("la_code").aggregate(year=t.year.max())
    t = t.semi_join(latest, ["la_code", "year"]).select("la_code", "csp_code", "csp_name").distinct()
    return wh.execute(t).sort_values(["la_code", "csp_code"]).reset_index(drop=True)


def la_geometries(wh: Warehouse, la_codes: Sequence[str] | None = None, vintage: int | None = None):
    """Local-authority polygons dissolved from the LSOA boundaries in the warehouse (EPSG:27700).

    LSOAs of ``vintage`` (default: the vintage with most LSOAs in ``la_codes``) are assigned to LAs
    through :func:`lsoa_to_la` and dissolved with
    :func:`diogel.resources.options.dissolve_lsoa_to_la`. Returns a GeoDataFrame with ``area_code``,
    ``area_name``, ``area_km2`` and ``geometry`` sorted by code.
    """
    import geopandas as gpd
    import shapely

    from diogel.resources.options import dissolve_lsoa_to_la

    if not wh.has("lsoa_boundaries"):
        raise DiogelError("no LSOA boundaries are loaded: run 'diogel init --reference wales' first")
    lk = lsoa_to_la(wh)
    if la_codes is not None:
        lk = lk[lk["la_code"].isin(set(la_codes))]
    b = counted(wh, "boundaries")
    if vintage is None:
        codes = wh.execute(b.select("lsoa_code", "lsoa_vintage"))
        counts_by = codes[codes["lsoa_code"].isin(set(lk["lsoa_code"]))]["lsoa_vintage"].value_counts()
        if counts_by.empty:
            raise DiogelError("no loaded LSOA boundary matches the local authorities asked for")
        # The vintage covering most LSOAs; ties to the newer one.
        vintage = int(sorted(counts_by.items(), key=lambda kv: (kv[1], kv[0]))[-1][0])
    df = wh.execute(b.filter(b.lsoa_vintage == vintage).select("lsoa_code", "geometry"))
    g = gpd.GeoDataFrame(df[["lsoa_code"]], geometry=shapely.from_wkb(df["geometry"]), crs=4326)
    out = dissolve_lsoa_to_la(
        g, lk, lsoa_col="lsoa_code", lookup_lsoa_col="lsoa_code", la_col="la_code", la_name_col="la_name"
    )
    if la_codes is not None:
        missing = sorted(set(la_codes) - set(out["area_code"]))
        if missing:
            raise DiogelError(f"no LSOA boundaries loaded for {', '.join(missing)}")
    return out
