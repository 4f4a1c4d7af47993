"""Bad input: what analysts really hand diogel, and what diogel must do with each.

For every case the test checks (a) the message is one line naming the file and, where it applies,
the line and the column; (b) nothing already loaded is lost: a good month (Gwent, July 2022) is
loaded first and after the bad file its counts are unchanged, and only the good rows of the bad
file were added; (c) through the command line, a refused file gives a non-zero exit code and one
line of output.

Bad files are built here from the real fixture ``policeuk/2024-06-gwent-street.csv`` (its rows,
re-encoded, truncated or with one field changed); the other file types are real files made by
openpyxl and matplotlib.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from conftest import POLICE
from diogel.cli import app
from diogel.warehouse.core import Warehouse

SRC = POLICE / "2024-06-gwent-street.csv"  # the file the bad inputs are made from
GOOD = POLICE / "2022-07-gwent-street.csv"  # loaded before every bad file
GOOD_ROWS = 5388  # data lines of GOOD: 933 ASB rows (no ID) + 4,455 distinct Crime IDs

runner = CliRunner()


# -- helpers -------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _duckdb_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command line reads DIOGEL_WAREHOUSE; these tests are about input, on the default engine.
    monkeypatch.delenv("DIOGEL_WAREHOUSE", raising=False)
    monkeypatch.delenv("DIOGEL_MAX_UNZIPPED_BYTES", raising=False)


@pytest.fixture(scope="module")
def _loaded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("template") / "data"
    result = cli(data, "ingest", "police-street", str(GOOD))
    assert result.exit_code == 0, result.output
    assert counts_by_month(data) == {"2022-07": GOOD_ROWS}
    return data


@pytest.fixture
def data_dir(_loaded_template: Path, tmp_path: Path) -> Path:
    """A warehouse holding the good month only (a copy, so each test starts from the same state)."""
    data = tmp_path / "data"
    shutil.copytree(_loaded_template, data)
    return data


def cli(data_dir: Path, *args: str) -> Result:
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


def counts_by_month(data_dir: Path) -> dict[str, int]:
    result = cli(data_dir, "counts", "--by", "month")
    assert result.exit_code == 0, result.output
    return {r["month"]: int(r["count"]) for r in csv.DictReader(io.StringIO(result.stdout))}


def good_file_status(data_dir: Path) -> list[tuple]:
    with Warehouse(None, data_dir) as wh:
        st = wh.status()
    st = st[st.name == GOOD.name]
    return [
        tuple(r) for r in st[["rows_read", "loaded", "duplicates", "quarantined"]].itertuples(index=False)
    ]


def quarantine(data_dir: Path):  # noqa: ANN201
    with Warehouse(None, data_dir) as wh:
        return wh.quarantine()


def source_rows(n: int | None = None) -> list[list[str]]:
    """The header and the first ``n`` data rows of the real 2024-06 file, as lists of fields."""
    with SRC.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows if n is None else rows[: n + 1]


def to_csv(rows: list[list[str]], newline: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    return buf.getvalue()


def expected_count(data_rows: list[list[str]]) -> int:
    """Crimes and ASB under the counting rules: every blank-ID row, each Crime ID once."""
    ids = [r[0] for r in data_rows]
    return sum(1 for i in ids if not i) + len({i for i in ids if i})


def output_lines(result: Result) -> list[str]:
    return [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]


def assert_refused(
    result: Result, path: Path, line: int | None = None, column: str | None = None, words: tuple = ()
) -> str:
    """The command failed and said so in exactly one line naming the file (and line, column)."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = output_lines(result)
    assert len(lines) == 1, lines
    msg = lines[0]
    assert str(path) in msg
    if line is not None:
        assert f"{path}:{line}:" in msg
    if column is not None:
        assert f"'{column}'" in msg
    for w in words:
        assert w.lower() in msg.lower(), (w, msg)
    return msg


