"""One forecast, end to end: evaluate the methods over rolling origins, choose, predict the horizon."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from diogel.analysis.forecast import (
    ForecastData,
    Method,
    count_model,
    naive_last_12,
    naive_same_months,
    prospective_hotspot,
)
from diogel.analysis.forecast_eval import BASELINE, Choice, choose, evaluate, rolling_origins, summarise

__all__ = ["KERNEL_TYPES", "ForecastResult", "default_methods", "run_forecast"]

# Prospective hot-spotting rests on the near-repeat pattern of burglary and vehicle crime.
KERNEL_TYPES = ("Burglary", "Vehicle crime")


#: The design the assessment's "Where next" section and the portal's panel share: a quarter ahead,
#: evaluated at six rolling origins a quarter apart (so 12 + 3 x 6 months must be loaded).
HORIZON = 3
ORIGINS = 6


def default_methods(crime_type: str | None, has_events: bool, engine: str = "negbin") -> dict[str, Method]:
    """The methods evaluated for a crime type: the two naive maps, the count model, and the kernel
    for burglary and vehicle crime when map points were read."""
    methods: dict[str, Method] = {
        BASELINE: naive_last_12,
        "naive_same_months": naive_same_months,
        f"count_model_{engine}": partial(count_model, engine=engine),
    }
    if has_events and crime_type in KERNEL_TYPES:
        methods["prospective_hotspot"] = prospective_hotspot
    return methods


@dataclass
class ForecastResult:
    """The evaluation, the choice and the forecast of one area, crime type and unit."""

    origins: list[pd.Timestamp]
    horizon: int
    train_to: pd.Timestamp
    scores: pd.DataFrame
    summary: pd.DataFrame
    choice: Choice | None
    predictions: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.choice.method if self.choice else BASELINE


def contiguous_months(months: pd.DatetimeIndex, last: pd.Timestamp) -> pd.DatetimeIndex:
    """The unbroken run of loaded months that ends at ``last`` (empty if ``last`` is not loaded)."""
    have = set(pd.DatetimeIndex(months))
    run = []
    m = pd.Timestamp(last)
    while m in have:
        run.append(m)
        m = m - pd.DateOffset(months=1)
    return pd.DatetimeIndex(sorted(run))


def run_forecast(
    data: ForecastData,
    train_to: pd.Timestamp,
    horizon: int,
    methods: Mapping[str, Method],
    n_origins: int = 6,
) -> ForecastResult:
    """Evaluate ``methods`` at up to ``n_origins`` rolling origins, choose one, forecast after ``train_to``.

    The evaluation uses only months up to ``train_to``: the latest origin is ``train_to - horizon``,
    so its horizon ends at ``train_to``; earlier origins step back by the horizon. The forecast is
    the chosen method's (or the naive map's when none beats it, or when fewer than 2 origins could
    be evaluated) for ``train_to + 1 .. train_to + horizon``, with every method's scores beside it.
    """
    train_to = pd.Timestamp(train_to)
    seen = data.until(train_to)
    seconds: dict[str, float] = {}
    origins = rolling_origins(seen.months, train_to - pd.DateOffset(months=horizon), horizon, n_origins)
    started = time.monotonic()
    scores = evaluate(seen, methods, origins, horizon) if origins else pd.DataFrame()
    seconds["evaluation"] = time.monotonic() - started
    summary = summarise(scores) if len(origins) >= 2 else pd.DataFrame()
    choice = choose(summary) if len(summary) else None
    started = time.monotonic()
    first = train_to + pd.DateOffset(months=1)
    period = f"{first:%Y-%m}..{train_to + pd.DateOffset(months=horizon):%Y-%m}"
    area = data.units.set_index(data.counts.index)["area_km2"]
    chosen = choice.method if choice else BASELINE
    frames = []
    for name, method in methods.items():
        score = method(seen, train_to, horizon).reindex(data.counts.index).astype(float)
        density = score / area
        order = np.lexsort((np.asarray([str(u) for u in density.index]), -density.to_numpy()))
        rank = np.empty(len(order), int)
        rank[order] = np.arange(1, len(order) + 1)
        frames.append(pd.DataFrame({"unit": density.index, "period": period, "score": density.to_numpy(),
                                    "rank": rank, "method": name, "chosen": name == chosen,
                                    "area_km2": area.to_numpy()}))  # fmt: skip
    seconds["forecast"] = time.monotonic() - started
    predictions = pd.concat(frames, ignore_index=True)
    return ForecastResult(origins, horizon, train_to, scores, summary, choice, predictions, seconds)
