"""Small-area rates: global Empirical Bayes smoothing (Marshall 1991).

Crude rates for small populations are noisy: an LSOA of 1,000 people with 3 burglaries instead of
1 triples its rate. Empirical Bayes shrinks each area's rate towards the overall rate, more for
small populations and less where the area has enough events to speak for itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["EBResult", "empirical_bayes_rates"]


@dataclass(frozen=True)
class EBResult:
    """Result of :func:`empirical_bayes_rates`.

    Attributes
    ----------
    rates : DataFrame
        Index as the input; ``count``, ``population``, ``raw_rate``, ``shrinkage`` (C_i, the
        weight on the area's own rate), ``eb_rate``; rates per ``per`` residents.
    prior_mean : float
        b = sum(counts) / sum(population), per ``per`` residents.
    prior_variance : float
        a (per resident squared, before scaling), truncated at 0.
    variance_truncated : bool
        True when the moment estimate of a was negative and set to 0 (all rates become b).
    per : float
    """

    rates: pd.DataFrame
    prior_mean: float
    prior_variance: float
    variance_truncated: bool
    per: float


def empirical_bayes_rates(
    counts: pd.Series | np.ndarray,
    population: pd.Series | np.ndarray,
    per: float = 1000.0,
) -> EBResult:
    """Global Empirical Bayes rates by Marshall's (1991) method of moments.

    With counts e_i, populations n_i, k areas and raw rates r_i = e_i / n_i:

        b   = sum(e) / sum(n)                               prior mean
        s2  = sum(n_i (r_i - b)^2) / sum(n)                 population-weighted variance
        a   = s2 - b / (sum(n) / k)                         prior variance (0 if negative)
        C_i = a / (a + b / n_i)                             shrinkage weight
        eb_i = b + C_i (r_i - b) = C_i r_i + (1 - C_i) b

    This is the estimator of ``esda.smoothing.Empirical_Bayes`` except that a negative ``a`` is
    truncated at 0 (esda leaves it negative, which can give weights outside [0, 1]).

    Parameters
    ----------
    counts : Series or array
        Event counts (non-negative).
    population : Series or array
        Population at risk (positive), aligned with ``counts``.
    per : float, default 1000
        Rates are reported per this many residents.

    Returns
    -------
    EBResult
    """
    index = counts.index if isinstance(counts, pd.Series) else None
    e = np.asarray(counts, dtype=float)
    n = np.asarray(population, dtype=float)
    if e.shape != n.shape or e.ndim != 1:
        raise ValueError("counts and population must be 1-D and the same length")
    if np.isnan(e).any() or np.isnan(n).any():
        raise ValueError("counts and population must not contain missing values")
    if (n <= 0).any():
        raise ValueError("every population must be positive")
    if (e < 0).any():
        raise ValueError("counts must be non-negative")
    k = len(e)
    r = e / n
    b = e.sum() / n.sum()
    s2 = (n * (r - b) ** 2).sum() / n.sum()
    a = s2 - b / (n.sum() / k)
    truncated = bool(a < 0)
    a = max(a, 0.0)
    # a = b = 0 only when there are no events at all; every rate is then 0.
    c = a / (a + b / n) if (a + b) > 0 else np.zeros_like(n)
    eb = b + c * (r - b)
    rates = pd.DataFrame(
        {
            "count": e,
            "population": n,
            "raw_rate": per * r,
            "shrinkage": c,
            "eb_rate": per * eb,
        },
        index=index,
    )
    return EBResult(rates=rates, prior_mean=per * b, prior_variance=a, variance_truncated=truncated, per=per)
