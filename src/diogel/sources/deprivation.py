"""Deprivation indices by LSOA: the Welsh Index of Multiple Deprivation and the English IMD.

Publishers lay these out differently (WIMD's rank table with one column per domain, its
decile/quintile/quartile table, tidy ``<Domain>_rank``/``_score``/``_decile`` tables), so every
layout is stored the same way: one row per LSOA, index, domain and measure. WIMD's ``LSOA Name
(Eng)`` is a WIMD place name, not the ONS LSOA name, so names are not kept: joins use codes only.
"""

from __future__ import annotations

import csv
import re

import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from diogel.errors import InputError
from diogel.sources._reference import LSOA_CODE, vintage_from_header, year_from
from diogel.sources._text import decode, read_text_table
from diogel.sources._validate import Rule, apply_rules, engine, lsoa_rule, q, sql_str
from diogel.sources.registry import ParsedFile, SourceKind, register

SCHEMA = pa.schema(
    [
        pa.field("lsoa_code", pa.string()),
        pa.field("lsoa_vintage", pa.int32()),
        pa.field("index_name", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("measure", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

# Published domain names -> one vocabulary. "crime" is WIMD's Community Safety domain and IMD's Crime.
DOMAINS = {
    "imd": "overall", "wimd": "overall", "overall": "overall", "wimd 2019": "overall", "index": "overall",
    "income": "income", "employment": "employment", "health": "health",
    "education": "education", "access": "access_to_services", "access to services": "access_to_services",
    "housing": "housing", "community safety": "crime", "crime": "crime",
    "environment": "environment", "physical environment": "environment",
    "housing and access": "barriers_to_housing_and_services",
    "housing and services": "barriers_to_housing_and_services",
}  # fmt: skip
MEASURES = ("rank", "score", "decile", "quintile", "quartile")
_IGNORED = re.compile(r".*name.*|fid|local authority.*|la(d)?\d*(cd|code)", re.IGNORECASE)


def _column_meaning(header: str) -> tuple[str, str] | None:
    """(domain, measure) for a published column name, or None if it is not a deprivation value."""
    h = re.sub(r"[_\s]+", " ", header.strip()).casefold()
    m = re.fullmatch(r"(?:wimd \d{4} )?(.+?) (rank|score|decile|quintile|quartile)", h)
    if m and m.group(1) in DOMAINS:
        return DOMAINS[m.group(1)], m.group(2)
    if re.fullmatch(r"wimd \d{4}", h):
        return "overall", "rank"
    if h in DOMAINS:
        return DOMAINS[h], "rank"  # WIMD's rank table names domains bare
    return None


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    header = next(csv.reader([decode(path, data)[0].split("\n", 1)[0].rstrip("\r")]))
    year = year_from(path, options, "deprivation index", header)
    opts = dict(options or {})
    if _wimd_style(header) and year <= 2020:
        opts.setdefault("lsoa_vintage", 2011)  # WIMD 2019 and earlier are on 2011 LSOAs
    vintage = vintage_from_header(header, opts, path)
    meanings: dict[str, tuple[str, str]] = {}
    names: list[str | None] = []
    code_seen = False
    for h in header:
        if not code_seen and re.fullmatch(LSOA_CODE, h.strip(), re.IGNORECASE):
            names.append("LSOA code")
            code_seen = True
            continue
        meaning = _column_meaning(h)
        if meaning:
            canonical = f"{meaning[0]}|{meaning[1]}"
            meanings[canonical] = meaning
            names.append(canonical)
        elif _IGNORED.fullmatch(h.strip()):
            names.append(None)
        else:
            raise InputError(path, f"unrecognised deprivation column {h!r}", line=1, column=h)
    if not code_seen or not meanings:
        raise InputError(
            path, "wrong header: need an LSOA code column and at least one rank/score/decile", line=1
        )
    text = read_text_table(path, data, resolve=lambda _h: names)
    rules = [
        Rule("LSOA code", f"trim({q('LSOA code')}) = ''", "'the LSOA code is blank'"),
        lsoa_rule("LSOA code"),
    ]
    for c in meanings:
        rules.append(
            Rule(c, f"trim({q(c)}) <> '' AND TRY_CAST(trim({q(c)}) AS DOUBLE) IS NULL",
                 f"'''' || {q(c)} || ''' is not a number'")
        )  # fmt: skip
    cols = list(meanings)
    select = 'trim("LSOA code") AS lsoa_code, line, ' + ", ".join(
        f"TRY_CAST(NULLIF(trim({q(c)}), '') AS DOUBLE) AS {q(c)}" for c in cols
    )
    wide = apply_rules(text.table, rules, select, text.malformed)
    family = options.get("index") if options and options.get("index") else None
    con = engine()
    con.register("_wide", wide)
    try:
        index_sql = (
            sql_str(family)
            if family
            else (f"CASE WHEN starts_with(lsoa_code, 'W') THEN 'WIMD {year}' ELSE 'IMD {year}' END")
        )
        long = con.execute(
            f"""SELECT lsoa_code, {vintage}::INTEGER AS lsoa_vintage, {index_sql} AS index_name,
                       split_part(col, '|', 1) AS domain, split_part(col, '|', 2) AS measure,
                       value, line
                FROM (UNPIVOT _wide ON {", ".join(q(c) for c in cols)} INTO NAME col VALUE value)
                ORDER BY line, col"""
        ).to_arrow_table()
    finally:
        con.unregister("_wide")
    keys = pa.compute.binary_join_element_wise(
        long["index_name"], long["domain"], long["measure"], long["lsoa_code"], "|"
    )
    long = long.append_column("slice_key", keys)
    return ParsedFile(long.cast(SCHEMA), text.malformed, text.rows_read, (str(year), str(year)))


def _wimd_style(header: list[str]) -> bool:
    return any(h.strip().casefold() == "lsoa code" for h in header)


KIND = register(
    SourceKind(
        name="deprivation",
        table="deprivation",
        schema=SCHEMA,
        read=read,
        patterns=("*imd*.csv",),
        description="WIMD / IMD ranks, scores and deciles by LSOA",
        long=True,
    )
)
