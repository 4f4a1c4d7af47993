"""Tests for diogel.resources.formula: allocation to the penny, presets, damping, comparison."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diogel.resources.formula import (
    WALES_LOCAL_AUTHORITIES,
    allocate,
    allocation_to_csp,
    apply_damping,
    chart_allocation,
    chart_comparison,
    compare,
    component_columns,
    formula_from_dict,
    indicators_to_csp,
    largest_remainder,
    load_formula,
    set_components,
    sparsity_index,
    svg_for_html,
    with_base_year,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "resources"

# Invented recorded-crime counts (not real), chosen to sum to 200,000 with Cardiff at 30,000 (15%).
CRIME = {
    "W06000001": 3000,
    "W06000002": 6000,
    "W06000003": 7000,
    "W06000004": 6500,
    "W06000005": 9500,
    "W06000006": 10500,
    "W06000008": 3500,
    "W06000009": 6500,
    "W06000010": 10000,
    "W06000011": 19000,
    "W06000012": 9000,
    "W06000013": 8500,
    "W06000014": 7500,
    "W06000015": 30000,
    "W06000016": 14500,
    "W06000018": 10500,
    "W06000019": 4500,
    "W06000020": 6000,
    "W06000021": 4000,
    "W06000022": 14000,
    "W06000023": 6000,
    "W06000024": 4000,
}


@pytest.fixture(scope="module")
def indicators() -> pd.DataFrame:
    """Real mid-2019 population by LA and single year of age, WIMD 2019 scores, plus invented crime."""
    df = pd.read_csv(FIXTURES / "wales_la22_indicators_2019.csv")
    df["recorded_crime"] = df["area_code"].map(CRIME)
    return df


def test_fixture_is_the_22_welsh_authorities(indicators):
    assert set(indicators["area_code"]) == set(WALES_LOCAL_AUTHORITIES)
    # ONS mid-2019 estimate for Wales.
    assert indicators["population"].sum() == 3_152_879


def test_largest_remainder_hand_cases():
    # 10 split 1:1:1 -> quotas 3.33 each, floors 3+3+3 = 9, the spare unit to the first tie.
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    # 100 split 1:2 -> quotas 33.33, 66.67 -> floors 33, 66; remainder 0.67 is larger.
    assert largest_remainder(100, [1, 2]) == [33, 67]
    # A tiny weight still gets its floor (0) and the total is exact.
    assert sum(largest_remainder(7, [1e-9, 3, 4])) == 7
    with pytest.raises(ValueError):
        largest_remainder(10, [0, 0])


def test_scf_equal_share_and_totals_to_the_penny(indicators):
    scf = with_base_year(load_formula("scf"), None)
    out = allocate(scf, indicators, 2005)
    # 4,291,166 x 0.3 / 22 = 1,287,349.80 / 22 = 58,515.90 exactly.
    assert (out["equal"] == 58_515.90).all()
    # Totals add up to the pot exactly, in pence.
    assert int(out["total_pence"].sum()) == 429_116_600
    for comp, share in [("equal", 0.3), ("youth_population", 0.4), ("recorded_crime", 0.3)]:
        assert round(out[comp].sum(), 2) == round(4_291_166 * share, 2)
    assert out["share"].sum() == pytest.approx(1.0)


def test_scf_youth_and_crime_components_by_hand(indicators):
    out = allocate(with_base_year(load_formula("scf"), None), indicators, 2005).set_index("area_code")
    # Youth (10-17) population: Cardiff 31,584 of Wales 280,613 (ONS mid-2019).
    # 0.4 x 4,291,166 = 1,716,466.40; x 31,584 / 280,613 = 193,194.452 -> 193,194.45 (+/- 1p).
    assert abs(out.loc["W06000015", "youth_population"] - 193_194.45) <= 0.011
    # Crime: Cardiff 30,000 of 200,000 = 15%; 0.3 x 4,291,166 x 0.15 = 193,102.47 exactly.
    assert out.loc["W06000015", "recorded_crime"] == 193_102.47
    # Anglesey: 3,000 / 200,000 = 1.5% of 1,287,349.80 = 19,310.247 -> 19,310.25 (+/- 1p).
    assert abs(out.loc["W06000001", "recorded_crime"] - 19_310.25) <= 0.011


def test_scf_2007_uplift_outside_the_split(indicators):
    scf = with_base_year(load_formula("scf"), None)
    out = allocate(scf, indicators, 2007)
    # The 30/40/30 split applies to 4,591,166 - 300,000 = 4,291,166, as in 2005.
    assert (out["equal"] == 58_515.90).all()
    # 300,000 / 22 = 13,636.3636...: 22 x 1,363,636p = 29,999,992p, so 8 pence are left over and
    # (equal remainders) go to the first 8 areas by code: 8 x 13,636.37 and 14 x 13,636.36.
    up = out["uplift_2007_equal"]
    assert (up.iloc[:8] == 13_636.37).all() and (up.iloc[8:] == 13_636.36).all()
    assert round(up.sum(), 2) == 300_000.00
    assert int(out["total_pence"].sum()) == 459_116_600
    assert int(allocate(scf, indicators, 2006)["total_pence"].sum()) == 429_116_600


def test_scf_youth_age_band_is_configurable(indicators):
    scf = with_base_year(load_formula("scf"), None)
    comps = tuple(
        replace(c, age_band=(10, 10)) if c.name == "youth_population" else c for c in scf.components
    )
    out = allocate(replace(scf, components=comps), indicators, 2005).set_index("area_code")
    age10 = indicators.set_index("area_code")["age_10"]
    expected = 1_716_466.40 * age10 / age10.sum()
    assert np.allclose(out["youth_population"], expected.reindex(out.index), atol=0.011)


def test_base_year_freezes_indicators(indicators):
    # Two indicator years: 2003 (the frozen one) has every youth count halved except Cardiff's.
    old = indicators.copy()
    old["year"] = 2003
    for a in range(10, 18):
        old[f"age_{a}"] = np.where(old["area_code"] == "W06000015", old[f"age_{a}"], old[f"age_{a}"] / 2)
    new = indicators.copy()
    new["year"] = 2005
    both = pd.concat([old, new], ignore_index=True)
    frozen = allocate(load_formula("scf"), both, 2005).set_index("area_code")
    current = allocate(with_base_year(load_formula("scf"), None), both, 2005).set_index("area_code")
    # Frozen at 2003: Cardiff 31,584 of (280,613 + 31,584) / 2 = 156,098.5 -> 1,716,466.40 x 0.202333...
    assert abs(frozen.loc["W06000015", "youth_population"] - 1_716_466.40 * 31_584 / 156_098.5) <= 0.011
    assert abs(current.loc["W06000015", "youth_population"] - 193_194.45) <= 0.011
    with pytest.raises(ValueError, match="year 2003"):
        allocate(load_formula("scf"), new, 2005)
    # Frozen allocation needs no rows for the allocation year itself.
    only_2003 = allocate(load_formula("scf"), old, 2005)
    assert only_2003["total_pence"].tolist() == frozen["total_pence"].tolist()


def test_smaf_needs_based_components(indicators):
    smaf = load_formula("smaf")
    assert [c.name for c in smaf.components if not c.enabled] == [
        "prisoners_released",
        "drug_alcohol_related_crime",
    ]
    out = allocate(smaf, indicators, 2005).set_index("area_code")
    assert int(out["total_pence"].sum()) == 925_167_900
    assert "prisoners_released" not in out.columns
    # Anglesey illegal-drug-use weight: 3 x pop(16-24) + 2 x pop(25-34) + 0.5 x pop(35-59)
    # = 3 x 5,729 + 2 x 7,335 + 0.5 x 21,578 = 42,646 (ONS mid-2019 single years of age).
    ages = indicators.set_index("area_code")

    def band(lo, hi):
        return ages[[f"age_{a}" for a in range(lo, hi + 1)]].sum(axis=1)

    w = 3 * band(16, 24) + 2 * band(25, 34) + 0.5 * band(35, 59)
    assert w["W06000001"] == 42_646
    pot = 0.25 * 9_251_679  # 2,312,919.75
    assert abs(out.loc["W06000001", "illegal_drug_use_population"] - pot * 42_646 / w.sum()) <= 0.011
    # Sparsity: population x share living below 150 per km2.
    sp = ages["population"] * ages["sparsity_index"]
    assert np.allclose(out["sparsity"], (0.15 * 9_251_679 * sp / sp.sum()).reindex(out.index), atol=0.011)


def test_smaf_extras_switch_on_and_rescale(indicators):
    smaf = set_components(load_formula("smaf"), enable=["prisoners_released"])
    shares = {c.name: c.share for c in smaf.enabled_components}
    # Enabled shares 1.0 + 0.10 -> each divided by 1.1.
    assert shares["prisoners_released"] == pytest.approx(0.10 / 1.10)
    assert shares["illegal_drug_use_population"] == pytest.approx(0.25 / 1.10)
    with pytest.raises(ValueError, match="prisoners_released"):
        allocate(smaf, indicators, 2007)
    ind = indicators.assign(prisoners_released=np.arange(1, 23) * 10)
    out = allocate(smaf, ind, 2007)
    assert int(out["total_pence"].sum()) == 1_370_099_900
    assert out["prisoners_released"].is_monotonic_increasing


def test_needs_formula_on_csps_with_damping(indicators):
    csp = indicators_to_csp(indicators.assign(crime_harm=indicators["recorded_crime"] * 10.0))
    assert len(csp) == 21
    cwm = csp.set_index("area_code").loc["W14000023"]
    # Cwm Taf = RCT 241,264 + Merthyr 60,326; score is the population-weighted mean.
    assert cwm["population"] == 301_590
    assert cwm["deprivation_score"] == pytest.approx(
        (241_264 * 26.627540 + 60_326 * 29.473209) / 301_590, rel=1e-6
    )
    needs = load_formula("needs")
    undamped = allocate(needs, csp, 2007)
    # Reference: the same pot shared by population.
    ref = pd.Series(largest_remainder(1_829_216_500, list(csp["population"])), index=csp["area_code"]) / 100
    damped = allocate(needs, csp, 2007, reference=ref)
    assert int(damped["total_pence"].sum()) == 1_829_216_500
    assert (damped["total"] - damped["undamped_total"]).round(2).tolist() == damped[
        "damping_adjustment"
    ].tolist()
    change = damped.set_index("area_code")["total"] / ref - 1
    assert change.min() >= -0.05 - 1e-6 and change.max() <= 0.10 + 1e-6
    assert (undamped["total"] / ref.reindex(undamped["area_code"]).to_numpy() - 1).min() < -0.05


def test_needs_pots_are_the_scf_and_smaf_pots_combined():
    # 2005/06: 4,291,166 + 9,251,679; 2006/07: 4,291,166 + 10,147,675; 2007/08: 4,591,166 + 13,700,999.
    assert dict(load_formula("needs").pots) == {2005: 13_542_845, 2006: 14_438_841, 2007: 18_292_165}
    scf, smaf = load_formula("scf").pots, load_formula("smaf").pots
    assert dict(scf) == {2005: 4_291_166, 2006: 4_291_166, 2007: 4_591_166}
    assert dict(smaf) == {2005: 9_251_679, 2006: 10_147_675, 2007: 13_700_999}
    assert all(load_formula("needs").pots[y] == scf[y] + smaf[y] for y in scf)


def test_apply_damping_hand_cases():
    ref = pd.Series([100.0, 100.0, 100.0], index=["A", "B", "C"])
    new = pd.Series([80.0, 100.0, 120.0], index=["A", "B", "C"])
    # Floor -5%: A rises to 95 (cost 15); C's gain of 20 is scaled by k with
    # 95 + 100 + 100 + 20k = 300 -> k = 0.25 -> C = 105.
    out = apply_damping(new, ref, -0.05, None).set_index("area_code")
    assert out["damped"].tolist() == [95.0, 100.0, 105.0]
    assert out.attrs["k"] == 0.25
    assert out["constraint"].tolist() == ["floor", "none", "scaled"]

    ref4 = pd.Series([100.0] * 4, index=list("ABCD"))
    new4 = pd.Series([80.0, 110.0, 150.0, 60.0], index=list("ABCD"))
    # Floor -20%: D 60 -> 80 (A is exactly at the floor). Gainers B (+10), C (+50), ceiling +30%.
    # Unbounded k = (400 - 80 - 80 - 200) / 60 = 2/3 would put C at 133.33 > 130, so C is capped;
    # then B alone: k = (240 - 130 - 100) / 10 = 1 -> B = 110.
    out4 = apply_damping(new4, ref4, -0.20, 0.30).set_index("area_code")
    assert out4["damped"].tolist() == [80.0, 110.0, 130.0, 80.0]
    assert out4["constraint"].tolist() == ["none", "none", "ceiling", "floor"]

    with pytest.raises(ValueError, match="floor costs"):
        # A -> 90 costs 40 but the only gainer gains 1.
        apply_damping(pd.Series([50.0, 101.0]), pd.Series([100.0, 100.0]), -0.10, None)
    with pytest.raises(ValueError, match="ceiling"):
        apply_damping(new, ref, -0.05, 0.04)


def test_apply_damping_keeps_the_total_in_pence():
    rng = np.random.default_rng(3)
    ref = pd.Series(np.round(rng.uniform(1e5, 5e5, 22), 2), index=[f"X{i:02d}" for i in range(22)])
    new = pd.Series(np.round(ref.to_numpy() * rng.uniform(0.8, 1.3, 22), 2), index=ref.index)
    out = apply_damping(new, ref, -0.05, 0.20).set_index("area_code")
    assert int(out["damped_pence"].sum()) == int(round(new.sum() * 100))
    # All three kinds of adjustment happen in this case.
    assert {"floor", "ceiling", "scaled"} <= set(out["constraint"])
    # Every area within its bounds, to the penny.
    assert (out["damped"] >= ref * 0.95 - 0.01).all() and (out["damped"] <= ref * 1.20 + 0.01).all()
    # Scaled gainers keep reference + k x gain.
    k = out.attrs["k"]
    sc = out[out["constraint"] == "scaled"]
    assert np.allclose(sc["damped"], ref[sc.index] + k * (new[sc.index] - ref[sc.index]), atol=0.011)
    # 15% ceiling: even with every gainer capped the pot cannot be spent under this method.
    with pytest.raises(ValueError, match="unallocated"):
        apply_damping(new, ref, -0.05, 0.15)


def test_compare_winners_losers_by_hand():
    a = pd.DataFrame(
        {"area_code": ["A", "B", "C"], "area_name": ["a", "b", "c"], "total": [100.0, 200.0, 300.0]}
    )
    b = pd.DataFrame(
        {"area_code": ["A", "B", "C"], "area_name": ["a", "b", "c"], "total": [150.0, 200.0, 250.0]}
    )
    out = compare(a, b, {"A": 10, "B": 20, "C": 25}, {"A": 5, "B": 4, "C": 10}).set_index("area_code")
    # A: +50 = +50%, 50/10 = 5 per head, 50/5 = 10 per crime. C: -50, -2 per head, -5 per crime.
    assert out.loc["A", ["change", "change_pct", "change_per_head", "change_per_crime"]].tolist() == [
        50.0,
        50.0,
        5.0,
        10.0,
    ]
    assert out.loc["C", "change_per_head"] == -2.0 and out.loc["C", "change_per_crime"] == -5.0
    assert out["outcome"].tolist() == ["gains", "unchanged", "loses"]


def test_compare_frozen_vs_current_is_zero_sum(indicators):
    old = indicators.assign(year=2003, recorded_crime=indicators["recorded_crime"] * 1.2)
    old.loc[old["area_code"] == "W06000015", "recorded_crime"] = 15_000
    both = pd.concat([old, indicators.assign(year=2005)], ignore_index=True)
    a = allocate(load_formula("scf"), both, 2005)
    b = allocate(with_base_year(load_formula("scf"), None), both, 2005)
    cmp = compare(a, b, indicators.set_index("area_code")["population"], pd.Series(CRIME))
    assert round(cmp["change"].sum(), 2) == 0.0
    assert cmp.iloc[0]["area_code"] == "W06000015"  # Cardiff's crime share doubles
    assert set(cmp["outcome"]) <= {"gains", "loses", "unchanged"}
    svg = chart_comparison(cmp)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "Cardiff" in svg
    assert svg == chart_comparison(cmp)  # reproducible bytes
    assert "<svg" in chart_allocation(b)


def test_formula_validation_and_yaml_path(tmp_path):
    bad = {
        "name": "x",
        "unit": "any",
        "pots": {2005: 100},
        "components": [{"name": "a", "share": 0.5, "indicator": "equal"}],
    }
    with pytest.raises(ValueError, match="sum to 0.5"):
        formula_from_dict(bad)
    p = tmp_path / "two.yaml"
    p.write_text(
        "name: two\nunit: any\npots: {2005: 10.01}\ncomponents:\n"
        "  - {name: flat, share: 0.5, indicator: equal}\n  - {name: m, share: 0.5, measure: need}\n"
    )
    f = load_formula(p)
    out = allocate(
        f, pd.DataFrame({"area_code": ["A", "B", "C"], "area_name": list("abc"), "need": [1, 0, 1]}), 2005
    )
    # 1001p: flat 501p (by largest remainder on 0.5/0.5 -> 501, 500) = 167, 167, 167;
    # need 500p = 250, 0, 250. Totals 417, 167, 417 = 1001p.
    assert out["total_pence"].tolist() == [417, 167, 417]
    with pytest.raises(ValueError, match="missing"):
        allocate(load_formula("scf"), pd.DataFrame({"area_code": ["W06000001"], "area_name": ["x"]}), 2005)
    with pytest.raises(ValueError, match="no pot"):
        allocate(f, pd.DataFrame({"area_code": ["A"], "need": [1]}), 2004)


def test_sparsity_index_by_hand():
    lsoa = pd.DataFrame(
        {
            "area_code": ["A", "A", "B"],
            "population": [1500, 500, 1000],
            # densities 1500/1 = 1500, 500/10 = 50 (sparse), 1000/20 = 50 (sparse)
            "area_km2": [1.0, 10.0, 20.0],
        }
    )
    out = sparsity_index(lsoa).set_index("area_code")["sparsity_index"]
    assert out.to_dict() == {"A": 0.25, "B": 1.0}


def test_shares_are_read_as_decimals():
    # 0.7 + 0.2 + 0.1 is 0.9999999999999999 in binary floating point; read as decimals it is 1.
    assert 0.7 + 0.2 + 0.1 != 1.0
    f = formula_from_dict(
        {
            "name": "x",
            "unit": "any",
            "pots": {2005: 1},
            "components": [
                {"name": "c", "share": 0.7, "indicator": "equal"},
                {"name": "b", "share": 0.2, "indicator": "equal"},
                {"name": "a", "share": 0.1, "indicator": "equal"},
            ],
        }
    )
    out = allocate(f, pd.DataFrame({"area_code": ["A"], "area_name": ["a"]}), 2005)
    # 100p split 0.1/0.2/0.7 = 10p, 20p, 70p exactly.
    assert out[["a", "b", "c"]].iloc[0].tolist() == [0.1, 0.2, 0.7]


def test_csp_aggregation_keeps_unknown_crime_unknown(indicators):
    ind = indicators.copy()
    ind.loc[ind["area_code"] == "W06000024", "recorded_crime"] = np.nan  # Merthyr: not loaded
    csp = indicators_to_csp(ind).set_index("area_code")
    # Cwm Taf = RCT + Merthyr: one unknown makes the sum unknown, not RCT's 14,500 alone.
    assert np.isnan(csp.loc["W14000023", "recorded_crime"])
    assert csp.loc["W14000023", "population"] == 301_590
    assert csp.loc["W14000022", "recorded_crime"] == 14_000  # Newport, one authority
    assert csp["recorded_crime"].isna().sum() == 1


def test_allocation_to_csp_sums_money_and_keeps_the_pot(indicators):
    out = allocate(with_base_year(load_formula("scf"), None), indicators, 2007)
    csp = allocation_to_csp(out).set_index("area_code")
    la = out.set_index("area_code")
    assert len(csp) == 21 and int(csp["total_pence"].sum()) == 459_116_600
    assert (
        csp.loc["W14000023", "total_pence"]
        == la.loc["W06000016", "total_pence"] + la.loc["W06000024", "total_pence"]
    )
    # Two equal shares and two uplift shares: 2 x 58,515.90 and 13,636.36 + 13,636.36 (both after the 8th code).
    assert csp.loc["W14000023", "equal"] == pytest.approx(117_031.80)
    assert csp.loc["W14000023", "uplift_2007_equal"] == pytest.approx(27_272.72)
    assert csp["share"].sum() == pytest.approx(1.0)


def test_compare_shares_when_pots_differ():
    a = pd.DataFrame({"area_code": ["A", "B"], "area_name": ["a", "b"], "total": [100.0, 300.0]})
    b = pd.DataFrame({"area_code": ["A", "B"], "area_name": ["a", "b"], "total": [300.0, 500.0]})
    out = compare(a, b, {"A": 10, "B": 10}).set_index("area_code")
    # Both gain in pounds, but A's share rises from 1/4 to 3/8 and B's falls from 3/4 to 5/8.
    assert out["outcome"].tolist() == ["gains", "gains"]
    assert out.loc["A", ["share_a", "share_b"]].tolist() == [0.25, 0.375]
    assert out.loc["B", ["share_a", "share_b"]].tolist() == [0.75, 0.625]


def test_component_columns_name_what_each_indicator_reads():
    scf = load_formula("scf")
    assert [component_columns(c) for c in scf.components] == [set(), {"population"}, {"recorded_crime"}]
    needs = {c.name: component_columns(c) for c in load_formula("needs").components}
    assert needs == {
        "flat_minimum": set(),
        "deprivation": {"population", "deprivation_score"},
        "crime_harm": {"crime_harm"},
    }


def test_svg_for_html_prefixes_ids_and_references():
    svg = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg><defs><clipPath id="c1"/></defs>'
        '<g id="g1" clip-path="url(#c1)"><use href="#g1"/><a href="#elsewhere"/></g></svg>'
    )
    out = svg_for_html(svg, "m")
    assert out.startswith("<svg>")
    assert 'id="m-c1"' in out and "url(#m-c1)" in out and 'href="#m-g1"' in out
    assert 'href="#elsewhere"' in out  # not an id of this SVG: left alone
