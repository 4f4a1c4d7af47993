"""Partner analyses (levels, monthly trends, the Cardiff Model view) against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from diogel.analysis.cardiff import DAYS, cardiff_view, describe
from diogel.analysis.partner_trends import NOT_PLACED, levels, monthly_counts, recent_trend

# Dataset a: person-level records (count 1); dataset b: aggregate rows (count = people in the row).
RECORDS = pd.DataFrame(
    {
        "dataset": ["a", "a", "a", "a", "a", "b", "b"],
        "month": [
            "2024-01-01",
            "2024-01-01",
            "2024-01-01",
            "2024-03-01",
            "2024-02-01",
            "2024-01-01",
            "2024-02-01",
        ],
        "lsoa_code": ["L1", "L1", "L2", "L2", None, "L1", "L2"],
        "count": [1, 1, 1, 1, 1, 10, 5],
    }
)
AREA_OF = {"L1": "A", "L2": "B"}


def test_levels_by_area_with_shares():
    out = levels(RECORDS, AREA_OF)
    got = {(r.dataset, r.area): (r.count, round(r.share, 6)) for r in out.itertuples()}
    # a: A = 2, B = 2, not placed = 1 of 5; b: A = 10, B = 5 of 15.
    assert got == {
        ("a", "A"): (2, 0.4),
        ("a", "B"): (2, 0.4),
        ("a", NOT_PLACED): (1, 0.2),
        ("b", "A"): (10, round(10 / 15, 6)),
        ("b", "B"): (5, round(5 / 15, 6)),
    }
    assert out.dataset.tolist()[:3] == ["a", "a", "a"] and out["count"].tolist()[3:] == [10, 5]
    # Without a mapping the area is the LSOA.
    by_lsoa = levels(RECORDS[RECORDS.dataset == "a"])
    assert dict(zip(by_lsoa.area, by_lsoa["count"], strict=True)) == {"L1": 2, "L2": 2, NOT_PLACED: 1}
    with pytest.raises(ValueError, match="'dataset' must be one"):
        levels(RECORDS, by=("area",))


def test_monthly_counts_fill_missing_months_with_zero():
    out = monthly_counts(RECORDS, "2024-01", "2024-04")
    assert out[out.dataset == "a"]["count"].tolist() == [3, 1, 1, 0]
    assert out[out.dataset == "b"]["count"].tolist() == [10, 5, 0, 0]
    assert out.month.dt.strftime("%Y-%m").tolist()[:4] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    by_area = monthly_counts(RECORDS[RECORDS.dataset == "a"], "2024-01", "2024-03", AREA_OF, by=("area",))
    table = by_area.pivot(index="area", columns="month", values="count")
    assert table.loc["A"].tolist() == [2, 0, 0]
    assert table.loc["B"].tolist() == [1, 0, 1]
    assert table.loc[NOT_PLACED].tolist() == [0, 1, 0]
    # Records outside the period are left out.
    assert monthly_counts(RECORDS, "2024-02", "2024-02")["count"].tolist() == [1, 5]
    with pytest.raises(ValueError, match="before start"):
        monthly_counts(RECORDS, "2024-03", "2024-01")


def test_recent_trend_by_hand():
    monthly = monthly_counts(RECORDS, "2024-01", "2024-04")
    out = recent_trend(monthly, months=2).set_index("dataset")
    # a: 2024-03..04 = 1 against 2024-01..02 = 4. Given n = 5, current ~ Binomial(5, 1/2) under equal
    # rates; P(X = 1) = 5/32 and the outcomes no more likely are 0, 1, 4, 5: p = (1 + 5 + 5 + 1) / 32.
    a = out.loc["a"]
    assert (a.current, a.previous, a.change) == (1, 4, -3)
    assert a.p_value == pytest.approx(12 / 32)
    assert a.percent_change == pytest.approx(-75.0)
    assert a.direction == "no significant change"
    assert a.period == "2024-03..2024-04 vs 2024-01..2024-02"
    # b: 0 against 15: p = 2 * 0.5^15.
    b = out.loc["b"]
    assert b.p_value == pytest.approx(2 * 0.5**15)
    assert b.direction == "down" and b.rate_ratio == 0
    with pytest.raises(ValueError, match="needs 6 months"):
        recent_trend(monthly, months=3)


# ED assaults: 2024-06-07 is a Friday, 2024-06-08 a Saturday, 2024-06-10 and 2024-07-01 Mondays.
ED = pd.DataFrame(
    {
        "event_date": ["2024-06-07", "2024-06-07", "2024-06-08", "2024-06-10", "2024-07-01", "2024-07-06"],
        "event_time": ["23:10", "23:40", "01:05", "14:00", None, "23:59"],
        "month": ["2024-06-01"] * 4 + ["2024-07-01"] * 2,
        "lsoa_code": ["L1", "L1", "L1", "L2", None, "L2"],
        "location_type": [
            "Pub, bar or club",
            "Pub, bar or club",
            "Street or other public place",
            "Home",
            "Home",
            "Street or other public place",
        ],  # fmt: skip
        "reported_to_police": ["Yes", "No", "No", "Not known", "No", None],
    }
)
POLICE = pd.DataFrame(
    {
        "lsoa_code": ["L1", "L2", "L3", "L1"],
        "month": ["2024-06", "2024-06", "2024-07", "2024-06"],
        "count": [2, 1, 4, 9],
        "crime_type": ["Violence and sexual offences"] * 3 + ["Burglary"],
    }
)


def test_cardiff_view_recorded_share_by_hand():
    v = cardiff_view(ED, POLICE)
    assert v.method == "recorded"
    # Not reported: rows 2, 3, 5; answered (Yes or No): rows 1, 2, 3, 5 -> 3 / 4.
    assert (v.numerator, v.denominator, v.share_not_reported) == (3, 4, 0.75)
    # Clopper-Pearson: lower = Beta(0.025; 3, 2), upper = Beta(0.975; 4, 1) = 0.975 ** (1 / 4).
    assert v.ci_lower == pytest.approx(stats.beta.ppf(0.025, 3, 2))
    assert v.ci_upper == pytest.approx(0.975**0.25)
    assert (v.ed_total, v.ed_without_lsoa, v.ed_without_time, v.police_total) == (6, 1, 1, 7)  # burglary out

    assert v.monthly.ed_assaults.tolist() == [4, 2]
    assert v.monthly.police_violence.tolist() == [3, 4]
    assert v.monthly.ed_per_100_police.tolist() == pytest.approx([400 / 3, 50.0])
    assert v.by_lsoa.values.tolist() == [["L1", 3, 2], ["L2", 2, 1], ["L3", 0, 4]]

    t = v.by_location_type.set_index("location_type")
    assert list(t.index) == ["Home", "Pub, bar or club", "Street or other public place"]
    assert t.loc["Pub, bar or club", ["ed_assaults", "reported", "not_reported", "not_known"]].tolist() == [
        2,
        1,
        1,
        0,
    ]
    assert t.loc["Home", ["ed_assaults", "reported", "not_reported", "not_known"]].tolist() == [2, 0, 1, 1]
    assert t.share_not_reported.tolist() == [1.0, 0.5, 1.0]

    how = v.by_hour_of_week.set_index(["day", "hour"])
    assert len(how) == 168 and list(how.index[:2]) == [("Monday", 0), ("Monday", 1)]
    assert how.ed_assaults.sum() == 5  # the attendance without a time is not placed in the week
    assert how.loc[("Friday", 23), ["ed_assaults", "reported", "not_reported"]].tolist() == [2, 1, 1]
    assert how.loc[("Saturday", 1), "not_reported"] == 1
    assert how.loc[("Monday", 14), "not_known"] == 1
    assert how.loc[("Saturday", 23), "ed_assaults"] == 1  # a blank answer counts as not known
    assert pd.isna(how.loc[("Saturday", 23), "share_not_reported"])
    assert how.loc[("Friday", 23), "share_not_reported"] == 0.5
    assert v.statement.startswith(
        "Of 4 emergency department assault attendances where the patient said whether the assault had been "
        "reported to the police, 75% (3) had not been (95% interval"
    )
    assert "for 2 more the answer was not known" in v.statement
    assert "police recorded 7 violence and sexual offences" in v.statement


def test_cardiff_view_lower_bound_without_the_field():
    v = cardiff_view(ED.drop(columns="reported_to_police"), POLICE)
    assert v.method == "lower_bound"
    # Cells (LSOA, month): (L1, 06) ED 3 vs police 2 -> 1; (L2, 06) 1 vs 1 -> 0; (L2, 07) 1 vs 0 -> 1.
    # The attendance without an LSOA is not in the bound: 2 of 5.
    assert (v.numerator, v.denominator, v.share_not_reported) == (2, 5, 0.4)
    assert np.isnan(v.ci_lower) and np.isnan(v.ci_upper)
    assert v.by_location_type.share_not_reported.isna().all()
    assert v.by_location_type.reported.isna().all()
    assert v.by_hour_of_week.ed_assaults.sum() == 5 and v.by_hour_of_week.not_reported.isna().all()
    assert "at least 40% (2) cannot be among police-recorded violence" in v.statement
    assert "lower bound" in v.statement
    # An answer column that is never answered is the same as no column.
    assert cardiff_view(ED.assign(reported_to_police=None), POLICE).method == "lower_bound"


def test_cardiff_view_period_and_statement_for_publication():
    v = cardiff_view(ED, POLICE, start="2024-07", end="2024-07")
    assert v.monthly.month.dt.strftime("%Y-%m").tolist() == ["2024-07"]
    assert (v.numerator, v.denominator, v.police_total) == (1, 1, 4)
    assert DAYS[0] == "Monday"
    # With a threshold, small counts are words and a share built on them is withheld.
    text = describe("recorded", 3, 4, 6, 7, 0.75, 0.2, 0.99, threshold=5)
    assert "Of fewer than 5 emergency" in text and "too few had or had not been reported" in text
    assert "75%" not in text and "police recorded 7 violence" in text
