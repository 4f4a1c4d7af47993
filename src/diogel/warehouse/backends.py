"""The few things that differ between warehouse engines, isolated here.

Everything that reads the warehouse is an Ibis expression and runs unchanged on DuckDB,
PostgreSQL and Spark. What Ibis does not cover the same way everywhere is bulk loading and
transactions, so each engine gets a small adapter:

* DuckDB (the default, an embedded file): Arrow in by ``INSERT ... SELECT``, real transactions.
* PostgreSQL: ``COPY ... FROM STDIN`` in CSV, real transactions.
* Spark (local mode): tables are Parquet folders in the data directory, appended to; there are no
  transactions, so a file's rows become visible only when its row in ``source_file`` (written
  last) exists: readers always join on it.

Sharing the DuckDB file between processes
-----------------------------------------
An embedded DuckDB file is open read-write in one process *or* read-only in any number of
processes, never both (an operating-system lock on the file). So diogel opens it read-only for
everything that only reads (``status``, ``counts``, ``assess``, ``options``, ``funding``, the
portal's pages) and read-write only to write (``init``, ``ingest``, a portal upload), and nothing
keeps it open longer than one command or one portal computation. When the file is locked the
opener waits: it says once on stderr what it is waiting for and for how long, retries with a
growing pause, and after ``DIOGEL_LOCK_WAIT`` seconds (default :data:`LOCK_WAIT_SECONDS`) gives up
with :class:`WarehouseBusy`, a one-line error. PostgreSQL has no such lock (a read-only open is
an ordinary session: temporary tables, which Ibis uses, need one); Spark is opened as before.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.csv as pacsv

from diogel.errors import WarehouseError
from diogel.warehouse.spark_types import spark_schema as _spark_schema

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def _check_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a safe table or column name: {name!r}")
    return name


class WarehouseBusy(WarehouseError):
    """The DuckDB file stayed locked by another process for the whole wait."""


class Backend:
    """Adapter interface; see the module docstring."""

    name = "base"
    transactional = True
    read_only = False

    def __init__(self, con: ibis.BaseBackend):
        self.ibis = con

    def ensure_table(self, name: str, schema: pa.Schema) -> None:
        raise NotImplementedError

    def append(self, name: str, rows: pa.Table) -> None:
        raise NotImplementedError

    def delete(self, name: str, column: str, values: list[str]) -> None:
        """Delete rows whose ``column`` is in ``values`` (used to clear rows of failed runs)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Engine settings for the duration of one ingest (a run of appends and commits)."""
        yield

    def table(self, name: str) -> ibis.Table:
        return self.ibis.table(name)

    def has_table(self, name: str) -> bool:
        return name in self.ibis.list_tables()

    def _missing(self, name: str, schema: pa.Schema) -> list[pa.Field]:
        """Fields of ``schema`` an existing table lacks: it was made by an older diogel, before a kind
        gained an optional column (``ward_name_cy``); :meth:`ensure_table` adds them, null."""
        have = {c.casefold() for c in self.table(name).columns}
        return [f for f in schema if f.name.casefold() not in have]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ibis.disconnect()


DUCKDB_MEMORY_LIMIT = "2GB"
#: DuckDB's memory limit during an ingest. With it (and the hash buckets of counted_table) the national
#: benchmark's peak RSS was 1,711 to 1,790 MiB in three rounds, against 2,301 to 2,372 with 2 GB, and no slower.
BULK_MEMORY_LIMIT = "1.2GB"

#: Write-ahead log DuckDB may hold during an ingest before it checkpoints (see DuckDBBackend.bulk_load):
#: bounds the log file on disk while letting a national load checkpoint a few times, not per batch.
BULK_CHECKPOINT_THRESHOLD = "1GB"


def _check_memory(value: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip(), flags=re.I):
        raise WarehouseError(
            f"DIOGEL_DUCKDB_MEMORY_LIMIT must be a size such as 2GB or 1500MB, not {value!r}"
        )
    return value.strip()


class DuckDBBackend(Backend):
    """An embedded DuckDB file, opened read-write or read-only (see "Sharing the DuckDB file")."""

    name = "duckdb"

    def __init__(
        self,
        path: Path,
        read_only: bool = False,
        wait: float | None = None,
        on_wait: Callable[[str], None] | None = None,
        yield_to_writers: float = 0.0,
    ):
        created = not read_only and not path.exists()
        if created:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        con = open_duckdb(path, read_only, wait, on_wait, yield_to_writers)
        if created:
            # The warehouse holds partnership data: owner only (DuckDB creates it as the umask says).
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
        super().__init__(con)
        self.path = path
        self.read_only = read_only
        self.raw = self.ibis.con
        # DuckDB's own progress bar would interleave with diogel's.
        self.raw.execute("SET enable_progress_bar = false")
        # DuckDB takes up to 80% of RAM by default; a warehouse shares the analyst's machine, and
        # the national row accounting (a rank over every Crime ID) would take 5 GB. With a limit it
        # spills to a temporary folder beside the database file instead.
        self._memory_limit = _check_memory(os.environ.get("DIOGEL_DUCKDB_MEMORY_LIMIT", DUCKDB_MEMORY_LIMIT))
        self.raw.execute(f"SET memory_limit = '{self._memory_limit}'")
        self._lock = threading.RLock()
        # Read-only, nobody writes the file while it is open (DuckDB's lock): tables seen are kept (an
        # assessment asks ~55 times, ~5 ms a query); an unseen name is looked up again (a temp table).
        self._seen: dict[str, ibis.Table | None] = {}

    def has_table(self, name: str) -> bool:
        if self.read_only and name not in self._seen:
            self._seen.update({t: self._seen.get(t) for t in self.ibis.list_tables()})
        return name in self._seen if self.read_only else super().has_table(name)

    def table(self, name: str) -> ibis.Table:
        if not self.read_only:
            return super().table(name)
        if self._seen.get(name) is None:
            self._seen[name] = super().table(name)
        return self._seen[name]  # type: ignore[return-value]

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Checkpoint once after the run's batches, not at nearly every batch's commit.

        DuckDB checkpoints when its write-ahead log passes ``checkpoint_threshold`` (16 MB), which a
        batch of :data:`~diogel.warehouse.reading.BATCH_ROWS` rows does at every commit. Each commit
        is still synced to the log, so a killed ingest keeps what it committed; the checkpoint comes
        at the next commit after the run or at close. Measured on 86 police.uk files, 1.1 M rows:
        19.0 CPU-s for the whole ingest with the default, 16.9 with this.
        """
        if self.read_only:
            yield
            return
        # A lower memory limit too, unless the analyst set one (see BULK_MEMORY_LIMIT).
        limit = self._memory_limit if os.environ.get("DIOGEL_DUCKDB_MEMORY_LIMIT") else BULK_MEMORY_LIMIT
        self.raw.execute(
            f"SET checkpoint_threshold = '{BULK_CHECKPOINT_THRESHOLD}'; SET memory_limit = '{limit}'"
        )
        try:
            yield
        finally:
            self.raw.execute(f"RESET checkpoint_threshold; SET memory_limit = '{self._memory_limit}'")

    def ensure_table(self, name: str, schema: pa.Schema) -> None:
        _check_ident(name)
        if not self.has_table(name):
            self.raw.register("_diogel_empty", schema.empty_table())
            try:
                self.raw.execute(f"CREATE TABLE IF NOT EXISTS {name} AS SELECT * FROM _diogel_empty")
            finally:
                self.raw.unregister("_diogel_empty")
            return
        for f in self._missing(name, schema):
            kind = self.raw.from_arrow(pa.schema([f]).empty_table()).types[0]
            self.raw.execute(f"ALTER TABLE {name} ADD COLUMN {_check_ident(f.name)} {kind}")

    def append(self, name: str, rows: pa.Table) -> None:
        _check_ident(name)
        self.raw.register("_diogel_rows", rows)
        try:
            self.raw.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _diogel_rows")
        finally:
            self.raw.unregister("_diogel_rows")

    def delete(self, name: str, column: str, values: list[str]) -> None:
        if values and self.has_table(name):
            self.raw.execute(
                f"DELETE FROM {_check_ident(name)} WHERE {_check_ident(column)} = ANY(?)", [values]
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self.raw.begin()
            try:
                yield
            except BaseException:
                self.raw.rollback()
                raise
            self.raw.commit()


#: How long an opener waits for another process to release the DuckDB file (``DIOGEL_LOCK_WAIT``).
LOCK_WAIT_SECONDS = 120.0


def lock_wait_seconds() -> float:
    """The wait from ``DIOGEL_LOCK_WAIT`` (seconds, 0 for no wait), default :data:`LOCK_WAIT_SECONDS`."""
    value = os.environ.get("DIOGEL_LOCK_WAIT")
    if value is None or not value.strip():
        return LOCK_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:  # also refuses nan
        raise WarehouseError(f"DIOGEL_LOCK_WAIT must be a number of seconds such as 120, not {value!r}")
    return seconds


def _say_on_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _is_lock_error(exc: Exception) -> bool:
    return "could not set lock" in str(exc).lower()


def _holder(exc: Exception) -> str:
    """Who holds the lock, from DuckDB's message: "diogel serve (PID 123)" or "PID 123"."""
    m = re.search(r"\(PID (\d+)\)", str(exc))
    return _describe(m.group(1)) if m else "another process"


def _describe(pid: str) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"another process (PID {pid})"
    # "python -m diogel ingest ..." or ".../bin/diogel ingest ...": name the command, not its arguments.
    words = [a.decode(errors="replace") for a in argv if a]
    for i, w in enumerate(words):
        if Path(w).name == "diogel" or w == "diogel.cli":
            rest = iter(words[i + 1 :])
            for x in rest:
                if x in ("--data-dir", "--warehouse"):
                    next(rest, None)  # the option's value
                elif not x.startswith("-"):
                    return f"diogel {x} (PID {pid})"
            return f"diogel (PID {pid})"
    return f"another process (PID {pid})"


def _seconds(s: float) -> str:
    return f"{s / 60:g} min" if s >= 120 and s % 60 == 0 else f"{s:g} s"


def open_duckdb(
    path: Path,
    read_only: bool,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    yield_to_writers: float = 0.0,
) -> ibis.BaseBackend:
    """Connect to a DuckDB file, waiting up to ``wait`` seconds while another process holds its lock.

    ``wait`` defaults to :func:`lock_wait_seconds`. The first time the file is found locked,
    ``on_wait`` (default: print on stderr) is told, once, what is being waited for and for how
    long; the connection is retried with a pause growing from 0.05 s to 1 s. Raises
    :class:`WarehouseBusy` (one line) when the wait runs out, :class:`WarehouseError` for any other
    failure to open.

    A writer kept out by readers leaves a marker beside the file (``<file>.write-pending``, holding
    its PID) while it waits. A process that reads often (the portal) passes ``yield_to_writers``
    seconds: for that long it does not open the file while a live writer is waiting, so a stream of
    short reads cannot starve an ingest (the writer retries at least every second), and a read
    still goes ahead when the writer is kept out by someone else (a long ``diogel assess``).
    """
    wait = lock_wait_seconds() if wait is None else wait
    say = on_wait or _say_on_stderr
    deadline = time.monotonic() + wait
    marker = path.with_name(path.name + ".write-pending")
    yield_until = time.monotonic() + yield_to_writers
    pause, told, marked = 0.05, False, False
    try:
        while True:
            stepping_aside = read_only and time.monotonic() < yield_until
            writer = _waiting_writer(marker) if stepping_aside else None
            if writer is not None:
                reason = f"{writer} is waiting to write to it"
            else:
                try:
                    return ibis.duckdb.connect(str(path), read_only=read_only)
                except Exception as exc:  # duckdb.IOException; Ibis may wrap it
                    if not _is_lock_error(exc):
                        raise WarehouseError(f"cannot open the warehouse {path}: {_first_line(exc)}") from exc
                    # DuckDB adds "you would be able to open this database in read-only mode" when
                    # the holder only reads; a reader is only ever kept out by a writer.
                    doing = "reading" if "read-only mode" in str(exc) else "writing"
                    reason = f"{_holder(exc)} has it open for {doing}"
                    if not read_only and not marked:
                        marked = _mark(marker)
            if time.monotonic() >= deadline:
                what = "read" if read_only else "write to"
                raise WarehouseBusy(
                    f"cannot {what} the warehouse {path}: {reason} "
                    f"(waited {_seconds(wait)}; set DIOGEL_LOCK_WAIT to wait longer)"
                ) from None
            if not told:
                say(f"waiting for the warehouse {path}: {reason} (waiting up to {_seconds(wait)})...")
                told = True
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 1.0)
    finally:
        if marked:
            with contextlib.suppress(OSError):
                marker.unlink()


