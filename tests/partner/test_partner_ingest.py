"""``diogel ingest partner``: validated like the police loaders, de-personalised on the way in.

Every personal value in the input files (names, dates of birth, NHS numbers, full postcodes, phone numbers,
e-mail addresses, raw reference numbers) is searched for in EVERY column of EVERY warehouse table,
including ``quarantine``, ``source_file`` and ``ingest_run``, and must not be found. The inputs are the
shipped synthetic samples and files built here from them (bad rows, a truncated line, an .xlsx copy).
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from diogel.cli import app
from diogel.demo.files import SAMPLE_SCHEMAS, demo_paths, read_sample, sample_path
from diogel.errors import DiogelError
from diogel.sources.partner.depersonalise import pseudonymise
from diogel.sources.partner.ingest import REDACTED_RAW
from diogel.sources.partner.keys import SECRET_ENV, key_id, secret_path
from diogel.sources.partner.schema import shipped_schemas
from diogel.warehouse.core import Warehouse

runner = CliRunner()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIOGEL_WAREHOUSE", raising=False)
    monkeypatch.delenv(SECRET_ENV, raising=False)


# -- helpers -------------------------------------------------------------------------------------
def all_cells(wh: Warehouse) -> list[str]:
    """Every value of every column of every table in the warehouse, as text."""
    names = wh.ibis.list_tables()
    assert {"partner_record", "quarantine", "source_file", "ingest_run", "file_slice"} <= set(names)
    cells: list[str] = []
    for name in names:
        df = wh.execute(wh.table(name))
        for col in df.columns:
            cells.extend(
                v.decode("latin-1") if isinstance(v, bytes | bytearray | memoryview) else str(v)
                for v in df[col].tolist()
            )
    return cells


def leaked(wh: Warehouse, sensitive: set[str]) -> set[str]:
    text = "\x1f".join(all_cells(wh))
    return {s for s in sensitive if s in text}


def personal_values(frame: pd.DataFrame) -> set[str]:
    """The personal values of a sample frame in every form a loader might write them."""
    out: set[str] = set()
    for col in ("patient_name", "nhs_number", "home_postcode", "patient_postcode", "incident_postcode",
                "contact_phone", "email", "attendance_ref", "admission_ref", "callout_ref"):  # fmt: skip
        if col in frame.columns:
            for v in frame[col].dropna():
                out |= {v, v.replace(" ", "")}
    if "date_of_birth" in frame.columns:
        for v in frame["date_of_birth"].dropna():
            out.add(v)
            parsed = pd.to_datetime(v, dayfirst="/" in v, errors="coerce")
            if not pd.isna(parsed):
                out |= {parsed.strftime("%Y-%m-%d"), parsed.strftime("%d/%m/%Y")}
    return {v for v in out if len(v) >= 6}


def to_csv(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def bad_ed_rows() -> tuple[pd.DataFrame, str]:
    """The first 40 identifiable ED rows with personal values put where no treatment applies, plus a
    truncated line carrying a name; returns the frame and the file text."""
    f = read_sample("ed_assaults_identifiable").head(40).copy()
    f.loc[0, "sex"] = f.loc[0, "patient_name"]  # a name in a category column: quarantined
    f.loc[1, "assault_method"] = f.loc[1, "nhs_number"]  # an NHS number in a category column: quarantined
    f.loc[2, "location_description"] = f"Outside {f.loc[2, 'patient_name']}'s house"  # loaded, scrubbed
    f.loc[3, "date_of_birth"] = "31/02/1980"  # not a date, in a treated column: quarantined
    f.loc[4, "assault_date"] = "2099-01-01"  # in the future: quarantined
    f.loc[5, "attendance_ref"] = None  # required: quarantined
    f.loc[6, "home_outward_postcode"] = f.loc[6, "home_postcode"]  # a full postcode where outward expected
    text = to_csv(f) + f"GUH1234567,2024-01-01 10:00,2024-01-01,{f.loc[7, 'patient_name']}\n"
    return f, text


def ingest(wh: Warehouse, path: Path, schema: str, **options):  # noqa: ANN201
    (result,) = wh.ingest("partner", path, options={"schema": schema, **options})
    return result


def snapshot(wh: Warehouse) -> dict[str, list]:
    return {
        name: sorted(map(repr, wh.execute(wh.table(name)).astype(str).itertuples(index=False)))
        for name in wh.ibis.list_tables()
    }


def cli(data_dir: Path, *args: str) -> Result:
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


def one_line(result: Result) -> str:
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    return lines[0]


# -- every shipped schema loads ------------------------------------------------------------------
def test_every_shipped_schema_has_a_sample_that_loads(duckdb_warehouse: Warehouse) -> None:
    wh = duckdb_warehouse
    clean = {s: n for n, s in SAMPLE_SCHEMAS.items() if "identifiable" not in n}
    assert sorted(clean) == shipped_schemas()
    for schema, stem in sorted(clean.items()):
        r = ingest(wh, sample_path(stem), schema)
        frame = read_sample(stem)
        assert r.status == "loaded", r.error
        assert (r.rows_read, r.quarantined) == (len(frame), 0)
        assert r.rows_read == r.loaded + r.duplicates + r.quarantined
    for path, schema in demo_paths():
        # Another synthetic partner's months of the same datasets: a supplier of its own, or it would
        # replace the sample's months (and, without --supplier, be refused for that).
        r = ingest(wh, path, schema, supplier="gwent-demo")
        assert r.status == "loaded" and r.quarantined == 0 and r.loaded == r.rows_read
    st = wh.status()
    assert (st.rows_read == st.loaded + st.duplicates + st.quarantined).all()
    rows = wh.execute(wh.table("partner_record"))
    by = rows.groupby("dataset")
    assert set(by.groups) == set(shipped_schemas())
    # Places and dates as each schema says: fire points to LSOAs (bundled boundaries) and 100 m cells;
    # ED demo by assault LSOA; outward-postcode datasets by outward code; treatment counts by count_field.
    fire = rows[rows.dataset == "fire_incidents"]
    assert fire.lsoa_code.notna().mean() > 0.99 and (fire.grid_cell_m == 100).all()
    assert ((fire.easting % 100 == 0) & (fire.northing % 100 == 0)).all()
    ed = rows[(rows.dataset == "ed_assaults") & rows.file_id.isin(st[st.name.str.contains("gwent")].file_id)]
    assert ed.lsoa_code.str.match(r"W01\d{6}").sum() == (read_sample_demo_ed().assault_lsoa.notna()).sum()
    subs = rows[rows.dataset == "substance_treatment"]
    assert subs.record_count.sum() == read_sample("substance_treatment").in_treatment.astype(int).sum()
    assert subs.outward_code.notna().all() and (subs.time_resolution == "quarter").all()
    premises = rows[rows.dataset == "licensed_premises"]
    assert premises.grid_cell_m.isna().all()  # public register coordinates are kept as sent
    assert set(premises.slice_key) == {"partner|licensed_premises||all"}


def read_sample_demo_ed() -> pd.DataFrame:
    return pd.read_csv(demo_paths()[0][0], dtype=str)


# -- de-personalised: refused or cleansed as the schema says, and found nowhere ----------------------
def _load_everything(wh: Warehouse, tmp_path: Path) -> tuple[set[str], dict]:
    """Ingest the identifiable and bad files; return every personal value they held and the results."""
    results = {}
    ed = read_sample("ed_assaults_identifiable")
    results["ed"] = ingest(wh, sample_path("ed_assaults_identifiable"), "ed_assaults")
    hosp = read_sample("hospital_admissions_identifiable")
    results["hosp"] = ingest(wh, sample_path("hospital_admissions_identifiable"), "hospital_admissions")
    amb = read_sample("ambulance_callouts")
    results["amb"] = ingest(wh, sample_path("ambulance_callouts"), "ambulance_callouts")
    bad, text = bad_ed_rows()
    bad_csv = tmp_path / "bad_ed.csv"
    bad_csv.write_text(text, encoding="utf-8")
    results["bad"] = ingest(wh, bad_csv, "ed_assaults", supplier="crafted")
    bad_xlsx = tmp_path / "bad_ed.xlsx"
    bad.to_excel(bad_xlsx, index=False)
    results["xlsx"] = ingest(wh, bad_xlsx, "ed_assaults", supplier="crafted-xlsx")
    sensitive = personal_values(ed) | personal_values(hosp) | personal_values(amb) | personal_values(bad)
    sensitive.add("31/02/1980")
    return sensitive, results


def test_no_personal_value_in_any_table_duckdb(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    wh = duckdb_warehouse
    sensitive, results = _load_everything(wh, tmp_path)
    # The search is not vacuous: hundreds of values, and kept values are found by the same search.
    assert len(sensitive) > 4000
    text = "\x1f".join(all_cells(wh))
    assert all(kept in text for kept in ("Cambrian Road", "NP20", "Street or other public place"))
    assert leaked(wh, sensitive) == set()

    # Refused as the schema says: undeclared phone and e-mail columns refuse the whole file.
    hosp = results["hosp"]
    assert hosp.status == "refused"
    assert hosp.error.startswith(
        f"{sample_path('hospital_admissions_identifiable')}:1: column 'contact_phone':"
    )
    assert "'contact_phone' (phone numbers), 'email' (e-mail addresses) look personal" in hosp.error
    assert wh.execute(wh.table("source_file")).name.str.contains("hospital").sum() == 0

    # Cleansed as the schema says: name dropped, NHS number and reference pseudonymised under the key
    # kept outside the warehouse, date of birth to an age band, full postcode to its outward code.
    assert results["ed"].status == "loaded" and results["ed"].quarantined == 0
    secret = bytes.fromhex(secret_path(wh.data_dir).read_text().strip())
    raw = read_sample("ed_assaults_identifiable")
    rows = wh.execute(wh.table("partner_record"))
    ed_rows = rows[rows.file_id == results["ed"].file_id].sort_values("line")
    detail = pd.DataFrame([json.loads(v) for v in ed_rows.detail_json])
    assert "patient_name" not in detail.columns and "date_of_birth" not in detail.columns
    assert detail.nhs_number_pseudonym.tolist() == [
        pseudonymise(v, secret, "nhs_number", "compact") for v in raw.nhs_number
    ]
    assert ed_rows.record_id.tolist() == [
        f"ed_assaults||{pseudonymise(v, secret, 'attendance_ref', 'compact')}" for v in raw.attendance_ref
    ]
    assert detail.date_of_birth_age_band[0] == "65-74"  # born 05/06/1952, assaulted 2024-03-06: aged 71
    assert detail.home_postcode_outward.tolist() == [p.split()[0] for p in raw.home_postcode]
    assert set(ed_rows.key_id) == {key_id(secret)}
    amb_rows = rows[rows.file_id == results["amb"].file_id]
    assert amb_rows.outward_code.notna().all() and amb_rows.lsoa_code.isna().all()  # no postcode lookup

    # Bad rows are quarantined with line, column and reason; the raw row is never stored.
    bad = results["bad"]
    assert (bad.rows_read, bad.loaded, bad.duplicates, bad.quarantined) == (41, 34, 0, 7)
    q = wh.quarantine(bad.file_id)
    assert set(q.raw) == {REDACTED_RAW}
    got = dict(zip(q.line, zip(q.column_name, q.reason, strict=True), strict=True))
    # Each reason names the column and the rule, never the value.
    assert got[2][0] == "sex" and got[2][1].startswith("sex: the value is not allowed; expected one of")
    assert got[3][0] == "assault_method" and got[3][1].startswith("assault_method: the value is not allowed")
    assert got[5] == ("date_of_birth", "date_of_birth: the value is not a date (an ISO or dd/mm/yyyy date)")
    assert got[6][0] == "assault_date" and "the date is in the future" in got[6][1]
    assert "2099" not in got[6][1]
    assert got[7] == ("attendance_ref", "attendance_ref: required value is missing")
    assert got[8][0] == "home_outward_postcode" and "the value does not match the pattern" in got[8][1]
    assert pd.isna(got[42][0]) and got[42][1].startswith("expected 13 fields, found 4")
    assert sorted(got) == [2, 3, 5, 6, 7, 8, 42]  # the header is line 1
    loaded_bad = rows[rows.file_id == bad.file_id].set_index("line")
    assert json.loads(loaded_bad.loc[4, "detail_json"])["location_description"] == "Outside <PERSON> house"
    # The .xlsx copy: same rows, same line numbers (sheet rows), same outcome without the truncated line.
    x = results["xlsx"]
    assert (x.rows_read, x.quarantined) == (40, 6)
    assert sorted(wh.quarantine(x.file_id).line) == [2, 3, 5, 6, 7, 8]


@pytest.mark.postgres
def test_loads_and_leaks_nothing_on_postgresql(postgres_warehouse: Warehouse, tmp_path: Path) -> None:
    wh = postgres_warehouse
    sensitive, results = _load_everything(wh, tmp_path)
    assert results["ed"].status == "loaded" and results["ed"].loaded == 300
    assert results["bad"].quarantined == 7 and results["hosp"].status == "refused"
    st = wh.status()
    assert (st.rows_read == st.loaded + st.duplicates + st.quarantined).all()
    assert leaked(wh, sensitive) == set()
    assert set(wh.quarantine().raw) == {REDACTED_RAW}


# -- idempotent, atomic --------------------------------------------------------------------------
def test_reingest_is_idempotent_and_resent_months_replace(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    wh = duckdb_warehouse
    ed_path, _ = demo_paths()[0]
    first = ingest(wh, ed_path, "ed_assaults")
    before = snapshot(wh)
    again = ingest(wh, ed_path, "ed_assaults")
    assert again.status == "already loaded" and again.file_id == first.file_id
    after = snapshot(wh)
    assert len(after.pop("ingest_run")) == len(before.pop("ingest_run")) + 1  # the attempt is logged
    assert after == before

    # A re-sent extract for 2025-01..2025-06 with one attendance listed twice: its months replace the
    # first file's, and the repeated attendance counts once.
    demo = read_sample_demo_ed()
    later = demo[demo.assault_date >= "2025-01-01"]
    resent = pd.concat([later, later.head(1)], ignore_index=True)
    path = tmp_path / "ed_2025h1_resent.csv"
    path.write_text(to_csv(resent), encoding="utf-8")
    # Sent without a supplier, it is refused: it might be a second partner's file of the same dataset.
    refused = ingest(wh, path, "ed_assaults")
    assert refused.status == "refused" and "--supplier" in refused.error and "--replace" in refused.error
    assert snapshot(wh) | {"ingest_run": []} == after | {"ingest_run": []}
    (r,) = wh.ingest("partner", path, options={"schema": "ed_assaults"}, replace=True)
    assert (r.rows_read, r.loaded, r.duplicates, r.quarantined) == (len(later) + 1, len(later), 1, 0)
    st = wh.status().set_index("name")
    a = st.loc[ed_path.name]
    assert (a.loaded, a.duplicates) == (len(demo) - len(later), len(later))
    assert st.loaded.sum() == len(demo)
    assert (st.rows_read == st.loaded + st.duplicates + st.quarantined).all()


@pytest.mark.parametrize("case", ["personal", "undeclared", "pdf", "no-key", "xlsx-bomb"])
def test_a_refused_file_leaves_nothing(duckdb_warehouse: Warehouse, tmp_path: Path, case: str) -> None:
    wh = duckdb_warehouse
    ingest(wh, sample_path("ed_assaults_identifiable"), "ed_assaults")
    ingest(wh, sample_path("substance_treatment"), "substance_treatment")
    before = snapshot(wh)
    schema = "ed_assaults"
    if case == "personal":
        path, schema = sample_path("hospital_admissions_identifiable"), "hospital_admissions"
    elif case == "undeclared":
        path = tmp_path / "extra.csv"
        path.write_text(to_csv(read_sample("ed_assaults").head(20).assign(triage_note="x")), encoding="utf-8")
    elif case == "pdf":
        path = tmp_path / "ed.csv"
        path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    elif case == "xlsx-bomb":  # a workbook is a zip: 64 MiB of zeros in a sheet, about 64 KB on disk
        path = tmp_path / "ed.xlsx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("[Content_Types].xml", "<Types/>")
            zf.writestr("xl/worksheets/sheet1.xml", bytes(64 * 1024 * 1024))
    else:
        path = tmp_path / "ed.csv"
        path.write_text(to_csv(read_sample("ed_assaults").head(20)), encoding="utf-8")
        secret_path(wh.data_dir).unlink()
    if case == "no-key":
        with pytest.raises(DiogelError, match="pseudonymisation key .* is missing, but the warehouse holds"):
            ingest(wh, path, schema)
    elif case == "xlsx-bomb":
        r = ingest(wh, path, schema)
        assert r.status == "refused" and r.error.startswith(f"{path}!xl/worksheets/sheet1.xml")
        assert "decompression bomb" in r.error and "\n" not in r.error
    else:
        r = ingest(wh, path, schema)
        assert r.status == "refused" and r.error.startswith(f"{path}:1:") and "\n" not in r.error
    after = snapshot(wh)
    assert len(after.pop("ingest_run")) == len(before.pop("ingest_run")) + 1
    assert after == before


def test_a_failure_during_the_commit_leaves_nothing(
    duckdb_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = duckdb_warehouse
    ingest(wh, sample_path("substance_treatment"), "substance_treatment")
    before = snapshot(wh)
    real_append = wh.backend.append

    def failing(name: str, rows) -> None:  # noqa: ANN001
        if name == "source_file":
            raise RuntimeError("disk full")  # after the rows, quarantine and slices were written
        real_append(name, rows)

    monkeypatch.setattr(wh.backend, "append", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(wh, Path(str(demo_paths()[1][0])), "fire_incidents")
    monkeypatch.setattr(wh.backend, "append", real_append)
    after = snapshot(wh)
    assert len(after.pop("ingest_run")) == len(before.pop("ingest_run")) + 1
    assert after == before


# -- the key -------------------------------------------------------------------------------------
def test_key_lives_outside_the_warehouse_and_is_checked(duckdb_warehouse: Warehouse) -> None:
    wh = duckdb_warehouse
    key = secret_path(wh.data_dir)
    ingest(wh, sample_path("substance_treatment"), "substance_treatment")
    assert not key.exists()  # nothing to pseudonymise: no key is made
    r = ingest(wh, sample_path("fire_incidents"), "fire_incidents")
    assert r.status == "loaded"
    assert key.parent == wh.data_dir / "secrets"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600 and stat.S_IMODE(os.stat(key.parent).st_mode) == 0o700
    secret_hex = key.read_text().strip()
    assert not any(secret_hex in c for c in all_cells(wh))
    # A different key would make new pseudonyms unlinkable: refused, naming the key file.
    key.write_text("ab" * 32 + "\n")
    with pytest.raises(DiogelError, match="is not the key the stored partner data was pseudonymised with"):
        ingest(wh, sample_path("ambulance_callouts"), "ambulance_callouts")


def test_init_creates_the_key_and_reports_where(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = cli(data, "init")
    assert result.exit_code == 0, result.output
    key = data / "secrets" / "partner-pseudonym.key"
    assert "partner pseudonymisation key created" in result.stdout and str(key) in result.stdout
    assert len(bytes.fromhex(key.read_text().strip())) == 32
    assert "partner pseudonymisation key found" in cli(data, "init").stdout


# -- the command line: one line per refusal ------------------------------------------------------
def test_cli_ingest_and_one_line_errors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ed = sample_path("ed_assaults_identifiable")

    ok = cli(data, "ingest", "partner", "--schema", "ed_assaults", str(ed))
    assert ok.exit_code == 0, ok.output
    assert f"loaded   {ed}: rows read 300 = loaded 300 + duplicates 0 + quarantined 0" in ok.stdout

    msg = one_line(cli(data, "ingest", "partner", str(ed)))
    assert msg.startswith("error: partner files need a schema: --schema NAME")
    assert one_line(cli(data, "ingest", "partner", "--schema", "ed_asaults", str(ed))).startswith(
        "error: schema ed_asaults: no such file and not a shipped schema (shipped: ambulance_callouts"
    )
    assert one_line(cli(data, "ingest", "police-street", "--schema", "ed_assaults", str(ed))) == (
        "error: --schema, --supplier and --postcode-lookup apply only to 'diogel ingest partner'"
    )

    hosp = sample_path("hospital_admissions_identifiable")
    result = cli(data, "ingest", "partner", "--schema", "hospital_admissions", str(hosp))
    assert result.exit_code == 1
    assert one_line(result).startswith(
        f"refused  {hosp}:1: column 'contact_phone': schema hospital_admissions:"
    )

    missing = tmp_path / "no_method.csv"
    missing.write_text(to_csv(read_sample("ed_assaults").drop(columns="assault_method").head(5)))
    assert one_line(cli(data, "ingest", "partner", "--schema", "ed_assaults", str(missing))) == (
        f"refused  {missing}:1: column 'assault_method': wrong header: required column 'assault_method' "
        "missing for schema ed_assaults"
    )
    extra = tmp_path / "extra.csv"
    extra.write_text(to_csv(read_sample("ed_assaults").head(5).assign(triage_note="x")))
    assert one_line(cli(data, "ingest", "partner", "--schema", "ed_assaults", str(extra))).startswith(
        f"refused  {extra}:1: column 'triage_note': wrong header: column 'triage_note' is not in schema "
        "ed_assaults"
    )
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert one_line(cli(data, "ingest", "partner", "--schema", "ed_assaults", str(xls))) == (
        f"refused  {xls}:1: this is an old Excel (.xls) workbook: save it as .xlsx or CSV"
    )

    _, text = bad_ed_rows()
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    result = cli(data, "ingest", "partner", "--schema", "ed_assaults", "--supplier", "crafted", str(bad))
    assert result.exit_code == 0
    assert f"loaded   {bad}: rows read 41 = loaded 34 + duplicates 0 + quarantined 7" in result.stdout
    quarantined = [ln for ln in result.stderr.splitlines() if ln.strip().startswith("quarantined")]
    assert quarantined[0].strip().startswith(f"quarantined {bad}:2: sex: the value is not allowed")
    personal = personal_values(read_sample("ed_assaults_identifiable").head(40))
    assert not any(p in result.output for p in personal)


def test_csv_header_matches_loosely_and_blank_columns_are_ignored(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    frame = read_sample("ed_assaults").head(10)
    frame.columns = [c.replace("_", " ").title() for c in frame.columns]  # "Attendance Ref", ...
    text = to_csv(frame)
    lines = [ln + "," for ln in text.splitlines()]  # a trailing empty column, as Excel exports
    path = tmp_path / "ed_titled.csv"
    path.write_text("\n".join(lines) + "\n")
    r = ingest(duckdb_warehouse, path, "ed_assaults")
    assert (r.status, r.loaded, r.quarantined) == ("loaded", 10, 0)
    dup = tmp_path / "dup.csv"
    rows = list(csv.reader(io.StringIO(to_csv(read_sample("ed_assaults").head(3)))))
    rows[0][1] = "Attendance_Ref"  # two columns that both mean attendance_ref
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    dup.write_text(buf.getvalue())
    r = ingest(duckdb_warehouse, dup, "ed_assaults")
    assert r.status == "refused" and "column 'attendance_ref' appears twice" in r.error


def test_a_partnership_schema_file_of_its_own(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    schema = tmp_path / "street_pastors.yaml"
    schema.write_text(
        """
