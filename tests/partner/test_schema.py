"""Partner dataset schemas: loading, validation errors and row validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from diogel.demo.files import SAMPLE_SCHEMAS, read_sample
from diogel.sources.partner.schema import SchemaError, load_schema, shipped_schemas
from diogel.sources.partner.values import parse_period, problems_frame, validate_frame

TODAY = dt.date(2025, 6, 1)
SHIPPED = [
    "ambulance_callouts",
    "ed_assaults",
    "fire_incidents",
    "hospital_admissions",
    "licensed_premises",
    "substance_treatment",
]


def test_every_required_schema_is_shipped_and_loads():
    assert shipped_schemas() == SHIPPED
    for name in SHIPPED:
        s = load_schema(name)
        assert s.name == name
        assert s.disclosure_threshold == 5
        assert s.time is not None and s.time.field in s.field_names
        assert s.location is not None
        assert all(f in s.field_names for f in s.location.fields)


def test_shipped_schema_contents_match_the_regulations():
    ed = load_schema("ed_assaults.yaml")
    # The ISTV minimum data set: date, time, means of assault, location type and description.
    for field in ("assault_date", "assault_time", "assault_method", "location_type", "location_description"):
        assert field in ed.field_names
    assert ed.time.time_of_day_field == "assault_time"
    assert ed.treatments["patient_name"].method == "drop"
    assert ed.treatments["nhs_number"].method == "pseudonymise"
    assert ed.treatments["nhs_number"].namespace == "nhs_number"
    assert ed.treatments["date_of_birth"].method == "coarsen_dob_to_age_band"
    assert ed.treatments["home_postcode"].method == "coarsen_postcode_to_lsoa_or_outward"
    fire = load_schema("fire_incidents")
    assert fire.location.kind == "coordinates" and fire.location.crs == "EPSG:27700"
    assert fire.treatments["easting"].cell_m == 100
    assert load_schema("substance_treatment").time.resolution == "quarter"
    assert load_schema("hospital_admissions").location.kind == "outward_postcode"


def _write(tmp_path: Path, data: dict, name: str = "mine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _minimal() -> dict:
    return {
        "name": "mine",
        "title": "Mine",
        "time": {"field": "when", "resolution": "date"},
        "location": {"kind": "outward_postcode", "field": "area"},
        "fields": [
            {"name": "when", "type": "date", "required": True},
            {"name": "area", "type": "string"},
            {"name": "x", "type": "string"},
        ],
    }


def test_user_schema_file_loads(tmp_path):
    s = load_schema(_write(tmp_path, _minimal()))
    assert s.field_names == ("when", "area", "x")
    assert s.source == "mine.yaml"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["fields"][2].update(type="strng"),
            "schema ed_assaults.yaml: field 'x': unknown type 'strng'",
        ),
        (lambda d: d["fields"][2].update(treatment="hash"), "field 'x': unknown treatment 'hash'"),
        (
            lambda d: d["fields"][2].update(type="category"),
            "field 'x': type category needs an 'allowed' list",
        ),
        (
            lambda d: d["fields"][2].update(pattern="[a-"),
            "field 'x': pattern '[a-' is not a valid regular expression",
        ),
        (
            lambda d: d["fields"][2].update(requird=True),
            "field 'x': unknown key 'requird' (did you mean 'required'?)",
        ),
        (lambda d: d["time"].update(field="nope"), "time: field 'nope' is not one of the schema's fields"),
        (lambda d: d["time"].update(resolution="week"), "time: unknown resolution 'week'"),
        (lambda d: d["location"].update(kind="ward"), "location: unknown kind 'ward'"),
        (
            lambda d: d.update(disclosure_threshold=0),
            "'disclosure_threshold' must be a whole number of at least 1",
        ),
        (lambda d: d["fields"].append({"name": "x", "type": "string"}), "field 'x': defined twice"),
        (
            lambda d: d["fields"][2].update(type="date", treatment={"method": "coarsen_coordinates"}),
            "field 'x': treatment coarsen_coordinates applies only to the location's x and y",
        ),
        (
            lambda d: d["fields"][2].update(treatment={"method": "coarsen_dob_to_age_band"}),
            "field 'x': coarsen_dob_to_age_band needs type date, not string",
        ),
        (
            lambda d: d["fields"][2].update(treatment={"method": "pseudonymise", "cell_m": 5}),
            "field 'x': treatment pseudonymise takes no option 'cell_m'",
        ),
    ],
)
def test_invalid_schema_errors_name_file_and_field(tmp_path, change, message):
    data = _minimal()
    change(data)
    path = _write(tmp_path, data, "ed_assaults.yaml")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    assert message in str(err.value)
    assert str(err.value).startswith("schema ed_assaults.yaml: ")


def test_coordinates_treatment_must_cover_both_axes(tmp_path):
    data = {
        "name": "pts",
        "location": {"kind": "coordinates", "x": "e", "y": "n", "crs": "EPSG:27700"},
        "fields": [
            {"name": "e", "type": "number", "treatment": {"method": "coarsen_coordinates", "cell_m": 100}},
            {"name": "n", "type": "number"},
        ],
    }
    with pytest.raises(SchemaError, match="must be given to both 'e' and 'n'"):
        load_schema(_write(tmp_path, data))


def test_unknown_schema_name_lists_shipped():
    with pytest.raises(SchemaError, match="not a shipped schema.*ed_assaults"):
        load_schema("no_such_schema")


def test_bad_yaml_reports_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nfields: [\n  - a\n")
    with pytest.raises(SchemaError, match=r"schema broken.yaml: line \d+: not valid YAML"):
        load_schema(path)


def test_validate_frame_reports_each_kind_of_problem_with_row_and_column():
    schema = load_schema("ambulance_callouts")
    frame = pd.DataFrame(
        {
            "callout_ref": ["A1", "", "A3", "A4", "A5", "A6", "A7"],
            "call_datetime": [
                "2024-01-05 10:00",
                "2024-01-05 10:00",
                "31/02/2024 10:00",  # no 31 February: unparseable
                "2030-01-01 00:00",  # future
                "05/01/2024 22:10",  # UK day-first: valid
                "2024-01-05 10:00",
                "2024-01-05 10:00",
            ],
            "category": ["Assault", "Assault", "Assault", "Assault", "Burglary", "assault", "Assault"],
            "response_category": ["2", "2", "2", "2", "2", "2", "9"],
            "alcohol_involved": ["Yes", "No", "", "maybe", "Y", "n", "TRUE"],
            "conveyed": ["Yes", "Yes", "Yes", "Yes", "Yes", "Yes", "Yes"],
            "incident_postcode": [
                "NP20 1AB",
                "NP20 1AB",
                "NP20 1AB",
                "NP20 1AB",
                "NP20 1AB",
                "NOTAPC",
                "NP201AB",
            ],
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )
    problems = validate_frame(schema, frame, today=TODAY)
    got = {(p.row, p.column): p.reason for p in problems}
    assert got == {
        (11, "callout_ref"): "required value is missing",
        (12, "call_datetime"): "the value is not a date (an ISO or dd/mm/yyyy date)",
        (13, "call_datetime"): "the date is in the future (after 2025-06-01)",
        (13, "alcohol_involved"): "the value is not true/false or yes/no",
        (14, "category"): (
            "the value is not allowed; expected one of 'Assault', 'Alcohol related', 'Overdose or poisoning', "
            "'Self harm', 'Mental health', 'Other'"
        ),
        (15, "incident_postcode"): (
            "the value does not match the pattern ^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$"
        ),
        (16, "response_category"): "the value is not allowed; expected one of '1', '2', '3', '4', '5'",
    }
    # A reason names the rule, never the value: whatever a partner typed stays out of every message.
    for value in ("31/02/2024 10:00", "2030-01-01", "maybe", "Burglary", "NOTAPC", "'9'"):
        assert not any(value in reason for reason in got.values())
    # Ordered by row, then by the schema's field order.
    assert [(p.row, p.column) for p in problems][:3] == [
        (11, "callout_ref"),
        (12, "call_datetime"),
        (13, "call_datetime"),
    ]
    assert list(problems_frame(problems).columns) == ["row", "column", "reason"]


def test_validate_frame_types_and_missing_column():
    schema = load_schema("licensed_premises")
    frame = read_sample("licensed_premises").head(4).copy()
    frame.loc[0, "capacity"] = "12.5"
    frame.loc[1, "latest_closing_time"] = "25:00"
    frame.loc[2, "easting"] = "east"
    frame.loc[3, "premises_postcode"] = "np20 1ab"  # lower case breaks the register's pattern
    frame = frame.drop(columns=["granted_date"])
    problems = validate_frame(schema, frame, today=TODAY)
    got = {(p.row, p.column): p.reason for p in problems}
    assert got[(None, "granted_date")] == "required column 'granted_date' is missing"
    assert got[(0, "capacity")] == "the value is not a whole number"
    assert got[(1, "latest_closing_time")] == "the value is not a time of day (HH:MM or HH:MM:SS)"
    assert got[(2, "easting")] == "the value is not a number"
    assert "does not match the pattern" in got[(3, "premises_postcode")]
    assert len(problems) == 5


def test_quarter_and_month_resolutions():
    q = parse_period(pd.Series(["2024-Q1", "2024Q4", "2024-05-17", "2024-Q5"]), "quarter")
    assert q.tolist()[:3] == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-10-01"),
        pd.Timestamp("2024-04-01"),
    ]
    assert pd.isna(q.iloc[3])
    m = parse_period(pd.Series(["2024-03", "2024-03-31", "2024-13"]), "month")
    assert m.tolist()[:2] == [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-01")]
    assert pd.isna(m.iloc[2])
    schema = load_schema("substance_treatment")
    frame = pd.DataFrame(
        {
            "quarter": ["2024-Q1", "2027-Q1", "2024-Q9"],
            "outward_postcode": ["NP20", "NP20", "NP20"],
            "substance": ["Opiates"] * 3,
            "in_treatment": ["3", "4", "5"],
            "new_presentations": ["1", "1", "-"],
        }
    )
    got = {(p.row, p.column): p.reason for p in validate_frame(schema, frame, today=TODAY)}
    assert got == {
        (1, "quarter"): "the date is in the future (after 2025-06-01)",
        (2, "quarter"): "the value is not a date (an ISO or dd/mm/yyyy date)",
        (2, "new_presentations"): "the value is not a whole number",
    }


@pytest.mark.parametrize("sample", sorted(SAMPLE_SCHEMAS))
def test_every_sample_validates_against_its_schema(sample):
    assert validate_frame(load_schema(SAMPLE_SCHEMAS[sample]), read_sample(sample), today=TODAY) == []
