"""The dashboard's map: LSOAs shaded by rate, hot spots outlined, as inline SVG, and its legend."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Five sequential classes (ColorBrewer YlOrRd), light to dark: readable in greyscale print too.
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


def choropleth_svg(  # noqa: ANN001
    gdf, values: pd.DataFrame, hot: pd.DataFrame, width: int = 640, labelledby: str = "map-words"
) -> str:
    """An inline SVG map of LSOAs shaded by rate per 1,000 (quintiles), hot spots outlined; its
    accessible name is the page's element ``labelledby`` (the map in words, in the page's language).

    Coordinates are longitude/latitude scaled by cos(latitude) (an equirectangular projection is
    exact enough over one county), simplified to about 20 m so the page stays small.
    """
    if gdf is None or len(gdf) == 0:
        return ""
    from xml.sax.saxutils import escape

    geoms = gdf.geometry.simplify(0.0002, preserve_topology=True)
    minx, miny, maxx, maxy = gdf.total_bounds
    k = math.cos(math.radians((miny + maxy) / 2))
    w_units, h_units = (maxx - minx) * k, (maxy - miny)
    scale = width / w_units if w_units else 1.0
    height = int(round(h_units * scale))
    rates = values["rate_per_1000"].reindex(gdf.lsoa_code)
    finite = rates.dropna()
    cuts = np.quantile(finite, [0.2, 0.4, 0.6, 0.8]) if len(finite) >= 5 else np.array([])
    hot_set = set(hot.index[hot.bin.astype(str).str.startswith("Hot spot")]) if len(hot) else set()

    def ring(coords) -> str:  # noqa: ANN001
        pts = [f"{(x - minx) * k * scale:.1f},{(maxy - y) * scale:.1f}" for x, y in coords]
        return "M" + "L".join(pts) + "Z"

    def path(geom) -> str:  # noqa: ANN001
        polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
        return "".join(ring(p.exterior.coords) + "".join(ring(i.coords) for i in p.interiors) for p in polys)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="choropleth" aria-labelledby="{labelledby}">'
    ]
    outlines = []
    for code, name, geom in zip(gdf.lsoa_code, gdf.lsoa_name, geoms, strict=True):
        r = rates.get(code)
        if r is None or pd.isna(r):
            fill = "#dddddd"
            label = "no population"
        else:
            fill = PALETTE[int(np.searchsorted(cuts, r, side="right"))] if len(cuts) else PALETTE[2]
            label = f"{r:,.1f} per 1,000"
        title = escape(f"{name} ({code}): {label}" + (" - hot spot" if code in hot_set else ""))
        d = path(geom)
        parts.append(
            f'<path d="{d}" fill="{fill}" stroke="#666" stroke-width="0.4" data-lsoa="{code}"><title>{title}</title></path>'
        )
        if code in hot_set:
            outlines.append(f'<path d="{d}" fill="none" stroke="#000" stroke-width="2" class="hotspot"/>')
    parts.extend(outlines)
    parts.append("</svg>")
    return "".join(parts)


def legend(values: pd.Series) -> list[tuple[str, str]]:
    finite = values.dropna()
    if len(finite) < 5:
        return []
    cuts = np.quantile(finite, [0.2, 0.4, 0.6, 0.8])
    edges = [finite.min(), *cuts, finite.max()]
    return [(PALETTE[i], f"{edges[i]:,.0f}-{edges[i + 1]:,.0f}") for i in range(5)]
