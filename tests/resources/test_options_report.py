"""The options-for-change report on real warehouses: max-p groups, coterminosity, HTML and PDF.

The local-authority contiguity is rebuilt here from the warehouse's LSOA boundaries; the force of each
authority is read straight from the bundled ONS lookup file.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path

import pandas as pd
import pytest
from libpysal.weights import Queen
from typer.testing import CliRunner
from wales_warehouse import reference_warehouse, with_police

from diogel import data
from diogel.cli import app
from diogel.resources.ledger import COLUMNS, read_ledger
from diogel.resources.options import Standard, compare_options, group_capacity, pooled_capacity
from diogel.resources.options_report import OptionsSettings, build_options, render_html
from diogel.warehouse.core import Warehouse
from diogel.warehouse.queries import counts

REF = data.path("reference", "wales")
runner = CliRunner()


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return reference_warehouse(tmp_path_factory)


@pytest.fixture(scope="module")
def result(base):
    with Warehouse(None, base) as wh:
        return build_options(wh, None, OptionsSettings(seed=7))


def _connected(members: set[str], neighbours: dict[str, set[str]]) -> bool:
    start = next(iter(members))
    seen, todo = {start}, deque([start])
    while todo:
        for nb in neighbours[todo.popleft()]:
            if nb in members and nb not in seen:
                seen.add(nb)
                todo.append(nb)
    return seen == members


def test_groups_are_contiguous_and_each_reaches_the_floor(result):
    las = result.las
    assert len(las) == 22 and las.crs.to_epsg() == 27700
    # Contiguity rebuilt independently: Queen on the dissolved polygons, plus Anglesey's one link
    # across the Menai Strait (it touches no other authority).
    w = Queen.from_dataframe(las, ids=las["area_code"].tolist(), use_index=False, silence_warnings=True)
    neighbours = {k: set(v) for k, v in w.neighbors.items()}
    assert w.islands == ["W06000001"]
    assert [(a, b) for a, b, _ in result.contiguity.added_links] == [("W06000001", "W06000002")]
    neighbours["W06000001"].add("W06000002")
    neighbours["W06000002"].add("W06000001")
    pop = dict(zip(las["area_code"], las["population"], strict=True))
    labels = result.amalgamation.labels
    assert sorted(labels["area_code"]) == sorted(pop)
    for _, sub in labels.groupby("group"):
        members = set(sub["area_code"])
        assert _connected(members, neighbours)
        assert sum(pop[c] for c in members) >= 200_000
    # Max-p: several groups, no more than the population allows.
    assert 1 < len(result.groups) <= sum(pop.values()) // 200_000


def test_coterminosity_matches_the_ons_force_lookup(result):
    lk = pd.read_csv(REF / "lookup_ltla24_csp24_pfa24.csv.gz", dtype=str)
    force = dict(zip(lk["ltla24_code"], lk["pfa24_name"], strict=False))
    labels = result.amalgamation.labels
    g = result.groups.set_index("group")
    for group, sub in labels.groupby("group"):
        forces = sorted({force[c] for c in sub["area_code"]})
        assert g.loc[group, "forces"] == ", ".join(forces)
        assert g.loc[group, "crosses_force_boundary"] == (len(forces) > 1)


def test_same_seed_same_groups_and_same_html(base, result):
    with Warehouse(None, base) as wh:
        again = build_options(wh, None, OptionsSettings(seed=7))
    pd.testing.assert_frame_equal(again.amalgamation.labels, result.amalgamation.labels)
    assert render_html(again) == render_html(result)


def test_synthetic_ledger_is_named_and_partial_capacity_is_unknown(result):
    assert result.synthetic and "SYNTHETIC" in result.notes[0]
    cap = result.capacity.set_index("partnership")
    assert len(cap) == 5 and cap.loc["Merthyr Tydfil", "area_code"] == "W06000024"
    # (i) by hand: Newport 4.5 FTE for its mid-2020 population; required 3 per 100,000.
    newport = result.cost.by_partnership.set_index("area_code").loc["W06000022"]
    assert newport["required"] == pytest.approx(3 * newport["population"] / 100_000)
    assert newport["shortfall"] == pytest.approx(max(0.0, newport["required"] - 4.5))
    assert result.cost.total_cost == pytest.approx(40_000 * result.cost.total_shortfall)
    # Groups not wholly covered by the five ledger partnerships have unknown, not zero, capacity.
    g = result.groups
    unknown = g[~g["known"]]
    assert (
        len(unknown)
        and unknown["fte"].isna().all()
        and unknown["reason"].str.contains("no capacity data").all()
    )
    assert not unknown["reason"].str.contains(r"W0\d{7}").any()  # named, not coded
    # No police data in the reference warehouse: crime and funding per crime unknown, and said so.
    assert not cap["police_data"].any() and cap["recorded_crime"].isna().all()
    assert cap["funding_per_crime"].isna().all()
    assert "no police data for 5 of 5 partnership(s)" in " ".join(result.notes)
    assert render_html(result).count("<td>no police data</td>") == 5


def test_full_ledger_pools_like_group_capacity(base, tmp_path):
    """A ledger for all 22 authorities (built here) gives every group a known, pooled capacity."""
    lk = pd.read_csv(REF / "lookup_ltla24_csp24_pfa24.csv.gz", dtype=str)
    lk = lk[lk["ltla24_code"].str.startswith("W06")].sort_values("ltla24_code")
    rows = []
    for i, name in enumerate(lk["ltla24_name"]):
        rows.append({"record_type": "post", "partnership": name, "year": 2007, "post_id": f"P{i}",
                     "role": "officer", "fte": 1, "share_scf": 1, "contract_type": "permanent"})  # fmt: skip
        rows.append({"record_type": "post", "partnership": name, "year": 2007, "post_id": f"Q{i}",
                     "role": "analyst", "fte": round(0.2 + 0.1 * (i % 8), 1), "share_bsc": 1,
                     "contract_type": "fixed_term"})  # fmt: skip
        rows.append({"record_type": "funding", "partnership": name, "year": 2007, "stream": "SCF",
                     "budget_line_id": f"B{i}", "amount": 100_000 + 5_000 * i,
                     "is_core_service": "no", "tagged_community_safety": "yes"})  # fmt: skip
    path = tmp_path / "ledger_22.csv"
    pd.DataFrame(rows).reindex(columns=list(COLUMNS)).to_csv(path, index=False)
    with Warehouse(None, base) as wh:
        r = build_options(wh, path, OptionsSettings(seed=3, min_population=250_000))
    assert not r.synthetic and r.groups["known"].all()
    cap = r.capacity[["area_code", "area_name", "population", "fte", "funding"]]
    pooled = group_capacity(cap, r.amalgamation.labels).set_index("group")
    g = r.groups.set_index("group")
    assert g["fte"].tolist() == pytest.approx(pooled["fte"].tolist())
    assert g["fte_per_100k"].tolist() == pytest.approx(pooled["fte_per_100k"].tolist())
    # The side-by-side summary agrees with compare_options on the same inputs.
    v = compare_options(
        cap, Standard("fte_per_100k", 3.0, 40_000), 2.0, r.amalgamation, r.coterminosity
    ).set_index(["option", "metric"])["value"]
    s = r.summary
    assert (
        s.loc["annual cost to reach the standard", "(i) fund to standard"]
        == f"£{v[('i: keep all, fund to standard', 'annual cost to reach standard')]:,.0f}"
    )
    assert (
        s.loc["annual cost to reach the standard", "(iii) amalgamate"]
        == f"£{v[('iii: amalgamate', 'annual cost to reach standard')]:,.0f}"
    )
    n_ok = int(v[("iii: amalgamate", "groups meeting standard on pooled capacity")])
    assert s.loc["meeting the standard today", "(iii) amalgamate"].startswith(f"{n_ok} of {len(g)}")
    assert s.loc["groups crossing a police force boundary", "(iii) amalgamate"].startswith(
        f"{int(v[('iii: amalgamate', 'groups crossing a force boundary')])} of"
    )
    assert read_ledger(path).posts["partnership"].nunique() == 22


def test_pooled_capacity_by_hand():
    # Partnership X covers authorities A and B (like Cwm Taf); Y covers C; D has no ledger.
    cap = pd.DataFrame({"area_code": ["X", "Y"], "population": [300_000, 100_000], "fte": [6.0, 1.0]})
    members = {"X": ["A", "B"], "Y": ["C"]}
    labels = pd.DataFrame({"area_code": ["A", "B", "C", "D"], "group": [1, 1, 2, 2]})
    out = pooled_capacity(cap, labels, members).set_index("group")
    # Group 1 = X wholly: 6 FTE for 300,000 = 2.0 per 100,000. Group 2 has D, with no ledger.
    assert out.loc[1, "known"] and out.loc[1, "fte_per_100k"] == 2.0
    assert (
        not out.loc[2, "known"]
        and pd.isna(out.loc[2, "fte"])
        and out.loc[2, "reason"] == "no capacity data for D"
    )
    split = pooled_capacity(cap, pd.DataFrame({"area_code": ["A", "B", "C"], "group": [1, 2, 2]}), members)
    assert not split["known"].any() and split["reason"].str.contains("X would be split").all()
    with pytest.raises(ValueError, match="two partnerships"):
        pooled_capacity(cap, labels, {"X": ["A", "B"], "Y": ["B"]})
    # Without members each partnership is its own authority, as for the 22 in 2005-08.
    one = pooled_capacity(cap, pd.DataFrame({"area_code": ["X", "Y"], "group": [1, 1]}))
    assert one.loc[0, "fte"] == 7.0 and one.loc[0, "fte_per_100k"] == pytest.approx(7 / 4)


@pytest.fixture(scope="module")
def gwent(tmp_path_factory) -> Path:
    return with_police(tmp_path_factory, "gwent")


def test_crime_comes_from_the_police_data_loaded(gwent, tmp_path):
    with Warehouse(None, gwent) as wh:
        r = build_options(wh, None, OptionsSettings(seed=7))
        c = counts(wh, ["la", "crime_type"])  # the demo archive is exactly 12 months
    crimes = c[c["crime_type"] != "Anti-social behaviour"].groupby("la")["count"].sum()
    cap = r.capacity.set_index("partnership")
    # Newport and Torfaen are Gwent's, whose files are loaded. Newport counts 1,013,000 (test_ledger).
    assert cap.loc[["Newport", "Torfaen"], "police_data"].all()
    assert cap.loc["Newport", "recorded_crime"] == crimes["W06000022"]
    assert cap.loc["Torfaen", "recorded_crime"] == crimes["W06000020"]
    assert cap.loc["Newport", "funding_per_crime"] == pytest.approx(1_013_000 / crimes["W06000022"])
    # Powys, Ceredigion (Dyfed-Powys) and Merthyr (South Wales) are not loaded. Gwent's files hold a
    # few crimes located in Powys and Merthyr; those are not their recorded crime.
    assert crimes["W06000023"] > 0 and crimes["W06000024"] > 0
    others = cap.drop(index=["Newport", "Torfaen"])
    assert not others["police_data"].any() and others["funding_per_crime"].isna().all()
    assert others["police_note"].str.contains("no police data loaded for").all()
    note = next(n for n in r.notes if n.startswith("no police data for"))
    assert "3 of 5" in note and "Powys" in note and "Newport" not in note
    page = render_html(r)
    assert page.count("<td>no police data</td>") == 3
    assert f"<td>{1_013_000 / crimes['W06000022']:,.2f}</td>" in page


@pytest.mark.parametrize("warehouse", ["base", "gwent"])
def test_options_command_writes_a_self_contained_report(warehouse, request, tmp_path):
    wh = request.getfixturevalue(warehouse)
    r = runner.invoke(app, ["--data-dir", str(wh), "options", "--seed", "7", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "SYNTHETIC" in r.output and "(iii) amalgamate" in r.output
    page = (tmp_path / "options_report.html").read_text()
    assert page.count("<svg") == 2 and "<script" not in page
    # Nothing fetched from a network: no external stylesheet, image, font or script.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and not re.search(r"url\((?!#)", page)
    # Two inline maps, no shared ids (each would otherwise take the other's clip path).
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)) and all(f"url(#{i})" not in page for i in ("p2c90ca81ee", "patch_1"))
    refs = re.findall(r"url\(#([^)]+)\)", page)
    assert refs and set(refs) <= set(ids)
    assert "SYNTHETIC DATA" in page
    assert (tmp_path / "options_report.pdf").read_bytes()[:5] == b"%PDF-"
    members = pd.read_csv(tmp_path / "options_group_members.csv")
    assert len(members) == 22
    # Vintage of every indicator, in the page (so in the PDF) and beside the tables.
    vintage = pd.read_csv(tmp_path / "options_vintage.csv").set_index("indicator")
    assert set(vintage.index) == {"population", "deprivation_score", "recorded_crime", "asb"}
    assert vintage.loc["population", "vintage"].startswith("ONS mid-20")
    assert "Data vintage of every indicator" in page and vintage.loc["recorded_crime", "vintage"] in page
    assert "vintage: population ONS mid-" in page
    bad = runner.invoke(app, ["--data-dir", str(wh), "options", "--lowered", "5", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "above the standard" in bad.output


def test_the_options_report_in_welsh(base) -> None:
    """``diogel options --language cy``: the page says it is Welsh, its headings, table headings, option
    rows, map legends and notes are the catalogue's Welsh, and its numbers are the English report's
    (every text node is checked in test_welsh_outputs.py)."""
    from diogel.report.i18n import language

    with language("cy"), Warehouse(None, base) as wh:
        welsh = build_options(wh, None, OptionsSettings(seed=7))
        page = render_html(welsh)
    assert page.startswith('<!DOCTYPE html>\n<html lang="cy">')
    for words in ("Y tri opsiwn ochr yn ochr", "(iii) Uno’n bartneriaethau mwy", "cost flynyddol",
                  "yn cyrraedd y safon", "ffin grŵp", "DATA SYNTHETIG"):  # fmt: skip
        assert words in page, words
    for english in (
        "The three options side by side",
        "annual cost",
        "group boundary",
        '"synthetic">SYNTHETIC DATA',
        "vintage: population ONS mid-",
    ):
        assert english not in page, english
    with Warehouse(None, base) as wh:
        english_result = build_options(wh, None, OptionsSettings(seed=7))
    # Same options, same numbers: only the words differ.
    assert welsh.summary.shape == english_result.summary.shape
    assert welsh.cost.total_cost == english_result.cost.total_cost
    assert list(welsh.groups["population"]) == list(english_result.groups["population"])
