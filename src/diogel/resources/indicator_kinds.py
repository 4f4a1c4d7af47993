"""The indicators a formula component can share its pot by: one small function each, registered by name.

Each indicator turns the indicator frame (one row per area) into the raw weight of every area, before
the component's per-area ``weights``; :data:`INDICATORS` maps the name used in a formula's YAML to it
and to the indicator columns it reads. A new indicator is one function and one :func:`register` call.
Also here: :func:`sparsity_index` and :func:`indicators_to_csp`, which prepare indicator frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from diogel.resources.areas import WALES_LA_TO_CSP

if TYPE_CHECKING:
    from diogel.resources.spec import Component

__all__ = [
    "INDICATORS",
    "IndicatorKind",
    "component_columns",
    "indicator_values",
    "indicators_to_csp",
    "register",
    "sparsity_index",
]


@dataclass(frozen=True)
class IndicatorKind:
    """A registered indicator: ``values(comp, frame)`` -> weight per area; ``columns(comp)`` it reads."""

    name: str
    values: Callable[[Component, pd.DataFrame], pd.Series]
    columns: Callable[[Component], set[str]]


#: Indicator name -> its kind, in the order formulas document them.
INDICATORS: dict[str, IndicatorKind] = {}


def register(name: str, columns: Callable[[Component], set[str]]):  # noqa: ANN201
    """Decorator registering ``values(comp, frame)`` as the indicator ``name``."""

    def wrap(values: Callable[[Component, pd.DataFrame], pd.Series]) -> Callable:
        if name in INDICATORS:
            raise ValueError(f"indicator {name!r} is registered twice")
        INDICATORS[name] = IndicatorKind(name, values, columns)
        return values

    return wrap


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


def _population(comp: Component) -> set[str]:
    return {"population"}


@register("equal", lambda comp: set())
def equal(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """w_i = 1: every area the same."""
    return pd.Series(1.0, index=frame.index)


@register("population", _population)
def population(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """w_i = population_i."""
    return _need(frame, "population", comp)


@register("population_age_band", _population)
def population_age_band(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """w_i = sum over ages a in [lo, hi] of population_{i,a} (or the column ``population_<lo>_<hi>``)."""
    assert comp.age_band is not None
    return _age_band_sum(frame, *comp.age_band)


@register("age_weighted_population", _population)
def age_weighted_population(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """w_i = sum over bands (lo, hi, weight) of weight x population_{i, lo..hi}; ages in no band weigh 0."""
    assert comp.age_weights is not None
    values = pd.Series(0.0, index=frame.index)
    for lo, hi, w in comp.age_weights:
        values = values + w * _age_band_sum(frame, lo, hi)
    return values


@register("recorded_crime", lambda comp: {comp.column or "recorded_crime"})
def recorded_crime(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """w_i = recorded crime_i (column ``column``, default ``recorded_crime``)."""
    return _need(frame, comp.column or "recorded_crime", comp)


@register("deprivation_weighted_population", lambda comp: {"population", comp.column or "deprivation_score"})
def deprivation_weighted_population(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """w_i = population_i x score_i (column ``column``, default ``deprivation_score``)."""
    return _need(frame, "population", comp) * _need(frame, comp.column or "deprivation_score", comp)


@register("sparsity", lambda comp: {"population", comp.column or "sparsity_index"})
def sparsity(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """w_i = population_i x sparsity_i (column ``column``, default ``sparsity_index``): the sparse population."""
    return _need(frame, "population", comp) * _need(frame, comp.column or "sparsity_index", comp)


@register("measure", lambda comp: {str(comp.column)})
def measure(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """w_i = the value of the caller's column ``column`` (e.g. ``crime_harm``)."""
    assert comp.column is not None
    return _need(frame, comp.column, comp)


def indicator_values(comp: Component, frame: pd.DataFrame) -> pd.Series:
    """The raw weight each area gets under ``comp``, times its per-area ``weights``, indexed like ``frame``."""
    values = INDICATORS[comp.indicator].values(comp, frame)
    if comp.weights:
        codes = frame["area_code"].astype(str)
        values = values * codes.map(lambda c: comp.weights.get(c, 1.0)).astype(float)
    return values


def component_columns(comp: Component) -> set[str]:
    """The indicator columns ``comp`` reads (single-year-of-age columns are reported as ``population``)."""
    return INDICATORS[comp.indicator].columns(comp)


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
