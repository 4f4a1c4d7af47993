"""Has the geography of crime changed? Andresen's spatial point pattern test (SPPT).

Andresen (2009, 2016) compares the share of events each area has in a *base* period with the
share it has in a *test* period. The test period's events are resampled many times; each area's
percentage over the resamples gives a nonparametric interval, and an area is "similar" when the
base period percentage falls inside it. The global S index is the share of similar areas.

Pure functions: frames in, a dataclass with a frame out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "PatternChange",
    "SPPTResult",
    "area_change_tests",
    "area_percentages",
    "monthly_dispersion",
    "pattern_change",
    "spatial_point_pattern_test",
]


@dataclass(frozen=True)
class SPPTResult:
    """Result of :func:`spatial_point_pattern_test`.

    Attributes
    ----------
    areas : one row per area: the area code column, ``base_count``, ``test_count``, ``base_pct``,
        ``test_pct``, ``lower``, ``upper`` (interval of the test percentage), ``similar`` (bool) and
        ``change`` ("similar", "higher in test" when base_pct < lower, "lower in test" when
        base_pct > upper).
    S : global S index, share of all areas that are similar (0..1; 1 = identical patterns).
    S_robust : S over the areas with at least one event in either period only.
    n_areas, n_areas_robust : the denominators of S and S_robust.
    n_resamples, sample_share, replace, confidence, seed : the settings used.
    """

    areas: pd.DataFrame
    S: float
    S_robust: float
    n_areas: int
    n_areas_robust: int
    n_resamples: int
    sample_share: float
    replace: bool
    confidence: float
    seed: int


def area_percentages(counts: pd.Series) -> pd.Series:
    """Each area's percentage of all events: 100 * count_i / sum(count). All zero -> all zero."""
    total = counts.sum()
    if total == 0:
        return counts.astype(float) * 0.0
    return 100.0 * counts.astype(float) / float(total)


def _counts_by_area(frame: pd.DataFrame, area_col: str, count_col: str, name: str) -> pd.Series:
    missing = [c for c in (area_col, count_col) if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}; it has {list(frame.columns)}")
    if frame[count_col].isna().any() or (frame[count_col] < 0).any():
        raise ValueError(f"{name} has missing or negative counts")
    return frame.groupby(area_col, sort=True)[count_col].sum()


