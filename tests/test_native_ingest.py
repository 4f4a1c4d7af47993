"""The DuckDB-native ingest route gives exactly what the Arrow route gives (diogel.warehouse.native_ingest).

Each test ingests the same real police.uk files (and variants derived from them, named as such) into
two fresh DuckDB warehouses, one with the native route and one with ``DIOGEL_NATIVE_INGEST=0``, and
compares every stored row, quarantine row, registry row and slice, and each file's result line.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from conftest import POLICE
from diogel import data
from diogel.warehouse import native_ingest
from diogel.warehouse.core import Warehouse

STREET = POLICE / "2024-06-gwent-street.csv"
OUTCOMES = POLICE / "2022-07-gwent-outcomes.csv"
REFERENCE = Path(data.__file__).parent / "reference" / "wales"


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _write(path: Path, table: list[list[str]], terminator: str = "\n", encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf, lineterminator=terminator).writerows(table)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _load(tmp: Path, native: bool, kind: str, path: Path, monkeypatch: pytest.MonkeyPatch,
          lookups: bool = True) -> tuple[list, int]:  # fmt: skip
    """Everything the warehouse holds after the ingest, and how many files the native route staged."""
    monkeypatch.setenv("DIOGEL_NATIVE_INGEST", "1" if native else "0")
    staged = []
    real_stage = native_ingest.NativeRoute.stage

    def spy(self, item, data):  # noqa: ANN001, ANN202
        got = real_stage(self, item, data)
        staged.append(got is not None)
        return got

    monkeypatch.setattr(native_ingest.NativeRoute, "stage", spy)
    with Warehouse(data_dir=tmp / ("native" if native else "arrow")) as wh:
        if lookups:
            wh.ingest("lookup-lsoa-ward-la", REFERENCE / "lookup_lsoa21_ward24_ltla24.csv.gz")
            wh.ingest("lookup-lsoa11-lsoa21", REFERENCE / "lookup_lsoa11_lsoa21_ltla22.csv.gz")
        results = wh.ingest(kind, path)
        table = wh.table({"police-street": "police_street", "police-outcomes": "police_outcomes"}[kind])
        con = wh.backend.raw
        got = [
            [(r.name, r.status, r.rows_read, r.loaded, r.duplicates, r.quarantined, r.error, r.problems)
             for r in results],
            con.execute(f"SELECT * EXCLUDE (run_id) FROM {table.get_name()} ORDER BY file_id, line").fetchall(),
            con.execute(
                "SELECT file_id, kind, file_name, line, column_name, reason, raw FROM quarantine ORDER BY file_id, line"
            ).fetchall(),
            con.execute(
                "SELECT * EXCLUDE (run_id, committed_at) FROM source_file WHERE kind LIKE 'police%' ORDER BY seq"
            ).fetchall(),
            con.execute("SELECT * EXCLUDE (run_id) FROM file_slice ORDER BY seq, slice_key").fetchall(),
        ]  # fmt: skip
        assert "_diogel_stage" not in {
            r[0] for r in con.execute("SELECT database_name FROM duckdb_databases()").fetchall()
        }
    return got, sum(staged)


def _same(
    tmp: Path, kind: str, path: Path, monkeypatch: pytest.MonkeyPatch, staged: int, lookups: bool = True
) -> list:
    native, n_native = _load(tmp, True, kind, path, monkeypatch, lookups)
    arrow, n_arrow = _load(tmp, False, kind, path, monkeypatch, lookups)
    assert n_arrow == 0
    assert n_native == staged  # the native route really read these files (else the test proves nothing)
    for name, a, b in zip(
        ["results", "rows", "quarantine", "source_file", "file_slice"], native, arrow, strict=True
    ):
        assert a == b, name
    return native


def test_real_street_and_outcomes_files_load_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for f in (STREET, POLICE / "2022-07-gwent-street.csv"):
        (folder / f.name).write_bytes(f.read_bytes())
    got = _same(tmp_path / "s", "police-street", folder, monkeypatch, staged=2)
    assert len(got[1]) > 10_000 and not got[2]
    got = _same(tmp_path / "o", "police-outcomes", OUTCOMES, monkeypatch, staged=1)
    assert len(got[1]) > 1_000


def test_bad_rows_get_the_same_reasons_and_line_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Derived from the real June 2024 file: one broken value per listed line, spaces and a Welsh space."""
    table = _rows(STREET)
    h = {name: i for i, name in enumerate(table[0])}
    table[3][h["Month"]] = "2024-13"
    table[4][h["LSOA code"]] = "W01999999"  # well formed, in no lookup
    table[5][h["LSOA code"]] = "X123"
    table[6][h["Reported by"]] = "  "
    table[7][h["Crime type"]] = "Jaywalking"
    table[8][h["Longitude"]] = "east"
    table[9][h["Latitude"]] = "60.5"
    table[10][h["Location"]] = "  On or near High Street  "
    table[11][h["LSOA name"]] = "Newport 001A\u00a0"  # a no-break space: DuckDB's trim removes it
    table[12][h["Longitude"]] = ""
    path = _write(tmp_path / "derived" / "2024-06-gwent-street.csv", table)
    got = _same(tmp_path, "police-street", path, monkeypatch, staged=1)
    lines = [q[3] for q in got[2]]
    assert lines == [4, 5, 6, 7, 8, 9, 10, 13]  # file lines (the header is line 1)
    assert any("not in the loaded ONS lookups" in q[5] for q in got[2])
    # Before any lookup is loaded the unknown code loads, on both routes.
    got = _same(tmp_path / "nolookup", "police-street", path, monkeypatch, staged=1, lookups=False)
    assert [q[3] for q in got[2]] == [4, 6, 7, 8, 9, 10, 13]


@pytest.mark.parametrize(
    "variant",
    ["crlf", "quoted-newline", "blank-line", "bom", "windows-1252", "short-row", "space-before-quote"],
)
def test_files_the_native_route_passes_on_load_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variant: str
) -> None:
    """Files only the exact reader numbers correctly go to the Arrow route, with the same result."""
    table = _rows(STREET)[:200]
    h = {name: i for i, name in enumerate(table[0])}
    path = tmp_path / "derived" / "2024-06-gwent-street.csv"
    staged = 0
    if variant == "crlf":
        _write(path, table, terminator="\r\n")
        staged = 1  # CRLF is plain: DuckDB reads it
    elif variant == "quoted-newline":
        table[20][h["Location"]] = "On or near\nHigh Street"
        _write(path, table)
    elif variant == "blank-line":
        _write(path, table[:50] + [[]] + table[50:])
    elif variant == "bom":
        path.parent.mkdir(parents=True)
        path.write_bytes(b"\xef\xbb\xbf" + _write(tmp_path / "plain.csv", table).read_bytes())
    elif variant == "windows-1252":
        table[30][h["Location"]] = "On or near Caf\u00e9 Street"
        _write(path, table, encoding="cp1252")
    elif variant == "short-row":
        _write(path, table)
        with path.open("a") as f:
            f.write("abc,2024-06,Gwent Police\n")
    elif variant == "space-before-quote":
        _write(path, table)
        text = path.read_text().splitlines(keepends=True)
        cells = text[40].split(",")
        cells[6] = ' "On or near X"'
        text[40] = ",".join(cells)
        path.write_text("".join(text))
    _same(tmp_path, "police-street", path, monkeypatch, staged=staged)
