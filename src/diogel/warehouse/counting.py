"""The counting rules, written once and used by every count.

1. A file's rows are visible once its registry row exists (the commit marker).
2. Overlapping files: rows are grouped into slices (police.uk: force and month). When two files
   hold the same slice, the one ingested later replaces the earlier one in every count; the
   earlier rows stay in the warehouse (provenance) and are reported as duplicates.
3. A crime is one distinct Crime ID, counted once, in the earliest month it appears (ties broken
   by ingest order, then line). Repeats within or across months are duplicates.
4. Rows without a Crime ID (anti-social behaviour) each count, even when identical to another row:
   police.uk publishes one row per incident and gives ASB no identifier to tell repeats apart.
"""

from __future__ import annotations

import ibis
import pandas as pd

from diogel.sources.registry import SourceKind, get, kinds


def visible(wh, table: str) -> ibis.Table:  # noqa: ANN001
    """Rows of committed files that are the latest for their slice, with the file's ``seq``."""
    rows = wh.table(table)
    files = wh.table("source_file").select("file_id", "run_id")
    slices = wh.table("file_slice").semi_join(files, ["file_id", "run_id"])
    latest = slices.group_by("slice_key").aggregate(seq=slices.seq.max())
    winners = slices.semi_join(latest, ["slice_key", "seq"]).select("file_id", "run_id", "slice_key", "seq")
    return rows.inner_join(winners, ["file_id", "run_id", "slice_key"])


def counted(wh, kind: str | SourceKind) -> ibis.Table:  # noqa: ANN001
    """Rows that count under the rules above; for police street data, one row per crime or ASB incident."""
    kind = get(kind) if isinstance(kind, str) else kind
    rows = visible(wh, kind.table)
    if kind.dedupe_key is None:
        return rows
    key = rows[kind.dedupe_key]
    without_id = rows.filter(key.isnull())
    with_id = rows.filter(key.notnull())
    first = ibis.row_number().over(
        ibis.window(group_by=with_id[kind.dedupe_key], order_by=[with_id.month, with_id.seq, with_id.line])
    )
    with_id = with_id.mutate(_first=first).filter(lambda t: t._first == 0).drop("_first")
    return without_id.union(with_id, distinct=False)


def crimes(wh) -> ibis.Table:  # noqa: ANN001
    """police.uk street-level crimes and ASB incidents under the counting rules."""
    return counted(wh, "police-street")


def loaded_by_file(wh, kind: SourceKind, file_ids: list[str] | None = None) -> dict[str, int]:  # noqa: ANN001
    rows = counted(wh, kind)
    if file_ids is not None:
        rows = rows.filter(rows.file_id.isin(file_ids))
    n = rows.line.nunique() if kind.long else rows.count()
    df = wh.execute(rows.group_by("file_id").aggregate(n=n))
    return dict(zip(df.file_id, df.n, strict=True))


def status_frame(wh) -> pd.DataFrame:  # noqa: ANN001
    """Per loaded file: rows read = loaded + duplicates + quarantined, and the months covered."""
    files = wh.execute(wh.table("source_file").order_by("seq"))
    cols = ["kind", "name", "rows_read", "loaded", "duplicates", "quarantined", "month_min", "month_max",
            "path", "file_id", "run_id", "committed_at"]  # fmt: skip
    if files.empty:
        return pd.DataFrame(columns=cols)
    loaded: dict[str, int] = {}
    registered = kinds()
    for kind_name in files.kind.unique():
        kind = registered.get(kind_name)
        if kind is not None and wh.has(kind.table):
            loaded.update(loaded_by_file(wh, kind))
    files["loaded"] = files.file_id.map(loaded).fillna(0).astype("int64")
    files["duplicates"] = files.rows_valid - files.loaded
    files["quarantined"] = files.rows_quarantined
    return files[cols].reset_index(drop=True)
