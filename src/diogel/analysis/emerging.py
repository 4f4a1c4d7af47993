"""Emerging hot spots: the Mann-Kendall trend test and ArcGIS-style space-time pattern classes.

:func:`emerging_hot_spots` follows ESRI's Emerging Hot Spot Analysis ("How Emerging Hot Spot
Analysis works", ArcGIS Pro documentation): a space-time Gi* on the area x month cube
(:func:`space_time_gi_star`), FDR correction over the cube's bins, the Mann-Kendall test of each
area's z-series and ESRI's 17 classes. :func:`emerging_hotspot_classes` takes the per-bin z-scores
and p-values as an input frame so that the steps stay independent and each can be checked alone.

Every function is pure: frames or sequences in, frames or dataclasses out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "PATTERNS",
    "MannKendall",
    "classify_series",
    "emerging_hot_spots",
    "emerging_hotspot_classes",
    "mann_kendall",
    "space_time_gi_star",
]


@dataclass(frozen=True)
class MannKendall:
    """Result of a Mann-Kendall trend test.

    Attributes
    ----------
    n : number of (non-missing) observations used.
    S : sum over all pairs i < j of sign(x_j - x_i).
    var_S : variance of S under no trend, with the correction for tied values.
    Z : continuity-corrected standard normal score.
    p : two-sided p-value, 2 * (1 - Phi(|Z|)).
    tau : Kendall's tau-b between time and value (time has no ties, so only value ties count).
    trend : "increasing", "decreasing" or "no trend" at the chosen alpha.
    """

    n: int
    S: int
    var_S: float
    Z: float
    p: float
    tau: float
    trend: str


def mann_kendall(series: Sequence[float] | np.ndarray | pd.Series, alpha: float = 0.05) -> MannKendall:
    """Mann-Kendall test for a monotonic trend in a series ordered in time.

    Formulae (Kendall 1975; Hipel & McLeod 1994), with x_1..x_n the series in time order:

    - S = sum_{i<j} sign(x_j - x_i)
    - var(S) = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18, where t_g is the size of the g-th
      group of tied values
    - Z = (S - 1)/sqrt(var S) if S > 0; 0 if S = 0; (S + 1)/sqrt(var S) if S < 0
    - p = 2 * (1 - Phi(|Z|)) (two-sided)
    - tau = S / sqrt(n0 * (n0 - n1)) with n0 = n(n-1)/2 and n1 = sum_g t_g(t_g-1)/2 (tau-b; time
      is never tied)
    - trend = "increasing" if p < alpha and S > 0, "decreasing" if p < alpha and S < 0, otherwise
      "no trend".

    Missing values (NaN) are dropped before the test; the remaining values keep their order.
    A series with fewer than two values, or with every value tied, has S = 0, Z = 0, p = 1.

    Parameters
    ----------
    series : values in time order.
    alpha : significance level for ``trend`` (default 0.05).
    """
    x = np.asarray(series, dtype=float)
    x = x[~np.isnan(x)]
    n = int(x.size)
    if n < 2:
        return MannKendall(n=n, S=0, var_S=0.0, Z=0.0, p=1.0, tau=float("nan"), trend="no trend")

    # Pairwise sign matrix: O(n^2) memory is fine for monthly series (n in the tens or hundreds).
    diff = x[np.newaxis, :] - x[:, np.newaxis]
    s = int(np.sign(diff[np.triu_indices(n, k=1)]).sum())

    _, tie_sizes = np.unique(x, return_counts=True)
    tie_sizes = tie_sizes[tie_sizes > 1].astype(float)
    var_s = (
        n * (n - 1) * (2 * n + 5) - float(np.sum(tie_sizes * (tie_sizes - 1) * (2 * tie_sizes + 5)))
    ) / 18.0

    if var_s <= 0:
        z = 0.0
    elif s > 0:
        z = (s - 1) / math.sqrt(var_s)
    elif s < 0:
        z = (s + 1) / math.sqrt(var_s)
    else:
        z = 0.0
    p = float(2.0 * stats.norm.sf(abs(z)))

    n0 = n * (n - 1) / 2.0
    n1 = float(np.sum(tie_sizes * (tie_sizes - 1) / 2.0))
    denom = math.sqrt(n0 * (n0 - n1))
    tau = s / denom if denom > 0 else float("nan")

    if p < alpha and s > 0:
        trend = "increasing"
    elif p < alpha and s < 0:
        trend = "decreasing"
    else:
        trend = "no trend"
    return MannKendall(n=n, S=s, var_S=float(var_s), Z=float(z), p=p, tau=float(tau), trend=trend)


PATTERNS: tuple[str, ...] = (
    "New hot spot",
    "Consecutive hot spot",
    "Intensifying hot spot",
    "Persistent hot spot",
    "Diminishing hot spot",
    "Sporadic hot spot",
    "Oscillating hot spot",
    "Historical hot spot",
    "New cold spot",
    "Consecutive cold spot",
    "Intensifying cold spot",
    "Persistent cold spot",
    "Diminishing cold spot",
    "Sporadic cold spot",
    "Oscillating cold spot",
    "Historical cold spot",
    "No pattern detected",
)


def _classify_side(
    on: np.ndarray, opposite: np.ndarray, trend: str, kind: str, share: float, intensifying_trend: str
) -> str | None:
    """Classify one side (hot or cold) of a location; ``on`` flags significant steps of that kind."""
    n = on.size
    n_on = int(on.sum())
    mostly = n_on >= share * n - 1e-9
    if not on[-1]:
        return f"Historical {kind} spot" if mostly else None

    # Length of the uninterrupted run that ends at the final step.
    run = int(np.argmin(on[::-1])) if not on.all() else n
    before_run = on[: n - run]
    if run == 1 and not before_run.any():
        return f"New {kind} spot"
    if run >= 2 and not before_run.any() and not mostly:
        return f"Consecutive {kind} spot"
    if mostly:
        if trend == intensifying_trend:
            return f"Intensifying {kind} spot"
        if trend == "no trend":
            return f"Persistent {kind} spot"
        return f"Diminishing {kind} spot"
    if opposite.any():
        return f"Oscillating {kind} spot"
    return f"Sporadic {kind} spot"


def classify_series(z: Sequence[float], p: Sequence[float], alpha: float = 0.05, share: float = 0.9) -> str:
    """Classify one location's Gi* series (in time order); see :func:`emerging_hotspot_classes`."""
    z_arr = np.asarray(z, dtype=float)
    p_arr = np.asarray(p, dtype=float)
    if z_arr.shape != p_arr.shape or z_arr.size == 0:
        raise ValueError("z and p must be non-empty sequences of the same length")
    if np.isnan(z_arr).any() or np.isnan(p_arr).any():
        raise ValueError("z and p must not contain missing values")
    hot = (z_arr > 0) & (p_arr < alpha)
    cold = (z_arr < 0) & (p_arr < alpha)
    trend = mann_kendall(z_arr, alpha=alpha).trend
    if hot[-1] or (not cold[-1] and hot.sum() >= share * hot.size - 1e-9):
        label = _classify_side(hot, cold, trend, "hot", share, intensifying_trend="increasing")
    elif cold[-1] or cold.sum() >= share * cold.size - 1e-9:
        label = _classify_side(cold, hot, trend, "cold", share, intensifying_trend="decreasing")
    else:
        label = None
    return label or "No pattern detected"


