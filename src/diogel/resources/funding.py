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
from diogel.resources.allocation import allocate, allocation_to_csp, compare
from diogel.resources.charts import chart_allocation, chart_comparison
from diogel.resources.damping import apply_damping
from diogel.resources.indicator_kinds import component_columns
from diogel.resources.indicators import (
    CRIME_COLUMNS,
    CrimeWindow,
    Indicators,
    default_window,
    for_unit,
    indicator_vintage,
    la_indicators,
    population_years,
    vintage_lines,
)
from diogel.resources.provenance import allocation_figures, comparison_figures, write_figures
from diogel.resources.spec import Formula, load_formula, set_components, with_base_year

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

CONTEXT_COLUMNS = ("residents", "per_head", "crimes", "per_crime", "police_data", "note")
UNIT_LABELS = {
    "local_authority_2005": "the 22 Welsh local authorities (one partnership each, 2005-08)",
    "csp": "today's 21 Welsh CSPs (Cwm Taf = Rhondda Cynon Taf + Merthyr Tydfil)",
    "any": "every local authority with population loaded",
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
        why = f"mid-{population_year} population (as asked)"
    elif frozen and formula.base_year in years:
        population_year = formula.base_year
        why = f"mid-{population_year} population (the formula's base year)"
    elif frozen:
        population_year = years[0]
        fixed = (
            f"the formula fixes its statistics at {formula.base_year}, which is not loaded; "
            if formula.base_year is not None
            else ""
        )
        why = f"mid-{population_year} population (frozen: {fixed}the earliest year loaded)"
    else:
        population_year = years[-1]
        why = f"mid-{population_year} population (current: the latest year loaded)"
    if window is None:
        window = default_window(wh, latest=not frozen)
        if window is not None:
            which = "earliest" if frozen else "latest"
            why += f"; police data {window.label} (the {which} 12 months loaded)"
    else:
        why += f"; police data {window.label} (as asked)"
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
    # Over 80 lines: choosing statistics, dropping unknown-crime components and the notes must stay in this order.
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
        after = ", ".join(f"{c.name} {c.share:.4g}" for c in f.enabled_components)
        why = (
            "recorded crime is unknown for some areas (no police data loaded for their force)"
            if crime_missing
            else "asked"
        )
        notes.append(
            f"component(s) {', '.join(f'{d} ({before[d]:.0%})' for d in to_drop)} left out because {why}; "
            f"the other shares are rescaled to sum to 1: {after}"
        )
    try:
        table = allocate(f, frame, year)
    except ValueError as exc:
        raise DiogelError(f"formula {requested.name}: {exc}") from None
    ctx = frame.set_index("area_code")
    clash = set(CONTEXT_COLUMNS) & {c.name for c in f.components} | set(CONTEXT_COLUMNS) & uplift_names
    if clash:
        raise DiogelError(f"formula {requested.name}: rename component(s) {', '.join(sorted(clash))}")
    table["residents"] = table["area_code"].map(ctx["population"]).astype("int64")
    table["per_head"] = table["total"] / table["residents"]
    table["crimes"] = table["area_code"].map(ctx["recorded_crime"])
    table["per_crime"] = table["total"] / table["crimes"]
    table["police_data"] = table["area_code"].map(ctx["police_data"]).astype(bool)
    table["note"] = table["area_code"].map(ctx["note"]).fillna("")
    notes = [
        f"formula: {requested.title or requested.name}; unit: {UNIT_LABELS.get(requested.unit, requested.unit)}",
        f"pot for {financial_year(year)}: £{requested.pots[year]:,.2f}",
        f"statistics: {statistics}",
        *vintage_lines(ind),
        *ind.notes,
        *notes,
    ]
    return Allocation(requested, f, year, ind, frame, table, tuple(to_drop), statistics, notes)


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
    # Over 80 lines: the two runs, damping and every note on them are one argument, read top to bottom.
    fa = resolve_formula(a)
    fb = resolve_formula(b) if b is not None else fa
    same = b is None
    if year is None:
        common = sorted(set(fa.pots) & set(fb.pots))
        year = common[-1] if common else max(fb.pots)
    frozen_a, frozen_b = (True, False) if same else (None, None)
    kw = dict(year=year, missing_crime=missing_crime, cache={})
    runs = [
        allocate_from_warehouse(wh, fa, frozen=frozen_a, population_year=population_years[0], window=windows[0], **kw),
        allocate_from_warehouse(wh, fb, frozen=frozen_b, population_year=population_years[1], window=windows[1], **kw),
    ]  # fmt: skip
    # The same components in both runs, where the two are the same formula.
    if same and set(runs[0].dropped) != set(runs[1].dropped):
        both = tuple(sorted(set(runs[0].dropped) | set(runs[1].dropped)))
        runs = [
            allocate_from_warehouse(wh, fa, frozen=frozen_a, population_year=population_years[0], window=windows[0], drop=both, **kw),
            allocate_from_warehouse(wh, fb, frozen=frozen_b, population_year=population_years[1], window=windows[1], drop=both, **kw),
        ]  # fmt: skip
    ra, rb = runs
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
    if same:
        label_a, label_b = f"{fa.name}, frozen statistics", f"{fb.name}, current statistics"
    else:
        label_a, label_b = fa.name, fb.name
    notes = [
        f"A = {label_a}: {ra.statistics}",
        f"B = {label_b}: {rb.statistics}",
        f"financial year {financial_year(year)}; areas: {UNIT_LABELS.get(unit, unit)}",
        "per head and per crime use B's population and recorded crime",
    ]
    if (
        same
        and ra.indicators.population_year == rb.indicators.population_year
        and ra.indicators.window == rb.indicators.window
    ):
        notes.append("frozen and current statistics are the same data here, so nothing changes")
    notes += [n for n in rb.notes if n.startswith(("component", "no police", "recorded crime"))]
    if ra.formula.pots[year] != rb.formula.pots[year]:
        notes.append(
            f"the pots differ (A £{ra.formula.pots[year]:,.0f}, B £{rb.formula.pots[year]:,.0f}): compare "
            "share_a and share_b as well as the change in pounds"
        )
    bounds = (floor, ceiling)
    if floor is None and ceiling is None and rb.formula.damping is not None:
        bounds = (rb.formula.damping.floor, rb.formula.damping.ceiling)
    damping = None
    if bounds != (None, None):
        # With different pots the reference is A's distribution of B's pot, so damping limits the
        # change in each area's share rather than the change in pot size that everyone gets.
        scale = table["total_b"].sum() / table["total_a"].sum()
        reference = (table["total_a"] * scale).round(2)
        if abs(scale - 1) > 1e-12:
            notes.append(f"damping is measured against A's shares of B's pot (A x {scale:.6f})")
        try:
            d = apply_damping(
                pd.Series(table["total_b"].to_numpy(), index=table["area_code"]),
                pd.Series(reference.to_numpy(), index=table["area_code"]),
                bounds[0],
                bounds[1],
            ).set_index("area_code")
        except ValueError as exc:
            notes.append(f"damping (floor {bounds[0]}, ceiling {bounds[1]}) cannot be applied: {exc}")
        else:
            damping = bounds
            table["damped_total"] = table["area_code"].map(d["damped"])
            table["damped_change"] = (table["damped_total"] - table["total_a"]).round(2)
            table["damped_change_pct"] = 100 * table["damped_change"] / table["total_a"]
            table["damped_change_per_head"] = table["damped_change"] / table["population"]
            table["constraint"] = table["area_code"].map(d["constraint"])
            protected = table[table["constraint"] == "floor"]
            notes.append(
                (
                    f"damping: no area loses more than {-bounds[0] * 100:g}%"
                    if bounds[0] is not None
                    else "damping:"
                )
                + (f" no area gains more than {bounds[1] * 100:g}%" if bounds[1] is not None else "")
                + f"; {len(protected)} area(s) held at the floor, costing £{protected['damped_change'].sub(protected['change']).sum():,.2f}"
                f" paid by scaling gains (k = {d.attrs['k']:.4f})"
            )
    losers = table[table["change"] < 0]
    if len(losers):
        worst = losers.sort_values("change").iloc[0]
        notes.append(
            f"{len(losers)} area(s) lose, £{-losers['change'].sum():,.2f} in all; the largest loss is "
            f"{worst['area_name']}: £{-worst['change']:,.2f} ({worst['change_pct']:.1f}%)"
        )
    else:
        notes.append("no area loses")
    return Comparison(ra, rb, label_a, label_b, table, damping, same, notes)


# ---------------------------------------------------------------------------------------------
# Writing


def _stem(alloc: Allocation) -> str:
    return f"{alloc.requested.name}_{financial_year(alloc.year).replace('/', '-')}"


def allocation_vintage(alloc: Allocation) -> pd.DataFrame:
    """The data vintage of every indicator the allocation's formula uses (population year,
    deprivation index, crime months), from :func:`diogel.resources.indicators.indicator_vintage`."""
    comps = [*alloc.formula.enabled_components, *(u.basis for u in alloc.formula.uplifts)]
    used = set().union(*(component_columns(c) for c in comps)) | {"population"}  # residents are always shown
    v = indicator_vintage(alloc.indicators)
    # Single-year-of-age columns feed the age-band and age-weighted population components.
    ages = any(c.indicator in ("population_age_band", "age_weighted_population") for c in comps)
    v.insert(0, "used_by_formula", v["indicator"].isin(used) | (v["indicator"].str.startswith("age_") & ages))
    v.insert(0, "formula", alloc.requested.name)
    v.insert(1, "financial_year", financial_year(alloc.year))
    return v


def write_allocation(alloc: Allocation, out_dir: str | Path) -> list[Path]:
    """Write ``<formula>_<yyyy-yy>_allocation.csv`` (one row per area), ``..._notes.txt``,
    ``..._vintage.csv`` (what year, index and months every indicator comes from), ``..._figures.json``
    (every figure with its definition, inputs and parameters) and an SVG chart."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = _stem(alloc)
    csv_path = out / f"{stem}_allocation.csv"
    alloc.table.to_csv(csv_path, index=False, lineterminator="\n", float_format="%.6f")
    notes = out / f"{stem}_notes.txt"
    notes.write_text("\n".join(alloc.notes) + "\n", encoding="utf-8")
    vintage = out / f"{stem}_vintage.csv"
    allocation_vintage(alloc).to_csv(vintage, index=False, lineterminator="\n")
    figures = write_figures(
        out / f"{stem}_figures.json",
        "diogel funding allocation",
        allocation_figures(alloc, allocation_vintage(alloc), financial_year(alloc.year), csv_path.name),
    )
    svg = out / f"{stem}_allocation.svg"
    svg.write_text(
        chart_allocation(
            alloc.table,
            alloc.components,
            f"{alloc.requested.name.upper()} {financial_year(alloc.year)} by component",
        ),
        encoding="utf-8",
    )
    return [csv_path, notes, vintage, figures, svg]


def write_comparison(cmp: Comparison, out_dir: str | Path) -> list[Path]:
    """Write the comparison CSV, notes, vintage, ``..._figures.json`` and change-per-head charts (SVG and
    PNG; damped too if damped)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    a, b = cmp.a.requested.name, cmp.b.requested.name
    stem = f"compare_{a}_{'frozen_vs_current' if cmp.same_formula else 'vs_' + b}"
    stem += f"_{financial_year(cmp.b.year).replace('/', '-')}"
    paths = [out / f"{stem}.csv", out / f"{stem}_notes.txt", out / f"{stem}_vintage.csv"]
    cmp.table.to_csv(paths[0], index=False, lineterminator="\n", float_format="%.6f")
    vintage_notes = [f"{label} {line}" for label, alloc in ((cmp.label_a, cmp.a), (cmp.label_b, cmp.b))
                     for line in vintage_lines(alloc.indicators)]  # fmt: skip
    paths[1].write_text("\n".join([*cmp.notes, *vintage_notes]) + "\n", encoding="utf-8")
    vintage = pd.concat(
        [
            allocation_vintage(cmp.a).assign(allocation=cmp.label_a),
            allocation_vintage(cmp.b).assign(allocation=cmp.label_b),
        ],
        ignore_index=True,
    )
    vintage.to_csv(paths[2], index=False, lineterminator="\n")
    figures = comparison_figures(cmp, vintage, financial_year(cmp.b.year), paths[0].name)
    paths.append(write_figures(out / f"{stem}_figures.json", "diogel funding comparison", figures))
    title = (
        f"Change per head, {a}: frozen -> current statistics"
        if cmp.same_formula
        else f"Change per head, {a} -> {b}"
    )
    charts = [("change_per_head", title, "")]
    if "damped_change_per_head" in cmp.table.columns:
        charts.append(("damped_change_per_head", title + " (damped)", "_damped"))
    for value, ttl, suffix in charts:
        svg = out / f"{stem}{suffix}.svg"
        png = out / f"{stem}{suffix}.png"
        svg.write_text(str(chart_comparison(cmp.table, value, ttl)), encoding="utf-8")
        png.write_bytes(bytes(chart_comparison(cmp.table, value, ttl, fmt="png")))  # type: ignore[arg-type]
        paths += [svg, png]
    return paths
