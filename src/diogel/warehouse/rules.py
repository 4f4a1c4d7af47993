"""The visibility and counting rules as Ibis expressions, on table names alone.

:mod:`diogel.warehouse.counting` states the rules (its docstring) and applies them to source kinds;
these expressions need no source registry, so :mod:`diogel.warehouse.counted_table` (which keeps the
counted rows at ingest) builds on them without reaching the parsers.
"""

from __future__ import annotations

import ibis


def visible(wh, table: str, kind: str | None = None) -> ibis.Table:  # noqa: ANN001
    """Rows of committed files that are the latest for their slice, with the file's ``seq``.

    ``kind``: the source kind whose files fill ``table`` (one kind per table). The same rows either
    way, since a slice is a kind's; but only that kind's slices are ranked, not every slice of the
    warehouse (a national lookup or deprivation file adds tens of thousands: 50 ms a query).
    """
    rows = wh.table(table)
    winners = in_force(wh, kind).select("file_id", "run_id", "slice_key", "seq")
    return rows.inner_join(winners, ["file_id", "run_id", "slice_key"])


def in_force(wh, kind: str | None = None) -> ibis.Table:  # noqa: ANN001
    """The file in force for each slice: ``kind``, ``slice_key``, ``file_id``, ``run_id``, ``seq``, ``rows``.

    A slice is (kind, slice_key); the file in force is the one whose slice row has the highest
    ``seq`` (ingested, or restored, last).
    """
    files = wh.table("source_file").select("file_id", "run_id", "kind")
    if kind is not None:
        files = files.filter(files.kind == kind)
    # Plain joins and a window, not EXISTS over an aggregate: PostgreSQL plans the latter as a
    # correlated subplan, quadratic in the number of slices (minutes for a national lookup).
    slices = wh.table("file_slice").inner_join(files, ["file_id", "run_id"])
    newest = slices.seq.max().over(ibis.window(group_by=[slices.kind, slices.slice_key]))
    return (
        slices.mutate(_newest=newest)
        .filter(lambda t: t.seq == t._newest)
        .select("kind", "slice_key", "file_id", "run_id", "seq", "rows")
    )


def counted_rows_of(wh, table: str, key: str | None, kind: str | None = None) -> ibis.Table:  # noqa: ANN001
    """Visible rows of ``table`` (of ``kind``, see :func:`visible`) that count: all of them without a
    ``key``; else each row without one, and the first row of each key (earliest month, then ingest
    order, then line)."""
    rows = visible(wh, table, kind)
    if key is None:
        return rows
    without_id = rows.filter(rows[key].isnull())
    with_id = rows.filter(rows[key].notnull())
    first = ibis.row_number().over(
        ibis.window(group_by=with_id[key], order_by=[with_id.month, with_id.seq, with_id.line])
    )
    with_id = with_id.mutate(_first=first).filter(lambda t: t._first == 0).drop("_first")
    return without_id.union(with_id, distinct=False)
