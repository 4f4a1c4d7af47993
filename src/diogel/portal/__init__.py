"""The partnership portal (FastAPI, SQLAlchemy): this package's root imports neither."""

from __future__ import annotations

from pathlib import Path

#: The portal's SQLite database in the data directory, when no ``--db`` URL is given.
DB_FILE = "portal.sqlite"


def has_portal(db: str | None, data_dir: Path | None) -> bool:
    """Whether there is a portal database to read: a ``--db`` URL, or ``portal.sqlite`` in ``data_dir``.

    Cheap on purpose: ``diogel assess`` asks before importing SQLAlchemy and the portal's models
    (0.4 s of a cold run), which it needs only when there is one.
    """
    return bool(db) or (data_dir is not None and (Path(data_dir) / DB_FILE).exists())
