"""Replacement per slice, guarded replacement, restore, coverage and unknown LSOAs, through the CLI.

Every case runs ``diogel`` as a subprocess, as a user would: a bad input gets one line and exit code
1 or 2, never a traceback, and leaves the warehouse as it was unless the case says otherwise. Inputs
are the real police.uk files (tests/fixtures and the shared Gwent folder); files built from them
say "derived" in their folder or file name.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from _independent import count_raw
from conftest import POLICE, shared
from diogel import data
from diogel.report.figures import resolve_figure, table_records
from diogel.report.sections.data import supply_gaps

pytestmark = pytest.mark.slow  # each case runs diogel several times as a subprocess

JUNE_2024 = POLICE / "2024-06-gwent-street.csv"
JULY_2022 = POLICE / "2022-07-gwent-street.csv"
JULY_2022_OUTCOMES = POLICE / "2022-07-gwent-outcomes.csv"
STOP_SEARCH = POLICE / "2024-06-dyfed-powys-stop-and-search.csv"
SAMPLES = Path(data.__file__).parent.parent / "sources" / "partner" / "samples"


def diogel(data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("DIOGEL_WAREHOUSE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "diogel.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


def one_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    return lines[0]


def counts(data_dir: Path, by: str = "lsoa,month,crime_type") -> Counter:
    rc, out, err = diogel(data_dir, "counts", "--by", by)
    assert rc == 0, err
    df = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    cols = by.split(",")
    return Counter({tuple(r[c] or None for c in cols): int(r["count"]) for _, r in df.iterrows()})


def status(data_dir: Path) -> dict:
    rc, out, err = diogel(data_dir, "status", "--json")
    assert rc == 0, err
    doc = json.loads(out)
    for f in doc["files"]:
        assert f["rows_read"] == f["loaded"] + f["duplicates"] + f["quarantined"], f
    return doc


def unchanged_view(data_dir: Path, police: bool = True) -> tuple:
    doc = status(data_dir)
    return counts(data_dir) if police else None, doc["files"], doc["coverage"], doc["replacements"]


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def write(path: Path, table: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def ingest_ok(data_dir: Path, *args: str) -> str:
    rc, out, err = diogel(data_dir, "ingest", *args)
    assert rc == 0, out + err
    return out


# -- (kind, force, month): other kinds never replace a street month --------------------------------------
def test_outcomes_and_stop_search_after_street_leave_street_counts_unchanged(tmp_path: Path) -> None:
    d = tmp_path / "data"
    ingest_ok(d, "police-street", str(JULY_2022))
    ingest_ok(d, "police-street", str(JUNE_2024))
    expected = count_raw([JULY_2022, JUNE_2024])
    assert counts(d) == expected
    # Outcomes of the same force-month: the same slice key, "Gwent Police|2022-07", in another kind.
    ingest_ok(d, "police-outcomes", str(JULY_2022_OUTCOMES))
    # Stop and search: derived, real Dyfed-Powys records under a Gwent Police file name, so its
    # force-month is the street file's exactly.
    renamed = tmp_path / "derived" / "2024-06-gwent-police-stop-and-search.csv"
    renamed.parent.mkdir()
    renamed.write_bytes(STOP_SEARCH.read_bytes())
    ingest_ok(d, "police-stop-search", str(renamed))
    assert counts(d) == expected
    doc = status(d)
    by_kind = {(c["kind"], c["of"]): c["ranges"] for c in doc["coverage"]}
    assert by_kind[("police-street", "Gwent Police")] == "2022-07, 2024-06"
    assert by_kind[("police-outcomes", "Gwent Police")] == "2022-07"
    assert by_kind[("police-stop-search", "Gwent Police")] == "2024-06"  # the month published (file name)
    assert doc["replacements"] == []
    loaded = {f["name"]: f["loaded"] for f in doc["files"]}
    assert loaded[JULY_2022.name] == 5388 and loaded[JULY_2022_OUTCOMES.name] > 0


# -- guarded replacement --------------------------------------------------------------------------------
def test_a_one_row_replacement_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    d = tmp_path / "data"
    ingest_ok(d, "police-street", str(JUNE_2024))
    before = unchanged_view(d)
    table = rows(JUNE_2024)
    one = write(tmp_path / "derived-one-row" / JUNE_2024.name, table[:2])
    rc, out, err = diogel(d, "ingest", "police-street", str(one))
    assert rc == 1
    line = one_line(out + err)
    n = len(table) - 1
    assert line == (
        f"refused  {one}: not loaded: it would replace police-street Gwent Police 2024-06 ({n:,} rows, from "
        f"{JUNE_2024}) with 1 rows, under 80% of them; check the file, or give --replace to load it anyway "
        "(diogel restore brings the old file back)"
    )
    assert unchanged_view(d) == before


def test_replace_is_accounted_and_restorable(tmp_path: Path) -> None:
    d = tmp_path / "data"
    ingest_ok(d, "police-street", str(JUNE_2024))
    ingest_ok(d, "police-street", str(JULY_2022))
    original = counts(d)
    table = rows(JUNE_2024)
    one = write(tmp_path / "derived-one-row" / JUNE_2024.name, table[:2])
    out = ingest_ok(d, "police-street", "--replace", str(one))
    assert "rows read 1 = loaded 1 + duplicates 0 + quarantined 0" in out
    assert counts(d) == count_raw([JULY_2022, one])
    doc = status(d)
    (change,) = doc["replacements"]
    assert change["action"] == "replaced" and change["forced"] is True and change["kind"] == "police-street"
    assert change["file"].startswith(f"{JUNE_2024.name} (") and change["replaced"].startswith(JUNE_2024.name)
    assert (change["slices"], change["rows_before"], change["rows_after"]) == (1, len(table) - 1, 1)
    old = next(f for f in doc["files"] if f["path"] == str(JUNE_2024))
    assert (old["loaded"], old["duplicates"]) == (0, len(table) - 1)  # kept, counted as superseded
    # By name the two downloads are ambiguous: the message lists both ids.
    rc, out, err = diogel(d, "restore", JUNE_2024.name)
    assert rc == 2 and "2 loaded files match" in one_line(out + err)
    # By path (its content) it is found; nothing is read again.
    rc, out, err = diogel(d, "restore", str(JUNE_2024))
    assert rc == 0 and "in force again for police-street Gwent Police 2024-06" in one_line(out + err)
    assert counts(d) == original
    doc = status(d)
    assert [c["action"] for c in doc["replacements"]] == ["restored", "replaced"]
    assert next(f for f in doc["files"] if f["path"] == str(one))["loaded"] == 0
    # And back again with `ingest --replace` of the one-row file, which is already registered.
    rc, out, err = diogel(d, "ingest", "police-street", "--replace", str(one))
    assert rc == 0 and one_line(out + err).startswith(f"restored {one}: in force again")
    assert counts(d) == count_raw([JULY_2022, one])


def test_a_later_download_with_a_few_rows_less_replaces_without_the_flag(tmp_path: Path) -> None:
    d = tmp_path / "data"
    ingest_ok(d, "police-street", str(JUNE_2024))
    table = rows(JUNE_2024)
    later = write(tmp_path / "derived-redownload" / JUNE_2024.name, table[: int(len(table) * 0.9)])
    ingest_ok(d, "police-street", str(later))
    assert counts(d) == count_raw([later])
    (change,) = status(d)["replacements"]
    assert change["forced"] is False


# -- partner data: a re-upload without --supplier ------------------------------------------------------
def test_partner_reupload_without_supplier_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "data"
    sample = SAMPLES / "synthetic_ed_assaults.csv"
    ingest_ok(d, "partner", "--schema", "ed_assaults", str(sample))
    before = unchanged_view(d, police=False)
    # Derived: the rows of 2024 only, as a second partner (or a re-send) might send them.
    table = rows(sample)
    when = table[0].index("assault_date")
    part = write(
        tmp_path / "derived" / "ed-2024.csv", [table[0], *(r for r in table[1:] if r[when][:4] == "2024")]
    )
    rc, out, err = diogel(d, "ingest", "partner", "--schema", "ed_assaults", str(part))
    assert rc == 1
    line = one_line(out + err)
    assert line.startswith(
        f"refused  {part}: not loaded: it would replace 12 month(s) (2024-01..2024-12) of "
    )
    assert "ed_assaults (no supplier given)" in line and "--supplier NAME" in line and "--replace" in line
    assert unchanged_view(d, police=False) == before
    # From another supplier it adds to, and takes nothing from, the first file's months.
    out = ingest_ok(d, "partner", "--schema", "ed_assaults", "--supplier", "second-ed", str(part))
    files = {f["path"]: f for f in status(d)["files"]}
    assert files[str(sample)]["loaded"] == before[1][0]["loaded"]
    assert files[str(part)]["loaded"] == len(table[1:]) - sum(r[when][:4] != "2024" for r in table[1:])


# -- coverage: a month never loaded is not a gap --------------------------------------------------------
def test_a_never_loaded_month_is_not_loaded_not_a_supply_gap(tmp_path: Path) -> None:
    gwent = shared("policeuk", "gwent-2022-07_2025-06")
    months = [f"2023-{m:02d}" for m in range(1, 7)] + [f"2023-{m:02d}" for m in range(10, 13)]
    months += [f"2024-{m:02d}" for m in range(1, 4)]
    folder = tmp_path / "downloads"
    folder.mkdir()
    for m in months:
        (folder / f"{m}-gwent-street.csv").write_bytes((gwent / f"{m}-gwent-street.csv").read_bytes())
    d = tmp_path / "data"
    ingest_ok(d, "police-street", str(folder))
    (cov,) = status(d)["coverage"]
    assert (cov["kind"], cov["of"], cov["first"], cov["last"], cov["months"]) == (
        "police-street", "Gwent Police", "2023-01", "2024-03", 12
    )  # fmt: skip
    assert cov["ranges"] == "2023-01..2023-06, 2023-10..2024-03" and cov["not_loaded"] == "2023-07..2023-09"
    rc, out, _ = diogel(d, "status")
    assert rc == 0 and "2023-07..2023-09" in out
    # The report's gap detection on these counts: the hole is not loaded, so it is no gap ...
    by = counts(d, "month,crime_type")
    fm = pd.DataFrame(
        [(m, t, n) for (m, t), n in by.items()], columns=["month", "crime_type", "count"]
    ).assign(force="Gwent Police", month=lambda f: pd.to_datetime(f["month"]))
    gaps = supply_gaps(fm)
    hole = pd.to_datetime(["2023-07-01", "2023-08-01", "2023-09-01"])
    assert not gaps["month"].isin(hole).any()
    # ... where the rule that took every month between the first and last as published flagged all three.
    from diogel.analysis.trends import detect_supply_gaps

    old = detect_supply_gaps(fm, by=("force",), threshold=0.5, window=6, min_neighbours=4, min_median=10.0)
    assert set(old["month"]) == set(hole)


# -- unknown LSOA codes ----------------------------------------------------------------------------------
def test_an_lsoa_in_no_lookup_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    d = tmp_path / "data"
    ref = Path(data.__file__).parent / "reference" / "wales"
    ingest_ok(d, "lookup-lsoa-ward-la", str(ref / "lookup_lsoa21_ward24_ltla24.csv.gz"))
    ingest_ok(d, "lookup-lsoa11-lsoa21", str(ref / "lookup_lsoa11_lsoa21_ltla22.csv.gz"))
    ingest_ok(d, "police-street", str(JULY_2022))
    before = counts(d)
    table = rows(JUNE_2024)
    lsoa = table[0].index("LSOA code")
    table[5][lsoa] = "W01999999"  # line 6 of the file
    bad = write(tmp_path / "derived-unknown-lsoa" / JUNE_2024.name, table)
    rc, out, err = diogel(d, "ingest", "police-street", str(bad))
    assert rc == 0
    n = len(table) - 1
    assert (
        out.splitlines()[0]
        == f"loaded   {bad}: rows read {n:,} = loaded {n - 1:,} + duplicates 0 + quarantined 1"
    )
    assert one_line(err).strip() == (
        f"quarantined {bad}:6: LSOA code W01999999 is not in the loaded ONS lookups (no such LSOA)"
    )
    got = counts(d)
    assert all(k[0] != "W01999999" for k in got)
    del table[5]
    assert got == before + count_raw([write(tmp_path / "derived-without" / JUNE_2024.name, table)])
    files = {f["path"]: f for f in status(d)["files"]}
    assert files[str(bad)]["quarantined"] == 1


def test_rows_loaded_before_the_lookups_count_under_unknown_lsoa_never_a_blank(tmp_path: Path) -> None:
    d = tmp_path / "data"
    table = rows(JUNE_2024)
    lsoa = table[0].index("LSOA code")
    table[5][lsoa] = "W01999999"
    bad = write(tmp_path / "derived-unknown-lsoa" / JUNE_2024.name, table[:50])
    ingest_ok(d, "police-street", str(bad))  # no lookup loaded yet: nothing to judge it against
    ref = Path(data.__file__).parent / "reference" / "wales"
    ingest_ok(d, "lookup-lsoa-ward-la", str(ref / "lookup_lsoa21_ward24_ltla24.csv.gz"))
    by_la = counts(d, "la")
    assert by_la[("unknown LSOA",)] == 1
    no_location = sum(1 for r in table[1:50] if not r[lsoa])
    assert by_la.get((None,), 0) == no_location  # no location at all: the only blank
    assert sum(by_la.values()) == 49


def test_the_assessment_names_months_not_loaded_and_unknown_lsoas(tmp_path: Path) -> None:
    gwent = shared("policeuk", "gwent-2022-07_2025-06")
    folder = tmp_path / "downloads"
    folder.mkdir()
    months = [f"2023-{m:02d}" for m in (1, 2, 3, 4, 5, 6, 10, 11, 12)] + [
        f"2024-{m:02d}" for m in range(1, 7)
    ]
    for m in months[:-1]:
        (folder / f"{m}-gwent-street.csv").write_bytes((gwent / f"{m}-gwent-street.csv").read_bytes())
    # Derived: June 2024 with one Newport row's LSOA code changed to one that exists nowhere.
    table = rows(gwent / "2024-06-gwent-street.csv")
    lsoa = table[0].index("LSOA code")
    i = next(i for i, r in enumerate(table) if r[lsoa].startswith("W01"))
    table[i][lsoa] = "W01999999"
    write(folder / "derived-unknown-lsoa" / "2024-06-gwent-street.csv", table)
    d = tmp_path / "data"
    rc, _, err = diogel(d, "init", "--reference", "wales")
    assert rc == 0, err
    ingest_ok(d, "police-street", str(folder))
    out = tmp_path / "out"
    rc, text, err = diogel(
        d, "assess", "--area", "Newport", "--period", "2024-01..2024-06", "--out", str(out)
    )
    assert rc == 0, text + err
    doc = json.loads((out / "figures.json").read_text(encoding="utf-8"))
    figures = {f["id"]: resolve_figure(doc, f) for f in doc["figures"]}
    assert figures["data.months_not_loaded"]["value"] == 3
    assert figures["data.months_not_loaded"]["parameters"] == {"months": "2023-07..2023-09"}
    assert figures["data.unknown_lsoa"]["value"] == 1
    gaps = table_records(figures["data.supply_gaps"])
    assert not [g for g in gaps if g["month"] in ("2023-07", "2023-08", "2023-09")]
    page = (out / "assessment.html").read_text(encoding="utf-8")
    assert "were never\nloaded (2023-07..2023-09)" in page or "never loaded (2023-07..2023-09)" in page
