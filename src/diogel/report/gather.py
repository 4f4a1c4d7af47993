"""Gather: the assessment's only reads of the warehouse, into small frames.

Everything downstream (the sections, the analysis functions) works on what this module returns;
nothing else in :mod:`diogel.report` queries the warehouse. Counts follow the counting rules of
:mod:`diogel.warehouse.counting` and areas are sets of LSOAs by membership
(:mod:`diogel.warehouse.geography`), never the ``Falls within`` column.

The unit of the small-area analysis is the 2021 LSOA. police.uk used 2011 codes before 2023, and
population and WIMD 2019 are published on 2011 LSOAs, so those are carried to 2021 through the ONS
lookup with :func:`diogel.warehouse.geography.harmonise`; a 2011 LSOA split into several 2021 LSOAs
shares its count or population equally between them (no 2021 population is loaded to do better),
and a merged 2021 LSOA takes the population-weighted mean of its parents' deprivation scores.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import ibis
import numpy as np
import pandas as pd
import shapely

from diogel.errors import DiogelError
from diogel.warehouse.counted_table import counted_rows
from diogel.warehouse.counting import counted, crimes
from diogel.warehouse.geography import harmonise, lsoa_membership, resolve_area

__all__ = ["AreaData", "Period", "SourceRef", "gather", "parse_period", "same_force"]

ASB = "Anti-social behaviour"
AREA_LEVELS = {"la": "local authority", "csp": "Community Safety Partnership"}
AREA_LEVELS_PLURAL = {"la": "local authorities", "csp": "Community Safety Partnerships"}
# WIMD / IMD domains used as covariates and peer variables, in the warehouse's vocabulary.
DOMAINS = ("overall", "income", "employment", "health", "education", "access_to_services", "housing",
           "environment", "crime")  # fmt: skip


@dataclass(frozen=True)
class Period:
    """An inclusive run of whole months, e.g. 2024-07..2025-06."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def months(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, self.end, freq="MS")

    @property
    def n_months(self) -> int:
        return len(self.months)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}..{self.end:%Y-%m}"

    @property
    def words(self) -> str:
        """ "July 2024 to June 2025", in the report's language ("Gorffennaf 2024 i Fehefin 2025")."""
        from diogel.report.i18n import span_words

        return span_words(self.start, self.end)

    def previous(self) -> Period:
        """The period of the same length that ends the month before this one starts."""
        end = self.start - pd.DateOffset(months=1)
        return Period(end - pd.DateOffset(months=self.n_months - 1), end)

    def as_dict(self) -> dict[str, object]:
        return {"start": f"{self.start:%Y-%m}", "end": f"{self.end:%Y-%m}", "months": self.n_months}


def parse_period(text: str) -> Period:
    """Read ``YYYY-MM..YYYY-MM`` (inclusive); one month ``YYYY-MM`` is a period of one month."""
    parts = [p.strip() for p in text.strip().split("..")]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise DiogelError(f"--period must look like 2024-07..2025-06, not {text!r}")
    try:
        start, end = (pd.Timestamp(dt.datetime.strptime(p, "%Y-%m")) for p in parts)
    except ValueError:
        raise DiogelError(
            f"--period must look like 2024-07..2025-06 (months as YYYY-MM), not {text!r}"
        ) from None
    if end < start:
        raise DiogelError(f"--period ends ({parts[1]}) before it starts ({parts[0]})")
    return Period(start, end)


def _words(name: str) -> frozenset[str]:
    words = re.split(r"[^a-z0-9]+", name.casefold().replace("&", " and "))
    return frozenset(w for w in words if w and w not in {"police", "service", "constabulary", "force"})


def same_force(reported_by: str, force_name: str) -> bool:
    """Whether police.uk's ``Reported by`` names the force area of the ONS lookup.

    "Gwent Police" is "Gwent", "Metropolitan Police Service" is "Metropolitan Police", "City of
    London Police" is "London, City of", "Devon & Cornwall Police" is "Devon & Cornwall": the
    words other than police/service/constabulary must be the same set.
    """
    return bool(_words(reported_by)) and _words(reported_by) == _words(force_name)


@dataclass(frozen=True)
class SourceRef:
    """One loaded file an input came from."""

    kind: str
    name: str
    file_id: str
    run_id: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "file_id": self.file_id, "run_id": self.run_id}


