"""Hot spots: contiguity weights, Getis-Ord Gi*, local Moran's I for rates, FDR control.

Gi* is computed with esda on *binary* contiguity weights with the area itself included (star).
esda's default row-standardised transform ("R") gives different, smaller z-scores than the
Getis-Ord formula analysts and ArcGIS use, so this module always asks for transform "B";
:func:`gi_star_textbook` is the formula in plain numpy, used to check esda.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal.weights import Queen, Rook, W
from scipy import stats

__all__ = [
    "benjamini_hochberg",
    "contiguity_weights",
    "gi_star",
    "gi_star_textbook",
    "local_moran_rate",
    "two_sided_pseudo_p",
]

_QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}


def contiguity_weights(
    gdf: gpd.GeoDataFrame,
    id_col: str = "lsoa_code",
    rule: str = "queen",
    islands: str = "nearest",
) -> W:
    """Binary contiguity weights between polygons.

    Queen: areas sharing at least one boundary point are neighbours. Rook: areas sharing a
    boundary segment.

    Islands (areas with no contiguous neighbour, e.g. an offshore island, or a polygon separated
    by boundary generalisation) would make local statistics meaningless for that area. With
    ``islands="nearest"`` (default) each island is joined, symmetrically, to the area whose
    centroid is nearest its own centroid (distances measured in the UTM zone estimated from the
    data when the CRS is geographic). ``"keep"`` leaves islands alone; ``"raise"`` refuses.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons, one row per area.
    id_col : str, default "lsoa_code"
        Unique area identifier; becomes the ids of the weights, in the order of ``gdf``.
    rule : {"queen", "rook"}, default "queen"
    islands : {"nearest", "keep", "raise"}, default "nearest"

    Returns
    -------
    libpysal.weights.W
        Binary weights (transform "B"), ``id_order`` = ``gdf[id_col]``.
    """
    if rule not in ("queen", "rook"):
        raise ValueError(f"rule must be 'queen' or 'rook', got {rule!r}")
    if islands not in ("nearest", "keep", "raise"):
        raise ValueError(f"islands must be 'nearest', 'keep' or 'raise', got {islands!r}")
    if id_col not in gdf.columns:
        raise ValueError(f"gdf has no column {id_col!r}")
    ids = gdf[id_col].tolist()
    if len(set(ids)) != len(ids):
        raise ValueError(f"{id_col} has duplicate values")
    builder = Queen if rule == "queen" else Rook
    w0 = builder.from_dataframe(gdf, ids=id_col, use_index=False, silence_warnings=True)
    neighbours = {i: list(w0.neighbors[i]) for i in ids}
    lonely = [i for i in ids if not neighbours[i]]
    if lonely and islands == "raise":
        raise ValueError(f"{len(lonely)} area(s) have no contiguous neighbour: {lonely[:5]}")
    if lonely and islands == "nearest" and len(ids) > 1:
        geo = gdf.to_crs(gdf.estimate_utm_crs()) if gdf.crs is not None and gdf.crs.is_geographic else gdf
        cent = np.column_stack([geo.geometry.centroid.x, geo.geometry.centroid.y])
        pos = {a: k for k, a in enumerate(ids)}
        for a in lonely:
            d = np.hypot(*(cent - cent[pos[a]]).T)
            d[pos[a]] = np.inf
            b = ids[int(np.argmin(d))]
            if b not in neighbours[a]:
                neighbours[a].append(b)
                neighbours[b].append(a)
    weights = {i: [1.0] * len(neighbours[i]) for i in ids}
    w = W(neighbours, weights, id_order=ids, silence_warnings=True)
    w.transform = "B"
    return w


def benjamini_hochberg(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg false discovery rate adjusted p-values (q-values).

    With the m non-missing p-values sorted ascending, p_(1) <= ... <= p_(m):
    q_(i) = min over j >= i of (m / j) p_(j), capped at 1. Rejecting every hypothesis with
    q <= alpha controls the FDR at alpha. Missing p-values stay missing and do not count in m.
    """
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="mergesort")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adj = np.empty(m)
    adj[order] = np.minimum(ranked, 1.0)
    q[ok] = adj
    return q


