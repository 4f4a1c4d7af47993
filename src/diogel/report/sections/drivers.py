"""Section "Why: what goes with higher crime": negative binomial models of LSOA counts on deprivation.

Readings come from one NB2 model per score fitted alone (each WIMD domain and the overall score):
y_i ~ NB2(mu_i, alpha), log mu_i = log(residents_i) + b0 + b z_i, IRR = exp(b) with a Wald 95%
interval. The domains are correlated (income and health r about 0.9), so the joint model of all
domains is fitted only to report the variance inflation factors and Moran's I of its residuals;
its coefficients are not read one by one. Benjamini-Hochberg adjusts the p-values of every
single-score coefficient of the report together, and only q < alpha is read in words, as "goes
with", beside the model's pseudo-R2 and dispersion. Associations across areas, not causes.

:func:`compute` fits the models from the gathered area data (a pure function returning a
:class:`DriversResult`); :func:`build` registers the figures and writes the text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from markupsafe import Markup

from diogel.analysis.drivers import (
    VIF_LIMIT,
    NBDriversResult,
    drivers_summary,
    fit_nb_drivers,
    fit_single_covariates,
)
from diogel.analysis.hotspots import contiguity_weights
from diogel.analysis.trends import benjamini_hochberg
from diogel.report import charts
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import FigureRegistry, fmt_count, fmt_number, fmt_p
from diogel.report.gather import AreaData
from diogel.report.i18n import T, _, current, here, term
from diogel.report.sections import Section, register
from diogel.report.sections._common import lower_first, lsoa_counts

__all__ = ["DriversResult", "Skipped", "build", "compute"]

# The Community Safety domain is built from police-recorded crime (circular as a covariate);
# employment is left out because it is nearly collinear with income (r > 0.9 across Welsh LSOAs).
COVARIATES = ("income", "health", "education", "access_to_services", "housing", "environment")
LABEL_TEXT = {
    "overall": T("overall deprivation score"),
    "income": T("income deprivation score"),
    "employment": T("employment deprivation score"),
    "health": T("health deprivation score"),
    "education": T("education deprivation score"),
    "access_to_services": T("access to services deprivation score"),
    "housing": T("housing deprivation score"),
    "environment": T("physical environment deprivation score"),
}
#: The labels the models and figures.json carry (English).
LABELS = {k: str(v) for k, v in LABEL_TEXT.items()}
#: Column headings of the IRR matrix: the label without " deprivation score".
SHORT = {
    "overall": T("overall"),
    "income": T("income"),
    "employment": T("employment"),
    "health": T("health"),
    "education": T("education"),
    "access_to_services": T("access to services"),
    "housing": T("housing"),
    "environment": T("physical environment"),
}
MIN_RECORDS = 50
MIN_LSOAS_WITH_RECORDS = 10
N_FOREST = 4
INPUTS = ["police:period", "lookups", "population", "deprivation", "boundaries"]


@dataclass(frozen=True)
class Skipped:
    """A crime type not modelled: ``why`` is "too_few", "not_fitted" or "single_not_fitted"."""

    crime_type: str
    why: str
    records: int = 0
    lsoas: int = 0
    error: str = ""

    def words(self) -> str:
        if self.why == "too_few":
            return _("too few records to model ({} in {} LSOAs)").format(self.records, self.lsoas)
        if self.why == "not_fitted":
            return _("could not be fitted: {}").format(self.error)
        return _("single-score models could not be fitted: {}").format(self.error)


@dataclass
class DriversResult:
    """The fitted models of one area and period.

    Attributes
    ----------
    covariates : the domain scores of the joint models; single_covs : the scores fitted alone.
    results : crime type -> joint model, largest crime type first; records : records modelled.
    irr : one row per crime type (the largest :data:`N_FOREST`) and score fitted alone, with its
        Benjamini-Hochberg ``q``, ``finding`` (q < alpha) and ``reading``; None when none was fitted.
    """

    covariates: list[str]
    single_covs: list[str]
    dropped: int
    rounded: bool
    skipped: list[Skipped]
    results: dict[str, NBDriversResult]
    records: dict[str, int]
    irr: pd.DataFrame | None
    index: str | None


def _frame(d: AreaData, covariates: list[str], single_extra: list[str]) -> tuple[pd.DataFrame, int, object]:
    """LSOAs with residents and scores, in the boundaries' order; LSOAs without scores dropped; queen W."""
    frame = (
        d.lsoas[["lsoa_code"]]
        .merge(d.population[["lsoa_code", "population"]], on="lsoa_code")
        .merge(d.deprivation[["lsoa_code", *covariates, *single_extra]], on="lsoa_code", how="left")
    )
    dropped = int(frame[covariates].isna().any(axis=1).sum())
    frame = frame.dropna(subset=[*covariates, *single_extra]).reset_index(drop=True)
    gdf = d.boundaries[d.boundaries["lsoa_code"].isin(frame["lsoa_code"])].reset_index(drop=True)
    frame = frame.set_index("lsoa_code").loc[gdf["lsoa_code"]].reset_index()
    return frame, dropped, contiguity_weights(gdf)


