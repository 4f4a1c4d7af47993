"""Allocation to the penny: a formula's pot split between areas, and winners and losers between two splits.

Every split is done in whole pence by the largest-remainder (Hamilton) method on exact rational quotas,
ties going to the area that sorts first by ``area_code``. The pot in pence is split into component pots
(and uplifts), each component pot into area amounts, so every component and the totals add up to the
pot exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np
import pandas as pd

from diogel.resources.areas import WALES_LA_TO_CSP
from diogel.resources.damping import apply_damping
from diogel.resources.indicator_kinds import indicator_values
from diogel.resources.pence import as_totals, largest_remainder, to_pence
from diogel.resources.spec import Component, Formula, check_shares, unit_area_codes

__all__ = ["allocate", "allocation_to_csp", "compare"]


def _frame_for(indicators: pd.DataFrame, year: int | None, what: str) -> pd.DataFrame:
    if "year" not in indicators.columns or year is None:
        frame = indicators
    else:
        frame = indicators[indicators["year"] == year]
        if frame.empty:
            raise ValueError(f"no indicator rows for year {year} (needed by {what})")
    if frame["area_code"].duplicated().any():
        dup = frame.loc[frame["area_code"].duplicated(), "area_code"].iloc[0]
        raise ValueError(f"area {dup} appears more than once in the indicators for {what}")
    return frame.sort_values("area_code").reset_index(drop=True)


def _check_areas(frame: pd.DataFrame, unit: str) -> None:
    expected = unit_area_codes(unit)
    if expected is None:
        return
    got = set(frame["area_code"])
    missing, extra = set(expected) - got, got - set(expected)
    if missing or extra:
        raise ValueError(
            f"indicators do not match unit {unit}: missing {sorted(missing)}, unexpected {sorted(extra)}"
        )


def _weights(comp: Component, frame: pd.DataFrame) -> list[Fraction]:
    values = indicator_values(comp, frame)
    if values.isna().any():
        bad = frame.loc[values.isna(), "area_code"].iloc[0]
        raise ValueError(f"component {comp.name!r}: missing indicator value for {bad}")
    if (values < 0).any():
        raise ValueError(f"component {comp.name!r}: negative indicator value")
    return [Fraction(float(v)) for v in values]


def allocate(
    formula: Formula,
    indicators: pd.DataFrame,
    year: int,
    reference: pd.Series | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Allocate ``formula``'s pot for financial ``year`` between the areas in ``indicators``.

    Parameters
    ----------
    formula : Formula
    indicators : DataFrame
        ``area_code``, ``area_name`` and the indicator columns the components read; optionally a
        ``year`` column, in which case each component reads the rows of its base year (component
        ``base_year``, else formula ``base_year``, else ``year``).
    year : int
        Financial year (2005 = 2005/06); must be one of the formula's pots.
    reference : Series or DataFrame, optional
        Totals of a reference allocation (Series indexed by ``area_code``, or a frame with
        ``area_code`` and ``total``). When given and the formula has ``damping``, the totals are
        damped with :func:`diogel.resources.damping.apply_damping`.

    Returns
    -------
    DataFrame
        ``area_code``, ``area_name``, one column per enabled component and per uplift (pounds),
        ``total`` (pounds), ``total_pence`` (int, sums to the pot exactly) and ``share`` of the pot.
        With damping, ``total`` is the damped total, the component columns stay undamped, and
        ``undamped_total`` and ``damping_adjustment`` are added. Amount_i for a component with pot P and weights w is
        the largest-remainder rounding to pence of ``P * w_i / sum(w)``; P = share x (pot - uplifts).
    """
    if year not in formula.pots:
        raise ValueError(f"formula {formula.name} has no pot for {year}; pots: {sorted(formula.pots)}")
    comps = formula.enabled_components
    check_shares(formula, formula.name)

    def indicator_year(comp: Component) -> int:
        by = comp.base_year if comp.base_year is not None else formula.base_year
        return by if by is not None else year

    # The area list comes from the first component's indicator year, so a formula frozen at a base
    # year needs no rows for the allocation year itself.
    first = indicator_year(comps[0]) if comps else year
    base = _frame_for(indicators, first, f"component {comps[0].name!r}" if comps else "the allocation")
    _check_areas(base, formula.unit)
    codes = base["area_code"].tolist()
    if "area_name" in base.columns:
        names = base["area_name"].tolist()
    else:
        names = [(unit_area_codes(formula.unit) or {}).get(c, c) for c in codes]

    pot = to_pence(formula.pots[year])
    ups = [u for u in formula.uplifts if u.year == year]
    up_pence = [to_pence(u.amount) for u in ups]
    distributable = pot - sum(up_pence)
    if distributable < 0:
        raise ValueError(f"uplifts for {year} exceed the pot")
    comp_pots = largest_remainder(distributable, [Fraction(repr(c.share)) for c in comps])

    out = pd.DataFrame({"area_code": codes, "area_name": names})
    total = np.zeros(len(codes), dtype=np.int64)
    slices = list(zip(comps, comp_pots, strict=True)) + [
        (u.basis, p) for u, p in zip(ups, up_pence, strict=True)
    ]
    for comp, cpot in slices:
        frame = _frame_for(indicators, indicator_year(comp), f"component {comp.name!r}")
        if frame["area_code"].tolist() != codes:
            raise ValueError(f"component {comp.name!r}: base-year indicators cover different areas")
        parts = np.array(largest_remainder(cpot, _weights(comp, frame)), dtype=np.int64)
        out[comp.name] = parts / 100
        total += parts
    out["total_pence"] = total
    out["total"] = total / 100
    out["share"] = total / pot
    out.attrs.update(formula=formula.name, year=year, pot=pot / 100)

    if reference is not None and formula.damping is not None:
        _damp_totals(out, as_totals(reference), formula.damping.floor, formula.damping.ceiling, pot)
    return out


