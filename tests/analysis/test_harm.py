"""Tests for diogel.analysis.harm: CSS weights per police.uk type, harm per area and type."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diogel.analysis.harm import (
    POLICEUK_CRIME_TYPES,
    harm_by_area,
    harm_by_type,
    policeuk_type,
    policeuk_weights_from_css,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "analysis_a"


@pytest.fixture(scope="module")
def css() -> pd.DataFrame:
    return pd.read_csv(FIX / "css_weights_policeuk.csv")


def test_policeuk_type_spellings():
    assert policeuk_type("Violence and Sexual Offences") == "Violence and sexual offences"
    assert policeuk_type("  Theft from the Person ") == "Theft from the person"
    assert policeuk_type("Criminal Damage & Arson") == "Criminal damage and arson"
    assert policeuk_type("Drug Offences") == "Drugs"
    assert policeuk_type("Public  Order") == "Public order"
    assert policeuk_type("Fraud") is None


def test_real_css_median_weights(css):
    hw = policeuk_weights_from_css(css)
    w = hw.weights.set_index("crime_type")
    assert list(w.index) == list(POLICEUK_CRIME_TYPES)
    assert np.isnan(w.loc["Anti-social behaviour", "weight"])
    assert w.loc["Anti-social behaviour", "n_offences"] == 0
    # Single-offence types take that offence's ONS weight.
    assert w.loc["Shoplifting", "weight"] == pytest.approx(11.85553905)
    assert w.loc["Bicycle theft", "weight"] == pytest.approx(15.17572799)
    assert w.loc["Theft from the person", "weight"] == pytest.approx(80.4051597)
    # Drugs: 1.770623478, 8.082043408, 9.062218937, 512.9573594 -> median (8.0820 + 9.0622) / 2.
    assert w.loc["Drugs", "weight"] == pytest.approx((8.082043408 + 9.062218937) / 2)
    # Public order: 6.81175759, 12.76338434, 72.50873282, 362.8964537 -> (12.7634 + 72.5087) / 2.
    assert w.loc["Public order", "weight"] == pytest.approx((12.76338434 + 72.50873282) / 2)
    # Homicide is listed under five rows with one severity code; 56 rows -> 52 distinct offences.
    assert w.loc["Violence and sexual offences", "n_offences"] == 52
    # Burglary: 16 rows, two legacy "outcome only" rows repeat a severity code -> 14.
    assert w.loc["Burglary", "n_offences"] == 14
    assert "approximate" in hw.note
    assert "Anti-social behaviour" in hw.note
    assert hw.unmatched == []


def test_real_css_mean_weights(css):
    w = policeuk_weights_from_css(css, method="mean").weights.set_index("crime_type")["weight"]
    # (72.50873282 + 6.81175759 + 12.76338434 + 362.8964537) / 4 = 113.7450821
    assert w["Public order"] == pytest.approx(113.7450821, rel=1e-9)
    # Robbery: two offences, both 799.6288702.
    assert w["Robbery"] == pytest.approx(799.6288702)


def test_css_quirks_synthetic():
    # Synthetic rows imitating the real file's quirks: padded names, '&', an older name, an
    # unknown category, weights as text, and the same offence listed twice.
    frame = pd.DataFrame(
        {
            "ONS_SEVERITY_code": ["8N", "8N", "58A", "92E", "X1"],
            "ONS_COUNTS_code": ["8N", "8N", "58A", "92E", "X1"],
            "ONS_SEVERITY_weight": ["189.0", "189.0", "5.0", " 2.0 ", "9.0"],
            "POLICE_UK_CAT_MAP_category": [
                " Violence and Sexual Offences ",
                "Violence and Sexual Offences",
                "Criminal Damage & Arson",
                "Drug Offences",
                "Fraud",
            ],
        }
    )
    hw = policeuk_weights_from_css(frame, method="mean")
    w = hw.weights.set_index("crime_type")
    assert w.loc["Violence and sexual offences", "weight"] == pytest.approx(189.0)
    assert w.loc["Violence and sexual offences", "n_offences"] == 1
    assert w.loc["Criminal damage and arson", "weight"] == pytest.approx(5.0)
    assert w.loc["Drugs", "weight"] == pytest.approx(2.0)
    assert hw.unmatched == ["Fraud"]
    assert "Fraud" in hw.note
    assert "No weight could be found for" in hw.note and "Robbery" in hw.note


def test_count_weighted_mean(css):
    # Synthetic volumes for two public order offences: 9A x 90 and 66 x 10.
    # (6.81175759 * 90 + 72.50873282 * 10) / 100 = (613.0581831 + 725.0873282) / 100 = 13.38145511
    counts = pd.DataFrame({"ONS_COUNTS_code": ["9A", "66"], "count": [90, 10]})
    hw = policeuk_weights_from_css(css, method="count_weighted_mean", offence_counts=counts)
    w = hw.weights.set_index("crime_type")
    assert w.loc["Public order", "weight"] == pytest.approx(13.38145511)
    assert w.loc["Public order", "n_offences"] == 2
    assert np.isnan(w.loc["Burglary", "weight"])  # no volumes given
    with pytest.raises(ValueError, match="offence_counts"):
        policeuk_weights_from_css(css, method="count_weighted_mean")


def _hand_inputs():
    counts = pd.DataFrame(
        {
            "lsoa_code": ["A", "A", "A", "B"],
            "crime_type": ["Burglary", "Burglary", "Anti-social behaviour", "Robbery"],
            "count": [1, 1, 5, 1],
        }
    )
    weights = pd.DataFrame(
        {"crime_type": ["Burglary", "Robbery", "Anti-social behaviour"], "weight": [100.0, 800.0, np.nan]}
    )
    population = pd.DataFrame({"lsoa_code": ["A", "B"], "population": [1000, 2000]})
    return counts, weights, population


def test_harm_by_type_hand_case():
    counts, weights, population = _hand_inputs()
    out = harm_by_type(counts, weights, population).set_index(["lsoa_code", "crime_type"])
    # A burglary: 2 x 100 = 200 harm; per 1,000: 200 / 1000 * 1000 = 200.
    assert out.loc[("A", "Burglary"), "count"] == 2
    assert out.loc[("A", "Burglary"), "harm"] == pytest.approx(200.0)
    assert out.loc[("A", "Burglary"), "harm_per_1000"] == pytest.approx(200.0)
    # B robbery: 1 x 800 = 800; per 1,000: 800 / 2000 * 1000 = 400.
    assert out.loc[("B", "Robbery"), "harm_per_1000"] == pytest.approx(400.0)
    # A has no robbery: count 0, harm 0 (not missing).
    assert out.loc[("A", "Robbery"), "count"] == 0
    assert out.loc[("A", "Robbery"), "harm"] == 0.0
    # ASB has no weight: harm is NaN but the count is still there.
    assert out.loc[("A", "Anti-social behaviour"), "count"] == 5
    assert np.isnan(out.loc[("A", "Anti-social behaviour"), "harm"])


def test_harm_by_area_hand_case():
    counts, weights, population = _hand_inputs()
    out = harm_by_area(counts, weights, population).set_index("lsoa_code")
    # A: 7 records (2 burglary + 5 ASB), 5 of them unweighted; harm 200; rate 7 per 1,000.
    assert out.loc["A", "count"] == 7
    assert out.loc["A", "count_unweighted"] == 5
    assert out.loc["A", "harm"] == pytest.approx(200.0)
    assert out.loc["A", "rate_per_1000"] == pytest.approx(7.0)
    assert out.loc["A", "harm_per_1000"] == pytest.approx(200.0)
    # B: 1 robbery, harm 800, 0.5 per 1,000 residents, harm 400 per 1,000.
    assert out.loc["B", "harm"] == pytest.approx(800.0)
    assert out.loc["B", "rate_per_1000"] == pytest.approx(0.5)
    assert out.loc["B", "harm_per_1000"] == pytest.approx(400.0)


def test_harm_without_population_and_with_harm_weights_object(css):
    counts, _, _ = _hand_inputs()
    hw = policeuk_weights_from_css(css)
    out = harm_by_type(counts, hw)
    assert list(out.columns) == ["lsoa_code", "crime_type", "count", "weight", "harm"]
    b = out.set_index(["lsoa_code", "crime_type"]).loc[("B", "Robbery")]
    assert b["harm"] == pytest.approx(799.6288702)


def test_harm_rejects_duplicate_weights():
    counts, weights, _ = _hand_inputs()
    with pytest.raises(ValueError, match="more than one row"):
        harm_by_type(counts, pd.concat([weights, weights]))
