"""Section "Where next": next quarter's hot-spot forecast, shown only beside its honest evaluation.

The methods of :mod:`diogel.analysis.forecast` are evaluated at rolling origins on the months up to
the end of the period (:func:`diogel.analysis.forecast_run.run_forecast`); the forecast of the
next quarter uses the method chosen there, or the naive map (last 12 months' records) when no
method beat it. The section reuses the gathered LSOA counts (no new query) and evaluates the same
6 origins as ``diogel forecast`` with the negative binomial count model; the kernel method needs
map points and is left to ``diogel forecast`` (burglary and vehicle crime).

:func:`forecast_next_quarter` computes (a pure function of the gathered data); :func:`build`
registers the figures and writes the text. The helpers here (labels, colours, the evaluation
table, the map) are shared with the ``diogel forecast`` command, which writes English: their words
are :class:`~diogel.report.i18n.Text`, English strings the report gives in its own language.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from markupsafe import Markup

from diogel.analysis.forecast_eval import BASELINE, area_classes
from diogel.analysis.forecast_run import (
    HORIZON,
    ORIGINS,
    ForecastResult,
    contiguous_months,
    default_methods,
    run_forecast,
)
from diogel.analysis.forecast_units import lsoa_units
from diogel.report import charts
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import FigureRegistry, fmt_number, fmt_pct
from diogel.report.gather import AreaData
from diogel.report.i18n import T, Text, _, here, month_year, span_words
from diogel.report.sections import Section, register

#: The share of the area the choice of method is judged at (as :func:`~diogel.analysis.forecast_eval.choose`).
CHOICE_COVERAGE = 0.05
CLASS_COLOURS = {
    "top 1% of area": "#b2182b",
    "top 5% of area": "#ef8a62",
    "top 10% of area": "#fddbc7",
    "rest": charts.NOT_SIGNIFICANT,
}
# The map legend's words for the classes (the map gives them in the report's language).
CLASS_WORDS = {
    "top 1% of area": T("top 1% of area"),
    "top 5% of area": T("top 5% of area"),
    "top 10% of area": T("top 10% of area"),
    "rest": T("rest"),
}
METHOD_WORDS = {
    "naive_last_12": T("naive map: records of the last 12 months"),
    "naive_same_months": T("naive map: records of the same months last year"),
    "count_model_negbin": T("count model: negative binomial regression"),
    "count_model_gbm": T("count model: gradient boosting (Poisson loss)"),
    "prospective_hotspot": T("prospective hot-spotting (near-repeat kernel)"),
}
POINTS_NOTE = T(
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
INPUTS = ["police:all", "lookups", "boundaries", "deprivation"]


def method_words(name: str) -> str:
    """A method's name in words (a :class:`~diogel.report.i18n.Text`: English, or ``here()`` in the report's language)."""
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
    return charts.categorical_map(
        g, "area_class", CLASS_COLOURS, title, T("forecast (units)"), words=CLASS_WORDS, outline=outline
    )


# -- compute ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """Why the forecast uses its method: the comparison with the naive map at :data:`CHOICE_COVERAGE`.

    The facts of :func:`diogel.analysis.forecast_eval.choose`'s reason, read from the same summary
    rows so the report can say them in its own language. ``method`` is the method that beat the
    naive map (``beats``) or the best that did not; None when only the naive map was evaluated.
    """

    beats: bool
    method: str | None = None
    pai: float = np.nan
    naive_pai: float = np.nan
    ratio: float = np.nan
    better: int = 0
    origins: int = 0
    wilcoxon_p: float = np.nan


@dataclass(frozen=True)
class NextQuarter:
    """What the section shows: the rolling-origin evaluation and the forecast it allows.

    Attributes
    ----------
    result : the evaluation and every method's forecast (:func:`run_forecast`).
    months : unbroken months loaded up to the end of the period (the history the methods see).
    units : the LSOAs forecast, with their geometry.
    chosen : the forecast shown, per LSOA, with its top-of-area class.
    method : the method shown: the evaluation's choice, or the naive map when too few origins.
    verdict : why (None when no method could be compared).
    """

    result: ForecastResult
    months: int
    units: gpd.GeoDataFrame
    chosen: pd.DataFrame
    method: str
    verdict: Verdict | None

    @property
    def enough(self) -> bool:
        """Enough rolling origins to show that a method beats the naive map."""
        return len(self.result.origins) >= ORIGINS

    @property
    def first(self) -> pd.Timestamp:
        return self.result.train_to + pd.DateOffset(months=1)

    @property
    def last(self) -> pd.Timestamp:
        return self.result.train_to + pd.DateOffset(months=HORIZON)

    @property
    def table(self) -> pd.DataFrame:
        """The forecast per LSOA as registered and mapped."""
        return self.chosen[["unit", "score", "rank", "area_class"]].rename(columns={"unit": "lsoa_code"})


def verdict(result: ForecastResult) -> Verdict | None:
    """The comparison behind ``result.choice``, from the summary rows at :data:`CHOICE_COVERAGE`."""
    if result.choice is None:
        return None
    s = result.summary[np.isclose(result.summary["coverage"], CHOICE_COVERAGE)]
    naive = float(s.loc[s["method"] == BASELINE, "pai_mean"].iloc[0])
    if result.choice.beats_naive:
        b = s[s["method"] == result.choice.method].iloc[0]
    else:
        best = s[s["method"] != BASELINE].sort_values("pai_mean", ascending=False)
        if best.empty:
            return Verdict(beats=False)
        b = best.iloc[0]
    return Verdict(beats=result.choice.beats_naive, method=str(b["method"]), pai=float(b["pai_mean"]),
                   naive_pai=naive, ratio=float(b["pai_ratio"]), better=int(b["pai_better"]),
                   origins=int(b["origins"]), wilcoxon_p=float(b["wilcoxon_p"]))  # fmt: skip


def forecast_next_quarter(data: AreaData) -> NextQuarter:
    """Evaluate the methods at :data:`ORIGINS` rolling origins up to the period's end; forecast the quarter after."""
    months = contiguous_months(pd.DatetimeIndex(data.months_loaded), data.period.end)
    fd, geo = lsoa_units(data.boundaries, data.crimes, months, None, data.deprivation)
    result = run_forecast(fd, data.period.end, HORIZON, default_methods(None, False), ORIGINS)
    chosen, method = chosen_classes(result), result.method
    if len(result.origins) < ORIGINS:
        # Fewer origins cannot show that a method beats the naive map: the naive map is shown.
        method = BASELINE
        naive = result.predictions[result.predictions["method"] == BASELINE].set_index("unit")
        chosen = naive.assign(area_class=area_classes(naive["score"] * naive["area_km2"], naive["area_km2"]))
        chosen = chosen.reset_index()
    return NextQuarter(result, len(months), geo, chosen, method, verdict(result))


