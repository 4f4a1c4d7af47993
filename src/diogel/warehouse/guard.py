"""The ingest checks that need the warehouse: unknown LSOA codes and guarded replacement.

Part of :meth:`diogel.warehouse.core.Warehouse.ingest`: a file is judged here after it is parsed
and before it enters a transaction (see :mod:`diogel.warehouse.counting` for the rules).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pyarrow.compute as pc

from diogel.sources.registry import ParsedFile, SourceKind
from diogel.warehouse.native_ingest import StagedFile

if TYPE_CHECKING:
    from diogel.warehouse.core import Warehouse
    from diogel.warehouse.reading import Prepared


class Guard:
    """The ingest checks that need the warehouse: unknown LSOAs and guarded replacement.

    Holds, for the kind being ingested, the file in force for each slice (updated as the run admits
    files, so two files of one slice in a folder are judged against each other) and the LSOA codes
    of the loaded lookups.
    """

    def __init__(self, wh: Warehouse, kind: SourceKind, options: dict | None, replace: bool):
        from diogel.warehouse import counting

        self.counting, self.wh = counting, wh
        self.kind, self.options, self.replace = kind, options, replace
        self.in_force = counting.slices_in_force(wh, kind.name)
        names = wh.execute(wh.table("source_file").select("file_id", "path"))
        self.names: dict[str, str] = dict(zip(names.file_id, names.path, strict=True))
        checks = kind.name in counting.PLACED_BY_LSOA and "lsoa_code" in kind.schema.names
        self.lsoas = counting.known_lsoas(wh) if checks else None

    def replaced_slices(self, file_id: str) -> int:
        """How many of a loaded file's slices another file is in force for."""
        t = self.wh.table("file_slice")
        keys = set(self.wh.execute(t.filter(t.file_id == file_id).select("slice_key").distinct()).slice_key)
        return sum(1 for k in keys if self.in_force.get(k, (file_id,))[0] != file_id)

    def check_areas(self, parsed: ParsedFile, label: str) -> None:
        """Move rows whose LSOA code is in none of the loaded lookups to the file's quarantine."""
        if self.lsoas is None or isinstance(parsed, StagedFile) or parsed.rows.num_rows == 0:
            return  # (the DuckDB-native route checks the areas in its own SQL)
        rows = parsed.rows
        mask = self.lsoas.unknown(rows.column("lsoa_code"))
        if mask is None:
            return
        bad = rows.filter(mask)
        shown = [c for c in self.kind.schema.names if c not in ("line", "slice_key")]
        values = bad.select(shown).to_pylist()
        for line, code, row in zip(bad.column("line").to_pylist(), bad.column("lsoa_code").to_pylist(), values,
                                   strict=True):  # fmt: skip
            parsed.quarantined.add(
                int(line),
                "LSOA code",
                f"LSOA code {code} {self.counting.UNKNOWN_LSOA_REASON}",
                ",".join("" if v is None else str(v) for v in row.values()),
            )
        parsed.rows = rows.filter(pc.invert(mask))

    def admit(self, prep: Prepared, label: str) -> str | None:
        """The one-line refusal for a file that may not replace what it would, or ``None`` (recording events)."""
        assert prep.parsed is not None and prep.file_id is not None
        mine = slice_counts(prep.parsed)
        events, refused = [], []
        for key, n in sorted(mine.items()):
            old = self.in_force.get(key)
            if old is None:
                continue
            why = self.counting.replacement_refusal(self.kind.name, key, old[1], n, self.options)
            if why:
                refused.append((why, key, old, n))
            events.append(
                {
                    "at": _now(),
                    "action": "replaced",
                    "kind": self.kind.name,
                    "slice_key": key,
                    "file_id": prep.file_id,
                    "replaced_file_id": old[0],
                    "old_rows": old[1],
                    "new_rows": int(n),
                    "forced": bool(why),
                }
            )
        if refused and not self.replace:
            return self._message(label, refused)
        for key, n in mine.items():
            self.in_force[key] = (prep.file_id, int(n))
        self.names[prep.file_id] = label
        prep.events, prep.slices = events, mine  # (the writes reuse the counts: the rows are final)
        return None

    def _message(self, label: str, refused: list[tuple[str, str, tuple[str, int], int]]) -> str:
        words = self.counting.slice_words
        kind = self.kind.name
        supplier = [r for r in refused if r[0] == "supplier"]
        if supplier:
            periods = sorted(words(kind, k).rsplit(" ", 1)[-1] for _, k, _, _ in supplier)
            months = [p for p in periods if self.counting.slice_month(f"|{p}")[1]]
            first = words(kind, supplier[0][1])
            if len(months) == len(periods):
                span = months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"
                what = f"{len(months)} month(s) ({span}) of {first.rsplit(' ', 1)[0]}"
            else:  # a dataset replaced whole, or its undated records
                what = first
            olds = sorted({self.names.get(o[0], o[0]) for _, _, o, _ in supplier})
            return (
                f"{label}: not loaded: it would replace {what} "
                f"already loaded from {', '.join(olds)}; give --supplier NAME if another supplier sent it, "
                "or --replace if it corrects them"
            )
        _, key, (old_file, old_rows), n = refused[0]
        more = f" (and {len(refused) - 1} more slice(s))" if len(refused) > 1 else ""
        share = f"{self.counting.REPLACE_SHARE:.0%}"
        return (
            f"{label}: not loaded: it would replace {words(kind, key)} ({old_rows:,} rows, from "
            f"{self.names.get(old_file, old_file)}) with {n:,} rows, under {share} of them{more}; check the file, "
            "or give --replace to load it anyway (diogel restore brings the old file back)"
        )


def slice_counts(parsed: ParsedFile | StagedFile) -> dict[str, int]:
    """Valid rows per slice key of a parsed (or natively staged) file."""
    if isinstance(parsed, StagedFile):
        return dict(parsed.slice_counts)
    if not parsed.rows.num_rows:
        return {}
    counts = parsed.rows.group_by("slice_key").aggregate([("slice_key", "count")])
    keys = counts.column("slice_key").to_pylist()
    return dict(zip(keys, counts.column("slice_key_count").to_pylist(), strict=True))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
