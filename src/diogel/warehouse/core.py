"""The warehouse: one object that ingests files and hands out Ibis tables.

Ingest guarantees (each has a test):

* atomic per file: rows, quarantine, slices and the registry row go in one transaction (DuckDB,
  PostgreSQL); on Spark the registry row is written last and readers only see rows whose file is
  registered, so a killed ingest leaves nothing visible;
* idempotent: a file whose SHA-256 is registered is skipped; a later file with the same slice
  (force and month) replaces the earlier one's rows in every count;
* nothing lost: rows read = valid + quarantined for each file, and valid rows are either counted
  (loaded) or duplicates under the counting rules (see :mod:`diogel.warehouse.counting`).
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa

from diogel import __version__
from diogel.errors import DiogelError, InputError
from diogel.sources import files as source_files
from diogel.sources.registry import ParsedFile, SourceKind, get
from diogel.warehouse import backends
from diogel.warehouse.schema import SYSTEM_TABLES, with_provenance

DEFAULT_DATA_DIR = "diogel-data"


def data_dir_from_env(data_dir: str | Path | None = None) -> Path:
    return Path(data_dir or os.environ.get("DIOGEL_DATA_DIR") or DEFAULT_DATA_DIR)


@dataclass
class FileResult:
    """What happened to one file."""

    name: str
    kind: str
    status: str  # "loaded", "already loaded" or "refused"
    file_id: str | None = None
    rows_read: int = 0
    rows_valid: int = 0
    quarantined: int = 0
    loaded: int | None = None
    duplicates: int | None = None
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.status == "refused":
            return f"refused  {self.error}"
        if self.status == "already loaded":
            return f"skipped  {self.name}: already loaded (same content)"
        return (
            f"loaded   {self.name}: rows read {self.rows_read:,} = loaded {self.loaded:,} + duplicates "
            f"{self.duplicates:,} + quarantined {self.quarantined:,}"
        )


Progress = Callable[[int, int, str], None]


class Warehouse:
    """A diogel warehouse on DuckDB (default), PostgreSQL or Spark.

    Parameters
    ----------
    url : ``None`` for ``<data_dir>/warehouse.duckdb``; ``postgresql://...``; ``spark://local[2]``.
    data_dir : the data directory (``--data-dir`` / ``DIOGEL_DATA_DIR``, default ``./diogel-data``).
    """

    def __init__(self, url: str | None = None, data_dir: str | Path | None = None):
        self.data_dir = data_dir_from_env(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.url = url or os.environ.get("DIOGEL_WAREHOUSE") or None
        self.backend = backends.connect(self.url, self.data_dir)
        for name, schema in SYSTEM_TABLES.items():
            self.backend.ensure_table(name, schema)

    # -- reading -------------------------------------------------------------------------------
    @property
    def ibis(self) -> ibis.BaseBackend:
        return self.backend.ibis

    def table(self, name: str) -> ibis.Table:
        """An Ibis table of the warehouse (raw rows, including superseded and duplicate ones)."""
        if not self.backend.has_table(name):
            raise DiogelError(f"the warehouse has no table {name!r} yet: ingest the data it comes from first")
        return self.backend.table(name)

    def has(self, name: str) -> bool:
        return self.backend.has_table(name)

    def execute(self, expr: ibis.Expr) -> pd.DataFrame:
        return self.ibis.execute(expr)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ingest --------------------------------------------------------------------------------
    def ingest(
        self,
        kind: str | SourceKind,
        path: str | Path,
        options: dict | None = None,
        progress: Progress | None = None,
    ) -> list[FileResult]:
        """Ingest every file of ``kind`` under ``path`` (a file, a folder tree or a zip).

        A file that is refused (bad header, not a CSV, ...) does not stop the others; its result
        carries the one-line error.
        """
        kind = get(kind) if isinstance(kind, str) else kind
        self.backend.ensure_table(kind.table, with_provenance(kind.schema))
        self.recover()
        run_id = uuid.uuid4().hex
        self.backend.append(
            "ingest_run",
            pa.Table.from_pylist(
                [
                    {
                        "run_id": run_id,
                        "started_at": _now(),
                        "kind": kind.name,
                        "argument": str(path),
                        "diogel_version": __version__,
                    }
                ],
                schema=SYSTEM_TABLES["ingest_run"],
            ),
        )
        inputs = source_files.expand(path, kind)
        known = self.registered_file_ids()
        seq = self._max_seq()
        results: list[FileResult] = []
        for i, item in enumerate(inputs):
            if progress:
                progress(i, len(inputs), item.label)
            try:
                data = item.read()
                file_id = source_files.sha256(data)
                if file_id in known:
                    results.append(FileResult(item.label, kind.name, "already loaded", file_id))
                    continue
                parsed = kind.read(item.label, data, options)
            except InputError as exc:
                results.append(FileResult(item.label, kind.name, "refused", error=str(exc)))
                continue
            seq += 1
            self._commit(kind, item, data, file_id, run_id, seq, parsed)
            known.add(file_id)
            results.append(
                FileResult(
                    item.label,
                    kind.name,
                    "loaded",
                    file_id,
                    rows_read=parsed.rows_read,
                    rows_valid=parsed.rows_valid,
                    quarantined=len(parsed.quarantined),
                    problems=[
                        f"{item.label}:{ln}: {r}"
                        for ln, r in zip(parsed.quarantined.line, parsed.quarantined.reason, strict=True)
                    ],
                )
            )
        if progress:
            progress(len(inputs), len(inputs), "")
        self._fill_accounting(kind, results)
        return results

    def _commit(
        self,
        kind: SourceKind,
        item: source_files.InputFile,
        data: bytes,
        file_id: str,
        run_id: str,
        seq: int,
        parsed: ParsedFile,
    ) -> None:
        rows = parsed.rows
        n = rows.num_rows
        rows = rows.append_column("file_id", pa.array([file_id] * n, pa.string()))
        rows = rows.append_column("run_id", pa.array([run_id] * n, pa.string()))
        q = parsed.quarantined
        quarantine = pa.Table.from_pydict(
            {
                "file_id": [file_id] * len(q),
                "run_id": [run_id] * len(q),
                "kind": [kind.name] * len(q),
                "file_name": [item.label] * len(q),
                "line": q.line,
                "column_name": q.column,
                "reason": q.reason,
                "raw": q.raw,
            },
            schema=SYSTEM_TABLES["quarantine"],
        )
        slices = _slices(parsed.rows, file_id, run_id, seq)
        registry = pa.Table.from_pylist(
            [
                {
                    "file_id": file_id,
                    "run_id": run_id,
                    "seq": seq,
                    "kind": kind.name,
                    "table_name": kind.table,
                    "name": Path(item.member or item.path).name,
                    "path": item.label,
                    "bytes": len(data),
                    "rows_read": parsed.rows_read,
                    "rows_valid": parsed.rows_valid,
                    "rows_quarantined": len(q),
                    "month_min": parsed.months[0],
                    "month_max": parsed.months[1],
                    "committed_at": _now(),
                }
            ],
            schema=SYSTEM_TABLES["source_file"],
        )
        if parsed.rows_read != parsed.rows_valid + len(q):
            raise AssertionError(
                f"{item.label}: rows read {parsed.rows_read} != valid {parsed.rows_valid} + quarantined {len(q)}"
            )
        with self.backend.transaction():
            self.backend.append(kind.table, rows)
            self.backend.append("quarantine", quarantine)
            self.backend.append("file_slice", slices)
            _test_pause(item.label)
            self.backend.append("source_file", registry)

    def _fill_accounting(self, kind: SourceKind, results: list[FileResult]) -> None:
        loaded_ids = [r.file_id for r in results if r.status == "loaded" and r.file_id]
        if not loaded_ids:
            return
        from diogel.warehouse.counting import loaded_by_file

        loaded = loaded_by_file(self, kind, loaded_ids)
        for r in results:
            if r.status == "loaded":
                r.loaded = int(loaded.get(r.file_id, 0))
                r.duplicates = r.rows_valid - r.loaded

    def registered_file_ids(self) -> set[str]:
        t = self.table("source_file")
        return set(self.execute(t.select("file_id")).file_id)

    def _max_seq(self) -> int:
        t = self.table("source_file")
        value = self.execute(t.seq.max())
        return 0 if value is None or pd.isna(value) else int(value)

    def recover(self) -> None:
        """Delete rows left by an ingest that died before its commit (only possible on Spark)."""
        if self.backend.transactional:
            return
        slices = self.table("file_slice")
        files = self.table("source_file").select("file_id", "run_id")
        orphans = slices.anti_join(files, ["file_id", "run_id"]).select("run_id").distinct()
        runs = list(self.execute(orphans).run_id)
        if not runs:
            return
        for name in self.ibis.list_tables() if self.backend.name != "spark" else _spark_tables(self):
            if name not in ("ingest_run", "source_file"):
                self.backend.delete(name, "run_id", runs)

    # -- what is loaded ------------------------------------------------------------------------
    def status(self) -> pd.DataFrame:
        """One row per loaded file: kind, name, rows read, loaded, duplicates, quarantined, months."""
        from diogel.warehouse.counting import status_frame

        return status_frame(self)

    def quarantine(self, file_id: str | None = None) -> pd.DataFrame:
        t = self.table("quarantine")
        if file_id:
            t = t.filter(t.file_id == file_id)
        return self.execute(t.order_by(["file_name", "line"]))


def _slices(rows: pa.Table, file_id: str, run_id: str, seq: int) -> pa.Table:
    if rows.num_rows:
        counts = rows.group_by("slice_key").aggregate([("slice_key", "count")])
        keys = counts.column("slice_key").to_pylist()
        ns = counts.column("slice_key_count").to_pylist()
    else:
        keys, ns = [], []
    return pa.Table.from_pydict(
        {
            "file_id": [file_id] * len(keys),
            "run_id": [run_id] * len(keys),
            "seq": [seq] * len(keys),
            "slice_key": keys,
            "rows": ns,
        },
        schema=SYSTEM_TABLES["file_slice"],
    )


def _spark_tables(wh: Warehouse) -> list[str]:
    root = wh.backend.root  # type: ignore[attr-defined]
    return [p.name for p in root.iterdir() if p.is_dir()]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _test_pause(label: str) -> None:
    """Let the crash test kill a real ingest between writing rows and committing them."""
    marker = os.environ.get("DIOGEL_TEST_PAUSE_BEFORE_COMMIT")
    if marker:
        Path(marker).write_text(label)
        time.sleep(600)
