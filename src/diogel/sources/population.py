"""ONS mid-year population estimates by LSOA and single year of age (0..89 and 90+).

Stored long, one row per LSOA and age (90 stands for 90 and over), so any band (youth 10-17, the
over-65s) is a filter and a sum. The total column, where the file has one, must equal the sum of
the ages: a row where it does not is quarantined rather than trusted.
"""

from __future__ import annotations

import pyarrow as pa

from diogel.sources._reference import LSOA_CODE, LSOA_NAME, vintage_from_header, year_from
from diogel.sources._text import decode, header_resolver, read_text_table
from diogel.sources._validate import Rule, apply_rules, engine, lsoa_rule, q
from diogel.sources.registry import ParsedFile, SourceKind, register

AGES = [str(a) for a in range(90)] + ["90+"]
_AGE_COLS = {f"age_{a}": (rf"{a}" if a < 90 else r"90\+|90 ?plus") for a in range(91)}

SCHEMA = pa.schema(
    [
        pa.field("lsoa_code", pa.string()),
        pa.field("lsoa_vintage", pa.int32()),
        pa.field("year", pa.int32()),
        pa.field("age", pa.int32()),
        pa.field("persons", pa.int64()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    header = decode(path, data)[0].split("\n", 1)[0].rstrip("\r").split(",")
    header = [h.strip().strip('"') for h in header]
    vintage = vintage_from_header(header, options, path)
    year = year_from(path, options, "population estimate")
    patterns = {
        "LSOA code": LSOA_CODE,
        "LSOA name": LSOA_NAME,
        "total": r"total_population|all ages|all_ages|total",
    }
    patterns |= _AGE_COLS
    text = read_text_table(
        path, data, resolve=header_resolver(path, patterns, optional=("LSOA name", "total"))
    )
    ages = [f"age_{a}" for a in range(91)]
    has_total = "total" in text.table.column_names
    rules = [
        lsoa_rule("LSOA code"),
        Rule("LSOA code", f"trim({q('LSOA code')}) = ''", "'the LSOA code is blank'"),
    ]
    for a in ages:
        rules.append(
            Rule(a, f"TRY_CAST(trim({q(a)}) AS BIGINT) IS NULL OR TRY_CAST(trim({q(a)}) AS BIGINT) < 0",
                 f"'''' || {q(a)} || ''' is not a count of people'")
        )  # fmt: skip
    if has_total:
        total = " + ".join(f"CAST(trim({q(a)}) AS BIGINT)" for a in ages)
        rules.append(
            Rule("total", f"TRY_CAST(trim({q('total')}) AS BIGINT) IS DISTINCT FROM ({total})",
                 f"'total ' || {q('total')} || ' does not equal the sum of the ages (' || ({total}) || ')'")
        )  # fmt: skip
    select = 'trim("LSOA code") AS lsoa_code, line, ' + ", ".join(
        f"CAST(trim({q(a)}) AS BIGINT) AS {a}" for a in ages
    )
    wide = apply_rules(text.table, rules, select, text.malformed)
    con = engine()
    con.register("_wide", wide)
    try:
        long = con.execute(
            f"""SELECT lsoa_code, {vintage}::INTEGER AS lsoa_vintage, {year}::INTEGER AS year,
                       CAST(substr(age, 5) AS INTEGER) AS age, persons, line,
                       '{vintage}|{year}|' || lsoa_code AS slice_key
                FROM (UNPIVOT _wide ON {", ".join(ages)} INTO NAME age VALUE persons)
                ORDER BY line, age"""
        ).to_arrow_table()
    finally:
        con.unregister("_wide")
    return ParsedFile(long.cast(SCHEMA), text.malformed, text.rows_read, (str(year), str(year)))


KIND = register(
    SourceKind(
        name="population",
        table="population",
        schema=SCHEMA,
        read=read,
        patterns=("*pop*.csv", "*population*.csv"),
        description="ONS mid-year population estimates by LSOA, single year of age",
        long=True,
    )
)