def _percentile_by_row(ordered: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Row i's ``q[i]``-th percentile of the row-sorted ``ordered``, exactly as ``np.percentile``.

    numpy's default ("linear") method: v = (R - 1) q / 100, j = floor(v), g = v - j, and the value
    a + (b - a) g, written b - (b - a)(1 - g) when g >= 0.5 (numpy's own rounding), with a, b the
    j-th and (j + 1)-th order statistics.
    """
    n, r = ordered.shape
    v = (r - 1) * (np.asarray(q, dtype=float) / 100)
    j = np.clip(np.floor(v), 0, r - 1).astype(np.int64)
    gamma = v - j
    rows = np.arange(n)
    a, b = ordered[rows, j], ordered[rows, np.minimum(j + 1, r - 1)]
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


def two_sided_pseudo_p(observed: np.ndarray, simulated: np.ndarray) -> np.ndarray:
    """Two-sided conditional-permutation pseudo p-values, one per area.

    The same value as ``esda.significance.calculate_significance(observed, simulated,
    alternative="two-sided")``, computed for all areas at once (esda loops over the areas in Python
    unless numba is installed, which made it cost as much as the permutations themselves). For area
    i with R simulated statistics s_i1 .. s_iR and observed statistic o_i:

        P_i = 100 * #{r : s_ir <= o_i} / R,   p_low = min(P_i, 100 - P_i)
        L_i = percentile(s_i, p_low),  U_i = percentile(s_i, 100 - p_low)   (numpy, linear interpolation)
        p_i = (#{r : s_ir <= L_i} + #{r : s_ir >= U_i} + 1) / (R + 1)

    Parameters
    ----------
    observed : array of n statistics
    simulated : (n, R) array of the statistics under conditional permutation

    Returns
    -------
    ndarray of n pseudo p-values
        At least 3 / (R + 1) (a statistic beyond every simulation still counts the smallest and the
        largest simulated value). As in esda, heavy ties among the simulated values can put values
        on both sides of the interval at once and the result above 1.
    """
    sims = np.atleast_2d(np.asarray(simulated, dtype=float))
    n, r = sims.shape
    obs = np.asarray(observed, dtype=float).reshape(n, 1)
    percentile = (sims <= obs).mean(axis=1) * 100
    p_low = np.minimum(percentile, 100 - percentile)
    ordered = np.sort(sims, axis=1)
    lows, highs = _percentile_by_row(ordered, p_low), _percentile_by_row(ordered, 100 - p_low)
    outside = (sims <= lows[:, None]).sum(axis=1) + (sims >= highs[:, None]).sum(axis=1)
    return (outside + 1) / (r + 1)


def _aligned(values: pd.Series | np.ndarray | Sequence[float], w: W, name: str) -> np.ndarray:
    if isinstance(values, pd.Series):
        missing = [i for i in w.id_order if i not in values.index]
        if missing:
            raise ValueError(
                f"{name} has no value for {len(missing)} area(s) in the weights, e.g. {missing[:3]}"
            )
        arr = values.reindex(w.id_order).to_numpy(dtype=float)
    else:
        arr = np.asarray(values, dtype=float).ravel()
        if len(arr) != w.n:
            raise ValueError(f"{name} has {len(arr)} values but the weights have {w.n} areas")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains missing values")
    return arr


def _confidence_label(alpha: float) -> str:
    return f"{(1 - alpha) * 100:g}%"


def gi_star(
    values: pd.Series | np.ndarray,
    w: W,
    permutations: int = 999,
    seed: int = 12345,
    alpha_levels: Sequence[float] = (0.01, 0.05, 0.10),
    fdr: bool = True,
    p_source: str = "analytic",
) -> pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots.

    Runs ``esda.G_Local(values, w, transform="B", star=True, permutations, seed)``: binary
    weights with each area counted as its own neighbour (self-weight 1).

    * ``z``: analytic Gi* z-score (equal to :func:`gi_star_textbook`).
    * ``p``: two-sided normal p-value, 2 * (1 - Phi(|z|)).
    * ``p_sim``: two-sided conditional-permutation pseudo p-value from esda's simulations
      (esda 2.9's G_Local does not take ``alternative``; its own ``p_sim`` is one-sided, so the
      two-sided value is computed from the retained simulations as
      ``esda.significance.calculate_significance(..., alternative="two-sided")`` does, by
      :func:`two_sided_pseudo_p`).
    * ``q``: Benjamini-Hochberg adjustment of the p-value chosen by ``p_source``.
    * ``bin``: "Hot spot 99%" / "Hot spot 95%" / "Hot spot 90%" when z > 0 and the test p-value
      (``q`` if ``fdr`` else the unadjusted one) is <= 0.01 / 0.05 / 0.10; "Cold spot ..." when
      z < 0; otherwise "Not significant". The strictest level met is used.

    Parameters
    ----------
    values : Series indexed by area id, or array in ``w.id_order``
        E.g. counts or rates per area.
    w : libpysal W
        Binary contiguity weights, e.g. from :func:`contiguity_weights`; not modified.
    permutations : int, default 999
        0 skips the simulation (``p_sim`` is NaN); ``p_source`` must then be "analytic".
    seed : int, default 12345
    alpha_levels : sequence of float, default (0.01, 0.05, 0.10)
    fdr : bool, default True
    p_source : {"analytic", "permutation"}, default "analytic"

    Returns
    -------
    DataFrame indexed by area id
        ``value``, ``z``, ``p``, ``p_sim``, ``q``, ``bin``.
    """
    if p_source not in ("analytic", "permutation"):
        raise ValueError(f"p_source must be 'analytic' or 'permutation', got {p_source!r}")
    if p_source == "permutation" and not permutations:
        raise ValueError("p_source='permutation' needs permutations > 0")
    y = _aligned(values, w, "values")
    if np.allclose(y, y[0]):
        raise ValueError("values are all equal: Gi* is undefined (zero variance)")
    # With no self-weights, G_Local(star=True) fills the diagonal of a new W and leaves the caller's
    # alone; otherwise it would set the transform of the caller's W, so that one gets a copy.
    wc = copy.deepcopy(w) if w.sparse.diagonal().any() else w
    with warnings.catch_warnings():
        # esda warns that its default permutation alternative will change; we compute
        # the two-sided pseudo p-value ourselves from the simulations below.
        warnings.filterwarnings("ignore", message="The alternative hypothesis", category=DeprecationWarning)
        g = esda.G_Local(
            y,
            wc,
            transform="B",
            star=True,
            permutations=permutations,
            seed=seed,
            n_jobs=1,
            keep_simulations=True,
        )
    z = np.asarray(g.Zs, dtype=float)
    p = 2.0 * stats.norm.sf(np.abs(z))
    p_sim = two_sided_pseudo_p(g.Gs, g.rGs) if permutations else np.full(len(y), np.nan)
    base = p if p_source == "analytic" else p_sim
    q = benjamini_hochberg(base)
    test = q if fdr else base
    labels = np.full(len(y), "Not significant", dtype=object)
    for alpha in sorted(alpha_levels, reverse=True):
        sig = test <= alpha
        labels[sig & (z > 0)] = f"Hot spot {_confidence_label(alpha)}"
        labels[sig & (z < 0)] = f"Cold spot {_confidence_label(alpha)}"
    return pd.DataFrame(
        {"value": y, "z": z, "p": p, "p_sim": p_sim, "q": q, "bin": labels},
        index=pd.Index(w.id_order, name="area"),
    )


def gi_star_textbook(values: np.ndarray | Sequence[float], weights: np.ndarray) -> np.ndarray:
    """Getis-Ord Gi* z-scores by the published formula, in plain numpy.

    With the area itself included (w_ii = 1, set here whatever the diagonal of ``weights``),
    n areas, x-bar the mean and S the population standard deviation (divisor n):

        z_i = (sum_j w_ij x_j - x-bar W_i) / (S sqrt((n S1_i - W_i^2) / (n - 1)))
        W_i = sum_j w_ij,  S1_i = sum_j w_ij^2

    Parameters
    ----------
    values : array of n numbers
    weights : (n, n) array
        Binary (or general) neighbour weights; the diagonal is overwritten with 1.

    Returns
    -------
    ndarray of n z-scores
    """
    x = np.asarray(values, dtype=float)
    wm = np.array(weights, dtype=float, copy=True)
    n = len(x)
    if wm.shape != (n, n):
        raise ValueError(f"weights must be {n} x {n}, got {wm.shape}")
    np.fill_diagonal(wm, 1.0)
    xbar = x.mean()
    s = math.sqrt((x**2).mean() - xbar**2)
    wi = wm.sum(axis=1)
    s1 = (wm**2).sum(axis=1)
    return (wm @ x - xbar * wi) / (s * np.sqrt((n * s1 - wi**2) / (n - 1)))


def local_moran_rate(
    events: pd.Series | np.ndarray,
    population: pd.Series | np.ndarray,
    w: W,
    permutations: int = 999,
    seed: int = 12345,
    alpha: float = 0.05,
    fdr: bool = False,
    adjusted: bool = True,
) -> pd.DataFrame:
    """Local Moran's I for rates (LISA clusters of high and low rates).

    Runs ``esda.Moran_Local_Rate(events, population, w, adjusted, transformation="r")``: with
    ``adjusted=True`` the rates are first standardised by the Assuncao-Reis Empirical Bayes
    method, so areas with small populations do not dominate. Weights are row-standardised for
    the spatial lag (the usual LISA choice); the caller's ``w`` is not modified.

    Quadrants compare the area's (standardised) rate with the mean of its neighbours':
    HH (high among high), LL (low among low), HL (high among low), LH (low among high).
    Significance uses the two-sided conditional-permutation pseudo p-value (``p_sim``), or its
    Benjamini-Hochberg adjustment (``q``) when ``fdr`` is true: significant when <= alpha.

    Parameters
    ----------
    events, population : Series indexed by area id, or arrays in ``w.id_order``
    w : libpysal W
    permutations : int, default 999
    seed : int, default 12345
    alpha : float, default 0.05
    fdr : bool, default False
    adjusted : bool, default True

    Returns
    -------
    DataFrame indexed by area id
        ``events``, ``population``, ``rate_per_1000``, ``std_rate`` (value analysed), ``I``,
        ``quadrant``, ``p_sim``, ``q``, ``significant``, ``cluster`` (quadrant or
        "Not significant").
    """
    if permutations < 1:
        raise ValueError("local_moran_rate needs permutations >= 1 for its pseudo p-values")
    e = _aligned(events, w, "events")
    b = _aligned(population, w, "population")
    if (b <= 0).any():
        raise ValueError("every population must be positive")
    wc = copy.deepcopy(w)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The alternative hypothesis", category=DeprecationWarning)
        lm = esda.Moran_Local_Rate(
            e,
            b,
            wc,
            adjusted=adjusted,
            transformation="r",
            permutations=permutations,
            seed=seed,
            n_jobs=1,
            keep_simulations=True,
        )
    p_sim = two_sided_pseudo_p(lm.Is, lm.rlisas)
    q = benjamini_hochberg(p_sim)
    sig = (q if fdr else p_sim) <= alpha
    quadrant = np.array([_QUADRANTS[int(k)] for k in lm.q], dtype=object)
    return pd.DataFrame(
        {
            "events": e,
            "population": b,
            "rate_per_1000": 1000.0 * e / b,
            "std_rate": lm.y,
            "I": lm.Is,
            "quadrant": quadrant,
            "p_sim": p_sim,
            "q": q,
            "significant": sig,
            "cluster": np.where(sig, quadrant, "Not significant"),
        },
        index=pd.Index(w.id_order, name="area"),
    )
