"""Funding and options outputs carry a figures.json, as the assessment does: every figure with its
definition, inputs and parameters, and the table figures hold exactly the rows of the CSVs beside them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from wales_warehouse import with_police

from diogel.resources.funding import allocate_from_warehouse, compare_from_warehouse
from diogel.resources.funding_output import write_allocation, write_comparison
from diogel.resources.options_report import OptionsSettings, build_options, write_report
from diogel.resources.provenance import table
from diogel.warehouse.core import Warehouse

KEYS = {"id", "kind", "label", "value", "definition", "inputs", "parameters"}


@pytest.fixture(scope="module")
def gwent(tmp_path_factory) -> Path:
    return with_police(tmp_path_factory, "provenance")


def _figures(path: Path) -> dict[str, dict]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["diogel_version"] and doc["generated_at"]
    figures = {f["id"]: f for f in doc["figures"]}
    assert len(figures) == len(doc["figures"])
    for f in figures.values():
        assert set(f) >= KEYS, f["id"]
        assert f["definition"] and f["label"]
    return figures


@pytest.mark.slow
def test_allocation_and_comparison_figures_match_their_csvs(gwent, tmp_path):
    with Warehouse(None, gwent, read_only=True) as wh:
        alloc = allocate_from_warehouse(wh, "scf")
        cmp = compare_from_warehouse(wh, "scf", "needs", floor=-0.05)
    paths = write_allocation(alloc, tmp_path)
    fig_path = next(p for p in paths if p.name.endswith("_figures.json"))
    figs = _figures(fig_path)
    csv = pd.read_csv(next(p for p in paths if p.name.endswith("_allocation.csv")), dtype={"area_code": str})
    by_area = figs["allocation.by_area"]
    assert [r["area_code"] for r in by_area["value"]] == csv["area_code"].tolist()
    assert [r["total_pence"] for r in by_area["value"]] == csv["total_pence"].tolist()
    assert set(by_area["columns"]) == set(csv.columns) and by_area["files"] == [paths[0].name]
    # The pence add up to the pot, in the file as in the formula.
    assert (
        figs["allocation.total"]["value"] == figs["allocation.pot"]["value"] == alloc.formula.pots[alloc.year]
    )
    assert sum(r["amount"] for r in figs["allocation.components"]["value"]) == pytest.approx(
        csv["total"].sum()
    )
    assert any(i["indicator"] == "population" and "mid-" in i["vintage"] for i in by_area["inputs"])
    assert by_area["parameters"]["formula"] == "scf"

    paths = write_comparison(cmp, tmp_path)
    figs = _figures(next(p for p in paths if p.name.endswith("_figures.json")))
    table_csv = pd.read_csv(paths[0])
    assert figs["comparison.losers"]["value"] == int((table_csv["change"] < 0).sum())
    assert figs["comparison.total_loss"]["value"] == pytest.approx(
        -table_csv.loc[table_csv["change"] < 0, "change"].sum()
    )
    assert len(figs["comparison.by_area"]["value"]) == len(table_csv)
    assert figs["comparison.by_area"]["parameters"]["damping"] == {"floor": -0.05, "ceiling": None}
    assert {i["allocation"] for i in figs["comparison.by_area"]["inputs"]} == {cmp.label_a, cmp.label_b}


@pytest.mark.slow
def test_options_figures_match_their_csvs(gwent, tmp_path):
    with Warehouse(None, gwent, read_only=True) as wh:
        result = build_options(wh, None, OptionsSettings(seed=7))
    paths = write_report(result, tmp_path, pdf=False)
    figs = _figures(tmp_path / "options_figures.json")
    assert tmp_path / "options_figures.json" in paths
    per = pd.read_csv(tmp_path / "options_partnerships.csv")
    assert len(figs["options.partnerships"]["value"]) == len(per)
    assert figs["options.cost_to_standard"]["value"] == pytest.approx(per["cost"].sum())
    assert figs["options.meeting_standard"]["value"] == int((per["current"] >= 3.0).sum())
    groups = pd.read_csv(tmp_path / "options_groups.csv")
    assert [r["group"] for r in figs["options.groups"]["value"]] == groups["group"].tolist()
    assert (
        figs["options.groups"]["parameters"]["seed"] == 7
        and figs["options.summary"]["parameters"]["synthetic_ledger"]
    )
    assert figs["options.summary"]["inputs"][0]["indicator"] == "capacity"


def test_a_table_figure_must_define_every_column():
    with pytest.raises(ValueError, match="without a definition"):
        table("t", pd.DataFrame({"a": [1], "b": [2]}), label="t", definition="d", columns={"a": "x"}, inputs=[],
              parameters={})  # fmt: skip