def _resampled_interval(
    base_pct: np.ndarray,
    t_int: np.ndarray,
    sample_share: float,
    n_resamples: int,
    confidence: float,
    replace: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps 2-4 of :func:`spatial_point_pattern_test` on arrays: (lower, upper, similar)."""
    total = int(t_int.sum())
    m = max(1, int(round(sample_share * total)))
    if replace:
        draws = rng.multinomial(m, t_int / total, size=n_resamples)
    else:
        draws = rng.multivariate_hypergeometric(t_int, m, size=n_resamples)
    pct = 100.0 * draws / m
    pct.sort(axis=0)
    k = int(np.floor(n_resamples * (1 - confidence) / 2))
    lower = pct[k, :]
    upper = pct[n_resamples - 1 - k, :]
    # Percentages are ratios of integers; a tolerance stops 1e-15 rounding flipping "similar".
    eps = 1e-9
    similar = (base_pct >= lower - eps) & (base_pct <= upper + eps)
    return lower, upper, similar


def _check_sppt_arguments(sample_share: float, n_resamples: int, confidence: float) -> None:
    if not 0 < sample_share <= 1:
        raise ValueError(f"sample_share must be in (0, 1], got {sample_share}")
    if n_resamples < 20:
        raise ValueError(f"n_resamples must be at least 20 for a percentile interval, got {n_resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _counts_on_study_areas(
    base: pd.DataFrame, test: pd.DataFrame, areas: Sequence[str] | None, area_col: str, count_col: str
) -> tuple[pd.Index, pd.Series, pd.Series]:
    """The sorted study areas and both periods' counts on them (0 where an area has no rows)."""
    b = _counts_by_area(base, area_col, count_col, "base")
    t = _counts_by_area(test, area_col, count_col, "test")
    index = b.index.union(t.index)
    if areas is not None:
        index = index.union(pd.Index(list(areas)))
        outside = b.index.union(t.index).difference(pd.Index(list(areas)))
        if len(outside):
            raise ValueError(f"{len(outside)} area(s) have counts but are not in areas, e.g. {outside[0]}")
    index = index.sort_values()
    b = b.reindex(index, fill_value=0)
    t = t.reindex(index, fill_value=0)
    if b.sum() == 0 or t.sum() == 0:
        raise ValueError("both periods need at least one event")
    return index, b, t


def spatial_point_pattern_test(
    base: pd.DataFrame,
    test: pd.DataFrame,
    areas: Sequence[str] | None = None,
    area_col: str = "lsoa_code",
    count_col: str = "count",
    sample_share: float = 0.85,
    n_resamples: int = 200,
    confidence: float = 0.95,
    replace: bool = True,
    seed: int = 20090101,
) -> SPPTResult:
    """Andresen's spatial point pattern test between two periods' area counts.

    Method:

    1. base_pct_i = 100 * b_i / B for the base period counts b_i (B their total).
    2. Repeat ``n_resamples`` times (default 200): draw m = round(sample_share * T) of the T test
       period events (default 85%), with replacement by default (a bootstrap, as Andresen 2009;
       ``replace=False`` samples without replacement), and compute every area's percentage of
       the m sampled events. Drawing events at random is done per area as a multinomial draw
       with probabilities t_i / T (with replacement) or a multivariate hypergeometric draw
       (without replacement), which is the same as drawing individual events.
    3. The interval for each area is the nonparametric percentile interval of the resampled
       percentages: with k = floor(n_resamples * (1 - confidence) / 2) values cut from each end of
       the sorted values, lower = the (k+1)-th smallest, upper = the (k+1)-th largest. For 200
       resamples and 95% that is the 6th and the 195th of 200 (Andresen's rule of dropping the
       top and bottom 2.5%).
    4. An area is similar when lower <= base_pct <= upper.
    5. S = (number of similar areas) / (number of areas). S_robust = the same over areas with at
       least one event in either period (Andresen & Malleson's robust S), so areas with no crime
       in both periods do not inflate the similarity.

    Parameters
    ----------
    base, test : frames with ``area_col`` and ``count_col``; rows for the same area are summed.
    areas : every area in the study region. Areas with no rows in either frame count as zero in
        both (similar). Default: the union of the areas in ``base`` and ``test``.
    sample_share, n_resamples, confidence, replace : see Method (defaults 0.85, 200, 0.95, True).
    seed : seed for ``numpy.random.default_rng``; the same seed gives the same result.
    """
    _check_sppt_arguments(sample_share, n_resamples, confidence)
    index, b, t = _counts_on_study_areas(base, test, areas, area_col, count_col)

    t_int = t.to_numpy().astype(np.int64)
    if not np.array_equal(t_int, t.to_numpy()):
        raise ValueError("test counts must be whole numbers of events")
    base_pct = area_percentages(b).to_numpy()
    lower, upper, similar = _resampled_interval(
        base_pct, t_int, sample_share, n_resamples, confidence, replace, np.random.default_rng(seed)
    )
    change = np.where(similar, "similar", np.where(base_pct < lower, "higher in test", "lower in test"))

    out = pd.DataFrame(
        {
            area_col: index,
            "base_count": b.to_numpy(),
            "test_count": t.to_numpy(),
            "base_pct": base_pct,
            "test_pct": area_percentages(t).to_numpy(),
            "lower": lower,
            "upper": upper,
            "similar": similar,
            "change": change,
        }
    )
    any_events = (out["base_count"] > 0) | (out["test_count"] > 0)
    n_robust = int(any_events.sum())
    return SPPTResult(
        areas=out,
        S=float(similar.mean()),
        S_robust=float(out.loc[any_events, "similar"].mean()) if n_robust else float("nan"),
        n_areas=len(out),
        n_areas_robust=n_robust,
        n_resamples=n_resamples,
        sample_share=sample_share,
        replace=replace,
        confidence=confidence,
        seed=seed,
    )


def monthly_dispersion(monthly: pd.DataFrame) -> float:
    """Extra-Poisson dispersion of area counts from a complete area x month table, floored at 1.

    With y_am the count of area a in month m, expected counts under area and month main effects
    e_am = y_a. y_.m / y_.. and the Pearson statistic X^2 = sum (y_am - e_am)^2 / e_am:
    phi = X^2 / ((A - 1)(M - 1)) (quasi-Poisson). phi = 1 is Poisson; real police.uk LSOA counts
    give about 1.9 (Gwent, 2023-07..2025-06). Cells with e_am = 0 are left out.

    Parameters
    ----------
    monthly : DataFrame, one row per area and one column per month (counts).
    """
    y = np.asarray(monthly, dtype=float)
    if y.ndim != 2 or min(y.shape) < 2:
        raise ValueError("monthly must be an area x month table with at least 2 areas and 2 months")
    e = y.sum(axis=1, keepdims=True) * y.sum(axis=0, keepdims=True) / max(y.sum(), 1.0)
    ok = e > 0
    x2 = float((((y - e) ** 2)[ok] / e[ok]).sum())
    df = (int((y.sum(axis=1) > 0).sum()) - 1) * (y.shape[1] - 1)
    return max(1.0, x2 / df) if df > 0 else 1.0


def area_change_tests(
    base_counts: np.ndarray, test_counts: np.ndarray, dispersion: float = 1.0, alpha: float = 0.05
) -> pd.DataFrame:
    """Per-area exact conditional binomial tests of a change in share, Benjamini-Hochberg adjusted.

    Under no change in the pattern, area i's test-period count given its total n_i = b_i + t_i is
    Binomial(n_i, pi) with pi = T / (B + T), the test period's share of all events (conditioning
    on n_i removes the area's unknown rate). The two-sided exact p-value (scipy ``binomtest``, the
    sum of the probabilities no larger than the observed one) is computed on the
    dispersion-adjusted scale t_i / phi, n_i / phi rounded to whole numbers (quasi-likelihood: over-
    dispersed counts carry 1 / phi of the information of Poisson counts; ``dispersion`` = 1 is the
    plain exact test). q is the Benjamini-Hochberg adjustment over the areas with n_i > 0; an area
    changed when q < alpha: "higher in test" when t_i / n_i > pi, else "lower in test".

    Returns
    -------
    DataFrame (one row per area, input order): ``n``, ``expected_test`` (n_i pi), ``p_exact``, ``q``,
    ``exact_change``.
    """
    from scipy.stats import binom

    from diogel.analysis.hotspots import benjamini_hochberg

    b = np.asarray(base_counts, dtype=float)
    t = np.asarray(test_counts, dtype=float)
    if b.shape != t.shape:
        raise ValueError("base and test counts must have the same length")
    if dispersion < 1:
        raise ValueError(f"dispersion must be >= 1, got {dispersion}")
    n = b + t
    pi = t.sum() / n.sum()
    p = np.full(n.shape, np.nan)
    tested = np.flatnonzero(n > 0)
    ns = np.rint(n[tested] / dispersion).astype(np.int64)
    ts = np.minimum(np.rint(t[tested] / dispersion).astype(np.int64), ns)
    # scipy.stats.binomtest's two-sided p (the probabilities no larger than the observed one, with its
    # relative tolerance 1 + 1e-7), over every area's whole support in one call.
    sizes = ns + 1
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owner = np.repeat(np.arange(len(ns)), sizes)
    k = np.arange(sizes.sum()) - starts[owner]
    pmf = binom.pmf(k, ns[owner], pi)
    observed = pmf[starts + ts]
    small = np.where(pmf <= observed[owner] * (1 + 1e-7), pmf, 0.0)
    p[tested] = np.minimum(1.0, np.add.reduceat(small, starts))
    q = benjamini_hochberg(p)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, t / np.where(n > 0, n, 1), pi)
    change = np.where(q < alpha, np.where(share > pi, "higher in test", "lower in test"), "similar")
    return pd.DataFrame({"n": n, "expected_test": n * pi, "p_exact": p, "q": q, "exact_change": change})