@dataclass
class AreaData:
    """What the assessment knows about one area, as small frames.

    Attributes
    ----------
    level, code, name : the area ("la" or "csp").
    lsoas : the area's 2021 LSOAs (the small-area units), with ``lsoa_code``, ``lsoa_name``,
        ``la_code``, ``la_name``, ``ward_name``.
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

# Per open warehouse: the registry state the cache was made for, and what it holds then: the counted
# police.uk rows as a session temporary table, the LSOA membership frame and its expression.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
POLICE_COLUMNS = ("lsoa_code", "month", "crime_type", "reported_by", "file_id", "run_id")


def _cache(wh) -> dict:  # noqa: ANN001
    """This connection's cache, emptied whenever a file is registered or removed.

    The key is the number of registered files and their largest ``seq``: every ingest adds files
    and every removal takes some away, so the pair changes with anything a cached value read.
    """
    files = wh.table("source_file")
    state = tuple(wh.execute(files.aggregate(n=files.count(), seq=files.seq.max())).iloc[0].tolist())
    cached = _CACHE.get(wh)
    if cached is None or cached["state"] != state:
        cached = {"state": state}
        _CACHE[wh] = cached
    return cached


def membership_frame(wh) -> pd.DataFrame:  # noqa: ANN001
    """:func:`diogel.warehouse.geography.lsoa_membership`, executed once per connection and registry state.

    Finding the area, the comparators, PACT placement and the all-Wales list all read it; building
    it (windows over the lookups) took about 0.45 s a time.
    """
    cache = _cache(wh)
    if "membership" not in cache:
        cache["membership"] = wh.execute(lsoa_membership(wh))
    return cache["membership"]


def resolve(wh, area: str) -> tuple[str, str, str]:  # noqa: ANN001
    """:func:`diogel.warehouse.geography.resolve_area` on the cached membership: (level, code, name)."""
    return resolve_area(wh, area, membership_frame(wh))


def counted_police(wh) -> ibis.Table:  # noqa: ANN001
    """:func:`diogel.warehouse.counting.crimes`, computed once per connection and registry state.

    Every police.uk query of an assessment reads the rows that count under the counting rules;
    evaluating the rules (the latest file per force-month, then the earliest row per Crime ID, a
    window over every row) once per query made each query a scan of the whole national table.
    Here they are evaluated once into a temporary table of the session (never written to the
    warehouse) and reused, by later assessments in the same process too, for as long as no file
    is registered or removed (see :func:`_cache`).
    Backends that cannot create a temporary table get the expression itself, as before. A
    warehouse whose ingest keeps the counted table up to date (:mod:`diogel.warehouse.counted_table`)
    is read from it instead, and nothing is evaluated here.
    """
    cache = _cache(wh)
    if "counted" in cache:
        return cache["counted"]
    kept = counted_rows(wh)
    if kept is not None:  # kept up to date at ingest (see diogel.warehouse.counted_table)
        cache["counted"] = kept.select(*POLICE_COLUMNS)
        return cache["counted"]
    expr = crimes(wh).select(*POLICE_COLUMNS)
    try:
        table = wh.ibis.create_table(f"diogel_assess_counted_{uuid.uuid4().hex}", obj=expr, temp=True)
    except Exception:  # noqa: BLE001  (a backend without temporary tables: query the rules each time)
        return expr
    cache["counted"] = table
    return table


def _source_files(wh) -> pd.DataFrame:  # noqa: ANN001
    """The registered files' names and order, read once per registry state (every ``_refs`` needs them).

    Only called during :func:`gather`, after :func:`membership_frame` has checked the registry state.
    """
    cache = _CACHE.get(wh) or _cache(wh)
    if "source_files" not in cache:
        cache["source_files"] = wh.execute(wh.table("source_file").select("file_id", "run_id", "name", "seq"))
    return cache["source_files"]


def _memo(wh, key: tuple, compute: Callable[[], object]):  # noqa: ANN001, ANN202
    """``compute()`` once per connection and registry state, for what does not depend on the area.

    A worker of ``diogel assess --area all-wales`` assesses many areas on one connection: the lookups,
    the nation's population, deprivation, areas and comparator counts are the same for each, so
    they are read once (values are shared: callers must not modify them). Only called during
    :func:`gather`, after :func:`membership_frame` has checked the registry state.
    """
    cache = _CACHE.get(wh) or _cache(wh)
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _refs(wh, kind: str, expr: ibis.Table) -> list[SourceRef]:  # noqa: ANN001
    """The files (and runs) whose rows ``expr`` (with file_id and run_id) used, with their names."""
    used = wh.execute(expr.select("file_id", "run_id").distinct())
    files = _source_files(wh)
    used = used.merge(files, on=["file_id", "run_id"], how="left").sort_values(["seq", "name"])
    return [SourceRef(kind, str(r.name), str(r.file_id), str(r.run_id)) for r in used.itertuples()]


def _lookup_refs(wh) -> list[SourceRef]:  # noqa: ANN001
    refs = _refs(wh, "lookup-lsoa-ward-la", counted(wh, "lookup-lsoa-ward-la"))
    if wh.has("lookup_la_csp_force"):
        refs += _refs(wh, "lookup-la-csp-force", counted(wh, "lookup-la-csp-force"))
    return refs


def _lookup_1121(wh) -> tuple[pd.DataFrame, list[SourceRef]]:  # noqa: ANN001
    if not wh.has("lookup_lsoa11_lsoa21"):
        return pd.DataFrame(columns=["lsoa11_code", "lsoa21_code", "change_code"]), []
    t = counted(wh, "lookup-lsoa11-lsoa21")
    return wh.execute(t.select("lsoa11_code", "lsoa21_code", "change_code")), _refs(
        wh, "lookup-lsoa11-lsoa21", t
    )


def partnership_area(wh, area: str, what: str) -> tuple[str, str, str]:  # noqa: ANN001
    """(level, code, name) of ``area``, which must be a CSP or a local authority, for ``what`` (the
    output being made, named in the error); one-line DiogelError saying what to load otherwise."""
    for table, data in (
        ("lookup_lsoa_ward_la", "geography lookups"),
        ("police_street", "police.uk street data"),
    ):
        if not wh.has(table):
            raise DiogelError(
                f"the warehouse has no {data}: run 'diogel init --reference wales' and ingest police.uk data"
            )
    level, code, name = resolve(wh, area)
    if level not in AREA_LEVELS:
        raise DiogelError(
            f"{area!r} is a {({'force': 'police force area', 'ward': 'ward', 'lsoa': 'LSOA'})[level]} ({code}); "
            f"{what} is for a Community Safety Partnership (W14/E22 code) or a local authority "
            "(W06/E06..E09 code)"
        )
    return level, code, name


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
    level, code, name = partnership_area(wh, area, "the strategic assessment")
    nation = code[0]
    membership = membership_frame(wh)
    in_area = membership[membership[f"{level}_code"] == code]
    area_codes = sorted(in_area["lsoa_code"].unique())
    units = (
        in_area[in_area["lsoa_vintage"] == 2021]
        .drop_duplicates("lsoa_code")[["lsoa_code", "la_code", "la_name", "ward_name"]]
        .sort_values("lsoa_code")
        .reset_index(drop=True)
    )
    if units.empty:
        raise DiogelError(
            f"{name} ({code}) has no 2021 LSOAs in the loaded lookups: load an LSOA21 -> ward -> LA lookup"
        )
    forces = sorted(
        {
            (str(r.force_code), str(r.force_name))
            for r in in_area.itertuples()
            if isinstance(r.force_code, str)
        }
    )
    lookup, lookup_refs = _memo(wh, ("lookup-1121",), lambda: _lookup_1121(wh))
    ref_lookups = _memo(wh, ("refs", "lookups"), lambda: _lookup_refs(wh)) + lookup_refs
    sources: dict[str, list[SourceRef]] = {"lookups": ref_lookups}

    # -- police.uk: the area's records and the forces' own files ---------------------------------------
    say("counting police.uk records")
    end = period.end.date()
    c_all = counted_police(wh)
    c = c_all.filter(c_all.month <= end)
    area_expr = c.filter(c.lsoa_code.isin(area_codes))
    area_rows = wh.execute(
        area_expr.group_by(
            ["lsoa_code", "month", "crime_type", "reported_by", "file_id", "run_id"]
        ).aggregate(count=area_expr.count())
    )
    if area_rows.empty:
        raise DiogelError(
            f"no police.uk records in {name} ({code}) up to {period.end:%Y-%m}: ingest the police.uk street files "
            "of the force that covers it"
        )
    area_rows["month"] = pd.to_datetime(area_rows["month"])
    reporters_all = sorted(area_rows["reported_by"].dropna().unique())
    reporters = [r for r in reporters_all if any(same_force(r, f) for _, f in forces)]
    if forces and not reporters:
        # The force's files may be loaded without a record in this area (a small area, a short period).
        loaded_by = wh.execute(c.select("reported_by").distinct())["reported_by"].dropna()
        reporters = sorted(r for r in loaded_by if any(same_force(r, f) for _, f in forces))
    if forces and not reporters:
        raise DiogelError(
            f"the warehouse has no police.uk data from {' or '.join(f for _, f in forces)}, the force that covers "
            f"{name}: ingest its street files"
        )
    if not reporters:
        # Without an LA -> force lookup, the force is the one that reports most of the area's records.
        reporters = [str(area_rows.groupby("reported_by")["count"].sum().idxmax())]

    # From the membership already read (evaluating the lookups' windows again in SQL took ~0.45 s).
    force_of_lsoa = ibis.memtable(
        membership[["lsoa_code", "force_code"]].drop_duplicates().reset_index(drop=True)
    )
    fc = c.filter(c.reported_by.isin(reporters))
    fj = fc.left_join(force_of_lsoa, fc.lsoa_code == force_of_lsoa.lsoa_code)
    force_rows = wh.execute(
        fj.group_by(
            force=fj.reported_by,
            month=fj.month,
            crime_type=fj.crime_type,
            located=fj.lsoa_code.notnull(),
            lsoa_force=fj.force_code,
        ).aggregate(count=fj.count())
    )
    force_rows["month"] = pd.to_datetime(force_rows["month"])
    force_codes = {f for f, _ in forces}
    force_rows["in_force_area"] = force_rows["lsoa_force"].isin(force_codes)
    force_rows = (
        force_rows.groupby(["force", "month", "crime_type", "located", "in_force_area"], as_index=False)[
            "count"
        ]
        .sum()
        .sort_values(["force", "month", "crime_type"])
        .reset_index(drop=True)
    )
    months_loaded = sorted(force_rows["month"].unique())
    loaded = set(months_loaded)
    missing_now = [m for m in period.months if m not in loaded]
    if len(missing_now) == period.n_months:
        raise DiogelError(
            f"the warehouse has no police.uk data from {', '.join(reporters)} for {period.label}: ingest those months"
        )
    previous = period.previous()
    previous_missing = [f"{m:%Y-%m}" for m in previous.months if m not in loaded]
    previous_available = not previous_missing

    def police_refs(lo: pd.Timestamp | None, hi: pd.Timestamp) -> list[SourceRef]:
        rows = c.filter(c.reported_by.isin(reporters) | c.lsoa_code.isin(area_codes))
        if lo is not None:
            rows = rows.filter(rows.month >= lo.date())
        return _refs(wh, "police-street", rows.filter(rows.month <= hi.date()))

    sources["police:period"] = police_refs(period.start, period.end)
    sources["police:previous"] = police_refs(previous.start, previous.end) if previous_available else []
    sources["police:all"] = police_refs(None, period.end)

    # -- 2011 codes carried to 2021 ----------------------------------------------------------------------
    unit_codes = set(units["lsoa_code"])
    keys = ["month", "crime_type", "reported_by"]
    counts = area_rows.groupby(["lsoa_code", *keys], as_index=False, dropna=False)["count"].sum()
    old = counts[~counts["lsoa_code"].isin(unit_codes)]
    moved = float(old["count"].sum())
    if len(old):
        h = harmonise(old, 2021, lookup, value_columns=["count"], by=keys)
        kept = h[h["lsoa_code"].isin(unit_codes)]
        lost = float(h["count"].sum() - kept["count"].sum())
        apportioned = float(h.loc[h["apportioned"], "count"].sum())
        counts = pd.concat([counts[counts["lsoa_code"].isin(unit_codes)], kept.drop(columns="apportioned")])
        counts = counts.groupby(["lsoa_code", *keys], as_index=False, dropna=False)["count"].sum()
    else:
        lost = apportioned = 0.0
    harmonised: dict[str, object] = {
        "records_on_2011_codes": moved,
        "records_apportioned": apportioned,
        "records_lost_outside_area": lost,
    }

    # -- population, deprivation, boundaries ---------------------------------------------------------------
    say("reading population, deprivation and boundaries")
    population, pop_year, pop_refs, nation_pop = _memo(
        wh, ("population", nation, period.end.year), lambda: _population(wh, nation, period)
    )
    sources["population"] = pop_refs
    pop_units = _to_2021(population, lookup, ["population", "aged_15_24"], unit_codes)
    if pop_units.empty or pop_units["population"].sum() <= 0:
        raise DiogelError(
            f"no population estimates for the LSOAs of {name} ({code}): ingest ONS mid-year estimates"
        )
    harmonised["population_equal_split"] = bool(pop_units.attrs.get("equal_split", False))
    deprivation, dep_index, dep_refs, nation_dep = _deprivation(wh, nation, population, lookup, unit_codes)
    sources["deprivation"] = dep_refs
    boundaries, bound_refs, nation_area = _boundaries(wh, unit_codes, nation)
    sources["boundaries"] = bound_refs
    if len(boundaries) < len(unit_codes):
        missing = sorted(unit_codes - set(boundaries["lsoa_code"]))
        raise DiogelError(
            f"no 2021 boundaries for {len(missing)} LSOA(s) of {name}, e.g. {missing[0]}: ingest LSOA 2021 boundaries"
        )
    units = units.merge(boundaries[["lsoa_code", "lsoa_name"]], on="lsoa_code", how="left")

    # -- harm weights, PACT ------------------------------------------------------------------------------
    harm = pd.DataFrame(columns=["ONS_SEVERITY_code", "ONS_SEVERITY_weight", "POLICE_UK_CAT_MAP_category"])
    sources["harm-weights"] = []
    if wh.has("harm_weights"):
        harm, sources["harm-weights"] = _memo(wh, ("harm-weights",), lambda: _harm_weights(wh))
        harm = harm.copy()
    say("reading PACT priorities")
    pact, pact_summary, pact_refs = _pact(wh, period, membership, in_area, level, code, name, extra_pact)
    sources["pact"] = pact_refs

    # -- comparators for the peer groups -------------------------------------------------------------
    say("describing comparator areas")
    comparators = _comparators(
        wh, c_all, level, nation, membership, nation_pop, nation_dep, nation_area, period, loaded
    )
    # The comparators' counts read only rows in this nation's LSOAs: cite only the files that have some
    # (on a national warehouse, the nation's forces and a few border forces, not every file loaded).
    in_period = c.filter(c.month >= period.start.date()).filter(c.month <= end)
    sources["police:comparators"] = _memo(
        wh,
        ("refs", "police:comparators", nation, period.label),
        lambda: _refs(wh, "police-street", in_period.filter(in_period.lsoa_code.startswith(nation))),
    )

    return AreaData(
        level=level,
        code=code,
        name=name,
        nation=nation,
        lsoas=units,
        forces=forces,
        reporters=reporters,
        period=period,
        previous=previous,
        previous_available=previous_available,
        previous_missing=previous_missing,
        crimes=counts.sort_values(["lsoa_code", "month", "crime_type"]).reset_index(drop=True),
        force_monthly=force_rows,
        months_loaded=[pd.Timestamp(m) for m in months_loaded],
        population=pop_units.drop(columns=["apportioned"], errors="ignore"),
        population_year=pop_year,
        deprivation=deprivation,
        deprivation_index=dep_index,
        boundaries=boundaries,
        harm_weights=harm,
        pact=pact,
        pact_summary=pact_summary,
        comparators=comparators,
        harmonised=harmonised,
        sources=sources,
    )


def _harm_weights(wh) -> tuple[pd.DataFrame, list[SourceRef]]:  # noqa: ANN001
    hw = counted(wh, "harm-weights")
    harm = wh.execute(hw.select("offence_code", "offence", "weight", "policeuk_category")).rename(
        columns={
            "offence_code": "ONS_SEVERITY_code",
            "weight": "ONS_SEVERITY_weight",
            "policeuk_category": "POLICE_UK_CAT_MAP_category",
        }
    )
    return harm, _refs(wh, "harm-weights", hw)


def _to_2021(frame: pd.DataFrame, lookup: pd.DataFrame, values: list[str], units: set[str]) -> pd.DataFrame:
    """Carry an additive LSOA measure to the area's 2021 LSOAs (equal split where a 2011 LSOA split)."""
    if frame.empty:
        return pd.DataFrame(columns=["lsoa_code", *values])
    relevant = lookup[lookup["lsoa21_code"].isin(units)]
    part = frame[frame["lsoa_code"].isin(set(relevant["lsoa11_code"]) | units)]
    out = harmonise(part[["lsoa_code", *values]], 2021, relevant, value_columns=values)
    equal = out.attrs.get("equal_split", False)
    out = out[out["lsoa_code"].isin(units)].sort_values("lsoa_code").reset_index(drop=True)
    out.attrs["equal_split"] = equal
    return out


