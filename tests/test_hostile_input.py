"""Hostile and unusual input at the reader and warehouse level: encodings, NUL bytes, long fields,
decompression limits, Northern Ireland files.

Every file is built here from the real fixtures (re-encoded, with one field changed, compressed);
the bombs are synthetic zeros. Expectations come from the csv module, not from diogel's readers.
The same cases run through the command line as a subprocess in ``test_bad_input_cli.py``.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import struct
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from conftest import POLICE
from diogel.errors import InputError
from diogel.sources import files as source_files
from diogel.sources._text import FIELD_LIMIT, read_text_table
from diogel.sources.policeuk_street import HEADER
from diogel.warehouse.core import Warehouse

STREET = POLICE / "2024-06-gwent-street.csv"
STREET_2022 = POLICE / "2022-07-gwent-street.csv"
OUTCOMES = POLICE / "2022-07-gwent-outcomes.csv"
STOP_SEARCH = POLICE / "2024-06-dyfed-powys-stop-and-search.csv"
PSNI = "Police Service of Northern Ireland"


@pytest.fixture(autouse=True)
def _defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DIOGEL_WAREHOUSE", "DIOGEL_MAX_UNZIPPED_BYTES", "DIOGEL_MAX_UNZIP_RATIO"):
        monkeypatch.delenv(name, raising=False)


def zero_bomb():  # noqa: ANN201 - the benchmark's bomb builders, shared rather than copied
    spec = importlib.util.spec_from_file_location(
        "zero_bomb", Path(__file__).parents[1] / "benchmarks" / "zero_bomb.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rows_of(path: Path = STREET, n: int | None = None) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows if n is None else rows[: n + 1]


def to_csv(rows: list[list[str]], newline: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue()


def table_values(data: bytes) -> list[dict]:
    return read_text_table("f.csv", data, HEADER).table.to_pylist()


# -- UTF-16 and UTF-32 with a byte-order mark --------------------------------------------------------
@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("utf-32-le", b"\xff\xfe\x00\x00"),
        ("utf-32-be", b"\x00\x00\xfe\xff"),
    ],
)
def test_unicode_with_bom_reads_as_the_utf8_file(codec: str, bom: bytes) -> None:
    rows = rows_of(n=300)
    rows[3][6] = "On or near Heol y Fro\u0175 \u00a3"  # w-circumflex is not in Windows-1252
    text = to_csv(rows, newline="\r\n")
    got = read_text_table("f.csv", bom + text.encode(codec), HEADER)
    assert got.encoding == codec
    assert got.table.to_pylist() == table_values(text.encode("utf-8"))
    assert got.rows_read == 300 and len(got.malformed) == 0
    assert got.table.column("Location")[2].as_py() == "On or near Heol y Fro\u0175 \u00a3"


def test_utf16_cut_mid_character_drops_the_half_character() -> None:
    text = to_csv(rows_of(n=50))
    data = b"\xff\xfe" + text.encode("utf-16-le")
    got = read_text_table("f.csv", data[:-1], HEADER)  # a download cut one byte short
    assert got.table.to_pylist() == table_values(text.encode("utf-8"))


def test_utf16_without_bom_is_refused_saying_so() -> None:
    with pytest.raises(InputError, match="UTF-16 text without a byte-order mark") as exc:
        read_text_table("f.csv", to_csv(rows_of(n=5)).encode("utf-16-le"), HEADER)
    assert exc.value.line == 1


def test_utf16_with_bom_and_a_broken_surrogate_names_the_line() -> None:
    text = to_csv(rows_of(n=20))
    data = bytearray(b"\xff\xfe" + text.encode("utf-16-le"))
    at = 2 + 2 * (text.index("\n", text.index("\n") + 1) + 5)  # inside data line 2 (file line 3)
    data[at : at + 2] = b"\x00\xd8"  # a lone high surrogate, then an ordinary character
    with pytest.raises(InputError, match="not valid UTF-16-LE") as exc:
        read_text_table("f.csv", bytes(data), HEADER)
    assert exc.value.line == 3


def test_utf16_file_loads_with_the_counts_of_the_utf8_file(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_bytes(b"\xfe\xff" + STREET.read_text(encoding="utf-8").encode("utf-16-be"))
    (res,) = duckdb_warehouse.ingest("police-street", path)
    assert (res.status, res.rows_read, res.quarantined) == ("loaded", len(rows_of()) - 1, 0)
    (plain,) = duckdb_warehouse.ingest("police-street", STREET)  # other bytes, so another file
    assert (plain.status, plain.rows_read) == ("loaded", res.rows_read)


# -- NUL bytes ---------------------------------------------------------------------------------------
def test_nul_in_a_field_quarantines_the_row_naming_line_and_column() -> None:
    rows = rows_of(n=400)
    rows[7][6] = "On or near\x00Park Road"  # file line 8
    rows[350][10] = "Under investigation\x00"  # file line 351, beyond the first 64 KB
    data = to_csv(rows).encode("utf-8")
    assert data.index(b"\x00", data.index(b"\x00") + 1) > 65536
    got = read_text_table("f.csv", data, HEADER)
    assert got.rows_read == 400 and got.table.num_rows == 398
    assert got.malformed.line == [8, 351]
    assert got.malformed.column == ["Location", "Last outcome category"]
    assert got.malformed.reason[0] == "Location: the field holds a NUL byte (a damaged file or binary data)"
    assert all("\x00" not in r and "Park" not in r for r in got.malformed.reason)  # not the value
    assert got.malformed.raw[0] == ",".join(rows[7]).replace("\x00", "\ufffd")
    assert all("\x00" not in r for r in got.malformed.raw)
    assert 8 not in got.table.column("line").to_pylist()


def test_nul_in_a_field_is_quarantined_by_the_exact_reader_too() -> None:
    # Windows-1252 and a quoted line break send the file through the csv-module reader.
    rows = rows_of(n=60)
    rows[2][6] = "On or near Caf\u00e9\nRoad"
    rows[9][6] = "On or near\x00"
    got = read_text_table("f.csv", to_csv(rows).encode("cp1252"), HEADER)
    assert got.encoding == "windows-1252"
    assert got.malformed.line == [11]  # data row 9: header, 8 rows, one extra physical line
    assert got.malformed.column == ["Location"]
    assert got.table.num_rows == 59


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_nul_stored_nowhere_in_the_warehouse(
    request: pytest.FixtureRequest, tmp_path: Path, engine: str
) -> None:
    # PostgreSQL cannot store a NUL in text at all: a NUL reaching it would fail the whole file.
    wh = request.getfixturevalue(f"{engine}_warehouse")
    rows = rows_of(n=100)
    rows[40][0] = rows[40][0][:10] + "\x00" + rows[40][0][10:]  # in a Crime ID: line 41
    rows[70] = rows[70][:5] + ["On or near\x00"]  # a NUL in a row cut short: line 71
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_text(to_csv(rows), encoding="utf-8")
    (res,) = wh.ingest("police-street", path)
    assert (res.rows_read, res.rows_valid, res.quarantined) == (100, 98, 2)
    assert f"{path}:41: Crime ID: the field holds a NUL byte (a damaged file or binary data)" in res.problems
    q = wh.quarantine()
    assert q.line.tolist() == [41, 71] and q.column_name.tolist()[0] == "Crime ID"
    stored = wh.execute(wh.table("police_street"))
    assert not stored.crime_id.dropna().str.contains("\x00").any()
    assert not q.raw.str.contains("\x00").any() and "\ufffd" in q.raw.iloc[0]


def test_a_file_of_nul_bytes_is_still_binary() -> None:
    data = ",".join(HEADER).encode() + b"\n" + b"\x00" * 5000
    with pytest.raises(InputError, match="NUL bytes"):
        read_text_table("f.csv", data, HEADER)


# -- long fields -------------------------------------------------------------------------------------
@pytest.mark.parametrize("reader", ["arrow", "csv-module"])
def test_field_over_the_limit_refuses_the_file_naming_line_and_column(reader: str) -> None:
    rows = rows_of(n=50)
    rows[20][6] = "x" * 200_000  # file line 21
    if reader == "csv-module":
        rows[3][6] = "On or near\nTwo lines"  # file line 5 spans two: row 20 is on line 22
    with pytest.raises(InputError) as exc:
        read_text_table("f.csv", to_csv(rows).encode("utf-8"), HEADER)
    assert (exc.value.line, exc.value.column) == (21 if reader == "arrow" else 22, "Location")
    assert "200,000 characters" in str(exc.value) and "\n" not in str(exc.value)


def test_field_at_the_limit_loads() -> None:
    rows = rows_of(n=10)
    rows[4][6] = "y" * FIELD_LIMIT
    got = read_text_table("f.csv", to_csv(rows).encode("utf-8"), HEADER)
    assert got.table.column("Location")[3].as_py() == "y" * FIELD_LIMIT


def test_long_header_name_is_cut_in_the_message() -> None:
    rows = rows_of(n=3)
    rows[0][6] = "L" * 200_000
    with pytest.raises(InputError) as exc:
        read_text_table("f.csv", to_csv(rows).encode("utf-8"), HEADER)
    assert exc.value.line == 1 and len(str(exc.value)) < 600


def test_folder_with_a_long_field_in_the_middle_file(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "2022-07-gwent-street.csv").write_bytes(STREET_2022.read_bytes())
    rows = rows_of(n=200)
    rows[100][6] = "z" * 200_000
    (folder / "2023-01-gwent-street.csv").write_text(
        to_csv(rows).replace("2024-06", "2023-01"), encoding="utf-8"
    )
    (folder / "2024-06-gwent-street.csv").write_bytes(STREET.read_bytes())
    results = duckdb_warehouse.ingest("police-street", folder)
    assert [r.status for r in results] == ["loaded", "refused", "loaded"]
    assert results[1].error.startswith(f"{folder / '2023-01-gwent-street.csv'}:101: column 'Location': ")
    st = duckdb_warehouse.status()
    assert st.name.tolist() == ["2022-07-gwent-street.csv", "2024-06-gwent-street.csv"]
    t = duckdb_warehouse.table("police_street")
    months = duckdb_warehouse.execute(t.month.cast("string").value_counts())
    assert sorted(months.iloc[:, 0].str[:7]) == ["2022-07", "2024-06"]  # nothing from 2023-01


# -- decompression -----------------------------------------------------------------------------------
def test_decompression_limit_rules() -> None:
    limit = source_files.DecompressionLimit(max_bytes=100 << 20, max_ratio=100)
    limit.check("f", 50 << 20, 1 << 20)  # 50:1 passes
    limit.check("f", 15 << 20, 1)  # under the floor, any ratio passes
    with pytest.raises(InputError, match="more than 100 times"):
        limit.check("f", 17 << 20, 100_000)
    with pytest.raises(InputError, match="over the limit of 104,857,600"):
        limit.check("f", (100 << 20) + 1, 50 << 20)


def test_gzip_over_the_size_limit_refused(duckdb_warehouse: Warehouse, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    gz = tmp_path / "2024-06-gwent-street.csv.gz"
    gz.write_bytes(gzip.compress(STREET.read_bytes()))
    monkeypatch.setenv("DIOGEL_MAX_UNZIPPED_BYTES", "100000")
    (res,) = duckdb_warehouse.ingest("police-street", gz)
    assert res.status == "refused"
    assert res.error.startswith(f"{gz}: decompresses to over ") and "limit of 100,000" in res.error
    monkeypatch.delenv("DIOGEL_MAX_UNZIPPED_BYTES")
    (res,) = duckdb_warehouse.ingest("police-street", gz)
    assert res.status == "loaded"


def test_gzip_bomb_refused_while_streaming(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    gz = tmp_path / "2024-06-gwent-street.csv.gz"
    zero_bomb().write_gz_bomb(gz, mib=40)
    assert gz.stat().st_size < 100_000
    with pytest.raises(InputError, match="decompression bomb") as exc:
        source_files.InputFile(str(gz), gz).read()
    # Refused as soon as the output passed the floor, long before the 40 MiB were out.
    out = int(str(exc.value).split("over ")[1].split(" bytes")[0].replace(",", ""))
    assert source_files.RATIO_FLOOR < out <= source_files.RATIO_FLOOR + source_files.CHUNK
    # With the ratio raised, the zeros come out whole (and the CSV reader calls them binary).
    monkeypatch.setenv("DIOGEL_MAX_UNZIP_RATIO", "1e9")
    assert source_files.InputFile(str(gz), gz).read() == bytes(40 << 20)


def test_zip_bomb_refuses_the_archive_before_anything_loads(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    bomb = tmp_path / "police.zip"
    zero_bomb().write_zip_bomb(bomb, "2024-06/2024-06-gwent-street.csv", mib=40)
    with zipfile.ZipFile(bomb) as zf:  # a valid archive: Python's zipfile reads it back
        assert zf.getinfo("2024-06/2024-06-gwent-street.csv").file_size == 40 << 20
    with pytest.raises(InputError, match="declares 41,943,040 bytes from .* decompression bomb"):
        duckdb_warehouse.ingest("police-street", bomb)
    assert duckdb_warehouse.status().empty


def _patch_central_size(path: Path, size: int) -> None:
    """Make the archive's central directory understate its only member's uncompressed size."""
    data = bytearray(path.read_bytes())
    at = data.rindex(b"PK\x01\x02")
    data[at + 24 : at + 28] = struct.pack("<I", size)
    path.write_bytes(bytes(data))


def test_zip_member_that_lies_about_its_size_is_refused_in_one_line(tmp_path: Path) -> None:
    archive = tmp_path / "police.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-06/2024-06-gwent-street.csv", STREET.read_bytes())
    _patch_central_size(archive, 1000)  # zipfile stops at the declared size, then the CRC fails
    (item,) = source_files.expand(archive, _street_kind())
    with pytest.raises(InputError, match="damaged or unreadable archive member") as exc:
        item.read()
    assert "\n" not in str(exc.value) and str(exc.value).startswith(f"{archive}!2024-06/")


def test_accepted_archive_member_is_its_bytes(tmp_path: Path) -> None:
    archive = tmp_path / "police.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-06/2024-06-gwent-street.csv", STREET.read_bytes())
    (item,) = source_files.expand(archive, _street_kind())
    assert item.read() == STREET.read_bytes()


def _street_kind():  # noqa: ANN202
    from diogel.sources.registry import get

    return get("police-street")


# -- Northern Ireland --------------------------------------------------------------------------------
def test_psni_file_refused_by_name(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "2024-06-northern-ireland-street.csv"
    path.write_bytes(STREET.read_bytes())  # the name alone refuses it, whatever is inside
    (res,) = duckdb_warehouse.ingest("police-street", path)
    assert res.status == "refused"
    assert res.error.startswith(f"{path}: out of scope: a Police Service of Northern Ireland file")


@pytest.mark.parametrize(("kind", "source"), [("police-street", STREET), ("police-outcomes", OUTCOMES)])
def test_psni_rows_refuse_the_file_whatever_its_name(
    duckdb_warehouse: Warehouse, tmp_path: Path, kind: str, source: Path
) -> None:
    rows = rows_of(source)
    for r in rows[30:]:
        r[2] = r[3] = PSNI  # Reported by, Falls within
    path = tmp_path / source.name
    path.write_text(to_csv(rows), encoding="utf-8")
    (res,) = duckdb_warehouse.ingest(kind, path)
    assert res.status == "refused"
    assert res.error.startswith(f"{path}:31: column 'Reported by': out of scope")
    assert duckdb_warehouse.status().empty  # never half a file


def test_psni_stop_and_search_refused_by_name(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "2024-06-northern-ireland-stop-and-search.csv"
    path.write_bytes(STOP_SEARCH.read_bytes())
    (res,) = duckdb_warehouse.ingest("police-stop-search", path)
    assert res.status == "refused" and "out of scope" in res.error


def test_national_download_loads_all_but_psni(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    rows = rows_of()
    for r in rows[1:]:
        r[2] = r[3] = PSNI
        r[7] = r[8] = ""  # PSNI rows have no LSOA
    archive = tmp_path / "2024-06.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(STREET, "2024-06/2024-06-gwent-street.csv")
        zf.writestr("2024-06/2024-06-northern-ireland-street.csv", to_csv(rows))
        zf.write(STREET_2022, "2022-07/2022-07-gwent-street.csv")
    results = duckdb_warehouse.ingest("police-street", archive)
    assert [(Path(r.name).name, r.status) for r in results] == [
        ("2022-07-gwent-street.csv", "loaded"),
        ("2024-06-gwent-street.csv", "loaded"),
        ("2024-06-northern-ireland-street.csv", "refused"),
    ]
    assert duckdb_warehouse.status().rows_read.sum() == len(rows_of(STREET_2022)) - 1 + len(rows) - 1
    t = duckdb_warehouse.table("police_street")
    assert duckdb_warehouse.execute(t.filter(t.reported_by == PSNI).count()) == 0


def test_rows_mentioning_northern_ireland_elsewhere_still_load() -> None:
    from diogel.sources import policeuk_street

    rows = rows_of(n=20)
    rows[5][6] = "On or near Northern Ireland Road"
    parsed = policeuk_street.read("f.csv", to_csv(rows).encode("utf-8"))
    assert parsed.rows.num_rows == 20


def test_arrow_table_types_unchanged() -> None:
    got = read_text_table("f.csv", to_csv(rows_of(n=5)).encode("utf-8"), HEADER)
    assert got.table.schema.field("line").type == pa.int64()
    assert all(got.table.schema.field(c).type == pa.string() for c in HEADER if c in got.table.column_names)


def test_a_file_gone_since_it_was_listed_is_one_line(tmp_path: Path) -> None:
    gone = tmp_path / "2024-06-gwent-street.csv"
    with pytest.raises(InputError, match="cannot read the file") as exc:
        source_files.InputFile(str(gone), gone).read()
    assert str(exc.value).startswith(f"{gone}: ")