@dataclass(frozen=True)
class PatternChange:
    """Result of :func:`pattern_change`.

    Attributes
    ----------
    sppt : the observed spatial point pattern test.
    areas : ``sppt.areas`` with the per-area exact test columns of :func:`area_change_tests`.
    S_null : the S of each simulation with no change (array).
    S_expected, S_low, S_high : mean and 2.5% / 97.5% quantiles of ``S_null``.
    p_value : one-sided Monte Carlo p-value of a low S, (1 + #{S_null <= S}) / (n_null + 1).
    moved : True when ``p_value`` <= 0.025, i.e. the observed S is in the lowest 2.5% of S with no change;
        only then may a text say that the pattern moved (an S above S_high means the periods are more alike
        than chance makes them, which is not a move).
    dispersion : the phi used in the null simulations and the exact tests.
    n_changed, n_higher, n_lower : areas changed by the exact tests (q < alpha).
    """

    sppt: SPPTResult
    areas: pd.DataFrame
    S_null: np.ndarray
    S_expected: float
    S_low: float
    S_high: float
    p_value: float
    moved: bool
    dispersion: float
    n_changed: int
    n_higher: int
    n_lower: int


def _draw_test_counts(
    rng: np.random.Generator, n: np.ndarray, pi: float, dispersion: float, size: int
) -> np.ndarray:
    """``size`` draws of each area's test-period count given its count in both periods, n_i.

    With no change, t_i | n_i is binomial(n_i, pi) for Poisson counts; with over-dispersion phi it is
    beta-binomial with the same mean and variance phi n_i pi (1 - pi) (the quasi-binomial variance of
    :func:`area_change_tests`): Beta(pi a_i, (1 - pi) a_i) with a_i = (n_i - phi) / (phi - 1). An area
    with n_i <= phi, whose variance cannot reach phi times the binomial's, is drawn binomial.
    """
    n = np.asarray(n, dtype=np.int64)
    if dispersion <= 1:
        return rng.binomial(n, pi, size=(size, n.size))
    over = n > dispersion
    a = np.where(over, (n - dispersion) / (dispersion - 1), 1.0)
    share = rng.beta(np.maximum(pi * a, 1e-12), np.maximum((1 - pi) * a, 1e-12), size=(size, n.size))
    return rng.binomial(n, np.where(over, share, pi))


