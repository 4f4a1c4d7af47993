"""Running grant formulas on the warehouse: allocate, compare, damp, and write the results.

This joins :mod:`diogel.resources.formula` (formulas as data, allocation to the penny) to
:mod:`diogel.resources.indicators` (the indicators by local authority from the warehouse).

Which statistics a run uses
    A formula with a ``base_year`` (the SCF froze its statistics at 2003) runs on *frozen*
    statistics: the population of its base year if that is loaded, otherwise the earliest year
    loaded, and the earliest 12 months of police data loaded. A formula without one runs on
    *current* statistics: the latest population year and the latest 12 months of police data. Either
    can be overridden; every run says what it used.

Areas without police data
    Crime-based components (``recorded_crime``, or a ``measure`` of ``crime_harm``/``asb``) cannot
    be shared out when any area's crime is unknown: sharing them between the areas that have data
    would give the others nothing, and treating unknown as zero is the same mistake. By default
    (``missing_crime="drop"``) those components are switched off and the remaining shares rescaled
    to sum to 1 (:func:`diogel.resources.spec.set_components`), and the run says so in its notes
    and in every affected row; ``missing_crime="fail"`` refuses instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from diogel.errors import DiogelError
from diogel.report.i18n import Given, Place, T
from diogel.resources.allocation import allocate, allocation_to_csp, compare
from diogel.resources.damping import apply_damping
from diogel.resources.indicator_kinds import component_columns
from diogel.resources.indicators import (
    CRIME_COLUMNS,
    CrimeWindow,
    Indicators,
    default_window,
    for_unit,
    la_indicators,
    population_years,
)
from diogel.resources.spec import Formula, load_formula, set_components, with_base_year
from diogel.resources.vintage import vintage_lines

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

CONTEXT_COLUMNS = ("residents", "per_head", "crimes", "per_crime", "police_data", "note")
UNIT_LABELS = {
    "local_authority_2005": T("the 22 Welsh local authorities (one partnership each, 2005-08)"),
    "csp": T("today's 21 Welsh CSPs (Cwm Taf = Rhondda Cynon Taf + Merthyr Tydfil)"),
    "any": T("every local authority with population loaded"),
}


def financial_year(year: int) -> str:
    """``2005`` -> ``"2005/06"``."""
    return f"{year}/{(year + 1) % 100:02d}"


@dataclass
class Allocation:
    """One formula run on warehouse indicators.

    ``table``: ``area_code``, ``area_name``, one column per component and uplift that was run,
    ``total``, ``total_pence`` (sums to the pot exactly), ``share``, then the context (named so no
    component can clash with it): ``residents`` (the population used), ``per_head`` = total /
    residents, ``crimes`` (recorded crime used; missing where unknown), ``per_crime`` = total /
    crimes, ``police_data`` and ``note``.
    """

    requested: Formula
    formula: Formula
    year: int
    indicators: Indicators
    unit_frame: pd.DataFrame
    table: pd.DataFrame
    dropped: tuple[str, ...]
    statistics: str
    notes: list[str] = field(default_factory=list)

    @property
    def components(self) -> list[str]:
        f = self.formula
        return [c.name for c in f.enabled_components] + [u.name for u in f.uplifts if u.year == self.year]


def resolve_formula(spec: str | Path | Formula) -> Formula:
    if isinstance(spec, Formula):
        return spec
    try:
        return load_formula(spec)
    except (ValueError, OSError) as exc:
        raise DiogelError(f"{spec}: {exc}") from None


def choose_statistics(
    wh: Warehouse,
    formula: Formula,
    frozen: bool | None = None,
    population_year: int | None = None,
    window: CrimeWindow | None = None,
) -> tuple[int, CrimeWindow | None, str]:
    """The population year and crime window a run uses, and a sentence saying why.

    ``frozen`` None means frozen when the formula has a ``base_year``, current otherwise.
    """
    years = population_years(wh)
    if not years:
        raise DiogelError("no population estimates are loaded: run 'diogel init --reference wales' first")
    frozen = formula.base_year is not None if frozen is None else frozen
    if population_year is not None:
        if population_year not in years:
            raise DiogelError(
                f"no mid-{population_year} population is loaded (loaded: {', '.join(map(str, years))})"
            )
        why = T("mid-{year} population (as asked)", year=population_year)
    elif frozen and formula.base_year in years:
        population_year = formula.base_year
        why = T("mid-{year} population (the formula's base year)", year=population_year)
    elif frozen and formula.base_year is not None:
        population_year = years[0]
        why = T(
            "mid-{year} population (frozen: the formula fixes its statistics at {base}, which is not loaded; "
            "the earliest year loaded)",
            year=population_year,
            base=formula.base_year,
        )
    elif frozen:
        population_year = years[0]
        why = T("mid-{year} population (frozen: the earliest year loaded)", year=population_year)
    else:
        population_year = years[-1]
        why = T("mid-{year} population (current: the latest year loaded)", year=population_year)
    # Text throughout: the notes are written in the report language (diogel funding --language).
    if window is None:
        window = default_window(wh, latest=not frozen)
        if window is not None:
            police = (
                T("police data {window} (the earliest 12 months loaded)", window=window.label)
                if frozen
                else T("police data {window} (the latest 12 months loaded)", window=window.label)
            )
            why = T("{population}; {police}", population=why, police=police)
    else:
        why = T(
            "{population}; {police}",
            population=why,
            police=T("police data {window} (as asked)", window=window.label),
        )
    return population_year, window, why


def _missing_components(formula: Formula, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(crime-based components with unknown values, other components with missing columns or values)."""
    crime, other = [], []
    comps = list(formula.enabled_components) + [u.basis for u in formula.uplifts]
    for comp in comps:
        cols = component_columns(comp)
        absent = [c for c in cols if c not in frame.columns]
        unknown = [c for c in cols if c in frame.columns and frame[c].isna().any()]
        if absent:
            other.append(f"{comp.name} needs column(s) {', '.join(sorted(absent))} (give them with --extra)")
        elif unknown and set(unknown) <= set(CRIME_COLUMNS):
            crime.append(comp.name)
        elif unknown:
            areas = frame.loc[frame[unknown].isna().any(axis=1), "area_name"].tolist()
            other.append(f"{comp.name}: {', '.join(unknown)} missing for {', '.join(areas[:5])}")
    return crime, other


