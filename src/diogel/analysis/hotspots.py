"""Hot spots: contiguity weights, Getis-Ord Gi*, local Moran's I for rates, FDR control.

Gi* is computed with esda on *binary* contiguity weights with the area itself included (star).
esda's default row-standardised transform ("R") gives different, smaller z-scores than the
Getis-Ord formula analysts and ArcGIS use, so this module always asks for transform "B";
:func:`gi_star_textbook` is the formula in plain numpy, used to check esda.

Significance comes from conditional randomisation (Anselin 1995): each area keeps its own value and
its neighbours' values are replaced by a random draw, without replacement, from the other areas.
:func:`conditional_permutation_ids` draws the permutations exactly as esda 2.9 does when numba is not
installed (one draw of ``max_card`` ids per permutation, shared by every area, mapped past the area
itself), and :func:`conditional_randomisation` evaluates all areas at once in numpy, so the simulated
statistics equal esda's to the last bit while costing a fraction of esda's per-area Python loop.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from functools import lru_cache

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
from libpysal.weights import Queen, Rook, W
from scipy import stats

__all__ = [
    "DEFAULT_PERMUTATIONS",
    "benjamini_hochberg",
    "conditional_permutation_ids",
    "conditional_randomisation",
    "contiguity_weights",
    "gi_star",
    "gi_star_textbook",
    "local_moran_rate",
    "two_sided_pseudo_p",
]

_QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
# Enough for the FDR threshold to be reachable: the smallest two-sided pseudo p-value is 3 / (R + 1),
# and Benjamini-Hochberg at 0.05 over m areas needs k areas at or below 0.05 k / m.
DEFAULT_PERMUTATIONS = 9999


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


@lru_cache(maxsize=8)
def _permutation_ids_cached(n_others: int, max_card: int, permutations: int, seed: int) -> np.ndarray:
    rs = np.random.RandomState(seed)
    out = np.empty((permutations, max_card), dtype=np.int64)
    for k in range(permutations):
        # RandomState.choice(n, size, replace=False) is permutation(n)[:size]; calling permutation
        # directly draws the same numbers without choice's argument checks.
        out[k] = rs.permutation(n_others)[:max_card]
    out.setflags(write=False)
    return out


def conditional_permutation_ids(n: int, max_card: int, permutations: int, seed: int) -> np.ndarray:
    """The random neighbour ids of conditional randomisation, drawn as esda draws them.

    esda 2.9 (``esda.crand.vec_permutations`` without numba) seeds numpy's global legacy generator
    with ``seed`` and, for each of the R permutations, takes
    ``np.random.choice(n - 1, size=max_card, replace=False)``: ``max_card`` distinct ids among the
    n - 1 *other* areas. Every area uses the same rows, its first ``k_i`` ids (k_i its number of
    neighbours), an id j standing for area j if j < i and area j + 1 otherwise. This function makes
    the same draws from its own ``numpy.random.RandomState(seed)``, so the global generator is left
    alone. With numba installed esda draws with numba's generator instead, and its simulations
    differ from these by Monte Carlo error only.

    Returns
    -------
    ndarray (R, max_card) of int64, read-only (cached: the report draws the same ids several times).
    """
    if n < 2 or max_card < 1 or max_card > n - 1 or permutations < 1:
        raise ValueError(
            f"need n >= 2, 1 <= max_card <= n - 1 and permutations >= 1; got {n}, {max_card}, {permutations}"
        )
    return _permutation_ids_cached(int(n) - 1, int(max_card), int(permutations), int(seed))


def _neighbour_structure(w: W) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Self-weights, padded neighbour weights (n, max_card) and neighbour counts, in esda's order."""
    adj = w.sparse.tocsr(copy=True).astype(float)
    self_w = adj.diagonal().copy()
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.sort_indices()
    card = np.diff(adj.indptr)
    n = adj.shape[0]
    max_card = max(int(card.max()), 1)
    pad = np.zeros((n, max_card))
    for i in range(n):
        pad[i, : card[i]] = adj.data[adj.indptr[i] : adj.indptr[i + 1]]
    return self_w, pad, card


