"""The police.uk loaders on real files: street, outcomes, stop and search; archives, folders, gzip.

Every expectation is computed here from the raw CSV with the csv module, independently of the
loader (which reads with Arrow and validates in DuckDB).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import POLICE
from diogel.cli import app
from diogel.warehouse.core import Warehouse

STREET_2022 = POLICE / "2022-07-gwent-street.csv"
STREET_2024 = POLICE / "2024-06-gwent-street.csv"
OUTCOMES_2022 = POLICE / "2022-07-gwent-outcomes.csv"
STOP_SEARCH = POLICE / "2024-06-dyfed-powys-stop-and-search.csv"

runner = CliRunner()


@pytest.fixture(autouse=True)
def _duckdb_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIOGEL_WAREHOUSE", raising=False)
    monkeypatch.delenv("DIOGEL_MAX_UNZIPPED_BYTES", raising=False)


def raw(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def rows_of(wh: Warehouse, table: str, file_id: str) -> pd.DataFrame:
    t = wh.table(table)
    return wh.execute(t.filter(t.file_id == file_id).order_by("line"))


def cli(data_dir: Path, *args: str):  # noqa: ANN201
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


# -- street ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [STREET_2022, STREET_2024], ids=["2022-07", "2024-06"])
def test_street_real_month(duckdb_warehouse: Warehouse, path: Path) -> None:
    wh = duckdb_warehouse
    src = raw(path)
    (res,) = wh.ingest("police-street", path)
    assert res.status == "loaded"
    assert res.rows_read == len(src)
    assert res.rows_read == res.rows_valid + res.quarantined
    assert res.quarantined == 0  # real police.uk months are clean under the rules
    df = rows_of(wh, "police_street", res.file_id)
    assert len(df) == len(src)
    assert df.line.tolist() == list(range(2, len(src) + 2))

    # ASB has no Crime ID: stored as None, never as ''. Every other row keeps its ID.
    asb = df.crime_type == "Anti-social behaviour"
    assert asb.sum() == sum(r["Crime type"] == "Anti-social behaviour" for r in src)
    assert df.crime_id[asb].isna().all()
    assert df.crime_id[~asb].notna().all()
    assert df.crime_id[~asb].tolist() == [
        r["Crime ID"] for r in src if r["Crime type"] != "Anti-social behaviour"
    ]
    assert df.last_outcome[asb].isna().all()

    # No location: LSOA code, LSOA name and both coordinates are None together.
    loc = df[["lsoa_code", "lsoa_name", "longitude", "latitude"]].isna()
    assert loc.all(axis=1).sum() == sum(1 for r in src if not r["LSOA code"])
    assert (loc.any(axis=1) == loc.all(axis=1)).all()

    # Typed values equal the raw text.
    assert Counter(df.crime_type) == Counter(r["Crime type"] for r in src)
    assert df.longitude.dropna().tolist() == [float(r["Longitude"]) for r in src if r["Longitude"]]
    assert df.lsoa_code.dropna().tolist() == [r["LSOA code"] for r in src if r["LSOA code"]]
    assert set(df.month) == {pd.Timestamp(src[0]["Month"] + "-01")}

    # Context (always empty in police.uk files) is not stored.
    assert not [c for c in wh.table("police_street").columns if "context" in c.lower()]

    st = wh.status()
    assert st.month_min.tolist() == [src[0]["Month"]] and st.month_max.tolist() == [src[0]["Month"]]
    assert st.rows_read.tolist() == [len(src)]
    assert st.loaded.tolist() == [len(src)]  # no repeated Crime IDs in these months


def test_street_context_with_text_is_still_not_stored(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    text = STREET_2024.read_text(encoding="utf-8").split("\n")[:11]
    text[1:] = [ln[: ln.rfind(",")] + ",some context" for ln in text[1:]]
    path = tmp_path / "2024-06-gwent-street.csv"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    (res,) = duckdb_warehouse.ingest("police-street", path)
    assert res.status == "loaded" and res.rows_valid == 10
    df = rows_of(duckdb_warehouse, "police_street", res.file_id)
    assert not df.isin(["some context"]).any().any()


def test_outcomes_real_month(duckdb_warehouse: Warehouse) -> None:
    wh = duckdb_warehouse
    src = raw(OUTCOMES_2022)
    (res,) = wh.ingest("police-outcomes", OUTCOMES_2022)
    assert res.status == "loaded"
    assert res.rows_read == len(src) == res.rows_valid + res.quarantined
    assert res.quarantined == 0
    df = rows_of(wh, "police_outcomes", res.file_id)
    assert df.crime_id.tolist() == [r["Crime ID"] for r in src]
    assert Counter(df.outcome_type) == Counter(r["Outcome type"] for r in src)
    loc = df[["lsoa_code", "lsoa_name", "longitude", "latitude"]].isna()
    assert loc.all(axis=1).sum() == sum(1 for r in src if not r["LSOA code"]) == 9
    assert (loc.any(axis=1) == loc.all(axis=1)).all()
    st = wh.status()
    assert (st.month_min.tolist(), st.month_max.tolist()) == (["2022-07"], ["2022-07"])


# -- stop and search -----------------------------------------------------------------------------
_BOOL = {"True": True, "False": False, "": None}


def test_stop_and_search_types(duckdb_warehouse: Warehouse) -> None:
    wh = duckdb_warehouse
    src = raw(STOP_SEARCH)
    (res,) = wh.ingest("police-stop-search", STOP_SEARCH)
    assert res.status == "loaded"
    assert res.rows_read == len(src) == 12 == res.rows_valid + res.quarantined
    df = rows_of(wh, "police_stop_search", res.file_id)
    want_ts = [dt.datetime.fromisoformat(r["Date"]).astimezone(dt.UTC) for r in src]
    got_ts = [ts.to_pydatetime() for ts in df.searched_at]
    assert got_ts == want_ts
    assert got_ts[0] == dt.datetime(2024, 5, 31, 23, 32, tzinfo=dt.UTC)

    def as_bool(series: pd.Series) -> list:
        return [None if pd.isna(v) else bool(v) for v in series]

    assert as_bool(df.part_of_operation) == [_BOOL[r["Part of a policing operation"]] for r in src]
    assert as_bool(df.outcome_linked_to_object) == [
        _BOOL[r["Outcome linked to object of search"]] for r in src
    ]
    assert as_bool(df.removal_of_more_than_outer_clothing) == [
        _BOOL[r["Removal of more than just outer clothing"]] for r in src
    ]
    assert as_bool(df.outcome_linked_to_object).count(True) == 1  # line 10, community resolution
    assert set(df.force) == {"Dyfed Powys"}
    # The last record has no coordinates; both are None.
    assert df.latitude.isna().tolist() == [not r["Latitude"] for r in src]
    assert df.longitude.isna().tolist() == [not r["Longitude"] for r in src]
    # The first search was late on 31 May: its month is May; the file is June's publication.
    st = wh.status()
    assert (st.month_min.tolist(), st.month_max.tolist()) == (["2024-05"], ["2024-06"])
    assert set(df.slice_key) == {"Dyfed Powys|2024-06"}


def test_stop_and_search_timezone_and_bad_boolean(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    rows = list(csv.reader(STOP_SEARCH.open(newline="", encoding="utf-8")))
    rows[2][1] = "2024-06-01T01:49:00+01:00"  # British Summer Time: 00:49 UTC
    rows[3][13] = "Yes"  # not True or False
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path = tmp_path / "2024-06-dyfed-powys-stop-and-search.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    (res,) = duckdb_warehouse.ingest("police-stop-search", path)
    assert (res.rows_read, res.rows_valid, res.quarantined) == (12, 11, 1)
    assert res.problems == [f"{path}:4: Outcome linked to object of search: 'Yes' is not True or False"]
    df = rows_of(duckdb_warehouse, "police_stop_search", res.file_id)
    first_june = df[df.line == 3].searched_at.iloc[0].to_pydatetime()
    assert first_june == dt.datetime(2024, 6, 1, 0, 49, tzinfo=dt.UTC)


# -- how files arrive: archive, folder tree, gzip ----------------------------------------------------
def _police_archive(path: Path) -> Path:
    """police.uk's archive layout: YYYY-MM/YYYY-MM-<force>-<kind>.csv members."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(STREET_2022, "2022-07/2022-07-gwent-street.csv")
        zf.write(OUTCOMES_2022, "2022-07/2022-07-gwent-outcomes.csv")
        zf.write(STREET_2024, "2024-06/2024-06-gwent-street.csv")
    return path


