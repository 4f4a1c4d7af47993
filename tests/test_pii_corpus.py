"""A synthetic PII corpus: every kind of identifier, everywhere a careless partner could put it, through the
CLI and the portal upload, on each warehouse and portal database engine. Afterwards no raw value is in any
column of any table, in the quarantine, in the upload results or in any captured output or log line.

All values are synthetic: NHS numbers in NHS England's test range with valid check digits, names from the shipped name lists
combined at random, Ofcom's drama telephone ranges, example.org e-mail addresses, NI numbers in HMRC's
format.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from typer.testing import CliRunner

from diogel.cli import app
from diogel.sources.partner.identifiers import is_valid_nhs_number, nhs_check_digit
from diogel.warehouse.core import Warehouse

pytestmark = pytest.mark.slow

runner = CliRunner()
PASSWORD = "correct horse battery staple"


def nhs(first_nine: str) -> str:
    number = first_nine + str(nhs_check_digit(first_nine))
    assert is_valid_nhs_number(number)
    return number


# NHS England's test range (999 000 0000 to 999 999 9999), so no number can be a real patient's.
NHS_UNSPACED = [nhs("999115838"), nhs("999123757"), nhs("999131676")]
NHS_SPACED = [f"{n[:3]} {n[3:6]} {n[6:]}" for n in (nhs("999139595"), nhs("999147514"), nhs("999155433"))]
NAMES_WELSH = ["Siôn Abernethy", "Gwenllian Prosser", "Dafydd Llewellyn-Tregenna"]
NAMES_ENGLISH = ["Oluwaseun Tregenna", "Charlotte Whitacre", "Harrison Pemberton"]
DOBS = ["12/03/1985", "1979-11-04", "23.07.1966", "5 March 1991"]  # four formats
POSTCODES = ["NP20 1XA", "CF10 3NQ", "NP44 6HZ"]
PHONES = ["07700 900461", "01632 960 118", "029 2018 0734"]
EMAILS = ["sion.abernethy@example.org", "g.prosser@example.cymru"]
NI_NUMBERS = ["AB 12 34 56 C", "CE654321D"]
ALL = [*NHS_UNSPACED, *NHS_SPACED, *NAMES_WELSH, *NAMES_ENGLISH, *DOBS, *POSTCODES, *PHONES, *EMAILS,
       *NI_NUMBERS]  # fmt: skip


def sensitive() -> set[str]:
    """Every raw value, in the forms a loader or message might write it."""
    out: set[str] = set()
    for v in ALL:
        out |= {v, v.replace(" ", ""), v.lower(), v.upper()}
    for name in NAMES_WELSH + NAMES_ENGLISH:
        out |= set(name.replace("-", " ").split()[1:])  # surnames alone: Abernethy, Tregenna, ...
    out |= {"Sion Abernethy", "1985-03-12", "1966-07-23", "1991-03-05"}  # folded, and DOBs as ISO dates
    return {v for v in out if len(v) >= 6}


# ----------------------------------------------------------------------------------------------------
# The corpus: ED assault files (Cardiff Model schema) written as CSV and as XLSX


def base_row(i: int) -> dict[str, str]:
    return {
        "attendance_ref": f"RGH{700000 + i}",
        "arrival_datetime": "2024-05-04 23:40",
        "assault_date": "2024-05-04",
        "assault_time": "23:10",
        "assault_method": "Body (fist, feet, head)",
        "location_type": "Street or other public place",
        "location_description": "Outside the bus station",
        "assault_lsoa": "W01001687",
        "reported_to_police": "No",
        "sex": "Male",
        "home_outward_postcode": "NP20",
    }


def free_text(i: int) -> str:
    """A location description that carries one of every identifier."""
    return (
        f"victim {NAMES_WELSH[i % 3]} (NHS {NHS_SPACED[i % 3]}, also {NHS_UNSPACED[i % 3]}) born {DOBS[i % 4]}, "
        f"friend {NAMES_ENGLISH[i % 3]} tel {PHONES[i % 3]} e-mail {EMAILS[i % 2]} NI {NI_NUMBERS[i % 2]}, "
        f"lives at {POSTCODES[i % 3]}; assaulted outside the bus station"
    )


def declared_rows() -> list[dict[str, str]]:
    rows = []
    for i in range(8):
        row = base_row(i)
        row.update(
            patient_name=(NAMES_WELSH + NAMES_ENGLISH)[i % 6],
            nhs_number=(NHS_SPACED + NHS_UNSPACED)[i % 6],
            date_of_birth=DOBS[i % 4],  # "5 March 1991" is not a date the schema reads: quarantined
            home_postcode=POSTCODES[i % 3],
            location_description=free_text(i),
        )
        rows.append(row)
    # Whole values in free text: a name alone, a date of birth alone, a value that contains an NHS number.
    for i, text in enumerate([NAMES_ENGLISH[0], DOBS[1], f"ref {NHS_UNSPACED[1]}", EMAILS[0], PHONES[0]]):
        rows.append({**base_row(20 + i), "location_description": text})
    # Identifiers where only a category or a pattern is allowed: quarantined, and never quoted.
    for i, (col, value) in enumerate(
        [
            ("sex", NAMES_WELSH[0]),
            ("assault_method", DOBS[0]),
            ("reported_to_police", NHS_SPACED[0]),
            ("assault_lsoa", f"W01 {NHS_UNSPACED[2]}"),
            ("home_outward_postcode", POSTCODES[1]),
            ("assault_time", PHONES[1]),
            ("assault_date", DOBS[2].replace(".", "/") + "x"),
        ]  # fmt: skip
    ):
        rows.append({**base_row(40 + i), col: value, "location_description": free_text(i)})
    # Missing required value, identifiers elsewhere in the row.
    rows.append({**base_row(60), "attendance_ref": "", "patient_name": NAMES_WELSH[1]})
    return rows


def renamed(rows: list[dict[str, str]], headers: dict[str, str]) -> list[dict[str, str]]:
    return [{headers.get(k, k): v for k, v in row.items()} for row in rows]


WELSH = {"patient_name": "Enw llawn", "nhs_number": "Rhif GIG", "date_of_birth": "Dyddiad geni",
         "home_postcode": "Cod post"}  # fmt: skip
ODD = {"patient_name": "Patient  NAME", "nhs_number": "NHS No.", "date_of_birth": "D.O.B",
       "home_postcode": "Post Code", "location_description": "Location-Description"}  # fmt: skip


def corpus() -> dict[str, tuple[list[str], list[list[str]], str]]:
    """File stem -> (header, rows, expected status)."""
    declared = declared_rows()
    files: dict[str, tuple[list[dict[str, str]], str]] = {
        "declared": (declared, "loaded"),
        "welsh_headers": (renamed(declared[:8], WELSH), "loaded"),
        "odd_headers": (renamed(declared[:8], ODD), "loaded"),
        # Undeclared columns (in English and Welsh) holding identifiers: the whole file is refused.
        "undeclared": (
            [
                {
                    **r,
                    "notes": free_text(i),
                    "Rhif ffôn": PHONES[i % 3],
                    "E-bost": EMAILS[i % 2],
                    "Enw": NAMES_ENGLISH[i % 3],
                }
                for i, r in enumerate(declared[:8])
            ],  # fmt: skip
            "refused",
        ),
        "undeclared_welsh_only": (
            [{**r, "Rhif ffôn": PHONES[i % 3]} for i, r in enumerate(declared[:8])],
            "refused",
        ),
    }
    out: dict[str, tuple[list[str], list[list[str]], str]] = {}
    for stem, (rows, status) in files.items():
        header = list(dict.fromkeys(k for row in rows for k in row))
        out[stem] = (header, [[row.get(h, "") for h in header] for row in rows], status)
    # A file without a header row: its first line of identifiers is read as the header.
    header, rows, _ = out["declared"]
    out["headerless"] = (rows[0], rows[1:], "refused")
    return out


def write_corpus(folder: Path) -> dict[Path, str]:
    """Every corpus file as ``synthetic_pii_<stem>.csv`` and ``.xlsx``; path -> expected status."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[Path, str] = {}
    for stem, (header, rows, status) in corpus().items():
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        text = buf.getvalue()
        if stem == "declared":
            # A line with more fields than the header, carrying identifiers: quarantined, never stored raw.
            text += ",".join(["RGH799999", *ALL[:14]]) + "\n"
        csv_path = folder / f"synthetic_pii_{stem}.csv"
        csv_path.write_text(text, encoding="utf-8")
        paths[csv_path] = status
        wb = Workbook()
        ws = wb.active
        ws.append(header)
        for row in rows:
            ws.append(row)
        xlsx_path = folder / f"synthetic_pii_{stem}.xlsx"
        wb.save(xlsx_path)
        paths[xlsx_path] = status
    return paths


