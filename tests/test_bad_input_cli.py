"""The bad-input corpus through the real command line: ``python -m diogel.cli`` as a subprocess.

Every case of ``test_bad_input.py`` (which calls the CLI in-process) and every hostile input of
issue 11 runs here as a user runs it: a child process over a copy of one warehouse holding a good
month (Gwent, July 2022). For each case the test checks:

- no "Traceback" anywhere in stdout or stderr;
- a refused input: exit code 1 or 2 and exactly one line of output, naming the file (and the line
  and column where there is one), and the warehouse's status identical to before;
- an input that loads (possibly with quarantined rows): exit code 0, the good month untouched,
  rows read = loaded + duplicates + quarantined, the counts of the new month equal to the csv
  module's count of the good rows, each quarantined row reported as ``file:line:``;
- a folder or archive with one bad file: exactly one refused line naming it; the others load.

The zero bombs (1 GB of zeros as .zip and .gz, built as a stream in tmp_path) also assert the
child's peak resident set size under 600 MB: the high-water mark ``VmHWM`` of the child's own
memory, sampled from ``/proc`` while it runs. (``ru_maxrss`` from ``os.wait4`` is not the child's
own: Linux keeps the high-water mark of the image a child replaced at ``exec``, a copy of this test
process, which after a few hundred tests is well over 600 MB by itself.)
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from diogel.warehouse.core import Warehouse
from diogel.warehouse.queries import counts
from test_bad_input import (
    GOOD,
    GOOD_ROWS,
    SRC,
    _cp1252_ok,
    _figure_bytes,
    _xlsx_bytes,
    _zip_bytes,
    expected_count,
    source_rows,
    to_csv,
)
from test_hostile_input import zero_bomb

# About 2 CPU-seconds a case (a fresh interpreter importing diogel), 40-odd cases: slow as a whole.
pytestmark = pytest.mark.slow

PSNI = "Police Service of Northern Ireland"
MAX_RSS_MIB = 600


@dataclass
class Spec:
    """One run of ``diogel --data-dir DATA ARGS`` and what it must do."""

    args: list[str]
    named: Path | str  # the file the refusal (or the quarantine lines) must name
    outcome: str = "refused"  # "refused", "loaded" or "partly" (a folder: one refused, others load)
    line: int | None = None
    column: str | None = None
    words: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)  # months the input adds: count under the rules
    quarantined: list[int] = field(default_factory=list)  # lines quarantined (outcome "loaded")
    either: bool = False  # loading or a one-line refusal are both acceptable
    max_rss_mib: float | None = None


CASES: dict[str, Callable[[Path], Spec]] = {}


def case(fn: Callable[[Path], Spec]) -> Callable[[Path], Spec]:
    CASES[fn.__name__] = fn
    return fn


def ingest(path: Path, kind: str = "police-street") -> list[str]:
    return ["ingest", kind, str(path)]


def write(tmp: Path, data: bytes | str, name: str = "2024-06-gwent-street.csv") -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


# -- refused: the cases of test_bad_input.py ----------------------------------------------------------
@case
def wrong_header_renamed_column(tmp: Path) -> Spec:
    p = write(tmp, SRC.read_bytes().replace(b"Crime type", b"Crime category", 1))
    return Spec(ingest(p), p, line=1, column="Crime type", words=("header", "Crime category"))


@case
def wrong_header_missing_column(tmp: Path) -> Spec:
    p = write(tmp, to_csv([r[:9] + r[10:] for r in source_rows(100)]))
    return Spec(ingest(p), p, line=1, column="Crime type", words=("missing",))


@case
def xlsx_renamed_csv(tmp: Path) -> Spec:
    p = write(tmp, _xlsx_bytes(tmp))
    return Spec(ingest(p), p, words=("not a CSV", "xlsx"))


@case
def zip_renamed_csv(tmp: Path) -> Spec:
    p = write(tmp, _zip_bytes())
    return Spec(ingest(p), p, words=("not a CSV", "zip"))


@case
def pdf_renamed_csv(tmp: Path) -> Spec:
    p = write(tmp, _figure_bytes("pdf"))
    return Spec(ingest(p), p, words=("not a CSV", "PDF"))


@case
def png_renamed_csv(tmp: Path) -> Spec:
    p = write(tmp, _figure_bytes("png"))
    return Spec(ingest(p), p, words=("not a CSV", "PNG"))


@case
def empty_zero_bytes(tmp: Path) -> Spec:
    p = write(tmp, b"", "2024-07-gwent-street.csv")
    return Spec(ingest(p), p, words=("empty",))


@case
def empty_blank_lines(tmp: Path) -> Spec:
    p = write(tmp, b"\n\r\n  \n", "2024-07-gwent-street.csv")
    return Spec(ingest(p), p, words=("empty",))


@case
def zip_with_unexpected_member(tmp: Path) -> Spec:
    archive = tmp / "police-archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-06/2024-06-gwent-street.csv", SRC.read_bytes())
        zf.writestr("2024-06/open-me.exe", b"MZ\x90\x00")
    return Spec(ingest(archive), archive, words=("unexpected member", "2024-06/open-me.exe"))


@case
def zip_over_the_unzipped_size_limit(tmp: Path) -> Spec:
    archive = tmp / "police-archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-06/2024-06-gwent-street.csv", SRC.read_bytes())
    return Spec(
        ingest(archive), archive, words=("limit", "100,000"), env={"DIOGEL_MAX_UNZIPPED_BYTES": "100000"}
    )


@case
def file_name_with_brackets(tmp: Path) -> Spec:
    p = write(tmp, SRC.read_bytes().replace(b"Crime type", b"Crime category", 1), "street [copy].csv")
    return Spec(ingest(p), p, line=1, column="Crime type")


# -- refused: new hostile input ---------------------------------------------------------------------
@case
def field_of_200_kb(tmp: Path) -> Spec:
    rows = source_rows(200)
    rows[60][6] = "x" * 200_000  # line 61
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)  # every field quoted
    p = write(tmp, buf.getvalue())
    return Spec(ingest(p), p, line=61, column="Location", words=("200,00", "limit"))


@case
def field_of_200_kb_quoted_windows_1252(tmp: Path) -> Spec:
    # Windows-1252 goes through the csv-module reader, which stopped with _csv.Error here.
    rows = [r for r in source_rows(200) if all(_cp1252_ok(v) for v in r)]
    rows[2][6] = "On or near Caf\u00e9"
    rows[80][6] = "a, b\n" * 40_000  # a quoted field of 200,000 characters with line breaks
    p = write(tmp, to_csv(rows).encode("cp1252"))
    return Spec(ingest(p), p, line=81, column="Location", words=("200,000 characters",))


@case
def utf16_without_bom(tmp: Path) -> Spec:
    p = write(tmp, SRC.read_text(encoding="utf-8").encode("utf-16-le"))
    return Spec(ingest(p), p, line=1, words=("UTF-16", "byte-order mark"))


@case
def random_binary(tmp: Path) -> Spec:
    p = write(tmp, random.Random(11).randbytes(50_000))
    return Spec(ingest(p), p)


@case
def northern_ireland_by_name(tmp: Path) -> Spec:
    rows = source_rows()
    for r in rows[1:]:
        r[2] = r[3] = PSNI
    p = write(tmp, to_csv(rows), "2024-06-northern-ireland-street.csv")
    return Spec(ingest(p), p, words=("out of scope", "Northern Ireland"))


@case
def northern_ireland_rows_in_a_renamed_file(tmp: Path) -> Spec:
    rows = source_rows()
    for r in rows[1:]:
        r[2] = r[3] = PSNI
    p = write(tmp, to_csv(rows), "2024-06-someforce-street.csv")
    return Spec(ingest(p), p, line=2, column="Reported by", words=("out of scope",))


@case
def corrupt_gzip(tmp: Path) -> Spec:
    p = write(tmp, gzip.compress(SRC.read_bytes())[:5000], "2024-06-gwent-street.csv.gz")
    return Spec(ingest(p), p, words=("gzip",))


@case
def zip_member_escaping_the_archive(tmp: Path) -> Spec:
    archive = tmp / "police-archive.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../2024-06-gwent-street.csv", SRC.read_bytes())
    return Spec(ingest(archive), archive, words=("unsafe member path",))


@case
def zip_member_encrypted(tmp: Path) -> Spec:
    archive = tmp / "police-archive.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2024-06/2024-06-gwent-street.csv", SRC.read_bytes())
    data = bytearray(archive.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set "encrypted" in both headers
        at = data.index(signature) + flags_at
        data[at] |= 1
    archive.write_bytes(bytes(data))
    return Spec(ingest(archive), f"{archive}!2024-06/2024-06-gwent-street.csv", words=("encrypted",))


@case
def text_named_zip(tmp: Path) -> Spec:
    archive = write(tmp, SRC.read_bytes(), "2024-06.zip")
    return Spec(ingest(archive), archive, words=("not a readable zip",))


@case
def no_such_file(tmp: Path) -> Spec:
    p = tmp / "missing" / "2024-06-gwent-street.csv"
    return Spec(ingest(p), p, words=("no such file",))


@case
def unknown_kind(tmp: Path) -> Spec:
    p = write(tmp, SRC.read_bytes())
    return Spec(ingest(p, kind="police-streets"), "police-streets", words=("unknown source kind",))


def _bomb_zip(tmp: Path) -> Spec:
    archive = tmp / "2024-06.zip"
    zero_bomb().write_zip_bomb(archive, "2024-06/2024-06-gwent-street.csv")
    assert archive.stat().st_size < 1_100_000
    return Spec(ingest(archive), archive, words=("decompression bomb",), max_rss_mib=MAX_RSS_MIB)


def _bomb_gz(tmp: Path) -> Spec:
    p = tmp / "2024-06-gwent-street.csv.gz"
    zero_bomb().write_gz_bomb(p)
    assert p.stat().st_size < 1_100_000
    return Spec(ingest(p), p, words=("decompression bomb",), max_rss_mib=MAX_RSS_MIB)


CASES["zero_bomb_zip_1gb"] = _bomb_zip
CASES["zero_bomb_gz_1gb"] = _bomb_gz


# -- a folder with one bad file: the others load ---------------------------------------------------
@case
def folder_whose_middle_file_has_a_200_kb_field(tmp: Path) -> Spec:
    folder = tmp / "downloads"
    write(folder, GOOD.read_bytes(), "2022-07/2022-07-gwent-street.csv")  # already loaded
    rows = source_rows(300)
    rows[150][6] = "y" * 200_000
    bad = write(folder, to_csv(rows).replace("2024-06", "2023-01"), "2023-01/2023-01-gwent-street.csv")
    write(folder, SRC.read_bytes(), "2024-06/2024-06-gwent-street.csv")
    return Spec(ingest(folder), bad, outcome="partly", line=151, column="Location", added={"2024-06": 6274})


@case
def folder_with_a_northern_ireland_file(tmp: Path) -> Spec:
    folder = tmp / "2024-06"
    rows = source_rows()
    for r in rows[1:]:
        r[2] = r[3] = PSNI
        r[7] = r[8] = ""
    ni = write(folder, to_csv(rows), "2024-06-northern-ireland-street.csv")
    write(folder, SRC.read_bytes(), "2024-06-gwent-street.csv")
    return Spec(ingest(folder), ni, outcome="partly", words=("out of scope",), added={"2024-06": 6274})


# -- loads: encodings, NUL, and the quarantine cases of test_bad_input.py ------------------------------
def _loads(tmp: Path, rows: list[list[str]], bad: list[int], data: bytes | None = None) -> Spec:
    p = write(tmp, data if data is not None else to_csv(rows))
    good = [r for i, r in enumerate(rows) if i and i not in bad]
    return Spec(ingest(p), p, outcome="loaded", added={"2024-06": expected_count(good)}, quarantined=[])


@case
def utf16_le_with_bom(tmp: Path) -> Spec:
    rows = source_rows()
    return _loads(tmp, rows, [], b"\xff\xfe" + to_csv(rows, "\r\n").encode("utf-16-le"))


@case
def utf16_be_with_bom(tmp: Path) -> Spec:
    rows = source_rows()
    return _loads(tmp, rows, [], b"\xfe\xff" + to_csv(rows).encode("utf-16-be"))


@case
def nul_inside_a_field(tmp: Path) -> Spec:
    rows = source_rows(500)
    rows[42][6] = "On or near \x00Stryd Fawr"  # line 43
    spec = _loads(tmp, rows, [42])
    spec.quarantined = [43]
    spec.column = "Location"
    return spec


@case
def windows_1252(tmp: Path) -> Spec:
    rows = [r for r in source_rows(300) if all(_cp1252_ok(v) for v in r)]
    rows[1][6] = "On or near Caf\u00e9 \u00a3 Stryd"
    return _loads(tmp, rows, [], to_csv(rows, "\r\n").encode("cp1252"))


@case
def utf8_with_bom(tmp: Path) -> Spec:
    rows = source_rows(200)
    return _loads(tmp, rows, [], b"\xef\xbb\xbf" + to_csv(rows).encode("utf-8"))


@case
def crlf(tmp: Path) -> Spec:
    return _loads(tmp, source_rows(), [], SRC.read_bytes().replace(b"\n", b"\r\n"))


@case
def truncated_last_line(tmp: Path) -> Spec:
    rows = source_rows(120)
    text = to_csv(rows)
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    spec = _loads(tmp, rows, [120], text[: len(text) - len(last) - 1 + 60].encode("utf-8"))
    spec.quarantined = [121]
    return spec


@case
def coordinates_out_of_range(tmp: Path) -> Spec:
    rows = source_rows(80)
    rows[10][4] = "12.500000"
    rows[20][5] = "95.000000"
    rows[30][4], rows[30][5] = rows[30][5], rows[30][4]
    spec = _loads(tmp, rows, [10, 20, 30])
    spec.quarantined = [11, 21, 31]
    return spec


@case
def unknown_crime_type(tmp: Path) -> Spec:
    rows = source_rows(60)
    rows[7][9] = "Fraud"
    rows[8][9] = "burglary"
    spec = _loads(tmp, rows, [7, 8])
    spec.quarantined = [8, 9]
    return spec


@case
def month_in_the_future(tmp: Path) -> Spec:
    rows = source_rows(60)
    rows[12][1] = (dt.date.today().replace(day=1) + dt.timedelta(days=62)).strftime("%Y-%m")
    spec = _loads(tmp, rows, [12])
    spec.quarantined = [13]
    return spec


@case
def quoted_newline(tmp: Path) -> Spec:
    rows = source_rows(60)
    rows[5][6] = "On or near Heol\nY Bont"
    rows[40][9] = "Jaywalking"
    spec = _loads(tmp, rows, [40])
    spec.quarantined = [42]
    return spec


@case
def blank_lines_at_the_end(tmp: Path) -> Spec:
    rows = source_rows(50)
    return _loads(tmp, rows, [], (to_csv(rows) + "\n\n").encode("utf-8"))


@case
def old_mac_cr_line_ends(tmp: Path) -> Spec:
    rows = source_rows(50)
    spec = _loads(tmp, rows, [], to_csv(rows, "\r").encode("utf-8"))
    spec.either = True
    return spec


# -- running the cases -----------------------------------------------------------------------------
@dataclass
class Ran:
    exit: int
    stdout: str
    stderr: str
    peak_mib: float

    @property
    def lines(self) -> list[str]:
        return [ln for ln in (self.stdout + self.stderr).splitlines() if ln.strip()]


def run_cli(data: Path, spec: Spec) -> Ran:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIOGEL_") and k != "FORCE_COLOR"}
    env.update(spec.env, NO_COLOR="1")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "diogel.cli", "--data-dir", str(data), *spec.args],
            stdout=out,
            stderr=err,
            env=env,
        )
        peak_kib = 0
        while proc.poll() is None:
            peak_kib = max(peak_kib, _high_water_kib(proc.pid))
            time.sleep(0.01)
        out.seek(0)
        err.seek(0)
        return Ran(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            peak_kib / 1024,
        )


def _high_water_kib(pid: int) -> int:
    """The peak resident set size so far of process ``pid``'s current image (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def snapshot(data: Path) -> tuple[list[dict], dict[str, int], int]:
    """Status per file, counts by month and quarantined rows: what 'the warehouse unchanged' means."""
    with Warehouse(None, data) as wh:
        st = wh.status()
        by_month = counts(wh, ["month"])
        quarantined = len(wh.quarantine())
    records = [{k: str(v) for k, v in r.items()} for r in st.to_dict("records")]
    return (
        records,
        {str(m): int(c) for m, c in zip(by_month.month, by_month["count"], strict=True)},
        quarantined,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple]:
    data = tmp_path_factory.mktemp("cli-template") / "data"
    with Warehouse(None, data) as wh:
        (res,) = wh.ingest("police-street", GOOD)
        assert res.status == "loaded"
    state = snapshot(data)
    assert state[1] == {"2022-07": GOOD_ROWS}
    return data, state


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_through_the_cli(name: str, template: tuple[Path, tuple], tmp_path: Path) -> None:
    source, before = template
    data = tmp_path / "data"
    shutil.copytree(source, data)
    (tmp_path / "input").mkdir()
    spec = CASES[name](tmp_path / "input")
    ran = run_cli(data, spec)
    everything = ran.stdout + ran.stderr
    assert "Traceback" not in everything, everything[-3000:]
    if spec.max_rss_mib is not None:
        # Above 100 MiB: the sampling saw the child (its imports alone take more), so this can fail.
        assert 100 < ran.peak_mib < spec.max_rss_mib, (ran.peak_mib, ran.lines)

    if spec.either and ran.exit != 0:
        spec.outcome = "refused"
    if spec.outcome == "refused":
        assert ran.exit in (1, 2), (ran.exit, ran.lines)
        assert len(ran.lines) == 1, ran.lines
        _names(ran.lines[0], spec)
        assert snapshot(data) == before
        return

    status_before, counts_before, quarantined_before = before
    status, by_month, _quarantined = snapshot(data)
    assert status[: len(status_before)] == status_before  # the good month's file is untouched
    assert by_month == {**counts_before, **spec.added}
    for row in status[len(status_before) :]:
        assert int(row["rows_read"]) == int(row["loaded"]) + int(row["duplicates"]) + int(row["quarantined"])
    if spec.outcome == "partly":
        assert ran.exit == 1, ran.lines
        refused = [ln for ln in ran.lines if ln.startswith(("refused", "error"))]
        assert len(refused) == 1, ran.lines
        _names(refused[0], spec)
        assert all(spec.named.name not in r["name"] for r in status)  # nothing from the refused file
        return

    assert ran.exit == 0, ran.lines
    assert len(status) == len(status_before) + 1
    assert int(status[-1]["quarantined"]) == len(spec.quarantined)
    reported = [ln.strip() for ln in ran.stderr.splitlines() if ln.strip().startswith("quarantined")]
    assert [ln.split(f"{spec.named}:")[1].split(":")[0] for ln in reported] == [
        str(n) for n in spec.quarantined
    ]
    if spec.column:
        assert all(f": {spec.column}:" in ln for ln in reported)