name: street_pastors
title: Street pastor contacts
disclosure_threshold: 10
record_id: contact_ref
time: {field: contact_date, resolution: date}
location: {kind: lsoa, field: lsoa}
fields:
  - {name: contact_ref, type: string, required: true, treatment: pseudonymise}
  - {name: contact_date, type: date, required: true, format: "%d/%m/%Y"}
  - {name: lsoa, type: string, required: true}
  - {name: help_given, type: category, allowed: [Water, Flip-flops, Escort home, Other]}
  - {name: pastor_name, type: string, treatment: drop}
"""
    )
    rows = [
        ["contact_ref", "contact_date", "lsoa", "help_given", "pastor_name"],
        ["SP1", "05/07/2024", "W01001687", "Water", "Gareth Jones"],
        ["SP2", "05/07/2024", "w01001687", "flip-flops", "Sian Evans"],
        ["SP3", "06/07/2024", "W0100168", "Water", "Gareth Jones"],
        ["SP1", "12/07/2024", "W01001687", "Water", "Gareth Jones"],
    ]
    path = tmp_path / "pastors.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue())
    r = ingest(duckdb_warehouse, path, str(schema))
    # SP3's LSOA is one digit short: quarantined; SP1 twice is one record (counted in its first month).
    assert (r.rows_read, r.loaded, r.duplicates, r.quarantined) == (4, 2, 1, 1)
    # A reason never quotes the value, which could be anything the partner typed.
    assert r.problems == [f"{path}:4: lsoa: the value is not an LSOA code (E01 or W01 and six digits)"]
    stored = duckdb_warehouse.execute(duckdb_warehouse.table("partner_record")).sort_values("line")
    assert stored.lsoa_code.tolist() == ["W01001687"] * 3
    assert stored.schema_file.unique().tolist() == ["street_pastors.yaml"]
    assert (stored.disclosure_threshold == 10).all()
    assert json.loads(stored.detail_json.iloc[1])["help_given"] == "Flip-flops"  # the schema's spelling
    assert leaked(duckdb_warehouse, {"Gareth Jones", "Sian Evans"}) == set()


def test_postcode_lookup_places_full_postcodes_in_lsoas(tmp_path: Path) -> None:
    data = tmp_path / "data"
    amb = read_sample("ambulance_callouts").head(30)
    path = tmp_path / "amb.csv"
    path.write_text(to_csv(amb))
    # An ONSPD-style lookup (pcds, lsoa21cd) knowing the first ten postcodes, written in another spacing.
    lookup = pd.DataFrame(
        {
            "pcds": [p.replace(" ", "").lower() for p in amb.incident_postcode.head(10)],
            "lsoa21cd": [f"W0100{1400 + i}" for i in range(10)],
            "oseast1m": ["0"] * 10,
        }
    )
    lookup_path = tmp_path / "onspd_excerpt.csv"
    lookup.to_csv(lookup_path, index=False)
    args = ["ingest", "partner", "--schema", "ambulance_callouts", "--postcode-lookup", str(lookup_path)]
    result = cli(data, *args, str(path))
    assert result.exit_code == 0, result.output
    with Warehouse(None, data) as wh:
        rows = wh.execute(wh.table("partner_record")).sort_values("line")
        assert rows.lsoa_code.head(10).tolist() == [f"W0100{1400 + i}" for i in range(10)]
        assert rows.lsoa_code.iloc[10:].isna().all()
        detail = [json.loads(v)["incident_postcode_lsoa_code"] for v in rows.detail_json]
        assert detail == [v if isinstance(v, str) else None for v in rows.lsoa_code]
        assert rows.outward_code.tolist() == [p.split()[0] for p in amb.incident_postcode]
        assert leaked(wh, personal_values(amb)) == set()
