"""Provenance of the funding and options figures: a figures.json beside their CSVs, as the assessment has.

Every record has the assessment's keys: ``id``, ``kind`` ("number" or "table"), ``label``, ``value``
(a number, or the table's rows), ``definition``, ``inputs`` (the data vintage of every indicator the
figure reads: population year, deprivation index, police months, or the capacity ledger) and
``parameters`` (formula, year, settings). A table also has ``columns`` (column -> meaning) and
``files`` (the CSV holding the same rows).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from diogel import __version__
from diogel.report.figures import plain

if TYPE_CHECKING:
    from diogel.resources.funding import Allocation, Comparison
    from diogel.resources.options_report import OptionsResult

__all__ = [
    "allocation_figures",
    "comparison_figures",
    "number",
    "options_figures",
    "table",
    "vintage_inputs",
    "write_figures",
]


def number(
    id_: str,
    value: Any,
    *,
    label: str,
    definition: str,
    inputs: Sequence[Mapping[str, Any]],
    parameters: Mapping[str, Any],
    unit: str = "",
) -> dict[str, Any]:
    """One value with its meaning and where it came from."""
    return {
        "id": id_,
        "kind": "number",
        "label": label,
        "value": plain(value),
        "unit": unit,
        "definition": definition,
        "inputs": [plain(dict(i)) for i in inputs],
        "parameters": plain(dict(parameters)),
    }


def table(
    id_: str,
    frame: pd.DataFrame,
    *,
    label: str,
    definition: str,
    columns: Mapping[str, str],
    inputs: Sequence[Mapping[str, Any]],
    parameters: Mapping[str, Any],
    files: Sequence[str] = (),
) -> dict[str, Any]:
    """A table of values; every column must be defined in ``columns``."""
    undefined = [c for c in frame.columns if c not in columns]
    if undefined:
        raise ValueError(f"figure {id_!r}: columns without a definition: {undefined}")
    return {
        "id": id_,
        "kind": "table",
        "label": label,
        "value": [plain(r) for r in frame.to_dict(orient="records")],
        "columns": {c: columns[c] for c in frame.columns},
        "definition": definition,
        "inputs": [plain(dict(i)) for i in inputs],
        "parameters": plain(dict(parameters)),
        "files": list(files),
    }


def vintage_inputs(vintage: pd.DataFrame, used_only: bool = True) -> list[dict[str, Any]]:
    """Inputs from an indicator-vintage frame (``indicator``, ``source``, ``vintage``...)."""
    if used_only and "used_by_formula" in vintage.columns:
        vintage = vintage[vintage["used_by_formula"]]
    keep = [c for c in ("indicator", "source", "vintage", "allocation") if c in vintage.columns]
    return [plain(r) for r in vintage[keep].to_dict(orient="records")]


def write_figures(path: Path, report: str, figures: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``{"report", "diogel_version", "generated_at", "figures"}`` to ``path`` as UTF-8 JSON."""
    ids = [f["id"] for f in figures]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path.name}: a figure id is used twice")
    doc = {
        "report": report,
        "diogel_version": __version__,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "figures": list(figures),
    }
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# Funding: one allocation, one comparison

_AREA = {"area_code": "area code (ONS)", "area_name": "area name"}


def allocation_figures(
    alloc: Allocation, vintage: pd.DataFrame, year_label: str, csv_name: str
) -> list[dict[str, Any]]:
    """The figures of one formula run: the pot, the components' shares, the split by area.

    ``vintage`` is :func:`diogel.resources.funding_output.allocation_vintage` of the run, ``year_label`` its
    financial year as written (``2007/08``) and ``csv_name`` the CSV holding the same rows.
    """
    f, year = alloc.formula, alloc.year
    inputs = vintage_inputs(vintage)
    params = {
        "formula": alloc.requested.name,
        "title": alloc.requested.title,
        "title_cy": alloc.requested.title_cy or None,
        "unit": f.unit,
        "financial_year": year_label,
        "statistics": alloc.statistics,
        "left_out": list(alloc.dropped),
        "rounding": "whole pence, largest remainder on exact rational quotas, ties to the first area code",
    }
    comps = [*f.enabled_components, *(u.basis for u in f.uplifts if u.year == year)]
    components = pd.DataFrame(
        {
            "component": [c.name for c in comps],
            "indicator": [c.indicator for c in comps],
            "share": [c.share if c in f.enabled_components else None for c in comps],
            "amount": [float(alloc.table[c.name].sum()) for c in comps],
        }
    )
    columns = {
        **_AREA,
        **{c.name: f"pounds from component {c.name} ({c.indicator})" for c in comps},
        "total": "pounds allocated to the area",
        "total_pence": "pence allocated to the area (sums to the pot exactly)",
        "share": "total / pot",
        "undamped_total": "pounds before damping",
        "damping_adjustment": "damped total - undamped total",
        "residents": "population used",
        "per_head": "total / residents",
        "crimes": "recorded crime used (empty where unknown)",
        "per_crime": "total / crimes",
        "police_data": "police data loaded for the area's force",
        "note": "why a value is unknown",
    }
    pot = f.pots[year]
    return [
        number("allocation.pot", pot, unit="£", label=f"Pot for {year_label}", inputs=[],
               parameters=params, definition="The formula's pot for the financial year, in pounds."),
        table("allocation.components", components, label="Components and their shares", inputs=inputs,
              parameters=params, columns={"component": "component name", "indicator": "indicator it shares by",
                                          "share": "share of the pot after uplifts (empty for an uplift)",
                                          "amount": "pounds shared by the component"},
              definition="P_c = share_c x (pot - uplifts); an uplift is a fixed sum."),
        table("allocation.by_area", alloc.table, label="Allocation by area", inputs=inputs, parameters=params,
              columns=columns, files=[csv_name],
              definition="Amount_i of component c = P_c x w_ci / sum_j w_cj in whole pence, w the indicator."),
        number("allocation.total", int(alloc.table["total_pence"].sum()) / 100, unit="£", inputs=inputs,
               parameters=params, label="Total allocated", definition="Sum of every area's total_pence / 100."),
    ]  # fmt: skip


