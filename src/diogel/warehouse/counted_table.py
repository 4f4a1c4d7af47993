"""The counted police.uk rows, kept in the warehouse and brought up to date at every ingest and restore.

:func:`diogel.warehouse.counting.crimes` states the counting rules as a query: the file in force
for each slice, then the earliest row of each Crime ID (a window over every keyed row in the
warehouse). Evaluated on a national warehouse that is seconds of work (4.3 s over 4 M rows), and
every assessment process, ``diogel counts`` and ``diogel status`` needed it. Here the rules are
applied when files land: :func:`refresh` (called at the end of every ingest and restore) updates
the table ``counted_police_street`` for the slices that changed hands since it was last brought up
to date, and readers read it (:func:`counted_rows`) instead of evaluating the rules.

Incremental update
------------------
Visibility changes only for the slices given a new ``seq`` since the last refresh (a new file's
slices, a restored file's slices): call them A. Rows without a Crime ID count or not only by the
visibility of their own slice, so only A's change. A Crime ID's earliest row can change only if the
ID has a row in a slice of A (before or after the change): call those IDs K. So the update deletes
the counted rows of slices in A and of IDs in K and inserts the rules' answer for exactly those:
rows of A without an ID, and the earliest visible row of each ID in K. Every other counted row is
what the rules would give anyway. The update is idempotent, so a refresh that dies half-way (only
possible on Spark, which has no transactions) is redone whole by the next one.

Freshness
---------
The table ``counted_mark`` records the registry state the table was computed for: the number of
registered files and the highest ``seq`` (of a file or a restored slice). A reader uses the table
only when the mark matches the registry now; otherwise (a warehouse built by an older diogel, or a
restore made by one) it evaluates the rules as before, and the next ingest or restore (even of a
file already loaded) brings the table up to date.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa

from diogel.warehouse.rules import in_force, visible

#: The counted table: the police.uk columns the reports and counts read, and what the update needs.
TABLE = "counted_police_street"
MARK = "counted_mark"
SOURCE_TABLE = "police_street"
KIND = "police-street"
KEY = "crime_id"

SCHEMA = pa.schema(
    [
        pa.field("file_id", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("slice_key", pa.string()),
        pa.field("crime_id", pa.string()),
        pa.field("month", pa.date32()),
        pa.field("reported_by", pa.string()),
        pa.field("lsoa_code", pa.string()),
        pa.field("crime_type", pa.string()),
    ]
)
COLUMNS = tuple(SCHEMA.names)

MARK_SCHEMA = pa.schema(
    [
        pa.field("table_name", pa.string()),
        pa.field("files", pa.int64()),
        pa.field("seq", pa.int64()),
        pa.field("at", pa.timestamp("us", tz="UTC")),
        # Spark's clean-up of a dead ingest deletes by ``run_id`` in every table; the mark has none
        # of its own (null), so it is never taken for a dead run's row.
        pa.field("run_id", pa.string()),
    ]
)

#: Above this share of the counted rows, an update rebuilds the table whole (one pass over the
#: rows instead of a delete and a keyed lookup of most of them).
REBUILD_SHARE = 0.5


def registry_state(wh) -> tuple[int, int]:  # noqa: ANN001
    """(registered files, highest seq of a file or a restored slice): changes with anything that changes counts."""
    files = wh.table("source_file")
    n, top = wh.execute(files.aggregate(n=files.count(), seq=files.seq.max())).iloc[0].tolist()
    slice_top = wh.execute(wh.table("file_slice").seq.max())
    seqs = [int(v) for v in (top, slice_top) if v is not None and not pd.isna(v)]
    return int(n), max(seqs, default=0)


def _mark(wh) -> tuple[int, int] | None:  # noqa: ANN001
    if not (wh.has(MARK) and wh.has(TABLE)):
        return None
    m = wh.table(MARK)
    df = wh.execute(m.filter(m.table_name == TABLE).select("files", "seq"))
    if df.empty:
        return None
    row = df.iloc[-1]
    return int(row.files), int(row.seq)


def counted_rows(wh) -> ibis.Table | None:  # noqa: ANN001
    """The counted police.uk rows (columns :data:`COLUMNS`), or ``None`` when the table is not up to date.

    ``None`` means the caller should evaluate :func:`diogel.warehouse.counting.crimes` itself.
    """
    mark = _mark(wh)
    if mark is None or mark != registry_state(wh):
        return None
    return wh.table(TABLE)


def refresh(wh) -> str:  # noqa: ANN001
    """Bring the counted table up to date with the registry; what was done, in words (for benchmarks).

    Needs a read-write warehouse. Does nothing before any police.uk street file is loaded.
    """
    if not wh.has(SOURCE_TABLE):
        return "no police.uk street data"
    state = registry_state(wh)
    mark = _mark(wh)
    if mark == state:
        return "up to date"
    backend = wh.backend
    backend.ensure_table(TABLE, SCHEMA)
    backend.ensure_table(MARK, MARK_SCHEMA)
    changed = _changed_slices(wh, mark) if mark is not None and mark[0] <= state[0] else None
    if changed is not None and not changed:
        with backend.transaction():
            _write_mark(wh, state)
        return "no police.uk slice changed"
    if changed is not None and _share(wh, changed) <= REBUILD_SHARE:
        _update(wh, changed, state)
        return f"updated {len(changed)} slice(s)"
    _rebuild(wh, state)
    return "rebuilt"


def _changed_slices(wh, mark: tuple[int, int]) -> list[str]:  # noqa: ANN001
    """Police.uk street slices given a seq above the mark's (by a new file or a restore)."""
    files = wh.table("source_file").filter(lambda t: t.kind == KIND).select("file_id", "run_id")
    slices = wh.table("file_slice")
    new = slices.filter(slices.seq > mark[1]).semi_join(files, ["file_id", "run_id"])
    return sorted(wh.execute(new.select("slice_key").distinct())["slice_key"])