# -- present ---------------------------------------------------------------------------------------
class Quarter(Text):
    """The forecast quarter in words ("July 2025 to September 2025"), in either language."""

    def __new__(cls, first: pd.Timestamp, last: pd.Timestamp) -> Quarter:
        self = str.__new__(cls, span_words(first, last, "en"))
        self.msgid, self.values, self.first, self.last = str(self), {}, first, last
        return self

    def in_(self, lang: str) -> str:
        return span_words(self.first, self.last, lang)


def verdict_words(v: Verdict | None) -> Markup:
    """The verdict as a sentence in the report's language (empty when no method could be compared)."""
    if v is None:
        return Markup("")
    if v.method is None:
        return Markup(_("only the naive map was evaluated."))
    facts = {"share": f"{CHOICE_COVERAGE:.0%}", "method": v.method, "pai": f"{v.pai:.2f}",
             "naive": f"{v.naive_pai:.2f}", "ratio": f"{v.ratio - 1:+.0%}", "better": v.better,
             "origins": v.origins, "p": f"{v.wilcoxon_p:.3f}"}  # fmt: skip
    if v.beats:
        text = _("{method} beat the naive map at {share} of the area: mean PAI {pai} against {naive} ({ratio}), "
                 "better at {better} of {origins} origins, one-sided Wilcoxon p = {p}.")  # fmt: skip
    else:
        text = _("no method beat the naive map at {share} of the area (best: {method}, mean PAI {pai} against "
                 "{naive}, better at {better} of {origins} origins, one-sided Wilcoxon p = {p}), so the naive "
                 "map is used.")  # fmt: skip
    return Markup(text).format(**facts)


