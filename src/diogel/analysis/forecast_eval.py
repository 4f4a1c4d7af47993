"""Honest evaluation of hot-spot forecasts: rolling origins, hit rate, PAI, PEI and RRI.

For each origin the methods see only the months up to it (:meth:`ForecastData.until`), predict
the ``horizon`` months after it, and are scored against what was recorded there. Units are ranked
by forecast density (score / km2) and the top units are taken until they cover a share of the
area; the last unit is counted in proportion, so every method is scored at exactly 1%, 5% or 10%
of the area. With n the records of the horizon in that area, N all records of the horizon, a the
area taken and A the whole area:

* hit rate = n / N;
* PAI (Chainey, Tompson and Uhlig 2008) = (n / N) / (a / A);
* PEI (Hunt 2016) = PAI / PAI*, PAI* the PAI of the best possible choice of the same area (the
  units with the most records per km2 in the horizon), so PEI = n / n*, between 0 and 1;
* RRI (Levine's recapture rate index) = (n / n_before) / (N / N_before), "before" the same number
  of months ending at the origin: above 1 when the chosen area took a larger share than before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from diogel.analysis.forecast import ForecastData, Method

__all__ = [
    "COVERAGES",
    "area_classes",
    "Choice",
    "choose",
    "coverage_metrics",
    "evaluate",
    "rolling_origins",
    "summarise",
]

COVERAGES = (0.01, 0.05, 0.10)
BASELINE = "naive_last_12"


def _take(density: np.ndarray, area: np.ndarray, fraction: float, order_key: np.ndarray) -> np.ndarray:
    """Share (0..1) of each unit taken when the densest units cover ``fraction`` of the area."""
    order = np.lexsort((order_key, -density))  # density descending, ties by unit code
    target = fraction * area.sum()
    before = np.concatenate([[0.0], np.cumsum(area[order])[:-1]])
    share_sorted = np.clip((target - before) / np.where(area[order] > 0, area[order], 1.0), 0.0, 1.0)
    share = np.zeros(len(area))
    share[order] = share_sorted
    return share


def coverage_metrics(
    score: pd.Series,
    area_km2: pd.Series,
    actual: pd.Series,
    before: pd.Series,
    fraction: float,
) -> dict[str, float]:
    """Hit rate, PAI, PEI and RRI of one forecast at one share of the area.

    Parameters
    ----------
    score : forecast per unit (any scale; ranked as score / area_km2).
    area_km2 : unit areas.
    actual : records per unit in the horizon.
    before : records per unit in the same number of months ending at the origin.
    fraction : share of the total area to take (0.05 = 5%).

    Returns
    -------
    dict with ``hit_rate``, ``pai``, ``pei``, ``rri``, ``n`` (records in the taken area), ``N``,
    ``n_best`` (records in the best area of the same size), ``area_share`` (a / A) and ``units``
    (units taken, the partial one counted in proportion). Ratios with a zero denominator are NaN.
    """
    idx = score.index
    area = area_km2.reindex(idx).to_numpy(float)
    act = actual.reindex(idx, fill_value=0.0).to_numpy(float)
    bef = before.reindex(idx, fill_value=0.0).to_numpy(float)
    codes = np.asarray([str(u) for u in idx])
    share = _take(score.to_numpy(float) / area, area, fraction, codes)
    best = _take(act / area, area, fraction, codes)
    n, total, n_best = float(share @ act), float(act.sum()), float(best @ act)
    a_share = float(share @ area / area.sum())
    n_before, total_before = float(share @ bef), float(bef.sum())
    hit = n / total if total > 0 else np.nan
    pai = hit / a_share if a_share > 0 else np.nan
    pei = n / n_best if n_best > 0 else np.nan
    rri = (
        (n / n_before) / (total / total_before) if n_before > 0 and total > 0 and total_before > 0 else np.nan
    )
    return {"hit_rate": hit, "pai": pai, "pei": pei, "rri": rri, "n": n, "N": total, "n_best": n_best,
            "area_share": a_share, "units": float(share.sum())}  # fmt: skip


def rolling_origins(
    months: Sequence[pd.Timestamp],
    last_origin: pd.Timestamp,
    horizon: int,
    n_origins: int,
    step: int | None = None,
) -> list[pd.Timestamp]:
    """Origins for a rolling-origin evaluation whose horizons end by ``last_origin + horizon``.

    The latest origin is ``last_origin``; earlier ones go back ``step`` months at a time (default
    the horizon, so the test windows do not overlap and the origins' scores are closer to
    independent for the paired test). Origins are kept only when the months loaded include the 12
    before them and their whole horizon.
    """
    step = step or horizon
    have = set(pd.DatetimeIndex(months))
    out = []
    o = pd.Timestamp(last_origin)
    while len(out) < n_origins:
        history = pd.date_range(o - pd.DateOffset(months=11), o, freq="MS")
        future = pd.date_range(o + pd.DateOffset(months=1), periods=horizon, freq="MS")
        if not set(history) <= have:
            break
        if set(future) <= have:
            out.append(o)
        o = o - pd.DateOffset(months=step)
    return sorted(out)


def evaluate(
    data: ForecastData,
    methods: Mapping[str, Method],
    origins: Sequence[pd.Timestamp],
    horizon: int,
    coverages: Sequence[float] = COVERAGES,
) -> pd.DataFrame:
    """Score every method at every origin and coverage; one row per (method, origin, coverage).

    Each method gets ``data.until(origin)`` (nothing after the origin); the truth is the records of
    origin+1..origin+horizon in the full ``data``.
    """
    rows = []
    for origin in origins:
        origin = pd.Timestamp(origin)
        seen = data.until(origin)
        actual = data.window(origin + pd.DateOffset(months=1), horizon)
        before = data.window(origin - pd.DateOffset(months=horizon - 1), horizon)
        area = data.units.set_index(data.counts.index)["area_km2"]
        for name, method in methods.items():
            score = method(seen, origin, horizon).reindex(data.counts.index)
            for fraction in coverages:
                m = coverage_metrics(score, area, actual, before, fraction)
                rows.append({"method": name, "origin": origin, "horizon": horizon, "coverage": fraction, **m})
    return pd.DataFrame(rows)


def summarise(scores: pd.DataFrame, baseline: str = BASELINE) -> pd.DataFrame:
    """Mean and spread over origins per method and coverage, with the paired comparison to ``baseline``.

    Columns: for each of hit_rate, pai, pei, rri its ``_mean``, ``_sd`` (sample, ddof 1), ``_min``
    and ``_max``; ``origins``; ``pai_ratio`` (mean PAI / the baseline's mean PAI); ``pai_better``
    (origins where the method's PAI beats the baseline's); ``wilcoxon_p`` (one-sided Wilcoxon
    signed-rank test that the method's PAI exceeds the baseline's, paired by origin, exact for
    small n, scipy ``wilcoxon(..., alternative="greater")``; NaN for the baseline itself or when
    every difference is 0) and ``ttest_p`` (the same as a one-sided paired t-test).
    """
    rows = []
    base = scores[scores["method"] == baseline].set_index(["coverage", "origin"])["pai"]
    for (method, coverage), g in scores.groupby(["method", "coverage"], sort=False):
        row: dict[str, object] = {"method": method, "coverage": coverage, "origins": len(g)}
        for m in ("hit_rate", "pai", "pei", "rri"):
            v = g[m].astype(float)
            row |= {f"{m}_mean": v.mean(), f"{m}_sd": v.std(ddof=1) if len(v) > 1 else np.nan,
                    f"{m}_min": v.min(), f"{m}_max": v.max()}  # fmt: skip
        b = base.loc[coverage].reindex(g["origin"]).to_numpy(float) if coverage in base.index else None
        p_w = p_t = np.nan
        ratio = better = np.nan
        if b is not None:
            mine = g["pai"].to_numpy(float)
            ok = np.isfinite(mine) & np.isfinite(b)
            diff = mine[ok] - b[ok]
            ratio = float(np.nanmean(mine) / np.nanmean(b)) if np.nanmean(b) > 0 else np.nan
            better = int((diff > 0).sum())
            if method != baseline and len(diff) >= 2 and np.any(diff != 0):
                p_w = float(stats.wilcoxon(diff, alternative="greater").pvalue)
                if np.std(diff) > 1e-9 * max(1.0, float(np.abs(diff).max())):
                    p_t = float(stats.ttest_1samp(diff, 0.0, alternative="greater").pvalue)
        rows.append(row | {"pai_ratio": ratio, "pai_better": better, "wilcoxon_p": p_w, "ttest_p": p_t})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Choice:
    """The method a forecast uses and why."""

    method: str
    reason: str
    beats_naive: bool


def choose(
    summary: pd.DataFrame, coverage: float = 0.05, alpha: float = 0.05, baseline: str = BASELINE
) -> Choice:
    """The method with the highest mean PAI at ``coverage`` among those that beat the naive map.

    A method beats the naive map when its mean PAI over the origins is higher and the one-sided
    paired Wilcoxon signed-rank p-value is at most ``alpha`` (with 6 origins: better at 5 or 6 of
    them, the worse one(s) by little). Otherwise the naive map is used, and the reason says so.
    """
    s = summary[np.isclose(summary["coverage"], coverage)]
    base = s[s["method"] == baseline]
    if base.empty:
        raise ValueError(f"the summary has no {baseline} at coverage {coverage}")
    cand = s[(s["method"] != baseline) & (s["pai_ratio"] > 1) & (s["wilcoxon_p"] <= alpha)]
    pct = f"{coverage:.0%}"
    if cand.empty:
        best = s[s["method"] != baseline].sort_values("pai_mean", ascending=False)
        if best.empty:
            return Choice(baseline, "only the naive map was evaluated", False)
        b = best.iloc[0]
        return Choice(
            baseline,
            f"no method beat the naive map at {pct} of the area (best: {b['method']}, mean PAI {b['pai_mean']:.2f} "
            f"against {base['pai_mean'].iloc[0]:.2f}, better at {int(b['pai_better'])} of {int(b['origins'])} origins, "
            f"one-sided Wilcoxon p = {b['wilcoxon_p']:.3f}), so the naive map is used",
            False,
        )
    b = cand.sort_values("pai_mean", ascending=False).iloc[0]
    return Choice(
        str(b["method"]),
        f"{b['method']} beat the naive map at {pct} of the area: mean PAI {b['pai_mean']:.2f} against "
        f"{base['pai_mean'].iloc[0]:.2f} ({b['pai_ratio'] - 1:+.0%}), better at {int(b['pai_better'])} of "
        f"{int(b['origins'])} origins, one-sided Wilcoxon p = {b['wilcoxon_p']:.3f}",
        True,
    )


def class_names(coverages: Sequence[float] = COVERAGES) -> list[str]:
    """The labels :func:`area_classes` gives, darkest first: one per coverage, smallest first, then "rest"."""
    return [f"top {fraction:.0%} of area" for fraction in sorted(coverages)] + ["rest"]


def area_classes(score: pd.Series, area_km2: pd.Series, coverages: Sequence[float] = COVERAGES) -> pd.Series:
    """Label each unit with the smallest share of the area whose top units (by score / km2) it is in.

    "top 1% of area", "top 5% of area", "top 10% of area" or "rest"; a unit only partly inside a
    share (the last one taken) is labelled with it.
    """
    area = area_km2.reindex(score.index).to_numpy(float)
    codes = np.asarray([str(u) for u in score.index])
    label = pd.Series("rest", index=score.index, dtype=object)
    for fraction in sorted(coverages, reverse=True):
        taken = _take(score.to_numpy(float) / area, area, fraction, codes) > 0
        label[taken] = f"top {fraction:.0%} of area"
    return label