def _share(wh, changed: list[str]) -> float:  # noqa: ANN001
    """The changed slices' rows as a share of every police.uk street row."""
    t = wh.table(SOURCE_TABLE)
    total = wh.execute(t.count())
    part = wh.execute(t.filter(t.slice_key.isin(changed)).count())
    return 1.0 if not total else int(part) / int(total)


def _rules(wh, changed: list[str] | None) -> ibis.Table:  # noqa: ANN001
    """The counted rows under the rules: every one, or those of ``changed`` slices' rows and IDs."""
    if changed is None:
        return _every_counted(wh)
    rows = visible(wh, SOURCE_TABLE)
    raw = wh.table(SOURCE_TABLE)
    ids = raw.filter(raw.slice_key.isin(changed) & raw[KEY].notnull()).select(KEY).distinct()
    plain = rows.filter(rows[KEY].isnull() & rows.slice_key.isin(changed))
    keyed = rows.filter(rows[KEY].notnull()).semi_join(ids, KEY)
    first = ibis.row_number().over(group_by=keyed[KEY], order_by=[keyed.month, keyed.seq, keyed.line])
    keyed = keyed.mutate(_first=first).filter(lambda t: t._first == 0)
    return plain.select(*COLUMNS).union(keyed.select(*COLUMNS), distinct=False)


def _every_counted(wh) -> ibis.Table:  # noqa: ANN001
    """Every counted row: the rules of :func:`~diogel.warehouse.rules.counted_rows_of`, ranked sparingly.

    The same rows as ``counted_rows_of(wh, SOURCE_TABLE, KEY)``, cheaper: almost every Crime ID
    appears once (0.4% of police.uk rows repeat one), and a row whose ID no other visible row
    holds is its ID's first. So only the rows of repeated IDs are ranked (a window over thousands
    of rows, not over every row), the others are found by a hash aggregate. When every slice row of
    the kind is in force (nothing replaced, the usual first load) every stored row is visible, and
    the join with the files in force is made only for the repeated rows, which need their ``seq``.
    """
    triple = ["file_id", "run_id", "slice_key"]
    raw = wh.table(SOURCE_TABLE)
    rows = (raw if _all_visible(wh) else visible(wh, SOURCE_TABLE)).select(*COLUMNS)
    # (Two expressions for the keyed rows, not one: a shared one becomes a CTE that DuckDB
    # materialises, every column of every row, which costs more than scanning twice.)
    ids = rows.select(KEY).filter(lambda t: t[KEY].notnull())
    repeated = ids.group_by(KEY).aggregate(_n=ids.count()).filter(lambda t: t._n > 1).select(KEY)
    plain = rows.filter(rows[KEY].isnull())
    once = rows.filter(rows[KEY].notnull()).anti_join(repeated, KEY)
    # The visible rows of repeated IDs: the semi-join first, so only they meet the files in force.
    winners = in_force(wh, KIND).select(*triple, "seq")
    # (``isin``, not a semi-join: Ibis then names ``repeated`` once, as a CTE, so it is computed once.)
    many = raw.filter(raw[KEY].isin(repeated[KEY])).inner_join(winners, triple)
    first = ibis.row_number().over(group_by=many[KEY], order_by=[many.month, many.seq, many.line])
    many = many.mutate(_first=first).filter(lambda t: t._first == 0).select(*COLUMNS)
    return plain.union(once, distinct=False).union(many, distinct=False)


