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
    harm_shares_by_method,
    policeuk_type,
    policeuk_weights_from_css,
)
from diogel.sources.harm_weights import offence_volumes

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


# ------------------------------------------------------------------------------------------------
# Volume-weighted weights against the shipped Home Office volumes (2017/18)
# ------------------------------------------------------------------------------------------------


def test_shipped_offence_volumes_are_the_home_office_table():
    v = offence_volumes()
    assert len(v) == 132 and v["offence_code"].is_unique
    assert int(v["count"].sum()) == 5_519_401  # every offence recorded in England and Wales in 2017/18
    by_code = v.set_index("offence_code")
    # Codes that must stay text, and the homicide aggregate that stands for 1, 4.1, 4.2 and 4.10.
    assert {"37.2", "4.4", "4.8", "1/4.1/4.10/4.2"} <= set(by_code.index)
    assert by_code.loc["1/4.1/4.10/4.2", "css_severity_code"] == "1, 4.1/2/10"
    assert by_code.loc["28A", "css_severity_code"] == "28C"  # legacy burglary weighted as 28C
    assert by_code.loc["AF", "css_severity_code"] is pd.NA or pd.isna(by_code.loc["AF", "css_severity_code"])
    # Assault without injury and harassment are the bulk of violence by volume.
    assert by_code.loc["105A", "count"] > by_code.loc["8N", "count"] > by_code.loc["1/4.1/4.10/4.2", "count"]


def test_volume_weighted_violence_weight_by_hand(css):
    """Violence and sexual offences: sum(w_s V_s) / sum(V_s) over its severity codes, computed here
    straight from the two shipped tables (offence code -> severity code -> weight)."""
    v = offence_volumes()
    c = css.copy()
    for col in ("ONS_SEVERITY_code", "ONS_COUNTS_code", "POLICE_UK_CAT_MAP_category"):
        c[col] = c[col].astype(str).str.strip()
    violence = c[c["POLICE_UK_CAT_MAP_category"] == "Violence and Sexual Offences"]
    weight_of = violence.drop_duplicates("ONS_SEVERITY_code").set_index("ONS_SEVERITY_code")[
        "ONS_SEVERITY_weight"
    ]
    vol = v[v["css_severity_code"].isin(weight_of.index)].groupby("css_severity_code")["count"].sum()
    by_hand = float((weight_of[vol.index] * vol).sum() / vol.sum())
    got = policeuk_weights_from_css(css, method="volume_weighted_mean", volumes=v).weights.set_index(
        "crime_type"
    )
    assert got.loc["Violence and sexual offences", "weight"] == pytest.approx(by_hand, rel=1e-12)
    # Far below the unweighted median (972, which a list including homicide pushes up) and above
    # common assault (13.5) alone.
    assert 13.5 < by_hand < 400 < 972
    assert got.loc["Violence and sexual offences", "volume"] == int(vol.sum())
    # A type with one offence keeps its weight; ASB still has none.
    assert got.loc["Shoplifting", "weight"] == pytest.approx(11.85553905)
    assert np.isnan(got.loc["Anti-social behaviour", "weight"])


def test_volume_weighted_needs_volumes_and_min_max(css):
    with pytest.raises(ValueError, match="needs volumes"):
        policeuk_weights_from_css(css, method="volume_weighted_mean")
    w_min = policeuk_weights_from_css(css, method="min").weights.set_index("crime_type")["weight"]
    w_max = policeuk_weights_from_css(css, method="max").weights.set_index("crime_type")["weight"]
    assert w_min["Violence and sexual offences"] == pytest.approx(7.54380645)  # offence 104
    assert w_max["Violence and sexual offences"] == pytest.approx(7973.393423)  # homicide


def test_harm_shares_by_method_hand_case(css):
    counts = pd.DataFrame(
        {"crime_type": ["Shoplifting", "Robbery", "Anti-social behaviour"], "count": [10, 1, 5]}
    )
    out = harm_shares_by_method(counts, css, offence_volumes()).set_index("crime_type")
    # Shoplifting and Robbery each have one offence weight, so every method gives the same shares.
    shop, rob = 10 * 11.85553905, 1 * 799.6288702
    for m in ("volume_weighted_mean", "median", "mean", "min", "max"):
        assert out.loc["Shoplifting", f"share_harm_{m}"] == pytest.approx(shop / (shop + rob))
        assert np.nansum(out[f"share_harm_{m}"]) == pytest.approx(1.0)
    assert out.loc["Shoplifting", "share_count"] == pytest.approx(10 / 16)


def test_volume_weighted_drugs_weight_by_hand(css):
    """Drugs, from the two shipped tables by hand: severity weights of 92A/92C/92D/92E times their 2017/18
    volumes (26,574 / 821 / 27,031 / 82,050 offences), divided by the 136,476 drug offences."""
    v = offence_volumes().set_index("offence_code")["count"]
    assert [int(v[c]) for c in ("92A", "92C", "92D", "92E")] == [26574, 821, 27031, 82050]
    by_hand = (512.9573594 * 26574 + 9.062218937 * 821 + 8.082043408 * 27031 + 1.770623478 * 82050) / (
        26574 + 821 + 27031 + 82050
    )
    assert by_hand == pytest.approx(102.6006, abs=1e-4)
    got = policeuk_weights_from_css(css, method="volume_weighted_mean", volumes=offence_volumes()).weights
    got = got.set_index("crime_type")
    assert got.loc["Drugs", "weight"] == pytest.approx(by_hand, rel=1e-9)
    assert got.loc["Drugs", "volume"] == 136476
    # The median (8.57) leaves trafficking, a fifth of the volume, out entirely.
    median = policeuk_weights_from_css(css, method="median").weights.set_index("crime_type")
    assert median.loc["Drugs", "weight"] == pytest.approx(8.5721311725)
