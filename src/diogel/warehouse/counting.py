"""The counting rules, written once and used by every count.

1. A file's rows are visible once its registry row exists (the commit marker).
2. Overlapping files: rows are grouped into slices (see *Slices* below). When two files hold the
   same slice, the one ingested later replaces the earlier one in every count; the earlier rows
   stay in the warehouse (provenance) and are reported as duplicates. ``diogel restore`` puts an
   earlier file back in force for its slices (a later "ingest" of the slices, recorded as such).
3. A crime is one distinct Crime ID, counted once, in the earliest month it appears (ties broken
   by ingest order, then line). Repeats within or across months are duplicates.
4. Rows without a Crime ID (anti-social behaviour) each count, even when identical to another row:
   police.uk publishes one row per incident and gives ASB no identifier to tell repeats apart.

Slices
------
A slice is the kind of the file plus the ``slice_key`` its reader gives each row:

* police.uk: (kind, force, month): ``police-street``, ``police-outcomes`` and
  ``police-stop-search`` are separate kinds, so they never replace one another; the key is
  ``<Reported by>|<YYYY-MM>`` (stop and search: ``<force>|<YYYY-MM>``).
* partner data: (dataset, supplier, month): the key is ``partner|<dataset>|<supplier>|<YYYY-MM>``
  (``|all`` for a schema whose slice is the whole dataset, ``|undated`` for records without a date).
* reference data: one slice per area and edition (e.g. ``2011|2020|W01000001`` for a population
  estimate), so a later file replaces the areas it holds and leaves the others.

Keys ending in ``|YYYY-MM`` are monthly: :func:`coverage` reports them as month ranges.

Guarded replacement: a file that would replace a slice with under :data:`REPLACE_SHARE` of the rows
in force for it is refused (nothing of it is loaded) unless ``--replace`` is given; so is a partner
file given without ``--supplier`` that would replace any month (:func:`replacement_refusal`).

Unknown areas: a row of a kind in :data:`PLACED_BY_LSOA` whose LSOA code is in none of the loaded
ONS lookups, though the lookups hold that nation's LSOAs (E01 England, W01 Wales), is quarantined
("not in the loaded ONS lookups"). Before any lookup of that nation is loaded, such rows load and
count; areas they fall in are then shown as ``unknown LSOA`` by :mod:`diogel.warehouse.queries`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from diogel.sources.registry import SourceKind, get, kinds
from diogel.warehouse.counted_table import KIND as KEPT_KIND
from diogel.warehouse.counted_table import loaded_by_file as kept_loaded_by_file
from diogel.warehouse.rules import counted_rows_of, in_force, visible

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse


def counted(wh: Warehouse, kind: str | SourceKind) -> ibis.Table:
    """Rows that count under the rules above; for police street data, one row per crime or ASB incident."""
    kind = get(kind) if isinstance(kind, str) else kind
    return counted_rows_of(wh, kind.table, kind.dedupe_key, kind.name)


def crimes(wh: Warehouse) -> ibis.Table:
    """police.uk street-level crimes and ASB incidents under the counting rules."""
    return counted(wh, "police-street")


def loaded_by_file(
    wh: Warehouse,
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
    kept = kept_loaded_by_file(wh, files.select("file_id", "run_id")) if kind.name == KEPT_KIND else None
    if kept is not None:  # the rules were applied when the files landed: what they dropped is kept
        return {f: kept.get(f, 0) for f in selected}
    rows = visible(wh, kind.table, kind.name)
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


def _most_of(wh: Warehouse, kind: SourceKind, files: ibis.Table) -> bool:
    """Whether the selected files hold at least half the rows of their kind.

    Then looking up their keys first would cost more than ranking every keyed row.
    """
    every = wh.table("source_file").filter(lambda t: t.kind == kind.name)
    total = wh.execute(every.rows_valid.sum())
    part = wh.execute(files.rows_valid.sum())
    if total is None or pd.isna(total) or part is None or pd.isna(part):
        return True
    return 2 * int(part) >= int(total)


def status_frame(wh: Warehouse) -> pd.DataFrame:
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


# -- slices: replacement, coverage ------------------------------------------------------------------

#: A file may replace a slice without ``--replace`` only if it holds at least this share of the rows
#: in force for it (a re-download that lost a few rows replaces; a one-row file does not).
REPLACE_SHARE = 0.8

#: Kinds whose rows are placed by LSOA code, and so are checked against the loaded ONS lookups.
PLACED_BY_LSOA = ("police-street", "police-outcomes", "partner")

#: Quarantine reason (after the code) of a row whose LSOA code no loaded lookup knows.
UNKNOWN_LSOA_REASON = "is not in the loaded ONS lookups (no such LSOA)"

_MONTHLY = re.compile(r"^(?P<part>.*)\|(?P<month>\d{4}-\d{2})$")


def slice_month(slice_key: str) -> tuple[str, str | None]:
    """Split a slice key into what it is of (force, or dataset and supplier) and its month, if monthly."""
    m = _MONTHLY.match(slice_key)
    return (m["part"], m["month"]) if m else (slice_key, None)


def slice_words(kind: str, slice_key: str) -> str:
    """A slice in words for messages: ``police-street Gwent Police 2025-06``."""
    part, month = slice_month(slice_key)
    pieces = slice_key.split("|")
    if kind == "partner" and len(pieces) == 4 and pieces[0] == "partner":
        _, dataset, supplier, period = pieces
        part = f"{dataset} from {supplier}" if supplier else f"{dataset} (no supplier given)"
        month = month or {"all": "(whole dataset)", "undated": "(undated records)"}.get(period, period)
    return " ".join(w for w in (kind, part, month) if w)


def replacement_refusal(
    kind: str, slice_key: str, old_rows: int, new_rows: int, options: dict | None
) -> str | None:
    """Why a file may not replace a slice without ``--replace`` (``None`` when it may).

    A partner file given without a supplier never replaces a month silently: a second partner
    sending the same dataset would otherwise wipe the first one's months.
    """
    if kind == "partner" and not str((options or {}).get("supplier") or "").strip():
        return "supplier"
    if new_rows < REPLACE_SHARE * old_rows:
        return "fewer"
    return None


def slices_in_force(wh: Warehouse, kind: str) -> dict[str, tuple[str, int]]:
    """slice_key -> (file_id, rows) of the file in force, for one kind."""
    df = wh.execute(in_force(wh, kind).select("slice_key", "file_id", "rows"))
    return {k: (f, int(n)) for k, f, n in zip(df.slice_key, df.file_id, df.rows, strict=True)}


def coverage(wh: Warehouse) -> pd.DataFrame:
    """Monthly slices in force, per kind and force (or dataset and supplier), as month ranges.

    Columns ``kind``, ``of``, ``first``, ``last``, ``months`` (number loaded), ``ranges`` (e.g.
    ``2018-10..2019-02, 2022-07..2025-06``) and ``not_loaded`` (the months between first and last
    that no file holds, as ranges; empty when there is none). A month that was never loaded is not
    a gap in the data published: nothing is known about it.
    """
    cols = ["kind", "of", "first", "last", "months", "ranges", "not_loaded"]
    df = wh.execute(in_force(wh).select("kind", "slice_key"))
    parts: dict[tuple[str, str], set[str]] = {}
    for kind, key in zip(df.kind, df.slice_key, strict=True):
        part, month = slice_month(key)
        if month is not None:
            parts.setdefault((kind, part), set()).add(month)
    out = []
    for (kind, part), months in sorted(parts.items()):
        have = pd.PeriodIndex(sorted(months), freq="M")
        every = pd.period_range(have.min(), have.max(), freq="M")
        missing = every.difference(have)
        of = slice_words(kind, part + "|2000-01").removeprefix(kind).removesuffix("2000-01").strip()
        out.append([kind, of, str(have.min()), str(have.max()), len(have), _ranges(have), _ranges(missing)])
    return pd.DataFrame(out, columns=cols)


def _ranges(months: pd.PeriodIndex) -> str:
    """Consecutive months as ``a..b`` runs, comma-separated."""
    runs: list[list[pd.Period]] = []
    for m in sorted(months):
        if runs and (m - runs[-1][-1]).n == 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def replacements(wh: Warehouse) -> pd.DataFrame:
    """What replaced what: one row per ingest or restore and pair of files, newest first.

    Columns ``at``, ``action`` (``replaced`` or ``restored``), ``kind``, ``file`` (now in force),
    ``replaced`` (the file it took over from), ``slices``, ``rows_before``, ``rows_after``,
    ``forced`` (the replacement needed ``--replace``), ``file_id``, ``replaced_id``.
    """
    cols = ["at", "action", "kind", "file", "replaced", "slices", "rows_before", "rows_after", "forced",
            "file_id", "replaced_id"]  # fmt: skip
    if not wh.has("slice_event"):
        return pd.DataFrame(columns=cols)
    ev = wh.execute(wh.table("slice_event"))
    if ev.empty:
        return pd.DataFrame(columns=cols)
    names = wh.execute(wh.table("source_file").select("file_id", "name"))
    # Two downloads of one force-month share a file name: the id's first characters tell them apart.
    name = {f: f"{n} ({f[:8]})" for f, n in zip(names.file_id, names.name, strict=True)}
    g = (
        ev.groupby(["run_id", "action", "kind", "file_id", "replaced_file_id"], as_index=False, dropna=False)
        .agg(at=("at", "min"), slices=("slice_key", "count"), rows_before=("old_rows", "sum"),
             rows_after=("new_rows", "sum"), forced=("forced", "max"))
        .sort_values("at", ascending=False)
    )  # fmt: skip
    g["file"] = g.file_id.map(name)
    g["replaced"] = g.replaced_file_id.map(name)
    g = g.rename(columns={"replaced_file_id": "replaced_id"})
    g["forced"] = g.forced.astype(bool)
    return g[cols].reset_index(drop=True)


# -- unknown areas ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownLsoas:
    """The LSOA codes of the loaded ONS lookups, and the nations (E01, W01) they cover."""

    codes: frozenset[str]
    nations: frozenset[str]

    def unknown(self, codes: pa.ChunkedArray | pa.Array) -> pa.Array | None:
        """True where a code is given, its nation's LSOAs are in the lookups, and it is not one of them.

        ``None`` when no row is unknown. A nation (the code's first three characters) with no code in
        the lookups is not judged, so a Wales-only lookup leaves English LSOAs alone.
        """
        # A file holds a few thousand distinct codes: look those up, and only build a mask for a miss.
        distinct = pc.unique(codes).to_pylist()
        bad = [c for c in distinct if c and c[:3] in self.nations and c not in self.codes]
        if not bad:
            return None
        mask = pc.fill_null(pc.is_in(codes, value_set=pa.array(bad, pa.string())), False)
        return mask.combine_chunks() if isinstance(mask, pa.ChunkedArray) else mask


def unknown_lsoa_rows(wh: Warehouse, kind: str = "police-street") -> int:
    """Rows of ``kind``'s committed files quarantined because no loaded lookup knows their LSOA code."""
    if not wh.has("quarantine"):
        return 0
    q = wh.table("quarantine")
    files = wh.table("source_file").filter(lambda t: t.kind == kind).select("file_id", "run_id")
    q = q.semi_join(files, ["file_id", "run_id"])
    q = q.filter((q.column_name == "LSOA code") & q.reason.endswith(UNKNOWN_LSOA_REASON))
    return int(wh.execute(q.count()))


def known_lsoas(wh: Warehouse) -> KnownLsoas | None:
    """Every LSOA code (2011 and 2021) in the loaded ONS lookups; ``None`` when none is loaded.

    Codes of lookups a later one replaced count too: they were real LSOAs when published.
    """
    codes: set[str] = set()
    committed = wh.table("source_file").select("file_id", "run_id")
    for table, columns in (("lookup_lsoa_ward_la", ["lsoa_code"]),
                           ("lookup_lsoa11_lsoa21", ["lsoa11_code", "lsoa21_code"])):  # fmt: skip
        if not wh.has(table):
            continue
        t = wh.table(table).semi_join(committed, ["file_id", "run_id"])
        for col in columns:
            codes |= set(wh.execute(t.select(col).distinct())[col].dropna())
    if not codes:
        return None
    return KnownLsoas(frozenset(codes), frozenset(c[:3] for c in codes))


def counted_in_lsoas(wh, kind: str | SourceKind, lsoa_codes: list[str], end: object = None) -> ibis.Table:  # noqa: ANN001
    """The rows of :func:`counted` whose ``lsoa_code`` is one of ``lsoa_codes`` (and ``month`` <= ``end``).

    The same rows as filtering :func:`counted`, but the earliest-row-per-key rule ranks only the
    visible rows that share a key with a row in those LSOAs (a key's first row may lie elsewhere,
    so those rows are ranked too), not every row of the kind: one area of a national warehouse
    costs a scan and a small window, not a window over every row.
    """
    kind = get(kind) if isinstance(kind, str) else kind
    rows = visible(wh, kind.table, kind.name)
    mine = rows.filter(rows.lsoa_code.isin(list(lsoa_codes)))
    if end is not None:
        mine = mine.filter(mine.month <= end)
    if kind.dedupe_key is None:
        return mine
    key = kind.dedupe_key
    keys = mine.filter(mine[key].notnull()).select(key).distinct()
    keyed = rows.filter(rows[key].notnull()).semi_join(keys, key)
    first = ibis.row_number().over(
        ibis.window(group_by=keyed[key], order_by=[keyed.month, keyed.seq, keyed.line])
    )
    keyed = keyed.mutate(_first=first).filter(lambda t: t._first == 0).drop("_first")
    keyed = keyed.filter(keyed.lsoa_code.isin(list(lsoa_codes)))
    if end is not None:
        keyed = keyed.filter(keyed.month <= end)
    return mine.filter(mine[key].isnull()).union(keyed, distinct=False)