def allocate_from_warehouse(
    wh: Warehouse,
    formula: str | Path | Formula,
    year: int | None = None,
    frozen: bool | None = None,
    population_year: int | None = None,
    window: CrimeWindow | None = None,
    missing_crime: str = "drop",
    extra: pd.DataFrame | None = None,
    drop: tuple[str, ...] = (),
    cache: dict | None = None,
) -> Allocation:
    """Allocate ``formula``'s pot for financial ``year`` on indicators from the warehouse.

    Parameters
    ----------
    wh : Warehouse
    formula : preset name (``scf``, ``smaf``, ``needs``), YAML path or :class:`Formula`.
    year : financial year (2005 = 2005/06); default the formula's latest pot.
    frozen, population_year, window : see :func:`choose_statistics`.
    missing_crime : ``"drop"`` (switch off crime-based components when any area's crime is unknown,
        rescaling the other shares) or ``"fail"``.
    extra : optional frame of further indicator columns by ``area_code`` (e.g. ``prisoners_released``).
    drop : components to switch off in any case (used to run two formulas on the same components).
    cache : optional dict reused across calls on the same warehouse state, so a comparison reads
        each set of indicators once.

    Returns
    -------
    Allocation
        The amounts are ``P_c x w_ci / sum_i w_ci`` per component ``c`` with pot
        ``P_c = share_c x (pot - uplifts)``, in whole pence by largest remainder
        (:func:`diogel.resources.allocation.allocate`).
    """
    if missing_crime not in ("drop", "fail"):
        raise DiogelError("missing_crime must be 'drop' or 'fail'")
    requested = resolve_formula(formula)
    if year is None:
        year = max(requested.pots)
    if year not in requested.pots:
        pots = ", ".join(f"{y} ({financial_year(y)})" for y in sorted(requested.pots))
        raise DiogelError(f"formula {requested.name} has no pot for {financial_year(year)}; pots: {pots}")
    pop_year, window, statistics = choose_statistics(wh, requested, frozen, population_year, window)
    key = (pop_year, window)
    if cache is not None and key in cache:
        ind = cache[key]
    else:
        ind = la_indicators(wh, pop_year, window)
        if cache is not None:
            cache[key] = ind
    frame = for_unit(ind, requested.unit)
    if extra is not None:
        if "area_code" not in extra.columns:
            raise DiogelError("the extra indicators need an area_code column")
        frame = frame.merge(extra.drop(columns=["area_name"], errors="ignore"), on="area_code", how="left")

    notes: list[str] = []
    f = with_base_year(requested, None)  # one year of statistics per run: chosen above, not by row
    f, to_drop = _leave_out(f, requested, frame, missing_crime, drop, notes)
    try:
        table = allocate(f, frame, year)
    except ValueError as exc:
        raise DiogelError(f"formula {requested.name}: {exc}") from None
    _add_context(table, frame, f, requested.name)
    notes = [
        T(
            "formula: {title}; unit: {unit}",
            title=Given(requested.title or requested.name, requested.title_cy),
            unit=UNIT_LABELS.get(requested.unit, requested.unit),
        ),
        T("pot for {year}: £{pot:,.2f}", year=financial_year(year), pot=requested.pots[year]),
        T("statistics: {statistics}", statistics=statistics),
        *vintage_lines(ind),
        *ind.notes,
        *notes,
    ]
    return Allocation(requested, f, year, ind, frame, table, tuple(to_drop), statistics, notes)


