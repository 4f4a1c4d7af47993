"""Charts of the resources tools (funding, options, survey) as standalone SVG or PNG.

The one place the resources modules turn a matplotlib figure into SVG or PNG: reproducible (a fixed
hash salt, no dates) and, with :func:`svg_for_html`, ready to sit inline beside other charts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from diogel.report.i18n import _, place

__all__ = ["OKABE_ITO", "chart_allocation", "chart_comparison", "figure_png", "figure_svg", "svg_for_html"]

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def figure_svg(fig: Any) -> str:
    """The figure as a standalone SVG document (text kept as text, reproducible element ids)."""
    import matplotlib

    buf = io.StringIO()
    # A fixed hash salt makes the SVG element ids (and so the file) reproducible.
    with matplotlib.rc_context({"svg.hashsalt": "diogel", "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def svg_for_html(svg: str, prefix: str) -> str:
    """An SVG string ready to sit inline in an HTML page beside others.

    Drops the XML prolog and DOCTYPE, and prefixes every ``id`` (and each ``url(#id)`` and
    ``href="#id"`` pointing at one) with ``prefix``: matplotlib numbers ids the same way in every
    figure, so two inline charts would otherwise share ids and borrow each other's clip paths.
    """
    svg = re.sub(r"<\?xml[^>]*>\s*|<!DOCTYPE[^>]*>\s*", "", svg).strip()
    ids = set(re.findall(r'\bid="([^"]+)"', svg))

    def ref(m: re.Match[str]) -> str:
        return (
            m.group(0).replace(f"#{m.group(2)}", f"#{prefix}-{m.group(2)}")
            if m.group(2) in ids
            else m.group(0)
        )

    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    return re.sub(r'(url\(#|href="#)([^)"]+)', ref, svg)


def figure_png(fig: Any, dpi: int = 150) -> bytes:
    """The figure as PNG bytes (no software stamp, so the same figure gives the same bytes)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    return buf.getvalue()


def chart_comparison(
    comparison: pd.DataFrame, value: str = "change_per_head", title: str = "", fmt: str = "svg"
) -> str | bytes:
    """Horizontal bars of ``value`` (default change per head) from :func:`compare`.

    Gainers are drawn in blue, losers in orange (Okabe-Ito palette); areas where ``value`` is
    unknown (e.g. change per crime without police data) are left out of the chart. Returns an SVG
    string (``fmt="svg"``) or PNG bytes (``fmt="png"``).
    """
    from matplotlib.figure import Figure

    df = comparison[comparison[value].notna()].sort_values(value)
    fig = Figure(figsize=(7, 0.28 * len(df) + 1.2))
    ax = fig.subplots()
    colours = [OKABE_ITO[0] if v >= 0 else OKABE_ITO[1] for v in df[value]]
    ax.barh(df["area_name"].map(place), df[value], color=colours)
    ax.axvline(0, color="black", linewidth=0.8)
    words = _(value.replace("_", " "))
    ax.set_xlabel(_("{} (£)").format(words))
    ax.set_title(title or _("Change in allocation ({})").format(words))
    ax.spines[["top", "right"]].set_visible(False)
    if fmt == "png":
        return figure_png(fig)
    if fmt != "svg":
        raise ValueError(f"fmt must be svg or png, not {fmt!r}")
    return figure_svg(fig)


def chart_allocation(
    allocation: pd.DataFrame, components: Sequence[str] | None = None, title: str = ""
) -> str:
    """Stacked horizontal bars of each area's allocation by component, as an SVG string."""
    from matplotlib.figure import Figure

    fixed = {
        "area_code",
        "area_name",
        "total",
        "total_pence",
        "share",
        "undamped_total",
        "damping_adjustment",
    }
    comps = list(components) if components else [c for c in allocation.columns if c not in fixed]
    df = allocation.sort_values("total")
    fig = Figure(figsize=(7, 0.28 * len(df) + 1.5))
    ax = fig.subplots()
    left = np.zeros(len(df))
    for i, c in enumerate(comps):
        ax.barh(
            df["area_name"].map(place), df[c], left=left, label=_(c.replace("_", " ")), color=OKABE_ITO[i % 8]
        )
        left += df[c].to_numpy(dtype=float)
    ax.set_xlabel("£")
    ax.set_title(title or _("Allocation by component ({})").format(allocation.attrs.get("formula", "")))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return figure_svg(fig)
