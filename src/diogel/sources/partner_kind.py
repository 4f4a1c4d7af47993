"""Partner data (fire, emergency department, ambulance, hospital, licensing, substance misuse) under a schema.

``diogel ingest partner --schema ed_assaults file.csv`` or, from Python,
``Warehouse.ingest("partner", path, options={"schema": "ed_assaults"})``. The schema (a shipped name or
a YAML file, see :mod:`diogel.sources.partner.schema`) says what the file holds and how each field that
could identify a person is treated; :func:`diogel.sources.partner.ingest.read_partner` validates and
de-personalises the file on the way in.

Storage: ONE long table, ``partner_record``, for every dataset, one row per input line, with the
columns every analysis needs typed (dataset, supplier, date, month, time of day, LSOA, outward
postcode, grid cell, count) and the rest of each record, after treatment, as JSON text in
``detail_json``. One table (rather than one per dataset) because a CSP can write its own schemas: a
new dataset needs no new table, and every engine (DuckDB, PostgreSQL, Spark) holds it unchanged.

Counting (:mod:`diogel.warehouse.counting`, with this kind's settings): a later file of the same
dataset and supplier replaces the rows of every month it holds (the slice is
``partner|dataset|supplier|YYYY-MM``; ``slice: dataset`` schemas replace the whole dataset); rows with
the same ``record_id`` (the schema's record identifier after pseudonymisation, prefixed by dataset and
supplier) are one record, counted once in its earliest month.
"""

from __future__ import annotations

from diogel.sources.partner.ingest import ROWS, TABLE, read_partner
from diogel.sources.partner.schema import shipped_schemas
from diogel.sources.registry import SourceKind, register

KIND = register(
    SourceKind(
        name="partner",
        table=TABLE,
        schema=ROWS,
        read=read_partner,
        patterns=("*.csv", "*.xlsx"),
        description=(
            "partner data under a schema, de-personalised on the way in (CSV or .xlsx; --schema "
            f"{'|'.join(shipped_schemas())} or a YAML file)"
        ),
        dedupe_key="record_id",
        # CSV or .xlsx, read whole: not unpacked from zips, and not a member type police archives may hold.
        binary=True,
        # Coordinates are placed in the warehouse's LSOA polygons; pseudonyms use the partnership key.
        inputs=("lsoa_areas", "partner_secret"),
    )
)