def _check_complete_panel(gi: pd.DataFrame) -> None:
    """Raise unless ``gi`` has lsoa_code, month, z and p, no gaps in z or p and one row for every LSOA
    and month."""
    required = ["lsoa_code", "month", "z", "p"]
    missing = [c for c in required if c not in gi.columns]
    if missing:
        raise ValueError(f"gi is missing column(s) {missing}; it has {list(gi.columns)}")
    if gi.empty:
        raise ValueError("gi has no rows")
    if gi.duplicated(["lsoa_code", "month"]).any():
        dup = gi.loc[gi.duplicated(["lsoa_code", "month"]), ["lsoa_code", "month"]].iloc[0]
        raise ValueError(f"gi has more than one row for lsoa_code {dup['lsoa_code']} month {dup['month']}")
    if gi[["z", "p"]].isna().any().any():
        raise ValueError("gi has missing z or p values")

    months = np.sort(gi["month"].unique())
    n_months = months.size
    per_area = gi.groupby("lsoa_code")["month"].nunique()
    incomplete = per_area[per_area != n_months]
    if not incomplete.empty:
        raise ValueError(
            f"gi is not a complete panel: {len(incomplete)} LSOA(s) lack some of the {n_months} months "
            f"(first: {incomplete.index[0]} has {int(incomplete.iloc[0])})"
        )


