"""Forecast evaluation against hand computations: hit rate, PAI, PEI, RRI, rolling origins, the
paired test and the choice; and the rolling-origin split never shows a method a test month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

from diogel.analysis.forecast import ForecastData, count_model, naive_last_12, naive_same_months
from diogel.analysis.forecast_eval import (
    area_classes,
    choose,
    coverage_metrics,
    evaluate,
    rolling_origins,
    summarise,
)
from diogel.analysis.forecast_run import run_forecast

UNITS = ["A", "B", "C", "D"]


def small_grid():
    idx = pd.Index(UNITS)
    area = pd.Series([1.0, 1.0, 2.0, 4.0], index=idx)  # total 8 km2
    score = pd.Series([4.0, 1.0, 6.0, 2.0], index=idx)  # densities 4, 1, 3, 0.5: order A, C, B, D
    actual = pd.Series([5.0, 3.0, 2.0, 10.0], index=idx)  # N = 20; densities 5, 3, 1, 2.5: best A, B, D, C
    before = pd.Series([2.0, 2.0, 2.0, 2.0], index=idx)
    return score, area, actual, before


def test_metrics_by_hand_one_unit():
    score, area, actual, before = small_grid()
    m = coverage_metrics(score, area, actual, before, 1 / 8)  # 1 km2: unit A alone
    assert m["n"] == 5 and m["N"] == 20
    assert m["hit_rate"] == pytest.approx(5 / 20)
    assert m["pai"] == pytest.approx((5 / 20) / (1 / 8))  # 2.0
    assert m["pei"] == pytest.approx(1.0)  # A is also the best single km2
    assert m["rri"] == pytest.approx((5 / 2) / (20 / 8))


def test_metrics_by_hand_partial_unit():
    score, area, actual, before = small_grid()
    m = coverage_metrics(score, area, actual, before, 2 / 8)  # 2 km2: A, then half of C
    assert m["units"] == pytest.approx(1.5)
    assert m["area_share"] == pytest.approx(0.25)
    assert m["n"] == pytest.approx(5 + 0.5 * 2)
    assert m["hit_rate"] == pytest.approx(6 / 20)
    assert m["pai"] == pytest.approx(0.3 / 0.25)
    assert m["n_best"] == pytest.approx(8)  # A and B, 1 km2 each
    assert m["pei"] == pytest.approx(6 / 8)
    assert m["rri"] == pytest.approx((6 / 3) / (20 / 8))


def test_metrics_ties_broken_by_unit_code_and_nan_without_records():
    idx = pd.Index(UNITS)
    flat = pd.Series(1.0, index=idx)
    m = coverage_metrics(flat, flat, pd.Series([0.0, 7.0, 0.0, 0.0], index=idx), flat, 0.25)
    assert m["n"] == 0 and m["pei"] == 0  # A first by code, none there
    none = coverage_metrics(flat, flat, pd.Series(0.0, index=idx), flat, 0.25)
    assert np.isnan(none["hit_rate"]) and np.isnan(none["pai"]) and np.isnan(none["pei"])


def panel(n_months: int = 30, seed: int = 1) -> ForecastData:
    """Synthetic: 4 units with steady Poisson rates 1, 3, 6, 12 a month from 2020-01."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2020-01-01", periods=n_months, freq="MS")
    rates = np.array([1.0, 3.0, 6.0, 12.0])
    counts = pd.DataFrame(
        rng.poisson(rates[:, None], (4, n_months)).astype(float), index=UNITS, columns=months
    )
    units = pd.DataFrame(
        {"unit": UNITS, "area_km2": [1.0, 1.0, 1.0, 1.0], "deprivation": [10.0, 20.0, 30.0, 40.0]}
    )
    ring = sp.csr_matrix(np.roll(np.eye(4), 1, axis=1) * 0.5 + np.roll(np.eye(4), -1, axis=1) * 0.5)
    return ForecastData(units, counts, ring)


def test_naive_maps_reproduce_hand_counts():
    d = panel()
    origin = pd.Timestamp("2021-06-01")
    cut = d.until(origin)
    hand_12 = d.counts.loc[:, "2020-07-01":"2021-06-01"].sum(axis=1)
    assert d.counts.loc[:, "2020-07-01":"2021-06-01"].shape[1] == 12
    pd.testing.assert_series_equal(naive_last_12(cut, origin, 3), hand_12 * 3 / 12, check_names=False)
    hand_same = (
        d.counts[pd.Timestamp("2020-07-01")]
        + d.counts[pd.Timestamp("2020-08-01")]
        + d.counts[pd.Timestamp("2020-09-01")]
    )
    pd.testing.assert_series_equal(naive_same_months(cut, origin, 3), hand_same, check_names=False)


def test_methods_refuse_data_past_the_origin():
    d = panel()
    with pytest.raises(ValueError, match="past the origin"):
        naive_last_12(d, pd.Timestamp("2021-06-01"), 3)


def test_rolling_origins_by_hand():
    months = pd.date_range("2020-01-01", "2022-12-01", freq="MS")  # 36 months
    got = rolling_origins(months, pd.Timestamp("2022-09-01"), 3, 6)
    assert got == [
        pd.Timestamp(m)
        for m in ["2021-06-01", "2021-09-01", "2021-12-01", "2022-03-01", "2022-06-01", "2022-09-01"]
    ]
    # Only origins with 12 months behind them: 2020-12 is the first possible.
    assert rolling_origins(months, pd.Timestamp("2021-06-01"), 3, 10)[0] == pd.Timestamp("2020-12-01")
    # Horizon not loaded: the origin is skipped.
    assert rolling_origins(months, pd.Timestamp("2022-11-01"), 3, 1) == [pd.Timestamp("2022-08-01")]