def _population(wh, nation: str, period: Period):  # noqa: ANN001, ANN202
    """Residents and residents aged 15-24 per LSOA (as published, 2011 codes), latest year <= the period."""
    if not wh.has("population"):
        raise DiogelError("the warehouse has no population estimates: run 'diogel init --reference wales'")
    t = counted(wh, "population")
    t = t.filter(t.lsoa_code.startswith(nation))
    years = sorted(int(y) for y in wh.execute(t.select("year").distinct())["year"])
    if not years:
        raise DiogelError("no population estimates for this nation's LSOAs: ingest ONS mid-year estimates")
    earlier = [y for y in years if y <= period.end.year]
    year = earlier[-1] if earlier else years[0]
    t = t.filter(t.year == year)
    pop = wh.execute(
        t.group_by("lsoa_code").aggregate(
            population=t.persons.sum(), aged_15_24=t.persons.sum(where=t.age.between(15, 24))
        )
    )
    pop[["population", "aged_15_24"]] = pop[["population", "aged_15_24"]].fillna(0).astype(float)
    return pop, year, _refs(wh, "population", t), pop


def _deprivation(wh, nation: str, population: pd.DataFrame, lookup: pd.DataFrame, units: set[str]):  # noqa: ANN001, ANN202
    """Domain scores per 2021 LSOA (population-weighted where 2011 LSOAs merged) and per published LSOA."""
    empty = pd.DataFrame({"lsoa_code": sorted(units)})
    if not wh.has("deprivation"):
        return empty, None, [], pd.DataFrame(columns=["lsoa_code"])
    index, wide, refs = _memo(wh, ("deprivation", nation), lambda: _deprivation_scores(wh, nation))
    if index is None:
        return empty, None, [], pd.DataFrame(columns=["lsoa_code"])
    domains = [d for d in DOMAINS if d in wide.columns]
    # Scores are not additive: carry score x population and population, then divide.
    weighted = wide.merge(population[["lsoa_code", "population"]], on="lsoa_code", how="left")
    weighted["population"] = weighted["population"].fillna(0.0)
    for d in domains:
        weighted[d] = weighted[d] * weighted["population"]
    moved = _to_2021(weighted, lookup, [*domains, "population"], units)
    for d in domains:
        moved[d] = moved[d] / moved["population"].where(moved["population"] > 0)
    moved = moved.drop(columns=["population", "apportioned"], errors="ignore")
    return moved, index, refs, wide


