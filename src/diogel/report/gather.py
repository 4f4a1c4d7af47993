"""Gather: the assessment's reads of the warehouse, into one :class:`AreaData` of small frames.

The reads themselves are the gatherers of :mod:`diogel.gather`, one per data family: police.uk
(:mod:`diogel.gather.police`), reference data and comparator areas (:mod:`diogel.gather.reference`),
PACT (:mod:`diogel.gather.pact`). This module puts their bundles together for the sections, and adds
what needs the report's language (the period in words, the area's Welsh name).

Everything downstream (the sections, the analysis functions) works on what :func:`gather` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from diogel.errors import DiogelError
from diogel.gather import police as _police
from diogel.gather.pact import place_pact
from diogel.gather.police import (
    AREA_LEVELS,
    AREA_LEVELS_PLURAL,
    ASB,
    POLICE_COLUMNS,
    SourceRef,
    counted_police,
    membership_frame,
    memo,
    partnership_area,
    resolve,
    same_force,
    source_refs,
)
from diogel.gather.reference import (
    DOMAINS,
    comparators,
    deprivation_by_lsoa,
    harm_weights,
    lookup_1121,
    lookup_refs,
    lsoa_boundaries,
    population_by_lsoa,
    to_2021,
)

__all__ = [
    "AREA_LEVELS",
    "AREA_LEVELS_PLURAL",
    "ASB",
    "DOMAINS",
    "POLICE_COLUMNS",
    "AreaData",
    "Period",
    "SourceRef",
    "counted_police",
    "gather",
    "membership_frame",
    "parse_period",
    "partnership_area",
    "resolve",
    "same_force",
]


@dataclass(frozen=True)
class Period(_police.Period):
    """An inclusive run of whole months, e.g. 2024-07..2025-06, that can say itself in the report's language."""

    @property
    def words(self) -> str:
        """ "July 2024 to June 2025", in the report's language ("Gorffennaf 2024 i Fehefin 2025")."""
        from diogel.report.i18n import span_words

        return span_words(self.start, self.end)


def parse_period(text: str) -> Period:
    """Read ``YYYY-MM..YYYY-MM`` (inclusive); one month ``YYYY-MM`` is a period of one month."""
    return _police.parse_period(text, Period)  # type: ignore[return-value]


