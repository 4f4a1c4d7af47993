"""What the three police.uk formats share: typed location columns, month range, scope (crime types:
:mod:`diogel.crime_types`)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc

from diogel.errors import InputError
from diogel.sources._validate import may_need_trim

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


# Forces whose files a national police.uk download holds but diogel does not load: the Police
# Service of Northern Ireland. Its areas have no LSOAs (Northern Ireland uses Super Output Areas),
# its map points lie outside the England and Wales envelope, and its Crime IDs repeat across rows
# over many rows of one month, so neither the area rules nor the counting rule (one crime per ID)
# fits. Such a file is refused whole, never loaded in part.
OUT_OF_SCOPE_FORCES = ("Police Service of Northern Ireland",)
_OUT_OF_SCOPE_FILE = re.compile(r"(^|-)northern-ireland-", re.IGNORECASE)
OUT_OF_SCOPE = (
    "out of scope: a Police Service of Northern Ireland file (diogel covers the forces of England and "
    "Wales; Northern Ireland has no LSOAs); the file is refused whole, the other files still load"
)


def refuse_out_of_scope(path: str, table: pa.Table | None = None, columns: tuple[str, ...] = ()) -> None:
    """Refuse a file of a force outside England and Wales, by its police.uk name or its rows.

    ``path`` is checked by name (``...-northern-ireland-street.csv``, also as a zip member); with
    ``table``, the first row whose ``columns`` (e.g. ``Reported by``) name such a force refuses the
    file at that row's line and column.
    """
    name = PurePosixPath(path.rsplit("!", 1)[-1]).name
    if _OUT_OF_SCOPE_FILE.search(name):
        raise InputError(path, OUT_OF_SCOPE)
    if table is None or table.num_rows == 0:
        return
    first: tuple[int, str] | None = None
    for column in columns:
        values = table.column(column)
        if may_need_trim(values):  # rare: trim only when some value has spaces at an end
            values = pc.utf8_trim_whitespace(values)
        for force in OUT_OF_SCOPE_FORCES:
            hit = pc.equal(values, force)  # not pc.is_in: a fifth of the cost, on every police.uk file
            if not pc.any(hit).as_py():
                continue
            at = pc.index(hit, True).as_py()
            line = table.column("line")[at].as_py()
            if first is None or line < first[0]:
                first = (line, column)
    if first is not None:
        raise InputError(path, OUT_OF_SCOPE, line=first[0], column=first[1])
