"""The settings of one assessment (:class:`AssessOptions`), in a module of their own.

Why apart from :mod:`diogel.report.context`: the command that hands many areas to worker processes
builds the options but never assesses; importing the context (pandas, geopandas, the analysis
modules: about a second) would hold back starting the workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from diogel.analysis.targets import Target

__all__ = ["AssessOptions"]


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
