"""An independent count of raw police.uk street files under the counting rules.

Written with the csv module only, sharing no code with diogel, so that a test comparing the two
checks diogel's loaders, warehouse and queries together. The rules (README, "Counting rules"):

1. when several files hold rows for the same force ("Reported by") and month, only the file
   ingested last counts;
2. a Crime ID counts once, in the earliest month it appears (ties: the file ingested first, then
   the earlier row);
3. a row without a Crime ID (anti-social behaviour) always counts.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

Key = tuple[str | None, ...]


def street_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def count_raw(
    files_in_ingest_order: Iterable[Path],
    key: Callable[[dict[str, str]], Key] = lambda r: (r["LSOA code"] or None, r["Month"], r["Crime type"]),
) -> Counter:
    files = [street_rows(p) for p in files_in_ingest_order]
    latest: dict[tuple[str, str], int] = {}
    for i, rows in enumerate(files):
        for r in rows:
            latest[(r["Reported by"].strip(), r["Month"].strip())] = i
    counts: Counter = Counter()
    earliest: dict[str, tuple[str, int, int, Key]] = {}
    for i, rows in enumerate(files):
        for n, r in enumerate(rows):
            if latest[(r["Reported by"].strip(), r["Month"].strip())] != i:
                continue
            crime_id = r["Crime ID"].strip()
            if not crime_id:
                counts[key(r)] += 1
                continue
            candidate = (r["Month"], i, n, key(r))
            if crime_id not in earliest or candidate[:3] < earliest[crime_id][:3]:
                earliest[crime_id] = candidate
    for *_, k in earliest.values():
        counts[k] += 1
    return counts


def lsoa_to_la(lookup_2021: Path, lookup_2011: Path) -> dict[str, str]:
    """LSOA code (2021 and 2011) -> local authority code, read straight from the ONS lookup files."""
    out: dict[str, str] = {}
    for path, lsoa, la in ((lookup_2011, "LSOA11CD", "LAD19CD"), (lookup_2021, "lsoa21_code", "ltla24_code")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", newline="", encoding="utf-8-sig") as f:
            for r in csv.DictReader(f):
                out[r[lsoa]] = r[la]
    return out


# -- which files are in force: the README's replacement rules, modelled without diogel's code -------
REPLACE_SHARE = 0.8  # README: a replacement by under 80% of the rows in force needs --replace


def police_slices(path: Path, kind: str) -> Counter:
    """(kind, force, month) -> rows of one police.uk street or outcomes file."""
    return Counter((kind, r["Reported by"].strip(), r["Month"].strip()) for r in street_rows(path))


class Ledger:
    """The files a warehouse should hold and which is in force for each slice, after any sequence of
    ``diogel ingest`` (with or without ``--replace``) and ``diogel restore``.

    Files are known by content (SHA-256 of the bytes), as the README says: loading the same content
    again does nothing, or, with ``--replace``, puts it back in force.
    """

    def __init__(self) -> None:
        self.registered: dict[str, tuple[Path, Counter]] = {}  # hash -> (path, slice rows)
        self.in_force: dict[tuple, tuple[str, int]] = {}  # slice -> (hash, order it took force)
        self.order = 0

    def _take(self, digest: str) -> None:
        if all(self.in_force.get(s, ("",))[0] == digest for s in self.registered[digest][1]):
            return  # already in force for every slice it holds: nothing changes
        self.order += 1
        for s in self.registered[digest][1]:
            self.in_force[s] = (digest, self.order)

    def ingest(self, path: Path, digest: str, slices: Counter, replace: bool) -> str:
        """'loaded', 'already loaded', 'restored' or 'refused'."""
        if digest in self.registered:
            if not replace:
                return "already loaded"
            self._take(digest)
            return "restored"
        for s, n in slices.items():
            if s in self.in_force and not replace:
                old = self.registered[self.in_force[s][0]][1][s]
                if n < REPLACE_SHARE * old:
                    return "refused"
        self.registered[digest] = (path, slices)
        self._take(digest)
        return "loaded"

    def restore(self, digest: str) -> None:
        self._take(digest)

    def street_files_in_force(self) -> list[Path]:
        """Street files in force for some slice, in the order they took force (count_raw's order)."""
        latest: dict[str, int] = {}
        for (kind, *_), (digest, order) in self.in_force.items():
            if kind == "police-street":
                latest[digest] = max(order, latest.get(digest, 0))
        return [self.registered[d][0] for d in sorted(latest, key=latest.get)]

    def rows_in_force(self, kind: str) -> int:
        return sum(self.registered[d][1][s] for s, (d, _) in self.in_force.items() if s[0] == kind)
