"""Section "Why: what goes with higher crime": negative binomial models of LSOA counts on deprivation.

Readings come from one NB2 model per score fitted alone (each WIMD domain and the overall score):
y_i ~ NB2(mu_i, alpha), log mu_i = log(residents_i) + b0 + b z_i, IRR = exp(b) with a Wald 95%
interval. The domains are correlated (income and health r about 0.9), so the joint model of all
domains is fitted only to report the variance inflation factors and Moran's I of its residuals;
its coefficients are not read one by one. Benjamini-Hochberg adjusts the p-values of every
single-score coefficient of the report together, and only q < alpha is read in words, as "goes
with", beside the model's pseudo-R2 and dispersion. Associations across areas, not causes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup

from diogel.analysis.drivers import VIF_LIMIT, drivers_summary, fit_nb_drivers, fit_single_covariates
from diogel.analysis.hotspots import contiguity_weights
from diogel.analysis.trends import benjamini_hochberg
from diogel.report import charts
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_number, fmt_p
from diogel.report.sections import Section, register
from diogel.report.sections._common import lsoa_counts

# The Community Safety domain is built from police-recorded crime (circular as a covariate);
# employment is left out because it is nearly collinear with income (r > 0.9 across Welsh LSOAs).
COVARIATES = ("income", "health", "education", "access_to_services", "housing", "environment")
LABELS = {
    "overall": "overall deprivation score",
    "income": "income deprivation score",
    "employment": "employment deprivation score",
    "health": "health deprivation score",
    "education": "education deprivation score",
    "access_to_services": "access to services deprivation score",
    "housing": "housing deprivation score",
    "environment": "physical environment deprivation score",
}
MIN_RECORDS = 50
MIN_LSOAS_WITH_RECORDS = 10
N_FOREST = 4


def build(ctx: Context) -> SectionOutput:
    d, f, alpha = ctx.data, ctx.figures, ctx.options.alpha
    covariates = [c for c in COVARIATES if c in d.deprivation.columns]
    if not covariates or d.deprivation[covariates].isna().all().all():
        return SectionOutput(
            html=Markup(
                "<p class='missing'>No deprivation scores are loaded for these LSOAs, so the models cannot be "
                "fitted: ingest the WIMD or IMD scores.</p>"
            )
        )
    inputs = ["police:period", "lookups", "population", "deprivation", "boundaries"]
    single_extra = (
        ["overall"] if "overall" in d.deprivation.columns and d.deprivation["overall"].notna().any() else []
    )
    frame = (
        d.lsoas[["lsoa_code"]]
        .merge(d.population[["lsoa_code", "population"]], on="lsoa_code")
        .merge(d.deprivation[["lsoa_code", *covariates, *single_extra]], on="lsoa_code", how="left")
    )
    dropped = int(frame[covariates].isna().any(axis=1).sum())
    frame = frame.dropna(subset=[*covariates, *single_extra]).reset_index(drop=True)
    gdf = d.boundaries[d.boundaries["lsoa_code"].isin(frame["lsoa_code"])].reset_index(drop=True)
    frame = frame.set_index("lsoa_code").loc[gdf["lsoa_code"]].reset_index()
    w = contiguity_weights(gdf)
    volume = d.period_crimes().groupby("crime_type")["count"].sum().sort_values(ascending=False)

    results, skipped, rounded, records, ys = {}, [], False, {}, {}
    for crime_type in volume.index:
        y = lsoa_counts(d, d.period, crime_type).reindex(frame["lsoa_code"])
        if (y.round() != y).any():
            # A 2011 LSOA split between 2021 LSOAs shares its records; the model needs whole counts.
            rounded = True
        y = y.round()
        if y.sum() < MIN_RECORDS or (y > 0).sum() < MIN_LSOAS_WITH_RECORDS:
            skipped.append(
                (crime_type, f"too few records to model ({int(y.sum())} in {int((y > 0).sum())} LSOAs)")
            )
            continue
        records[crime_type] = int(y.sum())
        ys[crime_type] = y.to_numpy().astype(int)
        try:
            results[crime_type] = fit_nb_drivers(
                frame.assign(count=y.to_numpy().astype(int)), covariates, labels=LABELS,
                outcome=crime_type.lower(), w=w, permutations=0,
            )  # fmt: skip
        except ValueError as exc:
            skipped.append((crime_type, f"could not be fitted: {exc}"))
    params = {"model": "NB2, log link, offset log(residents)", "covariates": covariates, "standardised": True,
              "ci": 0.95, "min_records": MIN_RECORDS, "min_lsoas_with_records": MIN_LSOAS_WITH_RECORDS,
              "moran_weights": "queen contiguity, row-standardised", "deprivation_index": d.deprivation_index}  # fmt: skip
    if not results:
        html = ctx.render(
            "sections/drivers.html.j2",
            results=False,
            skipped=skipped,
            dropped=dropped,
            covariates=[],
            rounded=rounded,
        )
        return SectionOutput(html=html)

    summary = drivers_summary(results)
    joint = summary[["crime_type", "label", "irr", "irr_lower", "irr_upper", "p", "vif"]].assign(
        read_alone=lambda t: np.where(
            t["vif"] > VIF_LIMIT, "no: VIF above 5, see the single-score models", ""
        )
    )
    f.table("joint", joint, label="Joint model of all domains: variance inflation factors", inputs=inputs,
            parameters=params | {"vif_limit": VIF_LIMIT},
            columns={"crime_type": "crime type modelled", "label": "covariate (WIMD domain score)",
                     "irr": "incidence rate ratio per 1 SD, other domains held constant (not read: see drivers.irr)",
                     "irr_lower": "Wald 95% lower limit", "irr_upper": "Wald 95% upper limit", "p": "Wald z-test p-value",
                     "vif": "variance inflation factor", "read_alone": "why the coefficient is not read on its own"},
            definition="The joint NB2 model of every domain, kept for its VIFs and residual Moran's I; with correlated "
            "domains its coefficients are unstable and can change sign, so none is read in words.",
            csv="drivers_joint")  # fmt: skip

    # Readings: each score alone, for the largest crime types (the ones read in words).
    single_covs = [*single_extra, *covariates]
    parts = []
    for t in list(results)[:N_FOREST]:
        try:
            one = fit_single_covariates(
                frame.assign(count=ys[t]), single_covs, labels=LABELS, outcome=t.lower()
            )
        except ValueError as exc:
            skipped.append((t, f"single-score models could not be fitted: {exc}"))
            continue
        parts.append(one.assign(crime_type=t))
    if not parts:
        html = ctx.render("sections/drivers.html.j2", results=False, skipped=skipped, dropped=dropped,
                          covariates=[], rounded=rounded)  # fmt: skip
        return SectionOutput(html=html)
    irr = pd.concat(parts, ignore_index=True)
    irr["q"] = benjamini_hochberg(irr["p"].to_numpy(float))
    irr["finding"] = irr["q"] < alpha
    irr["reading"] = np.where(irr["finding"], irr["reading"], "")
    irr = irr[["crime_type", "label", "mean", "sd", "irr", "irr_lower", "irr_upper", "p", "q", "pseudo_r2",
               "alpha", "finding", "reading"]]  # fmt: skip
    params = params | {"readings": "each score fitted alone; Benjamini-Hochberg across every coefficient below",
                       "alpha": alpha}  # fmt: skip
    f.table("irr", irr, label="Incidence rate ratios, each deprivation score fitted alone", inputs=inputs,
            parameters=params,
            columns={"crime_type": "crime type modelled", "label": "covariate (score fitted alone)",
                     "mean": "mean of the score across the LSOAs", "sd": "standard deviation of the score (1 SD = one unit)",
                     "irr": "incidence rate ratio per 1 SD higher score", "irr_lower": "Wald 95% lower limit",
                     "irr_upper": "Wald 95% upper limit", "p": "Wald z-test p-value",
                     "q": "Benjamini-Hochberg q-value across every coefficient of this table",
                     "pseudo_r2": "McFadden pseudo R-squared of the one-score model",
                     "alpha": "NB2 dispersion of the one-score model", "finding": "q < alpha",
                     "reading": "plain-English reading (findings only)"},
            definition="exp(b) from fit_single_covariates: one NB2 model per score and crime type.",
            csv="drivers_irr")  # fmt: skip
    model_rows = pd.DataFrame(
        [{"crime_type": t, "records": records[t], "lsoas": r.n, "alpha": r.alpha,
          "pseudo_r2": r.pseudo_r2, "aic": r.aic, "moran_I": r.moran.I if r.moran else np.nan,
          "moran_p": r.moran.p_rand if r.moran else np.nan, "converged": r.converged,
          "max_vif": float(r.table["vif"].max()), "notes": "; ".join(r.notes)}
         for t, r in results.items()]
    )  # fmt: skip
    f.table("models", model_rows, label="Joint models: fit, collinearity and spatial autocorrelation of the residuals",
            inputs=inputs, parameters=params,
            columns={"crime_type": "crime type", "records": "records modelled",
                     "lsoas": "LSOAs modelled", "alpha": "NB2 dispersion", "pseudo_r2": "McFadden pseudo R-squared",
                     "aic": "Akaike information criterion", "moran_I": "Moran's I of the Pearson residuals",
                     "moran_p": "p-value of Moran's I (randomisation)", "converged": "optimiser converged",
                     "max_vif": "largest variance inflation factor", "notes": "fitting notes"},
            definition="Fit statistics of each joint model; a significant Moran's I means neighbouring LSOAs share "
            "something the deprivation scores do not capture.", csv="drivers_models")  # fmt: skip

    single_labels = [LABELS.get(c, c) for c in single_covs]
    matrix = irr.assign(
        cell=[f"{v:.2f}{'*' if q < alpha else ''}" for v, q in zip(irr["irr"], irr["q"], strict=True)]
    ).pivot(index="crime_type", columns="label", values="cell")
    matrix = matrix.reindex(index=list(results)[:N_FOREST], columns=single_labels).reset_index()
    f.table("irr_matrix", matrix, label="Incidence rate ratio per 1 SD higher score, each fitted alone (* q < 0.05)",
            inputs=inputs, parameters=params,
            columns={"crime_type": "crime type", **{lb: f"IRR for the {lb} fitted alone, 2 decimals; * when q < alpha"
                                                     for lb in single_labels}},
            definition="The IRRs of drivers.irr laid out as crime type x score, for reading at a glance.",
            csv="drivers_irr_matrix")  # fmt: skip

    def said(i: int) -> Markup:
        r = irr.loc[i]
        return Markup("{} (q {}; model pseudo-R² {}, dispersion {}.)").format(
            f.cell("drivers.irr", i, "reading"),
            fmt_p(r["q"]).removeprefix("p "),
            fmt_number(r["pseudo_r2"], 3),
            fmt_number(r["alpha"], 2),
        )

    significant = [
        (t, [said(int(i)) for i in irr.index[(irr["crime_type"] == t) & irr["finding"]]]) for t in list(results)[:N_FOREST]
    ]  # fmt: skip
    # Findings: each modelled type's strongest association with q < alpha, in its own words.
    findings: list[Finding] = []
    readings = []
    for t in list(results)[:N_FOREST]:
        part = irr[(irr["crime_type"] == t) & irr["finding"]]
        if part.empty:
            continue
        i = int(part["irr"].map(lambda v: abs(np.log(v))).idxmax())
        readings.append(said(i))
    for r in readings:
        findings.append(Finding(r, rank=30))
    spatial = model_rows[model_rows["moran_p"] < alpha]
    n_spatial = f.number("residual_autocorrelation", len(spatial), label="Models with spatially autocorrelated residuals",
                         inputs=inputs, parameters=params,
                         definition="Number of crime-type models whose residual Moran's I has p < alpha.")  # fmt: skip
    n_models = f.number("models_fitted", len(results), label="Crime types modelled", inputs=inputs, parameters=params,
                        definition=f"Crime types with at least {MIN_RECORDS} records in at least {MIN_LSOAS_WITH_RECORDS} LSOAs that could be fitted.")  # fmt: skip
    forest_types = list(results)[:N_FOREST]
    forest = charts.svg(
        charts.forest_plot(
            irr[irr["crime_type"].isin(forest_types)],
            "Incidence rate ratios, each score alone, largest crime types",
        ),
        "Forest plot of incidence rate ratios by deprivation domain",
        "drivers.irr",
    )
    return SectionOutput(
        html=ctx.render(
            "sections/drivers.html.j2",
            results=True,
            forest=forest,
            readings=readings,
            significant=significant,
            matrix_columns={
                "crime_type": "crime type",
                **{lb: lb.replace(" deprivation score", "") for lb in single_labels},
            },
            skipped=skipped,
            dropped=dropped,
            rounded=rounded,
            n_spatial=n_spatial,
            n_models=n_models,
            covariates=[LABELS[c] for c in covariates],
            index=d.deprivation_index,
            fmt_count=fmt_count,
            fmt_number=fmt_number,
            fmt_p=fmt_p,
        ),
        findings=findings,
        caveats=[
            Markup(
                "The models describe associations between places, not causes, and say nothing about individuals "
                "(the ecological fallacy). WIMD 2019 describes LSOAs as they were before 2019; deprivation domains "
                "are correlated with each other, so read IRRs with a high VIF with care."
            )
        ],
        methods=[
            (
                "Models",
                Markup(
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
                ).format(VIF_LIMIT, alpha),
            )
        ],
        values={"results": results},
    )


register(
    Section(
        id="drivers",
        title="Why: what goes with higher crime",
        order=60,
        build=build,
        description="Negative binomial models of LSOA counts on deprivation, with plain-English readings.",
    )
)
