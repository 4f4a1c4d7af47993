"""Grant formulas as data: the YAML format, loading, validation and switching components.

A formula is a YAML file (see ``presets/``) with:

``name``, ``title``, ``unit``; optional ``title_cy``
    ``title_cy`` is the title in Welsh, which the Welsh notes (``diogel funding --language cy``) use;
    without it they give the English ``title`` as written.
    ``unit`` is ``local_authority_2005`` (the 22 Welsh local authorities, one partnership each in
    2005-08), ``csp`` (today's 21 Welsh CSPs: Cwm Taf covers Rhondda Cynon Taf W06000016 and Merthyr
    Tydfil W06000024) or ``any`` (no check on the set of areas).
``pots``
    ``{financial_year: amount}``; 2005 means 2005/06. Amounts in pounds.
``base_year``
    Optional. Freeze every component's indicators at this year (a component may override it).
``components``
    Each has ``name``, ``share`` (of the pot left after uplifts), ``indicator`` and, optionally,
    ``weights`` (``{area_code: multiplier}``), ``base_year``, ``enabled`` (default true) and the
    indicator's parameters. Indicators and the columns they read from the indicator frame:

    - ``equal``: 1 per area.
    - ``population``: ``population``.
    - ``population_age_band`` with ``age_band: [lo, hi]`` (inclusive): the sum of single-year-of-age
      columns ``lo..hi`` (named ``age_<n>`` or ``<n>``, with ``age_90``/``90+`` holding 90 and over),
      or a ready-made column ``population_<lo>_<hi>``.
    - ``age_weighted_population`` with ``age_weights: [[lo, hi, weight], ...]``: sum over single years
      of age of population x the weight of the band the age falls in (ages in no band weigh 0).
    - ``recorded_crime``: ``recorded_crime``.
    - ``deprivation_weighted_population``: ``population`` x ``column`` (default ``deprivation_score``).
    - ``sparsity``: ``population`` x ``column`` (default ``sparsity_index``, e.g. the share of the
      area's population living at low density; see :func:`diogel.resources.indicator_kinds.sparsity_index`).
    - ``measure: <column>``: any column the caller supplies (e.g. ``crime_harm``).
``uplifts``
    ``{year: [{name, amount, indicator (default equal)}]}``: fixed sums carved out of that year's pot
    before the component split and shared by their own indicator.
``damping``
    Optional ``{floor, ceiling}``: bounds on the fractional change from a reference allocation,
    see :func:`diogel.resources.damping.apply_damping`.

Indicators are registered in :mod:`diogel.resources.indicator_kinds`. Rounding rule
(:mod:`diogel.resources.allocation`): every split is done in whole pence by the largest-remainder (Hamilton) method on exact
rational quotas, ties going to the area that sorts first by ``area_code``. The pot in pence is split
into component pots (and uplifts), each component pot into area amounts, so every component and the
totals add up to the pot exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from diogel.resources.areas import WALES_LA_TO_CSP, WALES_LOCAL_AUTHORITIES
from diogel.resources.indicator_kinds import INDICATORS

UNITS = ("local_authority_2005", "csp", "any")


def unit_area_codes(unit: str) -> dict[str, str] | None:
    """Area code -> name expected for ``unit`` (``None`` for ``any``)."""
    if unit == "local_authority_2005":
        return dict(WALES_LOCAL_AUTHORITIES)
    if unit == "csp":
        return dict(sorted(set(WALES_LA_TO_CSP.values())))
    if unit == "any":
        return None
    raise ValueError(f"unknown unit {unit!r}; expected one of {', '.join(UNITS)}")


@dataclass(frozen=True)
class Component:
    """One slice of the pot shared by an indicator (also used for uplifts)."""

    name: str
    share: float
    indicator: str
    column: str | None = None
    age_band: tuple[int, int] | None = None
    age_weights: tuple[tuple[int, int, float], ...] | None = None
    weights: Mapping[str, float] | None = None
    base_year: int | None = None
    enabled: bool = True
    description: str = ""


@dataclass(frozen=True)
class Uplift:
    """A fixed sum carved out of one year's pot before the component split."""

    name: str
    year: int
    amount: float
    basis: Component


@dataclass(frozen=True)
class Damping:
    """Bounds on the fractional change from a reference allocation (``-0.05`` = lose at most 5%)."""

    floor: float | None = None
    ceiling: float | None = None


@dataclass(frozen=True)
class Formula:
    name: str
    unit: str
    pots: Mapping[int, float]
    components: tuple[Component, ...]
    uplifts: tuple[Uplift, ...] = ()
    damping: Damping | None = None
    base_year: int | None = None
    title: str = ""
    #: The title in Welsh (the Welsh notes use it; without it they give the English title as written).
    title_cy: str = ""
    source: str = ""
    notes: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def enabled_components(self) -> tuple[Component, ...]:
        return tuple(c for c in self.components if c.enabled)


# ---------------------------------------------------------------------------------------------
# Loading