def comparison_figures(
    cmp: Comparison, vintage: pd.DataFrame, year_label: str, csv_name: str
) -> list[dict[str, Any]]:
    """The figures of a comparison: the change by area, how many lose and by how much.

    ``vintage`` holds both runs' vintage rows with an ``allocation`` column naming the run.
    """
    inputs = vintage_inputs(vintage)
    params = {
        "a": cmp.label_a,
        "b": cmp.label_b,
        "financial_year": year_label,
        "damping": None if cmp.damping is None else {"floor": cmp.damping[0], "ceiling": cmp.damping[1]},
    }
    columns = {
        **_AREA,
        "total_a": "pounds under A", "total_b": "pounds under B", "change": "total_b - total_a",
        "change_pct": "100 x change / total_a", "change_per_head": "change / B's population",
        "change_per_crime": "change / B's recorded crime (empty where unknown)",
        "per_head_a": "total_a / population", "per_head_b": "total_b / population",
        "share_a": "total_a / sum of total_a", "share_b": "total_b / sum of total_b",
        "outcome": "gains / loses / unchanged", "population": "B's population",
        "police_data": "police data loaded for the area's force", "note": "why a value is unknown",
        "damped_total": "B's total after damping", "damped_change": "damped_total - total_a",
        "damped_change_pct": "100 x damped_change / total_a", "damped_change_per_head": "damped_change / population",
        "constraint": "floor / ceiling / scaled / none",
    }  # fmt: skip
    losers = cmp.table[cmp.table["change"] < 0]
    return [
        table("comparison.by_area", cmp.table, label=f"{cmp.label_a} -> {cmp.label_b} by area", inputs=inputs,
              parameters=params, columns=columns, files=[csv_name],
              definition="Each area's allocation under A and B and the change, largest gain first."),
        number("comparison.losers", len(losers), label="Areas that lose", inputs=inputs, parameters=params,
               definition="Areas whose total under B is below their total under A."),
        number("comparison.total_loss", float(-losers["change"].sum()), unit="£", inputs=inputs,
               parameters=params, label="Total lost by the losing areas",
               definition="Sum over losing areas of total_a - total_b."),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Options for change


def options_figures(r: OptionsResult, per: pd.DataFrame, files: Mapping[str, str]) -> list[dict[str, Any]]:
    """The figures of the options report: the side-by-side summary, option (i) by partnership (``per``,
    :func:`diogel.resources.options_report.partnership_table`), the groups; ``files`` names their CSVs."""
    s = r.settings
    inputs = [{"indicator": "capacity", "source": r.ledger_label, "vintage": str(r.year)},
              *vintage_inputs(r.vintage)]  # fmt: skip
    params = {
        "metric": s.metric, "standard": s.standard, "lowered": s.lowered, "cost_per_fte": s.cost_per_fte,
        "min_population": s.min_population, "seed": s.seed, "population_year": r.population_year,
        "ledger_year": r.year, "synthetic_ledger": r.synthetic,
    }  # fmt: skip
    summary = r.summary.reset_index()
    meeting = r.meeting
    return [
        table("options.summary", summary, label="The three options side by side", inputs=inputs,
              parameters=params, files=[files["summary"]],
              columns={"measure": "what is measured", **{c: f"option {c}" for c in r.summary.columns}},
              definition="Rows are measures, columns the options: (i) fund to the standard, (ii) lower it, "
              "(iii) amalgamate."),
        table("options.partnerships", per, label="Option (i) by partnership", inputs=inputs, parameters=params,
              files=[files["partnerships"]], columns={c: c.replace("_", " ") for c in per.columns},
              definition="Shortfall = max(0, standard x population / multiplier - capacity); cost = shortfall "
              "x cost per FTE (or the shortfall in pounds for a funding standard)."),
        table("options.groups", r.groups, label="Option (iii): amalgamated groups", inputs=inputs,
              parameters=params, files=[files["groups"]],
              columns={c: c.replace("_", " ") for c in r.groups.columns},
              definition="Max-p groups of contiguous local authorities, each with at least the minimum "
              "population; capacity pooled only where the ledger covers every member."),
        number("options.cost_to_standard", r.cost.total_cost, unit="£", label="Option (i): annual cost",
               inputs=inputs, parameters=params, definition="Sum over partnerships of the cost of their shortfall."),
        number("options.meeting_standard", int(meeting.loc[0, "n_meeting"]), inputs=inputs, parameters=params,
               label=f"Partnerships meeting {s.standard:g}", definition="Partnerships whose metric >= standard."),
        number("options.meeting_lowered", int(meeting.loc[1, "n_meeting"]), inputs=inputs, parameters=params,
               label=f"Partnerships meeting the lowered {s.lowered:g}",
               definition="Partnerships whose metric >= the lowered standard."),
    ]  # fmt: skip
