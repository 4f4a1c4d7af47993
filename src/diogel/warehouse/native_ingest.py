"""police.uk files read, checked and split by the warehouse's own engine (DuckDB ``read_csv``).

Why: on the other route pyarrow parses each file, a second (in-memory) DuckDB validates the Arrow
table, and the valid rows are copied into the warehouse: three engines and two copies per file.
Here the warehouse's DuckDB reads a group of files (about :data:`GROUP_BYTES` of CSV) with one
``read_csv`` into one staging table (all columns text, empty fields as ``''``, exactly what the
other route's reader gives, plus the file's place in the group), evaluates the kind's own rules
(:class:`~diogel.sources._validate.NativeSpec`: the same SQL as its ``read``) there, per file with
``GROUP BY``, and the valid rows of the files a batch transaction writes go in with one
``INSERT ... SELECT`` per group, each row carrying its own file's ``file_id``. The staging tables
live in an in-memory database attached to the warehouse's connection (``_diogel_stage``), so the
read-ahead thread stages the next group on a cursor of the same database while the main thread
writes, and nothing staged ever reaches the warehouse file except through that insert.

Every guarantee of the other route holds, file by file (a group only shares the work): each file is
admitted, written (in its batch's transaction, with its registry row), refused or skipped on its
own, with its own rows, quarantine, slices and provenance. A file is read the other way (in the
read-ahead thread, as before) whenever this route could give a different answer: a file inside a
zip or ``.gz``, any byte-order mark, a NUL, a non-ASCII or quoted header, bare CR line ends, a
quote beside a space (see :func:`~diogel.sources._validate.plain_csv`); and after reading, records
that do not match physical lines one to one (quoted line breaks, blank lines: line numbers need the
exact reader), a field over the field limit, or a row naming an out-of-scope force. Any error from
DuckDB while reading a group (a ragged row, bytes that are not UTF-8, an over-long line) stages
each of its files again alone, so only the file at fault goes the other way. The other route then
quarantines or refuses with its one-line message naming file, line and column.

Line numbers: the staging table keeps the files' record order (DuckDB preserves insertion order:
the files one after another, each in its own order; each file's rows are checked to be one
unbroken run), so with one record per line, a row's line is its ``rowid`` less its file's first
``rowid``, + 2.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import sys
import threading
from dataclasses import dataclass, field

import duckdb

from diogel.errors import InputError
from diogel.sources import _text, files, registry
from diogel.sources import _validate as rules

STAGE = "_diogel_stage"  # the attached in-memory database holding staged files
#: CSV bytes (and files) staged by one ``read_csv``, and written by one ``INSERT`` in one transaction:
#: about 430,000 police.uk rows. DuckDB writes an insert of two row groups (245,760 rows) or more
#: straight to the file; a smaller one goes through the write-ahead log and is written again at
#: the checkpoint (measured: 48 MiB groups cost a third more to write than 96 MiB ones).
GROUP_BYTES = 96 * 2**20
GROUP_FILES = 128


def enabled() -> bool:
    """True unless ``DIOGEL_NATIVE_INGEST=0`` (which sends every file the Arrow route's way).

    On by default since files are staged in groups. Measured by ``benchmarks/ingest_national.py
    --months 12`` (516 files, 6.7 M rows; RESULTS.md, 2026-12-07 10:54 to 11:21, branch ingest3),
    alternating with the code before (the Arrow route): on a quiet 2-core machine 16.7 s and
    29.2 CPU-s, ratio to DuckDB's bare load 0.497, against 36.3 s, 51.7 CPU-s and 0.237 before;
    DuckDB file 340 MiB against 548, peak RSS 1.3 GiB against 2.4. Under load, 30.9 CPU-s (41.3
    to 41.9 before each statement got half the threads) against 50.6 to 64.9. Staged
    one file at a time (one ``INSERT`` per file) it had been slower than the Arrow route (87.7
    CPU-s against 73.0, RESULTS.md 2026-12-07 01:32). It gives the same rows
    (tests/test_native_ingest.py, tests/test_native_groups.py).
    """
    return os.environ.get("DIOGEL_NATIVE_INGEST", "1") != "0"


def spec(kind: registry.SourceKind) -> rules.NativeSpec | None:
    """The kind's :class:`NativeSpec` (a ``NATIVE`` beside its ``read``), if it has one."""
    module = sys.modules.get(getattr(kind.read, "__module__", ""), None)
    found = getattr(module, "NATIVE", None)
    return found if isinstance(found, rules.NativeSpec) else None


@dataclass
class Group:
    """Files staged by one ``read_csv``: one staging table, its select list and each file's first rowid."""

    table: str  # staging table (qualified); column ``_fx`` is the file's place in the group
    select: str = ""  # the kind's select list, without trim() where no file of the group needs it
    bases: list[int] = field(default_factory=list)  # each file's first rowid, by place
    bad: str | None = None  # table of the quarantined rows (``_rid``), if any
    pending: int = 0  # files handed out and neither inserted nor dropped yet
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def line(self) -> str:
        """SQL for a staged row's line in its file (the header is line 1)."""
        return f"(rowid - {_int_list(self.bases)}[_fx + 1] + 2)"

    def tables(self) -> list[str]:
        return [self.table] + ([self.bad] if self.bad else [])


@dataclass
class StagedFile:
    """A file staged and checked in DuckDB; stands in for a ``ParsedFile`` in the ingest loop."""

    group: Group
    fx: int  # the file's place in its group
    rows_read: int
    quarantined: registry.Quarantined = field(default_factory=registry.Quarantined)
    months: tuple[str | None, str | None] = (None, None)
    slice_counts: dict[str, int] = field(default_factory=dict)
    num_rows: int = 0  # valid rows, as stored
    released: bool = False  # inserted or dropped: its group no longer waits for it

    @property
    def rows_valid(self) -> int:
        return self.num_rows


class NativeRoute:
    """Stages files on a cursor (read-ahead thread) and inserts them on the warehouse connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, kind: registry.SourceKind, native: rules.NativeSpec,
                 lsoas: object | None):  # fmt: skip
        self.con, self.kind, self.native = con, kind, native
        attached = {r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        if STAGE not in attached:
            con.execute(f"ATTACH ':memory:' AS {STAGE}")
        self.cursor = con.cursor()  # the same database: the thread's statements never block the writer's
        self.counter = itertools.count()
        self.ready: dict[str, StagedFile] = {}  # staged by prefetch, until stage() hands them out
        self.judged: dict[str, rules.PlainCsv | None] = {}  # files prefetch judged but did not stage
        self.unknown: str | None = None
        codes = getattr(lsoas, "codes", None)
        if codes and "LSOA code" in native.header:
            con.execute(f"CREATE OR REPLACE TABLE {STAGE}.known_lsoa (code VARCHAR)")
            con.execute(f"INSERT INTO {STAGE}.known_lsoa SELECT unnest(?::VARCHAR[])", [sorted(codes)])
            nations = ", ".join(rules.sql_str(n) for n in sorted(lsoas.nations))  # type: ignore[attr-defined]
            code = 'trim("LSOA code")'
            # Judged only for rows that break no rule, like the other route's check after its rules.
            self.unknown = (
                f"({code} <> '' AND left({code}, 3) IN ({nations}) "
                f"AND {code} NOT IN (SELECT code FROM {STAGE}.known_lsoa))"
            )
        # Two statements run at once, the read-ahead thread's staging and the writer's insert: each
        # gets half of DuckDB's threads (on 2 cores: 30.1 CPU-s and 17.2 s for the national
        # benchmark's 516 files, against 38.1 CPU-s and 19.7 s with both statements on 2 threads).
        self.threads = int(con.execute("SELECT current_setting('threads')").fetchone()[0])  # type: ignore[index]
        con.execute(f"SET threads = {max(1, self.threads // 2)}")

    # -- read-ahead thread -------------------------------------------------------------------------
    def prefetch(self, found: list[tuple[files.InputFile, bytes]]) -> None:
        """Stage several files with one ``read_csv``; :meth:`stage` then hands each out."""
        judged = {item.label: self._plain(item, data) for item, data in found}
        plain = [(item, p) for item, _ in found if (p := judged[item.label]) is not None]
        if len(plain) > 1:
            same = [(item, p) for item, p in plain if p.columns == plain[0][1].columns]
            self.ready.update(self._stage_group(same))
        self.judged.update((k, v) for k, v in judged.items() if k not in self.ready)

    def stage(self, item: files.InputFile, data: bytes) -> StagedFile | None:
        """A file staged and checked; ``None`` when the other route must read it (see the module)."""
        ready = self.ready.pop(item.label, None)
        if ready is not None:
            return ready
        plain = self.judged.pop(item.label) if item.label in self.judged else self._plain(item, data)
        if plain is None:
            return None
        return self._stage_group([(item, plain)]).get(item.label)

    def _plain(self, item: files.InputFile, data: bytes) -> rules.PlainCsv | None:
        """The file judged fit for ``read_csv`` from its name and bytes, or ``None``."""
        if item.member is not None or item.path.suffix.lower() != ".csv":
            return None
        if any(c in str(item.path) for c in "*?[{") or str(item.path).startswith("~"):
            return None  # read_csv would take the path as a glob pattern (or expand the ~)
        if self.native.refuse_by_name is not None:
            try:
                self.native.refuse_by_name(item.label)
            except InputError:
                return None  # the other route refuses it, in its words
        return rules.plain_csv(item.label, data, self.native.header)

    def _stage_group(self, found: list[tuple[files.InputFile, rules.PlainCsv]]) -> dict[str, StagedFile]:
        """Read ``found`` (files with the same header) into one staging table and check each file."""
        group = Group(f"{STAGE}.g{next(self.counter)}")
        columns = found[0][1].columns
        types = "{" + ", ".join(f"{rules.sql_str(c)}: 'VARCHAR'" for c in columns) + "}"
        every = "[" + ", ".join(rules.sql_str(c) for c in columns) + "]"
        paths = "[" + ", ".join(rules.sql_str(str(item.path)) for item, _ in found) + "]"
        staged: dict[str, StagedFile] = {}
        try:
            self.cursor.execute(
                f"""CREATE TABLE {group.table} AS SELECT *, file_index::INTEGER AS _fx FROM read_csv({paths},
                    header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
                    columns = {types}, force_not_null = {every}, strict_mode = true, null_padding = false,
                    hive_partitioning = false, filename = false)"""
            )
            staged = self._check(group, found)
        except duckdb.Error:
            staged = {}
        finally:
            if not staged:
                self._drop_group(group, self.cursor)
        return staged

    def _check(
        self, group: Group, found: list[tuple[files.InputFile, rules.PlainCsv]]
    ) -> dict[str, StagedFile]:
        """Count, find the rows that break a rule, the slices and months of each file; keep those that pass."""
        cur, table, native, q = self.cursor, group.table, self.native, rules.q
        columns = found[0][1].columns
        # trim() removes spaces and some non-ASCII spaces (U+00A0, U+2000...): a column with no
        # value that starts or ends with a space, and no non-ASCII character at all, keeps its
        # values as they are, so it is not trimmed (most of the cost of the select list otherwise).
        edges = ", ".join(
            f"bool_or(prefix({q(c)}, ' ') OR suffix({q(c)}, ' ') OR strlen({q(c)}) <> length({q(c)}))"
            for c in columns
        )
        widest = "greatest(" + ", ".join(f"max(strlen({q(c)}))" for c in columns) + ")"
        scope = " OR ".join(f"contains({q(c)}, 'Northern Ireland')" for c in native.out_of_scope) or "false"
        row = cur.execute(f"SELECT {widest}, bool_or({scope}), {edges} FROM {table}").fetchone()
        assert row is not None
        if (row[0] or 0) > _text.FIELD_LIMIT or row[1]:
            return {}  # each file alone then: the one at fault goes the other way
        untrim = rules.untrim([c for c, s in zip(columns, row[2:], strict=True) if not s])
        checks = [rules.Rule(r.column, untrim(r.bad_when), untrim(r.message)) for r in native.rules]
        # TRY_CAST: DuckDB may evaluate the select list before the filter that drops broken rows (a
        # month 2024-13 would stop the query); for the valid rows that are kept both give the same value.
        group.select = re.sub(r"(?<!TRY_)CAST\(", "TRY_CAST(", untrim(native.select))
        broken = (
            "coalesce(" + " OR ".join(f"({r.bad_when})" for r in checks) + ", false)" if checks else "false"
        )
        unknown = f"coalesce({untrim(self.unknown)}, false)" if self.unknown else "false"
        # (Only slice_key and month of the select list are used: DuckDB computes no other column.)
        per_slice = cur.execute(
            f"""SELECT _fx, slice_key, count(*), min(_rid), max(_rid), count_if(_bad),
                min(month) FILTER (WHERE NOT _bad), max(month) FILTER (WHERE NOT _bad)
                FROM (SELECT {group.select}, _fx, _rid, _bad FROM (SELECT *, rowid AS _rid, 0 AS line,
                {broken} OR {unknown} AS _bad FROM {table})) GROUP BY _fx, slice_key"""
        ).fetchall()
        staged = _judge(group, found, per_slice)
        if any(s.rows_read > s.num_rows for s in staged.values()):
            self._quarantine(group, list(staged.values()), checks, broken, unknown, columns)
        group.pending = len(staged)
        return staged

    def _quarantine(self, group: Group, staged: list[StagedFile], checks: list[rules.Rule], broken: str,
                    unknown: str, columns: list[str]) -> None:  # fmt: skip
        """Record the rows that break a rule (reason from the first) or name an unknown LSOA."""
        cur, q = self.cursor, rules.q
        case_col = " ".join(f"WHEN {r.bad_when} THEN {rules.sql_str(r.column)}" for r in checks)
        case_msg = " ".join(f"WHEN {r.bad_when} THEN {r.message}" for r in checks)
        raw = "concat_ws(',', " + ", ".join(q(c) for c in columns) + ")"
        by_fx = {s.fx: s for s in staged}
        group.bad = f"{group.table}_bad"
        cur.execute(
            f"""CREATE TABLE {group.bad} AS SELECT _fx, rowid AS _rid, {group.line} AS line, {broken} AS broken,
                CASE {case_col or "WHEN false THEN ''"} END AS col, CASE {case_msg or "WHEN false THEN ''"} END AS msg,
                {raw} AS raw FROM {group.table} WHERE _fx IN ({_int_csv(by_fx)}) AND ({broken} OR {unknown})"""
        )
        lines = cur.execute(
            f"SELECT _fx, line, col, msg, raw FROM {group.bad} WHERE broken ORDER BY _fx, line"
        )
        for fx, line, column, reason, raw_text in lines.fetchall():
            by_fx[fx].quarantined.add(int(line), column, f"{column}: {reason}", raw_text[:500])
        # Unknown LSOA: as the other route words it, from the typed row (see _Guard.check_areas).
        shown = [c for c in self.kind.schema.names if c not in ("line", "slice_key")]
        typed = cur.execute(
            f"""SELECT _fx, line, {", ".join(q(c) for c in shown)} FROM (SELECT {group.select}, _fx
                FROM (SELECT *, {group.line} AS line FROM {group.table}
                WHERE rowid IN (SELECT _rid FROM {group.bad} WHERE NOT broken))) ORDER BY _fx, line"""
        ).fetchall()
        from diogel.warehouse.counting import UNKNOWN_LSOA_REASON

        at = shown.index("lsoa_code") if typed else 0
        for fx, line, *values in typed:
            by_fx[fx].quarantined.add(
                int(line),
                "LSOA code",
                f"LSOA code {values[at]} {UNKNOWN_LSOA_REASON}",
                ",".join("" if v is None else str(v) for v in values),
            )

    # -- main thread (inside the batch's transaction) ----------------------------------------------
    def insert(self, staged: list[tuple[StagedFile, str]], run_id: str) -> None:
        """The valid rows of staged files into the kind's table, with their provenance: one statement per group."""
        groups: dict[int, list[tuple[StagedFile, str]]] = {}
        for one in staged:
            groups.setdefault(id(one[0].group), []).append(one)
        for members in groups.values():
            group = members[0][0].group
            file_ids = " ".join(f"WHEN {s.fx} THEN {rules.sql_str(file_id)}" for s, file_id in members)
            where = f"_fx IN ({_int_csv(s.fx for s, _ in members)})"
            if group.bad:
                where += f" AND rowid NOT IN (SELECT _rid FROM {group.bad})"
            self.con.execute(
                f"""INSERT INTO {self.kind.table} BY NAME SELECT {group.select}, CASE _fx {file_ids} END AS file_id,
                    ? AS run_id FROM (SELECT *, {group.line} AS line FROM {group.table} WHERE {where})""",
                [run_id],
            )

    def drop(self, staged: StagedFile, main: bool = False) -> None:
        """Release a staged file (inserted, or not to be); its group's tables go with the last one."""
        group = staged.group
        with group.lock:
            if staged.released:
                return
            staged.released = True
            group.pending -= 1
            last = group.pending == 0
        if last:
            self._drop_group(group, self.con if main else self.cursor)

    def _drop_group(self, group: Group, con: duckdb.DuckDBPyConnection) -> None:
        for table in group.tables():
            con.execute(f"DROP TABLE IF EXISTS {table}")

    def close(self) -> None:
        self.ready.clear()
        self.judged.clear()
        self.cursor.close()
        self.con.execute(f"SET threads = {self.threads}")
        self.con.execute(f"DETACH DATABASE IF EXISTS {STAGE}")


def _judge(
    group: Group, found: list[tuple[files.InputFile, rules.PlainCsv]], per_slice: list[tuple]
) -> dict[str, StagedFile]:
    """Each file of the group from its rows' aggregates: staged, or left out (the other route reads it)."""
    n = len(found)
    rows, bad, first, last = [0] * n, [0] * n, [0] * n, [-1] * n
    months: list[list[dt.date]] = [[] for _ in range(n)]
    slices: list[dict[str, int]] = [{} for _ in range(n)]
    for fx, key, count, lo, hi, broken, m_lo, m_hi in per_slice:
        first[fx] = lo if not rows[fx] else min(first[fx], lo)
        last[fx] = max(last[fx], hi)
        rows[fx] += count
        bad[fx] += broken
        if count > broken:
            slices[fx][key] = count - broken
            months[fx] += [m_lo, m_hi]
    group.bases = first
    staged = {}
    for fx, (item, plain) in enumerate(found):
        unbroken = last[fx] - first[fx] + 1 == rows[fx]  # one run of rowids: lines follow from them
        if rows[fx] != plain.rows or not unbroken:
            continue
        staged[item.label] = StagedFile(
            group, fx, rows[fx], months=(_month(min(months[fx], default=None)), _month(max(months[fx], default=None))),
            slice_counts=slices[fx], num_rows=rows[fx] - bad[fx],
        )  # fmt: skip
    return staged


def _int_list(values: list[int]) -> str:
    return "[" + ", ".join(str(int(v)) for v in values) + "]"


def _int_csv(values: object) -> str:
    return ", ".join(str(int(v)) for v in values)  # type: ignore[attr-defined]


def _month(value: dt.date | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m")
