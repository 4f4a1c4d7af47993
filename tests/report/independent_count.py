"""Counts of raw police.uk street files under the counting rules, with the csv module only.

Shares no code with diogel, so comparing its totals with figures.json checks the loaders, the
warehouse, the counting rules, the area membership and the report together. The rules (README):

1. when several files hold rows for the same force ("Reported by") and month, only the file
   ingested last counts;
2. a Crime ID counts once, in the earliest month it appears (ties: the earlier file, then row);
3. a row without a Crime ID (anti-social behaviour) always counts;
4. the area is the set of LSOAs whose local authority (ONS lookups) is the area's, never "Falls within".
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections import Counter
from pathlib import Path

from diogel import data

LOOKUPS = data.path("reference", "wales")


def read_files(paths: list[Path]) -> list[list[dict[str, str]]]:
    """Each street CSV's rows; a zip stands for its ``*-street.csv`` members in name order."""
    out = []
    for p in paths:
        if p.suffix == ".zip":
            with zipfile.ZipFile(p) as zf:
                for name in sorted(n for n in zf.namelist() if n.endswith("-street.csv")):
                    text = zf.read(name).decode("utf-8-sig")
                    out.append(list(csv.DictReader(io.StringIO(text, newline=""))))
        else:
            with p.open(newline="", encoding="utf-8-sig") as fh:
                out.append(list(csv.DictReader(fh)))
    return out


def lsoa_to_la() -> dict[str, str]:
    """LSOA code (2011 and 2021) -> local authority code, straight from the ONS lookup files."""
    out: dict[str, str] = {}
    for name, lsoa, la in (
        ("lookup_lsoa11_ward19_lad19.csv.gz", "LSOA11CD", "LAD19CD"),
        ("lookup_lsoa21_ward24_ltla24.csv.gz", "lsoa21_code", "ltla24_code"),
    ):
        with gzip.open(LOOKUPS / name, "rt", newline="", encoding="utf-8-sig") as fh:
            for r in csv.DictReader(fh):
                out[r[lsoa]] = r[la]
    return out


def count_by_la_month_type(files_in_ingest_order: list[list[dict[str, str]]]) -> Counter:
    """Counter of (local authority or None, 'YYYY-MM', crime type) under the counting rules."""
    la_of = lsoa_to_la()
    latest: dict[tuple[str, str], int] = {}
    for i, rows in enumerate(files_in_ingest_order):
        for r in rows:
            latest[(r["Reported by"].strip(), r["Month"].strip())] = i
    counts: Counter = Counter()
    earliest: dict[str, tuple[str, int, int, tuple]] = {}
    for i, rows in enumerate(files_in_ingest_order):
        for n, r in enumerate(rows):
            if latest[(r["Reported by"].strip(), r["Month"].strip())] != i:
                continue
            key = (la_of.get(r["LSOA code"].strip()), r["Month"].strip(), r["Crime type"].strip())
            crime_id = r["Crime ID"].strip()
            if not crime_id:
                counts[key] += 1
                continue
            candidate = (r["Month"].strip(), i, n, key)
            if crime_id not in earliest or candidate[:3] < earliest[crime_id][:3]:
                earliest[crime_id] = candidate
    for *_, key in earliest.values():
        counts[key] += 1
    return counts


def months(start: str, end: str) -> set[str]:
    y, m = map(int, start.split("-"))
    out = set()
    while f"{y:04d}-{m:02d}" <= end:
        out.add(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def area_counts(counts: Counter, la: str, start: str, end: str) -> Counter:
    """Records per crime type in local authority ``la`` over the months start..end."""
    wanted = months(start, end)
    out: Counter = Counter()
    for (code, month, crime_type), n in counts.items():
        if code == la and month in wanted:
            out[crime_type] += n
    return out
