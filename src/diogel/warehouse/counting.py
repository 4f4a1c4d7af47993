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
    # Plain joins and a window, not EXISTS over an aggregate: PostgreSQL plans the latter as a
    # correlated subplan, quadratic in the number of slices (minutes for a national lookup).
    slices = wh.table("file_slice").inner_join(files, ["file_id", "run_id"])
    newest = slices.seq.max().over(ibis.window(group_by=slices.slice_key))
    winners = (
        slices.mutate(_newest=newest)
        .filter(lambda t: t.seq == t._newest)
        .select("file_id", "run_id", "slice_key", "seq")
    )
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


def loaded_by_file(
    wh,  # noqa: ANN001
    kind: SourceKind,
    file_ids: list[str] | None = None,
    run_id: str | None = None,
) -> dict[str, int]:
    """How many rows (lines, for long kinds) of each committed file count under the rules above.

    ``file_ids`` or ``run_id`` (the files one ingest run loaded) restrict the answer to those files;
    with neither, every committed file of ``kind``. Same result as counting :func:`counted` per
    file, but only the columns the rules need are read, and for a selection only the rows whose
    key one of the selected files holds can change its count, so only those are ranked.
    """
    kind = get(kind) if isinstance(kind, str) else kind
    files = wh.table("source_file").filter(lambda t: t.kind == kind.name)
    if run_id is not None:
        files = files.filter(files.run_id == run_id)
    if file_ids is not None:
        files = files.filter(files.file_id.isin(file_ids))
    selected = set(wh.execute(files.select("file_id")).file_id)
    if not selected:
        return {}
    rows = visible(wh, kind.table)
    key = kind.dedupe_key
    everything = run_id is None and file_ids is None
    mine = rows if everything else rows.semi_join(files.select("file_id", "run_id"), ["file_id", "run_id"])
    loaded: dict[str, int] = {}
    if key is None or kind.long:
        # (A long kind with a key counts lines that have any counted row: rank on the full rows.)
        if key is not None:
            mine = counted(wh, kind).semi_join(mine.select("file_id").distinct(), "file_id")
        n = mine.line.nunique() if kind.long else mine.count()
        _add(loaded, wh.execute(mine.group_by("file_id").aggregate(n=n)))
        return {f: loaded.get(f, 0) for f in selected}
    # Rows without a key each count.
    plain = mine.filter(mine[key].isnull())
    _add(loaded, wh.execute(plain.group_by("file_id").aggregate(n=plain.count())))
    # A keyed row counts when it is the first of its key (earliest month, then ingest order, then
    # line) among every visible row with that key.
    keyed = rows.filter(rows[key].notnull()).select("file_id", key, "month", "seq", "line")
    if not everything and not _most_of(wh, kind, files):
        keys = mine.filter(mine[key].notnull()).select(key).distinct()
        keyed = keyed.semi_join(keys, key)
    rank = ibis.row_number().over(group_by=keyed[key], order_by=[keyed.month, keyed.seq, keyed.line])
    first = keyed.mutate(_rank=rank).filter(lambda t: t._rank == 0)
    _add(loaded, wh.execute(first.group_by("file_id").aggregate(n=first.count())))
    return {f: loaded.get(f, 0) for f in selected}


def _add(loaded: dict[str, int], df: pd.DataFrame) -> None:
    for f, n in zip(df.file_id, df.n, strict=True):
        loaded[f] = loaded.get(f, 0) + int(n)


def _most_of(wh, kind: SourceKind, files: ibis.Table) -> bool:  # noqa: ANN001
    """Whether the selected files hold at least half the rows of their kind.

    Then looking up their keys first would cost more than ranking every keyed row.
    """
    every = wh.table("source_file").filter(lambda t: t.kind == kind.name)
    total = wh.execute(every.rows_valid.sum())
    part = wh.execute(files.rows_valid.sum())
    if total is None or pd.isna(total) or part is None or pd.isna(part):
        return True
    return 2 * int(part) >= int(total)


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
