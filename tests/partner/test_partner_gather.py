"""Partner data out of the warehouse for an area and period, suppressed before it leaves.

The warehouse holds the real geography lookups (bundled), the real police.uk Gwent fixture for June 2024
and a small ED assault file written here, whose counts are worked out by hand below.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from conftest import POLICE
from diogel import data
from diogel.analysis.partner_trends import NOT_PLACED
from diogel.errors import DiogelError
from diogel.gather.partner import gather_cardiff, gather_partner, partner_records
from diogel.warehouse.core import Warehouse

FIXTURE = POLICE / "2024-06-gwent-street.csv"
VSO = "Violence and sexual offences"


def _lookup() -> pd.DataFrame:
    return pd.read_csv(data.path("reference", "wales", "lookup_lsoa21_ward24_ltla24.csv.gz"), dtype=str)


def _police_vso() -> dict[str, int]:
    """Violence and sexual offences per LSOA in the fixture, counted by hand (one per Crime ID)."""
    seen: set[str] = set()
    out: dict[str, int] = {}
    with FIXTURE.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["Crime type"] == VSO and row["Crime ID"] not in seen:
                seen.add(row["Crime ID"])
                out[row["LSOA code"]] = out.get(row["LSOA code"], 0) + 1
    return out


@pytest.fixture(scope="module")
def places() -> dict[str, object]:
    lk = _lookup()
    newport = sorted(lk.loc[lk.ltla24_code == "W06000022", "lsoa21_code"].unique())
    vso = _police_vso()
    a, b = [c for c in newport if vso.get(c, 0) > 0][:2]
    c = sorted(lk.loc[lk.ltla24_code == "W06000020", "lsoa21_code"].unique())[0]  # Torfaen
    return {"A": a, "B": b, "C": c, "newport": newport, "vso": vso}


def _ed_rows(places: dict) -> pd.DataFrame:
    """By hand: Newport LSOA A has 6 pub assaults on Fri 7 June 23:00 (2 reported, 4 not) and 1 at home on
    Mon 1 July 10:00 (not reported); Newport LSOA B 8 street assaults on Sat 8 June 01:00 (3 / 5) and 7 on
    Sat 6 July 02:00 (2 / 5); Torfaen LSOA C 3 at home in June (not reported); 1 pub assault without an
    LSOA (reported)."""
    spec = [
        (places["A"], "2024-06-07", "23:00", "Pub, bar or club", ["Yes"] * 2 + ["No"] * 4),
        (places["A"], "2024-07-01", "10:00", "Home", ["No"]),
        (places["B"], "2024-06-08", "01:00", "Street or other public place", ["Yes"] * 3 + ["No"] * 5),
        (places["B"], "2024-07-06", "02:00", "Street or other public place", ["Yes"] * 2 + ["No"] * 5),
        (places["C"], "2024-06-12", "19:00", "Home", ["No"] * 3),
        ("", "2024-06-14", "22:00", "Pub, bar or club", ["Yes"]),
    ]
    rows = []
    for lsoa, day, time, where, answers in spec:
        for answer in answers:
            rows.append(
                {
                    "attendance_ref": f"T{len(rows):05d}",
                    "arrival_datetime": f"{day} 23:59",
                    "assault_date": day,
                    "assault_time": time,
                    "assault_method": "Body (fist, feet, head)",
                    "location_type": where,
                    "assault_lsoa": lsoa,
                    "reported_to_police": answer,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, places: dict) -> Warehouse:
    root = tmp_path_factory.mktemp("gather")
    wh = Warehouse(None, root / "data")
    ref = data.path("reference", "wales")
    wh.ingest("lookup-lsoa-ward-la", ref / "lookup_lsoa21_ward24_ltla24.csv.gz")
    wh.ingest("lookup-la-csp-force", ref / "lookup_ltla24_csp24_pfa24.csv.gz")
    wh.ingest("police-street", FIXTURE)
    path = root / "ed.csv"
    buf = io.StringIO()
    _ed_rows(places).to_csv(buf, index=False, lineterminator="\n")
    path.write_text(buf.getvalue())
    (r,) = wh.ingest("partner", path, options={"schema": "ed_assaults"})
    assert (r.status, r.loaded, r.quarantined) == ("loaded", 26, 0)
    yield wh
    wh.close()


def test_partner_records_by_area_and_period(warehouse: Warehouse, places: dict) -> None:
    all_rows = partner_records(warehouse, "ed_assaults")
    assert len(all_rows) == 26 and all_rows["count"].sum() == 26
    june = partner_records(warehouse, "ed_assaults", lsoas=places["newport"], start="2024-06", end="2024-06")
    assert len(june) == 14 and set(june.lsoa_code) == {places["A"], places["B"]}
    detailed = partner_records(warehouse, "ed_assaults", details=True)
    assert detailed.reported_to_police.value_counts().to_dict() == {"No": 18, "Yes": 8}


def test_gather_partner_suppresses_by_hand(warehouse: Warehouse, places: dict) -> None:
    a, b = places["A"], places["B"]
    s = gather_partner(warehouse, "ed_assaults", area="Newport", trend_months=1)
    assert (s.area, s.start, s.end, s.threshold, s.total) == (
        "Newport (W06000022)",
        "2024-06",
        "2024-07",
        5,
        22,
    )
    assert s.by_month["count"].tolist() == [14, 8] and not s.by_month.suppressed.any()
    assert dict(zip(s.by_lsoa.lsoa_code, s.by_lsoa["count"], strict=True)) == {a: 7, b: 15}
    # LSOA x month [[6, 1], [8, 7]]: the 1 is small (primary); then its row, both columns and so the
    # whole 2 x 2 table must go, or the 1 follows from the LSOA and month totals published beside it.
    cells = s.by_lsoa_month.set_index(["lsoa_code", "month"])
    assert cells.loc[(a, "2024-07"), "suppression"] == "primary"
    assert cells.suppression.drop((a, "2024-07")).tolist() == ["secondary"] * 3
    assert cells["count"].isna().all()
    # Trend, 1 month against 1: July 8 against June 14. Given 22, July ~ Binomial(22, 1/2) under equal
    # rates; the outcomes no more likely than 8 are 0..8 and 14..22: p = 2 * sum_{j<=8} C(22, j) / 2^22.
    t = s.trend.iloc[0]
    assert (t.current, t.previous) == (8, 14)
    assert t.p_value == pytest.approx(2 * sum(math.comb(22, j) for j in range(9)) / 2**22)
    assert t.direction == "no significant change"
    assert "Counts from 1 to 4 are hidden" in s.rule

    everywhere = gather_partner(warehouse, "ed_assaults")
    lsoa = everywhere.by_lsoa.set_index("lsoa_code")
    # By LSOA: A 7, B 15, C 3, not placed 1 -> the 3 and the 1 are small; two hidden protect each other.
    assert lsoa.loc[[a, b], "count"].tolist() == [7, 15]
    assert lsoa.loc[[places["C"], NOT_PLACED], "suppression"].tolist() == ["primary", "primary"]
    assert (everywhere.total, everywhere.not_placed) == (26, None)  # 1 record without an LSOA is withheld
    # The schema's threshold may be raised, never lowered.
    assert gather_partner(warehouse, "ed_assaults", area="Newport", threshold=2).threshold == 5
    raised = gather_partner(warehouse, "ed_assaults", area="Newport", threshold=10)
    assert raised.by_lsoa.set_index("lsoa_code").loc[a, "suppression"] == "primary"
    with pytest.raises(DiogelError, match="no fire_incidents records"):
        gather_partner(warehouse, "fire_incidents", area="Newport")


def test_gather_cardiff_by_hand(warehouse: Warehouse, places: dict) -> None:
    a, b = places["A"], places["B"]
    vso = places["vso"]
    v = gather_cardiff(warehouse, area="Newport", start="2024-06", end="2024-07")
    assert v.method == "recorded"
    # Newport: not reported 4 + 1 + 5 + 5 = 15 of 22 answered.
    assert (v.numerator, v.denominator, v.ed_total, v.ed_without_lsoa, v.ed_without_time) == (
        15,
        22,
        22,
        0,
        0,
    )
    assert v.share_not_reported == pytest.approx(15 / 22)
    assert v.ci_lower == pytest.approx(stats.beta.ppf(0.025, 15, 8))
    assert v.ci_upper == pytest.approx(stats.beta.ppf(0.975, 16, 7))
    newport_vso = sum(vso.get(c, 0) for c in places["newport"])
    assert v.police_total == newport_vso
    assert v.statement.startswith(
        "Of 22 emergency department assault attendances where the patient said whether the assault had been "
        "reported to the police, 68% (15) had not been"
    )
    assert f"the police recorded {newport_vso:,} violence" in v.statement

    monthly = v.monthly.set_index(v.monthly.month.dt.strftime("%Y-%m"))
    assert monthly.ed_assaults.tolist() == [14, 8]
    assert monthly.police_violence.tolist() == [newport_vso, 0]  # the fixture holds June only
    assert monthly.ed_per_100_police.iloc[0] == pytest.approx(100 * 14 / newport_vso)
    assert pd.isna(monthly.ed_per_100_police.iloc[1])
    by_lsoa = v.by_lsoa.set_index("lsoa_code")
    assert by_lsoa.loc[[a, b], "ed_assaults"].tolist() == [7, 15]
    assert by_lsoa.loc[[a, b], "police_violence"].tolist() == [vso[a], vso[b]]

    # By location type: street 15 (5 reported, 10 not), pub 6 (2 / 4), home 1 (0 / 1). ED column
    # [15, 6, 1]: the 1 is small, and the 6 goes with it (column total published). Answers
    # [[5, 10, 0], [2, 4, 0], [0, 1, 0]]: the 2, 4 and 1 are small; home's row then needs a second hidden
    # value and takes its zero in "reported", the column that already has one (it protects both).
    t = v.by_location_type.set_index("location_type")
    street = t.loc["Street or other public place"]
    assert (street.ed_assaults, street.reported, street.not_reported, street.not_known) == (15, 5, 10, 0)
    assert street.share_not_reported == pytest.approx(10 / 15)
    pub, home = t.loc["Pub, bar or club"], t.loc["Home"]
    assert pd.isna(pub.ed_assaults) and pd.isna(home.ed_assaults)
    assert pd.isna(pub.reported) and pd.isna(pub.not_reported) and pub.not_known == 0
    assert pd.isna(home.reported) and pd.isna(home.not_reported) and home.not_known == 0
    assert pd.isna(pub.share_not_reported) and pd.isna(home.share_not_reported)

    # Hour of week: Fri 23h 6, Sat 1h 8, Mon 10h 1, Sat 2h 7. The 1 is hidden, and no day or hour has
    # exactly one hidden cell.
    how = v.by_hour_of_week.set_index(["day", "hour"])
    assert pd.isna(how.loc[("Monday", 10), "ed_assaults"])
    hidden = how.ed_assaults.isna().unstack("hour")
    assert not (hidden.sum(axis=1) == 1).any() and not (hidden.sum(axis=0) == 1).any()
    shown = how.ed_assaults.dropna()
    assert shown.sum() <= 21 and set(shown.unique()) <= {0, 6, 7, 8}
    assert "Police-recorded figures are published by police.uk" in v.rule


def test_gather_cardiff_small_area_hides_the_headline(warehouse: Warehouse, places: dict) -> None:
    # Torfaen: 3 assaults, all not reported: the share 3 / 3 would disclose, so it is not given.
    v = gather_cardiff(warehouse, area="Torfaen")
    assert np.isnan(v.share_not_reported) and v.numerator is None and v.denominator is None
    assert v.ed_total is None
    assert "Of fewer than 5 emergency department" in v.statement and "too few" in v.statement
    assert "%" not in v.statement


def test_gather_needs_partner_data(tmp_path: Path) -> None:
    with Warehouse(None, tmp_path / "data") as wh, pytest.raises(DiogelError, match="no partner data yet"):
        gather_partner(wh, "ed_assaults")


def test_gather_aggregate_quarterly_dataset(warehouse: Warehouse) -> None:
    from diogel.demo.files import read_sample, sample_path

    (r,) = warehouse.ingest(
        "partner", sample_path("substance_treatment"), options={"schema": "substance_treatment"}
    )
    assert r.status == "loaded"
    raw = read_sample("substance_treatment")
    per_quarter = raw.assign(n=raw.in_treatment.astype(int)).groupby("quarter").n.sum()
    s = gather_partner(warehouse, "substance_treatment")
    # Each row stands for its in_treatment adults; located by outward code only, so in no LSOA.
    assert s.total == per_quarter.sum()
    assert s.by_lsoa.lsoa_code.tolist() == [NOT_PLACED] and s.not_placed == per_quarter.sum()
    months = s.by_month.set_index("month")["count"]
    assert months["2023-04"] == per_quarter["2023-Q2"] and months["2025-01"] == per_quarter["2025-Q1"]
    assert months["2023-05"] == 0 and months["2023-06"] == 0
    assert any("dated by quarter" in n for n in s.notes)
    with pytest.raises(DiogelError, match="no substance_treatment records .* for Newport"):
        gather_partner(warehouse, "substance_treatment", area="Newport")