def _all_visible(wh) -> bool:  # noqa: ANN001
    """Whether every stored row of the kind is visible: a transactional engine (no rows of an
    uncommitted file) and no (file, slice) that another file (or a restore) took over."""
    if not wh.backend.transactional:
        return False
    triple = ["file_id", "run_id", "slice_key"]
    files = wh.table("source_file").filter(lambda t: t.kind == KIND).select("file_id", "run_id")
    held = wh.table("file_slice").semi_join(files, ["file_id", "run_id"]).select(*triple).distinct()
    taken = held.anti_join(in_force(wh, KIND).select(*triple), triple)
    return int(wh.execute(taken.count())) == 0


def _write_mark(wh, state: tuple[int, int]) -> None:  # noqa: ANN001
    wh.backend.delete(MARK, "table_name", [TABLE])
    mark = {
        "table_name": TABLE,
        "files": state[0],
        "seq": state[1],
        "at": dt.datetime.now(dt.UTC),
        "run_id": None,
    }
    wh.backend.append(MARK, pa.Table.from_pylist([mark], schema=MARK_SCHEMA))


def _sql(wh, sql: str) -> None:  # noqa: ANN001
    """Run a statement on the backend's own connection (inside its transaction, if one is open)."""
    if wh.backend.name == "postgres":
        wh.backend._execute(sql)  # noqa: SLF001  (commits only outside a transaction)
    else:
        wh.backend.raw.execute(sql)


def _insert(wh, expr: ibis.Table) -> None:  # noqa: ANN001
    cols = ", ".join(COLUMNS)
    _sql(wh, f"INSERT INTO {TABLE} ({cols}) {wh.ibis.compile(expr)}")


def _rebuild(wh, state: tuple[int, int]) -> None:  # noqa: ANN001
    expr = _rules(wh, None)
    if wh.backend.name == "spark":
        rows = wh.ibis.to_pyarrow(expr).cast(SCHEMA)
        wh.backend._write(TABLE, rows, mode="overwrite")  # noqa: SLF001
        _write_mark(wh, state)
        return
    with wh.backend.transaction():
        _sql(wh, f"DELETE FROM {TABLE}")
        _insert(wh, expr)
        _write_mark(wh, state)


def _update(wh, changed: list[str], state: tuple[int, int]) -> None:  # noqa: ANN001
    expr = _rules(wh, changed)
    if wh.backend.name == "spark":
        rows = wh.ibis.to_pyarrow(expr).cast(SCHEMA)
        raw = wh.table(SOURCE_TABLE)
        ids = wh.execute(raw.filter(raw.slice_key.isin(changed) & raw[KEY].notnull()).select(KEY).distinct())
        _spark_delete(wh, changed, sorted(ids[KEY]))
        wh.backend.append(TABLE, rows)
        _write_mark(wh, state)  # last: until it is written, readers evaluate the rules
        return
    keys = ", ".join("'" + k.replace("'", "''") + "'" for k in changed)
    with wh.backend.transaction():
        # The rules read the source rows and the registry, never this table: delete, then insert.
        _sql(
            wh,
            f"DELETE FROM {TABLE} WHERE slice_key IN ({keys}) OR {KEY} IN "
            f"(SELECT {KEY} FROM {SOURCE_TABLE} WHERE slice_key IN ({keys}) AND {KEY} IS NOT NULL)",
        )
        _insert(wh, expr)
        _write_mark(wh, state)


def _spark_delete(wh, changed: list[str], ids: list[str]) -> None:  # noqa: ANN001
    """Rewrite the Spark table without the rows of ``changed`` slices and ``ids``.

    Not :meth:`SparkBackend.delete`, whose ``NOT (column IN ...)`` drops the rows where the column
    is null, here every anti-social behaviour row.
    """
    import shutil

    from pyspark.sql import functions as F  # noqa: N812

    path = wh.backend._path(TABLE)  # noqa: SLF001
    df = wh.backend.session.read.parquet(str(path))
    gone = F.col("slice_key").isin(changed) | (F.col(KEY).isNotNull() & F.col(KEY).isin(ids))
    tmp = path.with_name(path.name + ".rewrite")
    df.filter(~F.coalesce(gone, F.lit(False))).write.mode("overwrite").parquet(str(tmp))
    shutil.rmtree(path)
    tmp.rename(path)