def test_rolling_origin_never_shows_a_test_month():
    d = panel(36)
    seen: list[tuple[pd.Timestamp, pd.Timestamp]] = []

    def spy(data: ForecastData, origin: pd.Timestamp, horizon: int) -> pd.Series:
        seen.append((origin, data.months.max()))
        return naive_last_12(data, origin, horizon)

    origins = rolling_origins(d.months, pd.Timestamp("2022-09-01"), 3, 6)
    methods = {"naive_last_12": naive_last_12, "spy": spy, "count_model_negbin": count_model}
    evaluate(d, methods, origins, 3)
    assert [o for o, _ in seen] == origins
    assert all(latest == o for o, latest in seen)
    # Plant future data: huge counts in the test months of each origin, in the unit with fewest.
    # No method may see them when evaluated at that origin, and each forecast stays as it was.
    for origin in origins:
        planted = d.counts.copy()
        test_months = pd.date_range(origin + pd.DateOffset(months=1), periods=3, freq="MS")
        planted.loc["A", test_months] = 1000.0
        p = ForecastData(d.units, planted, d.neighbours)
        largest: list[float] = []

        def watcher(data: ForecastData, origin: pd.Timestamp, horizon: int, largest=largest) -> pd.Series:
            largest.append(float(data.counts.to_numpy().max()))
            return count_model(data, origin, horizon)

        evaluate(p, {"watcher": watcher}, [origin], 3)
        assert largest and max(largest) < 1000
        for method in methods.values():
            pd.testing.assert_series_equal(
                method(p.until(origin), origin, 3), method(d.until(origin), origin, 3)
            )
        # ...and the planted months do reach the scoring: A becomes the hot spot the naive map missed.
        after = evaluate(p, {"naive_last_12": naive_last_12}, [origin], 3, coverages=(0.25,))
        assert after["pei"].iloc[0] < 1


def test_run_forecast_ignores_months_after_train_to():
    d = panel(36)
    planted = d.counts.copy()
    planted.loc[:, planted.columns > pd.Timestamp("2022-06-01")] = 999.0
    p = ForecastData(d.units, planted, d.neighbours)
    methods = {"naive_last_12": naive_last_12, "naive_same_months": naive_same_months}
    a = run_forecast(d, pd.Timestamp("2022-06-01"), 3, methods)
    b = run_forecast(p, pd.Timestamp("2022-06-01"), 3, methods)
    pd.testing.assert_frame_equal(a.scores, b.scores)
    pd.testing.assert_frame_equal(a.predictions, b.predictions)
    assert max(a.origins) == pd.Timestamp("2022-03-01")  # its horizon ends at train_to


def test_count_model_recovers_steady_rates():
    d = panel(36, seed=7)
    origin = pd.Timestamp("2022-09-01")
    pred = count_model(d.until(origin), origin, 3)
    expected = np.array([1.0, 3.0, 6.0, 12.0]) * 3
    assert list(pred.sort_values().index) == UNITS
    np.testing.assert_allclose(pred.to_numpy(), expected, rtol=0.35)


def test_summary_paired_test_matches_scipy_and_choice():
    origins = pd.date_range("2021-01-01", periods=6, freq="3MS")
    naive = [2.0, 2.1, 1.9, 2.0, 2.2, 2.0]
    better = [2.5, 2.4, 2.0, 2.6, 2.3, 1.95]
    worse = [1.0, 1.1, 0.9, 1.0, 1.2, 1.0]
    rows = []
    for name, pais in (("naive_last_12", naive), ("better", better), ("worse", worse)):
        for o, v in zip(origins, pais, strict=True):
            rows.append(
                {
                    "method": name,
                    "origin": o,
                    "coverage": 0.05,
                    "hit_rate": v / 20,
                    "pai": v,
                    "pei": 0.5,
                    "rri": 1.0,
                }
            )
    s = summarise(pd.DataFrame(rows)).set_index("method")
    diff = np.array(better) - np.array(naive)
    assert s.loc["better", "wilcoxon_p"] == pytest.approx(stats.wilcoxon(diff, alternative="greater").pvalue)
    assert s.loc["better", "wilcoxon_p"] == pytest.approx(2 / 64)  # one negative difference, the smallest
    assert s.loc["better", "pai_better"] == 5
    assert s.loc["better", "pai_mean"] == pytest.approx(np.mean(better))
    assert s.loc["better", "pai_sd"] == pytest.approx(np.std(better, ddof=1))
    assert s.loc["better", "pai_ratio"] == pytest.approx(np.mean(better) / np.mean(naive))
    assert np.isnan(s.loc["naive_last_12", "wilcoxon_p"])
    c = choose(s.reset_index())
    assert c.method == "better" and c.beats_naive
    only_worse = summarise(pd.DataFrame([r for r in rows if r["method"] != "better"]))
    c = choose(only_worse)
    assert c.method == "naive_last_12" and not c.beats_naive and "naive map is used" in c.reason


def test_area_classes_by_hand():
    score, area, _, _ = small_grid()  # densities A 4, C 3, B 1, D 0.5; areas 1, 2, 1, 4 of 8 km2
    got = area_classes(score, area, coverages=(0.25, 0.5, 0.75))
    # 2 km2: A and half of C; 4 km2: then B; 6 km2: then half of D.
    assert got.to_dict() == {
        "A": "top 25% of area",
        "B": "top 50% of area",
        "C": "top 25% of area",
        "D": "top 75% of area",
    }
    assert set(area_classes(score, area)) == {"top 1% of area", "rest"}  # 1%..10% of 8 km2 all lie inside A