def _deprivation_scores(wh, nation: str):  # noqa: ANN001, ANN202
    """The nation's latest index: (name, one column per domain score by published LSOA, refs)."""
    t = counted(wh, "deprivation")
    t = t.filter((t.measure == "score") & t.lsoa_code.startswith(nation))
    names = sorted(wh.execute(t.select("index_name").distinct())["index_name"])
    prefix = "WIMD" if nation == "W" else "IMD"
    names = [n for n in names if n.startswith(prefix)] or names
    if not names:
        return None, None, []
    index = names[-1]
    t = t.filter(t.index_name == index)
    long = wh.execute(t.select("lsoa_code", "domain", "value"))
    wide = long.pivot_table(
        index="lsoa_code", columns="domain", values="value", aggfunc="first"
    ).reset_index()
    wide.columns.name = None
    return index, wide, _refs(wh, "deprivation", t)


def _boundaries(wh, units: set[str], nation: str):  # noqa: ANN001, ANN202
    if not wh.has("lsoa_boundaries"):
        raise DiogelError("the warehouse has no LSOA boundaries: run 'diogel init --reference wales'")
    t = counted(wh, "boundaries")
    t21 = t.filter(t.lsoa_vintage == 2021)
    sel = t21.filter(t21.lsoa_code.isin(sorted(units)))
    df = wh.execute(sel.select("lsoa_code", "lsoa_name", "area_km2", "geometry"))
    gdf = gpd.GeoDataFrame(
        df.drop(columns="geometry"), geometry=shapely.from_wkb(df["geometry"].to_numpy()), crs=4326
    ).sort_values("lsoa_code", ignore_index=True)
    areas = _memo(
        wh,
        ("areas", nation),
        lambda: wh.execute(t21.filter(t21.lsoa_code.startswith(nation)).select("lsoa_code", "area_km2")),
    )
    return gdf, _refs(wh, "boundaries", sel), areas


