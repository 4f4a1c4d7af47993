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