def _component_from_dict(d: Mapping[str, Any], where: str, default_share: float | None = None) -> Component:
    d = dict(d)
    name = d.get("name")
    if not name:
        raise ValueError(f"{where}: component without a name")
    if "measure" in d and "indicator" not in d:
        d["indicator"] = "measure"
        d["column"] = d.pop("measure")
    indicator = d.get("indicator", "equal")
    if indicator not in INDICATORS:
        raise ValueError(f"{where}: component {name!r}: unknown indicator {indicator!r}")
    share = d.get("share", default_share)
    if share is None:
        raise ValueError(f"{where}: component {name!r} has no share")
    age_band = d.get("age_band")
    if indicator == "population_age_band":
        if not (isinstance(age_band, list | tuple) and len(age_band) == 2):
            raise ValueError(f"{where}: component {name!r} needs age_band: [lo, hi]")
        age_band = (int(age_band[0]), int(age_band[1]))
    age_weights = d.get("age_weights")
    if indicator == "age_weighted_population":
        if not age_weights:
            raise ValueError(f"{where}: component {name!r} needs age_weights: [[lo, hi, weight], ...]")
        age_weights = tuple((int(a), int(b), float(w)) for a, b, w in age_weights)
    if indicator == "measure" and not d.get("column"):
        raise ValueError(f"{where}: component {name!r}: measure needs a column name")
    weights = d.get("weights")
    return Component(
        name=str(name),
        share=float(share),
        indicator=indicator,
        column=d.get("column"),
        age_band=age_band,
        age_weights=age_weights,
        weights={str(k): float(v) for k, v in weights.items()} if weights else None,
        base_year=int(d["base_year"]) if d.get("base_year") is not None else None,
        enabled=bool(d.get("enabled", True)),
        description=str(d.get("description", "")).strip(),
    )


def formula_from_dict(data: Mapping[str, Any], where: str = "<formula>") -> Formula:
    """Build a :class:`Formula` from the parsed YAML mapping, validating it."""
    try:
        name = str(data["name"])
        unit = str(data["unit"])
        pots = {int(k): float(v) for k, v in data["pots"].items()}
        comps = data["components"]
    except KeyError as exc:
        raise ValueError(f"{where}: missing key {exc.args[0]!r}") from None
    unit_area_codes(unit)
    components = tuple(_component_from_dict(c, where) for c in comps)
    names = [c.name for c in components]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: duplicate component names")
    uplifts = []
    for year, items in (data.get("uplifts") or {}).items():
        for u in items:
            basis = _component_from_dict({**u, "share": 1.0}, where)
            uplifts.append(Uplift(name=basis.name, year=int(year), amount=float(u["amount"]), basis=basis))
    damping = None
    if data.get("damping"):
        dd = data["damping"]
        damping = Damping(floor=dd.get("floor"), ceiling=dd.get("ceiling"))
    known = {
        "name",
        "unit",
        "pots",
        "components",
        "uplifts",
        "damping",
        "base_year",
        "title",
        "title_cy",
        "source",
        "notes",
    }
    formula = Formula(
        name=name,
        unit=unit,
        pots=pots,
        components=components,
        uplifts=tuple(uplifts),
        damping=damping,
        base_year=int(data["base_year"]) if data.get("base_year") is not None else None,
        title=str(data.get("title", "")),
        title_cy=str(data.get("title_cy") or "").strip(),
        source=str(data.get("source", "")).strip(),
        notes=str(data.get("notes", "")).strip(),
        extra={k: v for k, v in data.items() if k not in known},
    )
    check_shares(formula, where)
    return formula


def check_shares(formula: Formula, where: str) -> None:
    total = sum(Fraction(repr(c.share)) for c in formula.enabled_components)
    if any(c.share < 0 for c in formula.components):
        raise ValueError(f"{where}: negative component share")
    # Shares are read as decimals (0.3 is 3/10); the tolerance only absorbs rescaled shares such as
    # 0.25 / 1.1. The split itself divides by the exact sum, so it never leaks a penny.
    if abs(total - 1) > Fraction(1, 10**9):
        raise ValueError(f"{where}: shares of enabled components sum to {float(total):.6g}, not 1")


def load_formula(name_or_path: str | Path) -> Formula:
    """Load a formula from a preset name (``scf``, ``smaf``, ``needs``) or a YAML path."""
    p = Path(name_or_path)
    if p.suffix.lower() in {".yaml", ".yml"} or p.exists():
        text = p.read_text(encoding="utf-8")
        where = str(p)
    else:
        pkg = resources.files("diogel.resources") / "presets" / f"{name_or_path}.yaml"
        if not pkg.is_file():
            raise ValueError(f"no formula preset called {name_or_path!r} and no such file")
        text = pkg.read_text(encoding="utf-8")
        where = f"preset {name_or_path}"
    data = yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: not a YAML mapping")
    return formula_from_dict(data, where)


def set_components(
    formula: Formula, enable: Sequence[str] = (), disable: Sequence[str] = (), rescale: bool = True
) -> Formula:
    """Switch components on or off.

    With ``rescale`` the shares of the enabled components are divided by their sum, so the shares
    written for switched-off components act as their relative weight once switched on.
    """
    names = {c.name for c in formula.components}
    unknown = (set(enable) | set(disable)) - names
    if unknown:
        raise ValueError(f"unknown components: {', '.join(sorted(unknown))}")
    comps = []
    for c in formula.components:
        on = (c.enabled or c.name in enable) and c.name not in disable
        comps.append(replace(c, enabled=on))
    if rescale:
        total = sum(Fraction(repr(c.share)) for c in comps if c.enabled)
        if total == 0:
            raise ValueError("no enabled components")
        comps = [replace(c, share=float(Fraction(repr(c.share)) / total)) if c.enabled else c for c in comps]
    out = replace(formula, components=tuple(comps))
    if not rescale:
        check_shares(out, formula.name)
    return out


def with_base_year(formula: Formula, base_year: int | None) -> Formula:
    """Freeze every component's indicators at ``base_year`` (``None``: use the allocation year)."""
    return replace(
        formula,
        base_year=base_year,
        components=tuple(replace(c, base_year=None) for c in formula.components),
    )
