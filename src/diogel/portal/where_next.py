"""The dashboard's "where next" panel: next quarter's hot-spot forecast, beside its evaluation.

The same forecast as the assessment's "Where next" section (:mod:`diogel.analysis.forecast_run`:
2021 LSOAs, all records, a quarter ahead, 6 rolling origins a quarter apart, the naive map unless a
method beats it at 5% of the area by a one-sided paired Wilcoxon test), computed from the portal's
cached LSOA-by-month counts and cached per warehouse version by
:meth:`diogel.portal.views.WarehouseViews.where_next`, so it is redrawn when data are ingested.
Deprivation is not read here (the portal has no copy of it), so the count model has one feature
fewer than the assessment's; the evaluation shown is of the model run here.

Small numbers: the table gives the expected records per LSOA rounded to whole records and shows
fewer than :data:`diogel.disclosure.THRESHOLD` as "fewer than 5", as the portal's published tables hide counts of 1 to 4
(the naive map's forecast is last year's count scaled, so an exact small forecast would give the
count away).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from diogel.analysis.forecast_eval import class_names
from diogel.analysis.forecast_run import HORIZON, ORIGINS
from diogel.disclosure import THRESHOLD
from diogel.portal.i18n import N_

#: Classes of the map, darkest first (ColorBrewer RdBu reds, as the report's forecast map).
CLASS_COLOURS = dict(zip(class_names(), ("#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7"), strict=True))
CLASS_LABELS = dict(
    zip(
        class_names(),
        (
            N_("Top 1% of the area"),
            N_("Top 5% of the area"),
            N_("Top 10% of the area"),
            N_("Rest of the area"),
        ),
        strict=True,
    )
)
METHOD_LABELS = {
    "naive_last_12": N_("the naive map (records of the last 12 months)"),
    "naive_same_months": N_("the naive map of the same months last year"),
    "count_model_negbin": N_("a count model (negative binomial regression)"),
    "count_model_gbm": N_("a count model (gradient boosting)"),
    "prospective_hotspot": N_("prospective hot-spotting"),
}


@dataclass
class WhereNext:
    """What the panel shows (numbers only; the template puts them in words)."""

    first: str  # YYYY-MM, the first month forecast
    last: str
    method: str
    method_label: str
    evaluated: bool  # a method was evaluated at enough origins to be chosen
    origins: list[str]
    months_loaded: int
    months_needed: int
    naive_pai: float | None = None
    chosen_pai: float | None = None
    better: int | None = None
    wilcoxon_p: float | None = None
    beats_naive: bool = False
    svg: str = ""
    top: list[dict[str, Any]] = field(
        default_factory=list
    )  # lsoa_code, lsoa_name, ward_name, area_class, ...
    legend: list[tuple[str, str]] = field(
        default_factory=lambda: [(CLASS_COLOURS[k], CLASS_LABELS[k]) for k in list(CLASS_COLOURS)[:3]]
    )


def compute(monthly: pd.DataFrame, lookup: pd.DataFrame, geometry, wards: pd.DataFrame) -> WhereNext | None:  # noqa: ANN001
    """The forecast from the area's counts (``lsoa_code``, ``month`` YYYY-MM, ``crime_type``,
    ``count``), the 2011->2021 LSOA lookup, the 2021 LSOA geometry (``lsoa_code``, ``lsoa_name``,
    WGS84) and the LSOAs' wards; None without any month loaded or without boundaries."""
    from diogel.analysis.forecast_eval import BASELINE, area_classes
    from diogel.analysis.forecast_run import contiguous_months, default_methods, run_forecast
    from diogel.analysis.forecast_units import lsoa_units
    from diogel.warehouse.geography import harmonise

    if monthly.empty or geometry is None or len(geometry) == 0:
        return None
    c = harmonise(monthly[["lsoa_code", "month", "crime_type", "count"]], 2021, lookup,
                  value_columns=["count"], by=["month", "crime_type"])  # fmt: skip
    c = c.assign(month=pd.to_datetime(c["month"] + "-01"))
    loaded = pd.DatetimeIndex(sorted(c["month"].unique()))
    train_to = loaded.max()
    months = contiguous_months(loaded, train_to)
    fd, geo = lsoa_units(geometry[["lsoa_code", "geometry"]], c, months)
    result = run_forecast(fd, train_to, HORIZON, default_methods(None, False), ORIGINS)
    enough = len(result.origins) >= ORIGINS and result.choice is not None
    method = result.method if enough else BASELINE
    p = result.predictions[result.predictions["method"] == method].set_index("unit")
    expected = p["score"] * p["area_km2"]
    p = p.assign(area_class=area_classes(expected, p["area_km2"]), expected=expected)
    out = WhereNext(
        first=f"{train_to + pd.DateOffset(months=1):%Y-%m}",
        last=f"{train_to + pd.DateOffset(months=HORIZON):%Y-%m}",
        method=method,
        method_label=METHOD_LABELS.get(method, method),
        evaluated=enough,
        origins=[f"{o:%Y-%m}" for o in result.origins],
        months_loaded=len(months),
        months_needed=12 + HORIZON * ORIGINS,
        svg=forecast_svg(geometry, p["area_class"]),
    )
    if enough:
        s = result.summary[np.isclose(result.summary["coverage"], 0.05)].set_index("method")
        chosen = s.loc[method]
        out.naive_pai = float(s.loc[BASELINE, "pai_mean"])
        out.chosen_pai = float(chosen["pai_mean"])
        out.beats_naive = bool(result.choice.beats_naive)
        best = chosen if method != BASELINE else s.drop(index=BASELINE).sort_values("pai_mean").iloc[-1]
        out.better = int(best["pai_better"])
        out.wilcoxon_p = float(best["wilcoxon_p"]) if pd.notna(best["wilcoxon_p"]) else None
        if method == BASELINE:
            out.chosen_pai = float(best["pai_mean"])  # the best challenger, shown beside the naive map
    names = geometry.drop_duplicates("lsoa_code").set_index("lsoa_code")["lsoa_name"]
    ward = wards.drop_duplicates("lsoa_code").set_index("lsoa_code")["ward_name"]
    ward_code = wards.drop_duplicates("lsoa_code").set_index("lsoa_code")["ward_code"]
    top = p[p["area_class"] != "rest"].sort_values("rank")
    out.top = [
        {
            "lsoa_code": code,
            "lsoa_name": str(names.get(code, "")),
            "ward_name": str(ward.get(code, "")),
            "ward_code": str(ward_code.get(code, "")),
            "area_class": CLASS_LABELS[r["area_class"]],
            "rank": int(r["rank"]),
            "expected": None if r["expected"] < THRESHOLD else int(round(r["expected"])),
        }
        for code, r in top.iterrows()
    ]
    return out


