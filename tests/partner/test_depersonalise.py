"""De-personalisation: pseudonyms, coarsening and the whole-frame treatment."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import stat

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from diogel.demo.files import read_sample
from diogel.errors import DiogelError
from diogel.sources.partner.depersonalise import (
    age_band_labels,
    apply_treatments,
    coordinates_to_grid,
    dob_to_age_band,
    load_or_create_secret,
    make_secret,
    postcode_to_lsoa,
    postcode_to_outward,
    pseudonymise,
    treated_columns,
)
from diogel.sources.partner.detect import PersonalDataError
from diogel.sources.partner.schema import load_schema

TODAY = dt.date(2025, 6, 1)
SECRET = bytes(range(32))


# ---------------------------------------------------------------------------------------------------- pseudonyms


def test_pseudonym_is_the_documented_hmac():
    want = hmac.new(SECRET, b"person\x00john smith", hashlib.sha256).hexdigest()
    assert pseudonymise("John Smith", SECRET, "person") == want
    assert len(want) == 64


def test_pseudonyms_stable_normalised_keyed_and_namespaced():
    values = pd.Series(["John Smith", "  john   SMITH ", "Jane Smith", None, ""])
    a = pseudonymise(values, SECRET, "person")
    b = pseudonymise(values, SECRET, "person")
    assert a.tolist() == b.tolist()  # stable
    assert a[0] == a[1]  # case and whitespace normalised, so the same person links
    assert a[0] != a[2]
    assert pd.isna(a[3]) and pd.isna(a[4])
    other_secret = pseudonymise(values, make_secret(), "person")
    assert other_secret[0] != a[0]
    other_field = pseudonymise(values, SECRET, "witness")
    assert other_field[0] != a[0]  # same value in another namespace does not link
    nhs = pseudonymise(pd.Series(["943 476 5919", "943-476-5919", "9434765919"]), SECRET, "nhs", "compact")
    assert nhs.nunique() == 1
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonymise("x", b"short", "ns")


# ---------------------------------------------------------------------------------------------------- postcodes


def test_postcode_to_outward():
    assert postcode_to_outward("np20 1ab") == "NP20"
    assert postcode_to_outward("NP441AB") == "NP44"
    assert postcode_to_outward("NP4 1AB") == "NP4"
    assert postcode_to_outward("CF83 1XA") == "CF83"
    assert postcode_to_outward("NP20") == "NP20"
    assert postcode_to_outward("not a postcode") is None
    got = postcode_to_outward(pd.Series(["NP19 7JX", None, "SW1A 1AA"]))
    assert got[0] == "NP19" and pd.isna(got[1]) and got[2] == "SW1A"


def test_postcode_to_lsoa_with_and_without_lookup():
    lookup = pd.DataFrame({"pcds": ["NP20 1AB", "NP19 7JX"], "lsoa21cd": ["W01001600", "W01001700"]})
    pcs = pd.Series(["np201ab", "NP19 7JX", "NP44 2ZZ", None])
    got = postcode_to_lsoa(pcs, lookup)
    assert got.tolist()[:3] == ["W01001600", "W01001700", "NP44"]  # unmatched: outward code
    assert pd.isna(got[3])
    assert postcode_to_lsoa("NP20 1AB") == "NP20"  # no lookup: outward code
    with pytest.raises(ValueError, match="postcode lookup needs"):
        postcode_to_lsoa(pcs, pd.DataFrame({"a": [1], "b": [2]}))


# ---------------------------------------------------------------------------------------------------- ages


def test_age_band_labels():
    assert age_band_labels() == ["0-9", "10-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
    assert age_band_labels((18, 65)) == ["under 18", "18-64", "65+"]


@pytest.mark.parametrize(
    ("dob", "on", "band"),
    [
        ("2000-06-15", "2018-06-14", "10-17"),  # 17 until the day before the 18th birthday
        ("2000-06-15", "2018-06-15", "18-24"),  # 18 on the birthday
        ("15/06/2000", "2018-06-15", "18-24"),  # UK day-first date of birth
        ("2004-02-29", "2022-02-28", "10-17"),  # leap-day birthday not yet reached on 28 February
        ("2004-02-29", "2022-03-01", "18-24"),
        ("1930-01-01", "2024-01-01", "75+"),  # 94
        ("2024-01-01", "2024-01-01", "0-9"),  # 0
        ("2025-01-01", "2024-01-01", None),  # born after the date
        ("1880-01-01", "2024-01-01", None),  # 144: not a plausible age
        ("not a date", "2024-01-01", None),
    ],
)
def test_dob_to_age_band_by_hand(dob, on, band):
    assert dob_to_age_band(dob, on) == band


def test_dob_to_age_band_series_with_per_row_dates_and_custom_bands():
    dobs = pd.Series(["1990-05-01", "2010-05-01"])
    on = pd.Series(["2024-04-30", "2024-05-01"])
    # 2024-04-30: 33 (birthday the next day); 2024-05-01: exactly 14.
    assert dob_to_age_band(dobs, on).tolist() == ["25-34", "10-17"]
    assert dob_to_age_band(dobs, on, bands=(18, 65)).tolist() == ["18-64", "under 18"]


# ---------------------------------------------------------------------------------------------------- grid


def test_coordinates_to_grid_rounds_half_up_to_cell_centres():
    gx, gy = coordinates_to_grid([331249.9, 331250.0, 331150.0], [188149.99, 188150, 188050], cell_m=100)
    # floor(v / 100 + 0.5) * 100: 3312.499 + 0.5 -> 3312 -> 331200; 3312.5 + 0.5 -> 3313 -> 331300.
    assert gx.tolist() == [331200, 331300, 331200]
    assert gy.tolist() == [188100, 188200, 188100]
    gx, _ = coordinates_to_grid([331260], [0], cell_m=250)  # 1325.04 + 0.5 -> 1325 -> 331250
    assert gx.tolist() == [331250]
    gx, gy = coordinates_to_grid([np.nan], [1.0])
    assert np.isnan(gx[0])


def test_coordinates_to_grid_transforms_wgs84_with_pyproj():
    # BNG (331200, 188100) in Newport is lon -2.9944535, lat 51.5875353 (pyproj, OSTN15 grid where present
    # or the Helmert transform: either is within a few metres, far inside a 100 m cell).
    gx, gy = coordinates_to_grid([-2.9944535], [51.5875353], cell_m=100, crs="EPSG:4326")
    assert (gx[0], gy[0]) == (331200, 188100)


# ---------------------------------------------------------------------------------------------------- whole frame


def _cells(frame: pd.DataFrame) -> list[str]:
    return [str(v) for v in frame.astype(object).to_numpy().ravel()]


def test_apply_treatments_leaves_no_raw_personal_value_anywhere():
    schema = load_schema("ed_assaults")
    raw = read_sample("ed_assaults_identifiable")
    out = apply_treatments(raw, schema, SECRET, today=TODAY)

    dob_iso = pd.to_datetime(raw.date_of_birth, format="%d/%m/%Y").dt.strftime("%Y-%m-%d")
    sensitive = (
        set(raw.patient_name)
        | set(raw.date_of_birth)
        | set(dob_iso)
        | set(raw.nhs_number)
        | {v.replace(" ", "") for v in raw.nhs_number}
        | set(raw.home_postcode)
        | {v.replace(" ", "") for v in raw.home_postcode}
        | set(raw.attendance_ref)
    )
    assert len(sensitive) > 1500  # 300 rows x several identifiers: the search is not vacuous
    cells = _cells(out)
    leaked = {s for s in sensitive for c in cells if s in c}
    assert leaked == set()

    assert list(out.columns) == [
        "attendance_ref_pseudonym",
        "arrival_datetime",
        "assault_date",
        "assault_time",
        "assault_method",
        "location_type",
        "location_description",
        "sex",
        "nhs_number_pseudonym",
        "date_of_birth_age_band",
        "home_postcode_lsoa_code",
        "home_postcode_outward",
    ]
    assert out.home_postcode_outward.tolist() == [postcode_to_outward(p) for p in raw.home_postcode]
    assert out.home_postcode_lsoa_code.isna().all()  # no lookup given
    # Row 0 by hand: born 05/06/1952, assaulted 2024-03-06 -> 71 (birthday in June not reached) -> 65-74.
    assert (raw.date_of_birth[0], raw.assault_date[0]) == ("05/06/1952", "2024-03-06")
    assert out.date_of_birth_age_band[0] == "65-74"
    assert out.nhs_number_pseudonym[0] == pseudonymise(raw.nhs_number[0], SECRET, "nhs_number", "compact")
    # Every schema column the file has, treated; the optional fields it lacks are simply absent.
    assert set(out.columns) == {c for cols in treated_columns(schema).values() for c in cols} - {
        "age_band",
        "home_outward_postcode",
        "assault_lsoa",
        "reported_to_police",
    }


def test_apply_treatments_links_nhs_numbers_across_datasets_with_one_secret():
    ed = load_schema("ed_assaults")
    hosp = load_schema("hospital_admissions")
    person = {"nhs_number": ["943 476 5919"], "date_of_birth": ["1990-01-01"]}
    a = apply_treatments(
        pd.DataFrame({**person, "attendance_ref": ["E1"], "assault_date": ["2024-01-01"]}),
        ed,
        SECRET,
        today=TODAY,
    )
    b = apply_treatments(
        pd.DataFrame(
            {"nhs_number": ["9434765919"], "admission_ref": ["H1"], "admission_date": ["2024-02-01"]}
        ),
        hosp,
        SECRET,
        today=TODAY,
    )
    assert a.nhs_number_pseudonym[0] == b.nhs_number_pseudonym[0]
    assert a.attendance_ref_pseudonym[0] != pseudonymise("E1", SECRET, "admission_ref", "compact")


def test_apply_treatments_uses_postcode_lookup_and_drops_undeclared_columns():
    schema = load_schema("ambulance_callouts")
    raw = read_sample("ambulance_callouts").head(50).copy()
    raw["crew_notes_id"] = "x"  # undeclared and not personal: simply not stored
    lookup = pd.DataFrame(
        {"postcode": raw.incident_postcode.head(10), "lsoa_code": [f"W0100{i:04d}" for i in range(10)]}
    )
    out = apply_treatments(raw, schema, SECRET, postcode_lookup=lookup, today=TODAY)
    assert "crew_notes_id" not in out.columns and "incident_postcode" not in out.columns
    assert out.incident_postcode_lsoa_code.head(10).tolist() == [f"W0100{i:04d}" for i in range(10)]
    assert out.incident_postcode_lsoa_code.iloc[10:].isna().all()
    assert out.incident_postcode_outward.notna().all()
    cells = _cells(out)
    assert not any(pc in c or pc.replace(" ", "") in c for pc in raw.incident_postcode for c in cells)


def test_apply_treatments_coarsens_coordinates_and_finds_lsoa():
    schema = load_schema("fire_incidents")
    raw = pd.DataFrame(
        {
            "incident_ref": ["F1", "F2", "F3"],
            "call_datetime": ["2024-05-01 10:00"] * 3,
            "incident_type": ["Secondary fire"] * 3,
            "motive": ["Deliberate"] * 3,
            "property_type": ["Other outdoor"] * 3,
            "easting": ["331234", "331777", "340000"],
            "northing": ["188111", "188222", "190000"],
        }
    )
    areas = gpd.GeoDataFrame(
        {"LSOA21CD": ["W01000001", "W01000002"]},
        geometry=[box(331000, 188000, 331500, 188500), box(331500, 188000, 332000, 188500)],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")  # boundaries in WGS84 as published; reprojected inside
    out = apply_treatments(raw, schema, SECRET, lsoa_areas=areas, today=TODAY)
    assert out.grid_x.tolist() == [331200, 331800, 340000]
    assert out.grid_y.tolist() == [188100, 188200, 190000]
    assert out.lsoa_code.tolist()[:2] == ["W01000001", "W01000002"]
    assert pd.isna(out.lsoa_code[2])
    assert "easting" not in out.columns and "northing" not in out.columns
    assert not any(v in c for v in ("331234", "331777", "188111", "188222") for c in _cells(out))


def test_apply_treatments_refuses_untreated_personal_data():
    schema = load_schema("hospital_admissions")
    with pytest.raises(PersonalDataError, match="'contact_phone' \\(phone numbers\\), 'email' \\(e-mail"):
        apply_treatments(read_sample("hospital_admissions_identifiable"), schema, SECRET, today=TODAY)
    # The same file without the undeclared columns is cleansed.
    raw = read_sample("hospital_admissions_identifiable").drop(columns=["contact_phone", "email"])
    out = apply_treatments(raw, schema, SECRET, today=TODAY)
    assert {"patient_name", "nhs_number", "date_of_birth", "patient_postcode"}.isdisjoint(out.columns)
    cells = _cells(out)
    for col in ("patient_name", "nhs_number", "date_of_birth", "patient_postcode"):
        assert not any(v in c for v in raw[col] for c in cells), col


# ---------------------------------------------------------------------------------------------------- secret


def test_secret_created_private_and_reused(tmp_path):
    path = tmp_path / "keys" / "pseudonym.key"
    first = load_or_create_secret(path, warehouse_dir=tmp_path / "warehouse")
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_secret(path) == first
    assert make_secret() != make_secret()


def test_secret_refused_when_shared_or_inside_warehouse(tmp_path):
    path = tmp_path / "k.key"
    load_or_create_secret(path)
    os.chmod(path, 0o644)
    with pytest.raises(DiogelError, match="accessible to other users .*chmod 600"):
        load_or_create_secret(path)
    with pytest.raises(DiogelError, match="outside the warehouse"):
        load_or_create_secret(tmp_path / "wh" / "k.key", warehouse_dir=tmp_path / "wh")
    bad = tmp_path / "bad.key"
    bad.write_text("zz")
    os.chmod(bad, 0o600)
    with pytest.raises(DiogelError, match="does not hold a hex"):
        load_or_create_secret(bad)