def _leave_out(
    f: Formula,
    requested: Formula,
    frame: pd.DataFrame,
    missing_crime: str,
    drop: tuple[str, ...],
    notes: list[str],
) -> tuple[Formula, list[str]]:
    """``f`` without the components that cannot run on ``frame`` (unknown crime) or were asked to be
    dropped, the other shares rescaled to sum to 1 (said in ``notes``); refuse what cannot run at all."""
    crime_missing, other = _missing_components(f, frame)
    if other:
        raise DiogelError(f"formula {requested.name} cannot run on the loaded data: " + "; ".join(other))
    to_drop = sorted(set(crime_missing) | set(drop))
    uplift_names = {u.name for u in f.uplifts}
    if set(to_drop) & uplift_names:
        raise DiogelError(f"uplift(s) {', '.join(sorted(set(to_drop) & uplift_names))} need crime data")
    if crime_missing and missing_crime == "fail":
        areas = frame.loc[~frame["police_data"], "area_name"].tolist()
        raise DiogelError(
            f"component(s) {', '.join(crime_missing)} need recorded crime, which is unknown for "
            f"{len(areas)} area(s) ({', '.join(areas[:5])}{', ...' if len(areas) > 5 else ''}): load their "
            "police data or use --missing-crime drop"
        )
    to_drop = [d for d in to_drop if d in {c.name for c in f.enabled_components}]
    if to_drop:
        if len(to_drop) == len(f.enabled_components):
            raise DiogelError(f"every component of {requested.name} needs data that is not loaded")
        before = {c.name: c.share for c in f.enabled_components}
        f = set_components(f, disable=to_drop)
        components = ", ".join(f"{d} ({before[d]:.0%})" for d in to_drop)
        after = ", ".join(f"{c.name} {c.share:.4g}" for c in f.enabled_components)
        notes.append(
            T(
                "component(s) {components} left out because recorded crime is unknown for some areas (no "
                "police data loaded for their force); the other shares are rescaled to sum to 1: {after}",
                components=components,
                after=after,
            )
            if crime_missing
            else T(
                "component(s) {components} left out because asked; the other shares are rescaled to sum to "
                "1: {after}",
                components=components,
                after=after,
            )
        )
    return f, to_drop


def _add_context(table: pd.DataFrame, frame: pd.DataFrame, f: Formula, name: str) -> None:
    """Add residents, per head, crimes, per crime, police data and note to an allocation table."""
    ctx = frame.set_index("area_code")
    uplift_names = {u.name for u in f.uplifts}
    clash = set(CONTEXT_COLUMNS) & {c.name for c in f.components} | set(CONTEXT_COLUMNS) & uplift_names
    if clash:
        raise DiogelError(f"formula {name}: rename component(s) {', '.join(sorted(clash))}")
    table["residents"] = table["area_code"].map(ctx["population"]).astype("int64")
    table["per_head"] = table["total"] / table["residents"]
    table["crimes"] = table["area_code"].map(ctx["recorded_crime"])
    table["per_crime"] = table["total"] / table["crimes"]
    table["police_data"] = table["area_code"].map(ctx["police_data"]).astype(bool)
    table["note"] = table["area_code"].map(ctx["note"]).fillna("")