def _names(line: str, spec: Spec) -> None:
    """The line names the file, and the line and column where the spec has them."""
    assert str(spec.named) in line, (spec.named, line)
    if spec.line is not None:
        assert f"{spec.named}:{spec.line}:" in line, line
    if spec.column is not None:
        assert f"column '{spec.column}'" in line, line
    for w in spec.words:
        assert w.lower() in line.lower(), (w, line)


def test_the_corpus_covers_every_case_of_the_in_process_tests() -> None:
    import test_bad_input

    covered = {
        "test_wrong_header_renamed_column": "wrong_header_renamed_column",
        "test_wrong_header_missing_column": "wrong_header_missing_column",
        "test_other_file_type_renamed_csv": "pdf_renamed_csv",
        "test_empty_file_refused": "empty_zero_bytes",
        "test_zip_with_unexpected_member_refused": "zip_with_unexpected_member",
        "test_zip_over_the_unzipped_size_limit_refused": "zip_over_the_unzipped_size_limit",
        "test_windows_1252_loads_and_decodes": "windows_1252",
        "test_utf8_with_bom_loads_with_crime_id_first": "utf8_with_bom",
        "test_crlf_loads_with_the_same_counts_as_lf": "crlf",
        "test_truncated_last_line": "truncated_last_line",
        "test_coordinates_out_of_range_quarantined": "coordinates_out_of_range",
        "test_unknown_crime_type_quarantined": "unknown_crime_type",
        "test_month_in_the_future_quarantined": "month_in_the_future",
        "test_quoted_newline_keeps_later_line_numbers": "quoted_newline",
        "test_blank_lines_are_not_rows": "blank_lines_at_the_end",
        "test_old_mac_cr_line_ends_do_not_crash": "old_mac_cr_line_ends",
        "test_file_name_with_brackets_is_reported_verbatim": "file_name_with_brackets",
        "test_python_api_refusal_is_one_line": "wrong_header_renamed_column",
    }
    tests = {n for n in dir(test_bad_input) if n.startswith("test_")}
    assert set(covered) <= tests, sorted(set(covered) - tests)
    assert set(covered.values()) <= set(CASES)


