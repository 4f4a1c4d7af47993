"""Writing a funding run: the allocation or comparison as CSV, its notes, the vintage of its indicators,
``figures.json`` provenance and the charts.

The CSVs are data (English column names and values); the notes and the charts' titles, axes and
legends are in the report language (``diogel funding ... --language cy``). ``--language both`` writes
the data once, the notes as one file in Welsh then English (as the Welsh Language Standards prefer for
one document), and each chart twice, ``<name>.cy.svg`` and ``<name>.en.svg``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from diogel.report.i18n import _, current, here, language
from diogel.resources.charts import chart_allocation, chart_comparison
from diogel.resources.funding import Allocation, Comparison, financial_year
from diogel.resources.indicator_kinds import component_columns
from diogel.resources.provenance import allocation_figures, comparison_figures, write_figures
from diogel.resources.vintage import indicator_vintage, vintage_lines

__all__ = ["allocation_vintage", "write_allocation", "write_comparison"]


def _stem(alloc: Allocation) -> str:
    return f"{alloc.requested.name}_{financial_year(alloc.year).replace('/', '-')}"


def allocation_vintage(alloc: Allocation) -> pd.DataFrame:
    """The data vintage of every indicator the allocation's formula uses (population year,
    deprivation index, crime months), from :func:`diogel.resources.vintage.indicator_vintage`."""
    comps = [*alloc.formula.enabled_components, *(u.basis for u in alloc.formula.uplifts)]
    used = set().union(*(component_columns(c) for c in comps)) | {"population"}  # residents are always shown
    v = indicator_vintage(alloc.indicators)
    # Single-year-of-age columns feed the age-band and age-weighted population components.
    ages = any(c.indicator in ("population_age_band", "age_weighted_population") for c in comps)
    v.insert(0, "used_by_formula", v["indicator"].isin(used) | (v["indicator"].str.startswith("age_") & ages))
    v.insert(0, "formula", alloc.requested.name)
    v.insert(1, "financial_year", financial_year(alloc.year))
    return v


def _languages(bilingual: bool) -> Iterator[str]:
    """The languages to write the notes and charts in (Welsh first), each set for its turn: the report
    language alone, or with ``bilingual`` Welsh then English. Yields the file-name tag ("", ".cy", ".en")."""
    for lang in ("cy", "en") if bilingual else (current(),):
        with language(lang):
            yield f".{lang}" if bilingual else ""


def _notes_text(lines: Callable[[], list[str]], bilingual: bool) -> str:
    """The notes file: ``lines()`` in the report language, or Welsh then English under a heading each."""
    if not bilingual:
        return "\n".join(lines()) + "\n"
    parts = []
    for tag in _languages(True):
        parts.append("\n".join([{".cy": "Cymraeg", ".en": "English"}[tag], *lines()]))
    return "\n\n".join(parts) + "\n"


def write_allocation(alloc: Allocation, out_dir: str | Path, bilingual: bool = False) -> list[Path]:
    """Write ``<formula>_<yyyy-yy>_allocation.csv`` (one row per area), ``..._notes.txt``,
    ``..._vintage.csv`` (what year, index and months every indicator comes from), ``..._figures.json``
    (every figure with its definition, inputs and parameters) and an SVG chart; with ``bilingual`` the
    notes in Welsh then English and the chart in each (``.cy.svg``, ``.en.svg``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = _stem(alloc)
    csv_path = out / f"{stem}_allocation.csv"
    alloc.table.to_csv(csv_path, index=False, lineterminator="\n", float_format="%.6f")
    notes = out / f"{stem}_notes.txt"
    # The notes and the chart in the report language (diogel funding --language); the CSVs stay data.
    notes.write_text(_notes_text(lambda: [str(here(n)) for n in alloc.notes], bilingual), encoding="utf-8")
    vintage = out / f"{stem}_vintage.csv"
    allocation_vintage(alloc).to_csv(vintage, index=False, lineterminator="\n")
    figures = write_figures(
        out / f"{stem}_figures.json",
        "diogel funding allocation",
        allocation_figures(alloc, allocation_vintage(alloc), financial_year(alloc.year), csv_path.name),
    )
    paths = [csv_path, notes, vintage, figures]
    for tag in _languages(bilingual):
        svg = out / f"{stem}_allocation{tag}.svg"
        title = _("{formula} {year} by component").format(
            formula=alloc.requested.name.upper(), year=financial_year(alloc.year)
        )
        svg.write_text(chart_allocation(alloc.table, alloc.components, title), encoding="utf-8")
        paths.append(svg)
    return paths


def write_comparison(cmp: Comparison, out_dir: str | Path, bilingual: bool = False) -> list[Path]:
    """Write the comparison CSV, notes, vintage, ``..._figures.json`` and change-per-head charts (SVG and
    PNG; damped too if damped); with ``bilingual`` the notes in Welsh then English and each chart in
    both (``.cy.svg``, ``.en.svg``...)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    a, b = cmp.a.requested.name, cmp.b.requested.name
    stem = f"compare_{a}_{'frozen_vs_current' if cmp.same_formula else 'vs_' + b}"
    stem += f"_{financial_year(cmp.b.year).replace('/', '-')}"
    paths = [out / f"{stem}.csv", out / f"{stem}_notes.txt", out / f"{stem}_vintage.csv"]
    cmp.table.to_csv(paths[0], index=False, lineterminator="\n", float_format="%.6f")

    def notes() -> list[str]:
        vintage_notes = [f"{here(label)} {here(line)}" for label, alloc in ((cmp.label_a, cmp.a), (cmp.label_b, cmp.b))
                         for line in vintage_lines(alloc.indicators)]  # fmt: skip
        return [*map(str, map(here, cmp.notes)), *vintage_notes]

    paths[1].write_text(_notes_text(notes, bilingual), encoding="utf-8")
    vintage = pd.concat(
        [
            allocation_vintage(cmp.a).assign(allocation=cmp.label_a),
            allocation_vintage(cmp.b).assign(allocation=cmp.label_b),
        ],
        ignore_index=True,
    )
    vintage.to_csv(paths[2], index=False, lineterminator="\n")
    figures = comparison_figures(cmp, vintage, financial_year(cmp.b.year), paths[0].name)
    paths.append(write_figures(out / f"{stem}_figures.json", "diogel funding comparison", figures))
    for tag in _languages(bilingual):
        paths += _comparison_charts(cmp, out, stem, tag)
    return paths


def _comparison_charts(cmp: Comparison, out: Path, stem: str, tag: str) -> list[Path]:
    """The change-per-head chart (and the damped one) as SVG and PNG, in the report language."""
    a, b = cmp.a.requested.name, cmp.b.requested.name
    title = (
        _("Change per head, {a}: frozen -> current statistics").format(a=a)
        if cmp.same_formula
        else _("Change per head, {a} -> {b}").format(a=a, b=b)
    )
    charts = [("change_per_head", title, "")]
    if "damped_change_per_head" in cmp.table.columns:
        charts.append(("damped_change_per_head", _("{title} (damped)").format(title=title), "_damped"))
    paths: list[Path] = []
    for value, ttl, suffix in charts:
        svg = out / f"{stem}{suffix}{tag}.svg"
        png = out / f"{stem}{suffix}{tag}.png"
        svg.write_text(str(chart_comparison(cmp.table, value, ttl)), encoding="utf-8")
        png.write_bytes(bytes(chart_comparison(cmp.table, value, ttl, fmt="png")))  # type: ignore[arg-type]
        paths += [svg, png]
    return paths