def emerging_hotspot_classes(gi: pd.DataFrame, alpha: float = 0.05, share: float = 0.9) -> pd.DataFrame:
    """Classify each LSOA's monthly Gi* series into ArcGIS Emerging Hot Spot Analysis patterns.

    Input: one row per (``lsoa_code``, ``month``) with the Gi* ``z`` score and its ``p`` value.
    Every LSOA must have a row for every month in the frame (a complete panel); a missing month is
    an error rather than being treated as "not significant".

    A step is **hot** when z > 0 and p < alpha, **cold** when z < 0 and p < alpha. "At least 90%"
    means n_hot >= share * n with share = 0.9 (n = number of months). The trend is the
    Mann-Kendall test (:func:`mann_kendall`) of the z-score series at the same alpha. Definitions
    (ESRI, "How Emerging Hot Spot Analysis works"), hot versions; the cold versions swap hot and
    cold, and "intensifying" for a cold spot means a significant *decreasing* z trend:

    - **New hot spot**: hot in the final month and never hot before it.
    - **Consecutive hot spot**: a single uninterrupted run of at least two hot months ending in the
      final month, never hot before that run, and fewer than 90% of months hot.
    - **Intensifying hot spot**: hot in at least 90% of months including the final month, with a
      significant increasing Mann-Kendall trend in z.
    - **Persistent hot spot**: hot in at least 90% of months including the final month, with no
      significant trend in z.
    - **Diminishing hot spot**: hot in at least 90% of months including the final month, with a
      significant decreasing trend in z.
    - **Sporadic hot spot**: hot in the final month, fewer than 90% of months hot, hot at some month
      before the final run (on-again, off-again, so not new or consecutive), never significantly
      cold.
    - **Oscillating hot spot**: as sporadic, but significantly cold in at least one earlier month.
    - **Historical hot spot**: not hot in the final month, but hot in at least 90% of all months
      (ESRI counts all months; requiring 90% of the earlier months only differs by rounding).
    - **No pattern detected**: none of the above.

    Precedence where ESRI's wording overlaps: new, then consecutive, then the three "at least 90%"
    classes, then oscillating/sporadic. A location that is cold earlier and hot only in the final
    month is therefore "New hot spot", not "Oscillating hot spot". The persistent/intensifying/
    diminishing classes need the final month to be hot; if it is not, the location is historical.
    The final month decides the side: a location significantly cold in the final month gets a cold
    class even if it was hot in 90% of months (e.g. "New cold spot"), since that is its current state.
    ESRI recommends at least 10 time steps; fewer are accepted here but the classes are then coarse.

    Returns
    -------
    DataFrame, one row per LSOA (sorted by code): ``lsoa_code``, ``pattern``, ``n_months``,
    ``n_hot``, ``n_cold``, ``final_hot``, ``final_cold``, ``mk_S``, ``mk_Z``, ``mk_p``, ``mk_tau``,
    ``trend``.
    """
    _check_complete_panel(gi)
    rows = []
    ordered = gi.sort_values(["lsoa_code", "month"])
    for code, grp in ordered.groupby("lsoa_code", sort=True):
        z = grp["z"].to_numpy(dtype=float)
        p = grp["p"].to_numpy(dtype=float)
        hot = (z > 0) & (p < alpha)
        cold = (z < 0) & (p < alpha)
        mk = mann_kendall(z, alpha=alpha)
        rows.append(
            {
                "lsoa_code": code,
                "pattern": classify_series(z, p, alpha=alpha, share=share),
                "n_months": int(z.size),
                "n_hot": int(hot.sum()),
                "n_cold": int(cold.sum()),
                "final_hot": bool(hot[-1]),
                "final_cold": bool(cold[-1]),
                "mk_S": mk.S,
                "mk_Z": mk.Z,
                "mk_p": mk.p,
                "mk_tau": mk.tau,
                "trend": mk.trend,
            }
        )
    return pd.DataFrame(rows)


