"""Row validation as one vectorised SQL pass over the Arrow table of strings.

Each rule is a SQL condition that is true for a bad row, the column it concerns and a SQL
expression for the message. The first rule a row breaks is its quarantine reason. Running the
rules in an in-process DuckDB over Arrow keeps validation at columnar speed whatever warehouse
backend the rows end up in.

Speed (this runs on every row of every file): the rules are evaluated once, as one combined
condition, and reasons are built only for rows that break one. ``trim("<column>")`` is most of the
cost of a rule or a select list (DuckDB copies every trimmed string), yet almost no published
value has spaces around it; so a column whose values all start and end with a printable ASCII
character, which ``trim`` cannot change, has ``trim("<column>")`` replaced by the bare column.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from diogel.errors import InputError
from diogel.sources.registry import Quarantined

_local = threading.local()


def engine() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB used only as a vectorised expression engine (never the warehouse)."""
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(":memory:")
        _local.con = con
    return con


@dataclass(frozen=True)
class Rule:
    column: str
    bad_when: str
    message: str  # a SQL expression yielding the reason text


def q(name: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def blank(col: str) -> str:
    return f"(trim({q(col)}) = '')"


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def current_month() -> str:
    return dt.date.today().strftime("%Y-%m")


def apply_rules(table: pa.Table, rules: list[Rule], select: str, quarantined: Quarantined) -> pa.Table:
    """Split ``table`` into valid rows (projected by ``select``) and rows appended to ``quarantined``.

    ``select`` is the SQL select list that turns valid string rows into typed columns; it must
    include ``line``. The rules are evaluated once per row as one combined condition; the reason,
    column and raw text are built only for the (usually few) rows that break a rule. Valid rows
    keep the order of ``table`` (ascending ``line``).
    """
    con = engine()
    untrim = _untrim(table)
    select = untrim(select)
    rules = [Rule(r.column, untrim(r.bad_when), untrim(r.message)) for r in rules]
    con.register("_rows", table)
    try:
        if not rules:
            return _in_line_order(con.execute(f"SELECT {select} FROM _rows").to_arrow_table())
        # A rule whose condition is NULL is not broken (as in CASE WHEN), hence the coalesce.
        bad = "coalesce(" + " OR ".join(f"({r.bad_when})" for r in rules) + ", false)"
        valid = con.execute(f"SELECT {select} FROM _rows WHERE NOT {bad}").to_arrow_table()
        if valid.num_rows < table.num_rows:
            case_col = " ".join(f"WHEN {r.bad_when} THEN {sql_str(r.column)}" for r in rules)
            case_msg = " ".join(f"WHEN {r.bad_when} THEN {r.message}" for r in rules)
            data_cols = [c for c in table.column_names if c != "line"]
            raw = "concat_ws(',', " + ", ".join(q(c) for c in data_cols) + ")"
            broken = con.execute(
                f"""SELECT line, CASE {case_col} END, CASE {case_msg} END, {raw}
                    FROM _rows WHERE {bad} ORDER BY line"""
            ).fetchall()
            for line, column, reason, raw_text in broken:
                quarantined.add(int(line), column, f"{column}: {reason}", raw_text[:500])
        return _in_line_order(valid)
    finally:
        con.unregister("_rows")


def _untrim(table: pa.Table):  # noqa: ANN202
    """A rewrite of SQL text that drops ``trim()`` around columns where it cannot change a value."""
    return untrim(
        [
            name
            for name, col in zip(table.column_names, table.columns, strict=True)
            if pa.types.is_string(col.type) and not may_need_trim(col)
        ]
    )


def untrim(columns: list[str]):  # noqa: ANN201
    """A rewrite of SQL text that drops ``trim()`` around each of ``columns`` (known not to need it)."""
    plain = [f"trim({q(name)})" for name in columns]

    def rewrite(sql: str) -> str:
        for call in plain:
            sql = sql.replace(call, call[len("trim(") : -1])
        return sql

    return rewrite


def may_need_trim(col: pa.ChunkedArray) -> bool:
    """False when every value is empty or starts and ends with a printable ASCII character (! to ~).

    DuckDB's ``trim`` removes only whitespace, so it returns such values unchanged. Checked on the
    Arrow buffers directly: the first and last byte of each value, from the offsets.
    """
    for chunk in col.chunks:
        if len(chunk) == 0:
            continue
        _validity, offsets_buf, data_buf = chunk.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
        starts, ends = offsets[:-1], offsets[1:]
        filled = ends > starts
        if not filled.any():
            continue
        data = np.frombuffer(data_buf, dtype=np.uint8)
        edges = np.concatenate([data[starts[filled]], data[ends[filled] - 1]])
        if ((edges < 0x21) | (edges > 0x7E)).any():
            return True
    return False


def _in_line_order(rows: pa.Table) -> pa.Table:
    """``rows`` sorted by ``line``; DuckDB keeps insertion order, so this is normally a no-op check."""
    if rows.num_rows > 1 and "line" in rows.column_names:
        line = rows.column("line")
        if not pc.all(pc.less(line.slice(0, len(line) - 1), line.slice(1))).as_py():
            return rows.sort_by("line")
    return rows


def month_rules(column: str = "Month") -> list[Rule]:
    """A police.uk month must be YYYY-MM, a real month, and not in the future."""
    col = q(column)
    now = current_month()
    return [
        Rule(
            column,
            f"NOT regexp_full_match(trim({col}), '[0-9]{{4}}-(0[1-9]|1[0-2])')",
            f"'''' || {col} || ''' is not a month in the form YYYY-MM'",
        ),
        Rule(
            column,
            f"trim({col}) > '{now}'",
            f"'month ' || trim({col}) || ' is in the future (today is {now})'",
        ),
    ]


# England and Wales with a margin: police.uk snaps locations to points inside England and Wales.
LON_RANGE = (-6.5, 2.0)
LAT_RANGE = (49.8, 55.9)


def coordinate_rules(lon: str = "Longitude", lat: str = "Latitude") -> list[Rule]:
    """Coordinates are both blank (no location) or both numbers inside England and Wales."""
    lo, la = q(lon), q(lat)
    rules = []
    for name, col, (mn, mx) in ((lon, lo, LON_RANGE), (lat, la, LAT_RANGE)):
        rules.append(
            Rule(
                name,
                f"trim({col}) <> '' AND TRY_CAST(trim({col}) AS DOUBLE) IS NULL",
                f"'''' || {col} || ''' is not a number'",
            )
        )
        rules.append(
            Rule(
                name,
                f"TRY_CAST(trim({col}) AS DOUBLE) NOT BETWEEN {mn} AND {mx}",
                f"trim({col}) || ' is out of range for England and Wales ({mn} to {mx})'",
            )
        )
    rules.append(
        Rule(
            lat,
            f"(trim({lo}) = '') <> (trim({la}) = '')",
            "'one coordinate is blank and the other is not'",
        )
    )
    return rules


def lsoa_rule(column: str = "LSOA code") -> Rule:
    col = q(column)
    return Rule(
        column,
        f"trim({col}) <> '' AND NOT regexp_full_match(trim({col}), '[EW]01[0-9]{{6}}')",
        f"'''' || {col} || ''' is not an LSOA code (E01 or W01 and six digits)'",
    )


@dataclass(frozen=True)
class NativeSpec:
    """What the warehouse needs to read a kind's files with its own engine (DuckDB ``read_csv``).

    The same header, rules and select list as the kind's ``read``, so both routes give the same rows,
    quarantine reasons and refusals: see :mod:`diogel.warehouse.native_ingest`.
    """

    header: tuple[str, ...]
    rules: list[Rule]
    select: str  # the typed select list over the string columns and ``line``
    out_of_scope: tuple[str, ...] = ()  # columns naming the force (a PSNI row refuses the file)
    refuse_by_name: Callable[[str], None] | None = None  # raises InputError for a file refused by its name


@dataclass(frozen=True)
class PlainCsv:
    """A file's bytes judged fit for DuckDB's CSV reader (see :func:`plain_csv`)."""

    columns: list[str]  # the header, in file order, in the expected spelling
    rows: int  # data rows if every record is one physical line


def plain_csv(path: str, data: bytes, expected: tuple[str, ...]) -> PlainCsv | None:
    """Whether DuckDB's CSV reader gives exactly what :func:`read_text_table` gives for ``data``.

    True for the common case: no byte-order mark, no NUL, an ASCII header with exactly the
    ``expected`` columns, lines ending in LF or CRLF, no quote beside a space or tab (DuckDB drops
    such spaces around a quoted value; Arrow keeps them). Whether records and lines match one to one
    (so that line numbers follow from record order) is checked after reading. ``None``: use the
    general reader, which also gives the one-line error for whatever is wrong.
    """
    if not data or data[:1] in (b"\xef", b"\xff", b"\xfe", b"\x00") or b"\x00" in data:
        return None
    end = data.find(b"\n")
    first = data[:end].rstrip(b"\r")
    if end < 0 or not first.isascii() or b'"' in first:
        return None
    from diogel.sources._text import _match_header

    try:
        columns = _match_header(path, first.decode("ascii").split(","), expected)
    except InputError:
        return None
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    if b'"' in data and any(p in data for p in (b' "', b'" ', b'\t"', b'"\t')):
        return None
    if not data.isascii():
        try:  # exactly the UTF-8 the other route accepts (DuckDB's own check may differ in corners)
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    return PlainCsv(columns, lines - 1)