def _pact(
    wh,
    period: Period,
    membership: pd.DataFrame,
    in_area: pd.DataFrame,
    level: str,
    code: str,
    name: str,
    extra: pd.DataFrame | None = None,
):  # noqa: ANN001, ANN202
    """PACT rows in the period placed in the area: by LSOA code, else by a neighbourhood named like a ward.
    ``extra``: the portal's meeting rows (file_id "portal"), read with the ingested ones."""
    summary = {"rows": 0, "votes": 0.0, "rows_in_area": 0, "votes_in_area": 0.0, "rows_elsewhere": 0,
               "rows_unplaced": 0, "votes_unplaced": 0.0}  # fmt: skip
    last_day = (period.end + pd.offsets.MonthEnd(0)).date()
    portal = pd.DataFrame()
    if extra is not None and not extra.empty:
        dates = pd.to_datetime(extra["meeting_date"]).dt.date
        portal = extra[(dates >= period.start.date()) & (dates <= last_day)].assign(
            file_id="portal", run_id=""
        )
    if not wh.has("pact_priorities") and portal.empty:
        return None, summary, []
    refs = [SourceRef("pact", "partnership portal: PACT meetings", "portal", "")] if not portal.empty else []
    df = portal
    if wh.has("pact_priorities"):
        t = counted(wh, "pact")
        t = t.filter((t.meeting_date >= period.start.date()) & (t.meeting_date <= last_day))
        ingested = wh.execute(
            t.select("meeting_date", "neighbourhood", "lsoa_code", "theme", "votes", "file_id", "run_id")
        )
        if not portal.empty:
            # A meeting entered in the portal and also loaded from a file (an export re-imported) counts once.
            def key(f: pd.DataFrame) -> pd.Series:
                return (
                    pd.to_datetime(f["meeting_date"]).dt.strftime("%Y-%m-%d")
                    + "|"
                    + f["neighbourhood"].fillna("").str.strip().str.casefold()
                )

            ingested = ingested[~key(ingested).isin(set(key(portal)))]
        df = pd.concat([ingested, portal], ignore_index=True) if not portal.empty else ingested
        refs = _refs(wh, "pact", t) + refs
    if df.empty:
        return df, summary, refs
    area_lsoas = set(in_area["lsoa_code"])
    all_lsoas = set(membership["lsoa_code"])
    area_places = {str(n).casefold() for n in in_area["ward_name"].dropna()} | {
        str(n).casefold() for n in in_area["la_name"].dropna()
    }
    if level == "csp":
        area_places |= {str(n).casefold() for n in in_area["csp_name"].dropna()}
    all_places = {str(n).casefold() for col in ("ward_name", "la_name") for n in membership[col].dropna()}
    hood = df["neighbourhood"].fillna("").str.strip().str.casefold()
    by_lsoa = df["lsoa_code"].notna()
    in_by_lsoa = by_lsoa & df["lsoa_code"].isin(area_lsoas)
    in_by_name = ~by_lsoa & hood.isin(area_places)
    known = (by_lsoa & df["lsoa_code"].isin(all_lsoas)) | (~by_lsoa & hood.isin(all_places))
    df["placed_by"] = np.where(
        in_by_lsoa, "LSOA code", np.where(in_by_name, "neighbourhood named as a ward", "")
    )
    inside = in_by_lsoa | in_by_name
    summary = {
        "rows": len(df),
        "votes": float(df["votes"].sum()),
        "rows_in_area": int(inside.sum()),
        "votes_in_area": float(df.loc[inside, "votes"].sum()),
        "rows_elsewhere": int((~inside & known).sum()),
        "rows_unplaced": int((~inside & ~known).sum()),
        "votes_unplaced": float(df.loc[~inside & ~known, "votes"].sum()),
    }
    out = df[inside].copy()
    out["meeting_date"] = pd.to_datetime(out["meeting_date"])
    return out.reset_index(drop=True), summary, refs


