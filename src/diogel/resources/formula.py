"""Grant allocation formulas as data, allocation to the penny, damping and winners/losers.

A formula is a YAML file (see ``presets/``) with:

``name``, ``title``, ``unit``
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
      area's population living at low density; see :func:`sparsity_index`).
    - ``measure: <column>``: any column the caller supplies (e.g. ``crime_harm``).
``uplifts``
    ``{year: [{name, amount, indicator (default equal)}]}``: fixed sums carved out of that year's pot
    before the component split and shared by their own indicator.
``damping``
    Optional ``{floor, ceiling}``: bounds on the fractional change from a reference allocation,
    see :func:`apply_damping`.

Rounding rule: every split is done in whole pence by the largest-remainder (Hamilton) method on exact
rational quotas, ties going to the area that sorts first by ``area_code``. The pot in pence is split
into component pots (and uplifts), each component pot into area amounts, so every component and the
totals add up to the pot exactly.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

# The 22 Welsh unitary authorities (2019 codes, unchanged since 1996 apart from recoding).
WALES_LOCAL_AUTHORITIES: dict[str, str] = {
    "W06000001": "Isle of Anglesey",
    "W06000002": "Gwynedd",
    "W06000003": "Conwy",
    "W06000004": "Denbighshire",
    "W06000005": "Flintshire",
    "W06000006": "Wrexham",
    "W06000008": "Ceredigion",
    "W06000009": "Pembrokeshire",
    "W06000010": "Carmarthenshire",
    "W06000011": "Swansea",
    "W06000012": "Neath Port Talbot",
    "W06000013": "Bridgend",
    "W06000014": "Vale of Glamorgan",
    "W06000015": "Cardiff",
    "W06000016": "Rhondda Cynon Taf",
    "W06000018": "Caerphilly",
    "W06000019": "Blaenau Gwent",
    "W06000020": "Torfaen",
    "W06000021": "Monmouthshire",
    "W06000022": "Newport",
    "W06000023": "Powys",
    "W06000024": "Merthyr Tydfil",
}

# LA -> CSP 2019/2024 (ONS lookup): one CSP per LA except Cwm Taf.
WALES_LA_TO_CSP: dict[str, tuple[str, str]] = {
    "W06000001": ("W14000001", "Isle of Anglesey"),
    "W06000002": ("W14000002", "Gwynedd"),
    "W06000003": ("W14000003", "Conwy"),
    "W06000004": ("W14000004", "Denbighshire"),
    "W06000005": ("W14000005", "Flintshire"),
    "W06000006": ("W14000006", "Wrexham"),
    "W06000008": ("W14000008", "Ceredigion"),
    "W06000009": ("W14000009", "Pembrokeshire"),
    "W06000010": ("W14000010", "Carmarthenshire"),
    "W06000011": ("W14000011", "Swansea"),
    "W06000012": ("W14000012", "Neath Port Talbot"),
    "W06000013": ("W14000013", "Bridgend"),
    "W06000014": ("W14000014", "Vale of Glamorgan"),
    "W06000015": ("W14000015", "Cardiff"),
    "W06000016": ("W14000023", "Cwm Taf"),
    "W06000018": ("W14000018", "Caerphilly"),
    "W06000019": ("W14000019", "Blaenau Gwent"),
    "W06000020": ("W14000020", "Torfaen"),
    "W06000021": ("W14000021", "Monmouthshire"),
    "W06000022": ("W14000022", "Newport"),
    "W06000023": ("W14000007", "Powys"),
    "W06000024": ("W14000023", "Cwm Taf"),
}

UNITS = ("local_authority_2005", "csp", "any")
INDICATORS = (
    "equal",
    "population",
    "population_age_band",
    "age_weighted_population",
    "recorded_crime",
    "deprivation_weighted_population",
    "sparsity",
    "measure",
)


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
        source=str(data.get("source", "")).strip(),
        notes=str(data.get("notes", "")).strip(),
        extra={k: v for k, v in data.items() if k not in known},
    )
    _check_shares(formula, where)
    return formula


def _check_shares(formula: Formula, where: str) -> None:
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
        _check_shares(out, formula.name)
    return out


def with_base_year(formula: Formula, base_year: int | None) -> Formula:
    """Freeze every component's indicators at ``base_year`` (``None``: use the allocation year)."""
    return replace(
        formula,
        base_year=base_year,
        components=tuple(replace(c, base_year=None) for c in formula.components),
    )


