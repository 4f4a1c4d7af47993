"""The counted police.uk rows, kept in the warehouse as what the rules drop, brought up to date at every ingest and restore.

:func:`diogel.warehouse.counting.crimes` states the counting rules as a query: the file in force
for each slice, then the earliest row of each Crime ID (a window over every keyed row in the
warehouse). Evaluated on a national warehouse that is seconds of work (4.3 s over 4 M rows), and
every assessment process, ``diogel counts`` and ``diogel status`` needed it. Here the rules are
applied when files land: :func:`refresh` (called at the end of every ingest and restore) records
what the rules drop, and readers read the stored rows without them (:func:`counted_rows`) instead
of evaluating the rules.

What is kept: exclusions, not a copy
------------------------------------
Almost every stored row counts (0.4% of police.uk rows repeat a Crime ID; replaced slices are
rare), so two small tables say which do not:

* ``counted_police_street_dropped``: the visible rows (``file_id``, ``run_id``, ``line``) that
  repeat a Crime ID and are not its earliest row;
* ``counted_police_street_dropped_slice``: the (file, slice) pairs of committed files that another
  file (or a restore) took over, whose rows are not visible.

The counted rows are the stored rows anti-joined with both (and, on Spark, which has no
transactions, semi-joined with the registered files). An older diogel kept a full copy of the
counted rows (``counted_police_street``, 6.7 M rows at national scale: 11 s at the end of each
ingest and a third of the file); the first refresh by this one drops it.

Incremental update
------------------
Visibility changes only for the slices given a new ``seq`` since the last refresh (a new file's
slices, a restored file's slices): call them A. Rows without a Crime ID are never dropped by the
earliest-row rule. A Crime ID's earliest row (and so which of its rows are dropped) can change only
if the ID has a row in a slice of A (before or after the change): call those IDs K. So the update
deletes the dropped rows of IDs in K and inserts the rules' answer for exactly those: the visible
rows of each ID in K after its earliest. The dropped slices are recomputed whole (a few rows per
file). The update is idempotent, so a refresh that dies half-way (only possible on Spark, which has
no transactions) is redone whole by the next one.

Freshness
---------
The table ``counted_mark`` records the registry state the tables were computed for: the number of
registered files and the highest ``seq`` (of a file or a restored slice). A reader uses the tables
only when the mark matches the registry now; otherwise (a warehouse built by an older diogel, or a
restore made by one) it evaluates the rules as before, and the next ingest or restore (even of a
file already loaded) brings the tables up to date.
"""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa

from diogel.warehouse.rules import in_force

#: The rows the counting rules drop: visible rows of a repeated Crime ID after its earliest.
TABLE = "counted_police_street_dropped"
#: The (file, slice) pairs of committed files whose slice another file holds in force.
SLICES = "counted_police_street_dropped_slice"
MARK = "counted_mark"
#: The full copy of the counted rows an older diogel kept (dropped at the first refresh).
OLD_TABLE = "counted_police_street"
SOURCE_TABLE = "police_street"
KIND = "police-street"
KEY = "crime_id"
ROW = ["file_id", "run_id", "line"]
TRIPLE = ["file_id", "run_id", "slice_key"]

#: The columns of the counted rows :func:`counted_rows` gives (what the reports and counts read).
COLUMNS = ("file_id", "run_id", "slice_key", "crime_id", "month", "reported_by", "lsoa_code", "crime_type")