def _single(
    frame: pd.DataFrame,
    types: list[str],
    ys: dict,
    single_covs: list[str],
    skipped: list[Skipped],
    alpha: float,
    nulls: dict[str, float],
) -> pd.DataFrame | None:
    """Each score fitted alone for ``types``; p-values adjusted together (Benjamini-Hochberg).

    ``nulls``: each type's constant-only log-likelihood, from its joint model (the same counts and
    populations), so it is not fitted again for every score."""
    parts = []
    for t in types:
        try:
            one = fit_single_covariates(
                frame.assign(count=ys[t]), single_covs, labels=LABELS, outcome=t.lower(), llnull=nulls[t]
            )
        except ValueError as exc:
            skipped.append(Skipped(t, "single_not_fitted", error=str(exc)))
            continue
        parts.append(one.assign(crime_type=t))
    if not parts:
        return None
    irr = pd.concat(parts, ignore_index=True)
    irr["q"] = benjamini_hochberg(irr["p"].to_numpy(float))
    irr["finding"] = irr["q"] < alpha
    irr["reading"] = np.where(irr["finding"], irr["reading"], "")
    return irr[["crime_type", "label", "mean", "sd", "irr", "irr_lower", "irr_upper", "p", "q", "pseudo_r2",
                "alpha", "finding", "reading"]]  # fmt: skip


def compute(d: AreaData, alpha: float) -> DriversResult | None:
    """Fit the joint and single-score models for every crime type with enough records (see the module
    docstring); None when no deprivation scores are loaded for the LSOAs."""
    covariates = [c for c in COVARIATES if c in d.deprivation.columns]
    if not covariates or d.deprivation[covariates].isna().all().all():
        return None
    has_overall = "overall" in d.deprivation.columns and d.deprivation["overall"].notna().any()
    single_extra = ["overall"] if has_overall else []
    frame, dropped, w = _frame(d, covariates, single_extra)
    volume = d.period_crimes().groupby("crime_type")["count"].sum().sort_values(ascending=False)
    results, skipped, rounded, records, ys = {}, [], False, {}, {}
    for crime_type in volume.index:
        y = lsoa_counts(d, d.period, crime_type).reindex(frame["lsoa_code"])
        if (y.round() != y).any():
            # A 2011 LSOA split between 2021 LSOAs shares its records; the model needs whole counts.
            rounded = True
        y = y.round()
        if y.sum() < MIN_RECORDS or (y > 0).sum() < MIN_LSOAS_WITH_RECORDS:
            skipped.append(Skipped(crime_type, "too_few", int(y.sum()), int((y > 0).sum())))
            continue
        records[crime_type] = int(y.sum())
        ys[crime_type] = y.to_numpy().astype(int)
        try:
            results[crime_type] = fit_nb_drivers(
                frame.assign(count=y.to_numpy().astype(int)), covariates, labels=LABELS,
                outcome=crime_type.lower(), w=w, permutations=0,
            )  # fmt: skip
        except ValueError as exc:
            skipped.append(Skipped(crime_type, "not_fitted", error=str(exc)))
    single_covs = [*single_extra, *covariates]
    nulls = {t: r.llnull for t, r in results.items()}
    irr = (
        _single(frame, list(results)[:N_FOREST], ys, single_covs, skipped, alpha, nulls) if results else None
    )
    return DriversResult(covariates, single_covs, dropped, rounded, skipped, results, records, irr,
                         d.deprivation_index)  # fmt: skip


# ----------------------------------------------------------------------------------------------------
# Present: figures, readings in the report's language, the template