def space_time_gi_star(cube: pd.DataFrame, w, time_lag: int = 1) -> pd.DataFrame:  # noqa: ANN001
    """Space-time Getis-Ord Gi* of every bin of an area x month cube (ESRI's space-time Gi*).

    The neighbours of bin (i, t) are the bins (j, s) with j = i or j a contiguity neighbour of i
    (binary weights, the area itself included) and t - ``time_lag`` <= s <= t: the same and the
    previous ``time_lag`` months (ESRI's "neighborhood time step", default 1). Months before the first
    are absent, so the first months have fewer neighbours. The global window is the whole cube:
    with N = areas x months bins, x-bar their mean and S their standard deviation (divisor N),

        z_it = (sum_nb x - x-bar W_it) / (S sqrt((N W_it - W_it^2) / (N - 1)))

    where W_it is the number of neighbouring bins (binary weights, so S1 = W). p is the two-sided
    normal p-value.

    Parameters
    ----------
    cube : DataFrame, one row per area (index = area id, every id of ``w``), one column per month in
        time order, counts.
    w : libpysal W, contiguity between the areas (its weights are treated as binary).
    time_lag : int, default 1

    Returns
    -------
    DataFrame, one row per area and month: ``lsoa_code``, ``month``, ``count``, ``z``, ``p``.
    """
    if time_lag < 0:
        raise ValueError(f"time_lag must be >= 0, got {time_lag}")
    missing = [i for i in w.id_order if i not in cube.index]
    if missing:
        raise ValueError(f"cube has no row for {len(missing)} area(s) of the weights, e.g. {missing[:3]}")
    x = cube.reindex(w.id_order).to_numpy(dtype=float)
    if np.isnan(x).any():
        raise ValueError("cube contains missing values")
    n, t_len = x.shape
    adj = (w.sparse != 0).astype(float).tolil()
    adj.setdiag(1.0)
    adj = adj.tocsr()
    spatial = adj @ x  # area itself and its neighbours, month by month
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(spatial, axis=1)], axis=1)
    ts = np.arange(t_len)
    first = np.maximum(ts - time_lag, 0)
    window = csum[:, ts + 1] - csum[:, first]
    k_space = np.asarray(adj.sum(axis=1)).ravel()
    w_it = k_space[:, None] * (ts - first + 1)[None, :]
    big_n = x.size
    xbar = x.mean()
    s = float(np.sqrt((x**2).mean() - xbar**2))
    if s == 0:
        raise ValueError("every bin of the cube has the same value: Gi* is undefined")
    z = (window - xbar * w_it) / (s * np.sqrt((big_n * w_it - w_it**2) / (big_n - 1)))
    p = 2.0 * stats.norm.sf(np.abs(z))
    return pd.DataFrame(
        {
            "lsoa_code": np.repeat(np.asarray(w.id_order, dtype=object), t_len),
            "month": np.tile(np.asarray(cube.columns), n),
            "count": x.ravel(),
            "z": z.ravel(),
            "p": p.ravel(),
        }
    )