def assert_nothing_lost(data_dir: Path, before: list[tuple], added: dict[str, int] | None = None) -> None:
    assert good_file_status(data_dir) == before
    assert counts_by_month(data_dir) == {"2022-07": GOOD_ROWS, **(added or {})}


def quarantined_lines(result: Result, path: Path) -> list[str]:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip().startswith("quarantined")]
    for ln in lines:
        assert str(path) in ln
    return lines


# -- refused files -------------------------------------------------------------------------------
def test_wrong_header_renamed_column(data_dir: Path, tmp_path: Path) -> None:
    before = good_file_status(data_dir)
    bad = tmp_path / "2024-06-gwent-street.csv"
    bad.write_bytes(SRC.read_bytes().replace(b"Crime type", b"Crime category", 1))
    result = cli(data_dir, "ingest", "police-street", str(bad))
    msg = assert_refused(result, bad, line=1, column="Crime type", words=("header", "Crime category"))
    assert msg.startswith("refused")
    assert_nothing_lost(data_dir, before)


def test_wrong_header_missing_column(data_dir: Path, tmp_path: Path) -> None:
    before = good_file_status(data_dir)
    rows = source_rows(100)
    without = [r[:9] + r[10:] for r in rows]  # "Crime type" dropped from the header and every row
    assert "Crime type" not in without[0]
    bad = tmp_path / "2024-06-gwent-street.csv"
    bad.write_text(to_csv(without), encoding="utf-8")
    result = cli(data_dir, "ingest", "police-street", str(bad))
    assert_refused(result, bad, line=1, column="Crime type", words=("missing",))
    assert_nothing_lost(data_dir, before)


def _xlsx_bytes(tmp_path: Path) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for row in source_rows(5):
        wb.active.append(row)
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path.read_bytes()


def _figure_bytes(fmt: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    plt.close(fig)
    return buf.getvalue()


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-06-gwent-street.csv", SRC.read_bytes())
    return buf.getvalue()


@pytest.mark.parametrize(("what", "word"), [("xlsx", "xlsx"), ("zip", "zip"), ("pdf", "PDF"), ("png", "PNG")])
def test_other_file_type_renamed_csv(data_dir: Path, tmp_path: Path, what: str, word: str) -> None:
    before = good_file_status(data_dir)
    data = {
        "xlsx": lambda: _xlsx_bytes(tmp_path),
        "zip": _zip_bytes,
        "pdf": lambda: _figure_bytes("pdf"),
        "png": lambda: _figure_bytes("png"),
    }[what]()
    # The real magic numbers: the test is about what the files are, not about how they are named.
    assert data[:4] in (b"PK\x03\x04", b"%PDF", b"\x89PNG")
    bad = tmp_path / "2024-06-gwent-street.csv"
    bad.write_bytes(data)
    result = cli(data_dir, "ingest", "police-street", str(bad))
    assert_refused(result, bad, words=("not a CSV", word))
    assert_nothing_lost(data_dir, before)


@pytest.mark.parametrize("content", [b"", b"\n\r\n  \n"], ids=["zero-bytes", "blank-lines"])
def test_empty_file_refused(data_dir: Path, tmp_path: Path, content: bytes) -> None:
    before = good_file_status(data_dir)
    bad = tmp_path / "2024-07-gwent-street.csv"
    bad.write_bytes(content)
    result = cli(data_dir, "ingest", "police-street", str(bad))
    assert_refused(result, bad, words=("empty",))
    assert_nothing_lost(data_dir, before)


def test_zip_with_unexpected_member_refused(data_dir: Path, tmp_path: Path) -> None:
    before = good_file_status(data_dir)
    archive = tmp_path / "police-archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-06/2024-06-gwent-street.csv", SRC.read_bytes())
        zf.writestr("2024-06/open-me.exe", b"MZ\x90\x00")
    result = cli(data_dir, "ingest", "police-street", str(archive))
    assert_refused(result, archive, words=("unexpected member", "2024-06/open-me.exe"))
    # The good member is not loaded either: the archive is refused as a whole.
    assert_nothing_lost(data_dir, before)