def _parameters(nq: NextQuarter) -> dict:
    return {"horizon_months": HORIZON, "origins": [f"{o:%Y-%m}" for o in nq.result.origins], "step_months": HORIZON,
            "unit": "LSOA 2021", "method": nq.method, "count_model": "negative binomial (statsmodels NegativeBinomial)",
            "choice": "highest mean PAI at 5% among methods with a higher mean PAI than the naive map and one-sided paired Wilcoxon p <= 0.05"}  # fmt: skip


def _forecast(ctx: Context, nq: NextQuarter, quarter: Quarter, params: dict) -> tuple[str, Markup]:
    """Register the forecast table, write its GeoPackage and draw its map: (GeoPackage path, map)."""
    table = nq.table
    gpkg = ctx.write_map("where_next", nq.units.merge(table.rename(columns={"lsoa_code": "unit"}), on="unit"))
    ctx.figures.table("forecast", table, kind="map",
                      label=T("Forecast for {quarter}: {method}", quarter=quarter, method=method_words(nq.method)),
                      columns={"lsoa_code": "LSOA 2021 code", "score": "forecast records per km2 over the quarter (relative for the kernel)",
                               "rank": "rank by forecast per km2 (1 = highest)", "area_class": "top 1%/5%/10% of the area by forecast, or rest"},
                      definition=T("The chosen method's forecast of the quarter after the period, per LSOA."), inputs=INPUTS,
                      parameters=params, files=[gpkg], csv="where_next_forecast")  # fmt: skip
    title = _("Where next: top of the area, {quarter}").format(quarter=quarter.here())
    fig = forecast_map(nq.units.to_crs(4326), nq.chosen, title, outline=ctx.data.boundaries.dissolve())
    alt = _("Map of the forecast top 1%, 5% and 10% of the area for {quarter}").format(quarter=quarter.here())
    return gpkg, charts.svg(fig, alt, "where_next.forecast")


def _too_few_origins(
    ctx: Context, nq: NextQuarter, quarter: Quarter, svg: Markup, params: dict
) -> SectionOutput:
    """Too few months for an honest evaluation: say so and show the naive map."""
    n_orig = ctx.figures.number("origins", len(nq.result.origins), label=T("Rolling origins that could be evaluated"),
                                inputs=["police:all"], parameters=params,
                                definition=T("Origins with 12 months loaded before them and {horizon} after, up to the period's end.", horizon=HORIZON))  # fmt: skip
    text = Markup(
        _("{months} unbroken months are loaded up to {end}; an honest evaluation of a forecast needs {need} (12 months "
          "of history before each of {origins} rolling origins a quarter apart, and the quarter after each), and "
          "{evaluated} origins could be evaluated. Fewer than {origins} origins cannot show that a method beats the "
          "naive map, so none is used: the map shows the naive map, the LSOAs with most records per km2 in the last "
          "12 months, as the top of the area for {quarter}. Load more months of police.uk data to evaluate the "
          "forecasting methods.")
    ).format(months=nq.months, end=month_year(ctx.data.period.end), need=12 + HORIZON * ORIGINS, origins=ORIGINS,
             evaluated=n_orig, quarter=quarter.here())  # fmt: skip
    return SectionOutput(
        html=Markup("<p>{}</p>{}<p class='note'>{}</p>").format(text, svg, POINTS_NOTE.here()),
        caveats=[Markup(_("The forecast section could not evaluate any method: too few months loaded."))],
    )


