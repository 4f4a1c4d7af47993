"""The police.uk gatherer: the area, its counted records and the forces' own files, with the files cited.

Counts follow the counting rules of :mod:`diogel.warehouse.counting` and areas are sets of LSOAs by
membership (:mod:`diogel.warehouse.geography`), never the ``Falls within`` column. Reads that do not
depend on the area (the counted rows, the LSOA membership, the registered files) are cached per open
warehouse and registry state, so a worker assessing many areas reads them once.

The unit of the small-area analysis is the 2021 LSOA. police.uk used 2011 codes before 2023; those
counts are carried to 2021 through the ONS lookup with :func:`diogel.warehouse.geography.harmonise`
(a 2011 LSOA split into several 2021 LSOAs shares its count equally between them).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import ibis
import pandas as pd

from diogel.errors import DiogelError
from diogel.warehouse.counted_table import counted_rows
from diogel.warehouse.counting import crimes
from diogel.warehouse.geography import harmonise, lsoa_membership, resolve_area

__all__ = [
    "AREA_LEVELS",
    "ASB",
    "POLICE_COLUMNS",
    "AreaUnits",
    "Period",
    "PoliceCounts",
    "SourceRef",
    "area_units",
    "counted_police",
    "membership_frame",
    "memo",
    "parse_period",
    "partnership_area",
    "police_counts",
    "source_refs",
    "resolve",
    "same_force",
]

ASB = "Anti-social behaviour"
AREA_LEVELS = {"la": "local authority", "csp": "Community Safety Partnership"}
AREA_LEVELS_PLURAL = {"la": "local authorities", "csp": "Community Safety Partnerships"}


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

    def previous(self) -> Period:
        """The period of the same length that ends the month before this one starts."""
        end = self.start - pd.DateOffset(months=1)
        return type(self)(end - pd.DateOffset(months=self.n_months - 1), end)

    def as_dict(self) -> dict[str, object]:
        return {"start": f"{self.start:%Y-%m}", "end": f"{self.end:%Y-%m}", "months": self.n_months}


def parse_period(text: str, cls: type[Period] = Period) -> Period:
    """Read ``YYYY-MM..YYYY-MM`` (inclusive) as a ``cls``; one month ``YYYY-MM`` is a period of one month."""
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
    return cls(start, end)


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
    return session_table(wh, "counted", lambda: crimes(wh).select(*POLICE_COLUMNS))


def session_table(wh, key: str, build: Callable[[], ibis.Table]) -> ibis.Table:  # noqa: ANN001
    """``build()`` evaluated once per connection and registry state into a temporary table of the session.

    The table is never written to the warehouse and is dropped with the connection. A backend that
    cannot create a temporary table gets the expression itself (evaluated by every query that reads it).
    """
    cache = _cache(wh)
    if key in cache:
        return cache[key]
    expr = build()
    try:
        table = wh.ibis.create_table(f"diogel_assess_{key}_{uuid.uuid4().hex}", obj=expr, temp=True)
    except Exception:  # noqa: BLE001  (a backend without temporary tables: query the rules each time)
        return expr
    cache[key] = table
    return table


def _source_files(wh) -> pd.DataFrame:  # noqa: ANN001
    """The registered files' names and order, read once per registry state (every ``refs`` needs them).

    Only called during :func:`gather`, after :func:`membership_frame` has checked the registry state.
    """
    cache = _CACHE.get(wh) or _cache(wh)
    if "source_files" not in cache:
        cache["source_files"] = wh.execute(wh.table("source_file").select("file_id", "run_id", "name", "seq"))
    return cache["source_files"]


def memo(wh, key: tuple, compute: Callable[[], object]):  # noqa: ANN001, ANN202
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


def source_refs(wh, kind: str, expr: ibis.Table) -> list[SourceRef]:  # noqa: ANN001
    """The files (and runs) whose rows ``expr`` (with file_id and run_id) used, with their names."""
    return refs_of(wh, kind, wh.execute(expr.select("file_id", "run_id").distinct()))


def refs_of(wh, kind: str, used: pd.DataFrame) -> list[SourceRef]:  # noqa: ANN001
    """The files (and runs) of ``used`` (``file_id``, ``run_id``; repeats allowed), with their names."""
    used = used[["file_id", "run_id"]].drop_duplicates()
    files = _source_files(wh)
    used = used.merge(files, on=["file_id", "run_id"], how="left").sort_values(["seq", "name"])
    return [SourceRef(kind, str(r.name), str(r.file_id), str(r.run_id)) for r in used.itertuples()]


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


@dataclass
class AreaUnits:
    """Where an area is: its LSOAs by membership and the police force areas it lies in.

    ``in_area``: the membership rows of the area (either LSOA vintage); ``codes``: their LSOA codes,
    sorted; ``units``: the 2021 LSOAs (``lsoa_code``, ``la_code``, ``la_name``, ``ward_code``, ``ward_name``,
    ``ward_name_cy``: the ward's Welsh name where the lookup has one);
    ``forces``: (code, name) of the police force areas.
    """

    level: str
    code: str
    name: str
    membership: pd.DataFrame
    in_area: pd.DataFrame
    codes: list[str]
    units: pd.DataFrame
    forces: list[tuple[str, str]]

    @property
    def nation(self) -> str:
        return self.code[0]


def area_units(wh, area: str) -> AreaUnits:  # noqa: ANN001
    """The area (a CSP or local authority code or name) as LSOAs and forces, from the cached membership."""
    level, code, name = partnership_area(wh, area, "the strategic assessment")
    membership = membership_frame(wh)
    in_area = membership[membership[f"{level}_code"] == code]
    units = (
        in_area[in_area["lsoa_vintage"] == 2021]
        .drop_duplicates("lsoa_code")[
            ["lsoa_code", "la_code", "la_name", "ward_code", "ward_name", "ward_name_cy"]
        ]
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
    codes = sorted(in_area["lsoa_code"].unique())
    return AreaUnits(level, code, name, membership, in_area, codes, units, forces)


@dataclass
class PoliceCounts:
    """The area's counted police.uk records and its forces' own files, for a period.

    ``counts``: records per 2021 LSOA, ``month``, ``crime_type``, ``reported_by`` (every month loaded
    up to the end of the period); ``force_monthly``: the forces' files by ``force``, ``month``,
    ``crime_type``, ``located``, ``in_force_area``; ``harmonised``: what carrying 2011 codes moved;
    ``sources``: ``police:period``, ``police:previous`` and ``police:all``.
    """

    reporters: list[str]
    counts: pd.DataFrame
    force_monthly: pd.DataFrame
    months_loaded: list[pd.Timestamp]
    previous: Period
    previous_available: bool
    previous_missing: list[str]
    harmonised: dict[str, object]
    sources: dict[str, list[SourceRef]] = field(default_factory=dict)


def police_counts(wh, area: AreaUnits, period: Period, lookup: pd.DataFrame) -> PoliceCounts:  # noqa: ANN001
    """Read the area's counted records, find its forces' files and months, and cite the files used.

    ``lookup``: the ONS LSOA 2011 -> 2021 lookup (``lsoa11_code``, ``lsoa21_code``, ``change_code``).
    Raises DiogelError (one line, saying what to ingest) when the area or its forces have no data.
    """
    c_all = counted_police(wh)
    c = c_all.filter(c_all.month <= period.end.date())
    area_rows = _area_rows(wh, c, area, period)
    reporters = _reporters(wh, c, area, area_rows)
    force_rows, force_files = _force_rows(wh, c, area, reporters)
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

    # The files of the rows in the area or reported by its forces: both reads above name them.
    files_by_month = pd.concat([area_rows[["month", "file_id", "run_id"]], force_files], ignore_index=True)

    def police_refs(lo: pd.Timestamp | None, hi: pd.Timestamp) -> list[SourceRef]:
        keep = files_by_month["month"] <= hi
        if lo is not None:
            keep &= files_by_month["month"] >= lo
        return refs_of(wh, "police-street", files_by_month[keep])

    sources = {
        "police:period": police_refs(period.start, period.end),
        "police:previous": police_refs(previous.start, previous.end) if previous_available else [],
        "police:all": police_refs(None, period.end),
    }
    counts, harmonised = _to_2021_codes(area_rows, set(area.units["lsoa_code"]), lookup)
    return PoliceCounts(
        reporters=reporters,
        counts=counts,
        force_monthly=force_rows,
        months_loaded=[pd.Timestamp(m) for m in months_loaded],
        previous=previous,
        previous_available=previous_available,
        previous_missing=previous_missing,
        harmonised=harmonised,
        sources=sources,
    )


def _area_rows(wh, c: ibis.Table, area: AreaUnits, period: Period) -> pd.DataFrame:  # noqa: ANN001
    area_expr = c.filter(c.lsoa_code.isin(area.codes))
    area_rows = wh.execute(
        area_expr.group_by(
            ["lsoa_code", "month", "crime_type", "reported_by", "file_id", "run_id"]
        ).aggregate(count=area_expr.count())
    )
    if area_rows.empty:
        raise DiogelError(
            f"no police.uk records in {area.name} ({area.code}) up to {period.end:%Y-%m}: ingest the police.uk "
            "street files of the force that covers it"
        )
    area_rows["month"] = pd.to_datetime(area_rows["month"])
    return area_rows


def _reporters(wh, c: ibis.Table, area: AreaUnits, area_rows: pd.DataFrame) -> list[str]:  # noqa: ANN001
    """The police.uk ``Reported by`` values of the area's forces."""
    forces = area.forces
    reporters_all = sorted(area_rows["reported_by"].dropna().unique())
    reporters = [r for r in reporters_all if any(same_force(r, f) for _, f in forces)]
    if forces and not reporters:
        # The force's files may be loaded without a record in this area (a small area, a short period).
        loaded_by = wh.execute(c.select("reported_by").distinct())["reported_by"].dropna()
        reporters = sorted(r for r in loaded_by if any(same_force(r, f) for _, f in forces))
    if forces and not reporters:
        raise DiogelError(
            f"the warehouse has no police.uk data from {' or '.join(f for _, f in forces)}, the force that covers "
            f"{area.name}: ingest its street files"
        )
    if not reporters:
        # Without an LA -> force lookup, the force is the one that reports most of the area's records.
        reporters = [str(area_rows.groupby("reported_by")["count"].sum().idxmax())]
    return reporters


def _force_rows(
    wh, c: ibis.Table, area: AreaUnits, reporters: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:  # noqa: ANN001
    """The forces' own files by month and crime type, located or not, in the force area or not; and
    the files those rows came from, by month (``month``, ``file_id``, ``run_id``)."""
    membership = area.membership
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
            file_id=fj.file_id,
            run_id=fj.run_id,
        ).aggregate(count=fj.count())
    )
    force_rows["month"] = pd.to_datetime(force_rows["month"])
    files = force_rows[["month", "file_id", "run_id"]].drop_duplicates()
    force_codes = {f for f, _ in area.forces}
    force_rows["in_force_area"] = force_rows["lsoa_force"].isin(force_codes)
    by_type = (
        force_rows.groupby(["force", "month", "crime_type", "located", "in_force_area"], as_index=False)[
            "count"
        ]
        .sum()
        .sort_values(["force", "month", "crime_type"])
        .reset_index(drop=True)
    )
    return by_type, files


def _to_2021_codes(
    area_rows: pd.DataFrame, unit_codes: set[str], lookup: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, object]]:
    """The area's counts on 2021 LSOAs (records on 2011 codes carried over), and what moved."""
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
    return counts, harmonised
