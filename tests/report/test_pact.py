"""The PACT priorities source kind: the shipped (synthetic) sample loads whole; bad rows are quarantined
with their line numbers and reasons; a re-exported meeting replaces, never adds to, the earlier one.

Expectations are read from the files with the csv module, independently of the loader.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from diogel import data
from diogel.errors import InputError
from diogel.sources.pact import read
from diogel.warehouse.core import Warehouse
from diogel.warehouse.counting import counted

SAMPLE = data.path("demo", "synthetic_pact_priorities_gwent.csv")


def _date(text: str) -> dt.date:
    fmt = "%d/%m/%Y" if "/" in text else "%Y-%m-%d"
    return dt.datetime.strptime(text, fmt).date()


def test_sample_is_named_synthetic_and_loads_whole(duckdb_warehouse: Warehouse) -> None:
    assert "synthetic" in SAMPLE.name
    with SAMPLE.open(newline="", encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    (res,) = duckdb_warehouse.ingest("pact", SAMPLE)
    assert res.status == "loaded", res.error
    assert (res.rows_read, res.loaded, res.quarantined) == (len(raw), len(raw), 0)
    rows = duckdb_warehouse.execute(counted(duckdb_warehouse, "pact").order_by("line"))
    assert len(rows) == len(raw)
    assert int(rows["votes"].sum()) == sum(int(r["votes"]) for r in raw)
    # Both date layouts the sample uses are read to the same calendar dates.
    assert {r["meeting_date"][2] for r in raw} >= {"2", "/"}
    got = [d.date() if hasattr(d, "date") else d for d in rows["meeting_date"]]
    assert got == [_date(r["meeting_date"]) for r in raw]
    assert rows["theme"].tolist() == [r["issue_theme"] for r in raw]
    assert rows["lsoa_code"].fillna("").tolist() == [r["lsoa_code"] for r in raw]
    assert rows["neighbourhood"].fillna("").tolist() == [r["neighbourhood"] for r in raw]


BAD = (
    "Meeting date,Neighbourhood,LSOA code,Theme,Votes\n"
    "2024-09-12,Pillgwenlly,,ASB,5\n"  # 2 good
    "31/02/2024,Alway,,Drugs,3\n"  # 3 no such date
    "2024-10-01,,,Speeding,2\n"  # 4 no place
    "2024-10-01,Alway,X01,Burglary,2\n"  # 5 bad LSOA code
    "2024-10-01,Alway,,,2\n"  # 6 blank theme
    "2024-10-01,Alway,,Parking,-1\n"  # 7 negative votes
    "2024-10-01,Alway,,Parking,lots\n"  # 8 not a number
    "2099-01-01,Alway,,Parking,1\n"  # 9 future
    "01/10/2024,,w01001462,Parking,4\n"  # 10 good: UK date, lower-case code
    "2024-10-01,Alway\n"  # 11 truncated
)


def test_bad_rows_are_quarantined_with_line_numbers(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "pact_log.csv"
    path.write_text(BAD, encoding="utf-8")
    (res,) = duckdb_warehouse.ingest("pact", path)
    assert res.status == "loaded"
    assert (res.rows_read, res.loaded, res.quarantined) == (10, 2, 8)
    q = duckdb_warehouse.quarantine(res.file_id).set_index("line")
    assert sorted(q.index) == [3, 4, 5, 6, 7, 8, 9, 11]
    assert q.loc[3, "column_name"] == "meeting_date" and "is not a date" in q.loc[3, "reason"]
    assert "neither a neighbourhood nor an LSOA code" in q.loc[4, "reason"]
    assert q.loc[5, "column_name"] == "lsoa_code" and "'X01' is not an LSOA code" in q.loc[5, "reason"]
    assert q.loc[6, "column_name"] == "theme"
    assert q.loc[7, "column_name"] == "votes" and q.loc[8, "column_name"] == "votes"
    assert "in the future" in q.loc[9, "reason"]
    assert "expected 5 fields" in q.loc[11, "reason"]
    rows = duckdb_warehouse.execute(counted(duckdb_warehouse, "pact").order_by("line"))
    assert rows["line"].tolist() == [2, 10]
    assert rows["lsoa_code"].fillna("").tolist() == ["", "W01001462"]
    assert [d.date() if hasattr(d, "date") else d for d in rows["meeting_date"]] == [
        dt.date(2024, 9, 12),
        dt.date(2024, 10, 1),
    ]


def test_a_re_exported_meeting_replaces_the_earlier_rows(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    first = tmp_path / "pact_first.csv"
    first.write_text("date,neighbourhood,theme,votes\n2024-09-12,Alway,ASB,5\n2024-09-12,Alway,Drugs,2\n")
    second = tmp_path / "pact_second.csv"
    second.write_text("date,neighbourhood,theme,votes\n2024-09-12,Alway,ASB,7\n2024-10-03,Alway,Speeding,4\n")
    duckdb_warehouse.ingest("pact", first)
    # The re-export holds one row of a meeting the first file gave two: a markedly smaller slice is
    # refused (guarded replacement) until the analyst confirms it with replace.
    (refused,) = duckdb_warehouse.ingest("pact", second)
    assert refused.status == "refused" and "--replace" in (refused.error or "")
    rows = duckdb_warehouse.execute(counted(duckdb_warehouse, "pact"))
    assert sorted(zip(rows["theme"], rows["votes"], strict=True)) == [("ASB", 5), ("Drugs", 2)]
    duckdb_warehouse.ingest("pact", second, replace=True)
    rows = duckdb_warehouse.execute(counted(duckdb_warehouse, "pact"))
    # The meeting of 12 September is the second file's version only; 3 October is added.
    assert sorted(zip(rows["theme"], rows["votes"], strict=True)) == [("ASB", 7), ("Speeding", 4)]


def test_a_file_without_a_theme_column_is_refused_in_one_line() -> None:
    with pytest.raises(InputError) as err:
        read("pact.csv", b"date,neighbourhood,votes\n2024-09-12,Alway,5\n")
    assert "no column for theme" in str(err.value) and "\n" not in str(err.value)
