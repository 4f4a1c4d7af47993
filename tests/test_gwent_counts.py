"""The Done-when check of the foundation: 36 months of Gwent through the command line.

`diogel counts --by la,month,crime_type` after ingesting the real Gwent tree (July 2022 to June
2025, 2011 and 2021 LSOA codes, crimes located outside Gwent) must equal an independent count of
the raw CSVs under the counting rules, with local authorities taken from ONS's lookup files.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _independent import count_raw, lsoa_to_la
from conftest import shared
from diogel.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def gwent(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tree = shared("policeuk", "gwent-2022-07_2025-06")
    data_dir = tmp_path_factory.mktemp("gwent") / "data"
    for args in (["init", "--reference", "wales"], ["ingest", "police-street", str(tree)]):
        result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
        assert result.exit_code == 0, result.output
    return tree, data_dir


def cli_csv(data_dir: Path, *args: str) -> list[dict[str, str]]:
    result = runner.invoke(app, ["--data-dir", str(data_dir), *args])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_counts_by_la_month_crime_type_equal_the_raw_files(gwent: tuple[Path, Path]) -> None:
    tree, data_dir = gwent
    files = sorted(tree.glob("*-street.csv"))
    assert len(files) == 36
    la = lsoa_to_la(
        shared("geography", "lookup_lsoa21_ward24_ltla24.csv"),
        shared("geography", "lsoa11_to_ward19_lad19_EW.csv"),
    )
    expected = count_raw(files, key=lambda r: (la.get(r["LSOA code"], ""), r["Month"], r["Crime type"]))
    rows = cli_csv(data_dir, "counts", "--by", "la,month,crime_type")
    assert list(rows[0]) == ["la", "month", "crime_type", "count"]
    got = {(r["la"], r["month"], r["crime_type"]): int(r["count"]) for r in rows}
    assert got == dict(expected)
    assert len(got) > 5 * 36 * 14 * 0.9  # every Gwent LA, month and crime type is there


def test_status_json_accounts_for_every_row(gwent: tuple[Path, Path]) -> None:
    tree, data_dir = gwent
    result = runner.invoke(app, ["--data-dir", str(data_dir), "status", "--json"])
    assert result.exit_code == 0, result.output
    files = [f for f in json.loads(result.stdout)["files"] if f["kind"] == "police-street"]
    assert len(files) == 36
    raw_rows = sum(
        sum(1 for _ in csv.reader(p.open(encoding="utf-8"))) - 1 for p in tree.glob("*-street.csv")
    )
    assert sum(f["rows_read"] for f in files) == raw_rows
    for f in files:
        assert f["rows_read"] == f["loaded"] + f["duplicates"] + f["quarantined"]
        assert f["month_min"] == f["month_max"]  # one month per police.uk file
    counted = sum(int(r["count"]) for r in cli_csv(data_dir, "counts", "--by", "month"))
    assert sum(f["loaded"] for f in files) == counted


def test_area_and_period_filters(gwent: tuple[Path, Path]) -> None:
    _, data_dir = gwent
    whole = cli_csv(data_dir, "counts", "--by", "la,month")
    part = cli_csv(
        data_dir, "counts", "--by", "la,month", "--area", "Newport", "--from", "2024-01", "--to", "2024-03"
    )
    want = {
        (r["la"], r["month"]): r["count"]
        for r in whole
        if r["la"] == "W06000022" and "2024-01" <= r["month"] <= "2024-03"
    }
    assert {(r["la"], r["month"]): r["count"] for r in part} == want
    assert len(want) == 3