# ----------------------------------------------------------------------------------------------------
# Searching


def warehouse_text(wh: Warehouse) -> str:
    """Every value of every column of every table in the warehouse."""
    cells: list[str] = []
    for name in wh.ibis.list_tables():
        df = wh.execute(wh.table(name))
        for col in df.columns:
            cells.extend(
                v.decode("latin-1") if isinstance(v, bytes | bytearray | memoryview) else str(v)
                for v in df[col].tolist()
            )
    return "\x1f".join(cells)


def database_text(url: str) -> str:
    """Every value of every column of every table of a SQLAlchemy database (the portal's)."""
    from sqlalchemy import MetaData, create_engine, select

    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    cells: list[str] = []
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(select(table)):
                cells.extend(str(v) for v in row)
    engine.dispose()
    assert cells, "the portal database is empty: the search would be vacuous"
    return "\x1f".join(cells)


def assert_clean(where: str, text: str) -> None:
    found = sorted(v for v in sensitive() if v in text)
    assert not found, f"{where} holds raw personal values: {found}"


def assert_search_can_fail(text: str) -> None:
    """The search is not vacuous: the values kept on purpose are found by the same search."""
    for kept in ("assaulted outside the bus station", "<PERSON>", "<NHS_NUMBER>", "<DATE_OF_BIRTH>", "<POSTCODE>",
                 "<PHONE_NUMBER>", "<EMAIL_ADDRESS>", "<NI_NUMBER>", "NP20"):  # fmt: skip
        assert kept in text, kept


