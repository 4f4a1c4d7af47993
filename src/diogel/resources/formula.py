"""Grant allocation formulas: the public face of the funding tools' parts.

One import for notebooks and the presets' notes (``diogel.resources.formula.set_components``); each
job lives in its own module:

* :mod:`.spec`: the YAML format, loading, validation, switching components;
* :mod:`.indicator_kinds`: the registered indicators, one small function each stating its formula;
* :mod:`.allocation` and :mod:`.pence`: the split to the penny, winners and losers;
* :mod:`.damping`: bounds on the change from a reference allocation;
* :mod:`.charts`: the SVG and PNG charts.
"""

from __future__ import annotations

from diogel.resources.allocation import allocate, allocation_to_csp, compare
from diogel.resources.areas import WALES_LA_TO_CSP, WALES_LOCAL_AUTHORITIES
from diogel.resources.charts import chart_allocation, chart_comparison, svg_for_html
from diogel.resources.damping import apply_damping
from diogel.resources.indicator_kinds import (
    INDICATORS,
    component_columns,
    indicator_values,
    indicators_to_csp,
    sparsity_index,
)
from diogel.resources.pence import largest_remainder
from diogel.resources.spec import (
    UNITS,
    Component,
    Damping,
    Formula,
    Uplift,
    formula_from_dict,
    load_formula,
    set_components,
    unit_area_codes,
    with_base_year,
)

__all__ = [
    "INDICATORS",
    "UNITS",
    "WALES_LA_TO_CSP",
    "WALES_LOCAL_AUTHORITIES",
    "Component",
    "Damping",
    "Formula",
    "Uplift",
    "allocate",
    "allocation_to_csp",
    "apply_damping",
    "chart_allocation",
    "chart_comparison",
    "compare",
    "component_columns",
    "formula_from_dict",
    "indicator_values",
    "indicators_to_csp",
    "largest_remainder",
    "load_formula",
    "set_components",
    "sparsity_index",
    "svg_for_html",
    "unit_area_codes",
    "with_base_year",
]