def _evaluation(ctx: Context, nq: NextQuarter, params: dict) -> dict[str, Markup]:
    """Register the evaluation table and the figures quoted from it (at 5% of the area)."""
    f = ctx.figures
    ev = evaluation_table(nq.result)
    f.table("evaluation", ev, label=T("Forecast evaluation over rolling origins, against the naive map"),
            columns=EVALUATION_COLUMNS, inputs=INPUTS, parameters=params, csv="where_next_evaluation",
            definition=T("Each method forecasts the quarter after each origin from the months up to it; scored at 1%, 5% and 10% of the area."))  # fmt: skip
    at5 = ev[ev["coverage"].round(4) == CHOICE_COVERAGE].set_index("method")
    two = lambda v: fmt_number(v, 2)  # noqa: E731
    return {
        "naive_pai": f.number("naive_pai5", at5.loc[BASELINE, "pai_mean"], label=T("Naive map's mean PAI at 5% of the area"),
                              fmt=two, inputs=INPUTS, parameters=params,
                              definition=T("Mean over the origins of (n/N)/(a/A) for the last 12 months' records.")),
        "chosen_pai": f.number("chosen_pai5", at5.loc[nq.method, "pai_mean"], label=T("Chosen method's mean PAI at 5% of the area"),
                               fmt=two, inputs=INPUTS, parameters=params,
                               definition=T("Mean over the origins of (n/N)/(a/A) for the chosen method.")),
        "hit5": f.number("chosen_hit5", at5.loc[nq.method, "hit_rate_mean"], label=T("Chosen method's mean hit rate at 5% of the area"),
                         fmt=fmt_pct, inputs=INPUTS, parameters=params, definition=T("Mean over the origins of n/N.")),
    }  # fmt: skip


def _evaluation_table(f: FigureRegistry) -> Markup:
    shown = {"method": _("method"), "coverage": _("area"), "hit_rate_mean": _("hit rate"), "pai_mean": "PAI",
             "pai_sd": _("PAI sd"), "pei_mean": "PEI", "rri_mean": "RRI", "pai_better": _("origins better"),
             "wilcoxon_p": _("Wilcoxon p")}  # fmt: skip
    num = lambda v: "" if v is None or pd.isna(v) else fmt_number(v, 2)  # noqa: E731
    formats = {"coverage": fmt_pct, "hit_rate_mean": fmt_pct, "pai_mean": num, "pai_sd": num, "pei_mean": num,
               "rri_mean": num, "wilcoxon_p": lambda v: "" if v is None or pd.isna(v) else f"{v:.3f}",
               "pai_better": lambda v: "" if v is None or pd.isna(v) else str(int(v)),
               "method": lambda v: here(method_words(v))}  # fmt: skip
    return f.html_table("evaluation", shown, formats=formats, caption=_("Evaluation against the naive map"))