SCHEMA = pa.schema(
    [
        pa.field("file_id", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("line", pa.int64()),
        pa.field("crime_id", pa.string()),
    ]
)

SLICE_SCHEMA = pa.schema([pa.field(c, pa.string()) for c in TRIPLE])

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

#: Above this share of the stored rows, an update rebuilds the tables whole (one pass over the
#: Crime IDs instead of a keyed lookup of most of them).
REBUILD_SHARE = 0.5


def registry_state(wh) -> tuple[int, int]:  # noqa: ANN001
    """(registered files, highest seq of a file or a restored slice): changes with anything that changes counts."""
    files = wh.table("source_file")
    n, top = wh.execute(files.aggregate(n=files.count(), seq=files.seq.max())).iloc[0].tolist()
    slice_top = wh.execute(wh.table("file_slice").seq.max())
    seqs = [int(v) for v in (top, slice_top) if v is not None and not pd.isna(v)]
    return int(n), max(seqs, default=0)


def _mark(wh) -> tuple[int, int] | None:  # noqa: ANN001
    if not (wh.has(MARK) and wh.has(TABLE) and wh.has(SLICES)):
        return None
    m = wh.table(MARK)
    df = wh.execute(m.filter(m.table_name == TABLE).select("files", "seq"))
    if df.empty:
        return None
    row = df.iloc[-1]
    return int(row.files), int(row.seq)


def counted_rows(wh) -> ibis.Table | None:  # noqa: ANN001
    """The counted police.uk rows (columns :data:`COLUMNS`), or ``None`` when the tables are not up to date.

    ``None`` means the caller should evaluate :func:`diogel.warehouse.counting.crimes` itself.
    The rows are the stored ones less those the rules drop; an empty exclusion table is left out
    of the query (nothing replaced, the usual case, costs no join).
    """
    if not _fresh(wh):
        return None
    rows = wh.table(SOURCE_TABLE)
    if not wh.backend.transactional:
        # (Spark: rows of an ingest still running, or dead, are stored before their registry row.)
        rows = rows.semi_join(wh.table("source_file").select("file_id", "run_id"), ["file_id", "run_id"])
    slices, dropped = wh.table(SLICES), wh.table(TABLE)
    n_slices, n_rows = int(wh.execute(slices.count())), int(wh.execute(dropped.count()))
    if n_slices:
        rows = rows.anti_join(slices.select(*TRIPLE), TRIPLE)
    if n_rows:
        rows = rows.anti_join(dropped.select(*ROW), ROW)
    return rows.select(*COLUMNS)


def loaded_by_file(wh, files: ibis.Table) -> dict[str, int] | None:  # noqa: ANN001
    """Counted rows of each of ``files`` (a table of ``file_id``, ``run_id``); ``None`` when not up to date.

    Read from the registry and the exclusions, with no scan of the stored rows: a file's counted
    rows are its rows in the slices it holds in force (``file_slice.rows``) less its dropped rows.
    A file with none is left out.
    """
    if not _fresh(wh):
        return None
    slices = wh.table("file_slice").semi_join(files, ["file_id", "run_id"])
    # (A restore repeats a file's slice row with a new seq and the same rows: one per slice.)
    held = slices.group_by(TRIPLE).aggregate(rows=slices.rows.max()).anti_join(wh.table(SLICES), TRIPLE)
    dropped = wh.table(TABLE).semi_join(files, ["file_id", "run_id"])
    loaded: dict[str, int] = {}
    for expr, sign in ((held.group_by("file_id").aggregate(n=held.rows.sum()), 1),
                       (dropped.group_by("file_id").aggregate(n=dropped.count()), -1)):  # fmt: skip
        df = wh.execute(expr)
        for f, n in zip(df.file_id, df.n, strict=True):
            loaded[f] = loaded.get(f, 0) + sign * int(n)
    return loaded


def _fresh(wh) -> bool:  # noqa: ANN001
    """Whether the exclusion tables were computed for the registry as it is now."""
    mark = _mark(wh)
    return mark is not None and mark == registry_state(wh)


def refresh(wh) -> str:  # noqa: ANN001
    """Bring the exclusion tables up to date with the registry; what was done, in words (for benchmarks).

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
    backend.ensure_table(SLICES, SLICE_SCHEMA)
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


#: DuckDB: the temporary table of the Crime ID buckets that hold more than one row (see _bucketed).
REPEATED = "_diogel_repeated_bucket"
#: DuckDB: a Crime ID's bucket (32 bits of its hash; tests use a coarser one to force collisions).
BUCKET = f"(hash({KEY}) >> 32)::UINTEGER"


def _dropped_rows(wh, changed: list[str] | None, candidates: ibis.Table | None = None) -> ibis.Table:  # noqa: ANN001
    """The visible keyed rows that are not their Crime ID's earliest: of every ID, or of the IDs in ``changed`` slices.

    The rule of :func:`~diogel.warehouse.rules.counted_rows_of`, ranked sparingly: a row whose ID
    no other stored row holds is its ID's first, so only the rows of repeated IDs (a few thousand
    of millions) are joined with the files in force (for visibility and ``seq``) and ranked.
    ``candidates``: stored rows that include every row of a repeated ID (see :func:`_bucketed`).
    """
    raw = wh.table(SOURCE_TABLE)
    keyed = raw.filter(raw[KEY].notnull())
    if candidates is not None:
        many = candidates
    elif changed is None:
        ids = keyed.select(KEY)
        ids = ids.group_by(KEY).aggregate(_n=ids.count()).filter(lambda t: t._n > 1).select(KEY)
        many = raw.filter(raw[KEY].isin(ids[KEY]))
    else:
        ids = keyed.filter(keyed.slice_key.isin(changed)).select(KEY).distinct()
        # (``isin``, not a semi-join: Ibis then names ``ids`` once, as a CTE, so it is computed once.)
        many = raw.filter(raw[KEY].isin(ids[KEY]))
    winners = in_force(wh, KIND).select(*TRIPLE, "seq")
    many = many.inner_join(winners, TRIPLE)
    first = ibis.row_number().over(group_by=many[KEY], order_by=[many.month, many.seq, many.line])
    return many.mutate(_rank=first).filter(lambda t: t._rank > 0).select(*SCHEMA.names)


def _bucketed(wh) -> ibis.Table:  # noqa: ANN001
    """DuckDB: the stored rows whose Crime ID shares its bucket with another row (a superset of the repeated IDs' rows).

    Grouping 20 M Crime IDs (64 characters each) to find the repeated ones took 5 to 5.5 s and most
    of the ingest's peak memory at the national benchmark's scale; grouping 32 bits of their hashes
    into a temporary table first, then taking the rows in those buckets, took about 4 s with 0.6 GiB
    less memory. A bucket shared by different IDs only adds rows whose ID is not repeated: ranked by
    the ID itself, each is its ID's first and none is dropped.
    """
    _sql(wh, f"CREATE OR REPLACE TEMP TABLE {REPEATED} AS SELECT {BUCKET} AS b FROM {SOURCE_TABLE} "
             f"WHERE {KEY} IS NOT NULL GROUP BY 1 HAVING count(*) > 1")  # fmt: skip
    columns = ", ".join(dict.fromkeys([*TRIPLE, *SCHEMA.names, "month"]))
    return wh.ibis.sql(
        f"SELECT {columns} FROM {SOURCE_TABLE} WHERE {KEY} IS NOT NULL AND {BUCKET} IN (SELECT b FROM {REPEATED})"
    )


def _dropped_slices(wh) -> ibis.Table:  # noqa: ANN001
    """(file, slice) pairs of committed street files that are not in force for the slice."""
    files = wh.table("source_file").filter(lambda t: t.kind == KIND).select("file_id", "run_id")
    held = wh.table("file_slice").semi_join(files, ["file_id", "run_id"]).select(*TRIPLE).distinct()
    return held.anti_join(in_force(wh, KIND).select(*TRIPLE), TRIPLE)


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


def _insert(wh, table: str, columns: list[str], expr: ibis.Table) -> None:  # noqa: ANN001
    _sql(wh, f"INSERT INTO {table} ({', '.join(columns)}) {wh.ibis.compile(expr)}")


def _rebuild(wh, state: tuple[int, int]) -> None:  # noqa: ANN001
    if wh.backend.name == "spark":
        _spark_drop_old(wh)
        rows = wh.ibis.to_pyarrow(_dropped_rows(wh, None)).cast(SCHEMA)
        wh.backend._write(TABLE, rows, mode="overwrite")  # noqa: SLF001
        _spark_slices(wh)
        _write_mark(wh, state)
        return
    with wh.backend.transaction():
        _sql(wh, f"DROP TABLE IF EXISTS {OLD_TABLE}")
        wh.backend.delete(MARK, "table_name", [OLD_TABLE])
        _sql(wh, f"DELETE FROM {TABLE}")
        candidates = _bucketed(wh) if wh.backend.name == "duckdb" else None
        _insert(wh, TABLE, SCHEMA.names, _dropped_rows(wh, None, candidates))
        if candidates is not None:
            _sql(wh, f"DROP TABLE {REPEATED}")
        _write_slices(wh)
        _write_mark(wh, state)


def _update(wh, changed: list[str], state: tuple[int, int]) -> None:  # noqa: ANN001
    expr = _dropped_rows(wh, changed)
    raw = wh.table(SOURCE_TABLE)
    if wh.backend.name == "spark":
        rows = wh.ibis.to_pyarrow(expr).cast(SCHEMA)
        ids = wh.execute(raw.filter(raw.slice_key.isin(changed) & raw[KEY].notnull()).select(KEY).distinct())
        wh.backend.delete(TABLE, KEY, sorted(ids[KEY]))  # (no null Crime ID is ever dropped)
        wh.backend.append(TABLE, rows)
        _spark_slices(wh)
        _write_mark(wh, state)  # last: until it is written, readers evaluate the rules
        return
    keys = ", ".join("'" + k.replace("'", "''") + "'" for k in changed)
    with wh.backend.transaction():
        # The rules read the source rows and the registry, never these tables: delete, then insert.
        _sql(
            wh,
            f"DELETE FROM {TABLE} WHERE {KEY} IN "
            f"(SELECT {KEY} FROM {SOURCE_TABLE} WHERE slice_key IN ({keys}) AND {KEY} IS NOT NULL)",
        )
        _insert(wh, TABLE, SCHEMA.names, expr)
        _write_slices(wh)
        _write_mark(wh, state)


def _write_slices(wh) -> None:  # noqa: ANN001
    _sql(wh, f"DELETE FROM {SLICES}")
    _insert(wh, SLICES, TRIPLE, _dropped_slices(wh))


def _spark_slices(wh) -> None:  # noqa: ANN001
    rows = wh.ibis.to_pyarrow(_dropped_slices(wh)).cast(SLICE_SCHEMA)
    wh.backend._write(SLICES, rows, mode="overwrite")  # noqa: SLF001


def _spark_drop_old(wh) -> None:  # noqa: ANN001
    """Remove the full copy an older diogel kept (a Parquet folder on Spark)."""
    import shutil

    path = wh.backend._path(OLD_TABLE)  # noqa: SLF001
    if path.exists():
        shutil.rmtree(path)