def _damp_totals(
    out: pd.DataFrame, ref: pd.Series, floor: float | None, ceiling: float | None, pot: int
) -> None:
    """Damp an allocation's totals against ``ref`` in place; the component columns stay undamped."""
    damped = apply_damping(pd.Series(out["total"].to_numpy(), index=out["area_code"]), ref, floor, ceiling)
    out["undamped_total"] = out["total"]
    dp = damped.set_index("area_code")["damped_pence"].reindex(out["area_code"]).to_numpy()
    out["total_pence"] = dp.astype(np.int64)
    out["total"] = out["total_pence"] / 100
    out["damping_adjustment"] = (out["total"] - out["undamped_total"]).round(2)
    out["share"] = out["total_pence"] / pot
    out.attrs["damping_k"] = damped.attrs["k"]


def allocation_to_csp(allocation: pd.DataFrame) -> pd.DataFrame:
    """Sum an allocation between the 22 Welsh local authorities to today's 21 CSPs.

    Every money column (components, uplifts, ``total``, ``total_pence``, ``undamped_total``) is summed
    over the authorities of each CSP (Cwm Taf = Rhondda Cynon Taf + Merthyr Tydfil; every other CSP
    is one authority), so the pot is unchanged; ``share`` is recomputed as ``total_pence / pot``.
    """
    unknown = set(allocation["area_code"]) - set(WALES_LA_TO_CSP)
    if unknown:
        raise ValueError(f"not Welsh local authority codes: {', '.join(sorted(unknown))}")
    df = allocation.copy()
    df["_csp"] = df["area_code"].map(lambda c: WALES_LA_TO_CSP[c][0])
    df["_name"] = df["area_code"].map(lambda c: WALES_LA_TO_CSP[c][1])
    money = [
        c
        for c in df.columns
        if c not in {"area_code", "area_name", "share", "_csp", "_name"}
        and pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
    ]
    out = df.groupby(["_csp", "_name"], sort=True)[money].sum().reset_index()
    out = out.rename(columns={"_csp": "area_code", "_name": "area_name"})
    if "total_pence" in out.columns:
        out["total_pence"] = out["total_pence"].astype(np.int64)
        out["share"] = out["total_pence"] / int(out["total_pence"].sum())
    out.attrs.update(allocation.attrs)
    return out


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    population: pd.Series | Mapping[str, float],
    crime: pd.Series | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Winners and losers moving from allocation ``a`` to allocation ``b``.

    ``population`` and ``crime`` are indexed by ``area_code``. Returns ``area_code``, ``area_name``,
    ``total_a``, ``total_b``, ``change`` (b - a), ``change_pct`` (100 x change / a),
    ``change_per_head`` (change / population), ``change_per_crime`` (change / crime, if given; NaN
    where crime is unknown), ``per_head_a``, ``per_head_b``, ``share_a`` and ``share_b`` (each
    area's share of its allocation's total, which is what moves when two pots differ in size) and
    ``outcome`` (gains / loses / unchanged), largest gain first.
    """
    ta, tb = as_totals(a), as_totals(b)
    if set(ta.index) != set(tb.index):
        raise ValueError("the two allocations cover different areas")
    pop = pd.Series(population, dtype=float)
    missing = set(ta.index) - set(pop.index)
    if missing:
        raise ValueError(f"no population for {sorted(missing)}")
    names = dict(zip(a["area_code"], a["area_name"], strict=True)) if "area_name" in a.columns else {}
    out = pd.DataFrame({"area_code": ta.index, "total_a": ta.to_numpy()})
    out["area_name"] = out["area_code"].map(lambda c: names.get(c, c))
    out["total_b"] = tb.reindex(ta.index).to_numpy()
    out["change"] = (out["total_b"] - out["total_a"]).round(2)
    out["change_pct"] = 100 * out["change"] / out["total_a"]
    p = pop.reindex(out["area_code"]).to_numpy()
    out["change_per_head"] = out["change"] / p
    if crime is not None:
        out["change_per_crime"] = (
            out["change"] / pd.Series(crime, dtype=float).reindex(out["area_code"]).to_numpy()
        )
    out["per_head_a"] = out["total_a"] / p
    out["per_head_b"] = out["total_b"] / p
    out["share_a"] = out["total_a"] / out["total_a"].sum()
    out["share_b"] = out["total_b"] / out["total_b"].sum()
    out["outcome"] = np.select([out["change"] > 0, out["change"] < 0], ["gains", "loses"], "unchanged")
    cols = ["area_code", "area_name", "total_a", "total_b", "change", "change_pct", "change_per_head"]
    cols += ["change_per_crime"] if crime is not None else []
    cols += ["per_head_a", "per_head_b", "share_a", "share_b", "outcome"]
    return out[cols].sort_values(["change", "area_code"], ascending=[False, True]).reset_index(drop=True)
