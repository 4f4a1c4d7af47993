"""How concentrated crime is across small areas: top-x% shares and the Gini coefficient."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Concentration", "concentration", "gini", "top_share"]


def _counts(values: pd.Series | np.ndarray | Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("no areas given")
    if np.isnan(x).any():
        raise ValueError("counts contain missing values; areas with no crime should be 0")
    if (x < 0).any():
        raise ValueError("counts must be non-negative")
    return x


def top_share(values: pd.Series | np.ndarray | Sequence[float], fraction: float) -> tuple[int, float]:
    """Share of all crime in the top ``fraction`` of areas.

    The number of top areas is k = ceil(fraction x N) (so the top 5% of 374 LSOAs is 19 areas,
    and any non-empty set has at least one top area); share = (sum of the k largest counts) /
    (sum of all counts). Areas with no crime must be included as 0, or N is too small.

    Returns
    -------
    (k, share) : (int, float)
        share is NaN when the total is 0.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    x = _counts(values)
    # The epsilon stops 0.05 * 100 = 5.000000000000001 being rounded up to 6.
    k = math.ceil(fraction * x.size - 1e-9)
    total = x.sum()
    share = float(np.sort(x)[::-1][:k].sum() / total) if total > 0 else float("nan")
    return k, share


def gini(values: pd.Series | np.ndarray | Sequence[float]) -> float:
    """Gini coefficient of counts across areas.

    G = sum_i sum_j |x_i - x_j| / (2 N^2 x-bar), computed as
    G = 2 sum_i i x_(i) / (N sum x) - (N + 1) / N with x sorted ascending and i = 1..N.
    0 = crime spread evenly over areas; (N - 1) / N = all crime in one area. NaN when the total
    is 0. Include areas with no crime as 0.
    """
    x = np.sort(_counts(values))
    n = x.size
    total = x.sum()
    if total == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(2.0 * (i * x).sum() / (n * total) - (n + 1) / n)


@dataclass(frozen=True)
class Concentration:
    """Result of :func:`concentration`.

    Attributes
    ----------
    n_areas : int
    total : float
    shares : DataFrame
        One row per fraction: ``fraction``, ``n_top_areas`` (ceil rule), ``share``.
    gini : float
    """

    n_areas: int
    total: float
    shares: pd.DataFrame
    gini: float


def concentration(
    values: pd.Series | np.ndarray | Sequence[float],
    fractions: Sequence[float] = (0.05, 0.10),
) -> Concentration:
    """Share of crime in the top 5% and 10% of areas (ceil rule) and the Gini coefficient.

    Parameters
    ----------
    values : Series or array
        Count per area, including areas with 0.
    fractions : sequence of float, default (0.05, 0.10)

    Returns
    -------
    Concentration
    """
    x = _counts(values)
    rows = []
    for f in fractions:
        k, s = top_share(x, f)
        rows.append({"fraction": float(f), "n_top_areas": k, "share": s})
    return Concentration(n_areas=int(x.size), total=float(x.sum()), shares=pd.DataFrame(rows), gini=gini(x))