def _evaluated(
    ctx: Context, nq: NextQuarter, quarter: Quarter, svg: Markup, gpkg: str, params: dict
) -> SectionOutput:
    """The evaluation, the method it chose and the forecast for the next quarter."""
    fig = _evaluation(ctx, nq, params)
    said = verdict_words(nq.verdict)
    if nq.method == BASELINE:
        lead = Markup(_("Over {origins} rolling origins, {verdict} The forecast for {quarter} is therefore the naive "
                        "map: the LSOAs with most records per km2 in the last 12 months.")).format(
            origins=len(nq.result.origins), verdict=said, quarter=quarter.here())  # fmt: skip
        finding = Markup(_("Where next: no forecasting method beat last year's hot spots (mean PAI at 5% of the area "
                           "{naive}), so the forecast for {quarter} is the naive map.")).format(
            naive=fig["naive_pai"], quarter=quarter.here())  # fmt: skip
    else:
        words = here(method_words(nq.method))
        lead = Markup(_("The forecast for {quarter} uses the {method}: {verdict}")).format(
            quarter=quarter.here(), method=words, verdict=said
        )
        finding = Markup(_("Where next: the {method} beat last year's hot spots at 5% of the area (mean PAI {chosen} "
                           "against {naive}).")).format(method=words, chosen=fig["chosen_pai"], naive=fig["naive_pai"])  # fmt: skip
    held = Markup(_("Over the origins, the top 5% of the area by the chosen forecast held on average {hit} of the next "
                    "quarter's records (PAI {chosen}; the naive map's PAI {naive}).")).format(
        hit=fig["hit5"], chosen=fig["chosen_pai"], naive=fig["naive_pai"])  # fmt: skip
    origins = ", ".join(f"{o:%Y-%m}" for o in nq.result.origins)
    note = Markup(
        _("Evaluation: for each of {n} origins ({origins}), every method saw only the months up to the origin and "
          "forecast the quarter after it; units are ranked by forecast per km2 and taken until they cover 1%, 5% or "
          "10% of the area. PAI = hit rate / area share; PEI = records caught / the most any choice of the same area "
          "could catch; RRI = the share caught relative to the same area's share in the quarter before. A method is "
          "used instead of the naive map only when its mean PAI at 5% is higher and a one-sided paired Wilcoxon "
          "signed-rank test across the origins gives p &lt;= 0.05. Maps: {maps}.")
    ).format(n=len(nq.result.origins), origins=origins, maps=Markup("<code>{}</code>").format(gpkg))  # fmt: skip
    html = Markup("<p>{}</p><p>{}</p>{}{}<p class='note'>{}</p><p class='note'>{}</p>").format(
        lead, held, svg, _evaluation_table(ctx.figures), note, POINTS_NOTE.here()
    )
    return SectionOutput(html=html, findings=[Finding(finding, rank=24)], caveats=[_caveat()],
                         methods=[_method_note()], values={"method": nq.method, "result": nq.result})  # fmt: skip


def _caveat() -> Markup:
    return Markup(_("The forecast is of recorded crime and ASB at police.uk map points; it says where records are "
                    "likely, not why, and is no better than its evaluation shows."))  # fmt: skip


def _method_note() -> tuple[str, Markup]:
    return (
        _("Forecast (where next)"),
        Markup(
            _("Methods: the naive map (records of the last 12 months, and of the same months last year) and a "
              "negative binomial count model of the quarter's records on lagged counts, season, the neighbours' "
              "lagged counts and deprivation (statsmodels). Rolling-origin evaluation, {origins} origins a quarter "
              "apart, at 1%, 5% and 10% of the area: hit rate, PAI (Chainey et al. 2008), PEI (Hunt 2016), RRI "
              "(Levine). diogel forecast also evaluates prospective hot-spotting for burglary and vehicle crime, "
              "and a 250 m grid.")
        ).format(origins=ORIGINS),
    )  # fmt: skip


def build(ctx: Context) -> SectionOutput:
    nq = forecast_next_quarter(ctx.data)
    quarter, params = Quarter(nq.first, nq.last), _parameters(nq)
    gpkg, svg = _forecast(ctx, nq, quarter, params)
    if not nq.enough:
        return _too_few_origins(ctx, nq, quarter, svg, params)
    return _evaluated(ctx, nq, quarter, svg, gpkg, params)


register(
    Section(
        id="where_next",
        title="Where next: the next quarter's hot spots",
        order=52,
        build=build,
        description="A hot-spot forecast for the next quarter, evaluated against the naive map.",
    )
)
