"""What the strategic assessment reads from the portal's database: targets and PACT meetings.

One store: the meetings, priorities and targets people enter in the portal are read by
``diogel assess`` from the same database (SQLite ``portal.sqlite`` in the data directory, or the
``--portal-db`` URL), read-only and without migrating it. Nothing here imports the web application.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from diogel.analysis.targets import Target, make_target
from diogel.portal import has_portal
from diogel.portal.db import database_url, make_engine
from diogel.portal.models import Meeting, MeetingPriority, MorileRating, PartnershipTarget

__all__ = [
    "PACT_COLUMNS",
    "PortalRecords",
    "as_target",
    "ingested_pact",
    "pact_rows",
    "pact_to_portal",
    "read_portal",
    "record_ingested_pact",
]

PACT_COLUMNS = ["meeting_date", "neighbourhood", "lsoa_code", "theme", "votes"]


@dataclass(frozen=True)
class PortalRecords:
    """Targets (every area) and PACT rows (one per issue voted on) from the portal; ``found`` is
    False when there is no portal database to read."""

    found: bool
    targets: tuple[Target, ...] = ()
    pact: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PACT_COLUMNS))
    #: MoRiLE ratings per area: {area: {crime type: {"vulnerability_rating": v, "capacity_rating": c}}}
    ratings: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)


def as_target(row: PartnershipTarget) -> Target:
    """The analysis's :class:`Target` for a stored row (the id is the row's id, as text)."""
    return make_target(
        str(row.id), row.priority, row.measure, row.area_code,
        f"{row.baseline_start:%Y-%m}..{row.baseline_end:%Y-%m}", f"{row.deadline:%Y-%m}", row.change, row.level,
    )  # fmt: skip


def pact_rows(meetings: list[Meeting]) -> pd.DataFrame:
    """One row per issue voted on at a meeting, in the layout of ``diogel ingest pact`` (the
    neighbourhood is the ward's name, which the assessment places like an ingested row)."""
    rows = [
        {"meeting_date": m.meeting_date, "neighbourhood": m.neighbourhood_name, "lsoa_code": None,
         "theme": p.theme, "votes": p.votes}
        for m in meetings
        for p in m.priorities
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=PACT_COLUMNS)


def read_portal(db: str | None, data_dir: Path | None) -> PortalRecords:
    """Read the portal's targets and meetings: ``db`` a URL, else ``portal.sqlite`` in ``data_dir``
    if it exists. A database without the tables (an older schema) gives what it has."""
    if not has_portal(db, data_dir):
        return PortalRecords(found=False)
    engine = make_engine(database_url(db, data_dir or Path.cwd()))
    try:
        tables = set(inspect(engine).get_table_names())
        with Session(engine) as s:
            targets = ()
            if "partnership_target" in tables:
                targets = tuple(as_target(r) for r in s.execute(select(PartnershipTarget)).scalars())
            pact = pd.DataFrame(columns=PACT_COLUMNS)
            if "pact_meeting" in tables:
                q = select(Meeting).order_by(Meeting.meeting_date)
                if "source" in {c["name"] for c in inspect(engine).get_columns("pact_meeting")}:
                    # A meeting loaded from a file is read from the warehouse, with the file's provenance.
                    q = q.where(Meeting.source.is_(None))
                pact = pact_rows(list(s.execute(q).scalars()))
            ratings: dict[str, dict[str, dict[str, int]]] = {}
            if "morile_rating" in tables:
                for r in s.execute(select(MorileRating)).scalars():
                    given = {"vulnerability_rating": r.vulnerability, "capacity_rating": r.capacity}
                    ratings.setdefault(r.area_code, {})[r.crime_type] = {k: v for k, v in given.items() if v}
        return PortalRecords(found=True, targets=targets, pact=pact, ratings=ratings)
    finally:
        engine.dispose()


def ingested_pact(wh, file_ids: list[str]) -> pd.DataFrame:  # noqa: ANN001
    """The PACT rows in force from these files, each with the 2024 ward it names: by its LSOA code,
    else by a neighbourhood named like a ward (``ward_code`` blank when neither places it)."""
    from diogel.warehouse.counting import counted
    from diogel.warehouse.geography import lsoa_membership

    t = counted(wh, "pact")
    rows = wh.execute(
        t.filter(t.file_id.isin(file_ids)).select(
            "meeting_date", "neighbourhood", "lsoa_code", "theme", "votes", "file_id"
        )
    )
    m = wh.execute(lsoa_membership(wh).select("lsoa_code", "lsoa_vintage", "ward_code", "ward_name"))
    m = m[m["lsoa_vintage"] == 2021].dropna(subset=["ward_code"])
    by_lsoa = m.set_index("lsoa_code")[["ward_code", "ward_name"]]
    by_name = (
        m.drop_duplicates("ward_name").assign(key=lambda f: f["ward_name"].str.casefold()).set_index("key")
    )
    codes, names = [], []
    for r in rows.itertuples():
        if isinstance(r.lsoa_code, str) and r.lsoa_code in by_lsoa.index:
            hit = by_lsoa.loc[r.lsoa_code]
        elif isinstance(r.neighbourhood, str) and r.neighbourhood.strip().casefold() in by_name.index:
            hit = by_name.loc[r.neighbourhood.strip().casefold()]
        else:
            hit = None
        codes.append("" if hit is None else str(hit["ward_code"]))
        names.append(str(r.neighbourhood or r.lsoa_code or "") if hit is None else str(hit["ward_name"]))
    return rows.assign(ward_code=codes, ward_name=names)


def record_ingested_pact(s: Session, rows: pd.DataFrame, actor: str) -> int:
    """Put the meetings of ingested PACT rows (:func:`ingested_pact`) in the portal's store, one
    meeting per date and place with its issues and votes. A meeting from an earlier file with the
    same date and place is replaced, as the warehouse replaces its rows; one entered in the portal
    is kept and the file's copy left out. Returns meetings written."""
    from sqlalchemy import delete

    from diogel.portal import audit

    if rows.empty:
        return 0
    meetings = rows.groupby(["meeting_date", "ward_code", "ward_name"], sort=True, dropna=False)
    entered = {
        (m.meeting_date, m.neighbourhood_code)
        for m in s.execute(select(Meeting).where(Meeting.source.is_(None))).scalars()
    }
    written = 0
    for (day, code, name), group in meetings:
        when = pd.Timestamp(day).date()
        if code and (when, code) in entered:
            continue  # the meeting as entered in the portal stays the store's record of it
        written += 1
        old = select(Meeting.id).where(
            Meeting.meeting_date == when, Meeting.neighbourhood_code == code,
            Meeting.neighbourhood_name == name, Meeting.source.is_not(None),
        )  # fmt: skip
        s.execute(delete(Meeting).where(Meeting.id.in_(old)))
        m = Meeting(meeting_date=when, neighbourhood_code=code[:16], neighbourhood_name=name[:200], attendees=None,
                    profile={}, issues="", created_by=None, source=f"file:{group['file_id'].iloc[0]}"[:100])  # fmt: skip
        votes = group.groupby("theme", sort=False)["votes"].sum()
        m.priorities = [MeetingPriority(theme=str(th)[:200], votes=int(v)) for th, v in votes.items()]
        s.add(m)
    s.flush()
    audit.append(s, actor, "pact.ingest", "pact", {"meetings": written, "rows": len(rows)})
    return written


def pact_to_portal(wh, results: list) -> int | None:  # noqa: ANN001
    """PACT meetings live in one store, the portal's database in the warehouse's data directory: the
    meetings of the loaded files (``results`` of ``Warehouse.ingest("pact", ...)``) go there too.
    Returns how many meetings were written (None when no file was loaded)."""
    from diogel.portal.audit import load_audit_key
    from diogel.portal.db import Database

    loaded = [r.file_id for r in results if r.status == "loaded" and r.file_id]
    if not loaded:
        return None
    rows = ingested_pact(wh, loaded)
    db = Database(database_url(None, wh.data_dir), audit_key=load_audit_key(wh.data_dir))
    try:
        with db.session() as s:
            return record_ingested_pact(s, rows, "diogel ingest pact")
    finally:
        db.close()