# ---------------------------------------------------------------------------------------------
# Indicators

_AGE_COL = re.compile(r"^(?:age_)?(\d{1,3})(\+|plus)?$")


def _age_columns(frame: pd.DataFrame) -> dict[int, str]:
    """Single-year-of-age columns: age -> column name (the top, open-ended band keys on its start)."""
    out: dict[int, str] = {}
    for col in frame.columns:
        m = _AGE_COL.match(str(col))
        if m:
            out[int(m.group(1))] = col
    return out


def _age_band_sum(frame: pd.DataFrame, lo: int, hi: int) -> pd.Series:
    ready = f"population_{lo}_{hi}"
    if ready in frame.columns:
        return frame[ready].astype(float)
    ages = _age_columns(frame)
    if not ages:
        raise ValueError(f"need column {ready!r} or single-year-of-age columns (age_0 .. age_90)")
    top = max(ages)
    wanted = [a for a in range(lo, hi + 1) if a <= top]
    missing = [a for a in wanted if a not in ages]
    if missing:
        raise ValueError(f"single-year-of-age columns missing for ages {missing[:5]}")
    return frame[[ages[a] for a in wanted]].astype(float).sum(axis=1)


def _need(frame: pd.DataFrame, col: str, comp: Component) -> pd.Series:
    if col not in frame.columns:
        raise ValueError(f"component {comp.name!r} ({comp.indicator}) needs indicator column {col!r}")
    return frame[col].astype(float)


