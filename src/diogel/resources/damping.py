"""Damping: limiting each area's change from a reference allocation, budget-neutrally."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from diogel.resources.pence import as_totals, largest_remainder

__all__ = ["apply_damping"]


def apply_damping(
    new: pd.Series | pd.DataFrame,
    reference: pd.Series | pd.DataFrame,
    floor: float | None,
    ceiling: float | None,
) -> pd.DataFrame:
    """Limit each area's fractional change from ``reference`` to ``[floor, ceiling]``, budget-neutrally.

    Method (stated because published formulae differ):

    1. Losers (``new < reference``) are raised to ``reference x (1 + floor)`` if they fall below it.
    2. Gainers keep ``reference + k x gain``, capped at ``reference x (1 + ceiling)``, with one
       scale factor ``k >= 0`` for all gainers chosen so the damped total equals ``sum(new)``. So the
       floor is paid for by scaling gains down proportionally (k < 1); if the ceiling frees more than
       the floor costs, uncapped gains are scaled up (k > 1).
    3. Amounts are rounded to pence by largest remainder so the total is exact (each area is within a
       penny of its exact damped value).

    Raises ``ValueError`` when the gains cannot pay for the floor (k would be negative) or when the
    ceiling leaves money unspent.

    Parameters
    ----------
    new, reference : Series indexed by area_code, or frames with ``area_code`` and ``total``.
    floor, ceiling : float or None
        Fractional changes, e.g. ``-0.05`` and ``0.10``; ``None`` for no bound.

    Returns
    -------
    DataFrame
        ``area_code``, ``reference``, ``undamped``, ``damped``, ``damped_pence``, ``adjustment``,
        ``change_pct`` (damped vs reference, percent) and ``constraint`` (floor / ceiling / scaled /
        none). ``attrs['k']`` holds the scale factor.
    """
    n = as_totals(new)
    r = as_totals(reference)
    if set(n.index) != set(r.index):
        raise ValueError("new and reference allocations cover different areas")
    r = r.reindex(n.index)
    if (r <= 0).any():
        raise ValueError(f"reference allocation must be positive for damping: {r[r <= 0].index[0]}")
    if floor is not None and ceiling is not None and floor > ceiling:
        raise ValueError("damping floor is above the ceiling")
    newf = [Fraction(repr(float(v))) for v in n]
    reff = [Fraction(repr(float(v))) for v in r]
    total = sum(newf)
    lo = [rf * (1 + Fraction(repr(floor))) if floor is not None else None for rf in reff]
    hi = [rf * (1 + Fraction(repr(ceiling))) if ceiling is not None else None for rf in reff]

    damped, constraint, gainers = _hold_losers(newf, reff, lo, hi)
    remaining = total - sum(d for d in damped if d is not None)
    k = Fraction(1)
    if gainers:
        k = _scale_gainers(newf, reff, hi, gainers, remaining, damped, constraint)
    elif remaining != 0:
        raise ValueError("no gainers to fund the floor (or to absorb the difference); check the inputs")

    total_pence = round(total * 100)
    exact = [d * 100 for d in damped]  # type: ignore[operator]
    # The floors and caps are exact; rounding to pence must still hit the total exactly.
    pence = largest_remainder(total_pence, exact) if sum(exact) > 0 else [0] * len(exact)
    out = pd.DataFrame(
        {
            "area_code": list(n.index),
            "reference": r.to_numpy(dtype=float),
            "undamped": n.to_numpy(dtype=float),
            "damped_pence": np.array(pence, dtype=np.int64),
        }
    )
    out["damped"] = out["damped_pence"] / 100
    out["adjustment"] = out["damped"] - out["undamped"]
    out["change_pct"] = 100 * (out["damped"] / out["reference"] - 1)
    out["constraint"] = constraint
    out.attrs["k"] = float(k)
    return out


def _hold_losers(
    newf: list[Fraction], reff: list[Fraction], lo: list[Fraction | None], hi: list[Fraction | None]
) -> tuple[list[Fraction | None], list[str], list[int]]:
    """Step 1 of :func:`apply_damping`: every area that does not gain keeps its new amount or is held
    at its floor (or, with a negative ceiling, at its ceiling). Returns the damped amounts (None for
    gainers, found in step 2), each area's constraint and the gainers' positions."""
    damped: list[Fraction | None] = [None] * len(newf)
    constraint = ["none"] * len(newf)
    gainers = []
    for i, (nv, rv) in enumerate(zip(newf, reff, strict=True)):
        if nv > rv:
            gainers.append(i)
        elif lo[i] is not None and nv < lo[i]:  # type: ignore[operator]
            damped[i], constraint[i] = lo[i], "floor"
        elif hi[i] is not None and nv > hi[i]:  # type: ignore[operator]  # only with a negative ceiling
            damped[i], constraint[i] = hi[i], "ceiling"
        else:
            damped[i] = nv
    return damped, constraint, gainers


def _scale_gainers(
    newf: list[Fraction],
    reff: list[Fraction],
    hi: list[Fraction | None],
    gainers: list[int],
    remaining: Fraction,
    damped: list[Fraction | None],
    constraint: list[str],
) -> Fraction:
    """Step 2 of :func:`apply_damping`: find the one scale factor ``k`` of the gains that spends
    ``remaining`` with each gainer capped at its ceiling; fill in ``damped`` and ``constraint`` of the
    gainers and return ``k``."""
    gain = {i: newf[i] - reff[i] for i in gainers}
    base = sum(reff[i] for i in gainers)
    if remaining < base:
        cost = sum(damped[i] - newf[i] for i in range(len(newf)) if constraint[i] == "floor")  # type: ignore[operator]
        raise ValueError(
            f"the floor costs {float(cost):,.2f} but gainers gain only {float(sum(gain.values())):,.2f}; "
            "lower the floor"
        )
    # The k at which each gainer reaches its ceiling: gainers are capped in that order.
    cap_k = sorted(((hi[i] - reff[i]) / gain[i], i) for i in gainers) if hi[gainers[0]] is not None else []  # type: ignore[operator]
    capped: set[int] = set()
    k = Fraction(1)
    while True:
        free = [i for i in gainers if i not in capped]
        fixed = sum(hi[i] for i in capped)  # type: ignore[misc]
        if not free:
            if fixed != remaining:
                raise ValueError("the ceiling leaves part of the pot unallocated; raise the ceiling")
            break
        k = (remaining - fixed - sum(reff[i] for i in free)) / sum(gain[i] for i in free)
        newly = [i for kk, i in cap_k if i in free and kk < k]
        if not newly:
            break
        capped.update(newly)
    for i in gainers:
        if i in capped:
            damped[i], constraint[i] = hi[i], "ceiling"
        else:
            damped[i] = reff[i] + k * gain[i]
            if k != 1:
                constraint[i] = "scaled"
    return k