def pattern_change(
    base: pd.DataFrame,
    test: pd.DataFrame,
    areas: Sequence[str] | None = None,
    area_col: str = "lsoa_code",
    count_col: str = "count",
    dispersion: float = 1.0,
    n_null: int = 199,
    alpha: float = 0.05,
    seed: int = 20090101,
    **sppt_options: float,
) -> PatternChange:
    """Andresen's S beside its distribution under no change, and per-area exact tests with FDR.

    1. The observed S: :func:`spatial_point_pattern_test` of ``base`` against ``test``.
    2. The null, conditional on each area's count in both periods n_i = b_i + t_i (the statistic that
       carries the area's unknown rate, as in the exact tests of step 3): ``n_null`` times (default
       199) every area's test-period count is redrawn as t_i ~ binomial(n_i, pi), pi = T / (B + T), or
       with ``dispersion`` phi > 1 beta-binomial with variance phi n_i pi (1 - pi); b_i = n_i - t_i,
       and the same test is run on each pair. S_expected is the mean of the simulated S, [S_low,
       S_high] their 2.5% and 97.5% quantiles. The one-sided Monte Carlo p-value of a low S is
       (1 + #{S_null <= S}) / (n_null + 1); the pattern moved only when it is <= 0.025 (a low S is
       what a move produces). Conditioning on n_i makes the test exact under the model whatever the
       areas' rates (an earlier version redrew both periods from the *estimated* pooled shares, so its
       null depended on the noise in those estimates).
    3. Per-area changes: :func:`area_change_tests` (exact conditional binomial on the
       phi-adjusted scale, Benjamini-Hochberg, q < alpha).

    ``sppt_options`` go to :func:`spatial_point_pattern_test` (``sample_share``, ``n_resamples``,
    ``confidence``, ``replace``) for the observed and every simulated pair.
    """
    obs = spatial_point_pattern_test(base, test, areas, area_col, count_col, seed=seed, **sppt_options)
    a = obs.areas
    b = a["base_count"].to_numpy().astype(np.int64)
    t = a["test_count"].to_numpy().astype(np.int64)
    if not (np.array_equal(b, a["base_count"]) and np.array_equal(t, a["test_count"])):
        raise ValueError("counts must be whole numbers of events")
    n = b + t
    rng = np.random.default_rng([seed, 1])
    t_sim = _draw_test_counts(rng, n, float(t.sum()) / float(n.sum()), dispersion, n_null)
    opts = {"sample_share": 0.85, "n_resamples": 200, "confidence": 0.95, "replace": True} | sppt_options
    s_null = np.empty(n_null)
    for r in range(n_null):
        ts = t_sim[r]
        bs = n - ts
        if bs.sum() == 0 or ts.sum() == 0:
            s_null[r] = 1.0
            continue
        base_pct = 100.0 * bs / bs.sum()
        _, _, similar = _resampled_interval(base_pct, ts, rng=np.random.default_rng([seed, 2, r]), **opts)
        s_null[r] = similar.mean()
    low, high = (float(v) for v in np.quantile(s_null, [0.025, 0.975]))
    p_value = float((1 + np.sum(s_null <= obs.S)) / (n_null + 1))
    tests = area_change_tests(b, t, dispersion=dispersion, alpha=alpha)
    areas_out = pd.concat([a.reset_index(drop=True), tests.drop(columns="n")], axis=1)
    ch = tests["exact_change"]
    return PatternChange(
        sppt=obs, areas=areas_out, S_null=s_null, S_expected=float(s_null.mean()), S_low=low, S_high=high,
        p_value=p_value, moved=p_value <= 0.025, dispersion=float(dispersion),
        n_changed=int((ch != "similar").sum()), n_higher=int((ch == "higher in test").sum()),
        n_lower=int((ch == "lower in test").sum()),
    )  # fmt: skip
