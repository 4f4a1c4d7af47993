"""The ingest guarantees of the warehouse, on DuckDB, PostgreSQL and Spark.

Atomic per file, idempotent, overlapping downloads reconciled, nothing lost silently, the counting
rules, provenance. Inputs are the real Gwent fixtures; files derived from them (a re-download with
rows missing, a month re-labelled) are built in the test and say so in their names.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from _independent import count_raw
from conftest import POLICE
from diogel.warehouse.core import Warehouse
from diogel.warehouse.queries import counts

JULY_2022 = POLICE / "2022-07-gwent-street.csv"  # 933 ASB rows + 4,455 distinct Crime IDs
JUNE_2024 = POLICE / "2024-06-gwent-street.csv"


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def warehouse_counts(wh: Warehouse) -> Counter:
    df = counts(wh, ["lsoa", "month", "crime_type"])
    return Counter(
        {
            (None if not isinstance(r.lsoa, str) else r.lsoa, r.month, r.crime_type): int(r.count)
            for r in df.itertuples(index=False)
        }
    )


def assert_accounting(wh: Warehouse) -> None:
    st = wh.status()
    assert (st.rows_read == st.loaded + st.duplicates + st.quarantined).all(), st
    assert st.loaded[st.kind == "police-street"].sum() == sum(warehouse_counts(wh).values())


def test_idempotent(any_warehouse: Warehouse) -> None:
    (first,) = any_warehouse.ingest("police-street", JULY_2022)
    assert (first.status, first.rows_read, first.loaded, first.duplicates) == ("loaded", 5388, 5388, 0)
    before = warehouse_counts(any_warehouse)
    (again,) = any_warehouse.ingest("police-street", JULY_2022)
    assert again.status == "already loaded"
    assert again.file_id == first.file_id == hashlib.sha256(JULY_2022.read_bytes()).hexdigest()
    assert warehouse_counts(any_warehouse) == before
    assert len(any_warehouse.status()) == 1
    assert any_warehouse.execute(any_warehouse.table("police_street").count()) == 5388


def test_overlapping_downloads_are_reconciled(any_warehouse: Warehouse, tmp_path: Path) -> None:
    # The same force-month downloaded again later: police.uk had since dropped 100 rows and
    # re-categorised one. The later download replaces the earlier; nothing is counted twice.
    rows = read_rows(JUNE_2024)
    header, body = rows[0], rows[1:]
    redownload = [list(r) for r in body[:-100]]
    redownload[10][9] = "Public order" if redownload[10][9] != "Public order" else "Drugs"
    later = write_rows(tmp_path / "2024-06-gwent-street.csv", [header, *redownload])
    any_warehouse.ingest("police-street", JUNE_2024)
    (res,) = any_warehouse.ingest("police-street", later)
    assert res.status == "loaded"
    got = warehouse_counts(any_warehouse)
    assert got == count_raw([JUNE_2024, later]) == count_raw([later])
    assert sum(got.values()) == len(redownload)  # this fixture has no repeated Crime IDs
    st = any_warehouse.status().set_index("path")
    assert st.loc[str(JUNE_2024), "loaded"] == 0  # superseded: every row now reported a duplicate
    assert st.loc[str(JUNE_2024), "duplicates"] == len(body)
    assert_accounting(any_warehouse)


def test_crime_id_counts_in_its_earliest_month_whatever_the_ingest_order(
    any_warehouse: Warehouse, tmp_path: Path
) -> None:
    # police.uk republishes some crimes in a later month. Built here: 40 rows of June 2024
    # re-labelled as May 2024 (a derived file), ingested AFTER June.
    rows = read_rows(JUNE_2024)
    header, body = rows[0], rows[1:]
    month = header.index("Month")
    may_rows = [[*r[:month], "2024-05", *r[month + 1 :]] for r in body[:40]]
    may = write_rows(tmp_path / "2024-05-gwent-street-derived.csv", [header, *may_rows])
    any_warehouse.ingest("police-street", JUNE_2024)
    (res,) = any_warehouse.ingest("police-street", may)
    got = warehouse_counts(any_warehouse)
    assert got == count_raw([JUNE_2024, may])
    with_id = sum(1 for r in body[:40] if r[0])
    by_month = Counter()
    for (_, m, _), n in got.items():
        by_month[m] += n
    assert by_month == {"2024-05": 40, "2024-06": len(body) - with_id}
    st = any_warehouse.status().set_index("path")
    assert st.loc[str(JUNE_2024), "duplicates"] == with_id  # now counted in May instead
    assert res.duplicates == 0
    assert_accounting(any_warehouse)


def test_asb_rows_each_count_but_a_repeated_crime_id_counts_once(
    any_warehouse: Warehouse, tmp_path: Path
) -> None:
    rows = read_rows(JUNE_2024)
    header, body = rows[0], rows[1:]
    asb = next(r for r in body if not r[0])
    crime = next(r for r in body if r[0])
    path = write_rows(tmp_path / "2024-06-gwent-street.csv", [header, asb, list(asb), crime, list(crime)])
    (res,) = any_warehouse.ingest("police-street", path)
    assert (res.rows_read, res.loaded, res.duplicates, res.quarantined) == (4, 3, 1, 0)
    got = warehouse_counts(any_warehouse)
    assert got[(asb[7] or None, "2024-06", "Anti-social behaviour")] == 2
    assert got == count_raw([path])


def test_every_row_knows_its_file_and_run(any_warehouse: Warehouse) -> None:
    any_warehouse.ingest("police-street", JULY_2022)
    any_warehouse.ingest("police-street", JUNE_2024)
    t = any_warehouse.table("police_street")
    files = any_warehouse.table("source_file")
    runs = any_warehouse.table("ingest_run")
    per_file = any_warehouse.execute(t.group_by(["file_id", "run_id"]).aggregate(n=t.count()))
    registry = any_warehouse.execute(files.select("file_id", "run_id", "path", "rows_valid"))
    merged = per_file.merge(registry, on=["file_id", "run_id"], how="left", validate="1:1")
    assert merged.path.notna().all()
    assert sorted(merged.n) == sorted(merged.rows_valid)
    assert set(merged.run_id) <= set(any_warehouse.execute(runs.select("run_id")).run_id)
    for path, file_id in zip(merged.path, merged.file_id, strict=True):
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == file_id
    assert len(set(merged.run_id)) == 2  # two `ingest` calls, two runs


# -- atomic per file: kill -9 between writing a file's rows and committing them ---------------------
def _kill_mid_ingest(url: str | None, data_dir: Path, path: Path, tmp_path: Path) -> None:
    marker = tmp_path / "paused"
    env = {**os.environ, "DIOGEL_TEST_PAUSE_BEFORE_COMMIT": str(marker), "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("DIOGEL_WAREHOUSE", None)
    cmd = [sys.executable, "-m", "diogel.cli", "--data-dir", str(data_dir)]
    if url:
        cmd += ["--warehouse", url]
    proc = subprocess.Popen(
        [*cmd, "ingest", "police-street", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # so the kill reaches Spark's JVM too
    )
    deadline = time.monotonic() + 180
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"ingest ended before the pause: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("ingest never reached the commit")
        time.sleep(0.1)
    assert marker.read_text() == str(path)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


@pytest.mark.parametrize(
    "engine",
    ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
     pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])],
)  # fmt: skip
def test_killed_mid_file_leaves_the_warehouse_as_it_was(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = {"duckdb": None, "spark": "spark://local[2]"}.get(engine) or request.getfixturevalue("postgres_url")
    data_dir = tmp_path / "data"
    with Warehouse(url, data_dir) as wh:
        wh.ingest("police-street", JULY_2022)
        before = (warehouse_counts(wh), wh.status().drop(columns=["committed_at"]))
    _kill_mid_ingest(url, data_dir, JUNE_2024, tmp_path)
    with Warehouse(url, data_dir) as wh:
        wh.recover()
        assert warehouse_counts(wh) == before[0]
        assert wh.status().drop(columns=["committed_at"]).equals(before[1])
        raw = wh.table("police_street")
        assert wh.execute(raw.count()) == 5388  # no orphan rows left behind, not even uncounted ones
        (res,) = wh.ingest("police-street", JUNE_2024)  # and the file loads normally afterwards
        assert res.status == "loaded"
        assert warehouse_counts(wh) == count_raw([JULY_2022, JUNE_2024])


def test_slices_are_per_kind_and_a_forced_replacement_can_be_restored(
    any_warehouse: Warehouse, tmp_path: Path
) -> None:
    from diogel.warehouse.counting import coverage, replacements

    wh = any_warehouse
    wh.ingest("police-street", JULY_2022)
    before = warehouse_counts(wh)
    # The outcomes of the same force-month: another kind, so another slice.
    (out,) = wh.ingest("police-outcomes", POLICE / "2022-07-gwent-outcomes.csv")
    assert out.status == "loaded" and out.loaded == out.rows_read
    assert warehouse_counts(wh) == before
    # A derived, truncated copy of the month: refused, then forced, then the original restored.
    rows = read_rows(JULY_2022)
    short = write_rows(tmp_path / JULY_2022.name, rows[:101])
    (refused,) = wh.ingest("police-street", short)
    assert refused.status == "refused" and "5,388 rows" in refused.error and "--replace" in refused.error
    assert warehouse_counts(wh) == before
    (forced,) = wh.ingest("police-street", short, replace=True)
    assert (forced.status, forced.loaded) == ("loaded", 100)
    assert warehouse_counts(wh) == count_raw([short])
    assert_accounting(wh)
    restored = wh.restore(JULY_2022)
    assert restored.status == "restored"
    assert warehouse_counts(wh) == before
    assert_accounting(wh)
    changes = replacements(wh)
    assert list(changes.action) == ["restored", "replaced"] and list(changes.forced) == [False, True]
    cov = coverage(wh).set_index("kind")
    assert cov.loc["police-street", "ranges"] == cov.loc["police-outcomes", "ranges"] == "2022-07"
