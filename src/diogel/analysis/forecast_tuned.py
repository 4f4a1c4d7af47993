"""Longer-memory and smoothed hot-spot maps, tuned on the training origins only.

The naive map counts the last 12 months equally. Two cheap changes can help where counts are
sparse (burglary in a small LSOA): remember longer, with exponentially decaying weights, and
borrow from the neighbours (spatial smoothing of the density). :func:`weighted_history` is that
map for fixed settings; :func:`tuned_history` picks the settings at each forecast origin by a
rolling-origin evaluation run *inside* the months it is given (origins whose horizons end by the
forecast origin), so it never sees a month after the origin, and the naive map itself is one of
the settings it can pick.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from diogel.analysis.forecast import ForecastData, _check, _ewma_rate, count_model, naive_last_12
from diogel.analysis.forecast_eval import coverage_metrics, rolling_origins

__all__ = ["BLEND_WEIGHTS", "HISTORY_SETTINGS", "blended_count_model", "tuned_history", "weighted_history"]

#: (half-life in months, or None for the flat last-12-months window; neighbours' weight).
#: (None, 0.0) is the naive map.
HISTORY_SETTINGS: tuple[tuple[float | None, float], ...] = tuple(
    (h, w) for h in (None, 3.0, 6.0, 12.0, 24.0) for w in (0.0, 0.25, 0.5)
)


def weighted_history(
    data: ForecastData,
    origin: pd.Timestamp,
    horizon: int,
    half_life: float | None = 12.0,
    neighbour_weight: float = 0.0,
) -> pd.Series:
    """A map of exponentially weighted past records, optionally smoothed towards the neighbours.

    With k months before the origin (k = 0 the origin month) and every loaded month used,

        r_i = sum_k 2^(-k / half_life) c_{i,k} / sum_k 2^(-k / half_life),

    a weighted mean monthly count (``half_life=None``: the plain mean of the last 12 months, the
    naive map). Densities d_i = r_i / a_i are then smoothed, d'_i = (1 - w) d_i + w (W d)_i with W
    the row-standardised neighbours and w = ``neighbour_weight``, and the score is
    horizon x d'_i x a_i (expected records over the horizon; only the order is evaluated).
    """
    origin = _check(data, origin)
    if half_life is None:
        rate = data.window(origin - pd.DateOffset(months=11), 12) / 12
    else:
        rate = pd.Series(_ewma_rate(data, origin, half_life), index=data.counts.index)
    area = data.units["area_km2"].to_numpy(float)
    density = rate.to_numpy(float) / area
    if neighbour_weight:
        density = (1 - neighbour_weight) * density + neighbour_weight * (data.neighbours @ density)
    return pd.Series(horizon * density * area, index=data.counts.index, dtype=float)


def _inner_pai(
    data: ForecastData, origin: pd.Timestamp, horizon: int, n: int, coverage: float, scorers: list
) -> np.ndarray | None:
    """Mean PAI at ``coverage`` of each scorer (data, origin -> scores) over up to ``n`` inner origins.

    Inner origins lie inside the months given: the latest ``origin - horizon``, a horizon apart,
    each with 12 months before it. None when there is none.
    """
    inner = rolling_origins(data.months, origin - pd.DateOffset(months=horizon), horizon, n)
    if not inner:
        return None
    area = data.units.set_index(data.counts.index)["area_km2"]
    pai = np.zeros(len(scorers))
    for o in inner:
        seen = data.until(o)
        actual = data.window(o + pd.DateOffset(months=1), horizon)
        before = data.window(o - pd.DateOffset(months=horizon - 1), horizon)
        for k, scores in enumerate(scorers):
            value = coverage_metrics(scores(seen, o), area, actual, before, coverage)["pai"]
            pai[k] += 0.0 if np.isnan(value) else value / len(inner)
    return pai


def _first_best(pai: np.ndarray | None) -> int:
    """Index of the highest mean PAI; ties and no evaluation go to the first (the naive map)."""
    if pai is None:
        return 0
    best = 0
    for k in range(1, len(pai)):
        if pai[k] > pai[best] + 1e-12:
            best = k
    return best


def tuned_history(
    data: ForecastData,
    origin: pd.Timestamp,
    horizon: int,
    settings: Sequence[tuple[float | None, float]] = HISTORY_SETTINGS,
    inner_origins: int = 4,
    coverage: float = 0.05,
) -> pd.Series:
    """:func:`weighted_history` with the settings that did best on the training origins.

    Inner origins: up to ``inner_origins`` a horizon apart, the latest ``origin - horizon`` (so its
    horizon ends at ``origin``), each with 12 months loaded before it
    (:func:`~diogel.analysis.forecast_eval.rolling_origins` on the months given). Each setting is
    scored by its mean PAI at ``coverage`` of the area over them; the best is used, ties (and no
    inner origin at all) going to the naive map (the first setting, ``(None, 0.0)``).
    """
    origin = _check(data, origin)
    scorers = [lambda d, o, h=h, w=w: weighted_history(d, o, horizon, h, w) for h, w in settings]
    pai = _inner_pai(data, origin, horizon, inner_origins, coverage, scorers)
    return weighted_history(data, origin, horizon, *settings[_first_best(pai)])


BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)


def blended_count_model(
    data: ForecastData,
    origin: pd.Timestamp,
    horizon: int,
    weights: Sequence[float] = BLEND_WEIGHTS,
    inner_origins: int = 3,
    coverage: float = 0.05,
    extended: bool = True,
) -> pd.Series:
    """(1 - w) x the naive map + w x the count model, w chosen on the training origins only.

    Both are expected records over the horizon, so they blend on one scale. The count model
    (negative binomial, :func:`~diogel.analysis.forecast.count_model`, ``extended`` features) is
    refitted at each inner origin on the months before it; w is the weight in ``weights`` with the
    highest mean PAI at ``coverage`` over up to ``inner_origins`` inner origins (ties and no
    inner origin: the first weight, 0, the naive map).
    """
    origin = _check(data, origin)
    fits: dict[pd.Timestamp, tuple[pd.Series, pd.Series]] = {}

    def both(d: ForecastData, o: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
        if o not in fits:
            fits[o] = (naive_last_12(d, o, horizon), count_model(d, o, horizon, extended=extended))
        return fits[o]

    scorers = [lambda d, o, w=w: (1 - w) * both(d, o)[0] + w * both(d, o)[1] for w in weights]
    pai = _inner_pai(data, origin, horizon, inner_origins, coverage, scorers)
    w = weights[_first_best(pai)]
    naive, model = both(data, origin)
    return (1 - w) * naive + w * model