def test_zip_over_the_unzipped_size_limit_refused(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = good_file_status(data_dir)
    archive = tmp_path / "police-archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-06/2024-06-gwent-street.csv", SRC.read_bytes())
    assert archive.stat().st_size < SRC.stat().st_size  # compressed below, decompressed above
    monkeypatch.setenv("DIOGEL_MAX_UNZIPPED_BYTES", str(100_000))
    result = cli(data_dir, "ingest", "police-street", str(archive))
    assert_refused(result, archive, words=("limit", "100,000"))
    assert_nothing_lost(data_dir, before)
    # The same archive under the default limit loads: it was the size, not the archive, refused.
    monkeypatch.delenv("DIOGEL_MAX_UNZIPPED_BYTES")
    assert cli(data_dir, "ingest", "police-street", str(archive)).exit_code == 0
    assert counts_by_month(data_dir) == {"2022-07": GOOD_ROWS, "2024-06": 6274}


# -- files that load, with or without quarantined rows ----------------------------------------
def test_windows_1252_loads_and_decodes(data_dir: Path, tmp_path: Path) -> None:
    before = good_file_status(data_dir)
    rows = [r for r in source_rows(300) if all(_cp1252_ok(v) for v in r)]
    rows[1][6] = "On or near Caf\u00e9 \u00a3 Stryd"  # 'é' is 0xE9 and '£' 0xA3 in Windows-1252
    data = to_csv(rows, newline="\r\n").encode("cp1252")
    assert b"Caf\xe9 \xa3" in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_bytes(data)
    result = cli(data_dir, "ingest", "police-street", str(path))
    assert result.exit_code == 0, result.output
    assert_nothing_lost(data_dir, before, {"2024-06": expected_count(rows[1:])})
    with Warehouse(None, data_dir) as wh:
        t = wh.table("police_street")
        got = wh.execute(t.filter(t.month == dt.date(2024, 6, 1), t.line == 2).select("location"))
    assert got.location.tolist() == ["On or near Caf\u00e9 \u00a3 Stryd"]


def _cp1252_ok(value: str) -> bool:
    try:
        value.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def test_utf8_with_bom_loads_with_crime_id_first(data_dir: Path, tmp_path: Path) -> None:
    from diogel.sources._text import read_text_table
    from diogel.sources.policeuk_street import HEADER

    before = good_file_status(data_dir)
    rows = source_rows(200)
    data = b"\xef\xbb\xbf" + to_csv(rows).encode("utf-8")
    assert read_text_table("bom.csv", data, HEADER).table.column_names[0] == "Crime ID"
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_bytes(data)
    result = cli(data_dir, "ingest", "police-street", str(path))
    assert result.exit_code == 0, result.output
    assert_nothing_lost(data_dir, before, {"2024-06": expected_count(rows[1:])})
    with Warehouse(None, data_dir) as wh:
        t = wh.table("police_street")
        got = wh.execute(t.filter(t.month == dt.date(2024, 6, 1)).order_by("line").select("crime_id"))
    # The first column's values survive the BOM: blank (ASB) stays None, IDs are the file's IDs.
    assert [x if isinstance(x, str) else "" for x in got.crime_id] == [r[0] for r in rows[1:]]


def test_crlf_loads_with_the_same_counts_as_lf(data_dir: Path, tmp_path: Path) -> None:
    before = good_file_status(data_dir)
    crlf = tmp_path / "2024-06-gwent-street.csv"
    crlf.write_bytes(SRC.read_bytes().replace(b"\n", b"\r\n"))
    assert crlf.read_bytes().count(b"\r\n") == 6275
    result = cli(data_dir, "ingest", "police-street", str(crlf))
    assert result.exit_code == 0, result.output
    assert_nothing_lost(data_dir, before, {"2024-06": 6274})
    by_type = cli(data_dir, "counts", "--by", "crime_type", "--from", "2024-06", "--to", "2024-06")
    got = {r["crime_type"]: int(r["count"]) for r in csv.DictReader(io.StringIO(by_type.stdout))}
    assert got == dict(Counter(r[9] for r in source_rows()[1:]))
    with Warehouse(None, data_dir) as wh:
        t = wh.table("police_street")
        got = wh.execute(t.filter(t.month == dt.date(2024, 6, 1)).select("last_outcome"))
    assert not any("\r" in o for o in got.last_outcome.dropna())


