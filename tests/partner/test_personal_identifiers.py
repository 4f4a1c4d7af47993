"""National Insurance numbers, phone numbers and e-mail addresses in a partner file: refused when the schema
does not say how to treat them (by column name and by content, naming the columns), cleansed exactly as it
says when it does. Every column of every warehouse table is searched for the raw values afterwards.

The file is SYNTHETIC, made here: NI numbers in HMRC's format (invented), phone numbers in Ofcom's drama
range (07700 900xxx), e-mail addresses at example.com, invented names and dates of birth.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from diogel.sources.partner.depersonalise import pseudonymise
from diogel.sources.partner.keys import SECRET_ENV
from diogel.warehouse.core import Warehouse
from diogel.warehouse.inputs import partner_secret

ROWS = [
    ["referral_ref", "referral_date", "lsoa", "service", "client_ni_number", "date_of_birth", "mobile", "email",
     "notes"],
    ["RF1001", "03/07/2024", "W01001687", "Alcohol", "AB 12 34 56 C", "14/02/1990", "07700 900123",
     "megan.price@example.com", "JH 65 43 21 A"],
    ["RF1002", "04/07/2024", "W01001685", "Drugs", "CE 98 76 54 B", "02/11/1975", "07700 900456",
     "owen.hughes@example.com", "PR 11 22 33 D"],
    ["RF1003", "09/07/2024", "W01001687", "Alcohol", "AB 12 34 56 C", "14/02/1990", "07700 900123",
     "megan.price@example.com", "JH 65 43 21 A"],
    ["RF1004", "15/07/2024", "W01001692", "Both", "JG 10 37 95 D", "30/06/2001", "07700 900789",
     "cerys.lloyd@example.com", "AB 55 66 77 C"],
]  # fmt: skip
RAW = {v for row in ROWS[1:] for v in row[4:]} | {v.replace(" ", "") for row in ROWS[1:] for v in row[4:]}
RAW |= {"1990-02-14", "1975-11-02", "2001-06-30"}

SCHEMA_HEAD = """
name: treatment_referrals
title: Substance-misuse treatment referrals (synthetic test schema)
disclosure_threshold: 5
record_id: referral_ref
time: {field: referral_date, resolution: date}
location: {kind: lsoa, field: lsoa}
fields:
  - {name: referral_ref, type: string, required: true, treatment: pseudonymise}
  - {name: referral_date, type: date, required: true, format: "%d/%m/%Y"}
  - {name: lsoa, type: string, required: true}
  - {name: service, type: category, allowed: [Alcohol, Drugs, Both]}
"""
TREATED = """  - {name: client_ni_number, type: string, treatment: {method: pseudonymise, namespace: person, normalise: compact}}
  - {name: date_of_birth, type: date, format: "%d/%m/%Y", treatment: coarsen_dob_to_age_band}
  - {name: mobile, type: string, treatment: drop}
  - {name: email, type: string, treatment: drop}
  - {name: notes, type: string, treatment: drop}
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIOGEL_WAREHOUSE", raising=False)
    monkeypatch.delenv(SECRET_ENV, raising=False)


def write(tmp_path: Path, rows: list[list[str]], schema: str) -> tuple[Path, Path]:
    data = tmp_path / "synthetic_referrals.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    data.write_text(buf.getvalue(), encoding="utf-8")
    yaml = tmp_path / "treatment_referrals.yaml"
    yaml.write_text(schema, encoding="utf-8")
    return data, yaml


def every_cell(wh: Warehouse) -> str:
    """Every value of every column of every table, as one text."""
    cells = []
    for name in wh.ibis.list_tables():
        df = wh.execute(wh.table(name))
        for col in df.columns:
            cells.extend(
                v.decode("latin-1") if isinstance(v, bytes | bytearray | memoryview) else str(v)
                for v in df[col].tolist()
            )
    return "\x1f".join(cells)


def test_undeclared_identifiers_refuse_the_file_naming_the_columns(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    data, yaml = write(tmp_path, ROWS, SCHEMA_HEAD)
    (r,) = duckdb_warehouse.ingest("partner", data, options={"schema": str(yaml)})
    assert r.status == "refused" and not r.loaded
    # By name and by content: "notes" holds NI numbers though its name says nothing.
    for words in (
        "'client_ni_number' (National Insurance numbers)",
        "'mobile' (phone numbers)",
        "'email' (e-mail addresses)",
        "'date_of_birth' (dates of birth)",
        "'notes' (National Insurance numbers)",
    ):
        assert words in r.error, (words, r.error)
    text = every_cell(duckdb_warehouse)
    assert {v for v in RAW if v in text} == set()
    assert (
        not duckdb_warehouse.has("partner_record")
        or duckdb_warehouse.execute(duckdb_warehouse.table("partner_record").count()) == 0
    )


def test_declared_identifiers_are_cleansed_as_the_schema_says(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    data, yaml = write(tmp_path, ROWS, SCHEMA_HEAD + TREATED)
    (r,) = duckdb_warehouse.ingest("partner", data, options={"schema": str(yaml)})
    assert (r.status, r.rows_read, r.loaded, r.quarantined) == ("loaded", 4, 4, 0)
    text = every_cell(duckdb_warehouse)
    assert {v for v in RAW if v in text} == set()
    # The raw file is not stored: only its SHA-256, as the file id.
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    files = duckdb_warehouse.execute(duckdb_warehouse.table("source_file"))
    assert digest in set(files["file_id"])
    assert data.read_text(encoding="utf-8") not in text
    stored = duckdb_warehouse.execute(duckdb_warehouse.table("partner_record")).sort_values("line")
    details = [json.loads(v) for v in stored["detail_json"]]
    assert all(not ({"mobile", "email", "notes"} & set(d)) for d in details)
    # NI numbers are keyed pseudonyms (spaces ignored), so the two referrals of one person link.
    secret = partner_secret(duckdb_warehouse)
    expected = pseudonymise(pd.Series([row[4] for row in ROWS[1:]]), secret, "person", "compact").tolist()
    ni = [d["client_ni_number_pseudonym"] for d in details]
    assert ni == expected
    assert ni[0] == ni[2] != ni[1]
    assert "client_ni_number" not in set().union(*details) and "date_of_birth" not in set().union(*details)
    # Dates of birth are age bands at the referral date.
    assert [d["date_of_birth_age_band"] for d in details] == ["25-34", "45-54", "25-34", "18-24"]