def _mark(marker: Path) -> bool:
    try:
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # another writer is waiting too (its marker serves both), or no permission
        return False
    with os.fdopen(fd, "w") as f:
        f.write(str(os.getpid()))
    return True


def _waiting_writer(marker: Path) -> str | None:
    """The writer waiting for the file ("diogel ingest (PID 123)"), or None. A marker left by a
    process that died is ignored."""
    try:
        pid = int(marker.read_text().strip())
    except (OSError, ValueError):
        return None
    if pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return _describe(str(pid))


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


_PG_TYPES = {
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE PRECISION",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.binary(): "BYTEA",
    pa.large_binary(): "BYTEA",
}


def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    try:
        return _PG_TYPES[t]
    except KeyError:
        raise WarehouseError(f"no PostgreSQL type for Arrow type {t}") from None


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self, url: str, read_only: bool = False):
        try:
            con = ibis.connect(url)
        except Exception as exc:  # the driver's own message says what is wrong
            raise WarehouseError(f"cannot connect to PostgreSQL at {_redact(url)}: {exc}") from exc
        super().__init__(con)
        self.raw = con.con
        self._in_tx = False
        self._stale: set[str] = set()
        # Every warehouse query is an analytical scan over whole tables (no indexes to probe). The
        # visibility rules filter on a window (seq = max(seq) per slice), which PostgreSQL cannot
        # estimate: it guesses one row, then re-runs that window inside a nested loop for each of
        # tens of thousands of LSOAs (ten minutes instead of a second). Hash and merge joins are
        # right for this workload; PostgreSQL still uses a nested loop where it is the only way.
        self._execute("SET enable_nestloop = off")
        # ``read_only`` changes nothing here: PostgreSQL has no file lock to share, and a read-only
        # session could not create the temporary tables Ibis and the assessment's cache read through.
        self.read_only = read_only

    def ensure_table(self, name: str, schema: pa.Schema) -> None:
        cols = ", ".join(f'"{_check_ident(f.name)}" {_pg_type(f.type)}' for f in schema)
        self._execute(f'CREATE TABLE IF NOT EXISTS "{_check_ident(name)}" ({cols})')
        for f in self._missing(name, schema):
            self._execute(
                f'ALTER TABLE "{name}" ADD COLUMN IF NOT EXISTS "{_check_ident(f.name)}" {_pg_type(f.type)}'
            )

    def append(self, name: str, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        # CSV has no bytes: send bytea as PostgreSQL's hex text form.
        for i, f in enumerate(rows.schema):
            if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type):
                hexed = pa.array(
                    [None if v is None else "\\x" + v.hex() for v in rows.column(i).to_pylist()], pa.string()
                )
                rows = rows.set_column(i, f.name, hexed)
        buf = io.BytesIO()
        pacsv.write_csv(rows, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        cols = ", ".join(f'"{_check_ident(c)}"' for c in rows.column_names)
        with (
            self.raw.cursor() as cur,
            cur.copy(f'COPY "{_check_ident(name)}" ({cols}) FROM STDIN WITH (FORMAT csv)') as copy,
        ):
            copy.write(buf.getvalue())
        self._stale.add(name)
        if not self._in_tx:
            self.raw.commit()
            self._analyze()

    def _analyze(self) -> None:
        # Bulk COPY leaves the planner's statistics stale until autovacuum catches up; with a
        # one-row estimate PostgreSQL picks nested loops over tens of thousands of lookup rows
        # (minutes instead of milliseconds). ANALYZE samples, so it stays cheap on big tables.
        for name in sorted(self._stale):
            self._execute(f'ANALYZE "{_check_ident(name)}"')
        self._stale.clear()

    def delete(self, name: str, column: str, values: list[str]) -> None:
        if values and self.has_table(name):
            self._execute(
                f'DELETE FROM "{_check_ident(name)}" WHERE "{_check_ident(column)}" = ANY(%s)', [values]
            )

    def _execute(self, sql: str, params: list | None = None) -> None:
        with self.raw.cursor() as cur:
            cur.execute(sql, params)
        if not self._in_tx:
            self.raw.commit()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self._in_tx = True
        try:
            with self.raw.transaction():
                yield
        finally:
            self._in_tx = False
        self._analyze()


class SparkBackend(Backend):
    name = "spark"
    transactional = False

    def __init__(self, master: str, data_dir: Path):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise WarehouseError("the Spark warehouse needs pyspark: pip install 'diogel[spark]'") from exc
        self.root = data_dir / "spark-tables"
        self.root.mkdir(parents=True, exist_ok=True)
        session = (
            SparkSession.builder.master(master)
            .appName("diogel")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.warehouse.dir", str(data_dir / "spark-warehouse"))
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        self.session = session
        super().__init__(ibis.pyspark.connect(session))

    def _path(self, name: str) -> Path:
        return self.root / _check_ident(name)

    def has_table(self, name: str) -> bool:
        return self._path(name).exists()

    def ensure_table(self, name: str, schema: pa.Schema) -> None:
        if not self.has_table(name):
            self._write(name, schema.empty_table(), mode="overwrite")
            return
        missing = _spark_schema(pa.schema(self._missing(name, schema)))
        if missing.fields:
            from pyspark.sql import functions as F

            df = self.session.read.parquet(str(self._path(name)))
            self._rewrite(
                name, df.select("*", *[F.lit(None).cast(f.dataType).alias(f.name) for f in missing])
            )

    def _write(self, name: str, rows: pa.Table, mode: str) -> None:
        # Straight from Arrow (PySpark 4): a detour through pandas turns null strings into "NaN".
        df = self.session.createDataFrame(rows, schema=_spark_schema(rows.schema))
        df.write.mode(mode).parquet(str(self._path(name)))

    def append(self, name: str, rows: pa.Table) -> None:
        if rows.num_rows:
            self._write(name, rows, mode="append")

    def delete(self, name: str, column: str, values: list[str]) -> None:
        if not values or not self.has_table(name):
            return
        # Rewrite without the rows: Parquet folders cannot delete in place.
        df = self.session.read.parquet(str(self._path(name)))
        self._rewrite(name, df.filter(~df[column].isin(values)))

    def _rewrite(self, name: str, df) -> None:  # noqa: ANN001
        path = self._path(name)
        tmp = path.with_name(path.name + ".rewrite")
        df.write.mode("overwrite").parquet(str(tmp))
        shutil.rmtree(path)
        tmp.rename(path)

    def table(self, name: str) -> ibis.Table:
        self.session.catalog.refreshByPath(str(self._path(name)))
        return self.ibis.read_parquet(str(self._path(name)), table_name=f"diogel_{name}")

    def close(self) -> None:
        # Leave the session running: pyspark allows one per process and tests reuse it.
        pass


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def connect(
    url: str | None,
    data_dir: Path,
    read_only: bool = False,
    wait: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    yield_to_writers: float = 0.0,
) -> Backend:
    """Open the warehouse named by ``url``.

    ``None`` or ``duckdb`` means ``<data_dir>/warehouse.duckdb``; ``duckdb:///path/file.duckdb`` a
    DuckDB file elsewhere; ``postgresql://user@host/db``; ``spark://local[2]`` Spark in local mode.
    ``read_only`` opens DuckDB read-only (shared with other readers; PostgreSQL and Spark open as
    always); ``wait``, ``on_wait`` and ``yield_to_writers`` are for a locked DuckDB file (see
    :func:`open_duckdb`).
    """
    path = duckdb_path(url, data_dir)
    if path is not None:
        return DuckDBBackend(path, read_only, wait, on_wait, yield_to_writers)
    assert url is not None
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresBackend(url.replace("postgres://", "postgresql://", 1), read_only=read_only)
    if url.startswith("spark://"):
        return SparkBackend(url[len("spark://") :] or "local[2]", data_dir)
    raise WarehouseError(
        f"unknown warehouse {_redact(url)!r}: use duckdb, duckdb:///path, postgresql://... or spark://local[2]"
    )


def duckdb_path(url: str | None, data_dir: Path) -> Path | None:
    """The DuckDB file ``url`` names (see :func:`connect`), or None for another engine."""
    if url in (None, "", "duckdb"):
        return data_dir / "warehouse.duckdb"
    if url.startswith("duckdb://"):
        path = url[len("duckdb://") :]  # duckdb:///abs/file.duckdb keeps its leading slash
        return Path(path) if path else data_dir / "warehouse.duckdb"
    return None