def _interval_words(lower: float, upper: float, ci: float) -> str:
    """The interval of an IRR in words, as :func:`diogel.analysis.drivers.reading_goes_with` gives it."""
    lo, hi = (lower - 1) * 100, (upper - 1) * 100
    values = {"ci": f"{ci * 100:g}%", "lo": f"{abs(lo):.0f}", "hi": f"{abs(hi):.0f}"}
    if lo >= 0 and hi >= 0:
        return _("{ci} CI {lo}% to {hi}% more").format(**values)
    if lo < 0 and hi < 0:
        return _("{ci} CI {lo}% to {hi}% less").format(**values | {"lo": values["hi"], "hi": values["lo"]})
    return _("{ci} CI {lo}% less to {hi}% more").format(**values)


def reading_words(row: pd.Series, ci: float = 0.95) -> str:
    """A single-score reading in the report's language, from the model's fields (the English is the
    analysis module's ``reading``)."""
    values = {"label": _label(row["label"]), "size": f"{abs(row['irr'] - 1) * 100:.0f}",
              "outcome": lower_first(term(row["crime_type"])),
              "interval": _interval_words(row["irr_lower"], row["irr_upper"], ci)}  # fmt: skip
    if row["irr"] >= 1:
        return _(
            "LSOAs with a one standard deviation higher {label} have {size}% more {outcome} per resident "
            "({interval}): higher {label} goes with more {outcome}."
        ).format(**values)
    return _(
        "LSOAs with a one standard deviation higher {label} have {size}% less {outcome} per resident "
        "({interval}): higher {label} goes with less {outcome}."
    ).format(**values)


def _label(label: str) -> str:
    """A score's English label (as the models carry it) in the report language."""
    k = next((k for k, v in LABELS.items() if v == label), None)
    return here(LABEL_TEXT[k]) if k else label


def _register_joint(f: FigureRegistry, r: DriversResult) -> dict:
    """Register the joint models' table (VIFs); return the parameters every figure of the section shares."""
    params = {"model": "NB2, log link, offset log(residents)", "covariates": r.covariates, "standardised": True,
              "ci": 0.95, "min_records": MIN_RECORDS, "min_lsoas_with_records": MIN_LSOAS_WITH_RECORDS,
              "moran_weights": "queen contiguity, row-standardised", "deprivation_index": r.index}  # fmt: skip
    summary = drivers_summary(r.results)
    joint = summary[["crime_type", "label", "irr", "irr_lower", "irr_upper", "p", "vif"]].assign(
        read_alone=lambda t: np.where(
            t["vif"] > VIF_LIMIT, "no: VIF above 5, see the single-score models", ""
        )
    )
    f.table("joint", joint, label=T("Joint model of all domains: variance inflation factors"), inputs=INPUTS,
            parameters=params | {"vif_limit": VIF_LIMIT},
            columns={"crime_type": "crime type modelled", "label": "covariate (WIMD domain score)",
                     "irr": "incidence rate ratio per 1 SD, other domains held constant (not read: see drivers.irr)",
                     "irr_lower": "Wald 95% lower limit", "irr_upper": "Wald 95% upper limit", "p": "Wald z-test p-value",
                     "vif": "variance inflation factor", "read_alone": "why the coefficient is not read on its own"},
            definition=T("The joint NB2 model of every domain, kept for its VIFs and residual Moran's I; with correlated "
                         "domains its coefficients are unstable and can change sign, so none is read in words."),
            csv="drivers_joint")  # fmt: skip
    return params


