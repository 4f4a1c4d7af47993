"""What a report section is given (the gathered data, the figures registry, the options) and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import jinja2
import pandas as pd
from markupsafe import Markup

from diogel.analysis.targets import Target
from diogel.gather.accounting import RowAccounting, gather_accounting
from diogel.gather.partner import PartnerBundle
from diogel.gather.performance import TargetsBundle, gather_targets
from diogel.gather.stop_search import StopSearchBundle, gather_stop_search
from diogel.report.figures import FigureRegistry
from diogel.report.gather import AreaData

__all__ = ["AssessOptions", "Context", "Finding", "SectionOutput"]


@dataclass(frozen=True)
class AssessOptions:
    """Settings of one assessment; every one is recorded in figures.json.

    Attributes
    ----------
    permutations : conditional permutations for Gi* and local Moran's I pseudo p-values.
    seed : random seed for permutations and resampling, so a rerun gives the same report.
    alpha : significance level of period comparisons, control signals and model readings.
    peers : size of the most-similar peer group (default 7 for Welsh areas, 15 for English).
    peer_weights : weight of each peer variable in the distance (variable name -> weight; unnamed
        variables weigh 1, 0 drops one); see :data:`diogel.report.sections.peers.VARIABLES`.
    scoring : a priority-scoring YAML (default: the packaged MoRiLE-style matrix).
    pdf : also write assessment.pdf.
    recommendations : the analyst's recommendations, PESTELO and triangle notes (YAML or Markdown,
        see :func:`diogel.analysis.recommendations.load_analyst_input`); None: generated only.
    targets : a targets YAML (:func:`diogel.analysis.targets.load_targets`) for "Performance against targets".
    targets_from_portal : targets read from the partnership portal's database.
    pact_from_portal : PACT rows from the portal's meetings (``meeting_date``, ``neighbourhood``,
        ``lsoa_code``, ``theme``, ``votes``), read with the warehouse's PACT rows.
    ratings : the partnership's MoRiLE vulnerability and capacity ratings (YAML,
        :func:`diogel.analysis.priorities.load_ratings`); they override the portal's for a crime type.
    ratings_from_portal : the ratings recorded in the portal ({area: {crime type: {measure: rating}}}).
    language : "en", "cy" (Welsh) or "both" (one bilingual document, Welsh first).
    """

    permutations: int = 9999
    seed: int = 12345
    alpha: float = 0.05
    peers: int | None = None
    peer_weights: dict[str, float] | None = None
    scoring: Path | None = None
    pdf: bool = True
    recommendations: Path | None = None
    targets: Path | None = None
    targets_from_portal: tuple[Target, ...] = ()
    pact_from_portal: pd.DataFrame | None = field(default=None, compare=False, hash=False)
    ratings: Path | None = None
    ratings_from_portal: dict[str, dict[str, dict[str, int]]] | None = field(
        default=None, compare=False, hash=False
    )
    language: str = "en"


@dataclass
class Finding:
    """One plain-English sentence for the summary; ``rank`` orders the summary (lower first)."""

    text: Markup
    rank: int = 50


@dataclass
class SectionOutput:
    """A built section: its HTML body and what it contributes to the rest of the report.

    ``values`` carries results later sections use (e.g. each crime type's change for the
    priorities matrix), so no section repeats another's analysis.
    """

    html: Markup
    findings: list[Finding] = field(default_factory=list)
    caveats: list[Markup] = field(default_factory=list)
    methods: list[tuple[str, Markup]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """The shared state while sections are built, in order."""

    data: AreaData
    figures: FigureRegistry
    options: AssessOptions
    out_dir: Path
    env: jinja2.Environment
    results: dict[str, SectionOutput] = field(default_factory=dict)
    # The open warehouse. No built-in section reads it any more: each reads a gathered bundle.
    warehouse: Any = None
    # Partner data, read once by the gatherer before the sections are built; None: not read.
    partner: PartnerBundle | None = None
    # What ingest quarantined (the data section's row accounting); read from the warehouse when one is
    # given and this is not, so the sections never query it themselves. None: no warehouse.
    accounting: RowAccounting | None = None
    # The period's searches placed in the area; read from ``warehouse`` when the context is made
    # with one and without a bundle, so the stop-and-search section never holds the warehouse.
    stop_search: StopSearchBundle | None = None
    # The area's targets and the counts they are measured on, read the same way, so the performance
    # section never holds the warehouse.
    targets: TargetsBundle | None = None

    def __post_init__(self) -> None:
        if self.warehouse is None:
            return
        if self.accounting is None:
            self.accounting = gather_accounting(self.warehouse)
        if self.stop_search is None:
            self.stop_search = gather_stop_search(
                self.warehouse, self.data.period.start, self.data.period.end, self.data.boundaries
            )
        if self.targets is None:
            o = self.options
            self.targets = gather_targets(
                self.warehouse, self.data.code, o.targets_from_portal, o.targets, o.peers
            )

    def render(self, template: str, **values: Any) -> Markup:
        """Render a section template; ``fig(id)`` and ``table(id, ...)`` give registered figures."""
        return Markup(
            self.env.get_template(template).render(
                data=self.data, fig=self.figures.span, table=self.figures.html_table, **values
            )
        )

    def write_map(self, name: str, gdf: gpd.GeoDataFrame) -> str:
        """Write a GeoPackage layer for QGIS users (British National Grid); return its relative path."""
        path = self.out_dir / "maps" / f"{name}.gpkg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        gdf.to_crs(27700).to_file(path, layer=name, driver="GPKG")
        return f"maps/{name}.gpkg"
