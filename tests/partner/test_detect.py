"""Personal-data detection by column name and by content."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from diogel.demo.files import read_sample
from diogel.sources.partner.detect import (
    FORENAMES,
    SURNAMES,
    PersonalDataError,
    check_allowed,
    detect_personal_data,
    looks_like_address,
    looks_like_personal_name,
)
from diogel.sources.partner.identifiers import (
    is_email,
    is_full_postcode,
    is_uk_phone,
    is_valid_nhs_number,
    is_valid_ni_number,
    nhs_check_digit,
)
from diogel.sources.partner.schema import load_schema

TODAY = dt.date(2025, 6, 1)


def test_nhs_modulus_11_by_hand():
    # 943 476 5919: weights 10..2 on 9,4,3,4,7,6,5,9,1:
    #   90 + 36 + 24 + 28 + 42 + 30 + 20 + 27 + 2 = 299; 299 mod 11 = 2 (11 * 27 = 297); 11 - 2 = 9 = last digit.
    assert nhs_check_digit("943476591") == 9
    assert is_valid_nhs_number("943 476 5919")
    assert is_valid_nhs_number("943-476-5919")
    assert is_valid_nhs_number(9434765919)
    assert not is_valid_nhs_number("943 476 5918")  # check digit should be 9
    # 4000000004: 4 * 10 = 40; 40 mod 11 = 7; 11 - 7 = 4.
    assert is_valid_nhs_number("4000000004")
    # 2000000010: 2*10 + 1*2 = 22; 22 mod 11 = 0; 11 - 0 = 11, which becomes check digit 0.
    assert nhs_check_digit("200000001") == 0
    assert is_valid_nhs_number("2000000010")
    # 123456789x: 10+18+24+28+30+30+28+24+18 = 210; 210 mod 11 = 1; 11 - 1 = 10: no valid number.
    assert nhs_check_digit("123456789") is None
    assert not any(is_valid_nhs_number(f"123456789{d}") for d in range(10))
    assert not is_valid_nhs_number("943476591")  # nine digits
    assert not is_valid_nhs_number("94347659190")  # eleven digits


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("AB123456C", True),
        ("ab 12 34 56 c", True),
        ("OA123456A", True),  # O is barred only as the second letter
        ("QQ123456C", False),  # Q is never used (QQ is HMRC's example prefix)
        ("DA123456A", False),  # D not first
        ("AD123456A", False),  # D not second
        ("AO123456A", False),  # O not second
        ("BG123456A", False),
        ("GB123456A", False),
        ("NK123456A", False),
        ("KN123456A", False),
        ("TN123456A", False),
        ("NT123456A", False),
        ("ZZ123456A", False),
        ("AB123456E", False),  # suffix A-D only
        ("AB12345C", False),
    ],
)
def test_ni_number_rules(value, valid):
    assert is_valid_ni_number(value) is valid


def test_phone_email_postcode_address_name_checks():
    for ok in ("01633 123456", "+44 7700 900123", "07700900123", "(01632) 960 001", "0044 1633 123456"):
        assert is_uk_phone(ok), ok
    for bad in ("12345", "06123 456789", "9434765919", "01633 1234"):
        assert not is_uk_phone(bad), bad
    assert is_email("jane.jones@example.com") and not is_email("jane at example.com")
    assert is_full_postcode("NP20 1AB") and is_full_postcode("np201ab") and is_full_postcode("CF83 1XA")
    assert not is_full_postcode("NP20")  # outward code only: allowed by the Regulations
    assert not is_full_postcode("CF83 1XC")  # C is never used in an inward code
    assert looks_like_address("12 Commercial Street, Newport") and looks_like_address("Flat 3, 7a Bryn Road")
    assert not looks_like_address("Commercial Street")
    assert looks_like_personal_name("Sarah Jones")
    assert looks_like_personal_name("RHYS WILLIAMS")
    assert looks_like_personal_name("Mrs J Smith")
    assert looks_like_personal_name("Dr Angharad Wyn")  # unlisted names, caught by the title
    assert looks_like_personal_name("assaulted by Gareth Evans outside")
    assert not looks_like_personal_name("The Red Lion, High Street")
    assert not looks_like_personal_name("Amber")
    assert len(FORENAMES) >= 200 and len(SURNAMES) >= 200


def _personal_frame(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    fore, sur = sorted(FORENAMES), sorted(SURNAMES)
    names = [
        f"{fore[i]} {sur[j]}" for i, j in zip(rng.integers(0, 200, n), rng.integers(0, 200, n), strict=True)
    ]
    dobs = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 20000, n), "D")
    recent = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D")
    nhs = []
    while len(nhs) < n:
        body = "999" + "".join(map(str, rng.integers(0, 10, 6)))
        check = nhs_check_digit(body)
        if check is not None:
            nhs.append(body + str(check))
    return pd.DataFrame(
        {
            "patient_name": names,
            "col_b": dobs.strftime("%d/%m/%Y"),  # dates of birth under an uninformative name
            "nhs_no": nhs,
            "ni": [f"AB{v:06d}C" for v in rng.integers(0, 999999, n)],
            "contact": [f"07700 900{v:03d}" for v in rng.integers(0, 1000, n)],
            "mail": [f"user{i}@example.com" for i in range(n)],
            "home": [f"{i + 1} Church Road, Risca" for i in range(n)],
            "pc": [f"NP11 {d}AB" for d in rng.integers(1, 10, n)],
            # Innocent columns that must not be reported:
            "premises_name": ["The Red Lion"] * n,
            "priority": rng.choice(["Red", "Amber", "Green"], n),
            "outward_postcode": ["NP20"] * n,
            "incident_date": recent.strftime("%Y-%m-%d"),
            "count": rng.integers(0, 50, n),
            "ref": [f"{v:010d}" for v in rng.integers(10**9, 10**10 - 1, n)],
            "free_text": ["Outside the chip shop"] * (n - 2) + ["Gareth Evans was there", "Sian Morgan"],
        }
    )


def test_detect_finds_each_kind_and_nothing_else():
    frame = _personal_frame()
    findings = detect_personal_data(frame, today=TODAY)
    got = {(f.column, f.kind) for f in findings}
    assert got == {
        ("patient_name", "personal_name"),
        ("col_b", "date_of_birth"),
        ("nhs_no", "nhs_number"),
        ("ni", "ni_number"),
        ("contact", "phone"),
        ("mail", "email"),
        ("home", "address"),
        ("pc", "postcode"),
    }
    by = {f.column: f for f in findings}
    assert by["nhs_no"].share_of_values == 1.0
    assert by["nhs_no"].evidence == "40 of 40 sampled values are valid NHS numbers (modulus-11 check)"
    assert "spread like dates of birth" in by["col_b"].evidence


def test_random_ten_digit_references_are_not_nhs_numbers():
    # About 1 in 11 random 10-digit strings passes the check; that share is below min_share.
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"ref": [f"{v:010d}" for v in rng.integers(10**9, 10**10 - 1, 500)]})
    share = np.mean([is_valid_nhs_number(v) for v in frame.ref])
    assert 0.04 < share < 0.15
    assert detect_personal_data(frame, today=TODAY) == []


def test_names_of_columns_alone_are_findings():
    frame = pd.DataFrame(
        {
            "Surname": [None, None],
            "DateOfBirth": ["", ""],
            "NHS Number": [np.nan, np.nan],
            "Tel": ["", ""],
            "premises_name": ["", ""],
            "street_name": ["", ""],
        }
    )
    got = {(f.column, f.kind, f.share_of_values) for f in detect_personal_data(frame, today=TODAY)}
    assert got == {
        ("Surname", "personal_name", None),
        ("DateOfBirth", "date_of_birth", None),
        ("NHS Number", "nhs_number", None),
        ("Tel", "phone", None),
    }


def test_dob_named_column_and_event_dates():
    recent = pd.Series(pd.date_range("2024-01-01", periods=50, freq="7D").strftime("%Y-%m-%d"))
    births = pd.Series(pd.date_range("1950-01-01", periods=50, freq="400D").strftime("%Y-%m-%d"))
    frame = pd.DataFrame(
        {
            "dob": births,
            "event": recent,
            "granted": pd.Series(pd.date_range("2006-01-01", periods=50, freq="90D").strftime("%Y-%m-%d")),
        }
    )
    got = {(f.column, f.kind) for f in detect_personal_data(frame, today=TODAY)}
    assert got == {("dob", "date_of_birth")}


def test_postcode_column_with_outward_codes_is_not_personal():
    frame = pd.DataFrame({"postcode": ["NP20", "NP19", "NP44"] * 5, "home_pc_district": ["NP4"] * 15})
    assert detect_personal_data(frame, today=TODAY) == []


def test_sampling_estimates_share_on_large_columns():
    n = 5000
    rng = np.random.default_rng(1)
    is_name = rng.random(n) < 0.3
    values = np.where(is_name, "Sarah Jones", "Outside the station")
    findings = detect_personal_data(pd.DataFrame({"notes": values}), sample_size=1000, today=TODAY)
    assert len(findings) == 1 and findings[0].kind == "personal_name"
    assert findings[0].evidence.endswith("of 1000 sampled values look like personal names")
    assert abs(findings[0].share_of_values - 0.3) < 0.05


def test_check_allowed_message_names_columns_and_fix():
    frame = _personal_frame()[["patient_name", "nhs_no", "count"]]
    findings = detect_personal_data(frame, today=TODAY)
    with pytest.raises(PersonalDataError) as err:
        check_allowed(findings, None)
    assert str(err.value) == (
        "columns 'patient_name' (personal names), 'nhs_no' (NHS numbers) look personal; "
        "add a treatment for each in the schema or remove them"
    )
    assert {f.column for f in err.value.findings} == {"patient_name", "nhs_no"}
    with pytest.raises(
        PersonalDataError,
        match="^column 'nhs_no' \\(NHS numbers\\) looks personal; add a treatment "
        "for it in the schema or remove it$",
    ):
        check_allowed([f for f in findings if f.column == "nhs_no"], None)


def test_check_allowed_with_schemas_on_samples():
    ed = load_schema("ed_assaults")
    frame = read_sample("ed_assaults_identifiable")
    findings = detect_personal_data(frame, ed, today=TODAY)
    assert {f.column for f in findings} == {"patient_name", "date_of_birth", "nhs_number", "home_postcode"}
    check_allowed(findings, ed)  # every one has a treatment: no error

    hosp = load_schema("hospital_admissions")
    frame = read_sample("hospital_admissions_identifiable")
    with pytest.raises(PersonalDataError) as err:
        check_allowed(detect_personal_data(frame, hosp, today=TODAY), hosp)
    assert str(err.value) == (
        "schema hospital_admissions: columns 'contact_phone' (phone numbers), 'email' (e-mail addresses) look "
        "personal; add a treatment for each in the schema or remove them"
    )
    # The clean samples hold nothing personal outside treated fields.
    for name, schema in [
        ("ed_assaults", ed),
        ("hospital_admissions", hosp),
        ("substance_treatment", load_schema("substance_treatment")),
    ]:
        check_allowed(detect_personal_data(read_sample(name), schema, today=TODAY), schema)
