"""ONS lookup from 2011 to 2021 LSOAs with the change codes.

U unchanged; S a 2011 LSOA split into several 2021 LSOAs; M several 2011 LSOAs merged into one
2021 LSOA; X an irregular, many-to-many redrawing. :func:`diogel.warehouse.geography.harmonise`
uses these to move a measure between vintages.
"""

from __future__ import annotations

import pyarrow as pa

from diogel.sources.lookups import read_lookup
from diogel.sources.registry import ParsedFile, SourceKind, register

SCHEMA = pa.schema(
    [
        pa.field("lsoa11_code", pa.string()),
        pa.field("lsoa21_code", pa.string()),
        pa.field("change_code", pa.string()),
        pa.field("la_code", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

PATTERNS = {
    "lsoa11_code": r"lsoa11_?(cd|code)",
    "lsoa21_code": r"lsoa21_?(cd|code)",
    "change_code": r"chgind|change_code|change",
    "la_code": r"(lad|ltla)\d\d_?(cd|code)",
}


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    return read_lookup(
        path,
        data,
        PATTERNS,
        {"lsoa11_code": "[EW]01[0-9]{6}", "lsoa21_code": "[EW]01[0-9]{6}", "change_code": "[USMX]"},
        """trim(lsoa11_code) AS lsoa11_code, trim(lsoa21_code) AS lsoa21_code,
           upper(trim(change_code)) AS change_code, NULLIF(trim(la_code), '') AS la_code, line,
           'lsoa11|' || trim(lsoa11_code) AS slice_key""",
        SCHEMA,
        optional=("la_code",),
    )


KIND = register(
    SourceKind(
        name="lookup-lsoa11-lsoa21",
        table="lookup_lsoa11_lsoa21",
        schema=SCHEMA,
        read=read,
        patterns=("*lsoa11*lsoa21*.csv",),
        description="ONS LSOA 2011 -> LSOA 2021 lookup with change codes (U/S/M/X)",
    )
)
