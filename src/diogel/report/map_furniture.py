"""What makes an LSOA map readable without web tiles: ward names, a scale bar and a north arrow.

Ward names come from the shipped ONS lookup (``lookup_lsoa21_ward24_ltla24.csv.gz``: every 2021
LSOA of England and Wales with its 2024 ward and local authority), in Welsh in the Welsh report where
the warehouse's lookup gives the ward a Welsh name (:func:`diogel.report.i18n.place_name`); each
labelled ward is the union of its LSOAs on the map, its name placed at a point inside it. Maps are drawn in British National
Grid (metres), so the scale bar is measured in the map's own units and grid north is up.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import pandas as pd

from diogel.data import path as data_path
from diogel.report.i18n import place_name

__all__ = ["decorate", "nice_length", "ward_labels"]

INK = "#222222"
#: At most this many ward names on one map (the largest wards first), so labels stay legible.
MAX_LABELS = 14


@cache
def _wards() -> pd.DataFrame:
    """LSOA 2021 code -> 2024 ward code, ward name and local authority name, from the shipped lookup."""
    frame = pd.read_csv(data_path("reference", "wales", "lookup_lsoa21_ward24_ltla24.csv.gz"),
                        usecols=["lsoa21_code", "ward24_code", "ward24_name", "ltla24_name"], dtype=str)  # fmt: skip
    return frame.drop_duplicates("lsoa21_code").set_index("lsoa21_code")


@cache
def _ward_codes() -> frozenset[str]:
    """The lookup's LSOA codes as a set: ``Series.isin(index)`` on Arrow strings made a pyarrow scalar of
    each of the 35,000 codes on every call (half a second a map)."""
    return frozenset(_wards().index)


def ward_labels(g: gpd.GeoDataFrame, limit: int = MAX_LABELS) -> gpd.GeoDataFrame:
    """Wards of the mapped LSOAs (``g`` with ``lsoa_code``, any CRS): ``name`` and a label point (the geometry)
    inside each ward, the ``limit`` largest first. Empty when the LSOAs are not 2021 codes the lookup knows."""
    if "lsoa_code" not in g.columns:
        return gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=g.crs))
    wards = _wards()
    codes = _ward_codes()
    known = g[[code in codes for code in g["lsoa_code"]]]
    if known.empty:
        return gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=g.crs))
    rows = wards.loc[known["lsoa_code"]]
    names = [place_name(c, n) for c, n in zip(rows["ward24_code"], rows["ward24_name"], strict=True)]
    named = known.assign(name=names)[["name", "geometry"]]
    merged = named.dissolve("name").reset_index()
    merged["area"] = merged.geometry.area
    merged = merged.sort_values("area", ascending=False).head(limit)
    return gpd.GeoDataFrame({"name": merged["name"].to_numpy()},
                            geometry=merged.geometry.representative_point().to_numpy(), crs=g.crs)  # fmt: skip


def nice_length(span_m: float) -> float:
    """A round scale-bar length (metres) of about a fifth of the map's width: 1, 2 or 5 x 10^n."""
    target = max(span_m / 5.0, 1.0)
    power = 10 ** int(f"{target:e}".split("e")[1])
    return max(m * power for m in (1, 2, 5) if m * power <= target) if target >= power else power


def decorate(ax, g: gpd.GeoDataFrame, labels: bool = True) -> None:  # noqa: ANN001
    """Ward names (if ``labels``), a scale bar (bottom left) and a north arrow (top right) on a map
    drawn in British National Grid."""
    minx, miny, maxx, maxy = g.total_bounds
    width, height = maxx - minx, maxy - miny
    # A pale box behind the words, not a stroked halo: path effects would turn the text into outlines,
    # and the report keeps text as text (searchable, read by screen readers, sharp in print).
    halo = {"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
    if labels:
        for row in ward_labels(g).itertuples():
            ax.annotate(row.name, (row.geometry.x, row.geometry.y), ha="center", va="center", fontsize=6.2,
                        color=INK, bbox=halo, gid="ward-label")  # fmt: skip
    length = nice_length(width)
    x0, y0 = minx + 0.03 * width, miny + 0.03 * height
    ax.plot([x0, x0 + length], [y0, y0], color=INK, linewidth=2.5, solid_capstyle="butt", gid="scale-bar")
    for x in (x0, x0 + length):
        ax.plot([x, x], [y0, y0 + 0.012 * height], color=INK, linewidth=1)
    words = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.annotate(words, (x0 + length / 2, y0 + 0.018 * height), ha="center", va="bottom", fontsize=7, color=INK,
                bbox=halo, gid="scale-label")  # fmt: skip
    ax.annotate("N", xy=(maxx - 0.04 * width, maxy - 0.02 * height),
                xytext=(maxx - 0.04 * width, maxy - 0.12 * height), ha="center", va="center", fontsize=8,
                fontweight="bold", color=INK, gid="north-arrow",
                arrowprops={"arrowstyle": "-|>", "color": INK, "linewidth": 1.2})  # fmt: skip
