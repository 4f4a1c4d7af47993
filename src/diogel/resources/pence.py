"""Money in whole pence: exact splits of an integer total, and allocation totals by area."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

import pandas as pd

__all__ = ["as_totals", "largest_remainder", "to_pence"]


def to_pence(amount: float) -> int:
    d = Decimal(repr(float(amount))) * 100
    if d != d.to_integral_value():
        raise ValueError(f"amount {amount} is not a whole number of pence")
    return int(d)


def largest_remainder(total: int, weights: Sequence[Fraction | float | int]) -> list[int]:
    """Split the integer ``total`` in proportion to ``weights`` so the parts sum to ``total`` exactly.

    Quotas ``total * w_i / sum(w)`` are computed exactly (rationals); each part is the floor of its
    quota and the units left over go one each to the largest fractional remainders, ties to the
    earlier position.
    """
    fw = [w if isinstance(w, Fraction) else Fraction(w) for w in weights]
    if any(w < 0 for w in fw):
        raise ValueError("negative weight")
    s = sum(fw)
    if s == 0:
        raise ValueError("all weights are zero")
    quotas = [Fraction(total) * w / s for w in fw]
    parts = [math.floor(q) for q in quotas]
    left = total - sum(parts)
    order = sorted(range(len(fw)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def as_totals(x: pd.Series | pd.DataFrame | Mapping[str, float]) -> pd.Series:
    """Totals by ``area_code``: a Series as given, or ``total`` of a frame with ``area_code``."""
    if isinstance(x, pd.DataFrame):
        return pd.Series(x["total"].to_numpy(dtype=float), index=x["area_code"].astype(str))
    return pd.Series(x, dtype=float)
