"""police.uk files read, checked and split by the warehouse's own engine (DuckDB ``read_csv``).

Why: on the other route pyarrow parses each file, a second (in-memory) DuckDB validates the Arrow
table, and the valid rows are copied into the warehouse: three engines and two copies per file.
Here the warehouse's DuckDB reads the file once into a staging table (all columns text, empty
fields as ``''``, exactly what the other route's reader gives), evaluates the kind's own rules
(:class:`~diogel.sources._validate.NativeSpec`: the same SQL as its ``read``) there, and the valid
rows go in with one ``INSERT ... SELECT`` per file, in the batch's transaction. The staging tables
live in an in-memory database attached to the warehouse's connection (``_diogel_stage``), so the
read-ahead thread stages the next file on a cursor of the same database while the main thread
writes, and nothing staged ever reaches the warehouse file except through that insert.

Every guarantee of the other route holds, and a file is read the other way (in the read-ahead
thread, as before) whenever this route could give a different answer: a file inside a zip or
``.gz``, any byte-order mark, a NUL, a non-ASCII or quoted header, bare CR line ends, a quote beside
a space (see :func:`~diogel.sources._validate.plain_csv`); and after reading, any error from DuckDB
(a ragged row, bytes that are not UTF-8, an over-long line), records that do not match physical
lines one to one (quoted line breaks, blank lines: line numbers need the exact reader), a field
over the field limit, or a row naming an out-of-scope force. The other route then quarantines or
refuses with its one-line message naming file, line and column.

Line numbers: the staging table keeps the file's record order (DuckDB preserves insertion order),
so with one record per line, a row's line is its ``rowid`` + 2.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import sys
from dataclasses import dataclass, field

import duckdb

from diogel.errors import InputError
from diogel.sources import _text, files, registry
from diogel.sources import _validate as rules

STAGE = "_diogel_stage"  # the attached in-memory database holding staged files


def enabled() -> bool:
    """True only with ``DIOGEL_NATIVE_INGEST=1``.

    Off by default: measured in one run of ``benchmarks/ingest_national.py --months 12
    --compare-arrow`` (RESULTS.md, 2026-12-07 01:32) this route took 87.7 CPU-s against the Arrow
    route's 73.0 on the same files: the per-file ``INSERT ... SELECT`` from the staging table into
    the warehouse file costs more than the Arrow route's append, and the staging copy comes on top.
    It gives the same rows (tests/test_native_ingest.py) and a lower peak in the per-file phase.
    """
    return os.environ.get("DIOGEL_NATIVE_INGEST", "0") == "1"


def spec(kind: registry.SourceKind) -> rules.NativeSpec | None:
    """The kind's :class:`NativeSpec` (a ``NATIVE`` beside its ``read``), if it has one."""
    module = sys.modules.get(getattr(kind.read, "__module__", ""), None)
    found = getattr(module, "NATIVE", None)
    return found if isinstance(found, rules.NativeSpec) else None


