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

__all__ = ["SPPTResult", "area_percentages", "spatial_point_pattern_test"]


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
    if not 0 < sample_share <= 1:
        raise ValueError(f"sample_share must be in (0, 1], got {sample_share}")
    if n_resamples < 20:
        raise ValueError(f"n_resamples must be at least 20 for a percentile interval, got {n_resamples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")

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

    t_int = t.to_numpy().astype(np.int64)
    if not np.array_equal(t_int, t.to_numpy()):
        raise ValueError("test counts must be whole numbers of events")
    total = int(t_int.sum())
    m = max(1, int(round(sample_share * total)))

    rng = np.random.default_rng(seed)
    if replace:
        draws = rng.multinomial(m, t_int / total, size=n_resamples)
    else:
        draws = rng.multivariate_hypergeometric(t_int, m, size=n_resamples)
    pct = 100.0 * draws / m
    pct.sort(axis=0)
    k = int(np.floor(n_resamples * (1 - confidence) / 2))
    lower = pct[k, :]
    upper = pct[n_resamples - 1 - k, :]

    base_pct = area_percentages(b).to_numpy()
    # Percentages are ratios of integers; a tolerance stops 1e-15 rounding flipping "similar".
    eps = 1e-9
    similar = (base_pct >= lower - eps) & (base_pct <= upper + eps)
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