def test_an_unforeseen_error_is_one_line_too(tmp_path: Path) -> None:
    # A real failure inside a command (the status query made to raise) through the real entry point.
    code = (
        "import sys; from diogel.warehouse import core; "
        "core.Warehouse.status = lambda self: {}['no such column']; "
        "from diogel.cli import app; sys.argv = ['diogel', '--data-dir', sys.argv[1], 'status']; app()"
    )
    env = {k: v for k, v in os.environ.items() if k != "DIOGEL_TRACEBACK"}
    ran = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "d")], capture_output=True, text=True, env=env
    )
    assert ran.returncode == 2
    lines = [ln for ln in (ran.stdout + ran.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in ran.stderr
    assert lines[0].startswith("error: KeyError: 'no such column'") and "DIOGEL_TRACEBACK=1" in lines[0]
    shown = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "d")],
        capture_output=True,
        text=True,
        env={**env, "DIOGEL_TRACEBACK": "1"},
    )
    assert "Traceback" in shown.stderr and shown.returncode != 0


def test_csv_module_reads_the_corpus_sources() -> None:
    # The independent counts above come from the csv module over the real fixture.
    with SRC.open(newline="", encoding="utf-8") as fh:
        assert sum(1 for _ in csv.reader(fh)) - 1 == 6274