def test_archive_street_takes_only_street_members(tmp_path: Path) -> None:
    archive = _police_archive(tmp_path / "police.zip")
    data = tmp_path / "data"
    result = cli(data, "ingest", "police-street", str(archive))
    assert result.exit_code == 0, result.output
    loaded = [ln for ln in result.stdout.splitlines() if ln.startswith("loaded")]
    assert [ln.split()[1].rstrip(":") for ln in loaded] == [
        f"{archive}!2022-07/2022-07-gwent-street.csv",
        f"{archive}!2024-06/2024-06-gwent-street.csv",
    ]
    with Warehouse(None, data) as wh:
        st = wh.status()
        assert st.kind.tolist() == ["police-street", "police-street"]
        assert st.name.tolist() == ["2022-07-gwent-street.csv", "2024-06-gwent-street.csv"]
        assert st.rows_read.tolist() == [len(raw(STREET_2022)), len(raw(STREET_2024))]
        assert not wh.has("police_outcomes") or wh.execute(wh.table("police_outcomes").count()) == 0

    result = cli(data, "ingest", "police-outcomes", str(archive))
    assert result.exit_code == 0, result.output
    with Warehouse(None, data) as wh:
        st = wh.status()
        outcomes = st[st.kind == "police-outcomes"]
        assert outcomes.name.tolist() == ["2022-07-gwent-outcomes.csv"]
        assert outcomes.rows_read.tolist() == [len(raw(OUTCOMES_2022))]
        assert wh.execute(wh.table("police_outcomes").count()) == len(raw(OUTCOMES_2022))
        assert wh.execute(wh.table("police_street").count()) == len(raw(STREET_2022)) + len(raw(STREET_2024))


