"""Section "Why: what goes with higher crime": negative binomial models of LSOA counts on deprivation.

For each crime type with enough records: y_i ~ NB2(mu_i, alpha), log mu_i = log(residents_i) + b0 +
sum_k b_k z_ik, with z the standardised WIMD domain scores; IRR_k = exp(b_k) with a Wald 95%
interval, read in plain English, and Moran's I of the Pearson residuals to show whether space is
left unexplained. Associations across areas, not causes, and not statements about people.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup

from diogel.analysis.drivers import drivers_summary, fit_nb_drivers
from diogel.analysis.hotspots import contiguity_weights
from diogel.report import charts
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_number, fmt_p
from diogel.report.sections import Section, register
from diogel.report.sections._common import lsoa_counts

# The Community Safety domain is built from police-recorded crime (circular as a covariate);
# employment is left out because it is nearly collinear with income (r > 0.9 across Welsh LSOAs).
COVARIATES = ("income", "health", "education", "access_to_services", "housing", "environment")
LABELS = {
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
    frame = (
        d.lsoas[["lsoa_code"]]
        .merge(d.population[["lsoa_code", "population"]], on="lsoa_code")
        .merge(d.deprivation[["lsoa_code", *covariates]], on="lsoa_code", how="left")
    )
    dropped = int(frame[covariates].isna().any(axis=1).sum())
    frame = frame.dropna(subset=covariates).reset_index(drop=True)
    gdf = d.boundaries[d.boundaries["lsoa_code"].isin(frame["lsoa_code"])].reset_index(drop=True)
    frame = frame.set_index("lsoa_code").loc[gdf["lsoa_code"]].reset_index()
    w = contiguity_weights(gdf)
    volume = d.period_crimes().groupby("crime_type")["count"].sum().sort_values(ascending=False)

    results, skipped, rounded, records = {}, [], False, {}
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
    irr = summary[
        ["crime_type", "label", "mean", "sd", "irr", "irr_lower", "irr_upper", "p", "vif", "reading"]
    ]
    f.table("irr", irr, label="Incidence rate ratios by crime type and deprivation domain", inputs=inputs, parameters=params,
            columns={"crime_type": "crime type modelled", "label": "covariate (WIMD domain score)",
                     "mean": "mean of the score across the LSOAs", "sd": "standard deviation of the score (1 SD = one unit)",
                     "irr": "incidence rate ratio per 1 SD higher score, other scores held constant",
                     "irr_lower": "Wald 95% lower limit", "irr_upper": "Wald 95% upper limit", "p": "Wald z-test p-value",
                     "vif": "variance inflation factor (above 5: unstable, correlated with other scores)",
                     "reading": "plain-English reading"},
            definition="exp(b_k) from fit_nb_drivers for each crime type.", csv="drivers_irr")  # fmt: skip
    model_rows = pd.DataFrame(
        [{"crime_type": t, "records": records[t], "lsoas": r.n, "alpha": r.alpha,
          "pseudo_r2": r.pseudo_r2, "aic": r.aic, "moran_I": r.moran.I if r.moran else np.nan,
          "moran_p": r.moran.p_rand if r.moran else np.nan, "converged": r.converged, "notes": "; ".join(r.notes)}
         for t, r in results.items()]
    )  # fmt: skip
    f.table("models", model_rows, label="Model fit and spatial autocorrelation of the residuals", inputs=inputs,
            parameters=params,
            columns={"crime_type": "crime type", "records": "records modelled",
                     "lsoas": "LSOAs modelled", "alpha": "NB2 dispersion", "pseudo_r2": "McFadden pseudo R-squared",
                     "aic": "Akaike information criterion", "moran_I": "Moran's I of the Pearson residuals",
                     "moran_p": "p-value of Moran's I (randomisation)", "converged": "optimiser converged",
                     "notes": "fitting notes"},
            definition="Fit statistics of each model; a significant Moran's I means neighbouring LSOAs share something "
            "the deprivation scores do not capture.", csv="drivers_models")  # fmt: skip

    # The web page shows one row per crime type (IRR per score); every interval and reading is in drivers.irr.
    matrix = irr.assign(
        cell=[f"{v:.2f}{'*' if p < alpha else ''}" for v, p in zip(irr["irr"], irr["p"], strict=True)]
    ).pivot(index="crime_type", columns="label", values="cell")
    matrix = matrix.reindex(index=list(results), columns=[LABELS[c] for c in covariates]).reset_index()
    f.table("irr_matrix", matrix, label="Incidence rate ratio per 1 SD higher score (* p < 0.05)", inputs=inputs,
            parameters=params | {"alpha": alpha},
            columns={"crime_type": "crime type", **{LABELS[c]: f"IRR for the {LABELS[c]}, 2 decimals; * when p < alpha"
                                                     for c in covariates}},
            definition="The IRRs of drivers.irr laid out as crime type x score, for reading at a glance.",
            csv="drivers_irr_matrix")  # fmt: skip
    significant = [
        (t, [f.cell("drivers.irr", int(i), "reading") for i in irr.index[(irr["crime_type"] == t) & (irr["p"] < alpha)]])
        for t in list(results)[:N_FOREST]
    ]  # fmt: skip
    # Findings: each modelled type's strongest significant association, in its own words.
    findings: list[Finding] = []
    readings = []
    for t in list(results)[:N_FOREST]:
        part = irr[(irr["crime_type"] == t) & (irr["p"] < alpha)]
        if part.empty:
            continue
        i = int(part["irr"].map(lambda v: abs(np.log(v))).idxmax())
        readings.append(f.cell("drivers.irr", i, "reading"))
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
            irr[irr["crime_type"].isin(forest_types)], "Incidence rate ratios, largest crime types"
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
                **{LABELS[c]: LABELS[c].replace(" deprivation score", "") for c in covariates},
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
                    "count on the standardised WIMD domain scores with log(residents) as offset, fitted by maximum "
                    "likelihood (statsmodels). exp(coefficient) is the incidence rate ratio for one standard "
                    "deviation higher score with the other scores held constant; Wald 95% intervals. The community "
                    "safety domain is left out (it is built from recorded crime) and so is employment (nearly "
                    "collinear with income). Moran's I of the Pearson residuals (queen contiguity) tests for "
                    "spatial pattern the model leaves."
                ),
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