@dataclass
class AreaData:
    """What the assessment knows about one area, as small frames.

    Attributes
    ----------
    level, code, name : the area ("la" or "csp").
    lsoas : the area's 2021 LSOAs (the small-area units), with ``lsoa_code``, ``lsoa_name``,
        ``la_code``, ``la_name``, ``ward_code``, ``ward_name``, ``ward_name_cy`` (Welsh, where the lookup
        has it).
    forces : police force areas the area lies in (code, name); ``reporters``: the police.uk
        ``Reported by`` values of those forces found in the warehouse.
    period, previous : the period assessed and the one before it; ``previous_available`` is true
        only when the forces' data cover every month of it; ``previous_missing`` lists the missing
        months otherwise.
    crimes : counted records in the area's LSOAs (2021 codes), every month loaded up to the end of
        the period: ``lsoa_code``, ``month``, ``crime_type``, ``reported_by``, ``count``.
    force_monthly : counted records in the forces' own files by ``force`` (reported by), ``month``,
        ``crime_type``, with ``located`` (has an LSOA) and ``in_force_area`` (LSOA in the force).
    months_loaded : the months for which the forces' data are in the warehouse.
    population : per 2021 LSOA of the area: ``population``, ``aged_15_24``; ``population_year``.
    deprivation : per 2021 LSOA: one column per domain score (``income`` ...); ``deprivation_index``.
    boundaries : GeoDataFrame of the 2021 LSOAs (WGS84), with ``area_km2``.
    harm_weights : the CSS weights in the layout :func:`policeuk_weights_from_css` reads.
    pact : PACT rows placed in the area with meeting dates in the period; ``pact_summary`` says how
        many rows were placed, elsewhere, or could not be placed.
    comparators : one row per area of the same level and nation: ``code``, ``name``, ``population``,
        ``aged_15_24``, ``area_km2``, mean deprivation scores, ``covered`` (its force's data cover the
        whole period), and ``count_all``, ``count_crime``, ``count_asb``, ``count_violence`` for the
        period.
    harmonised : notes on LSOA vintage harmonisation (records moved from 2011 codes and so on).
    sources : input key -> the files it stands for.
    """

    level: str
    code: str
    name: str
    nation: str
    lsoas: pd.DataFrame
    forces: list[tuple[str, str]]
    reporters: list[str]
    period: Period
    previous: Period
    previous_available: bool
    previous_missing: list[str]
    crimes: pd.DataFrame
    force_monthly: pd.DataFrame
    months_loaded: list[pd.Timestamp]
    population: pd.DataFrame
    population_year: int
    deprivation: pd.DataFrame
    deprivation_index: str | None
    boundaries: gpd.GeoDataFrame
    harm_weights: pd.DataFrame
    pact: pd.DataFrame | None
    pact_summary: dict[str, float]
    comparators: pd.DataFrame
    harmonised: dict[str, object]
    sources: dict[str, list[SourceRef]] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        """The area's name in the report's language (Casnewydd for Newport in Welsh)."""
        from diogel.report.i18n import place_name

        return place_name(self.code, self.name)

    @property
    def level_words(self) -> str:
        from diogel.report.i18n import term

        return term(AREA_LEVELS[self.level])

    @property
    def level_words_plural(self) -> str:
        from diogel.report.i18n import term

        return term(AREA_LEVELS_PLURAL[self.level])

    def inputs(self, key: str) -> list[dict[str, str]]:
        """The files behind an input key, for figures.json (KeyError for an unknown key)."""
        return [s.as_dict() for s in self.sources[key]]

    def period_crimes(self, which: str = "period") -> pd.DataFrame:
        p = self.period if which == "period" else self.previous
        c = self.crimes
        return c[(c["month"] >= p.start) & (c["month"] <= p.end)]


Progress = Callable[[str], None]


def gather(
    wh,  # noqa: ANN001
    area: str,
    period: Period,
    progress: Progress | None = None,
    extra_pact: pd.DataFrame | None = None,
) -> AreaData:
    """Read everything the assessment of ``area`` over ``period`` needs from the warehouse.

    ``extra_pact``: PACT rows from the portal's meetings (:func:`diogel.portal.store.pact_rows`),
    placed in the area and period exactly like the ingested rows.

    Raises DiogelError (one line, saying what to load) when the area is not a CSP or local
    authority, or when police data, population or boundaries for it are missing.
    """
    say = progress or (lambda _s: None)
    say("finding the area")
    if not isinstance(period, Period):
        period = Period(period.start, period.end)
    where = _police.area_units(wh, area)
    nation = where.nation
    lookup, lookup_1121_refs = memo(wh, ("lookup-1121",), lambda: lookup_1121(wh))
    sources: dict[str, list[SourceRef]] = {
        "lookups": memo(wh, ("refs", "lookups"), lambda: lookup_refs(wh)) + lookup_1121_refs
    }

    say("counting police.uk records")
    police = _police.police_counts(wh, where, period, lookup)
    sources |= police.sources

    say("reading population, deprivation and boundaries")
    ref = _reference(wh, where, period, lookup, sources)
    harmonised = police.harmonised | {"population_equal_split": ref["equal_split"]}

    harm = pd.DataFrame(columns=["ONS_SEVERITY_code", "ONS_SEVERITY_weight", "POLICE_UK_CAT_MAP_category"])
    sources["harm-weights"] = []
    if wh.has("harm_weights"):
        harm, sources["harm-weights"] = memo(wh, ("harm-weights",), lambda: harm_weights(wh))
        harm = harm.copy()
    say("reading PACT priorities")
    pact, pact_summary, sources["pact"] = place_pact(
        wh, period, where.membership, where.in_area, where.level, where.code, where.name, extra_pact
    )

    say("describing comparator areas")
    comparator_frame, sources["police:comparators"] = _comparators(
        wh, where, period, ref["nation_pop"], ref["nation_dep"], ref["nation_area"]
    )
    return AreaData(
        level=where.level,
        code=where.code,
        name=where.name,
        nation=nation,
        lsoas=ref["units"],
        forces=where.forces,
        reporters=police.reporters,
        period=period,
        previous=police.previous,
        previous_available=police.previous_available,
        previous_missing=police.previous_missing,
        crimes=police.counts.sort_values(["lsoa_code", "month", "crime_type"]).reset_index(drop=True),
        force_monthly=police.force_monthly,
        months_loaded=police.months_loaded,
        population=ref["population"],
        population_year=ref["population_year"],
        deprivation=ref["deprivation"],
        deprivation_index=ref["deprivation_index"],
        boundaries=ref["boundaries"],
        harm_weights=harm,
        pact=pact,
        pact_summary=pact_summary,
        comparators=comparator_frame,
        harmonised=harmonised,
        sources=sources,
    )