def test_folder_tree_of_monthly_folders(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    root = tmp_path / "downloads"
    for month, files in {"2024-06": [STREET_2024], "2022-07": [STREET_2022, OUTCOMES_2022]}.items():
        (root / month).mkdir(parents=True)
        for f in files:
            shutil.copy(f, root / month / f.name)
    results = duckdb_warehouse.ingest("police-street", root)
    assert [Path(r.name).name for r in results] == ["2022-07-gwent-street.csv", "2024-06-gwent-street.csv"]
    assert [r.status for r in results] == ["loaded", "loaded"]
    st = duckdb_warehouse.status()
    assert (st.month_min.min(), st.month_max.max()) == ("2022-07", "2024-06")
    assert st.loaded.sum() == len(raw(STREET_2022)) + len(raw(STREET_2024))
    again = duckdb_warehouse.ingest("police-street", root)
    assert [r.status for r in again] == ["already loaded", "already loaded"]


def test_gzipped_csv(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    gz = tmp_path / "2024-06-gwent-street.csv.gz"
    gz.write_bytes(gzip.compress(STREET_2024.read_bytes()))
    (res,) = duckdb_warehouse.ingest("police-street", gz)
    assert res.status == "loaded"
    assert (res.rows_read, res.loaded) == (len(raw(STREET_2024)), len(raw(STREET_2024)))
    # The identity of a file is its content: the same CSV uncompressed is already loaded.
    (plain,) = duckdb_warehouse.ingest("police-street", STREET_2024)
    assert plain.status == "already loaded"
    # In a folder, .csv.gz files are found alongside .csv ones.
    folder = tmp_path / "mixed" / "2022-07"
    folder.mkdir(parents=True)
    (folder / "2022-07-gwent-street.csv.gz").write_bytes(gzip.compress(STREET_2022.read_bytes()))
    (res2,) = duckdb_warehouse.ingest("police-street", tmp_path / "mixed")
    assert res2.status == "loaded" and res2.rows_read == len(raw(STREET_2022))


def test_corrupt_gzip_refused_in_one_line(tmp_path: Path) -> None:
    gz = tmp_path / "2024-06-gwent-street.csv.gz"
    gz.write_bytes(gzip.compress(STREET_2024.read_bytes())[:5000])  # a cut-off download
    result = cli(tmp_path / "data", "ingest", "police-street", str(gz))
    assert result.exit_code != 0
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and str(gz) in lines[0] and "gzip" in lines[0]