# ----------------------------------------------------------------------------------------------------
# Through the CLI, on DuckDB and on PostgreSQL


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "duckdb" else request.getfixturevalue("postgres_url")


def test_cli_ingest_of_the_corpus_stores_and_prints_no_personal_value(
    tmp_path: Path, warehouse_url: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    paths = write_corpus(tmp_path / "corpus")
    output: list[str] = []
    for path, status in paths.items():
        args = ["--data-dir", str(data)]
        if warehouse_url:
            args += ["--warehouse", warehouse_url]
        # Each file its own supplier: one supplier's files of the same months replace each other.
        supplier = ["--supplier", f"{path.stem}-{path.suffix[1:]}"]
        result = runner.invoke(
            app, [*args, "ingest", "partner", "--schema", "ed_assaults", *supplier, str(path)]
        )
        output.append(result.output + result.stderr)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.output.lstrip().startswith(status), (path.name, result.output[:400])
    text = "\n".join(output)
    assert "quarantined" in text and "refused" in text
    assert_clean("the CLI output", text)
    assert_clean("the log", caplog.text)
    with Warehouse(warehouse_url, data) as wh:
        stored = warehouse_text(wh)
        assert_search_can_fail(stored)
        assert_clean("the warehouse", stored)
        q = wh.quarantine()
        assert len(q) >= 2 * 9
        assert_clean("the quarantine", "\x1f".join(map(str, q.to_numpy().ravel())))
        # Welsh and odd headers matched the treated fields: names dropped, DOBs banded, NHS pseudonymised.
        rows = wh.execute(wh.table("partner_record"))
        files = wh.execute(wh.table("source_file"))
        welsh = files[files.name.str.contains("welsh_headers")].file_id
        detail = rows[rows.file_id.isin(welsh)].detail_json
        assert detail.str.contains("nhs_number_pseudonym").all()
        assert detail.str.contains("date_of_birth_age_band").all()
        assert not detail.str.contains("patient_name").any()


# ----------------------------------------------------------------------------------------------------
# Through the portal's upload, on a SQLite and a PostgreSQL portal database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def portal_db(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def nurse(tmp_path: Path, portal_db: str | None) -> Iterator[tuple[object, object]]:
    """Log in a contributor of a health board, whose agreement lets it upload ED assaults.

    Yields a function that makes a new health board and its logged-in contributor on each call:
    each corpus file comes from its own board (supplier), since files of one supplier covering the
    same months replace each other, and a smaller one is refused (guarded replacement).
    """
    from diogel.portal import services
    from diogel.portal.app import PortalConfig, create_app

    data = tmp_path / "data"
    Warehouse(None, data).close()
    application = create_app(PortalConfig(data_dir=data, db=portal_db, area="W14000022", warm_cache=False))
    portal = application.state.portal
    made = 0

    def login_new_board() -> TestClient:
        nonlocal made
        made += 1
        with portal.db.session() as s:
            agency = services.get_or_create_agency(
                s, None, f"Synthetic Health Board {made}", "health", list(portal.datasets)
            )
            services.create_user(s, None, f"nurse{made}", PASSWORD, "contributor", agency, "ED Reception")
        client = TestClient(application, base_url="http://testserver")
        page = client.get("/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        r = client.post("/login", data={"username": f"nurse{made}", "password": PASSWORD, "csrf_token": token},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text[:300]
        return client

    yield login_new_board, portal
    portal.close()


def test_portal_upload_of_the_corpus_stores_and_shows_no_personal_value(
    tmp_path: Path, nurse: tuple[object, object], portal_db: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    login_new_board, portal = nurse
    pages: list[str] = []
    for path, status in write_corpus(tmp_path / "corpus").items():
        client = login_new_board()
        token = client.get("/api/me").json()["csrf_token"]
        r = client.post(
            "/api/uploads",
            data={"dataset": "partner:ed_assaults"},
            files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code in (200, 422), (path.name, r.status_code, r.text[:300])
        body = r.json()
        got = body.get("status") or body["detail"]["status"]
        assert got == status, (path.name, r.text[:400])
        upload_id = body.get("upload_id") or body["detail"]["upload_id"]
        pages += [
            r.text,
            client.get(f"/uploads/{upload_id}").text,
            client.get(f"/api/uploads/{upload_id}").text,
        ]
    text = "\n".join(pages)
    assert "the value is not allowed" in text
    assert_clean("the upload results", text)
    assert_clean("the log", caplog.text)
    url = portal_db or f"sqlite:///{tmp_path / 'data' / 'portal.sqlite'}"
    assert_clean("the portal database", database_text(url))
    with Warehouse(None, tmp_path / "data") as wh:
        stored = warehouse_text(wh)
    assert_search_can_fail(stored)
    assert_clean("the warehouse", stored)