def test_truncated_last_line(data_dir: Path, tmp_path: Path) -> None:
    before = good_file_status(data_dir)
    rows = source_rows(120)
    text = to_csv(rows)
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    cut = text[: len(text) - len(last) - 1 + 60]  # the download stopped 60 characters into it
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_text(cut, encoding="utf-8")
    last_line = cut.count("\n") + 1  # the physical line of the truncated row
    assert last_line == 121
    result = cli(data_dir, "ingest", "police-street", str(path))
    assert result.exit_code == 0, result.output
    problems = quarantined_lines(result, path)
    assert len(problems) == 1 and f"{path}:{last_line}:" in problems[0]
    assert_nothing_lost(data_dir, before, {"2024-06": expected_count(rows[1:-1])})
    q = quarantine(data_dir)
    assert q.line.tolist() == [last_line]
    assert q.raw.iloc[0] == cut.rsplit("\n", 1)[1]


def _quarantine_case(data_dir: Path, tmp_path: Path, rows: list[list[str]], bad_index: list[int]):  # noqa: ANN202
    before = good_file_status(data_dir)
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_text(to_csv(rows), encoding="utf-8")
    result = cli(data_dir, "ingest", "police-street", str(path))
    assert result.exit_code == 0, result.output
    good = [r for i, r in enumerate(rows) if i and i not in bad_index]
    assert_nothing_lost(data_dir, before, {"2024-06": expected_count(good)})
    return path, result, quarantine(data_dir)


def test_coordinates_out_of_range_quarantined(data_dir: Path, tmp_path: Path) -> None:
    rows = source_rows(80)
    rows[10][4] = "12.500000"  # a longitude east of Germany; physical line 11
    rows[20][5] = "95.000000"  # not a latitude at all; physical line 21
    rows[30][4], rows[30][5] = rows[30][5], rows[30][4]  # latitude and longitude swapped; line 31
    path, result, q = _quarantine_case(data_dir, tmp_path, rows, [10, 20, 30])
    assert q.line.tolist() == [11, 21, 31]
    assert q.column_name.tolist() == ["Longitude", "Latitude", "Longitude"]
    assert "12.5" in q.reason.iloc[0] and "95.0" in q.reason.iloc[1]
    problems = quarantined_lines(result, path)
    assert [p.split(f"{path}:")[1].split(":")[0] for p in problems] == ["11", "21", "31"]
    assert "Longitude" in problems[0] and "Latitude" in problems[1]


def test_unknown_crime_type_quarantined(data_dir: Path, tmp_path: Path) -> None:
    rows = source_rows(60)
    rows[7][9] = "Fraud"  # not a police.uk street category
    rows[8][9] = "burglary"  # police.uk's categories are sentence case and exact
    path, result, q = _quarantine_case(data_dir, tmp_path, rows, [7, 8])
    assert q.line.tolist() == [8, 9]
    assert set(q.column_name) == {"Crime type"}
    assert "Fraud" in q.reason.iloc[0]
    problems = quarantined_lines(result, path)
    assert len(problems) == 2 and f"{path}:8: Crime type" in problems[0]


def test_month_in_the_future_quarantined(data_dir: Path, tmp_path: Path) -> None:
    future = (dt.date.today().replace(day=1) + dt.timedelta(days=62)).strftime("%Y-%m")
    rows = source_rows(60)
    rows[12][1] = future
    path, result, q = _quarantine_case(data_dir, tmp_path, rows, [12])
    assert q.line.tolist() == [13]
    assert q.column_name.tolist() == ["Month"]
    assert future in q.reason.iloc[0] and "future" in q.reason.iloc[0]
    assert f"{path}:13: Month" in quarantined_lines(result, path)[0]


