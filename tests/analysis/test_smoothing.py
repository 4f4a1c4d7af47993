"""Tests for diogel.analysis.smoothing: global Empirical Bayes rates (Marshall 1991)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from esda.smoothing import Empirical_Bayes

from diogel.analysis.smoothing import empirical_bayes_rates

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "analysis_a"


def test_three_area_hand_case():
    # e = 2, 30, 8; n = 100, 300, 400 -> r = 0.02, 0.10, 0.02.
    # b = 40 / 800 = 0.05
    # s2 = (100 * 0.03^2 + 300 * 0.05^2 + 400 * 0.03^2) / 800 = (0.09 + 0.75 + 0.36) / 800 = 0.0015
    # a = 0.0015 - 0.05 / (800 / 3) = 0.0015 - 0.0001875 = 0.0013125
    # C = a / (a + b / n): 0.0013125 / 0.0018125 = 21/29; / 0.00147917 = 63/71; / 0.0014375 = 21/23
    # eb = b + C (r - b): 0.05 - 21/29 * 0.03, 0.05 + 63/71 * 0.05, 0.05 - 21/23 * 0.03
    res = empirical_bayes_rates(pd.Series([2, 30, 8], index=["x", "y", "z"]), pd.Series([100, 300, 400]))
    c = [Fraction(21, 29), Fraction(63, 71), Fraction(21, 23)]
    expected = [
        Fraction(5, 100) - c[0] * Fraction(3, 100),
        Fraction(5, 100) + c[1] * Fraction(5, 100),
        Fraction(5, 100) - c[2] * Fraction(3, 100),
    ]
    assert res.prior_mean == pytest.approx(50.0)  # 0.05 per resident = 50 per 1,000
    assert res.prior_variance == pytest.approx(0.0013125)
    assert not res.variance_truncated
    assert list(res.rates.index) == ["x", "y", "z"]
    np.testing.assert_allclose(res.rates["shrinkage"], [float(v) for v in c], rtol=1e-12)
    np.testing.assert_allclose(res.rates["eb_rate"], [1000 * float(v) for v in expected], rtol=1e-12)
    np.testing.assert_allclose(res.rates["raw_rate"], [20.0, 100.0, 20.0])
    # The same numbers from esda's implementation.
    np.testing.assert_allclose(
        res.rates["eb_rate"] / 1000,
        Empirical_Bayes(np.array([2, 30, 8]), np.array([100, 300, 400])).r.ravel(),
    )


def test_negative_prior_variance_is_truncated():
    # e = 1, 4, 10; n = 100, 200, 500: b = 15/800 = 0.01875, r = 0.01, 0.02, 0.02
    # s2 = (100 * 0.00875^2 + 200 * 0.00125^2 + 500 * 0.00125^2) / 800 = 0.00875 / 800 = 1.09375e-5
    # a = 1.09375e-5 - 0.01875 / (800 / 3) = 1.09375e-5 - 7.03125e-5 < 0 -> 0: no evidence the areas
    # differ beyond Poisson noise, so every EB rate is the overall rate 18.75 per 1,000.
    res = empirical_bayes_rates(np.array([1, 4, 10]), np.array([100, 200, 500]))
    assert res.variance_truncated
    assert res.prior_variance == 0.0
    np.testing.assert_allclose(res.rates["shrinkage"], 0.0)
    np.testing.assert_allclose(res.rates["eb_rate"], 18.75)
    # esda keeps the negative variance and so gives weights outside [0, 1] here.
    esda_r = Empirical_Bayes(np.array([1, 4, 10]), np.array([100, 200, 500])).r.ravel()
    assert not np.allclose(esda_r * 1000, 18.75)


def test_matches_esda_on_real_gwent_lsoas():
    data = pd.read_csv(FIX / "gwent_lsoa21_counts_2024-07_2025-06.csv")
    res = empirical_bayes_rates(data["count"], data["population"])
    assert not res.variance_truncated
    ref = Empirical_Bayes(data["count"].to_numpy(), data["population"].to_numpy()).r.ravel()
    np.testing.assert_allclose(res.rates["eb_rate"].to_numpy() / 1000, ref, rtol=1e-12)
    # Shrinkage is a weight in (0, 1] and larger populations are shrunk less.
    c = res.rates["shrinkage"]
    assert ((c > 0) & (c <= 1)).all()
    order = np.argsort(data["population"].to_numpy())
    assert np.all(np.diff(c.to_numpy()[order]) >= 0)
    # Prior mean is the overall rate: 69,462 records / total population.
    assert res.prior_mean == pytest.approx(1000 * data["count"].sum() / data["population"].sum())


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="positive"):
        empirical_bayes_rates([1, 2], [10, 0])
    with pytest.raises(ValueError, match="same length"):
        empirical_bayes_rates([1, 2], [10])
    with pytest.raises(ValueError, match="missing"):
        empirical_bayes_rates([1, np.nan], [10, 10])
