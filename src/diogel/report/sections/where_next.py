"""Section "Where next": next quarter's hot-spot forecast, shown only beside its honest evaluation.

The methods of :mod:`diogel.analysis.forecast` are evaluated at rolling origins on the months up to
the end of the period (:func:`diogel.analysis.forecast_run.run_forecast`); the forecast of the
next quarter uses the method chosen there, or the naive map (last 12 months' records) when no
method beat it. The section reuses the gathered LSOA counts (no new query) and evaluates the same
6 origins as ``diogel forecast`` with the negative binomial count model; the kernel method needs
map points and is left to ``diogel forecast`` (burglary and vehicle crime).

The helpers here (labels, colours, the evaluation table, the map) are shared with the
``diogel forecast`` command.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from markupsafe import Markup

from diogel.analysis.forecast_eval import BASELINE, area_classes
from diogel.analysis.forecast_run import ForecastResult, contiguous_months, default_methods, run_forecast
from diogel.analysis.forecast_units import lsoa_units
from diogel.report import charts
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import fmt_number, fmt_pct
from diogel.report.sections import Section, register

HORIZON = 3
ORIGINS = 6
CLASS_COLOURS = {
    "top 1% of area": "#b2182b",
    "top 5% of area": "#ef8a62",
    "top 10% of area": "#fddbc7",
    "rest": charts.NOT_SIGNIFICANT,
}
METHOD_WORDS = {
    "naive_last_12": "naive map: records of the last 12 months",
    "naive_same_months": "naive map: records of the same months last year",
    "count_model_negbin": "count model: negative binomial regression",
    "count_model_gbm": "count model: gradient boosting (Poisson loss)",
    "prospective_hotspot": "prospective hot-spotting (near-repeat kernel)",
}
POINTS_NOTE = (
    "police.uk does not publish where a crime happened: every record is moved to the nearest of a fixed set "
    "of anonymous map points (street centres, public places), and its LSOA is that of the map point. Counts "
    "are therefore counts at map points; on a fine grid (250 m) cells with no map point never hold a record "
    "and cells with a busy map point take records from up to a few hundred metres away, so a fine grid is "
    "only as fine as the map points."
)
EVALUATION_COLUMNS = {
    "method": "method",
    "coverage": "share of the area taken (top units by forecast per km2)",
    "origins": "rolling origins evaluated",
    "hit_rate_mean": "hit rate n / N, mean over origins",
    "hit_rate_sd": "hit rate, standard deviation over origins",
    "pai_mean": "PAI (Chainey) = hit rate / area share, mean over origins",
    "pai_sd": "PAI, standard deviation over origins",
    "pai_min": "PAI, lowest origin",
    "pai_max": "PAI, highest origin",
    "pei_mean": "PEI (Hunt) = n / n*, mean over origins",
    "rri_mean": "RRI (Levine) = (n / n_before) / (N / N_before), mean over origins",
    "pai_ratio": "mean PAI / the naive map's mean PAI",
    "pai_better": "origins where its PAI beats the naive map's",
    "wilcoxon_p": "one-sided paired Wilcoxon signed-rank p (PAI above the naive map's, across origins)",
    "ttest_p": "one-sided paired t-test p, the same comparison",
}


def method_words(name: str) -> str:
    return METHOD_WORDS.get(name, name)


def evaluation_table(result: ForecastResult) -> pd.DataFrame:
    """The summary rows shown and written: one per method and share of area."""
    return result.summary[[c for c in EVALUATION_COLUMNS if c in result.summary.columns]].reset_index(
        drop=True
    )


def chosen_classes(result: ForecastResult) -> pd.DataFrame:
    """The chosen method's forecast per unit with its top-1/5/10%-of-area class."""
    p = result.predictions[result.predictions["chosen"]].set_index("unit")
    classes = area_classes(p["score"] * p["area_km2"], p["area_km2"])
    return p.assign(area_class=classes).reset_index()


def forecast_map(
    geo: gpd.GeoDataFrame, chosen: pd.DataFrame, title: str, outline: gpd.GeoDataFrame | None = None
):  # noqa: ANN201
    g = geo.merge(chosen[["unit", "area_class"]], on="unit")
    return charts.categorical_map(g, "area_class", CLASS_COLOURS, title, "forecast (units)", outline=outline)


def _verdict(result: ForecastResult) -> Markup:
    if result.choice is None:
        return Markup("")
    return Markup("{}.").format(result.choice.reason)


