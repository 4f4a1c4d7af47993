"""Free text is never stored raw: the scrubber, the whole-value checks, the free-text treatments in schemas,
Welsh headers, and messages that never quote a value. All values here are synthetic."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest

from diogel.sources.partner.depersonalise import apply_treatments
from diogel.sources.partner.detect import detect_personal_data, header_label, kind_by_name
from diogel.sources.partner.schema import SchemaError, load_schema, schema_from_dict, shipped_schemas
from diogel.sources.partner.scrub import (
    given_names,
    looks_like_name,
    scrub_text,
    surnames,
    whole_value_kind,
)
from diogel.warehouse.core import Warehouse

SECRET = b"k" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The example: a name outside the old lists and a spaced NHS number inside free text.
        ("victim Siôn Abernethy NHS 083 016 6130", "victim <PERSON> NHS <NHS_NUMBER>"),
        ("nhs 9434765919 and 943-476-5919", "nhs <NHS_NUMBER> and <NHS_NUMBER>"),
        ("NI AB 12 34 56 C or CE654321D", "NI <NI_NUMBER> or <NI_NUMBER>"),
        (
            "ring 07700 900461, 01632 960118 or +44 29 2018 0734",
            "ring <PHONE_NUMBER>, <PHONE_NUMBER> or <PHONE_NUMBER>",
        ),  # fmt: skip
        ("mail g.prosser@example.cymru", "mail <EMAIL_ADDRESS>"),
        ("lives NP20 1XA, near NP20", "lives <POSTCODE>, near NP20"),  # an outward code is not personal
        (
            "born 12/03/1985, 1979-11-04, 23.07.1966, 5 March 1991, 3ydd Mawrth 1985",
            "born <DATE_OF_BIRTH>, <DATE_OF_BIRTH>, <DATE_OF_BIRTH>, <DATE_OF_BIRTH>, <DATE_OF_BIRTH>",
        ),  # fmt: skip
        ("Mrs Tregenna and Oluwaseun Tregenna", "<PERSON> and <PERSON>"),
        ("Gwenllian Prosser's flat", "<PERSON> flat"),
        # Places stay: a given name before a street or park word is a place.
        ("Outside Victoria Park, Grace Street", "Outside Victoria Park, Grace Street"),
        ("Pub or bar on Commercial Street", "Pub or bar on Commercial Street"),
        # ... and so are venues and places named after people or with name-like words.
        ("The Lamb, Skinner Street", "The Lamb, Skinner Street"),
        ("The Black Horse, General Rees Square", "The Black Horse, General Rees Square"),
        ("Belle Vue Park", "Belle Vue Park"),
        ("White Star Takeaway", "White Star Takeaway"),
    ],
)
def test_scrub_text_replaces_each_identifier_with_its_placeholder(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


def test_name_lists_are_the_published_lists() -> None:
    # ONS baby names 2022-2024 (every name given to 3 or more babies) and the top 100s since 1904.
    assert len(given_names()) > 18_000
    assert {"sion", "osian", "mabli", "oluwaseun", "glenys", "gwyneth"} <= given_names()
    assert {"jones", "davies", "pritchard", "prosser", "smith", "patel"} <= surnames()


def test_whole_values_that_are_names_or_dates_of_birth() -> None:
    assert whole_value_kind("Oluwaseun Tregenna") == "<PERSON>"
    assert whole_value_kind("Siôn Abernethy") == "<PERSON>"
    for dob in ("12/03/1985", "1985-03-12", "12.03.1985", "12 March 1985"):
        assert whole_value_kind(dob) == "<DATE_OF_BIRTH>", dob
    assert whole_value_kind("943 476 5919") == "<NHS_NUMBER>"
    assert whole_value_kind("NP20 1XA") == "<POSTCODE>"
    assert whole_value_kind("NP20 1XA", identifiers=False) is None  # a declared postcode column
    for fine in ("Not known", "Pub or bar", "High Street", "NP20", "X99", "Tesco Express"):
        assert whole_value_kind(fine) is None, fine
    assert looks_like_name("Dafydd Llewellyn-Tregenna")


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Enw", "personal_name"),
        ("Enw llawn", "personal_name"),
        ("Cyfenw", "personal_name"),
        ("Rhif GIG", "nhs_number"),
        ("Dyddiad geni", "date_of_birth"),
        ("Cod post", "postcode"),
        ("Rhif ffôn", "phone"),
        ("Rhif ffon", "phone"),
        ("E-bost", "email"),
        ("Cyfeiriad", "address"),
        ("NHS No.", "nhs_number"),
        ("D.O.B", "date_of_birth"),
    ],  # fmt: skip
)
def test_welsh_and_odd_headers_are_recognised(header: str, kind: str) -> None:
    assert kind_by_name(header) == kind
    frame = pd.DataFrame({header: ["x", "y", "z"]})
    assert [f.kind for f in detect_personal_data(frame)] == [kind]


def test_a_header_that_is_personal_is_never_quoted() -> None:
    assert header_label("notes") == "'notes'"
    for header in ("Oluwaseun Tregenna", "943 476 5919", "sion.abernethy@example.org", "12/03/1985"):
        assert header not in header_label(header)


# -- schemas: every free-text column declares what it is for and its treatment -----------------------


@pytest.mark.parametrize("name", shipped_schemas())
def test_every_shipped_free_text_field_declares_purpose_and_treatment(name: str) -> None:
    schema = load_schema(name)
    for f in schema.free_text_fields:
        assert f.treatment is not None and f.treatment.method in ("drop", "derive", "scrub"), f.name
        assert f.purpose, f"{name}.{f.name} does not say what it is for"


def _schema(**field) -> dict:
    return {
        "name": "notes",
        "time": {"field": "when", "resolution": "date"},
        "fields": [
            {"name": "when", "type": "date", "required": True},
            {"name": "note", "type": "string", **field},
        ],
    }


def test_free_text_treatments_are_checked() -> None:
    with pytest.raises(SchemaError, match="free text is never stored as sent"):
        schema_from_dict(_schema(treatment="keep"))
    with pytest.raises(SchemaError, match="scrub applies only to free text"):
        schema_from_dict(_schema(treatment="scrub", pattern="^[A-Z]+$"))
    with pytest.raises(SchemaError, match="derive is for text used during ingest"):
        schema_from_dict(_schema(treatment="derive"))
    # Undeclared free text is dropped.
    schema = schema_from_dict(_schema())
    assert schema.field("note").effective_treatment.method == "drop"
    frame = pd.DataFrame({"when": ["2024-05-01"], "note": ["Siôn Abernethy 943 476 5919"]})
    out = apply_treatments(frame, schema, SECRET, today=dt.date(2025, 1, 1))
    assert list(out.columns) == ["when"]


def test_scrub_and_whole_value_checks_in_apply_treatments() -> None:
    schema = schema_from_dict(
        {
            "name": "notes",
            "fields": [
                {"name": "note", "type": "string", "treatment": "scrub", "purpose": "what happened"},
                {"name": "code", "type": "string", "pattern": "^[A-Za-z ]+$"},
            ],
        }
    )
    frame = pd.DataFrame(
        {
            "note": ["seen by Oluwaseun Tregenna, tel 07700 900461", "outside the bus station"],
            "code": ["Oluwaseun Tregenna", "AB"],
        }  # fmt: skip
    )
    out = apply_treatments(frame, schema, SECRET, today=dt.date(2025, 1, 1))
    assert out.note.tolist() == ["seen by <PERSON>, tel <PHONE_NUMBER>", "outside the bus station"]
    assert out.code.tolist() == ["<PERSON>", "AB"]


def test_derive_places_the_record_and_stores_no_text(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    schema_path = tmp_path / "calls.yaml"
    schema_path.write_text(
        "name: calls\n"
        "time: {field: call_date, resolution: date}\n"
        "location: {kind: postcode, field: address}\n"
        "fields:\n"
        "  - {name: call_ref, type: string, pattern: '^C[0-9]+$', required: true}\n"
        "  - {name: call_date, type: date, required: true}\n"
        "  - {name: address, type: string, treatment: derive, purpose: Places the call by its postcode.}\n"
    )
    data = 'call_ref,call_date,address\nC1,2024-05-01,"Flat 2, 14 Commercial Street, Newport NP20 1XA"\n'
    data += "C2,2024-05-02,Siôn Abernethy's house\n"
    path = tmp_path / "synthetic_calls.csv"
    path.write_text(data, encoding="utf-8")
    (r,) = duckdb_warehouse.ingest("partner", path, options={"schema": str(schema_path)})
    assert r.status == "loaded", r.error
    rows = duckdb_warehouse.execute(duckdb_warehouse.table("partner_record")).sort_values("line")
    assert rows.outward_code.tolist()[0] == "NP20" and pd.isna(rows.outward_code.tolist()[1])
    assert [sorted(json.loads(d)) for d in rows.detail_json] == [["call_date", "call_ref"]] * 2
    text = io.StringIO()
    rows.to_csv(text)
    assert "Commercial" not in text.getvalue() and "Abernethy" not in text.getvalue()


def test_an_identifier_in_a_number_column_is_quarantined_not_stored(
    duckdb_warehouse: Warehouse, tmp_path: Path
) -> None:
    from diogel.demo.files import sample_path

    lines = sample_path("licensed_premises").read_text().splitlines()
    header = lines[0].split(",")
    capacity = header.index("capacity")
    rows = []
    for i, line in enumerate(lines[1:4]):
        cells = next(csv.reader([line]))
        cells[capacity] = ["9434765919", "07700900461", "120"][i]
        rows.append(",".join(f'"{c}"' for c in cells))
    path = tmp_path / "synthetic_register.csv"
    path.write_text("\n".join([lines[0], *rows]) + "\n")
    (r,) = duckdb_warehouse.ingest("partner", path, options={"schema": "licensed_premises"})
    assert (r.loaded, r.quarantined) == (1, 2)
    assert all("looks like an NHS or phone number" in p for p in r.problems)
    stored = duckdb_warehouse.execute(duckdb_warehouse.table("partner_record")).detail_json.str.cat()
    assert "9434765919" not in stored and "7700900461" not in stored


def test_the_places_in_the_shipped_samples_survive_scrubbing() -> None:
    """Redaction must not destroy what the column is for: no venue or street of the samples is touched."""
    from diogel.demo.files import sample_path

    demo = Path(sample_path("ed_assaults")).parent / "demo"
    texts = {
        *pd.read_csv(sample_path("ed_assaults"), dtype=str).location_description.dropna(),
        *pd.read_csv(
            demo / "synthetic_gwent_ed_assaults_2024-07_2025-06.csv", dtype=str
        ).location_description.dropna(),
        *pd.read_csv(sample_path("licensed_premises"), dtype=str).premises_name,
        *pd.read_csv(sample_path("licensed_premises"), dtype=str).premises_address,
        *pd.read_csv(sample_path("fire_incidents"), dtype=str).station_area.dropna(),
    }
    assert len(texts) > 400
    assert {t: scrub_text(t) for t in texts if scrub_text(t) != t} == {}
