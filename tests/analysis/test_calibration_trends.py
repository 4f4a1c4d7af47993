"""Calibration of the count tests on simulated null data fitted to the real Gwent 36 months.

The null model (seasonal NB2 per crime type) is fitted to ``gwent_monthly_by_type_2022-07_2025-06.csv``,
the exact monthly aggregate of the shared Gwent police.uk files (see tests/fixtures/analysis_a/README.md).
Each test's false-positive rate must be within three Monte Carlo standard errors (at the nominal rate)
of its nominal level; the previous, Poisson-based methods must fail the same check (so the check can
fail). Simulation sizes are small and seeds fixed; the shipped table uses larger runs.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diogel import data as bundled
from diogel.analysis.calibration_trends import (
    calibrate_control_chart,
    calibrate_drivers,
    calibrate_year_on_year,
    fit_seasonal_nb,
    mc_se,
    simulate_months,
)
from diogel.analysis.drivers import fit_nb_drivers

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "analysis_a"


@pytest.fixture(scope="module")
def model():
    monthly = pd.read_csv(FIX / "gwent_monthly_by_type_2022-07_2025-06.csv")
    return fit_seasonal_nb(monthly)


def within_mc_error(rate: float, nominal: float, n: int, k: float = 3.0) -> bool:
    return abs(rate - nominal) <= k * mc_se(nominal, n)


def test_null_model_copies_the_real_series(model):
    # Real Gwent counts are over-dispersed: NB2 alpha > 0 for the big types, e.g. shoplifting.
    assert model.alpha["Shoplifting"] > 0.01
    assert model.alpha["Violence and sexual offences"] > 0.001
    # A typical year of violence and sexual offences is about 25,000 records, with a seasonal profile.
    vso = model.profile.loc["Violence and sexual offences"]
    assert 20_000 < vso.sum() < 30_000
    assert vso.max() / vso.min() > 1.1
    # Simulated months reproduce the fitted variance: var = mu + alpha mu^2.
    sims = simulate_months(model, 4000, 1, np.random.default_rng(1), start_month=7)
    i = list(model.profile.index).index("Shoplifting")
    mu, a = model.profile.loc["Shoplifting", 7], model.alpha["Shoplifting"]
    assert sims[:, i, 0].mean() == pytest.approx(mu, rel=0.02)
    assert sims[:, i, 0].var() == pytest.approx(mu + a * mu**2, rel=0.1)


@pytest.mark.slow
def test_year_on_year_false_positive_rates_are_nominal(model):
    table = calibrate_year_on_year(model, n_sims=150, seed=11)
    per_type, after_bh, exact = table.iloc[0], table.iloc[1], table.iloc[2]
    assert within_mc_error(per_type["rate"], 0.05, per_type["simulations"])
    assert within_mc_error(after_bh["rate"], 0.05, after_bh["simulations"])
    # The previous exact binomial test ignores over-dispersion and flags far too often.
    assert exact["rate"] > 0.05 + 3 * mc_se(0.05, exact["simulations"])


def test_year_on_year_power_for_a_planted_rise(model):
    table = calibrate_year_on_year(model, n_sims=40, seed=12, power_types=["Violence and sexual offences"])
    power = table.iloc[-1]
    assert power["scenario"] == "20% rise in Violence and sexual offences"
    # A 20% rise in the largest type is found in most simulated reports, far above the 5% null rate.
    assert power["rate"] > 0.5


@pytest.mark.slow
def test_control_chart_false_signal_rate_is_nominal(model):
    table = calibrate_control_chart(model, n_sims=8, n_months=36, seed=13)
    laney, exact = table.iloc[0], table.iloc[1]
    nominal = laney["nominal"]
    assert nominal == pytest.approx(0.0027, abs=1e-4)
    assert within_mc_error(laney["rate"], nominal, laney["simulations"])
    # Exact Poisson limits flag about one month in six (the 16% on Newport).
    assert exact["rate"] > 0.05


def test_shipped_calibration_table_is_calibrated():
    """The table in diogel/data/calibration/trends.csv: every current method at its nominal rate."""
    table = pd.read_csv(bundled.path("calibration", "trends.csv"))
    assert {"test", "scenario", "statistic", "nominal", "rate", "mc_se", "simulations", "source"} <= set(
        table.columns
    )
    current = table[table["nominal"].notna() & ~table["test"].str.contains("previous method")]
    assert len(current) >= 5
    for _, r in current.iterrows():
        assert within_mc_error(r["rate"], r["nominal"], int(r["simulations"])), r["test"]
    previous = table[table["test"].str.contains("previous method")]
    assert (previous["rate"] > previous["nominal"] + 3 * previous.apply(
        lambda r: mc_se(r["nominal"], int(r["simulations"])), axis=1)).all()  # fmt: skip
    powers = table[table["nominal"].isna()]
    assert powers["statistic"].str.startswith("power").all() and len(powers) >= 4


@pytest.mark.slow
def test_drivers_coefficients_are_calibrated():
    """Null LSOA counts (NB2 with the residual dispersion of a real fit, no covariate effect) on the
    real Gwent LSOAs' populations and WIMD scores: coefficients at p < 0.05 about 5% of the time."""
    counts = pd.read_csv(FIX / "gwent_lsoa21_counts_2024-07_2025-06.csv")
    wimd = pd.read_csv(bundled.path("reference", "wales", "wimd2019_scores_ranks_deciles_lsoa11.csv.gz"))
    # LSOAs whose 2021 code is their 2011 code carry WIMD 2019 directly.
    areas = counts.merge(wimd, left_on="lsoa_code", right_on="lsoa11_code")
    assert len(areas) > 300
    covs = ["IMD_score", "Income_score", "Health_score", "Education_score", "Access_score", "Housing_score"]
    alpha_nb = fit_nb_drivers(areas, ["IMD_score"]).alpha
    rate = areas["count"].sum() / areas["population"].sum()
    table = calibrate_drivers(
        areas[["lsoa_code", "population", *covs]], covs, alpha_nb, rate, n_sims=25, seed=14
    )
    per_coef = table.iloc[0]
    assert per_coef["simulations"] == 25 * len(covs)
    assert within_mc_error(per_coef["rate"], 0.05, per_coef["simulations"])
    assert math.isfinite(table.iloc[1]["rate"])


def test_methods_appendix_lists_every_shipped_calibration_table():
    from diogel.report.sections.methods import calibration_tables

    shipped = sorted(p.stem for p in bundled.path("calibration").glob("*.csv"))
    tables = calibration_tables()
    assert [stem for stem, _ in tables] == shipped and "trends" in shipped
    assert all(len(frame) > 0 for _, frame in tables)
