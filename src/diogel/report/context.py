"""What a report section is given (the gathered data, the figures registry, the options) and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import jinja2
from markupsafe import Markup

from diogel.gather.accounting import RowAccounting, gather_accounting
from diogel.gather.partner import PartnerBundle
from diogel.gather.performance import TargetsBundle, gather_targets
from diogel.gather.stop_search import StopSearchBundle, gather_stop_search
from diogel.report.figures import FigureRegistry
from diogel.report.gather import AreaData
from diogel.report.options import AssessOptions

__all__ = ["AssessOptions", "Context", "Finding", "SectionOutput"]


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