def build(ctx: Context) -> SectionOutput:
    d, f = ctx.data, ctx.figures
    months = contiguous_months(pd.DatetimeIndex(d.months_loaded), d.period.end)
    fd, geo = lsoa_units(d.boundaries, d.crimes, months, None, d.deprivation)
    result = run_forecast(fd, d.period.end, HORIZON, default_methods(None, False), ORIGINS)
    inputs = ["police:all", "lookups", "boundaries", "deprivation"]
    first = d.period.end + pd.DateOffset(months=1)
    quarter = f"{first:%B %Y} to {d.period.end + pd.DateOffset(months=HORIZON):%B %Y}"
    chosen = chosen_classes(result)
    enough = len(result.origins) >= ORIGINS
    method = result.method if enough else BASELINE
    if not enough:
        chosen = result.predictions[result.predictions["method"] == BASELINE].set_index("unit")
        chosen = chosen.assign(
            area_class=area_classes(chosen["score"] * chosen["area_km2"], chosen["area_km2"])
        )
        chosen = chosen.reset_index()
    table = chosen[["unit", "score", "rank", "area_class"]].rename(columns={"unit": "lsoa_code"})
    params = {"horizon_months": HORIZON, "origins": [f"{o:%Y-%m}" for o in result.origins], "step_months": HORIZON,
              "unit": "LSOA 2021", "method": method, "count_model": "negative binomial (statsmodels NegativeBinomial)",
              "choice": "highest mean PAI at 5% among methods with a higher mean PAI than the naive map and one-sided paired Wilcoxon p <= 0.05"}  # fmt: skip
    gpkg = ctx.write_map("where_next", geo.merge(table.rename(columns={"lsoa_code": "unit"}), on="unit"))
    f.table("forecast", table, kind="map", label=f"Forecast for {quarter}: {method_words(method)}",
            columns={"lsoa_code": "LSOA 2021 code", "score": "forecast records per km2 over the quarter (relative for the kernel)",
                     "rank": "rank by forecast per km2 (1 = highest)", "area_class": "top 1%/5%/10% of the area by forecast, or rest"},
            definition="The chosen method's forecast of the quarter after the period, per LSOA.", inputs=inputs,
            parameters=params, files=[gpkg], csv="where_next_forecast")  # fmt: skip
    outline = d.boundaries.dissolve()
    fig = forecast_map(geo.to_crs(4326), chosen, f"Where next: top of the area, {quarter}", outline=outline)
    svg = charts.svg(
        fig, f"Map of the forecast top 1%, 5% and 10% of the area for {quarter}", "where_next.forecast"
    )
    findings: list[Finding] = []
    if not enough:
        need = 12 + HORIZON * ORIGINS
        n_orig = f.number("origins", len(result.origins), label="Rolling origins that could be evaluated",
                          inputs=["police:all"], parameters=params,
                          definition=f"Origins with 12 months loaded before them and {HORIZON} after, up to the period's end.")  # fmt: skip
        html = Markup(
            "<p>{} unbroken months are loaded up to {}; an honest evaluation of a forecast needs {} (12 months of "
            "history before each of {} rolling origins a quarter apart, and the quarter after each), and {} origins "
            "could be evaluated. Fewer than {} origins cannot show that a method beats the naive map, so none is used: the map shows the naive map, the "
            "LSOAs with most records per km2 in the last 12 months, as the top of the area for {}. Load more months "
            "of police.uk data to evaluate the forecasting methods.</p>{}<p class='note'>{}</p>"
        ).format(
            len(months), f"{d.period.end:%B %Y}", need, ORIGINS, n_orig, ORIGINS, quarter, svg, POINTS_NOTE
        )
        return SectionOutput(
            html=html,
            caveats=[Markup("The forecast section could not evaluate any method: too few months loaded.")],
        )

    ev = evaluation_table(result)
    f.table("evaluation", ev, label="Forecast evaluation over rolling origins, against the naive map",
            columns=EVALUATION_COLUMNS, inputs=inputs, parameters=params, csv="where_next_evaluation",
            definition="Each method forecasts the quarter after each origin from the months up to it; scored at 1%, 5% and 10% of the area.")  # fmt: skip
    at5 = ev[ev["coverage"].round(4) == 0.05].set_index("method")
    naive_pai = f.number("naive_pai5", at5.loc[BASELINE, "pai_mean"], label="Naive map's mean PAI at 5% of the area",
                         fmt=lambda v: fmt_number(v, 2), inputs=inputs, parameters=params,
                         definition="Mean over the origins of (n/N)/(a/A) for the last 12 months' records.")  # fmt: skip
    chosen_pai = f.number("chosen_pai5", at5.loc[method, "pai_mean"], label="Chosen method's mean PAI at 5% of the area",
                          fmt=lambda v: fmt_number(v, 2), inputs=inputs, parameters=params,
                          definition="Mean over the origins of (n/N)/(a/A) for the chosen method.")  # fmt: skip
    hit5 = f.number("chosen_hit5", at5.loc[method, "hit_rate_mean"], label="Chosen method's mean hit rate at 5% of the area",
                    fmt=fmt_pct, inputs=inputs, parameters=params, definition="Mean over the origins of n/N.")  # fmt: skip
    shown = {"method": "method", "coverage": "area", "hit_rate_mean": "hit rate", "pai_mean": "PAI", "pai_sd": "PAI sd",
             "pei_mean": "PEI", "rri_mean": "RRI", "pai_better": "origins better", "wilcoxon_p": "Wilcoxon p"}  # fmt: skip
    num = lambda v: "" if v is None or pd.isna(v) else fmt_number(v, 2)  # noqa: E731
    formats = {"coverage": fmt_pct, "hit_rate_mean": fmt_pct, "pai_mean": num, "pai_sd": num, "pei_mean": num,
               "rri_mean": num, "wilcoxon_p": lambda v: "" if v is None or pd.isna(v) else f"{v:.3f}",
               "pai_better": lambda v: "" if v is None or pd.isna(v) else str(int(v)), "method": method_words}  # fmt: skip
    if method == BASELINE:
        lead = Markup(
            "Over {} rolling origins, {} The forecast for {} is therefore the naive map: the LSOAs with most records "
            "per km2 in the last 12 months."
        ).format(len(result.origins), _verdict(result), quarter)
        findings.append(Finding(Markup("Where next: no forecasting method beat last year's hot spots (mean PAI at 5% of the area {}), so the forecast for {} is the naive map.").format(naive_pai, quarter), rank=24))  # fmt: skip
    else:
        lead = Markup("The forecast for {} uses the {}: {}").format(
            quarter, method_words(method), _verdict(result)
        )
        findings.append(Finding(Markup("Where next: the {} beat last year's hot spots at 5% of the area (mean PAI {} against {}).").format(method_words(method), chosen_pai, naive_pai), rank=24))  # fmt: skip
    html = Markup(
        "<p>{}</p><p>Over the origins, the top 5% of the area by the chosen forecast held on average {} of the next "
        "quarter's records (PAI {}; the naive map's PAI {}).</p>{}{}<p class='note'>Evaluation: for each of {} "
        "origins ({}), every method saw only the months up to the origin and forecast the quarter after it; units "
        "are ranked by forecast per km2 and taken until they cover 1%, 5% or 10% of the area. PAI = hit rate / "
        "area share; PEI = records caught / the most any choice of the same area could catch; RRI = the share caught "
        "relative to the same area's share in the quarter before. A method is used instead of the naive map only "
        "when its mean PAI at 5% is higher and a one-sided paired Wilcoxon signed-rank test across the origins gives "
        "p &lt;= 0.05. Maps: <code>{}</code>.</p><p class='note'>{}</p>"
    ).format(lead, hit5, chosen_pai, naive_pai, svg,
             f.html_table("evaluation", shown, formats=formats, caption="Evaluation against the naive map"),
             len(result.origins), ", ".join(f"{o:%Y-%m}" for o in result.origins), gpkg, POINTS_NOTE)  # fmt: skip
    return SectionOutput(
        html=html,
        findings=findings,
        caveats=[
            Markup(
                "The forecast is of recorded crime and ASB at police.uk map points; it says where records are likely, not why, and is no better than its evaluation shows."
            )
        ],  # fmt: skip
        methods=[
            (
                "Forecast (where next)",
                Markup(
                    "Methods: the naive map (records of the last 12 months, and of the same months last year) and a negative "
                    "binomial count model of the quarter's records on lagged counts, season, the neighbours' lagged counts and "
                    "deprivation (statsmodels). Rolling-origin evaluation, {} origins a quarter apart, at 1%, 5% and 10% of the "
                    "area: hit rate, PAI (Chainey et al. 2008), PEI (Hunt 2016), RRI (Levine). diogel forecast also evaluates "
                    "prospective hot-spotting for burglary and vehicle crime, and a 250 m grid."
                ).format(ORIGINS),
            )
        ],  # fmt: skip
        values={"method": method, "result": result},
    )


register(
    Section(
        id="where_next",
        title="Where next: the next quarter's hot spots",
        order=52,
        build=build,
        description="A hot-spot forecast for the next quarter, evaluated against the naive map.",
    )
)