def indicator_values(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """The raw weight each area gets under ``comp`` (before per-area ``weights``), indexed like ``frame``."""
    ind = comp.indicator
    if ind == "equal":
        values = pd.Series(1.0, index=frame.index)
    elif ind == "population":
        values = _need(frame, "population", comp)
    elif ind == "population_age_band":
        assert comp.age_band is not None
        values = _age_band_sum(frame, *comp.age_band)
    elif ind == "age_weighted_population":
        assert comp.age_weights is not None
        values = pd.Series(0.0, index=frame.index)
        for lo, hi, w in comp.age_weights:
            values = values + w * _age_band_sum(frame, lo, hi)
    elif ind == "recorded_crime":
        values = _need(frame, comp.column or "recorded_crime", comp)
    elif ind == "deprivation_weighted_population":
        values = _need(frame, "population", comp) * _need(frame, comp.column or "deprivation_score", comp)
    elif ind == "sparsity":
        values = _need(frame, "population", comp) * _need(frame, comp.column or "sparsity_index", comp)
    elif ind == "measure":
        assert comp.column is not None
        values = _need(frame, comp.column, comp)
    else:  # pragma: no cover - rejected at load time
        raise ValueError(f"unknown indicator {ind!r}")
    if comp.weights:
        codes = frame["area_code"].astype(str)
        values = values * codes.map(lambda c: comp.weights.get(c, 1.0)).astype(float)
    return values


def component_columns(comp: Component) -> set[str]:
    """The indicator columns ``comp`` reads (single-year-of-age columns are reported as ``population``)."""
    ind = comp.indicator
    if ind == "equal":
        return set()
    if ind in ("population", "population_age_band", "age_weighted_population"):
        return {"population"}
    if ind == "recorded_crime":
        return {comp.column or "recorded_crime"}
    if ind == "deprivation_weighted_population":
        return {"population", comp.column or "deprivation_score"}
    if ind == "sparsity":
        return {"population", comp.column or "sparsity_index"}
    return {str(comp.column)}


def sparsity_index(
    lsoa: pd.DataFrame, threshold_per_km2: float = 150.0, area_col: str = "area_code"
) -> pd.DataFrame:
    """Share of each area's population living in sparsely populated small areas.

    ``lsoa`` has one row per small area with ``area_col``, ``population`` and ``area_km2``. A small
    area is sparse when its density (population / km2) is below ``threshold_per_km2`` (default 150,
    the OECD rural threshold). Returns ``area_code`` and ``sparsity_index`` = population in sparse
    small areas / population, so that ``population x sparsity_index`` is the sparse population.
    """
    for col in (area_col, "population", "area_km2"):
        if col not in lsoa.columns:
            raise ValueError(f"sparsity_index needs column {col!r}")
    density = lsoa["population"] / lsoa["area_km2"]
    sparse_pop = lsoa["population"].where(density < threshold_per_km2, 0.0)
    g = pd.DataFrame({"area_code": lsoa[area_col], "sparse": sparse_pop, "pop": lsoa["population"]})
    out = g.groupby("area_code", sort=True)[["sparse", "pop"]].sum()
    return pd.DataFrame({"area_code": out.index, "sparsity_index": (out["sparse"] / out["pop"]).to_numpy()})


def indicators_to_csp(
    indicators: pd.DataFrame, mean_columns: Sequence[str] = ("deprivation_score", "education_score")
) -> pd.DataFrame:
    """Aggregate a 22-local-authority indicator frame to today's 21 CSPs.

    Count columns are summed; ``mean_columns`` (scores, indices) become population-weighted means so
    that ``population x score`` is preserved:
    ``score_csp = sum_la population_la x score_la / sum_la population_la``. A value missing (NaN) in
    any of a CSP's authorities leaves the CSP's value missing: an unknown count is not a zero. A
    ``year`` column, if present, is kept as a key.
    """
    df = indicators.copy()
    unknown = set(df["area_code"]) - set(WALES_LA_TO_CSP)
    if unknown:
        raise ValueError(f"not Welsh local authority codes: {', '.join(sorted(unknown))}")
    df["csp_code"] = df["area_code"].map(lambda c: WALES_LA_TO_CSP[c][0])
    df["csp_name"] = df["area_code"].map(lambda c: WALES_LA_TO_CSP[c][1])
    keys = ["csp_code", "csp_name"] + (["year"] if "year" in df.columns else [])
    means = [c for c in mean_columns if c in df.columns]
    numeric = [
        c
        for c in df.columns
        if c not in {"area_code", "area_name", *keys}
        and pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
    ]
    if means and "population" not in df.columns:
        raise ValueError("population is needed to average score columns")
    for c in means:
        df[c] = df[c] * df["population"]
    out = df.groupby(keys, sort=True)[numeric].sum()
    # groupby-sum skips NaN, which would count an unknown as zero; mask those groups back to NaN.
    unknown = df[numeric].isna().groupby([df[k] for k in keys], sort=True).any()
    out = out.mask(unknown).reset_index()
    for c in means:
        out[c] = out[c] / out["population"]
    return out.rename(columns={"csp_code": "area_code", "csp_name": "area_name"})


# ---------------------------------------------------------------------------------------------
# Allocation


def _to_pence(amount: float) -> int:
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
        damped with :func:`apply_damping`.

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
    _check_shares(formula, formula.name)

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

    pot = _to_pence(formula.pots[year])
    ups = [u for u in formula.uplifts if u.year == year]
    up_pence = [_to_pence(u.amount) for u in ups]
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
        ref = _as_totals(reference)
        damped = apply_damping(
            pd.Series(out["total"].to_numpy(), index=out["area_code"]),
            ref,
            formula.damping.floor,
            formula.damping.ceiling,
        )
        out["undamped_total"] = out["total"]
        dp = damped.set_index("area_code")["damped_pence"].reindex(out["area_code"]).to_numpy()
        out["total_pence"] = dp.astype(np.int64)
        out["total"] = out["total_pence"] / 100
        out["damping_adjustment"] = (out["total"] - out["undamped_total"]).round(2)
        out["share"] = out["total_pence"] / pot
        out.attrs["damping_k"] = damped.attrs["k"]
    return out


def _as_totals(x: pd.Series | pd.DataFrame | Mapping[str, float]) -> pd.Series:
    if isinstance(x, pd.DataFrame):
        return pd.Series(x["total"].to_numpy(dtype=float), index=x["area_code"].astype(str))
    return pd.Series(x, dtype=float)


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
    n = _as_totals(new)
    r = _as_totals(reference)
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

    damped: list[Fraction | None] = [None] * len(newf)
    constraint = ["none"] * len(newf)
    gainers = []
    for i, (nv, rv) in enumerate(zip(newf, reff, strict=True)):
        if nv > rv:
            gainers.append(i)
        elif lo[i] is not None and nv < lo[i]:
            damped[i], constraint[i] = lo[i], "floor"
        elif hi[i] is not None and nv > hi[i]:  # only possible with a negative ceiling
            damped[i], constraint[i] = hi[i], "ceiling"
        else:
            damped[i] = nv
    remaining = total - sum(d for d in damped if d is not None)
    k = Fraction(1)
    if gainers:
        gain = {i: newf[i] - reff[i] for i in gainers}
        base = sum(reff[i] for i in gainers)
        if remaining < base:
            cost = sum(damped[i] - newf[i] for i in range(len(newf)) if constraint[i] == "floor")
            raise ValueError(
                f"the floor costs {float(cost):,.2f} but gainers gain only {float(sum(gain.values())):,.2f}; "
                "lower the floor"
            )
        # The k at which each gainer reaches its ceiling: gainers are capped in that order.
        cap_k = sorted(((hi[i] - reff[i]) / gain[i], i) for i in gainers) if ceiling is not None else []
        capped: set[int] = set()
        while True:
            free = [i for i in gainers if i not in capped]
            fixed = sum(hi[i] for i in capped)
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


# ---------------------------------------------------------------------------------------------
# Comparison and charts


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
    ta, tb = _as_totals(a), _as_totals(b)
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


# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
_OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def _svg(fig: Any) -> str:
    import matplotlib

    buf = io.StringIO()
    # A fixed hash salt makes the SVG element ids (and so the file) reproducible.
    with matplotlib.rc_context({"svg.hashsalt": "diogel", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def svg_for_html(svg: str, prefix: str) -> str:
    """An SVG string ready to sit inline in an HTML page beside others.

    Drops the XML prolog and DOCTYPE, and prefixes every ``id`` (and each ``url(#id)`` and
    ``href="#id"`` pointing at one) with ``prefix``: matplotlib numbers ids the same way in every
    figure, so two inline charts would otherwise share ids and borrow each other's clip paths.
    """
    svg = re.sub(r"<\?xml[^>]*>\s*|<!DOCTYPE[^>]*>\s*", "", svg).strip()
    ids = set(re.findall(r'\bid="([^"]+)"', svg))

    def ref(m: re.Match[str]) -> str:
        return (
            m.group(0).replace(f"#{m.group(2)}", f"#{prefix}-{m.group(2)}")
            if m.group(2) in ids
            else m.group(0)
        )

    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    return re.sub(r'(url\(#|href="#)([^)"]+)', ref, svg)


def _png(fig: Any, dpi: int = 150) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    return buf.getvalue()


def chart_comparison(
    comparison: pd.DataFrame, value: str = "change_per_head", title: str = "", fmt: str = "svg"
) -> str | bytes:
    """Horizontal bars of ``value`` (default change per head) from :func:`compare`.

    Gainers are drawn in blue, losers in orange (Okabe-Ito palette); areas where ``value`` is
    unknown (e.g. change per crime without police data) are left out of the chart. Returns an SVG
    string (``fmt="svg"``) or PNG bytes (``fmt="png"``).
    """
    from matplotlib.figure import Figure

    df = comparison[comparison[value].notna()].sort_values(value)
    fig = Figure(figsize=(7, 0.28 * len(df) + 1.2))
    ax = fig.subplots()
    colours = [_OKABE_ITO[0] if v >= 0 else _OKABE_ITO[1] for v in df[value]]
    ax.barh(df["area_name"], df[value], color=colours)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"{value.replace('_', ' ')} (£)")
    ax.set_title(title or f"Change in allocation ({value.replace('_', ' ')})")
    ax.spines[["top", "right"]].set_visible(False)
    if fmt == "png":
        return _png(fig)
    if fmt != "svg":
        raise ValueError(f"fmt must be svg or png, not {fmt!r}")
    return _svg(fig)


def chart_allocation(
    allocation: pd.DataFrame, components: Sequence[str] | None = None, title: str = ""
) -> str:
    """Stacked horizontal bars of each area's allocation by component, as an SVG string."""
    from matplotlib.figure import Figure

    fixed = {
        "area_code",
        "area_name",
        "total",
        "total_pence",
        "share",
        "undamped_total",
        "damping_adjustment",
    }
    comps = list(components) if components else [c for c in allocation.columns if c not in fixed]
    df = allocation.sort_values("total")
    fig = Figure(figsize=(7, 0.28 * len(df) + 1.5))
    ax = fig.subplots()
    left = np.zeros(len(df))
    for i, c in enumerate(comps):
        ax.barh(df["area_name"], df[c], left=left, label=c.replace("_", " "), color=_OKABE_ITO[i % 8])
        left += df[c].to_numpy(dtype=float)
    ax.set_xlabel("£")
    ax.set_title(title or f"Allocation by component ({allocation.attrs.get('formula', '')})")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)