def conditional_randomisation(z: np.ndarray, w: W, permutations: int, seed: int) -> np.ndarray:
    """Neighbour sums under conditional randomisation: area i keeps z_i, its neighbours are drawn.

    For permutation r and area i with neighbour weights w_i1 .. w_ik (self-weight excluded, in the
    order of ``w.sparse``): s_ir = sum_c w_ic z[a(i, r, c)], where a(i, r, c) is the area standing for
    id ``ids[r, c]`` of :func:`conditional_permutation_ids` once area i is taken out (esda's
    ``_prepare_univariate``). Statistics follow from s: Gi* with self-weight 1 is
    (z_i + s_ir) / sum(z); local Moran's I is z_i s_ir (n - 1) / sum(z^2).

    Parameters
    ----------
    z : n values in ``w.id_order``
    w : libpysal W, weights as they enter the statistic (e.g. binary, or row-standardised)
    permutations, seed : see :func:`conditional_permutation_ids`

    Returns
    -------
    ndarray (n, R)
        An area with no neighbour gets zeros.
    """
    z = np.asarray(z, dtype=float)
    _, pad, card = _neighbour_structure(w)
    n, max_card = pad.shape
    ids = conditional_permutation_ids(n, max_card, permutations, seed)
    # Drawn id j is area j when j < i and area j + 1 otherwise: with low = z[ids] and
    # step = z[ids + 1] - z[ids], the drawn value is low + (ids >= i) * step.
    low = z[ids]
    step = z[np.minimum(ids + 1, n - 1)] - low
    out = np.zeros((n, permutations))
    for i in range(n):
        k = int(card[i])
        if k == 0:
            continue
        wi = pad[i, :k]
        out[i] = low[:, :k] @ wi + ((ids[:, :k] >= i) * step[:, :k]) @ wi
    out[card == 0] = 0.0
    return out


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


def _gi_p_source(p_source: str | None, permutations: int) -> str:
    """The p-value the bins use: "permutation" when there are permutations, else "analytic"."""
    if p_source is None:
        p_source = "permutation" if permutations else "analytic"
    if p_source not in ("analytic", "permutation"):
        raise ValueError(f"p_source must be 'analytic' or 'permutation', got {p_source!r}")
    if p_source == "permutation" and not permutations:
        raise ValueError("p_source='permutation' needs permutations > 0")
    return p_source


def _hot_cold_bins(z: np.ndarray, test: np.ndarray, alpha_levels: Sequence[float]) -> np.ndarray:
    """The bin of each area ("Hot spot 95%" ...): the strictest level its test p-value meets, on its z side."""
    labels = np.full(len(z), "Not significant", dtype=object)
    for alpha in sorted(alpha_levels, reverse=True):
        sig = test <= alpha
        labels[sig & (z > 0)] = f"Hot spot {_confidence_label(alpha)}"
        labels[sig & (z < 0)] = f"Cold spot {_confidence_label(alpha)}"
    return labels


