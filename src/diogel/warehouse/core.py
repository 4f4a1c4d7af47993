"""The warehouse: one object that ingests files and hands out Ibis tables.

Ingest guarantees (each has a test):

* atomic per file: rows, quarantine, slices and the registry row go in one transaction (DuckDB,
  PostgreSQL); on Spark the registry row is written last and readers only see rows whose file is
  registered, so a killed ingest leaves nothing visible;
* idempotent: a file whose SHA-256 is registered is skipped; a later file with the same slice
  (kind, force and month; see :mod:`diogel.warehouse.counting`) replaces the earlier one's rows in
  every count, unless it holds markedly fewer rows (then it is refused unless ``replace``); a
  replaced file can be put back in force with :meth:`Warehouse.restore`;
* nothing lost: rows read = valid + quarantined for each file, and valid rows are either counted
  (loaded) or duplicates under the counting rules (see :mod:`diogel.warehouse.counting`).

On DuckDB, police.uk street and outcomes files are read, checked and inserted by the warehouse's
own engine, many files per statement (:mod:`diogel.warehouse.native_ingest`: 43% fewer CPU-seconds
and 54% less time than the Arrow route on 516 national files); a file that route cannot read
exactly as the Arrow route does, every file with ``DIOGEL_NATIVE_INGEST=0``, and every file on
PostgreSQL and Spark take the Arrow route (the kind's ``read``).
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
from diogel.sources.registry import SourceKind, get
from diogel.warehouse import backends, counted_table, native_ingest
from diogel.warehouse.guard import Guard, slice_counts
from diogel.warehouse.inputs import declared_inputs
from diogel.warehouse.native_ingest import StagedFile
from diogel.warehouse.reading import BATCH_FILES, BATCH_ROWS, Batch, Prepared, Preparer, ReadAhead
from diogel.warehouse.schema import SYSTEM_TABLES, with_provenance

DEFAULT_DATA_DIR = "diogel-data"


def data_dir_from_env(data_dir: str | Path | None = None) -> Path:
    return Path(data_dir or os.environ.get("DIOGEL_DATA_DIR") or DEFAULT_DATA_DIR)


@dataclass
class FileResult:
    """What happened to one file."""

    name: str
    kind: str
    status: str  # "loaded", "already loaded", "refused" (or "restored", from Warehouse.restore)
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
        if self.status == "restored":
            return f"restored {self.name}: {self.error}"
        if self.status == "already loaded":
            note = f"; {self.error}" if self.error else ""
            return f"skipped  {self.name}: already loaded (same content){note}"
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
    data_dir : the data directory (``--data-dir`` / ``DIOGEL_DATA_DIR``, default ``./diogel-data``),
        created owner-only (0700) if it does not exist; a new DuckDB file is created 0600.
    read_only : open for reading only. A DuckDB file is then shared with any number of other
        reading processes (``diogel status``, ``assess``, the portal); opened read-write (the
        default, for ``init`` and ``ingest``) it is one process's alone. Open read-only whenever
        nothing is written, and close soon: while it is open no other process can write.
    wait : seconds to wait while another process holds the DuckDB file (default
        ``DIOGEL_LOCK_WAIT`` or 120); then :class:`~diogel.warehouse.backends.WarehouseBusy`.
    on_wait : told once, in words, what is being waited for (default: a line on stderr).
    yield_to_writers : seconds a reader steps aside (does not open the DuckDB file) while a writer
        waits for it: for processes that read often, such as the portal, so they cannot starve an
        ingest (see :func:`~diogel.warehouse.backends.open_duckdb`).
    """

    def __init__(
        self,
        url: str | None = None,
        data_dir: str | Path | None = None,
        read_only: bool = False,
        wait: float | None = None,
        on_wait: Callable[[str], None] | None = None,
        yield_to_writers: float = 0.0,
    ):
        self.data_dir = data_dir_from_env(data_dir)
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.url = url or os.environ.get("DIOGEL_WAREHOUSE") or None
        self.read_only = read_only
        self._native: native_ingest.NativeRoute | None = None  # during an ingest run, on DuckDB
        file = backends.duckdb_path(self.url, self.data_dir)
        if read_only and file is not None and not file.exists():
            # DuckDB cannot create a file read-only: the first reader makes the empty warehouse.
            Warehouse(self.url, self.data_dir, wait=wait, on_wait=on_wait).close()
        self.backend = backends.connect(self.url, self.data_dir, read_only, wait, on_wait, yield_to_writers)
        if not (read_only and file is not None):
            for name, schema in SYSTEM_TABLES.items():
                self.backend.ensure_table(name, schema)
        elif not set(SYSTEM_TABLES) <= set(self.ibis.list_tables()):
            # A DuckDB reader cannot create tables; a warehouse made by an older diogel gets the
            # system tables it lacks from one brief read-write open, then is read as usual.
            self.backend.close()
            Warehouse(self.url, self.data_dir, wait=wait, on_wait=on_wait).close()
            self.backend = backends.connect(
                self.url, self.data_dir, read_only, wait, on_wait, yield_to_writers
            )

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
        replace: bool = False,
    ) -> list[FileResult]:
        """Ingest every file of ``kind`` under ``path`` (a file, a folder tree or a zip).

        A file that is refused (bad header, not a CSV, ...) does not stop the others; its result
        carries the one-line error. A file that would replace a slice with under
        :data:`~diogel.warehouse.counting.REPLACE_SHARE` of its rows (or a partner file without a
        supplier that would replace any month) is refused unless ``replace`` is true.

        Kinds with ``parallel_read`` are read and parsed one file ahead in a worker thread while the
        main thread writes, and written several files per transaction (see :data:`BATCH_ROWS`):
        each file's rows go in with its registry row, so a killed ingest still leaves every file
        wholly in or wholly out, and a refused file never enters a transaction at all.
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
        registered = set(known)
        guard = Guard(self, kind, options, replace)
        results: list[FileResult] = []
        self._native = _native_route(self, kind, guard)
        if kind.parallel_read:
            # Pure readers get no warehouse: they run in a thread, beside the writes.
            prepare = Preparer(kind, options, known, in_thread=True, native=self._native)
        else:
            # Readers that declare warehouse inputs (partner data: its key and LSOA boundaries) get them here.
            prepare = Preparer(
                kind, {**(options or {}), **declared_inputs(kind, self)}, known, in_thread=False
            )
        with self.backend.bulk_load():  # (DuckDB: one checkpoint after the run, not one per batch)
            try:
                self._ingest_files(kind, inputs, prepare, known, registered, replace, options, guard,
                                   Batch(), run_id, results, progress)  # fmt: skip
            finally:
                if self._native is not None:
                    self._native.close()
                    self._native = None
            if progress:
                progress(len(inputs), len(inputs), "")
            counted_table.refresh(self)  # the counting rules applied once, as the files land
            self._fill_accounting(kind, run_id, results)
        return results

    def _ingest_files(
        self,
        kind: SourceKind,
        inputs: list[source_files.InputFile],
        prepare: Preparer,
        known: set[str],
        registered: set[str],
        replace: bool,
        options: dict | None,
        guard: Guard,
        batch: Batch,
        run_id: str,
        results: list[FileResult],
        progress: Progress | None,
    ) -> None:
        """The loop of :meth:`ingest` over the input files (read ahead, judged, batched, committed)."""
        seq = self._max_seq()
        batch_rows, batch_files = (BATCH_ROWS, BATCH_FILES) if kind.parallel_read else (0, 1)
        with ReadAhead(inputs, prepare) as ahead:
            for i, future in enumerate(ahead):
                if batch.group is not None and i in ahead.starts:  # (native route: the group read
                    self._commit_batch(kind, run_id, batch)  # before goes in while this one is staged)
                item = inputs[i]
                if progress:
                    progress(i, len(inputs), item.label)
                try:
                    prep = future.result()
                    if prep.error is None and prep.parsed is None and prep.file_id not in known:
                        prep.parsed = prepare.parse(prep)  # a reader that must run in this thread
                except InputError as exc:
                    prep = Prepared(item, error=exc)
                except Exception:
                    self._commit_batch(kind, run_id, batch)  # the files read before this one still go in
                    raise
                if prep.error is not None:
                    results.append(FileResult(item.label, kind.name, "refused", error=str(prep.error)))
                    continue
                if prep.file_id in known:
                    self._drop_staged(prep)
                    if replace and prep.file_id in registered:
                        # --replace on a file loaded before: put it back in force (nothing is re-read).
                        self._commit_batch(kind, run_id, batch)
                        restored = self.restore(prep.file_id)
                        restored.name = item.label
                        results.append(restored)
                        seq = self._max_seq()
                        guard = Guard(self, kind, options, replace)
                    else:
                        results.append(_skipped(kind, prep, guard, registered))
                    continue
                admitted = self._admit(kind, prep, guard)
                results.append(admitted)
                if admitted.status != "loaded":
                    continue
                seq += 1
                known.add(admitted.file_id)
                if batch.other_group(prep):  # (native route: one INSERT per staged group)
                    self._commit_batch(kind, run_id, batch)
                batch.add(prep, seq)
                if batch.full(batch_rows, batch_files):
                    self._commit_batch(kind, run_id, batch)
            self._commit_batch(kind, run_id, batch)

    def _admit(self, kind: SourceKind, prep: Prepared, guard: Guard) -> FileResult:
        """A parsed new file judged by the guard: its result, "loaded" (to be written) or "refused"."""
        item, parsed = prep.item, prep.parsed
        assert parsed is not None and prep.file_id is not None
        if parsed.rows_read != parsed.rows_valid + len(parsed.quarantined):
            raise AssertionError(
                f"{item.label}: rows read {parsed.rows_read} != valid {parsed.rows_valid} "
                f"+ quarantined {len(parsed.quarantined)}"
            )
        guard.check_areas(parsed, item.label)  # (moves rows to the quarantine: rows_valid changes)
        refusal = guard.admit(prep, item.label)
        if refusal is not None:
            self._drop_staged(prep)
            return FileResult(item.label, kind.name, "refused", error=refusal)
        prep.rows_valid = parsed.rows_valid
        q = parsed.quarantined
        return FileResult(
            item.label,
            kind.name,
            "loaded",
            prep.file_id,
            rows_read=parsed.rows_read,
            rows_valid=prep.rows_valid,
            quarantined=len(q),
            problems=[f"{item.label}:{ln}: {r}" for ln, r in zip(q.line, q.reason, strict=True)],
        )

    def _commit_batch(self, kind: SourceKind, run_id: str, batch: Batch) -> None:
        """Write the batch's files in one transaction and empty the batch.

        If the transaction fails and the engine rolled it back, the files are written again one per
        transaction, so those before the failing one go in as they would have file by file.
        """
        files = batch.take()
        if not files:
            return
        try:
            with self.backend.transaction():
                self._write_files(kind, run_id, files)
        except Exception:
            if len(files) == 1 or not self.backend.transactional:
                raise
            for one in files:
                with self.backend.transaction():
                    self._write_files(kind, run_id, [one])
        finally:
            for prep, _ in files:
                self._drop_staged(prep)

    def _drop_staged(self, prep: Prepared) -> None:
        """Free the staging tables of a file the DuckDB-native route read (see native_ingest)."""
        if self._native is not None and isinstance(prep.parsed, StagedFile):
            self._native.drop(prep.parsed, main=True)

    def _write_files(self, kind: SourceKind, run_id: str, files: list[tuple[Prepared, int]]) -> None:
        """Append the files' rows, quarantine and slices, then (last) their registry rows."""
        rows, quarantine, slices, registry, events, staged = [], [], [], [], [], []
        for prep, seq in files:
            events.extend({**e, "run_id": run_id} for e in prep.events)
            item, parsed, file_id = prep.item, prep.parsed, prep.file_id
            assert parsed is not None and file_id is not None
            if isinstance(parsed, StagedFile):
                staged.append((parsed, file_id))
            else:
                n = parsed.rows.num_rows
                rows.append(
                    parsed.rows.append_column("file_id", _repeat(file_id, n)).append_column(
                        "run_id", _repeat(run_id, n)
                    )
                )
            q = parsed.quarantined
            if len(q):
                quarantine.append(
                    pa.Table.from_pydict(
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
                )
            counts = prep.slices if prep.slices is not None else slice_counts(parsed)
            slices.append(_slices(counts, file_id, run_id, seq))
            registry.append(
                {
                    "file_id": file_id,
                    "run_id": run_id,
                    "seq": seq,
                    "kind": kind.name,
                    "table_name": kind.table,
                    "name": Path(item.member or item.path).name,
                    "path": item.label,
                    "bytes": prep.size,
                    "rows_read": parsed.rows_read,
                    "rows_valid": prep.rows_valid,
                    "rows_quarantined": len(q),
                    "month_min": parsed.months[0],
                    "month_max": parsed.months[1],
                    "committed_at": _now(),
                }
            )
        if staged:
            assert self._native is not None
            self._native.insert(staged, run_id)  # in this transaction, straight from staging
        if rows:
            self.backend.append(kind.table, _concat(rows))
        if quarantine:
            self.backend.append("quarantine", _concat(quarantine))
        self.backend.append("file_slice", _concat(slices))
        if events:
            self.backend.append(
                "slice_event", pa.Table.from_pylist(events, schema=SYSTEM_TABLES["slice_event"])
            )
        _test_pause(files[0][0].item.label)
        self.backend.append(
            "source_file", pa.Table.from_pylist(registry, schema=SYSTEM_TABLES["source_file"])
        )

    def _fill_accounting(self, kind: SourceKind, run_id: str, results: list[FileResult]) -> None:
        if not any(r.status == "loaded" for r in results):
            return
        from diogel.warehouse.counting import loaded_by_file

        loaded = loaded_by_file(self, kind, run_id=run_id)
        for r in results:
            if r.status == "loaded":
                r.loaded = int(loaded.get(r.file_id, 0))
                r.duplicates = r.rows_valid - r.loaded

    def registered_file_ids(self) -> set[str]:
        t = self.table("source_file")
        return set(self.execute(t.select("file_id")).file_id)

    def _max_seq(self) -> int:
        # A restore gives an earlier file's slices a new seq without a new registry row.
        top = 0
        for name in ("source_file", "file_slice"):
            value = self.execute(self.table(name).seq.max())
            top = max(top, 0 if value is None or pd.isna(value) else int(value))
        return top

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

    def find_file(self, which: str | Path) -> pd.Series:
        """The registered file ``which`` names: a file on disk (by its content), an id (or its first 8+
        characters), a path as ingested or a file name. One line naming the candidates when several match."""
        files = self.execute(self.table("source_file").order_by("seq"))
        text = str(which)
        hit = files[files.file_id == text]
        if hit.empty and Path(text).is_file():
            hit = files[files.file_id == source_files.sha256(Path(text).read_bytes())]
            if hit.empty:
                raise DiogelError(f"{text}: this file (its content) was never loaded; ingest it instead")
        if hit.empty and len(text) >= 8 and all(c in "0123456789abcdef" for c in text.lower()):
            hit = files[files.file_id.str.startswith(text.lower())]
        if hit.empty:
            hit = files[(files.path == text) | (files.name == text) | (files.name == Path(text).name)]
        if hit.empty:
            raise DiogelError(f"no loaded file {text!r}: see diogel status for the files and their ids")
        if len(hit) > 1:
            listed = "; ".join(f"{r.file_id[:12]} ({r.kind}, {r.rows_read:,} rows, {r.committed_at:%Y-%m-%d %H:%M})"
                               for r in hit.itertuples())  # fmt: skip
            raise DiogelError(f"{len(hit)} loaded files match {text!r}: give the id of one: {listed}")
        return hit.iloc[0]

    def restore(self, which: str | Path) -> FileResult:
        """Put a loaded file back in force for every slice it holds that a later file took over.

        Nothing is read again: the file's rows are still in the warehouse (replaced rows are kept
        for provenance). The restore is recorded as a run (``ingest_run``, argument
        ``restore <file>``) and one ``slice_event`` per slice, and takes effect in one transaction.
        """
        from diogel.warehouse.counting import in_force

        f = self.find_file(which)
        own = self.table("file_slice")
        own = own.filter((own.file_id == f.file_id) & (own.run_id == f.run_id))
        mine = self.execute(own.group_by("slice_key").aggregate(rows=own.rows.max()))
        now = self.execute(in_force(self, f.kind).select("slice_key", "file_id", "rows"))
        current = {k: (fid, int(n)) for k, fid, n in zip(now.slice_key, now.file_id, now.rows, strict=True)}
        taken = mine[[current.get(k, (None,))[0] != f.file_id for k in mine.slice_key]]
        result = FileResult(f.path, f.kind, "restored", f.file_id, rows_read=int(f.rows_read))
        if taken.empty:
            result.error = "already in force for every slice it holds; nothing changed"
            return result
        run_id, at, seq = uuid.uuid4().hex, _now(), self._max_seq() + 1
        n = len(taken)
        slices = pa.Table.from_pydict(
            {"file_id": [f.file_id] * n, "run_id": [f.run_id] * n, "seq": [seq] * n,
             "slice_key": list(taken.slice_key), "rows": [int(v) for v in taken.rows]},
            schema=SYSTEM_TABLES["file_slice"],
        )  # fmt: skip
        events = [
            {"run_id": run_id, "at": at, "action": "restored", "kind": f.kind, "slice_key": k,
             "file_id": f.file_id, "replaced_file_id": current.get(k, (None, 0))[0],
             "old_rows": current.get(k, (None, 0))[1], "new_rows": int(r), "forced": False}
            for k, r in zip(taken.slice_key, taken.rows, strict=True)
        ]  # fmt: skip
        run = {"run_id": run_id, "started_at": at, "kind": f.kind, "argument": f"restore {f.path}",
               "diogel_version": __version__}  # fmt: skip
        with self.backend.transaction():
            self.backend.append("ingest_run", pa.Table.from_pylist([run], schema=SYSTEM_TABLES["ingest_run"]))
            self.backend.append(
                "slice_event", pa.Table.from_pylist(events, schema=SYSTEM_TABLES["slice_event"])
            )
            self.backend.append("file_slice", slices)  # last: the slices take effect with it
        counted_table.refresh(self)
        from diogel.warehouse.counting import slice_words

        first = slice_words(f.kind, str(taken.slice_key.iloc[0]))
        more = f" and {n - 1} more" if n > 1 else ""
        result.error = f"in force again for {first}{more} ({int(taken.rows.sum()):,} rows)"
        return result

    def quarantine(self, file_id: str | None = None) -> pd.DataFrame:
        t = self.table("quarantine")
        if file_id:
            t = t.filter(t.file_id == file_id)
        return self.execute(t.order_by(["file_name", "line"]))


def _skipped(kind: SourceKind, prep: Prepared, guard: Guard, registered: set[str]) -> FileResult:
    """The result for a file whose content is loaded already (saying so if a later file replaced it)."""
    label = prep.item.label
    skipped = FileResult(label, kind.name, "already loaded", prep.file_id)
    replaced = guard.replaced_slices(prep.file_id) if prep.file_id in registered else 0
    if replaced:
        skipped.error = (
            f"a later file replaced it in {replaced} slice(s): 'diogel restore {label}' "
            "(or this command with --replace) puts it back in force"
        )
    return skipped


def _repeat(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


def _concat(tables: list[pa.Table]) -> pa.Table:
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="default")


def _native_route(wh: Warehouse, kind: SourceKind, guard: Guard) -> native_ingest.NativeRoute | None:
    """The DuckDB-native route for this kind and warehouse, when both allow it (see native_ingest)."""
    native = native_ingest.spec(kind)
    if native is None or not kind.parallel_read or wh.backend.name != "duckdb" or not native_ingest.enabled():
        return None
    return native_ingest.NativeRoute(wh.backend.raw, kind, native, guard.lsoas)  # type: ignore[attr-defined]


def _slices(counts: dict[str, int], file_id: str, run_id: str, seq: int) -> pa.Table:
    keys = list(counts)
    ns = [counts[k] for k in keys]
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