def forecast_svg(gdf, classes: pd.Series, width: int = 640) -> str:  # noqa: ANN001
    """An inline SVG map of the LSOAs coloured by forecast class (as the dashboard's rate map:
    longitude scaled by cos(latitude), simplified to about 20 m). Each LSOA carries its name and
    code as a <title>; the table beside the map is its text alternative."""
    from xml.sax.saxutils import escape

    geoms = gdf.geometry.simplify(0.0002, preserve_topology=True)
    minx, miny, maxx, maxy = gdf.total_bounds
    k = math.cos(math.radians((miny + maxy) / 2))
    scale = width / ((maxx - minx) * k) if maxx > minx else 1.0
    height = int(round((maxy - miny) * scale))

    def ring(coords) -> str:  # noqa: ANN001
        return (
            "M" + "L".join(f"{(x - minx) * k * scale:.1f},{(maxy - y) * scale:.1f}" for x, y in coords) + "Z"
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        'class="choropleth forecast" aria-labelledby="where-next-caption" aria-describedby="where-next-table">'
    ]
    for code, name, geom in zip(gdf.lsoa_code, gdf.lsoa_name, geoms, strict=True):
        cls = classes.get(code, "rest")
        polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
        d = "".join(ring(q.exterior.coords) + "".join(ring(i.coords) for i in q.interiors) for q in polys)
        title = escape(f"{name} ({code})")  # the class is in the table beside (translated there)
        parts.append(
            f'<path d="{d}" fill="{CLASS_COLOURS[cls]}" stroke="#666" stroke-width="0.4" '
            f'data-lsoa="{code}" data-class="{cls}"><title>{title}</title></path>'
        )
    parts.append("</svg>")
    return "".join(parts)
