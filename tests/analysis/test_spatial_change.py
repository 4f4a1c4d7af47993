"""Tests for diogel.analysis.spatial_change (Andresen's spatial point pattern test).

All counts here are synthetic.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from diogel.analysis.spatial_change import area_percentages, spatial_point_pattern_test


def _frame(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame({"lsoa_code": list(counts), "count": list(counts.values())})


def test_hand_computed_percentages_and_degenerate_intervals():
    # base: A 2, B 3, C 5 of 10 -> 20%, 30%, 50%
    # test: all 10 events in A -> every resample is 100% A, 0% B, 0% C, so the intervals are
    # [100, 100], [0, 0], [0, 0]: A is "higher in test", B and C "lower in test".
    # D has no events in either period -> 0% inside [0, 0] -> similar.
    # S = 1 similar / 4 areas = 0.25; S_robust = 0 similar / 3 areas with events = 0.
    base = _frame({"A": 2, "B": 3, "C": 5})
    test = _frame({"A": 10})
    res = spatial_point_pattern_test(base, test, areas=["A", "B", "C", "D"])
    a = res.areas.set_index("lsoa_code")
    assert a["base_pct"].tolist() == pytest.approx([20.0, 30.0, 50.0, 0.0])
    assert a["test_pct"].tolist() == pytest.approx([100.0, 0.0, 0.0, 0.0])
    assert a.loc["A", ["lower", "upper"]].tolist() == [100.0, 100.0]
    assert a.loc["B", ["lower", "upper"]].tolist() == [0.0, 0.0]
    assert a["change"].tolist() == ["higher in test", "lower in test", "lower in test", "similar"]
    s_index = res.S
    assert s_index == pytest.approx(0.25)
    assert res.S_robust == pytest.approx(0.0)
    assert (res.n_areas, res.n_areas_robust) == (4, 3)


def test_area_percentages():
    # 1 + 1 + 2 = 4 -> 25%, 25%, 50%
    assert area_percentages(pd.Series([1, 1, 2])).tolist() == [25.0, 25.0, 50.0]


def test_identical_pattern_gives_s_close_to_one():
    rng = np.random.default_rng(11)
    counts = {f"W01{i:06d}": int(c) for i, c in enumerate(rng.poisson(20, size=60))}
    res = spatial_point_pattern_test(_frame(counts), _frame(counts))
    # base_pct equals the test percentage, the centre of its own resampling distribution
    assert res.S >= 0.97
    assert res.S_robust >= 0.97


def test_shifted_pattern_gives_low_s():
    # Base events all in the first 20 areas, test events all in the last 20
    base = {f"A{i:02d}": 30 for i in range(20)} | {f"A{i:02d}": 0 for i in range(20, 40)}
    test = {f"A{i:02d}": 0 for i in range(20)} | {f"A{i:02d}": 30 for i in range(20, 40)}
    res = spatial_point_pattern_test(_frame(base), _frame(test))
    assert res.S == 0.0
    assert set(res.areas["change"]) == {"higher in test", "lower in test"}


def test_interval_width_matches_binomial_and_without_replacement_is_narrower():
    # One area with 300 of 1,000 test events. m = 0.85 * 1000 = 850 sampled events.
    # With replacement the share is Binomial(850, 0.3)/850: sd = 100*sqrt(0.3*0.7/850) = 1.572
    # points, so the 95% interval is about 30 +/- 1.96*1.572 = [26.9, 33.1].
    # Without replacement (hypergeometric) sd shrinks by sqrt((1000-850)/(1000-1)) = 0.3875 to
    # 0.609 points: about [28.8, 31.2].
    base = _frame({"X": 30, "Y": 70})
    test = _frame({"X": 300, "Y": 700})
    with_r = spatial_point_pattern_test(base, test).areas.set_index("lsoa_code").loc["X"]
    half = 1.96 * 100 * math.sqrt(0.3 * 0.7 / 850)
    assert with_r["lower"] == pytest.approx(30 - half, abs=0.8)
    assert with_r["upper"] == pytest.approx(30 + half, abs=0.8)
    without = spatial_point_pattern_test(base, test, replace=False).areas.set_index("lsoa_code").loc["X"]
    half_w = half * math.sqrt(150 / 999)
    assert without["lower"] == pytest.approx(30 - half_w, abs=0.4)
    assert without["upper"] == pytest.approx(30 + half_w, abs=0.4)
    assert (without["upper"] - without["lower"]) < (with_r["upper"] - with_r["lower"])
    # base share 30% is inside both
    assert bool(with_r["similar"]) and bool(without["similar"])


def test_seed_makes_results_reproducible():
    base = _frame({"A": 12, "B": 30, "C": 8, "D": 50})
    test = _frame({"A": 20, "B": 25, "C": 15, "D": 40})
    r1 = spatial_point_pattern_test(base, test, seed=5)
    r2 = spatial_point_pattern_test(base, test, seed=5)
    r3 = spatial_point_pattern_test(base, test, seed=6)
    pd.testing.assert_frame_equal(r1.areas, r2.areas)
    assert not r1.areas[["lower", "upper"]].equals(r3.areas[["lower", "upper"]])


def test_input_checks():
    with pytest.raises(ValueError, match="not in areas"):
        spatial_point_pattern_test(_frame({"A": 1}), _frame({"B": 1}), areas=["A"])
    with pytest.raises(ValueError, match="at least one event"):
        spatial_point_pattern_test(_frame({"A": 1}), _frame({"A": 0}))
    with pytest.raises(ValueError, match="sample_share"):
        spatial_point_pattern_test(_frame({"A": 1}), _frame({"A": 1}), sample_share=1.5)


# ------------------------------------------------------------------------------------------------
# The pattern change beside its null, per-area exact tests, dispersion
# ------------------------------------------------------------------------------------------------


def test_area_change_tests_equal_scipy_binomtest_and_bh():
    from scipy.stats import binomtest
    from statsmodels.stats.multitest import multipletests

    from diogel.analysis.spatial_change import area_change_tests

    b = np.array([10, 0, 25, 3, 40, 0])
    t = np.array([30, 0, 20, 5, 10, 2])
    out = area_change_tests(b, t)
    pi = t.sum() / (b + t).sum()  # 67 / 145
    tested = (b + t) > 0
    expected = [
        binomtest(int(ti), int(bi + ti), pi).pvalue for bi, ti in zip(b[tested], t[tested], strict=True)
    ]
    np.testing.assert_allclose(out.loc[tested, "p_exact"], expected, rtol=1e-12)
    assert np.isnan(out.loc[~tested, "p_exact"]).all()
    np.testing.assert_allclose(out.loc[tested, "q"], multipletests(expected, method="fdr_bh")[1], rtol=1e-12)
    # Area 0: 30 of 40 against pi = 0.462, p ~ 0.0003 -> higher; area 4: 10 of 50 -> lower.
    assert out.loc[0, "exact_change"] == "higher in test"
    assert out.loc[4, "exact_change"] == "lower in test"
    assert out.loc[1, "exact_change"] == "similar"
    # Dispersion 2 halves the counts before the exact test (quasi-likelihood scale).
    half = area_change_tests(b, t, dispersion=2.0)
    assert half.loc[0, "p_exact"] == pytest.approx(binomtest(15, 20, pi).pvalue)
    assert (half["p_exact"].fillna(1) >= out["p_exact"].fillna(1) - 1e-12).sum() >= 4
    with pytest.raises(ValueError, match="dispersion"):
        area_change_tests(b, t, dispersion=0.5)


def test_monthly_dispersion_is_one_for_proportional_counts_and_pearson_otherwise():
    from diogel.analysis.spatial_change import monthly_dispersion

    # Counts exactly proportional to area x month effects: X^2 = 0, floored at 1.
    y = np.outer([10, 20, 30], [1, 2, 3, 4])
    assert monthly_dispersion(pd.DataFrame(y)) == 1.0
    # Hand case: 2 areas x 2 months [[10, 0], [0, 10]]: e = 5 everywhere, X^2 = 4 * 25 / 5 = 20, df 1.
    assert monthly_dispersion(pd.DataFrame([[10, 0], [0, 10]])) == pytest.approx(20.0)


def test_pattern_change_null_range_and_the_moved_rule():
    from diogel.analysis.spatial_change import pattern_change

    rng = np.random.default_rng(4)  # synthetic counts
    lam = rng.gamma(2.0, 20.0, size=120)
    codes = [f"A{i:03d}" for i in range(120)]
    base = pd.DataFrame({"lsoa_code": codes, "count": rng.poisson(lam)})
    same = pd.DataFrame({"lsoa_code": codes, "count": rng.poisson(lam)})
    res = pattern_change(base, same, n_null=99, seed=3)
    assert res.S_low <= res.S_expected <= res.S_high
    s_obs = res.sppt.S
    # The one-sided Monte Carlo p of a low S; moved only in the lowest 2.5%, hence below S_low.
    assert res.p_value == pytest.approx((1 + np.sum(res.S_null <= s_obs)) / 100)
    assert res.moved == (res.p_value <= 0.025)
    assert not res.moved or s_obs < res.S_low
    assert len(res.S_null) == 99
    # A new pattern: the rates reversed between the periods.
    moved = pd.DataFrame({"lsoa_code": codes, "count": rng.poisson(lam[::-1])})
    res2 = pattern_change(base, moved, n_null=99, seed=3)
    s_obs = res2.sppt.S
    assert res2.moved and s_obs < res2.S_low and res2.p_value == pytest.approx(0.01)
    assert res2.n_changed == res2.n_higher + res2.n_lower > 10
    assert {"p_exact", "q", "exact_change", "change"} <= set(res2.areas.columns)
    # Same seed, same result.
    again = pattern_change(base, moved, n_null=99, seed=3)
    np.testing.assert_array_equal(again.S_null, res2.S_null)


@pytest.mark.parametrize("phi", [1.0, 1.8])
def test_null_draws_keep_each_area_total_and_have_phi_times_the_binomial_variance(phi):
    """The S null is drawn given each area's records in both periods: t_i | n_i beta-binomial, var phi n pi (1 - pi)."""
    from diogel.analysis.spatial_change import _draw_test_counts

    n = np.array([0, 1, 40, 400])
    draws = _draw_test_counts(np.random.default_rng(6), n, 0.3, phi, 40_000)
    assert draws.shape == (40_000, 4)
    assert (draws >= 0).all() and (draws <= n).all()
    assert (draws[:, 0] == 0).all()
    np.testing.assert_allclose(draws[:, 2:].mean(axis=0), 0.3 * n[2:], rtol=0.01)
    np.testing.assert_allclose(draws[:, 2:].var(axis=0), phi * n[2:] * 0.21, rtol=0.05)
    # n = 1 <= phi cannot carry phi times the binomial variance: it is drawn binomial.
    assert draws[:, 1].mean() == pytest.approx(0.3, abs=0.01)
