"""Row validation as one vectorised SQL pass over the Arrow table of strings.

Each rule is a SQL condition that is true for a bad row, the column it concerns and a SQL
expression for the message. The first rule a row breaks is its quarantine reason. Running the
rules in an in-process DuckDB over Arrow keeps validation at columnar speed whatever warehouse
backend the rows end up in.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

import duckdb
import pyarrow as pa

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
    include ``line``.
    """
    con = engine()
    con.register("_rows", table)
    try:
        if rules:
            case_col = " ".join(f"WHEN {r.bad_when} THEN {sql_str(r.column)}" for r in rules)
            case_msg = " ".join(f"WHEN {r.bad_when} THEN {r.message}" for r in rules)
            data_cols = [c for c in table.column_names if c != "line"]
            raw = "concat_ws(',', " + ", ".join(q(c) for c in data_cols) + ")"
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE _checked AS
                    SELECT *, CASE {case_col} END AS _bad_column, CASE {case_msg} END AS _reason,
                           {raw} AS _raw
                    FROM _rows"""
            )
            bad = con.execute(
                "SELECT line, _bad_column, _reason, _raw FROM _checked WHERE _reason IS NOT NULL ORDER BY line"
            ).fetchall()
            for line, column, reason, raw_text in bad:
                quarantined.add(int(line), column, f"{column}: {reason}", raw_text[:500])
            source = "(SELECT * FROM _checked WHERE _reason IS NULL)"
        else:
            source = "_rows"
        return con.execute(f"SELECT {select} FROM {source} ORDER BY line").fetch_arrow_table()
    finally:
        con.execute("DROP TABLE IF EXISTS _checked")
        con.unregister("_rows")


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
