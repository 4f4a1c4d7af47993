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
from diogel.portal.db import DB_FILE, database_url, make_engine
from diogel.portal.models import Meeting, MorileRating, PartnershipTarget

__all__ = ["PACT_COLUMNS", "PortalRecords", "as_target", "pact_rows", "read_portal"]

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
    if not db and (data_dir is None or not (Path(data_dir) / DB_FILE).exists()):
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
                pact = pact_rows(list(s.execute(select(Meeting).order_by(Meeting.meeting_date)).scalars()))
            ratings: dict[str, dict[str, dict[str, int]]] = {}
            if "morile_rating" in tables:
                for r in s.execute(select(MorileRating)).scalars():
                    given = {"vulnerability_rating": r.vulnerability, "capacity_rating": r.capacity}
                    ratings.setdefault(r.area_code, {})[r.crime_type] = {k: v for k, v in given.items() if v}
        return PortalRecords(found=True, targets=targets, pact=pact, ratings=ratings)
    finally:
        engine.dispose()