def space_time_permutation(
    cube: pd.DataFrame,
    w,
    time_lag: int = 1,
    permutations: int = 9999,
    seed: int = 12345,  # noqa: ANN001
) -> pd.DataFrame:
    """Conditional-permutation inference for the space-time Gi* of every bin of an area x month cube.

    The space-time Gi* of bin (i, t) sums area i's own window (months t - ``time_lag`` .. t) and its
    contiguity neighbours' windows (:func:`space_time_gi_star`). ESRI's normal p-values compare that sum
    with bins drawn from the whole cube, so an area busy in every month is a "hot spot" through its own
    bins alone, with no cluster around it (the calibration table measures this). Here area i keeps its
    own series, and its k_i neighbours' whole series are replaced by the series of k_i areas drawn
    without replacement from the other areas, ``permutations`` times (the draws of
    :func:`diogel.analysis.hotspots.conditional_permutation_ids`, as esda draws them; one set of draws
    for every area and month, so an area's months are judged against the same draws). The null is
    that the areas' series are placed on the map at random: an area's own level, the months' shared
    seasonality and the series' own autocorrelation are all kept.

    For bin (i, t) with observed neighbour sum o and simulated sums s_1 .. s_R:

    * ``p_sim`` = min(1, 2 (1 + min(#{s_r >= o}, #{s_r <= o})) / (R + 1)), the two-sided pseudo p-value
      (smallest value 2 / (R + 1));
    * ``z_sim`` = (o - mean(s)) / sd(s), the bin's standardised departure from its own null (0 when
      every draw gives the same sum);
    * ``p_z_sim`` = 2 (1 - Phi(|z_sim|)), the normal p-value of ``z_sim`` (esda's ``p_z_sim``, two-sided).
      Unlike ``p_sim`` it has no floor at 2 / (R + 1), which matters when Benjamini-Hochberg runs over
      thousands of bins; it is only as good as the normal shape of the permutation distribution, which
      holds for the Pearson residuals of :func:`pearson_residuals` (the calibration table checks it).

    Returns
    -------
    DataFrame, one row per area and month in the order of :func:`space_time_gi_star`: ``lsoa_code``,
    ``month``, ``z_sim``, ``p_sim``, ``p_z_sim``.
    """
    from diogel.analysis.hotspots import conditional_randomisation

    if permutations < 1:
        raise ValueError(f"permutations must be >= 1, got {permutations}")
    x = cube.reindex(w.id_order).to_numpy(dtype=float)
    if np.isnan(x).any():
        raise ValueError("cube contains missing values")
    n, t_len = x.shape
    csum = np.concatenate([np.zeros((n, 1)), np.cumsum(x, axis=1)], axis=1)
    ts = np.arange(t_len)
    own = csum[:, ts + 1] - csum[:, np.maximum(ts - time_lag, 0)]  # each area's own window sums
    adj = (w.sparse != 0).astype(float).tolil()
    adj.setdiag(0.0)
    adj = adj.tocsr()
    adj.eliminate_zeros()
    # conditional_randomisation reads only ``.sparse`` (binary here, as the Gi* sums are unweighted).
    binary = SimpleNamespace(sparse=adj)
    observed = adj @ own
    z_sim = np.zeros((n, t_len))
    p_sim = np.ones((n, t_len))
    for t in range(t_len):
        sims = conditional_randomisation(own[:, t], binary, permutations, seed)
        o = observed[:, [t]]
        extreme = np.minimum((sims >= o).sum(axis=1), (sims <= o).sum(axis=1))
        p_sim[:, t] = np.minimum(1.0, 2.0 * (1 + extreme) / (permutations + 1))
        sd = sims.std(axis=1)
        z_sim[:, t] = np.where(sd > 0, (o[:, 0] - sims.mean(axis=1)) / np.where(sd > 0, sd, 1.0), 0.0)
    return pd.DataFrame(
        {
            "lsoa_code": np.repeat(np.asarray(w.id_order, dtype=object), t_len),
            "month": np.tile(np.asarray(cube.columns), n),
            "z_sim": z_sim.ravel(),
            "p_sim": p_sim.ravel(),
            "p_z_sim": 2.0 * stats.norm.sf(np.abs(z_sim.ravel())),
        }
    )


