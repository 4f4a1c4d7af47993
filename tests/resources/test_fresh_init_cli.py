"""``diogel funding`` and ``diogel options`` on a fresh data folder, exactly as a user starts:
``diogel init --reference wales`` (the bundled all-Wales reference data, no police data), then, in a
second folder, ``diogel ingest police-street`` of the bundled Gwent demo archive (one force of four).

Everything goes through the command line; nothing is built by the test helpers. Expected amounts
are worked by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner
from wales_warehouse import demo_police_last_year

from diogel.cli import app
from diogel.resources.formula import WALES_LA_TO_CSP, WALES_LOCAL_AUTHORITIES

runner = CliRunner()
GWENT_LAS = {"W06000018", "W06000019", "W06000020", "W06000021", "W06000022"}


def cli(data_dir: Path, *args: str):  # noqa: ANN201
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("fresh") / "data"
    r = cli(data_dir, "init", "--reference", "wales")
    assert r.exit_code == 0, r.output
    return data_dir


@pytest.fixture(scope="module")
def fresh_gwent(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("fresh-gwent") / "data"
    for args in (
        ("init", "--reference", "wales"),
        ("ingest", "police-street", str(demo_police_last_year(tmp_path_factory))),
    ):
        r = cli(data_dir, *args)
        assert r.exit_code == 0, r.output
    return data_dir


@pytest.mark.parametrize(
    ("preset", "pot_pence", "areas"),
    [
        ("scf", 429_116_600, set(WALES_LOCAL_AUTHORITIES)),
        ("smaf", 925_167_900, set(WALES_LOCAL_AUTHORITIES)),
        # 4,291,166 + 9,251,679: the two programmes' 2005/06 pots, over today's 21 CSPs.
        ("needs", 1_354_284_500, {csp for csp, _ in WALES_LA_TO_CSP.values()}),
    ],
)
def test_allocate_every_preset_on_the_reference_data(fresh, tmp_path, preset, pot_pence, areas):
    r = cli(fresh, "funding", "allocate", preset, "--year", "2005", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / f"{preset}_2005-06_allocation.csv", dtype={"area_code": str})
    # One row per area of the formula's unit, the pot to the penny.
    assert len(df) == len(areas) and set(df["area_code"]) == areas
    assert df["total_pence"].sum() == pot_pence
    # No police data: crime is unknown for every area, never zero, and the output says so.
    assert not df["police_data"].any() and df["crimes"].isna().all() and df["per_crime"].isna().all()
    assert df["note"].str.contains("no police data loaded").all()
    assert r.output.count("not loaded") >= len(areas)
    notes = (tmp_path / f"{preset}_2005-06_notes.txt").read_text()
    assert "no police.uk street-level data is loaded" in notes


def test_scf_equal_share_without_crime_by_hand(fresh, tmp_path):
    r = cli(fresh, "funding", "allocate", "scf", "--year", "2005", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "scf_2005-06_allocation.csv")
    # recorded_crime (30%) is left out, equal and youth rescaled to 3/7 and 4/7:
    # 429,116,600p x 3/7 = 183,907,114.29p -> 183,907,114p; / 22 = 8,359,414.27p, so 6 areas get
    # 8,359,415p and 16 get 8,359,414p.
    assert "recorded_crime" not in df.columns
    assert sorted(df["equal"].value_counts().items()) == [(83_594.14, 16), (83_594.15, 6)]
    assert "recorded_crime (30%) left out" in r.output


def test_compare_on_the_reference_data(fresh, tmp_path):
    # SCF frozen (mid-2019) against current (mid-2020) statistics, damped at -0.2%.
    r = cli(fresh, "funding", "compare", "scf", "--year", "2005", "--floor", "-0.002", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    stem = tmp_path / "compare_scf_frozen_vs_current_2005-06"
    df = pd.read_csv(f"{stem}.csv")
    assert len(df) == 22 and round(df["change"].sum(), 2) == 0.0
    assert (df["outcome"] == "loses").any() and df["change_per_crime"].isna().all()
    assert r.output.count("no police data") >= 22  # every row of the table, and the notes
    assert round(df["damped_total"].sum(), 2) == 4_291_166.00
    assert (df["damped_total"] >= df["total_a"] * 0.998 - 0.01).all()
    for suffix in (".svg", ".png", "_damped.svg", "_damped.png"):
        assert Path(f"{stem}{suffix}").stat().st_size > 0
    # Two formulas over different units: SCF's 22 authorities are summed to the 21 CSPs.
    r = cli(fresh, "funding", "compare", "scf", "needs", "--year", "2005", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    cmp = pd.read_csv(tmp_path / "compare_scf_vs_needs_2005-06.csv")
    assert len(cmp) == 21
    assert round(cmp["total_a"].sum(), 2) == 4_291_166.00 and round(cmp["total_b"].sum(), 2) == 13_542_845.00


def test_options_on_the_reference_data(fresh, tmp_path):
    r = cli(fresh, "options", "--seed", "7", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "options_report.pdf").read_bytes()[:5] == b"%PDF-"
    page = (tmp_path / "options_report.html").read_text()
    assert "(iii) Amalgamate" in page and "SYNTHETIC DATA" in page
    assert "no police data for 5 of 5 partnership(s)" in r.output
    per = pd.read_csv(tmp_path / "options_partnerships.csv")
    assert len(per) == 5 and not per["police_data"].any() and per["funding_per_crime"].isna().all()
    members = pd.read_csv(tmp_path / "options_group_members.csv")
    assert sorted(members["area_code"]) == sorted(WALES_LOCAL_AUTHORITIES)


def test_crime_from_whatever_police_data_is_loaded(fresh_gwent, tmp_path):
    r = cli(fresh_gwent, "funding", "allocate", "scf", "--year", "2007", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "scf_2007-08_allocation.csv", dtype={"area_code": str}).set_index("area_code")
    # Crime is known for Gwent's five authorities and for no other, though Gwent's files hold a
    # few crimes located elsewhere; the crime component is left out rather than run on 5 of 22.
    assert set(df.index[df["police_data"]]) == GWENT_LAS
    assert df.loc[sorted(GWENT_LAS), "crimes"].gt(1_000).all()
    assert df.loc[~df["police_data"], "crimes"].isna().all()
    assert "recorded_crime" not in df.columns and df["total_pence"].sum() == 459_116_600
    assert "no police data for 17 of 22 area(s)" in r.output
    # Per crime is the allocation over the crimes counted, where they are known.
    newport = df.loc["W06000022"]
    assert newport["per_crime"] == pytest.approx(newport["total"] / newport["crimes"])
    o = cli(fresh_gwent, "options", "--seed", "7", "--out", str(tmp_path / "options"))
    assert o.exit_code == 0, o.output
    per = pd.read_csv(tmp_path / "options" / "options_partnerships.csv").set_index("partnership")
    assert per.loc["Newport", "recorded_crime"] == newport["crimes"]
    assert set(per.index[per["police_data"]]) == {"Newport", "Torfaen"}
    assert "no police data for 3 of 5 partnership(s)" in o.output