@dataclass
class Comparison:
    """Allocation ``a`` against allocation ``b``: winners and losers, and damping of the change.

    ``table`` is :func:`diogel.resources.allocation.compare` (b - a) plus ``police_data`` and ``note``,
    and, when damping applies, ``damped_total``, ``damped_change``, ``damped_change_pct`` and
    ``constraint`` (see :func:`diogel.resources.damping.apply_damping`).
    """

    a: Allocation
    b: Allocation
    label_a: str
    label_b: str
    table: pd.DataFrame
    damping: tuple[float | None, float | None] | None
    same_formula: bool = False
    notes: list[str] = field(default_factory=list)


def _totals_at(alloc: Allocation, unit: str) -> pd.DataFrame:
    if alloc.formula.unit == unit:
        return alloc.table
    if alloc.formula.unit == "local_authority_2005" and unit == "csp":
        money = ["area_code", "area_name", *alloc.components, "total", "total_pence"]
        return allocation_to_csp(alloc.table[money])
    raise DiogelError(f"cannot compare an allocation by {alloc.formula.unit} with one by {unit}")


def compare_from_warehouse(
    wh: Warehouse,
    a: str | Path | Formula,
    b: str | Path | Formula | None = None,
    year: int | None = None,
    population_years: tuple[int | None, int | None] = (None, None),
    windows: tuple[CrimeWindow | None, CrimeWindow | None] = (None, None),
    floor: float | None = None,
    ceiling: float | None = None,
    missing_crime: str = "drop",
) -> Comparison:
    """Compare two formulas, or (``b`` None) one formula on frozen against current statistics.

    Both runs leave out the same components (a component that cannot run in one is left out of
    both), so the change comes from the formula or the statistics, not from what data is loaded.
    Allocations by the 22 authorities are summed to CSPs to meet one by CSP. Per-head and per-crime
    changes use ``b``'s (current) population and recorded crime. Damping bounds ``floor`` and
    ``ceiling`` (default: ``b``'s own ``damping``) limit each area's change from ``a``, budget
    neutrally (:func:`diogel.resources.damping.apply_damping`): the table then shows both who would
    lose and by how much, and what damping leaves them.
    """
    fa = resolve_formula(a)
    fb = resolve_formula(b) if b is not None else fa
    same = b is None
    if year is None:
        common = sorted(set(fa.pots) & set(fb.pots))
        year = common[-1] if common else max(fb.pots)
    frozen, cache = ((True, False) if same else (None, None)), {}

    def run(drop: tuple[str, ...] = ()) -> list[Allocation]:
        return [allocate_from_warehouse(wh, f, year, frozen[i], population_years[i], windows[i], missing_crime,
                                        drop=drop, cache=cache) for i, f in enumerate((fa, fb))]  # fmt: skip

    ra, rb = run()
    # The same components in both runs, where the two are the same formula.
    if same and set(ra.dropped) != set(rb.dropped):
        ra, rb = run(tuple(sorted(set(ra.dropped) | set(rb.dropped))))
    table, unit = _comparison_table(ra, rb)
    if same:
        label_a = T("{name}, frozen statistics", name=fa.name)
        label_b = T("{name}, current statistics", name=fb.name)
    else:
        label_a, label_b = fa.name, fb.name
    notes = [
        T("A = {label}: {statistics}", label=label_a, statistics=ra.statistics),
        T("B = {label}: {statistics}", label=label_b, statistics=rb.statistics),
        T(
            "financial year {year}; areas: {unit}",
            year=financial_year(year),
            unit=UNIT_LABELS.get(unit, unit),
        ),
        T("per head and per crime use B's population and recorded crime"),
    ]
    if (
        same
        and ra.indicators.population_year == rb.indicators.population_year
        and ra.indicators.window == rb.indicators.window
    ):
        notes.append(T("frozen and current statistics are the same data here, so nothing changes"))
    notes += [n for n in rb.notes if n.startswith(("component", "no police", "recorded crime"))]
    if ra.formula.pots[year] != rb.formula.pots[year]:
        notes.append(
            T(
                "the pots differ (A £{a:,.0f}, B £{b:,.0f}): compare share_a and share_b as well as the change "
                "in pounds",
                a=ra.formula.pots[year],
                b=rb.formula.pots[year],
            )
        )
    bounds = (floor, ceiling)
    if floor is None and ceiling is None and rb.formula.damping is not None:
        bounds = (rb.formula.damping.floor, rb.formula.damping.ceiling)
    damping = _damp(table, bounds, notes) if bounds != (None, None) else None
    notes.append(_losers(table))
    return Comparison(ra, rb, label_a, label_b, table, damping, same, notes)


