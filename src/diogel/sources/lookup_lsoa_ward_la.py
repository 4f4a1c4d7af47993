"""ONS lookup from LSOA to electoral ward to local authority (2011 or 2021 LSOAs, any ward year).

ONS's Welsh-language editions of the lookup carry the ward's Welsh name (``WD24NMW``); where a file has
such a column it is kept as ``ward_name_cy`` (null where the file has none, or the cell is blank), so the
Welsh report and portal can name Welsh wards in Welsh.
"""

from __future__ import annotations

import pyarrow as pa

from diogel.sources._reference import first_line, header_year, vintage_from_header
from diogel.sources.lookups import read_lookup
from diogel.sources.registry import ParsedFile, SourceKind, register

SCHEMA = pa.schema(
    [
        pa.field("lsoa_code", pa.string()),
        pa.field("lsoa_vintage", pa.int32()),
        pa.field("ward_code", pa.string()),
        pa.field("ward_name", pa.string()),
        pa.field("ward_name_cy", pa.string()),
        pa.field("la_code", pa.string()),
        pa.field("la_name", pa.string()),
        pa.field("la_year", pa.int32()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

PATTERNS = {
    "lsoa_code": r"lsoa(11|21)_?(cd|code)",
    "ward_code": r"(wd|ward)\d\d_?(cd|code)",
    "ward_name": r"(wd|ward)\d\d_?(nm|name)",
    # ONS's Welsh-name column (WD24NMW), or a lower-case spelling such as ward24_name_cy.
    "ward_name_cy": r"(wd|ward)\d\d_?(nmw|name_?(cy|welsh))",
    "la_code": r"(lad|ltla)\d\d_?(cd|code)",
    "la_name": r"(lad|ltla)\d\d_?(nm|name)",
}


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    header = first_line(path, data)
    vintage = vintage_from_header(header, options, path)
    la_year = header_year(header, "lad|ltla", path)
    return read_lookup(
        path,
        data,
        PATTERNS,
        {"lsoa_code": "[EW]01[0-9]{6}", "ward_code": "[EW]05[0-9]{6}", "la_code": "[EW]0[6-9][0-9]{6}"},
        f"""trim(lsoa_code) AS lsoa_code, {vintage}::INTEGER AS lsoa_vintage, trim(ward_code) AS ward_code,
            NULLIF(trim(ward_name), '') AS ward_name, NULLIF(trim(ward_name_cy), '') AS ward_name_cy,
            trim(la_code) AS la_code, NULLIF(trim(la_name), '') AS la_name,
            {la_year}::INTEGER AS la_year, line, '{vintage}|{la_year}|' || trim(lsoa_code) AS slice_key""",
        SCHEMA,
        optional=("ward_name", "ward_name_cy", "la_name"),
    )


KIND = register(
    SourceKind(
        name="lookup-lsoa-ward-la",
        table="lookup_lsoa_ward_la",
        schema=SCHEMA,
        read=read,
        patterns=("*lsoa*ward*.csv",),
        description="ONS LSOA -> ward -> local authority lookup",
    )
)