def test_quoted_newline_keeps_later_line_numbers(data_dir: Path, tmp_path: Path) -> None:
    rows = source_rows(60)
    rows[5][6] = "On or near Heol\nY Bont"  # a location pasted with a line break (quoted in the CSV)
    rows[40][9] = "Jaywalking"
    path, result, q = _quarantine_case(data_dir, tmp_path, rows, [40])
    physical = [
        i + 1 for i, ln in enumerate(path.read_text(encoding="utf-8").split("\n")) if "Jaywalking" in ln
    ]
    assert physical == [42]  # data row 40 is on line 42: header, 39 rows before, one extra line
    assert q.line.tolist() == physical
    assert f"{path}:42: Crime type" in quarantined_lines(result, path)[0]
    with Warehouse(None, data_dir) as wh:
        t = wh.table("police_street")
        got = wh.execute(t.filter(t.month == dt.date(2024, 6, 1), t.line == 6).select("location"))
    assert got.location.tolist() == ["On or near Heol\nY Bont"]  # data row 5 starts on line 6


# -- further real-world inputs -----------------------------------------------------------------
def test_blank_lines_are_not_rows(data_dir: Path, tmp_path: Path) -> None:
    # Files saved by hand often end with an empty line or two; _text.py's exact reader skips blank
    # lines ("a blank line is not a row"), so the count must not depend on which reader ran.
    before = good_file_status(data_dir)
    rows = source_rows(50)
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_text(to_csv(rows) + "\n\n", encoding="utf-8")
    result = cli(data_dir, "ingest", "police-street", str(path))
    assert result.exit_code == 0, result.output
    assert_nothing_lost(data_dir, before, {"2024-06": 50})
    assert quarantine(data_dir).empty
    with Warehouse(None, data_dir) as wh:
        st = wh.status()
    assert st[st.name == path.name].rows_read.tolist() == [50]


def test_old_mac_cr_line_ends_do_not_crash(data_dir: Path, tmp_path: Path) -> None:
    # Excel for Mac's "CSV (Macintosh)" ends lines with a bare CR. Loading it or refusing it in one
    # line are both acceptable; a traceback is not.
    before = good_file_status(data_dir)
    rows = source_rows(50)
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_text(to_csv(rows, newline="\r"), encoding="utf-8", newline="")
    result = cli(data_dir, "ingest", "police-street", str(path))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 0:
        assert_nothing_lost(data_dir, before, {"2024-06": 50})
    else:
        assert_refused(result, path)
        assert_nothing_lost(data_dir, before)


def test_file_name_with_brackets_is_reported_verbatim(data_dir: Path, tmp_path: Path) -> None:
    # Square brackets are Rich markup: the message must still name the file as it is on disk.
    before = good_file_status(data_dir)
    bad = tmp_path / "street [copy].csv"
    bad.write_bytes(SRC.read_bytes().replace(b"Crime type", b"Crime category", 1))
    result = cli(data_dir, "ingest", "police-street", str(bad))
    assert_refused(result, bad, line=1, column="Crime type")
    assert_nothing_lost(data_dir, before)


def test_python_api_refusal_is_one_line(tmp_path: Path) -> None:
    with Warehouse(None, tmp_path / "data") as wh:
        wh.ingest("police-street", GOOD)
        bad = tmp_path / "2024-06-gwent-street.csv"
        bad.write_bytes(SRC.read_bytes().replace(b",Context", b"", 1))
        (res,) = wh.ingest("police-street", bad)
        assert res.status == "refused"
        assert res.error.count("\n") == 0
        assert res.error.startswith(f"{bad}:1: column 'Context':")
        assert wh.status().rows_read.tolist() == [GOOD_ROWS]