def _reference(wh, where: _police.AreaUnits, period: Period, lookup: pd.DataFrame, sources: dict) -> dict:  # noqa: ANN001
    """Population, deprivation and boundaries of the area's 2021 LSOAs (and of its nation, for the
    comparators); their files go into ``sources``."""
    nation = where.nation
    unit_codes = set(where.units["lsoa_code"])
    population, pop_year, pop_refs, nation_pop = memo(
        wh, ("population", nation, period.end.year), lambda: population_by_lsoa(wh, nation, period)
    )
    sources["population"] = pop_refs
    pop_units = to_2021(population, lookup, ["population", "aged_15_24"], unit_codes)
    if pop_units.empty or pop_units["population"].sum() <= 0:
        raise DiogelError(
            f"no population estimates for the LSOAs of {where.name} ({where.code}): ingest ONS mid-year estimates"
        )
    deprivation, dep_index, sources["deprivation"], nation_dep = deprivation_by_lsoa(
        wh, nation, population, lookup, unit_codes
    )
    boundaries, sources["boundaries"], nation_area = lsoa_boundaries(wh, unit_codes, nation)
    if len(boundaries) < len(unit_codes):
        missing = sorted(unit_codes - set(boundaries["lsoa_code"]))
        raise DiogelError(
            f"no 2021 boundaries for {len(missing)} LSOA(s) of {where.name}, e.g. {missing[0]}: "
            "ingest LSOA 2021 boundaries"
        )
    return {
        "units": where.units.merge(boundaries[["lsoa_code", "lsoa_name"]], on="lsoa_code", how="left"),
        "population": pop_units.drop(columns=["apportioned"], errors="ignore"),
        "equal_split": bool(pop_units.attrs.get("equal_split", False)),
        "population_year": pop_year,
        "deprivation": deprivation,
        "deprivation_index": dep_index,
        "boundaries": boundaries,
        "nation_pop": nation_pop,
        "nation_dep": nation_dep,
        "nation_area": nation_area,
    }


def _comparators(wh, where, period, nation_pop, nation_dep, nation_area):  # noqa: ANN001, ANN202
    """The comparator areas and the files their counts read."""
    c_all = counted_police(wh)
    nation = where.nation
    # The same for every area of the level and nation: a worker assessing all of Wales builds it once
    # (a copy each, as sections may add columns).
    frame = memo(
        wh,
        ("comparators", where.level, nation, period.label),
        lambda: comparators(
            wh, c_all, where.level, nation, where.membership, nation_pop, nation_dep, nation_area, period
        ),
    ).copy()
    # The comparators' counts read only rows in this nation's LSOAs: cite only the files that have some
    # (on a national warehouse, the nation's forces and a few border forces, not every file loaded).
    c = c_all.filter(c_all.month <= period.end.date())
    in_period = c.filter(c.month >= period.start.date()).filter(c.month <= period.end.date())
    refs = memo(
        wh,
        ("refs", "police:comparators", nation, period.label),
        lambda: source_refs(wh, "police-street", in_period.filter(in_period.lsoa_code.startswith(nation))),
    )
    return frame, refs