def _register(f: FigureRegistry, r: DriversResult, params: dict, alpha: float) -> tuple[pd.DataFrame, dict]:
    """Register the single-score, fit and matrix tables; return the models' fit rows and parameters."""
    params = params | {"readings": "each score fitted alone; Benjamini-Hochberg across every coefficient below",
                       "alpha": alpha}  # fmt: skip
    f.table("irr", r.irr, label=T("Incidence rate ratios, each deprivation score fitted alone"), inputs=INPUTS,
            parameters=params,
            columns={"crime_type": "crime type modelled", "label": "covariate (score fitted alone)",
                     "mean": "mean of the score across the LSOAs", "sd": "standard deviation of the score (1 SD = one unit)",
                     "irr": "incidence rate ratio per 1 SD higher score", "irr_lower": "Wald 95% lower limit",
                     "irr_upper": "Wald 95% upper limit", "p": "Wald z-test p-value",
                     "q": "Benjamini-Hochberg q-value across every coefficient of this table",
                     "pseudo_r2": "McFadden pseudo R-squared of the one-score model",
                     "alpha": "NB2 dispersion of the one-score model", "finding": "q < alpha",
                     "reading": "plain-English reading (findings only)"},
            definition=T("exp(b) from fit_single_covariates: one NB2 model per score and crime type."),
            csv="drivers_irr")  # fmt: skip
    model_rows = pd.DataFrame(
        [{"crime_type": t, "records": r.records[t], "lsoas": m.n, "alpha": m.alpha,
          "pseudo_r2": m.pseudo_r2, "aic": m.aic, "moran_I": m.moran.I if m.moran else np.nan,
          "moran_p": m.moran.p_rand if m.moran else np.nan, "converged": m.converged,
          "max_vif": float(m.table["vif"].max()), "notes": "; ".join(m.notes)}
         for t, m in r.results.items()]
    )  # fmt: skip
    f.table("models", model_rows, label=T("Joint models: fit, collinearity and spatial autocorrelation of the residuals"),
            inputs=INPUTS, parameters=params,
            columns={"crime_type": "crime type", "records": "records modelled",
                     "lsoas": "LSOAs modelled", "alpha": "NB2 dispersion", "pseudo_r2": "McFadden pseudo R-squared",
                     "aic": "Akaike information criterion", "moran_I": "Moran's I of the Pearson residuals",
                     "moran_p": "p-value of Moran's I (randomisation)", "converged": "optimiser converged",
                     "max_vif": "largest variance inflation factor", "notes": "fitting notes"},
            definition=T("Fit statistics of each joint model; a significant Moran's I means neighbouring LSOAs share "
                         "something the deprivation scores do not capture."), csv="drivers_models")  # fmt: skip
    irr, single_labels = r.irr, [LABELS.get(c, c) for c in r.single_covs]
    matrix = irr.assign(
        cell=[f"{v:.2f}{'*' if q < alpha else ''}" for v, q in zip(irr["irr"], irr["q"], strict=True)]
    ).pivot(index="crime_type", columns="label", values="cell")
    matrix = matrix.reindex(index=list(r.results)[:N_FOREST], columns=single_labels).reset_index()
    f.table("irr_matrix", matrix, label=T("Incidence rate ratio per 1 SD higher score, each fitted alone (* q < 0.05)"),
            inputs=INPUTS, parameters=params,
            columns={"crime_type": "crime type", **{lb: f"IRR for the {lb} fitted alone, 2 decimals; * when q < alpha"
                                                     for lb in single_labels}},
            definition=T("The IRRs of drivers.irr laid out as crime type x score, for reading at a glance."),
            csv="drivers_irr_matrix")  # fmt: skip
    return model_rows, params


def _said(f: FigureRegistry, irr: pd.DataFrame, i: int) -> Markup:
    """One reading quoted from drivers.irr (in Welsh, phrased from the same row), with its q and fit."""
    r = irr.loc[i]
    if current() == "en":
        quote = f.cell("drivers.irr", i, "reading")
    else:
        quote = Markup(
            '<span class="fig quote" data-figure="{}" data-row="{}" data-column="{}">{}</span>'
        ).format(f.get("drivers.irr").id, i, "reading", reading_words(r))
    return Markup(_("{} (q {}; model pseudo-R² {}, dispersion {}.)")).format(
        quote, fmt_p(r["q"]).removeprefix("p "), fmt_number(r["pseudo_r2"], 3), fmt_number(r["alpha"], 2)
    )


def _methods(alpha: float) -> tuple[list[Markup], list[tuple[str, Markup]]]:
    caveats = [Markup(_(
        "The models describe associations between places, not causes, and say nothing about individuals "
        "(the ecological fallacy). WIMD 2019 describes LSOAs as they were before 2019; deprivation domains "
        "are correlated with each other, so read IRRs with a high VIF with care."
    ))]  # fmt: skip
    text = _(
        "For each crime type with enough records, a negative binomial (NB2) regression of the LSOA "
        "count with log(residents) as offset, fitted by maximum likelihood (statsmodels). The domains "
        "are correlated (income and health deprivation r about 0.9), so a joint model of all domains "
        "has unstable coefficients that can even change sign; it is fitted only to report each "
        "domain's variance inflation factor (VIF; above {} a coefficient is not read on its own) and "
        "Moran's I of its Pearson residuals (queen contiguity). The readings come instead from one "
        "model per score fitted alone, for each WIMD domain and the overall score: exp(coefficient) is "
        "the incidence rate ratio for one standard deviation higher score, with a Wald 95% interval. "
        "The p-values of every single-score coefficient of the report are adjusted together by "
        "Benjamini-Hochberg; only q < {} is read in words, as 'goes with' (never a cause), beside the "
        "model's McFadden pseudo-R\u00b2 and NB2 dispersion. Pseudo-R\u00b2 values of a few per cent "
        "mean deprivation explains little of the variation between LSOAs. The community safety domain "
        "is left out (it is built from recorded crime)."
    )
    return caveats, [(_("Models"), Markup(text).format(VIF_LIMIT, alpha))]


