"""What the three police.uk formats share: crime types, typed location columns, month range."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

CRIME_TYPES: tuple[str, ...] = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)

LOCATION_SELECT = """
    TRY_CAST(NULLIF(trim("Longitude"), '') AS DOUBLE) AS longitude,
    TRY_CAST(NULLIF(trim("Latitude"), '') AS DOUBLE) AS latitude,
    NULLIF(trim("Location"), '') AS location,
    NULLIF(trim("LSOA code"), '') AS lsoa_code,
    NULLIF(trim("LSOA name"), '') AS lsoa_name
"""

LOCATION_FIELDS = [
    pa.field("longitude", pa.float64()),
    pa.field("latitude", pa.float64()),
    pa.field("location", pa.string()),
    pa.field("lsoa_code", pa.string()),
    pa.field("lsoa_name", pa.string()),
]


def month_range(rows: pa.Table, column: str = "month") -> tuple[str | None, str | None]:
    if rows.num_rows == 0:
        return (None, None)
    lo, hi = pc.min(rows[column]).as_py(), pc.max(rows[column]).as_py()
    return (lo.strftime("%Y-%m"), hi.strftime("%Y-%m"))
