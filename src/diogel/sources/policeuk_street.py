"""police.uk street-level crime and anti-social behaviour (``*-street.csv``).

One row per crime or ASB incident, located at an anonymised map point snapped to one of a fixed
set of points; ASB rows have no Crime ID. A row whose ``Crime ID`` was already seen (in the same
or an earlier month) is the same crime and is counted once, in its earliest month.
"""

from __future__ import annotations

import pyarrow as pa

from diogel.crime_types import CRIME_TYPES
from diogel.sources import _policeuk as police
from diogel.sources._text import read_text_table
from diogel.sources._validate import (
    NativeSpec,
    Rule,
    apply_rules,
    coordinate_rules,
    lsoa_rule,
    month_rules,
    q,
    sql_str,
)
from diogel.sources.registry import ParsedFile, SourceKind, register

HEADER = (
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
)  # fmt: skip

SCHEMA = pa.schema(
    [
        pa.field("crime_id", pa.string()),
        pa.field("month", pa.date32()),
        pa.field("reported_by", pa.string()),
        pa.field("falls_within", pa.string()),
        *police.LOCATION_FIELDS,
        pa.field("crime_type", pa.string()),
        pa.field("last_outcome", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

_TYPES = "[" + ", ".join(sql_str(t) for t in CRIME_TYPES) + "]"

RULES = [
    *month_rules(),
    Rule("Reported by", f"trim({q('Reported by')}) = ''", "'the reporting force is blank'"),
    Rule(
        "Crime type",
        f"NOT list_contains({_TYPES}, trim({q('Crime type')}))",
        f"'unknown crime type ''' || {q('Crime type')} || ''''",
    ),
    *coordinate_rules(),
    lsoa_rule(),
]

SELECT = f"""
    NULLIF(trim("Crime ID"), '') AS crime_id,
    CAST(trim("Month") || '-01' AS DATE) AS month,
    trim("Reported by") AS reported_by,
    NULLIF(trim("Falls within"), '') AS falls_within,
    {police.LOCATION_SELECT},
    trim("Crime type") AS crime_type,
    NULLIF(trim("Last outcome category"), '') AS last_outcome,
    line,
    trim("Reported by") || '|' || trim("Month") AS slice_key
"""

# The same header, rules and select list for the warehouse's own engine (DuckDB's read_csv).
NATIVE = NativeSpec(
    HEADER,
    RULES,
    SELECT,
    out_of_scope=("Reported by", "Falls within"),
    refuse_by_name=police.refuse_out_of_scope,
)


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    police.refuse_out_of_scope(path)
    text = read_text_table(path, data, HEADER)
    police.refuse_out_of_scope(path, text.table, ("Reported by", "Falls within"))
    quarantined = text.malformed
    rows = apply_rules(text.table, RULES, SELECT, quarantined).cast(SCHEMA)
    return ParsedFile(rows, quarantined, text.rows_read, police.month_range(rows))


KIND = register(
    SourceKind(
        name="police-street",
        table="police_street",
        schema=SCHEMA,
        read=read,
        patterns=("*-street.csv",),
        description="police.uk street-level crime and ASB (*-street.csv)",
        parallel_read=True,
        dedupe_key="crime_id",
    )
)
