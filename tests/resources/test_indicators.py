"""Tests for diogel.resources.indicators: formula indicators from a real warehouse.

The warehouses hold the bundled all-Wales reference data; one adds the bundled Gwent demo archive
(12 months, one force) and one the shared all-Wales police.uk files (four forces, 5 months). Expected
values are computed here straight from the bundled source files with pandas, not through the
warehouse.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from wales_warehouse import reference_warehouse, with_police

from conftest import shared
from diogel import data
from diogel.analysis.harm import policeuk_weights_from_css
from diogel.resources.indicators import (
    CrimeWindow,
    _force_key,
    default_window,
    for_unit,
    la_indicators,
    partnership_context,
    police_coverage,
)
from diogel.warehouse.core import Warehouse
from diogel.warehouse.queries import counts

REF = data.path("reference", "wales")
FIXTURES = Path(__file__).parent.parent / "fixtures" / "resources"
GWENT = ["W06000018", "W06000019", "W06000020", "W06000021", "W06000022"]


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return reference_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def gwent(tmp_path_factory) -> Path:
    return with_police(tmp_path_factory, "gwent")


@pytest.fixture(scope="module")
def lsoa_la() -> pd.DataFrame:
    lk = pd.read_csv(REF / "lookup_lsoa11_ward19_lad19.csv.gz", dtype=str)
    return lk[lk["LSOA11CD"].str.startswith("W01")][["LSOA11CD", "LAD19CD"]].drop_duplicates()


def _population(year: int, lsoa_la: pd.DataFrame) -> pd.DataFrame:
    pop = pd.read_csv(REF / f"population{year % 100:02d}_lsoa11_wales.csv.gz")
    return pop.merge(lsoa_la, left_on="lsoa11_code", right_on="LSOA11CD")


def test_population_and_age_bands_match_the_source_file(base, lsoa_la):
    with Warehouse(None, base) as wh:
        ind = la_indicators(wh, 2020)
    pop = _population(2020, lsoa_la)
    expected = pop.groupby("LAD19CD")["total_population"].sum()
    got = ind.frame.set_index("area_code")["population"]
    assert len(got) == 22 and got.to_dict() == expected.to_dict()
    youth = pop.groupby("LAD19CD")[[str(a) for a in range(10, 18)]].sum().sum(axis=1)
    ages = ind.frame.set_index("area_code")[[f"age_{a}" for a in range(10, 18)]].sum(axis=1)
    assert ages.to_dict() == youth.to_dict()
    # 90 and over is one column, as published.
    assert ind.frame["age_90"].sum() == pop["90+"].sum()
    assert ind.population_year == 2020 and ind.window is None


def test_deprivation_is_the_population_weighted_mean_of_lsoa_scores(base, lsoa_la):
    with Warehouse(None, base) as wh:
        ind = la_indicators(wh, 2019)
    pop = _population(2019, lsoa_la)
    wimd = pd.read_csv(REF / "wimd2019_scores_ranks_deciles_lsoa11.csv.gz")
    m = pop.merge(wimd[["lsoa11_code", "IMD_score"]], on="lsoa11_code")
    merthyr = m[m["LAD19CD"] == "W06000024"]
    expected = (merthyr["IMD_score"] * merthyr["total_population"]).sum() / merthyr["total_population"].sum()
    frame = ind.frame.set_index("area_code")
    assert frame.loc["W06000024", "deprivation_score"] == pytest.approx(expected, rel=1e-12)
    # The published local-authority WIMD scores (fixture) agree to within a tenth of a point.
    published = pd.read_csv(FIXTURES / "wales_la22_indicators_2019.csv").set_index("area_code")
    diff = (frame["deprivation_score"] - published["deprivation_score"]).abs()
    assert diff.max() < 0.1
    # Sparsity: the fixture was built from the same boundaries by the same rule.
    assert np.allclose(frame["sparsity_index"], published["sparsity_index"].reindex(frame.index), atol=2e-3)
    assert frame.loc["W06000015", "sparsity_index"] == 0.0  # Cardiff: no sparse LSOA


def test_without_police_data_crime_is_unknown_not_zero(base):
    with Warehouse(None, base) as wh:
        assert police_coverage(wh).empty and default_window(wh) is None
        ind = la_indicators(wh, 2019)
    f = ind.frame
    assert f[["recorded_crime", "asb", "crime_harm"]].isna().all().all()
    assert not f["police_data"].any()
    assert f["note"].str.contains("no police data loaded").all()
    assert any("crime is unknown" in n for n in ind.notes)


def test_gwent_file_crimes_elsewhere_do_not_make_police_data(gwent):
    with Warehouse(None, gwent) as wh:
        cov = police_coverage(wh)
        window = default_window(wh)
        ind = la_indicators(wh, 2020)
        by_type = counts(wh, ["la", "crime_type"], start=window.start, end=window.end)
        css = pd.read_csv(REF / "css_weights_policeuk.csv.gz")
    assert set(cov["reported_by"]) == {"Gwent Police"} and len(cov) == 12
    assert (window.start, window.end) == ("2024-07", "2025-06")
    f = ind.frame.set_index("area_code")
    assert sorted(f.index[f["police_data"]]) == GWENT
    # Gwent's files hold a few crimes located in Cardiff, but Cardiff's own force is not loaded: its
    # recorded crime is unknown, not the handful the Gwent files happen to hold.
    assert by_type.loc[by_type["la"] == "W06000015", "count"].sum() > 0
    assert np.isnan(f.loc["W06000015", "recorded_crime"])
    assert "no police data loaded for South Wales" in f.loc["W06000015", "note"]
    # Newport: every crime type except anti-social behaviour; harm = count x median CSS weight.
    newport = by_type[by_type["la"] == "W06000022"]
    crimes = newport[newport["crime_type"] != "Anti-social behaviour"]
    assert f.loc["W06000022", "recorded_crime"] == crimes["count"].sum()
    assert (
        f.loc["W06000022", "asb"]
        == newport.loc[newport["crime_type"] == "Anti-social behaviour", "count"].sum()
    )
    w = policeuk_weights_from_css(css).weights.set_index("crime_type")["weight"]
    harm = (crimes["count"] * crimes["crime_type"].map(w)).sum()
    assert f.loc["W06000022", "crime_harm"] == pytest.approx(harm, rel=1e-12)


def test_a_window_with_missing_months_is_not_police_data(gwent):
    with Warehouse(None, gwent) as wh:
        ind = la_indicators(wh, 2020, CrimeWindow("2024-06", "2025-06"))
    f = ind.frame.set_index("area_code")
    assert not f["police_data"].any()
    assert "missing for 1 month(s)" in f.loc["W06000022", "note"] and "2024-06" in f.loc["W06000022", "note"]


def test_csp_unit_sums_authorities_and_keeps_unknowns_unknown(base, gwent, tmp_path_factory):
    with Warehouse(None, gwent) as wh:
        ind = la_indicators(wh, 2020)
        ctx = partnership_context(wh, ["Newport", "Cwm Taf", "merthyr tydfil"], ind)
    csp = for_unit(ind, "csp").set_index("area_code")
    la = ind.frame.set_index("area_code")
    assert len(csp) == 21
    cwm = csp.loc["W14000023"]
    assert cwm["population"] == la.loc["W06000016", "population"] + la.loc["W06000024", "population"]
    assert np.isnan(cwm["recorded_crime"]) and not cwm["police_data"]
    assert csp.loc["W14000022", "recorded_crime"] == la.loc["W06000022", "recorded_crime"]
    c = ctx.set_index("partnership")
    assert c.loc["Cwm Taf", "level"] == "csp" and c.loc["Cwm Taf", "la_codes"] == "W06000016, W06000024"
    assert c.loc["merthyr tydfil", "area_code"] == "W06000024"
    assert c.loc["Newport", "recorded_crime"] == la.loc["W06000022", "recorded_crime"]
    assert len(for_unit(ind, "local_authority_2005")) == 22


@pytest.fixture(scope="module")
def all_wales(tmp_path_factory) -> Path:
    return with_police(tmp_path_factory, "wales", shared("policeuk", "wales-2018-10_2019-02"))


def test_all_four_forces_give_every_area_police_data(all_wales):
    with Warehouse(None, all_wales) as wh:
        ind = la_indicators(wh, 2019)
    assert ind.frame["police_data"].all() and ind.window == CrimeWindow("2018-10", "2019-02")
    assert any("only 5 month(s)" in n for n in ind.notes)
    assert for_unit(ind, "csp")["recorded_crime"].notna().all()


def test_force_names_match_reported_by():
    assert _force_key("Devon & Cornwall Police") == _force_key("Devon and Cornwall")
    assert _force_key("City of London Police") == _force_key("London, City of")
    assert _force_key("Metropolitan Police Service") == _force_key("Metropolitan Police")
    assert _force_key("Dyfed-Powys Police") == _force_key("Dyfed-Powys")
    assert _force_key("South Wales Police") != _force_key("North Wales")