def _present(ctx: Context, r: DriversResult) -> SectionOutput:
    """Figures, findings and the template of a fitted :class:`DriversResult`."""
    f, alpha = ctx.figures, ctx.options.alpha
    model_rows, params = _register(f, r, _register_joint(f, r), alpha)
    irr, forest_types = r.irr, list(r.results)[:N_FOREST]
    significant = [
        (term(t), [_said(f, irr, int(i)) for i in irr.index[(irr["crime_type"] == t) & irr["finding"]]])
        for t in forest_types
    ]
    # Findings: each modelled type's strongest association with q < alpha, in its own words.
    readings = []
    for t in forest_types:
        part = irr[(irr["crime_type"] == t) & irr["finding"]]
        if not part.empty:
            readings.append(_said(f, irr, int(part["irr"].map(lambda v: abs(np.log(v))).idxmax())))
    spatial = model_rows[model_rows["moran_p"] < alpha]
    n_spatial = f.number("residual_autocorrelation", len(spatial), label=T("Models with spatially autocorrelated residuals"),
                         inputs=INPUTS, parameters=params,
                         definition=T("Number of crime-type models whose residual Moran's I has p < alpha."))  # fmt: skip
    n_models = f.number("models_fitted", len(r.results), label=T("Crime types modelled"), inputs=INPUTS,
                        parameters=params,
                        definition=T("Crime types with at least {records} records in at least {lsoas} LSOAs that could be fitted.",
                                     records=MIN_RECORDS, lsoas=MIN_LSOAS_WITH_RECORDS))  # fmt: skip
    shown = irr[irr["crime_type"].isin(forest_types)]
    shown = shown.assign(crime_type=shown["crime_type"].map(term), label=shown["label"].map(_label))
    forest = charts.svg(
        charts.forest_plot(shown, _("Incidence rate ratios, each score alone, largest crime types")),
        _("Forest plot of incidence rate ratios by deprivation domain"),
        "drivers.irr",
    )
    html = ctx.render(
        "sections/drivers.html.j2", results=True, forest=forest, readings=readings, significant=significant,
        matrix_columns={"crime_type": _("crime type"), **{LABELS.get(c, c): here(SHORT[c]) for c in r.single_covs}},
        models_columns={"crime_type": _("crime type"), "records": _("records"), "lsoas": _("LSOAs"),
                        "alpha": _("dispersion"), "pseudo_r2": _("pseudo R2"), "moran_I": _("Moran's I"), "moran_p": "p"},
        skipped=[(term(s.crime_type), s.words()) for s in r.skipped], dropped=r.dropped, rounded=r.rounded,
        n_spatial=n_spatial, n_models=n_models, covariates=[here(LABEL_TEXT[c]) for c in r.covariates],
        index=r.index.replace("WIMD", _("WIMD")) if r.index else r.index, fmt_count=fmt_count, fmt_number=fmt_number, fmt_p=fmt_p,
    )  # fmt: skip
    caveats, methods = _methods(alpha)
    return SectionOutput(html=html, findings=[Finding(x, rank=30) for x in readings], caveats=caveats,
                         methods=methods, values={"results": r.results})  # fmt: skip


def build(ctx: Context) -> SectionOutput:
    """Build the drivers section (see the module docstring)."""
    r = compute(ctx.data, ctx.options.alpha)
    if r is None:
        return SectionOutput(
            html=Markup(
                _(
                    "<p class='missing'>No deprivation scores are loaded for these LSOAs, so the models cannot be "
                    "fitted: ingest the WIMD or IMD scores.</p>"
                )
            )  # fmt: skip
        )
    if not r.results or r.irr is None:
        if r.results:
            _register_joint(ctx.figures, r)  # fitted jointly, but no single-score model could be
        html = ctx.render("sections/drivers.html.j2", results=False, dropped=r.dropped, covariates=[],
                          rounded=r.rounded, skipped=[(term(s.crime_type), s.words()) for s in r.skipped])  # fmt: skip
        return SectionOutput(html=html)
    return _present(ctx, r)


register(
    Section(
        id="drivers",
        title="Why: what goes with higher crime",
        order=60,
        build=build,
        description="Negative binomial models of LSOA counts on deprivation, with plain-English readings.",
    )
)