def _comparator_counts(wh, police: ibis.Table, rt: ibis.Table, nation: str):  # noqa: ANN001, ANN202
    """The forces loaded, each force's months in the period, and the period's counts per LSOA of the nation."""
    reporters = wh.execute(police.select("reported_by").distinct())["reported_by"].dropna().tolist()
    per_month = wh.execute(rt.group_by("reported_by").aggregate(months=rt.month.nunique()))
    in_nation = rt.filter(rt.lsoa_code.startswith(nation))
    per_lsoa = wh.execute(in_nation.group_by(["lsoa_code", "crime_type"]).aggregate(count=in_nation.count()))
    return reporters, per_month, per_lsoa


def _comparators(wh, police, level, nation, membership, population, deprivation, areas, period, loaded):  # noqa: ANN001, ANN202
    """Public descriptors of every area of the same level and nation, and its counts for the period.

    ``police`` is the counted police.uk rows (:func:`counted_police`); an area's count is the sum over
    the LSOAs it is made of (membership of either vintage), as in :func:`diogel.warehouse.queries.counts`.
    """
    col, name_col = f"{level}_code", f"{level}_name"
    m = membership[membership[col].fillna("").str.startswith(nation)][
        ["lsoa_code", "lsoa_vintage", col, name_col, "force_name"]
    ]
    m = m.drop_duplicates(["lsoa_code", col])
    names = m.drop_duplicates(col).set_index(col)[name_col]
    pop = (
        population.merge(m[["lsoa_code", col]], on="lsoa_code")
        .groupby(col)[["population", "aged_15_24"]]
        .sum()
    )
    km2 = (
        areas.merge(m[m["lsoa_vintage"] == 2021][["lsoa_code", col]], on="lsoa_code")
        .groupby(col)["area_km2"]
        .sum()
    )
    frame = pd.DataFrame({"name": names}).join(pop).join(km2)
    if not deprivation.empty:
        dep = deprivation.merge(population[["lsoa_code", "population"]], on="lsoa_code").merge(
            m[["lsoa_code", col]], on="lsoa_code"
        )
        domains = [d for d in DOMAINS if d in dep.columns]
        for d in domains:
            ok = dep[d].notna()
            num = (dep.loc[ok, d] * dep.loc[ok, "population"]).groupby(dep.loc[ok, col]).sum()
            den = dep.loc[ok, "population"].groupby(dep.loc[ok, col]).sum()
            frame[f"wimd_{d}"] = num / den
    # An area is covered when its force's data are loaded for every month of the period.
    rt = police.filter((police.month >= period.start.date()) & (police.month <= period.end.date()))
    reporters, per_month, per_lsoa = _memo(
        wh, ("comparator-counts", nation, period.label), lambda: _comparator_counts(wh, police, rt, nation)
    )
    full = set(per_month.loc[per_month["months"] >= period.n_months, "reported_by"])
    forces = m.dropna(subset=["force_name"]).groupby(col)["force_name"].agg(lambda s: sorted(set(s)))
    frame["force"] = forces.map(lambda fs: ", ".join(fs))
    frame["covered"] = (
        forces.map(lambda fs: all(any(same_force(r, f) and r in full for r in reporters) for f in fs))
        .astype("boolean")
        .fillna(False)
        .astype(bool)
    )
    areas_of = membership[["lsoa_code", col]].dropna().drop_duplicates()
    cnt = per_lsoa.merge(areas_of, on="lsoa_code").rename(columns={col: level})
    cnt = cnt[cnt[level].str.startswith(nation)]
    by = cnt.pivot_table(index=level, columns="crime_type", values="count", aggfunc="sum", fill_value=0)
    frame["count_all"] = by.sum(axis=1)
    frame["count_asb"] = by[ASB] if ASB in by.columns else 0
    frame["count_crime"] = frame["count_all"] - frame["count_asb"]
    vso = "Violence and sexual offences"
    frame["count_violence"] = by[vso] if vso in by.columns else 0
    for c_ in ("count_all", "count_asb", "count_crime", "count_violence"):
        frame[c_] = frame[c_].fillna(0)
    frame = frame.rename_axis("code").reset_index()
    return (
        frame[frame["population"].notna() & (frame["population"] > 0)]
        .sort_values("code")
        .reset_index(drop=True)
    )
