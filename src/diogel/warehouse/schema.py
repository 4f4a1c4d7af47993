"""The warehouse's own tables: the ingest registry, slices, slice events and quarantine.

Every data table carries ``file_id`` (the SHA-256 of the file's content) and ``run_id`` (the
``diogel ingest`` invocation) so each row knows where it came from. A file counts as loaded only
once its ``source_file`` row exists; that row is written last, inside the same transaction where
the engine has them.
"""

from __future__ import annotations

import pyarrow as pa

PROVENANCE = [pa.field("file_id", pa.string()), pa.field("run_id", pa.string())]

INGEST_RUN = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("started_at", pa.timestamp("us", tz="UTC")),
        pa.field("kind", pa.string()),
        pa.field("argument", pa.string()),
        pa.field("diogel_version", pa.string()),
    ]
)

SOURCE_FILE = pa.schema(
    [
        pa.field("file_id", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("seq", pa.int64()),
        pa.field("kind", pa.string()),
        pa.field("table_name", pa.string()),
        pa.field("name", pa.string()),
        pa.field("path", pa.string()),
        pa.field("bytes", pa.int64()),
        pa.field("rows_read", pa.int64()),
        pa.field("rows_valid", pa.int64()),
        pa.field("rows_quarantined", pa.int64()),
        pa.field("month_min", pa.string()),
        pa.field("month_max", pa.string()),
        pa.field("committed_at", pa.timestamp("us", tz="UTC")),
    ]
)

FILE_SLICE = pa.schema(
    [
        pa.field("file_id", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("seq", pa.int64()),
        pa.field("slice_key", pa.string()),
        pa.field("rows", pa.int64()),
    ]
)

QUARANTINE = pa.schema(
    [
        pa.field("file_id", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("file_name", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("column_name", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("raw", pa.string()),
    ]
)

# One row per slice that changed hands: a later file replacing it ("replaced", ``forced`` when only
# ``--replace`` let it), or an earlier file put back in force ("restored").
SLICE_EVENT = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("at", pa.timestamp("us", tz="UTC")),
        pa.field("action", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("slice_key", pa.string()),
        pa.field("file_id", pa.string()),
        pa.field("replaced_file_id", pa.string()),
        pa.field("old_rows", pa.int64()),
        pa.field("new_rows", pa.int64()),
        pa.field("forced", pa.bool_()),
    ]
)

SYSTEM_TABLES = {
    "ingest_run": INGEST_RUN,
    "source_file": SOURCE_FILE,
    "file_slice": FILE_SLICE,
    "quarantine": QUARANTINE,
    "slice_event": SLICE_EVENT,
}


def with_provenance(schema: pa.Schema) -> pa.Schema:
    return pa.schema(list(schema) + PROVENANCE)