@dataclass
class StagedFile:
    """A file staged and checked in DuckDB; stands in for a ``ParsedFile`` in the ingest loop."""

    table: str  # staging table (qualified)
    bad: str | None  # table of the rowids of quarantined rows, if any
    rows_read: int
    quarantined: registry.Quarantined
    months: tuple[str | None, str | None]
    slice_counts: dict[str, int]
    select: str  # the kind's select list, without trim() where it cannot change a value
    num_rows: int = 0  # valid rows, as stored
    tables: list[str] = field(default_factory=list)  # everything to drop afterwards

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

    # -- read-ahead thread -------------------------------------------------------------------------
    def stage(self, item: files.InputFile, data: bytes) -> StagedFile | None:
        """Stage and check one file; ``None`` when the other route must read it (see the module)."""
        if item.member is not None or item.path.suffix.lower() != ".csv":
            return None
        if any(c in str(item.path) for c in "*?[{") or str(item.path).startswith("~"):
            return None  # read_csv would take the path as a glob pattern (or expand the ~)
        if self.native.refuse_by_name is not None:
            try:
                self.native.refuse_by_name(item.label)
            except InputError:
                return None  # the other route refuses it, in its words
        plain = rules.plain_csv(item.label, data, self.native.header)
        if plain is None:
            return None
        n = next(self.counter)
        table = f"{STAGE}.f{n}"
        staged = StagedFile(table, None, 0, registry.Quarantined(), (None, None), {}, "", tables=[table])
        columns = "{" + ", ".join(f"{rules.sql_str(c)}: 'VARCHAR'" for c in plain.columns) + "}"
        every = "[" + ", ".join(rules.sql_str(c) for c in plain.columns) + "]"
        path = rules.sql_str(str(item.path))
        try:
            self.cursor.execute(
                f"""CREATE TABLE {table} AS SELECT * FROM read_csv({path}, header = true,
                    auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {columns},
                    force_not_null = {every}, strict_mode = true, null_padding = false,
                    hive_partitioning = false, filename = false)"""
            )
            if not self._check(staged, plain):
                self.drop(staged)
                return None
        except duckdb.Error:
            self.drop(staged)
            return None
        except BaseException:
            self.drop(staged)
            raise
        return staged

    def _check(self, staged: StagedFile, plain: rules.PlainCsv) -> bool:
        """Count, find the rows that break a rule, the slices and months; False: use the other route."""
        cur, table, native = self.cursor, staged.table, self.native
        q = rules.q
        longest = "greatest(" + ", ".join(f"max(strlen({q(c)}))" for c in plain.columns) + ")"
        # trim() removes spaces and some non-ASCII spaces (U+00A0, U+2000...): a column whose values
        # all start and end with another character keeps them as they are, so it is not trimmed
        # (most of the cost of the select list otherwise).
        edges = ", ".join(
            f"bool_or(prefix({q(c)}, ' ') OR suffix({q(c)}, ' ') OR ascii({q(c)}) > 127 "
            f"OR ascii(right({q(c)}, 1)) > 127)"
            for c in plain.columns
        )
        scope = " OR ".join(f"contains({q(c)}, 'Northern Ireland')" for c in native.out_of_scope) or "false"
        row = cur.execute(f"SELECT count(*), {longest}, bool_or({scope}), {edges} FROM {table}").fetchone()
        assert row is not None
        rows, widest, foreign, spaced = int(row[0]), row[1] or 0, bool(row[2]), row[3:]
        if rows != plain.rows or widest > _text.FIELD_LIMIT or foreign:
            return False
        plain_columns = [c for c, s in zip(plain.columns, spaced, strict=True) if not s]
        untrim = rules.untrim(plain_columns)
        checks = [rules.Rule(r.column, untrim(r.bad_when), untrim(r.message)) for r in native.rules]
        staged.rows_read = rows
        # TRY_CAST: DuckDB may evaluate the select list before the filter that drops broken rows (a
        # month 2024-13 would stop the query); for the valid rows that are kept both give the same value.
        staged.select = re.sub(r"(?<!TRY_)CAST\(", "TRY_CAST(", untrim(native.select))
        source = f"(SELECT *, rowid + 2 AS line FROM {table})"
        broken = (
            "coalesce(" + " OR ".join(f"({r.bad_when})" for r in checks) + ", false)" if checks else "false"
        )
        unknown = f"coalesce({untrim(self.unknown)}, false)" if self.unknown else "false"
        bad_rows = cur.execute(f"SELECT count(*) FROM {table} WHERE {broken} OR {unknown}").fetchone()[0]  # type: ignore[index]
        valid = source
        if bad_rows:
            staged.bad = f"{STAGE}.b{table.rsplit('.f', 1)[1]}"
            staged.tables.append(staged.bad)
            self._quarantine(staged, checks, broken, unknown, plain.columns)
            valid = f"(SELECT * FROM {source} WHERE line NOT IN (SELECT line FROM {staged.bad}))"
        staged.num_rows = rows - len(staged.quarantined)
        if staged.num_rows:
            counts = cur.execute(
                f"SELECT slice_key, count(*), min(month), max(month) FROM (SELECT {staged.select} FROM {valid}) "
                "GROUP BY slice_key"
            ).fetchall()
            staged.slice_counts = {k: int(c) for k, c, _, _ in counts}
            staged.months = (_month(min(r[2] for r in counts)), _month(max(r[3] for r in counts)))
        return True

    def _quarantine(self, staged: StagedFile, checks: list[rules.Rule], broken: str, unknown: str,
                    columns: list[str]) -> None:  # fmt: skip
        """Record the rows that break a rule (reason from the first) or name an unknown LSOA."""
        cur, q = self.cursor, rules.q
        case_col = " ".join(f"WHEN {r.bad_when} THEN {rules.sql_str(r.column)}" for r in checks)
        case_msg = " ".join(f"WHEN {r.bad_when} THEN {r.message}" for r in checks)
        raw = "concat_ws(',', " + ", ".join(q(c) for c in columns) + ")"
        assert staged.bad is not None
        cur.execute(
            f"""CREATE TABLE {staged.bad} AS SELECT line, {broken} AS broken,
                CASE {case_col or "WHEN false THEN ''"} END AS col, CASE {case_msg or "WHEN false THEN ''"} END AS msg,
                {raw} AS raw
                FROM (SELECT *, rowid + 2 AS line FROM {staged.table}) WHERE {broken} OR {unknown}"""
        )
        lines = cur.execute(
            f"SELECT line, col, msg, raw FROM {staged.bad} WHERE broken ORDER BY line"
        ).fetchall()
        for line, column, reason, raw_text in lines:
            staged.quarantined.add(int(line), column, f"{column}: {reason}", raw_text[:500])
        # Unknown LSOA: as the other route words it, from the typed row (see _Guard.check_areas).
        shown = [c for c in self.kind.schema.names if c not in ("line", "slice_key")]
        typed = cur.execute(
            f"""SELECT line, {", ".join(q(c) for c in shown)} FROM (SELECT {staged.select}
                FROM (SELECT *, rowid + 2 AS line FROM {staged.table})) WHERE line IN
                (SELECT line FROM {staged.bad} WHERE NOT broken) ORDER BY line"""
        ).fetchall()
        from diogel.warehouse.counting import UNKNOWN_LSOA_REASON

        at = shown.index("lsoa_code") if typed else 0
        for line, *values in typed:
            staged.quarantined.add(
                int(line),
                "LSOA code",
                f"LSOA code {values[at]} {UNKNOWN_LSOA_REASON}",
                ",".join("" if v is None else str(v) for v in values),
            )

    # -- main thread (inside the batch's transaction) ----------------------------------------------
    def insert(self, staged: StagedFile, file_id: str, run_id: str) -> None:
        """The valid rows of a staged file into the kind's table, with their provenance."""
        where = f" WHERE line NOT IN (SELECT line FROM {staged.bad})" if staged.bad else ""
        self.con.execute(
            f"""INSERT INTO {self.kind.table} BY NAME SELECT {staged.select}, ? AS file_id, ? AS run_id
                FROM (SELECT *, rowid + 2 AS line FROM {staged.table}){where}""",
            [file_id, run_id],
        )

    def drop(self, staged: StagedFile, main: bool = False) -> None:
        """Free a staged file's tables (on the cursor that made them unless ``main``)."""
        con = self.con if main else self.cursor
        for table in staged.tables:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        staged.tables = []

    def close(self) -> None:
        self.cursor.close()
        self.con.execute(f"DETACH DATABASE IF EXISTS {STAGE}")


def _month(value: dt.date | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m")
