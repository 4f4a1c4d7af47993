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
