"""Longer-memory, smoothed and blended forecasts: by hand, and never tuned on a test month."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from analysis.test_forecast_eval import UNITS, panel
from diogel.analysis.forecast import ForecastData, count_model, count_model_features, naive_last_12
from diogel.analysis.forecast_eval import evaluate, rolling_origins
from diogel.analysis.forecast_tuned import blended_count_model, tuned_history, weighted_history


def two_units() -> ForecastData:
    months = pd.date_range("2021-01-01", periods=3, freq="MS")
    counts = pd.DataFrame([[4.0, 2.0, 1.0], [0.0, 0.0, 7.0]], index=["A", "B"], columns=months)
    units = pd.DataFrame({"unit": ["A", "B"], "area_km2": [1.0, 2.0]})
    w = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))  # each the other's only neighbour
    return ForecastData(units, counts, w)


def test_weighted_history_by_hand():
    d = two_units()
    origin = pd.Timestamp("2021-03-01")
    # Half-life 1 month: ages 2, 1, 0 weigh 1/4, 1/2, 1 (sum 7/4).
    rate_a = (4 / 4 + 2 / 2 + 1) / (7 / 4)  # 12/7
    rate_b = 7 / (7 / 4)  # 4
    got = weighted_history(d, origin, 3, half_life=1.0)
    np.testing.assert_allclose(got.to_numpy(), [3 * rate_a, 3 * rate_b])
    # Smoothing the densities (A: 12/7 per km2, B: 2 per km2) half-way towards the neighbour's.
    dens = np.array([rate_a / 1.0, rate_b / 2.0])
    smooth = 0.5 * dens + 0.5 * dens[::-1]
    got = weighted_history(d, origin, 3, half_life=1.0, neighbour_weight=0.5)
    np.testing.assert_allclose(got.to_numpy(), 3 * smooth * np.array([1.0, 2.0]))
    # No half-life and no smoothing: the naive map.
    p = panel()
    o = pd.Timestamp("2021-06-01")
    pd.testing.assert_series_equal(weighted_history(p.until(o), o, 3, None), naive_last_12(p.until(o), o, 3))


def test_extended_features_by_hand():
    d = two_units()
    origin = pd.Timestamp("2021-03-01")
    f = count_model_features(d, origin, 3, extended=True)
    ewma = np.array([(4 * 2 ** (-2 / 6) + 2 * 2 ** (-1 / 6) + 1) / (2 ** (-2 / 6) + 2 ** (-1 / 6) + 1),
                     7 / (2 ** (-2 / 6) + 2 ** (-1 / 6) + 1)])  # fmt: skip
    np.testing.assert_allclose(f["log_ewma_6"], np.log1p(ewma))
    np.testing.assert_allclose(f["log_neighbours_3"], np.log1p([7.0, 7.0]))
    np.testing.assert_allclose(f["log_neighbours_ewma_6"], np.log1p(ewma[::-1]))
    assert "log_ewma_6" not in count_model_features(d, origin, 3).columns


def test_tuned_history_picks_the_best_setting_on_training_origins_only():
    d = panel(36, seed=3)
    origin = pd.Timestamp("2022-06-01")
    settings = ((None, 0.0), (3.0, 0.0), (24.0, 0.5))
    cut = d.until(origin)
    # The same choice, re-derived with the evaluation itself on the inner origins.
    inner = rolling_origins(cut.months, origin - pd.DateOffset(months=3), 3, 4)
    assert inner and max(inner) + pd.DateOffset(months=3) <= origin
    methods = {
        str(k): partial(weighted_history, half_life=h, neighbour_weight=w)
        for k, (h, w) in enumerate(settings)
    }
    pai = evaluate(cut, methods, inner, 3, coverages=(0.05,)).groupby("method", sort=False)["pai"].mean()
    best = settings[int(pai.idxmax())] if pai.max() > pai["0"] + 1e-12 else settings[0]
    pd.testing.assert_series_equal(
        tuned_history(cut, origin, 3, settings=settings), weighted_history(cut, origin, 3, *best)
    )
    # Only the naive setting offered: the naive map.
    pd.testing.assert_series_equal(
        tuned_history(cut, origin, 3, settings=((None, 0.0),)), naive_last_12(cut, origin, 3)
    )


@pytest.mark.parametrize("method", [tuned_history, blended_count_model])
def test_tuned_methods_never_see_a_planted_future(method):  # noqa: ANN001
    d = panel(30, seed=5)
    origin = pd.Timestamp("2021-12-01")
    with pytest.raises(ValueError, match="past the origin"):
        method(d, origin, 3)
    planted = d.counts.copy()
    planted.loc[UNITS[0], planted.columns > origin] = 1000.0
    p = ForecastData(d.units, planted, d.neighbours)
    a = method(d.until(origin), origin, 3)
    b = method(p.until(origin), origin, 3)
    pd.testing.assert_series_equal(a, b)
    # Through the rolling-origin evaluation as well: the scores at that origin are unchanged.
    ev = evaluate(p, {"m": method}, [origin], 3)
    assert ev["pai"].notna().all()
    assert float(method(p.until(origin), origin, 3).max()) < 1000


def test_gbm_count_model_orders_steady_rates():
    d = panel(36, seed=7)
    origin = pd.Timestamp("2022-09-01")
    pred = count_model(d.until(origin), origin, 3, engine="gbm", extended=True)
    assert list(pred.sort_values().index) == UNITS  # rates 1, 3, 6, 12 a month
    # Trees on 4 units follow each unit's own noise more than the regression does: a looser check.
    np.testing.assert_allclose(pred.to_numpy(), np.array([1.0, 3.0, 6.0, 12.0]) * 3, rtol=0.5)
