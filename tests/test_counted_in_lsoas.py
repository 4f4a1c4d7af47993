"""The counting rules applied to some LSOAs only give the same rows as the rules over every row,
including a Crime ID whose first record is outside those LSOAs (it must not count inside them)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from conftest import POLICE
from diogel.warehouse.counting import counted, counted_in_lsoas

COLUMNS = ["lsoa_code", "month", "crime_id", "crime_type", "file_id", "line"]


def _rows(wh, expr) -> pd.DataFrame:  # noqa: ANN001
    df = wh.execute(expr.select(*COLUMNS))
    return df.sort_values(COLUMNS, na_position="first").reset_index(drop=True)


def test_counted_in_lsoas_matches_the_rules_over_every_row(duckdb_warehouse, tmp_path: Path) -> None:  # noqa: ANN001
    wh = duckdb_warehouse
    text = (POLICE / "2024-06-gwent-street.csv").read_text(encoding="utf-8")
    header, *body = list(csv.reader(io.StringIO(text)))
    june = body[:300]
    keyed = [r for r in june if r[0]]
    moved_key, moved_from = keyed[0][0], keyed[0][7]
    other = next(r for r in june if r[7] != moved_from)
    # Derived July file: the June crime repeated in another LSOA (a duplicate: it counts in June, in
    # its first LSOA), a fresh crime, and a June crime repeated in the same LSOA.
    repeat_elsewhere = keyed[0][:]
    repeat_elsewhere[1], repeat_elsewhere[7], repeat_elsewhere[8] = "2024-07", other[7], other[8]
    repeat_same = keyed[1][:]
    repeat_same[1] = "2024-07"
    july = [[*r[:1], "2024-07", *r[2:]] for r in body[300:400]] + [repeat_elsewhere, repeat_same]
    folder = tmp_path / "derived"
    folder.mkdir()
    for month, rows in (("2024-06", june), ("2024-07", july)):
        with (folder / f"{month}-gwent-street.csv").open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([header, *rows])
    assert all(r.status == "loaded" for r in wh.ingest("police-street", folder))

    everything = counted(wh, "police-street")
    lsoas = sorted({r[7] for r in june + july if r[7]})
    for chosen in ([other[7]], [moved_from], lsoas[::3], lsoas):
        for end in (None, pd.Timestamp("2024-06-01").date()):
            want = everything.filter(everything.lsoa_code.isin(chosen))
            if end is not None:
                want = want.filter(want.month <= end)
            got = counted_in_lsoas(wh, "police-street", chosen, end)
            pd.testing.assert_frame_equal(_rows(wh, got), _rows(wh, want))
    # The repeat outside its first LSOA does not count there; it counts once, where it was first.
    there = _rows(wh, counted_in_lsoas(wh, "police-street", [other[7]]))
    assert moved_key not in set(there["crime_id"])
    first = _rows(wh, counted_in_lsoas(wh, "police-street", [moved_from]))
    assert (first["crime_id"] == moved_key).sum() == 1
