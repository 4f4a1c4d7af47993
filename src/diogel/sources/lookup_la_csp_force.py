"""Local authority -> Community Safety Partnership -> police force area.

In Wales each CSP covers one local authority except Cwm Taf (Rhondda Cynon Taf and Merthyr
Tydfil); in England the relation is many-to-many in 2024, so a local authority can have several
rows. Areas are always selected by LSOA membership of these, never by the police.uk "Falls within".
"""

from __future__ import annotations

import pyarrow as pa

from diogel.sources._reference import first_line, header_year
from diogel.sources.lookups import read_lookup
from diogel.sources.registry import ParsedFile, SourceKind, register

SCHEMA = pa.schema(
    [
        pa.field("la_code", pa.string()),
        pa.field("la_name", pa.string()),
        pa.field("csp_code", pa.string()),
        pa.field("csp_name", pa.string()),
        pa.field("force_code", pa.string()),
        pa.field("force_name", pa.string()),
        pa.field("year", pa.int32()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

PATTERNS = {
    "la_code": r"(lad|ltla)\d\d_?(cd|code)",
    "la_name": r"(lad|ltla)\d\d_?(nm|name)",
    "csp_code": r"csp\d\d_?(cd|code)",
    "csp_name": r"csp\d\d_?(nm|name)",
    "force_code": r"pfa\d\d_?(cd|code)",
    "force_name": r"pfa\d\d_?(nm|name)",
}


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    year = header_year(first_line(path, data), "lad|ltla|csp", path)
    return read_lookup(
        path,
        data,
        PATTERNS,
        {"la_code": "[EW]0[6-9][0-9]{6}", "csp_code": "(E22|W14)[0-9]{6}", "force_code": "(E23|W15)[0-9]{6}"},
        f"""trim(la_code) AS la_code, NULLIF(trim(la_name), '') AS la_name, trim(csp_code) AS csp_code,
            NULLIF(trim(csp_name), '') AS csp_name, trim(force_code) AS force_code,
            NULLIF(trim(force_name), '') AS force_name, {year}::INTEGER AS year, line,
            '{year}|' || trim(la_code) || '|' || trim(csp_code) AS slice_key""",
        SCHEMA,
        optional=("la_name", "csp_name", "force_name"),
    )


KIND = register(
    SourceKind(
        name="lookup-la-csp-force",
        table="lookup_la_csp_force",
        schema=SCHEMA,
        read=read,
        patterns=("*csp*pfa*.csv", "*la*csp*.csv"),
        description="local authority -> CSP -> police force area lookup",
    )
)
