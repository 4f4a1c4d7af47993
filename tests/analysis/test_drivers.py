"""Tests for diogel.analysis.drivers (NB2 models of LSOA counts on WIMD 2019 domain scores).

Covariates and populations are real (tests/fixtures/analysis_b, OGL v3.0); every crime count here
is synthetic, drawn from a known negative binomial model.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from libpysal.weights import lat2W
from statsmodels.discrete.discrete_model import NegativeBinomial

from diogel.analysis.drivers import (
    drivers_by_crime_type,
    drivers_summary,
    fit_nb_drivers,
    fit_single_covariates,
    plain_english,
    reading_goes_with,
)

FIXTURE = (
    Path(__file__).parents[1] / "fixtures" / "analysis_b" / "gwent_wimd2019_scores_population19_lsoa11.csv"
)
COVS = ["Income_score", "Access_score", "Housing_score"]


@pytest.fixture(scope="module")
def gwent() -> pd.DataFrame:
    df = pd.read_csv(FIXTURE)
    return df.rename(columns={"lsoa11_code": "lsoa_code", "total_population": "population"})


def _synthetic_counts(df: pd.DataFrame, betas: dict[str, float], b0: float, alpha: float, seed: int):
    """Synthetic NB2 counts: mu = population * exp(b0 + sum b_k z_k), var = mu + alpha mu^2."""
    eta = np.full(len(df), b0)
    for c, b in betas.items():
        eta = eta + b * (df[c] - df[c].mean()) / df[c].std(ddof=1)
    mu = df["population"].to_numpy() * np.exp(eta.to_numpy() if hasattr(eta, "to_numpy") else eta)
    rng = np.random.default_rng(seed)
    # numpy's negative_binomial(n, p) has mean n(1-p)/p; n = 1/alpha, p = 1/(1 + alpha mu) gives
    # mean mu and variance mu + alpha mu^2 (NB2).
    return rng.negative_binomial(1.0 / alpha, 1.0 / (1.0 + alpha * mu))


def test_fixture_is_the_gwent_lsoas(gwent):
    assert len(gwent) == 368
    assert set(gwent["lad19_code"]) == {"W06000018", "W06000019", "W06000020", "W06000021", "W06000022"}
    assert gwent["population"].gt(0).all()


def test_coefficients_match_an_independent_formula_fit(gwent):
    df = gwent.copy()
    df["count"] = _synthetic_counts(df, {"Income_score": 0.3, "Access_score": -0.1}, math.log(0.02), 0.25, 1)
    res = fit_nb_drivers(df, COVS)

    # Independent fit: standardise by hand, formula API, BFGS with a tight gradient tolerance
    d = df.copy()
    for c in COVS:
        d["z_" + c] = (d[c] - d[c].mean()) / d[c].std(ddof=1)
    ref = smf.negativebinomial(
        "count ~ z_Income_score + z_Access_score + z_Housing_score", d, offset=np.log(d["population"])
    ).fit(method="bfgs", maxiter=5000, gtol=1e-8, disp=0)
    assert res.converged
    np.testing.assert_allclose(res.table["coef"], ref.params.iloc[1:4].to_numpy(), atol=1e-6)
    np.testing.assert_allclose(res.table["se"], ref.bse.iloc[1:4].to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(res.table["irr"], np.exp(ref.params.iloc[1:4].to_numpy()), rtol=1e-6)
    np.testing.assert_allclose(res.table["p"], ref.pvalues.iloc[1:4].to_numpy(), rtol=1e-3, atol=1e-12)
    assert res.alpha == pytest.approx(ref.params["alpha"], abs=1e-6)
    assert res.aic == pytest.approx(ref.aic, abs=1e-4)
    assert res.intercept_rate_per_1000 == pytest.approx(math.exp(ref.params["Intercept"]) * 1000, rel=1e-6)
    # IRR interval: exp(b -/+ 1.96 se)
    b, se = ref.params["z_Income_score"], ref.bse["z_Income_score"]
    row = res.table.set_index("covariate").loc["Income_score"]
    assert row["irr_lower"] == pytest.approx(math.exp(b - 1.959964 * se), rel=1e-5)
    assert row["irr_upper"] == pytest.approx(math.exp(b + 1.959964 * se), rel=1e-5)

    # McFadden pseudo-R2 against an independently fitted intercept-only NB2 model
    null = NegativeBinomial(
        d["count"].to_numpy(), np.ones((len(d), 1)), offset=np.log(d["population"].to_numpy())
    ).fit(method="bfgs", maxiter=5000, gtol=1e-8, disp=0)
    assert res.llnull == pytest.approx(null.llf, abs=1e-4)
    assert res.pseudo_r2 == pytest.approx(1 - ref.llf / null.llf, abs=1e-8)

    # Pearson residuals (y - mu) / sqrt(mu + alpha mu^2) from the reference fit
    mu = ref.predict(d, offset=np.log(d["population"]))
    expected = (d["count"] - mu) / np.sqrt(mu + ref.params["alpha"] * mu**2)
    np.testing.assert_allclose(res.pearson_residuals.to_numpy(), expected.to_numpy(), atol=1e-6)


def test_known_model_is_recovered(gwent):
    df = gwent.copy()
    true = {"Income_score": 0.35, "Access_score": -0.15, "Housing_score": 0.0}
    df["count"] = _synthetic_counts(df, true, math.log(0.03), 0.15, 20240601)
    res = fit_nb_drivers(df, COVS, outcome="violence and sexual offences")
    t = res.table.set_index("covariate")
    for c, b in true.items():
        # within 3 standard errors and within 0.08 of the true IRR
        assert abs(t.loc[c, "coef"] - b) < 3 * t.loc[c, "se"]
        assert t.loc[c, "irr"] == pytest.approx(math.exp(b), abs=0.08)
    assert res.alpha == pytest.approx(0.15, abs=0.05)
    assert res.intercept_rate_per_1000 == pytest.approx(30.0, rel=0.1)
    assert t.loc["Income_score", "p"] < 0.001
    assert t.loc["Income_score", "reading"].startswith(
        "Each one standard deviation (SD "
        + f"{df['Income_score'].std(ddof=1):,.3g}) higher income deprivation"
    )
    assert "more violence and sexual offences" in t.loc["Income_score", "reading"]
    assert "less violence" in t.loc["Access_score", "reading"]
    # Income and Housing are correlated in Gwent, so VIF > 1, but not extreme
    assert (t["vif"] > 1).all() and (t["vif"] < 10).all()


def test_plain_english_sentences():
    # IRR 1.34 -> 34% more; CI 1.25..1.44 -> 25% to 44% more
    s = plain_english("income deprivation score", 1.34, 1.25, 1.44, 1e-9, "violence", sd=8.2)
    assert s == (
        "Each one standard deviation (SD 8.2) higher income deprivation score is associated with 34% more "
        "violence (95% CI 25% to 44% more), other factors held constant."
    )
    # IRR 0.8 -> 20% less; CI 0.7..0.9 -> 10% to 30% less
    s = plain_english("access score", 0.8, 0.7, 0.9, 0.001, "burglary", standardised=False)
    assert (
        "Each one unit higher access score is associated with 20% less burglary (95% CI 10% to 30% less)" in s
    )
    # CI crossing 1: 0.95..1.12 -> 5% less to 12% more, not significant
    s = plain_english("housing score", 1.03, 0.95, 1.12, 0.4, "drugs")
    assert "(95% CI 5% less to 12% more)" in s and "not statistically significant" in s


def test_moran_of_residuals_on_a_lattice():
    # 8 x 8 lattice (rook), synthetic: a covariate plus an omitted smooth east-west gradient, so
    # the residuals are spatially autocorrelated.
    w = lat2W(8, 8)
    rng = np.random.default_rng(3)
    n = 64
    col = np.tile(np.arange(8), 8)
    x = rng.normal(size=n)
    pop = np.full(n, 1500.0)
    mu = pop / 1000 * np.exp(math.log(20) + 0.3 * x + 0.25 * (col - 3.5))
    y = rng.negative_binomial(1 / 0.05, 1 / (1 + 0.05 * mu))
    df = pd.DataFrame({"lsoa_code": [f"L{i:02d}" for i in range(n)], "count": y, "population": pop, "x": x})
    res = fit_nb_drivers(df, ["x"], w=w)

    # Hand formula with row-standardised W: I = (n / S0) * (z' W z) / (z' z), S0 = n
    r = res.pearson_residuals.to_numpy()
    z = r - r.mean()
    full, _ = w.full()
    wr = full / full.sum(axis=1, keepdims=True)
    expected_i = (n / wr.sum()) * (z @ wr @ z) / (z @ z)
    moran_i = res.moran.I
    assert moran_i == pytest.approx(expected_i, rel=1e-10)
    assert res.moran.expected_I == pytest.approx(-1 / 63)
    assert res.moran.I > 0.3 and res.moran.p_rand < 0.001

    # With the gradient in the model the residual autocorrelation goes away
    df["col"] = col
    res2 = fit_nb_drivers(df, ["x", "col"], w=w)
    assert res2.moran.I < 0.1 and res2.moran.I < res.moran.I - 0.3


def test_moran_aligns_a_w_with_area_code_ids():
    # W ids are codes in a different order from the rows: residuals must be reordered to W
    w = lat2W(4, 4)
    codes = [f"L{i:02d}" for i in range(16)]
    w_named = type(w)({codes[i]: [codes[j] for j in w.neighbors[i]] for i in range(16)})
    rng = np.random.default_rng(9)
    # synthetic overdispersed counts: NB2 with mean 30, alpha 0.2
    counts = rng.negative_binomial(5, 5 / 35, 16)
    df = pd.DataFrame({"lsoa_code": codes, "count": counts, "population": 1000.0, "x": rng.normal(size=16)})
    positional = fit_nb_drivers(df, ["x"], w=w)
    shuffled = df.sample(frac=1.0, random_state=1)
    named = fit_nb_drivers(shuffled, ["x"], w=w_named)
    named_i, positional_i = named.moran.I, positional.moran.I
    assert named_i == pytest.approx(positional_i, rel=1e-8)
    with pytest.raises(ValueError, match="W ids"):
        fit_nb_drivers(df.iloc[:15], ["x"], w=w_named)


def test_by_crime_type_fills_zero_counts(gwent):
    areas = gwent[["lsoa_code", "population", *COVS]]
    rng = np.random.default_rng(5)
    counts = pd.DataFrame(
        {
            "lsoa_code": list(areas["lsoa_code"]) * 2,
            "crime_type": ["Burglary"] * len(areas) + ["Drugs"] * len(areas),
            "count": rng.poisson(4, 2 * len(areas)),
        }
    )
    counts = counts[counts["count"] > 0]  # zero rows absent, as in an aggregated warehouse table
    results = drivers_by_crime_type(counts, areas, COVS)
    assert set(results) == {"Burglary", "Drugs"}
    assert results["Burglary"].n == 368
    assert results["Burglary"].outcome == "burglary"
    # The Drugs model equals a fit on a frame zero-filled by hand
    drugs = counts[counts["crime_type"] == "Drugs"].set_index("lsoa_code")["count"]
    by_hand = areas.assign(count=areas["lsoa_code"].map(drugs).fillna(0).astype(int))
    assert (by_hand["count"] == 0).sum() > 0
    direct = fit_nb_drivers(by_hand, COVS)
    np.testing.assert_allclose(results["Drugs"].table["coef"], direct.table["coef"], atol=1e-9)
    np.testing.assert_allclose(results["Drugs"].fitted.to_numpy(), direct.fitted.to_numpy(), rtol=1e-9)
    summary = drivers_summary(results)
    assert len(summary) == 6 and {"crime_type", "irr", "reading", "alpha", "aic"} <= set(summary.columns)
    bad = pd.concat(
        [counts, pd.DataFrame({"lsoa_code": ["E01000001"], "crime_type": ["Drugs"], "count": [1]})]
    )
    with pytest.raises(ValueError, match="not in areas"):
        drivers_by_crime_type(bad, areas, COVS)


def test_equidispersed_counts_fall_back_to_poisson_with_a_note():
    # Synthetic Poisson counts: alpha's ML estimate is on the boundary 0, where Newton fails.
    # The NB2 coefficients must then match a Poisson GLM fitted independently.
    import statsmodels.api as sm

    rng = np.random.default_rng(9)
    n = 300
    x = rng.normal(size=n)
    y = rng.poisson(30 * np.exp(0.2 * x))
    df = pd.DataFrame(
        {"lsoa_code": [f"L{i:03d}" for i in range(n)], "count": y, "population": 1000.0, "x": x}
    )
    res = fit_nb_drivers(df, ["x"], standardise=False)
    glm = sm.GLM(y, sm.add_constant(x), family=sm.families.Poisson(), offset=np.log(df["population"])).fit()
    assert res.table["coef"].iloc[0] == pytest.approx(glm.params[1], abs=1e-3)
    assert res.alpha < 1e-3
    assert any("not overdispersed" in note for note in res.notes)


# ------------------------------------------------------------------------------------------------
# Correlated domains: each score alone, VIF, plain readings in words of association only
# ------------------------------------------------------------------------------------------------


def test_income_and_health_are_collinear_and_the_joint_sign_is_an_artefact(gwent):
    """Counts driven by income deprivation only. Health deprivation, correlated with income (real
    WIMD scores), goes with more crime when fitted alone, while the joint model gives it the
    coefficient left after income, near zero or negative: the joint coefficient is not read."""
    r = np.corrcoef(gwent["Income_score"], gwent["Health_score"])[0, 1]
    assert r > 0.8
    df = gwent.assign(count=_synthetic_counts(gwent, {"Income_score": 0.4}, math.log(0.05), 0.2, 7))
    joint = fit_nb_drivers(df, ["Income_score", "Health_score"])
    assert joint.table["vif"].min() > 1 / (1 - r**2) - 1e-6  # VIF = 1 / (1 - r^2) with two covariates
    alone = fit_single_covariates(df, ["Income_score", "Health_score"], outcome="violence")
    health = alone.set_index("covariate").loc["Health_score"]
    assert health["irr"] > 1.2 and health["p"] < 0.001
    assert joint.table.set_index("covariate").loc["Health_score", "irr"] < health["irr"] - 0.15
    # Each row is its own model: it equals fit_nb_drivers with that covariate alone.
    one = fit_nb_drivers(df, ["Health_score"])
    assert health["irr"] == pytest.approx(one.table["irr"].iloc[0], rel=1e-10)
    assert health["pseudo_r2"] == pytest.approx(one.pseudo_r2) and health["alpha"] == pytest.approx(one.alpha)


def test_the_single_models_share_one_null_model_and_equal_models_fitted_apart(gwent):
    """fit_single_covariates fits the constant-only model once (every model has the same counts and
    offset): each row's pseudo-R2 is exactly that of its model fitted alone, null model included."""
    df = gwent.assign(count=_synthetic_counts(gwent, {"Income_score": 0.3}, math.log(0.04), 0.3, 11))
    covariates = ["Income_score", "Health_score", "Education_score"]
    alone = fit_single_covariates(df, covariates).set_index("covariate")
    for c in covariates:
        one = fit_nb_drivers(df[["lsoa_code", "count", "population", c]], [c])
        assert alone.loc[c, "pseudo_r2"] == one.pseudo_r2
        assert alone.loc[c, "irr"] == one.table["irr"].iloc[0]
    null = NegativeBinomial(
        df["count"], np.ones(len(df)), loglike_method="nb2", offset=np.log(df["population"])
    )
    assert one.llnull == pytest.approx(null.fit(method="bfgs", maxiter=1000, disp=0).llf, rel=1e-6)
    # The joint model of the same data has the same null model, so the report hands its llnull on.
    joint = fit_nb_drivers(df, covariates)
    assert joint.llnull == one.llnull
    assert fit_single_covariates(df, covariates, llnull=joint.llnull).equals(alone.reset_index())
    # The llnull handed in is the one used: the equalities above hold because the shared one is right.
    shifted = fit_nb_drivers(df[["lsoa_code", "count", "population", "Health_score"]], ["Health_score"],
                             llnull=one.llnull - 10.0)  # fmt: skip
    assert shifted.llnull == one.llnull - 10.0 and shifted.pseudo_r2 != one.pseudo_r2


def test_reading_says_goes_with_and_no_causal_words():
    text = reading_goes_with("income deprivation score", 1.41, 1.30, 1.53, "violence and sexual offences")
    assert text == (
        "LSOAs with a one standard deviation higher income deprivation score have 41% more violence and sexual "
        "offences per resident (95% CI 30% to 53% more): higher income deprivation score goes with more violence "
        "and sexual offences."
    )
    for word in ("cause", "drive", "lead", "because", "effect", "associated"):
        assert word not in text.lower()