def pearson_residuals(cube: pd.DataFrame) -> pd.DataFrame:
    """Pearson residuals of an area x month cube from the model of area and month main effects.

    e_it = y_i. y_.t / y_.. (each area's own level times the month's share of all records) and
    r_it = (y_it - e_it) / sqrt(e_it), 0 where e_it = 0. A residual is high where an area has more
    records in a month than its own level and the month's overall level make expected, so a space-time
    Gi* of the residuals finds clusters of change (emerging and fading hot spots), not busy places.
    """
    y = cube.to_numpy(dtype=float)
    e = y.sum(axis=1, keepdims=True) * y.sum(axis=0, keepdims=True) / max(y.sum(), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(e > 0, (y - e) / np.sqrt(np.where(e > 0, e, 1.0)), 0.0)
    return pd.DataFrame(r, index=cube.index, columns=cube.columns)


def emerging_hot_spots(
    cube: pd.DataFrame,
    w,  # noqa: ANN001
    time_lag: int = 1,
    alpha: float = 0.05,
    share: float = 0.9,
    fdr: bool = True,
    permutations: int = 0,
    seed: int = 12345,
    residuals: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ESRI's Emerging Hot Spot Analysis on an area x month cube.

    1. :func:`space_time_gi_star` gives every bin a z-score and a two-sided p-value (ESRI's normal
       p-values). With ``permutations`` > 0, :func:`space_time_permutation` adds each bin's conditional-
       permutation z (``z_sim``) and pseudo p-value (``p_sim``), and those are the ones used below: the
       normal p-values class busy areas as hot spots through their own months alone (the calibration
       table: every null data set with the LSOAs at their real levels), the permutation ones only
       when the neighbours are high beyond the areas' own levels.
    2. With ``fdr`` (default, as ESRI), the p-values of all bins of the cube are adjusted together by
       Benjamini-Hochberg; a bin is hot (cold) when z > 0 (z < 0) and its q < ``alpha``.
    3. Each area's series of z-scores gets the Mann-Kendall trend test, and the area is classed by
       :func:`emerging_hotspot_classes` (ESRI's 16 hot and cold classes, or "No pattern detected").

    Returns
    -------
    (classes, bins) : the frame of :func:`emerging_hotspot_classes` and the bins (``lsoa_code``,
    ``month``, ``count``, ``z``, ``p``, with permutations ``z_sim`` and ``p_sim``, and ``q``).
    """
    from diogel.analysis.hotspots import benjamini_hochberg

    values = pearson_residuals(cube) if residuals else cube
    if residuals and not np.any(values.to_numpy()):
        # Every LSOA-month exactly as its own level and the month predict (e.g. a single month): no bin
        # departs from expectation, so nothing is hot or cold.
        flat = space_time_gi_star(cube, w, time_lag=time_lag) if cube.to_numpy().std() > 0 else None
        n_bins = len(w.id_order) * cube.shape[1]
        bins = pd.DataFrame(
            {
                "lsoa_code": np.repeat(np.asarray(w.id_order, dtype=object), cube.shape[1]),
                "month": np.tile(np.asarray(cube.columns), len(w.id_order)),
                "count": cube.reindex(w.id_order).to_numpy(dtype=float).ravel(),
                "z": np.zeros(n_bins) if flat is None else flat["z"].to_numpy(),
                "p": np.ones(n_bins) if flat is None else flat["p"].to_numpy(),
            }
        )
        bins["residual"], bins["q"] = 0.0, 1.0
        classes = emerging_hotspot_classes(bins[["lsoa_code", "month"]].assign(z=0.0, p=1.0), alpha, share)
        return classes, bins
    bins = space_time_gi_star(values, w, time_lag=time_lag)
    if residuals:
        bins["count"] = cube.reindex(w.id_order).to_numpy(dtype=float).ravel()
        bins["residual"] = values.reindex(w.id_order).to_numpy(dtype=float).ravel()
    z_col, p_col = "z", "p"
    if permutations:
        perm = space_time_permutation(values, w, time_lag=time_lag, permutations=permutations, seed=seed)
        for col in ("z_sim", "p_sim", "p_z_sim"):
            bins[col] = perm[col].to_numpy()
        z_col, p_col = "z_sim", "p_z_sim"
    bins["q"] = benjamini_hochberg(bins[p_col].to_numpy()) if fdr else bins[p_col]
    classes = emerging_hotspot_classes(
        bins[["lsoa_code", "month"]].assign(z=bins[z_col], p=bins["q"]), alpha=alpha, share=share
    )
    return classes, bins