def _comparison_table(ra: Allocation, rb: Allocation) -> tuple[pd.DataFrame, str]:
    """B - A by area (at CSPs when one run is by the 22 authorities) with B's context; and the unit."""
    unit = rb.formula.unit if rb.formula.unit == ra.formula.unit else "csp"
    ta, tb = _totals_at(ra, unit), _totals_at(rb, unit)
    ctx = rb.unit_frame if rb.formula.unit == unit else for_unit(rb.indicators, unit)
    ctx = ctx.set_index("area_code")
    try:
        table = compare(ta, tb, ctx["population"], ctx["recorded_crime"])
    except ValueError as exc:
        raise DiogelError(str(exc)) from None
    table["population"] = table["area_code"].map(ctx["population"]).astype("int64")
    table["police_data"] = table["area_code"].map(ctx["police_data"]).astype(bool)
    table["note"] = table["area_code"].map(ctx["note"]).fillna("")
    return table, unit


def _damp(
    table: pd.DataFrame, bounds: tuple[float | None, float | None], notes: list[str]
) -> tuple[float | None, float | None] | None:
    """Add the damped columns to a comparison table and say what damping did in ``notes``; return the
    bounds applied, or None when damping cannot be applied (said in ``notes``)."""
    # With different pots the reference is A's distribution of B's pot, so damping limits the
    # change in each area's share rather than the change in pot size that everyone gets.
    scale = table["total_b"].sum() / table["total_a"].sum()
    reference = (table["total_a"] * scale).round(2)
    if abs(scale - 1) > 1e-12:
        notes.append(T("damping is measured against A's shares of B's pot (A x {scale:.6f})", scale=scale))
    try:
        d = apply_damping(
            pd.Series(table["total_b"].to_numpy(), index=table["area_code"]),
            pd.Series(reference.to_numpy(), index=table["area_code"]),
            bounds[0],
            bounds[1],
        ).set_index("area_code")
    except ValueError as exc:
        notes.append(
            T(
                "damping (floor {floor}, ceiling {ceiling}) cannot be applied: {error}",
                floor=bounds[0],
                ceiling=bounds[1],
                error=str(exc),
            )
        )
        return None
    table["damped_total"] = table["area_code"].map(d["damped"])
    table["damped_change"] = (table["damped_total"] - table["total_a"]).round(2)
    table["damped_change_pct"] = 100 * table["damped_change"] / table["total_a"]
    table["damped_change_per_head"] = table["damped_change"] / table["population"]
    table["constraint"] = table["area_code"].map(d["constraint"])
    protected = table[table["constraint"] == "floor"]
    floor = T("no area loses more than {pct:g}%", pct=-bounds[0] * 100) if bounds[0] is not None else None
    ceiling = T("no area gains more than {pct:g}%", pct=bounds[1] * 100) if bounds[1] is not None else None
    notes.append(
        T(
            "damping: {limits}; {n} area(s) held at the floor, costing £{cost:,.2f} paid by scaling gains "
            "(k = {k:.4f})",
            limits=T("{floor} {ceiling}", floor=floor, ceiling=ceiling)
            if floor and ceiling
            else floor or ceiling,
            n=len(protected),
            cost=protected["damped_change"].sub(protected["change"]).sum(),
            k=d.attrs["k"],
        )
    )
    return bounds


def _losers(table: pd.DataFrame) -> str:
    """The note on who loses from A to B, and the largest loss."""
    losers = table[table["change"] < 0]
    if not len(losers):
        return T("no area loses")
    worst = losers.sort_values("change").iloc[0]
    return T(
        "{n} area(s) lose, £{total:,.2f} in all; the largest loss is {area}: £{loss:,.2f} ({pct:.1f}%)",
        n=len(losers),
        total=-losers["change"].sum(),
        area=Place(worst["area_name"]),
        loss=-worst["change"],
        pct=worst["change_pct"],
    )
