"""police.uk stop and search (``*-stop-and-search.csv``).

Stop and search records carry a timestamp, not a month, and no Crime ID or LSOA. The force is not
a column: it is taken from the file name (``2024-06-dyfed-powys-stop-and-search.csv``), which is
how police.uk publishes it.
"""

from __future__ import annotations

import re
from pathlib import PurePath

import pyarrow as pa

from diogel.sources._policeuk import month_range, refuse_out_of_scope
from diogel.sources._text import read_text_table
from diogel.sources._validate import LAT_RANGE, LON_RANGE, Rule, apply_rules, coordinate_rules, q, sql_str
from diogel.sources.registry import ParsedFile, SourceKind, register

HEADER = (
    "Type", "Date", "Part of a policing operation", "Policing operation", "Latitude", "Longitude",
    "Gender", "Age range", "Self-defined ethnicity", "Officer-defined ethnicity", "Legislation",
    "Object of search", "Outcome", "Outcome linked to object of search",
    "Removal of more than just outer clothing",
)  # fmt: skip

SCHEMA = pa.schema(
    [
        pa.field("force", pa.string()),
        pa.field("search_type", pa.string()),
        pa.field("searched_at", pa.timestamp("us", tz="UTC")),
        pa.field("month", pa.date32()),
        pa.field("part_of_operation", pa.bool_()),
        pa.field("operation", pa.string()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("gender", pa.string()),
        pa.field("age_range", pa.string()),
        pa.field("self_defined_ethnicity", pa.string()),
        pa.field("officer_defined_ethnicity", pa.string()),
        pa.field("legislation", pa.string()),
        pa.field("object_of_search", pa.string()),
        pa.field("outcome", pa.string()),
        pa.field("outcome_linked_to_object", pa.bool_()),
        pa.field("removal_of_more_than_outer_clothing", pa.bool_()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

_FILE = re.compile(r"(\d{4}-\d{2})-(.+)-stop-and-search", re.IGNORECASE)
_BOOL = "CASE lower(trim({c})) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END"
_BOOL_COLS = ("Part of a policing operation", "Outcome linked to object of search",
              "Removal of more than just outer clothing")  # fmt: skip


def _force_and_month(path: str) -> tuple[str, str | None]:
    """police.uk names each file ``YYYY-MM-<force>-stop-and-search.csv``: the force and the
    published month come from there (a file's records can start on the last day of the month before)."""
    m = _FILE.search(PurePath(path).name)
    if not m:
        return "unknown force", None
    return m.group(2).replace("-", " ").title(), m.group(1)


RULES = [
    Rule("Type", f"trim({q('Type')}) = ''", "'the search type is blank'"),
    Rule(
        "Date",
        f"TRY_CAST(trim({q('Date')}) AS TIMESTAMPTZ) IS NULL",
        f"'''' || {q('Date')} || ''' is not a date and time (ISO 8601)'",
    ),
    Rule(
        "Date",
        f"TRY_CAST(trim({q('Date')}) AS TIMESTAMPTZ) > now()",
        f"'''' || {q('Date')} || ''' is in the future'",
    ),
    *[
        Rule(
            c,
            f"trim({q(c)}) <> '' AND ({_BOOL.format(c=q(c))}) IS NULL",
            f"'''' || {q(c)} || ''' is not True or False'",
        )
        for c in _BOOL_COLS
    ],
    *coordinate_rules(),
]
assert LON_RANGE and LAT_RANGE  # the same envelope as street crime


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    refuse_out_of_scope(path)  # stop and search rows do not name their force: by name only
    text = read_text_table(path, data, HEADER)
    quarantined = text.malformed
    force_name, published = _force_and_month(path)
    force = sql_str(force_name)
    slice_month = sql_str(published) if published else "strftime(timezone('UTC', {ts}), '%Y-%m')"
    ts = 'CAST(TRY_CAST(trim("Date") AS TIMESTAMPTZ) AS TIMESTAMPTZ)'
    select = f"""
        {force} AS force,
        trim("Type") AS search_type,
        {ts} AS searched_at,
        CAST(date_trunc('month', timezone('UTC', {ts})) AS DATE) AS month,
        {_BOOL.format(c=q("Part of a policing operation"))} AS part_of_operation,
        NULLIF(trim("Policing operation"), '') AS operation,
        TRY_CAST(NULLIF(trim("Latitude"), '') AS DOUBLE) AS latitude,
        TRY_CAST(NULLIF(trim("Longitude"), '') AS DOUBLE) AS longitude,
        NULLIF(trim("Gender"), '') AS gender,
        NULLIF(trim("Age range"), '') AS age_range,
        NULLIF(trim("Self-defined ethnicity"), '') AS self_defined_ethnicity,
        NULLIF(trim("Officer-defined ethnicity"), '') AS officer_defined_ethnicity,
        NULLIF(trim("Legislation"), '') AS legislation,
        NULLIF(trim("Object of search"), '') AS object_of_search,
        NULLIF(trim("Outcome"), '') AS outcome,
        {_BOOL.format(c=q("Outcome linked to object of search"))} AS outcome_linked_to_object,
        {_BOOL.format(c=q("Removal of more than just outer clothing"))} AS removal_of_more_than_outer_clothing,
        line,
        {force} || '|' || {slice_month.format(ts=ts)} AS slice_key
    """
    rows = apply_rules(text.table, RULES, select, quarantined).cast(SCHEMA)
    return ParsedFile(rows, quarantined, text.rows_read, month_range(rows))


KIND = register(
    SourceKind(
        name="police-stop-search",
        table="police_stop_search",
        schema=SCHEMA,
        read=read,
        patterns=("*-stop-and-search*.csv",),
        description="police.uk stop and search (*-stop-and-search.csv)",
        parallel_read=True,
    )
)
