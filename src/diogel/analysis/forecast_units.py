"""Forecast units: 2021 LSOAs or a 250 m grid, their monthly counts, neighbours and kernel lattice.

police.uk does not publish where a crime happened: each record is moved to the nearest of a fixed
set of anonymous map points (the centre of a street, a public place or a station), chosen so that
every point stands for at least a few addresses, and its LSOA is that of the point. A 250 m cell
therefore holds the records of the map points inside it, not of the places inside it: cells with
no map point never have a record, and a cell with a busy map point (a supermarket car park, a
street centre) takes records that happened up to a few hundred metres away. The grid is only as
fine as the map points, and counts on it are counts at map points.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from diogel.analysis.forecast import ForecastData

__all__ = ["ASB", "grid_units", "lsoa_units", "select_type", "to_bng"]

ASB = "Anti-social behaviour"
BNG = 27700


def select_type(frame: pd.DataFrame, crime_type: str | None) -> pd.DataFrame:
    """Rows of one police.uk crime type; None or "all" keeps every record (ASB included)."""
    if crime_type in (None, "all"):
        return frame
    return frame[frame["crime_type"] == crime_type]


def to_bng(events: pd.DataFrame) -> pd.DataFrame:
    """Events with ``longitude``/``latitude`` (WGS84) given ``x``/``y`` in British National Grid metres."""
    if events.empty:
        return events.assign(x=pd.Series(dtype=float), y=pd.Series(dtype=float))
    pts = gpd.GeoSeries(gpd.points_from_xy(events["longitude"], events["latitude"]), crs=4326).to_crs(BNG)
    return events.assign(x=pts.x.to_numpy(), y=pts.y.to_numpy())


def _row_standardise(m: sp.spmatrix) -> sp.csr_matrix:
    m = sp.csr_matrix(m, dtype=float)
    rows = np.asarray(m.sum(axis=1)).ravel()
    return sp.diags(np.where(rows > 0, 1.0 / np.where(rows > 0, rows, 1.0), 0.0)) @ m


def _wide(counts: pd.DataFrame, units: list[str], months: pd.DatetimeIndex) -> pd.DataFrame:
    # Counts as floats before the pivot: an integer column cannot hold the 0.0 filled in for a unit
    # without records in a month (pandas deprecates the silent upcast).
    counts = counts.assign(count=counts["count"].astype(float))
    wide = counts.pivot_table(index="unit", columns="month", values="count", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(index=units, columns=months, fill_value=0.0).astype(float)
    wide.columns = pd.DatetimeIndex(wide.columns)
    wide.columns.name = None
    return wide


def _lattice(units: gpd.GeoDataFrame, spacing_m: float) -> pd.DataFrame:
    """Points every ``spacing_m`` inside each unit, each standing for its unit's area / its points.

    A unit too small to hold a lattice point gets its representative point for its whole area.
    """
    x0, y0, x1, y1 = units.total_bounds
    xs = np.arange(math.floor(x0 / spacing_m) * spacing_m + spacing_m / 2, x1, spacing_m)
    ys = np.arange(math.floor(y0 / spacing_m) * spacing_m + spacing_m / 2, y1, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx.ravel(), gy.ravel()), crs=units.crs)
    hit = gpd.sjoin(pts, units[["unit", "geometry"]], predicate="within", how="inner")
    hit = hit[~hit.index.duplicated()]
    lat = pd.DataFrame(
        {"x": hit.geometry.x.to_numpy(), "y": hit.geometry.y.to_numpy(), "unit": hit["unit"].to_numpy()}
    )
    missing = units[~units["unit"].isin(set(lat["unit"]))]
    if len(missing):
        rp = missing.geometry.representative_point()
        lat = pd.concat(
            [
                lat,
                pd.DataFrame(
                    {"x": rp.x.to_numpy(), "y": rp.y.to_numpy(), "unit": missing["unit"].to_numpy()}
                ),
            ]
        )
    n = lat.groupby("unit")["unit"].transform("size")
    area = units.set_index("unit")["area_km2"]
    return lat.assign(weight_km2=lat["unit"].map(area).to_numpy() / n.to_numpy()).reset_index(drop=True)


def lsoa_units(
    boundaries: gpd.GeoDataFrame,
    crimes: pd.DataFrame,
    months: pd.DatetimeIndex,
    crime_type: str | None = None,
    deprivation: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    lattice_m: float = 100.0,
) -> tuple[ForecastData, gpd.GeoDataFrame]:
    """Forecast data on the 2021 LSOAs of an area.

    ``boundaries``: ``lsoa_code``, geometry (any CRS); ``crimes``: ``lsoa_code``, ``month``,
    ``crime_type``, ``count`` (the gathered, 2021-harmonised counts); ``months``: every month loaded;
    ``deprivation``: ``lsoa_code`` and ``overall`` (a score); ``events`` (for the kernel):
    ``longitude``, ``latitude``, ``month``, ``crime_type``, ``count``. Neighbours: queen contiguity,
    islands joined to the nearest LSOA, row-standardised. Areas are of the (generalised) boundaries
    in British National Grid.
    """
    from diogel.analysis.hotspots import contiguity_weights

    g = boundaries.to_crs(BNG).sort_values("lsoa_code").reset_index(drop=True)
    g = g.assign(unit=g["lsoa_code"], area_km2=g.geometry.area / 1e6)
    units = g[["unit", "area_km2"]].copy()
    if deprivation is not None and "overall" in deprivation:
        units["deprivation"] = units["unit"].map(deprivation.set_index("lsoa_code")["overall"]).astype(float)
    c = select_type(crimes, crime_type).rename(columns={"lsoa_code": "unit"})
    w = contiguity_weights(g, id_col="unit")
    neighbours = _row_standardise(w.sparse)
    ev = lat = None
    if events is not None:
        ev = to_bng(select_type(events, crime_type))[["x", "y", "month", "count"]].reset_index(drop=True)
        lat = _lattice(g, lattice_m)
    data = ForecastData(
        units.reset_index(drop=True), _wide(c, list(units["unit"]), months), neighbours, ev, lat
    )
    return data, gpd.GeoDataFrame(g[["unit", "area_km2", "geometry"]], crs=BNG)


def grid_units(
    boundaries: gpd.GeoDataFrame,
    events: pd.DataFrame,
    months: pd.DatetimeIndex,
    crime_type: str | None = None,
    deprivation: pd.DataFrame | None = None,
    cell_m: float = 250.0,
    lattice_m: float = 50.0,
) -> tuple[ForecastData, gpd.GeoDataFrame]:
    """Forecast data on a ``cell_m`` grid (British National Grid, origin at 0,0) over an area.

    Cells are those that overlap the area's LSOAs or hold one of its records' map points (the
    boundaries are generalised, so a few map points fall just outside them); every cell counts its
    full area. ``events``: the area's records at map points (``longitude``, ``latitude``,
    ``month``, ``crime_type``, ``count``), by the LSOA police.uk gives them. A cell's deprivation is
    that of the LSOA holding its centre (else the nearest). Neighbours: the 8 surrounding cells
    present (queen), row-standardised. Unit codes are ``E<easting>N<northing>`` of the cell's
    south-west corner.
    """
    g = boundaries.to_crs(BNG)
    ev = to_bng(events)
    x0, y0, x1, y1 = g.total_bounds
    i0, j0 = math.floor(x0 / cell_m), math.floor(y0 / cell_m)
    i1, j1 = math.floor(x1 / cell_m), math.floor(y1 / cell_m)
    ii, jj = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1))
    ii, jj = ii.ravel(), jj.ravel()
    boxes = shapely.box(ii * cell_m, jj * cell_m, (ii + 1) * cell_m, (jj + 1) * cell_m)
    area_union = shapely.union_all(g.geometry.to_numpy())
    overlap = shapely.intersects(boxes, area_union) & ~shapely.touches(boxes, area_union)
    cells = {(int(i), int(j)) for i, j in zip(ii[overlap], jj[overlap], strict=True)}
    ei = np.floor(ev["x"].to_numpy(float) / cell_m).astype(int) if len(ev) else np.array([], int)
    ej = np.floor(ev["y"].to_numpy(float) / cell_m).astype(int) if len(ev) else np.array([], int)
    cells |= set(zip(ei.tolist(), ej.tolist(), strict=True))
    cells_sorted = sorted(cells)
    code = [f"E{i * int(cell_m)}N{j * int(cell_m)}" for i, j in cells_sorted]
    ci = np.array([c[0] for c in cells_sorted])
    cj = np.array([c[1] for c in cells_sorted])
    geo = gpd.GeoDataFrame(
        {"unit": code, "area_km2": (cell_m / 1000) ** 2},
        geometry=shapely.box(ci * cell_m, cj * cell_m, (ci + 1) * cell_m, (cj + 1) * cell_m),
        crs=BNG,
    )
    units = geo[["unit", "area_km2"]].copy()
    if deprivation is not None and "overall" in deprivation:
        dep = g.merge(deprivation[["lsoa_code", "overall"]], on="lsoa_code", how="left")[
            ["overall", "geometry"]
        ]
        centres = gpd.GeoDataFrame({"unit": code}, geometry=geo.geometry.centroid, crs=BNG)
        near = gpd.sjoin_nearest(centres, dep, how="left")
        units["deprivation"] = near[~near.index.duplicated()]["overall"].to_numpy(float)
    # Neighbours: the 8 cells around each, where present.
    pos = {c: k for k, c in enumerate(cells_sorted)}
    rows, cols = [], []
    for k, (i, j) in enumerate(cells_sorted):
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                other = pos.get((i + di, j + dj))
                if (di or dj) and other is not None:
                    rows.append(k)
                    cols.append(other)
    neighbours = _row_standardise(sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(code),) * 2))
    typed = select_type(
        ev.assign(unit=[f"E{i * int(cell_m)}N{j * int(cell_m)}" for i, j in zip(ei, ej, strict=True)]),
        crime_type,
    )
    counts = _wide(typed[["unit", "month", "count"]], code, months)
    lat = _lattice(geo, lattice_m)
    data = ForecastData(
        units, counts, neighbours, typed[["x", "y", "month", "count"]].reset_index(drop=True), lat
    )
    return data, geo
