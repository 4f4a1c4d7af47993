"""Calibration of the spatial tests: false-positive rates at nominal on synthetic null data fitted to
real Gwent police.uk LSOA counts, and power against a planted new hot spot of five LSOAs.

Small numbers of replications keep this module bounded; the shipped table
(src/diogel/data/calibration/space.csv, from benchmarks/calibrate_space.py) uses more. A rate is "at
nominal within Monte Carlo error" when it is below nominal + 3 standard errors of a binomial rate at
the nominal level (BH's false discovery rate is an upper bound, so rates below nominal are expected).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from diogel.analysis import calibration_space as cal

FIX = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def setup() -> cal.Setup:
    return cal.load_setup(FIX / "calibration_space", FIX / "analysis_a")


def _bound(reps: int, nominal: float = 0.05) -> float:
    return nominal + 3 * math.sqrt(nominal * (1 - nominal) / reps)


def test_setup_is_fitted_to_the_real_counts(setup):
    # 374 Gwent LSOAs x 24 months of real counts; month-to-month over-dispersion about 1.8.
    assert setup.cube.shape == (374, 24)
    assert int(setup.cube.to_numpy().sum()) == 136842
    assert 1.5 < setup.phi < 2.2
    assert len(set(setup.planted)) == 5


@pytest.mark.slow
def test_gi_star_fdr_bins_are_calibrated_and_the_analytic_ones_are_not(setup):
    reps = 12
    perm = cal.calibrate_gi_star(setup, reps=reps, permutations=9999, seed=11)
    assert perm["false_positive_rate"] <= _bound(reps)
    # The analytic normal p-values on skewed counts flag hot spots in almost every null data set.
    analytic = cal.calibrate_gi_star(setup, reps=reps, permutations=0, seed=11)
    assert analytic["false_positive_rate"] > 0.5


@pytest.mark.slow
def test_emerging_hot_spot_classes_are_calibrated_at_real_lsoa_levels_and_find_a_new_hot_spot(setup):
    reps = 8
    row = cal.calibrate_emerging(setup, reps=reps, seed=12)
    assert row["false_positive_rate"] <= _bound(reps)
    assert row["power"] >= 0.2
    # ESRI's normal p-values on the counts class busy LSOAs in (nearly) every no-change data set.
    esri = cal.calibrate_emerging(setup, reps=3, seed=12, method="esri")
    assert esri["false_positive_rate"] > 0.5


@pytest.mark.slow
def test_pattern_change_s_and_per_lsoa_exact_tests_are_calibrated(setup):
    reps = 6
    rows = cal.calibrate_pattern_change(setup, reps=reps, seed=13, n_null=39)
    s_row = next(r for r in rows if r["test"].startswith("Pattern change: S"))
    exact = next(r for r in rows if r["test"].startswith("Pattern change: per-LSOA"))
    assert s_row["false_positive_rate"] <= _bound(reps, nominal=0.025)
    assert exact["false_positive_rate"] <= _bound(reps)
    assert exact["power"] >= 0.6


def test_the_shipped_table_has_every_spatial_test():
    path = Path(cal.__file__).resolve().parents[1] / "data" / "calibration" / "space.csv"
    table = pd.read_csv(path)
    assert {"test", "nominal", "false_positive_rate", "mc_se", "power", "notes"} <= set(table.columns)
    tests = " ".join(table["test"])
    for name in ("Gi*", "Pattern change", "Emerging"):
        assert name in tests
    assert table["false_positive_rate"].between(0, 1).all()
    # The shipped rates the report relies on are at nominal within Monte Carlo error.
    relied_on = table[
        table["test"].str.contains("permutation p|exact tests|S below|residuals, permutation z", regex=True)
    ]
    assert len(relied_on) == 6
    assert (relied_on["false_positive_rate"] <= relied_on["nominal"] + 3 * relied_on["mc_se"]).all()