def gi_star(
    values: pd.Series | np.ndarray,
    w: W,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 12345,
    alpha_levels: Sequence[float] = (0.01, 0.05, 0.10),
    fdr: bool = True,
    p_source: str | None = None,
) -> pd.DataFrame:
    """Getis-Ord Gi* hot and cold spots, binned by FDR-adjusted conditional-permutation p-values.

    Statistic: ``esda.G_Local(values, w, transform="B", star=True)``, binary weights with each
    area counted as its own neighbour (self-weight 1): G*_i = sum_j w_ij x_j / sum_j x_j.

    * ``z``: analytic Gi* z-score (equal to :func:`gi_star_textbook`), kept for reading the
      strength of clustering; its normal p-value is not trusted for the bins because police.uk
      counts are skewed.
    * ``p``: analytic two-sided normal p-value, 2 * (1 - Phi(|z|)).
    * ``p_sim``: two-sided conditional-permutation pseudo p-value: area i keeps its own count and
      its neighbours' counts are replaced ``permutations`` times by counts drawn without
      replacement from the other areas (:func:`conditional_randomisation`, esda's draws for the
      same seed); :func:`two_sided_pseudo_p` turns the simulations into esda's
      ``calculate_significance(..., alternative="two-sided")`` value. esda 2.9's ``G_Local`` has no
      ``alternative`` argument (its own ``p_sim`` is one-sided, in the direction of the observed
      value), so the two-sided value is computed from the simulations.
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
    permutations : int, default 9999
        With R permutations the smallest ``p_sim`` is 3 / (R + 1); 9,999 lets the FDR threshold be
        reached on a few hundred areas. 0 skips the simulation (``p_sim`` is NaN, and the bins
        fall back to the analytic p-value).
    seed : int, default 12345
    alpha_levels : sequence of float, default (0.01, 0.05, 0.10)
    fdr : bool, default True
    p_source : {"permutation", "analytic", None}, default None
        None: "permutation" when ``permutations`` > 0, else "analytic".

    Returns
    -------
    DataFrame indexed by area id
        ``value``, ``z``, ``p``, ``p_sim``, ``q``, ``bin``.
    """
    p_source = _gi_p_source(p_source, permutations)
    y = _aligned(values, w, "values")
    if np.allclose(y, y[0]):
        raise ValueError("values are all equal: Gi* is undefined (zero variance)")
    # With no self-weights, G_Local(star=True) fills the diagonal of a new W and leaves the caller's
    # alone; otherwise it would set the transform of the caller's W, so that one gets a copy.
    wc = copy.deepcopy(w) if w.sparse.diagonal().any() else w
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The alternative hypothesis", category=DeprecationWarning)
        g = esda.G_Local(y, wc, transform="B", star=True, permutations=0, n_jobs=1)
    z = np.asarray(g.Zs, dtype=float)
    p = 2.0 * stats.norm.sf(np.abs(z))
    if permutations:
        binary = copy.deepcopy(w)
        binary.transform = "B"
        # esda's _g_local_star_crand: (self-weight x_i + sum of drawn neighbours) / sum(x).
        sims = (y[:, None] + conditional_randomisation(y, binary, permutations, seed)) / y.sum()
        p_sim = two_sided_pseudo_p(np.asarray(g.Gs, dtype=float), sims)
    else:
        p_sim = np.full(len(y), np.nan)
    base = p if p_source == "analytic" else p_sim
    q = benjamini_hochberg(base)
    test = q if fdr else base
    labels = _hot_cold_bins(z, test, alpha_levels)
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
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 12345,
    alpha: float = 0.05,
    fdr: bool = True,
    adjusted: bool = True,
) -> pd.DataFrame:
    """Local Moran's I for rates (LISA clusters of high and low rates).

    Runs ``esda.Moran_Local_Rate(events, population, w, adjusted, transformation="r")``: with
    ``adjusted=True`` the rates are first standardised by the Assuncao-Reis Empirical Bayes
    method, so areas with small populations do not dominate. Weights are row-standardised for
    the spatial lag (the usual LISA choice); the caller's ``w`` is not modified.

    Quadrants compare the area's (standardised) rate with the mean of its neighbours':
    HH (high among high), LL (low among low), HL (high among low), LH (low among high).
    Significance uses the two-sided conditional-permutation pseudo p-value (``p_sim``: the area
    keeps its z-value, its neighbours' are drawn from the other areas, esda's draws for the same
    seed, :func:`conditional_randomisation`), or its Benjamini-Hochberg adjustment (``q``) when
    ``fdr`` is true (the default): significant when <= alpha.

    Parameters
    ----------
    events, population : Series indexed by area id, or arrays in ``w.id_order``
    w : libpysal W
    permutations : int, default 9999
    seed : int, default 12345
    alpha : float, default 0.05
    fdr : bool, default True
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
            permutations=0,
            n_jobs=1,
        )
    # esda's _moran_local_crand: z_i (sum of drawn neighbours' z, row-standardised weights) (n - 1) / sum(z^2).
    sims = lm.z[:, None] * conditional_randomisation(lm.z, lm.w, permutations, seed) * (lm.n - 1) / lm.den
    p_sim = two_sided_pseudo_p(lm.Is, sims)
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
