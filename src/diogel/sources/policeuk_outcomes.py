"""police.uk outcomes (``*-outcomes.csv``): the outcomes recorded in a month for crimes of any month.

A crime can have several outcomes over time; each row is one outcome event, so rows are not
de-duplicated by Crime ID. A row repeated exactly within one file is still one row of that file.
"""

from __future__ import annotations

import pyarrow as pa

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
)
from diogel.sources.registry import ParsedFile, SourceKind, register

HEADER = (
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Outcome type",
)  # fmt: skip

SCHEMA = pa.schema(
    [
        pa.field("crime_id", pa.string()),
        pa.field("month", pa.date32()),
        pa.field("reported_by", pa.string()),
        pa.field("falls_within", pa.string()),
        *police.LOCATION_FIELDS,
        pa.field("outcome_type", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

RULES = [
    *month_rules(),
    Rule("Crime ID", f"trim({q('Crime ID')}) = ''", "'an outcome must name the crime it belongs to'"),
    Rule("Reported by", f"trim({q('Reported by')}) = ''", "'the reporting force is blank'"),
    Rule("Outcome type", f"trim({q('Outcome type')}) = ''", "'the outcome type is blank'"),
    *coordinate_rules(),
    lsoa_rule(),
]

SELECT = f"""
    trim("Crime ID") AS crime_id,
    CAST(trim("Month") || '-01' AS DATE) AS month,
    trim("Reported by") AS reported_by,
    NULLIF(trim("Falls within"), '') AS falls_within,
    {police.LOCATION_SELECT},
    trim("Outcome type") AS outcome_type,
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
        name="police-outcomes",
        table="police_outcomes",
        schema=SCHEMA,
        read=read,
        patterns=("*-outcomes.csv",),
        description="police.uk outcomes (*-outcomes.csv)",
        parallel_read=True,
    )
)
