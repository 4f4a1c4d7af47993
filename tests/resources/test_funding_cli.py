"""``diogel funding`` and ``diogel capacity`` on real warehouses, through the command line.

Warehouses: the bundled all-Wales reference data alone; plus the bundled Gwent demo archive (one
force of four); plus the shared all-Wales police.uk files (every Welsh force). Expected amounts are
worked by hand in the comments, or computed here from the bundled source files with pandas.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner
from wales_warehouse import reference_warehouse, with_police

from conftest import shared
from diogel import data
from diogel.cli import app
from diogel.resources.ledger import COLUMNS
from diogel.warehouse.core import Warehouse
from diogel.warehouse.queries import counts

REF = data.path("reference", "wales")
SYNTHETIC_LEDGER = (
    Path(__file__).parents[2] / "src/diogel/resources/templates/synthetic_capacity_ledger_wales.csv"
)
runner = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return reference_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def gwent(tmp_path_factory) -> Path:
    return with_police(tmp_path_factory, "gwent")


@pytest.fixture(scope="module")
def all_wales(tmp_path_factory) -> Path:
    return with_police(tmp_path_factory, "wales", shared("policeuk", "wales-2018-10_2019-02"))


def run(wh: Path, *args: str):  # noqa: ANN201
    result = runner.invoke(app, ["--data-dir", str(wh), *args])
    return result


def _youth(year: int) -> pd.Series:
    """Population aged 10-17 by local authority, straight from the bundled ONS file."""
    lk = pd.read_csv(REF / "lookup_lsoa11_ward19_lad19.csv.gz", dtype=str)[["LSOA11CD", "LAD19CD"]]
    pop = pd.read_csv(REF / f"population{year % 100:02d}_lsoa11_wales.csv.gz")
    pop = pop.merge(lk.drop_duplicates(), left_on="lsoa11_code", right_on="LSOA11CD")
    return pop.groupby("LAD19CD")[[str(a) for a in range(10, 18)]].sum().sum(axis=1)


def test_scf_with_every_force_loaded_reproduces_pots_and_hand_split(all_wales, tmp_path):
    r = run(all_wales, "funding", "allocate", "scf", "--year", "2005", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "scf_2005-06_allocation.csv", dtype={"area_code": str})
    assert len(df) == 22 and df["police_data"].all()
    # The published pot, to the penny, and the 30/40/30 split of it.
    assert df["total_pence"].sum() == 429_116_600
    # 30% of 4,291,166 = 1,287,349.80, shared equally by 22 = 58,515.90 each, exactly.
    assert (df["equal"] == 58_515.90).all()
    assert round(df["youth_population"].sum(), 2) == 1_716_466.40
    assert round(df["recorded_crime"].sum(), 2) == 1_287_349.80
    # Crime share: 1,287,349.80 x crimes_i / sum(crimes), within a penny (largest remainder).
    crimes = df.set_index("area_code")["crimes"]
    expected = 1_287_349.80 * crimes / crimes.sum()
    assert (df.set_index("area_code")["recorded_crime"] - expected).abs().max() <= 0.01
    # The crimes are the warehouse's counts by LSOA membership, excluding anti-social behaviour.
    with Warehouse(None, all_wales) as wh:
        c = counts(wh, ["la", "crime_type"])
    c = c[(c["crime_type"] != "Anti-social behaviour") & c["la"].isin(crimes.index)]
    assert crimes.to_dict() == c.groupby("la")["count"].sum().astype(float).to_dict()
    # Frozen statistics: the 2003 base year is not loaded, so the earliest year (2019) is used.
    youth = _youth(2019)
    assert (
        abs(
            df.set_index("area_code").loc["W06000015", "youth_population"]
            - 1_716_466.40 * youth["W06000015"] / youth.sum()
        )
        <= 0.01
    )
    assert "£58,515.90" in r.output and "£4,291,166.00" in r.output
    assert "fixes its statistics at 2003" in (tmp_path / "scf_2005-06_notes.txt").read_text()
    # Vintage: a "2005" formula says what it really ran on, for every indicator it uses.
    notes = (tmp_path / "scf_2005-06_notes.txt").read_text()
    assert "vintage: population ONS mid-2019" in notes and "vintage: deprivation index WIMD 2019" in notes
    assert "vintage: police.uk crime months 2018-10..2019-02 (5 months)" in notes
    vintage = pd.read_csv(tmp_path / "scf_2005-06_vintage.csv").set_index("indicator")
    assert vintage.loc["recorded_crime", "vintage"] == "2018-10..2019-02 (5 months)"
    assert vintage.loc["population", "vintage"] == "ONS mid-2019 population estimates"
    assert vintage.loc["deprivation_score", "vintage"] == "WIMD 2019"
    assert (
        bool(vintage.loc["recorded_crime", "used_by_formula"])
        and (vintage["financial_year"] == "2005/06").all()
    )


def test_scf_2007_uplift_and_2006_pot(all_wales, tmp_path):
    assert (
        run(all_wales, "funding", "allocate", "scf", "--year", "2007", "--out", str(tmp_path)).exit_code == 0
    )
    assert (
        run(all_wales, "funding", "allocate", "scf", "--year", "2006", "--out", str(tmp_path)).exit_code == 0
    )
    d7 = pd.read_csv(tmp_path / "scf_2007-08_allocation.csv")
    d6 = pd.read_csv(tmp_path / "scf_2006-07_allocation.csv")
    assert d7["total_pence"].sum() == 459_116_600 and d6["total_pence"].sum() == 429_116_600
    # The extra 300,000 is outside the 30/40/30 split: the equal share is 58,515.90 again and
    # 300,000 / 22 = 13,636.36 each, the 8 pence left over going to the first 8 areas by code.
    assert (d7["equal"] == 58_515.90).all()
    up = d7.sort_values("area_code")["uplift_2007_equal"].tolist()
    assert up == [13_636.37] * 8 + [13_636.36] * 14


def test_scf_without_police_data_says_so_and_leaves_crime_out(base, tmp_path):
    r = run(base, "funding", "allocate", "scf", "--year", "2005", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "scf_2005-06_allocation.csv")
    assert "recorded_crime" not in df.columns  # the component is left out, not run on zeros
    assert df["crimes"].isna().all() and not df["police_data"].any()
    assert df["note"].str.contains("no police data loaded").all()
    assert df["total_pence"].sum() == 429_116_600
    # Shares rescaled 0.3/0.7 and 0.4/0.7: equal pot = 4,291,166 x 3/7 = 1,839,071.14 (pence
    # rounded by largest remainder), 22 ways = 83,594.14 or .15.
    assert round(df["equal"].sum(), 2) == 1_839_071.14
    assert set(df["equal"]) <= {83_594.14, 83_594.15}
    notes = (tmp_path / "scf_2005-06_notes.txt").read_text()
    assert "recorded_crime (30%) left out" in notes and "unknown" in notes
    assert "left out" in r.output and "not loaded" in r.output


def test_missing_crime_fail_refuses_with_gwent_only(gwent, tmp_path):
    r = run(gwent, "funding", "allocate", "scf", "--missing-crime", "fail", "--out", str(tmp_path))
    assert r.exit_code == 2
    assert "recorded crime" in r.output and "17 area(s)" in r.output and "Isle of Anglesey" in r.output


def test_smaf_and_needs_run_on_gwent(gwent, tmp_path):
    assert run(gwent, "funding", "allocate", "smaf", "--year", "2005", "--out", str(tmp_path)).exit_code == 0
    smaf = pd.read_csv(tmp_path / "smaf_2005-06_allocation.csv")
    assert smaf["total_pence"].sum() == 925_167_900 and len(smaf) == 22
    r = run(gwent, "funding", "allocate", "needs", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    needs = pd.read_csv(tmp_path / "needs_2007-08_allocation.csv")
    # Today's 21 CSPs; crime harm is unknown outside Gwent, so that component is left out.
    assert len(needs) == 21 and "W14000023" in set(needs["area_code"]) and "crime_harm" not in needs.columns
    assert needs["total_pence"].sum() == 1_829_216_500
    cwm = needs.set_index("area_code").loc["W14000023"]
    assert not cwm["police_data"]
    # 2005/06: the SCF and SMAF pots of that year combined, 4,291,166 + 9,251,679 = 13,542,845.
    r = run(gwent, "funding", "allocate", "needs", "--year", "2005", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert pd.read_csv(tmp_path / "needs_2005-06_allocation.csv")["total_pence"].sum() == 1_354_284_500
    r = run(gwent, "funding", "allocate", "needs", "--year", "2004", "--out", str(tmp_path))
    assert r.exit_code == 2 and "no pot for 2004/05" in r.output


def test_frozen_vs_current_winners_losers_and_damping(base, tmp_path):
    r = run(base, "funding", "compare", "scf", "--year", "2005", "--floor", "-0.002", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    stem = tmp_path / "compare_scf_frozen_vs_current_2005-06"
    df = pd.read_csv(f"{stem}.csv").set_index("area_code")
    # The same pot both ways: what one area gains another loses.
    assert round(df["change"].sum(), 2) == 0.0
    # Without police data the split is equal 3/7, youth 4/7, so moving from mid-2019 to mid-2020
    # youth populations changes area i by 4,291,166 x 4/7 x (y20_i / Y20 - y19_i / Y19).
    y19, y20 = _youth(2019), _youth(2020)
    youth_pot = float(Fraction(429_116_600) * Fraction(4, 7) / 100)
    hand = youth_pot * (y20 / y20.sum() - y19 / y19.sum())
    assert (df["change"] - hand.reindex(df.index)).abs().max() <= 0.03
    # So the winners and losers are those whose share of the youth population rose or fell.
    clear = hand[hand.abs() > 0.03].index
    assert (df.loc[clear, "outcome"] == hand[clear].map(lambda v: "gains" if v > 0 else "loses")).all()
    assert (df["outcome"] == "loses").sum() >= 5
    # Damping at -0.2%: nobody loses more than 0.2% (to the penny), the pot is unchanged.
    assert (df["damped_total"] >= df["total_a"] * 0.998 - 0.01).all()
    assert round(df["damped_total"].sum(), 2) == 4_291_166.00
    assert (df.loc[df["constraint"] == "floor", "change_pct"] < -0.2).all()
    assert (df.loc[df["change_pct"] < -0.2, "constraint"] == "floor").all()
    notes = Path(f"{stem}_notes.txt").read_text()
    assert "area(s) lose" in notes and "damping: no area loses more than 0.2%" in notes
    assert Path(f"{stem}.svg").read_text().count("<svg") == 1
    assert Path(f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(f"{stem}_damped.png").exists()
    assert "frozen statistics" in r.output and "damped" in r.output


def test_compare_two_formulas_across_units(gwent, tmp_path):
    r = run(gwent, "funding", "compare", "smaf", "needs", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    cmp = pd.read_csv(tmp_path / "compare_smaf_vs_needs_2007-08.csv").set_index("area_code")
    assert len(cmp) == 21
    assert run(gwent, "funding", "allocate", "smaf", "--year", "2007", "--out", str(tmp_path)).exit_code == 0
    smaf = pd.read_csv(tmp_path / "smaf_2007-08_allocation.csv").set_index("area_code")
    # SMAF is by the 22 authorities: Cwm Taf's A is Rhondda Cynon Taf + Merthyr Tydfil.
    assert cmp.loc["W14000023", "total_a"] == pytest.approx(
        smaf.loc["W06000016", "total"] + smaf.loc["W06000024", "total"]
    )
    assert round(cmp["total_a"].sum(), 2) == 13_700_999.00 and round(cmp["total_b"].sum(), 2) == 18_292_165.00
    # Change per crime only where crime is known (Gwent), never divided by a zero for the rest.
    assert cmp.loc["W14000022", "change_per_crime"] == pytest.approx(
        cmp.loc["W14000022", "change"] / smaf.loc["W06000022", "crimes"]
    )
    assert cmp.loc[~cmp["police_data"], "change_per_crime"].isna().all()
    assert cmp["share_a"].sum() == pytest.approx(1) and cmp["share_b"].sum() == pytest.approx(1)
    notes = (tmp_path / "compare_smaf_vs_needs_2007-08_notes.txt").read_text()
    assert "the pots differ" in notes and "A's shares of B's pot" in notes


def test_capacity_check_on_the_synthetic_ledger(gwent, tmp_path):
    r = run(gwent, "capacity", "check", str(SYNTHETIC_LEDGER), "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    flags = pd.read_csv(tmp_path / "flags.csv")
    assert sorted(zip(flags["check"], flags["partnership"], strict=True)) == [
        ("budget_line_multiple_streams", "Newport"),
        ("core_service_relabelled", "Merthyr Tydfil"),
        ("post_over_100pct", "Powys"),
        ("post_over_100pct", "Torfaen"),
    ]
    ind = pd.read_csv(tmp_path / "indicators.csv").set_index("partnership")
    lk = pd.read_csv(REF / "lookup_lsoa11_ward19_lad19.csv.gz", dtype=str)
    pop = pd.read_csv(REF / "population20_lsoa11_wales.csv.gz")
    newport_lsoas = set(lk.loc[lk["LAD19CD"] == "W06000022", "LSOA11CD"])
    newport_pop = pop.loc[pop["lsoa11_code"].isin(newport_lsoas), "total_population"].sum()
    # Newport counts 1,013,000 (see test_ledger) and 4.5 FTE.
    assert ind.loc["Newport", "funding_per_head"] == pytest.approx(1_013_000 / newport_pop)
    assert ind.loc["Newport", "fte_per_100k"] == pytest.approx(4.5 * 100_000 / newport_pop)
    with Warehouse(None, gwent) as wh:
        c = counts(wh, ["la", "crime_type"], area="W06000022")
    newport_crime = c.loc[c["crime_type"] != "Anti-social behaviour", "count"].sum()
    assert ind.loc["Newport", "funding_per_crime"] == pytest.approx(1_013_000 / newport_crime)
    assert ind.loc["Newport", "annual_grant_share"] == pytest.approx(893_000 / 1_013_000)
    # Powys is policed by Dyfed-Powys, not loaded: per crime unknown, said so.
    assert pd.isna(ind.loc["Powys", "funding_per_crime"]) and not ind.loc["Powys", "police_data"]
    assert "no police data" in r.output and "post PWY-P02 charged 150%" in r.output


def test_capacity_template_round_trip(base, tmp_path):
    for name in ("ledger.csv", "ledger.xlsx"):
        r = run(base, "capacity", "template", "--out", str(tmp_path / name))
        assert r.exit_code == 0, r.output
        c = run(base, "capacity", "check", str(tmp_path / name))
        assert c.exit_code == 0 and "no funding lines or posts yet" in c.output
    assert (tmp_path / "ledger.csv").read_text().strip().split(",") == list(COLUMNS)
    bad = run(base, "capacity", "check", str(tmp_path / "missing.csv"))
    assert bad.exit_code == 2 and "file not found" in bad.output


def test_a_formula_file_with_extra_indicators(base, tmp_path):
    formula = tmp_path / "prisoners.yaml"
    formula.write_text(
        "name: prisoners\nunit: local_authority_2005\npots: {2008: 22000}\ncomponents:\n"
        "  - {name: flat, share: 0.5, indicator: equal}\n"
        "  - {name: released, share: 0.5, measure: prisoners_released}\n"
    )
    r = run(base, "funding", "allocate", str(formula), "--out", str(tmp_path))
    assert r.exit_code == 2 and "prisoners_released" in r.output and "--extra" in r.output
    codes = sorted(
        pd.read_csv(REF / "lookup_ltla24_csp24_pfa24.csv.gz", dtype=str).query(
            "ltla24_code.str.startswith('W06')"
        )["ltla24_code"]
    )
    extra = tmp_path / "extra.csv"
    # Invented counts: 10 released into Anglesey, none anywhere else.
    pd.DataFrame({"area_code": codes, "prisoners_released": [10] + [0] * 21}).to_csv(extra, index=False)
    r = run(base, "funding", "allocate", str(formula), "--extra", str(extra), "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "prisoners_2008-09_allocation.csv").set_index("area_code")
    # 11,000 flat / 22 = 500 each; the other 11,000 all to Anglesey.
    assert (df["flat"] == 500).all()
    assert df.loc["W06000001", "total"] == 11_500 and df.loc["W06000002", "total"] == 500
    bad = run(base, "funding", "allocate", "scf", "--stats-year", "2017", "--out", str(tmp_path))
    assert bad.exit_code == 2 and "no mid-2017 population" in bad.output
