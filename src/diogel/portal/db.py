"""The portal database: SQLite in the data directory by default, PostgreSQL with ``--db postgresql://...``.

The schema is owned by the Alembic migrations shipped inside the package
(:mod:`diogel.portal.migrations`); :func:`migrate` runs them programmatically, so there is no
``alembic.ini`` to install and ``diogel serve`` brings any older database up to date on start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from diogel.portal import DB_FILE

T = TypeVar("T")
#: The widest integer key either database can hold (SQLite INTEGER, PostgreSQL BIGINT).
MAX_ROW_ID = 2**63 - 1


def database_url(db: str | None, data_dir: str | Path) -> str:
    """The SQLAlchemy URL for ``--db``: SQLite in ``data_dir`` by default; psycopg 3 for PostgreSQL."""
    if not db:
        return f"sqlite:///{Path(data_dir).resolve() / DB_FILE}"
    for prefix in ("postgresql://", "postgres://"):
        if db.startswith(prefix):
            return "postgresql+psycopg://" + db[len(prefix) :]
    return db


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 before SQLite does (with the umask's mode, often world-readable):
    it holds password hashes, sessions and the audit log. SQLite gives its -wal and -shm files the
    database file's mode."""
    import os

    name = url.split("///", 1)[1] if "///" in url else ""
    if not name or name.startswith(":memory:") or name.startswith("file:"):
        return
    path = Path(name)
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        # One process serves many threads (uvicorn's thread pool), so the connection may move
        # between threads; SQLite serialises writers itself, and the busy timeout waits them out.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cur.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def alembic_config(connection=None):  # noqa: ANN001, ANN201
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("diogel.portal") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (default: the newest) with the packaged migrations."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class Database:
    """An engine and a session factory; ``migrate=True`` upgrades the schema first.

    ``audit_key`` (see :func:`diogel.portal.audit.load_audit_key`) signs the audit log's head; every
    session carries it, and an audited write without it is refused."""

    def __init__(self, url: str, migrate_schema: bool = True, audit_key: bytes | None = None):
        self.url = url
        self.engine = make_engine(url)
        if migrate_schema:
            migrate(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info={"audit_key": audit_key})
        if audit_key is not None and migrate_schema:
            from diogel.portal import audit

            with self.session() as s:
                audit.ensure_head(s)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error."""
        with self.sessions() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()


def row_by_id(s: Session, model: type[T], key: int) -> T | None:
    """The row of ``model`` whose integer primary key is ``key``, or None.

    A key outside the databases' 64-bit range cannot name a row; asked of SQLite it raises
    OverflowError (a 500 from any ``/{id}`` address), so it is answered here as "no such row".
    """
    if not -MAX_ROW_ID - 1 <= key <= MAX_ROW_ID:
        return None
    return s.get(model, key)
