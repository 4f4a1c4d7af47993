"""The two maps of the options-for-change report: today's partnerships against the standard, and the
amalgamated groups of option (iii), each with the police force areas outlined.

Drawn by matplotlib into SVG ready to sit inline in the report (:func:`diogel.resources.charts.svg_for_html`);
the titles and legends are in the report language (:mod:`diogel.report.i18n`), the colours are not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from diogel.report.i18n import _
from diogel.resources.charts import figure_svg, svg_for_html
from diogel.resources.options import simplify_coverage

if TYPE_CHECKING:
    from diogel.resources.options_report import OptionsResult

__all__ = ["METRIC_LABELS", "OKABE_ITO", "STATUS_COLOURS", "capacity_map", "draw_maps", "groups_map"]

METRIC_LABELS = {
    "fte_per_100k": "staff (FTE) per 100,000 residents",
    "funding_per_head": "funding per head (£)",
}
# Okabe-Ito, distinguishable with the common colour-vision deficiencies.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"]
STATUS_COLOURS = {
    "meets the standard": "#0072B2",
    "meets the lowered standard only": "#56B4E9",
    "below the lowered standard": "#E69F00",
    "no capacity data": "#E5E5E5",
}


def _map_frame(r: OptionsResult):
    las = r.las
    try:
        # Simplify once for drawing; coverage simplification keeps shared borders shared.
        return simplify_coverage(las, tolerance=400)  # type: ignore[arg-type]
    except ValueError:
        return las


def _figure(las):  # noqa: ANN001
    from matplotlib.figure import Figure

    minx, miny, maxx, maxy = las.total_bounds
    aspect = (maxy - miny) / (maxx - minx)
    fig = Figure(figsize=(6.2, 6.2 * aspect + 0.4))
    ax = fig.add_axes((0, 0, 1, 0.94))
    ax.set_axis_off()
    ax.set_aspect("equal")
    return fig, ax


def _force_outline(ax, las) -> None:  # noqa: ANN001
    forces = las.dissolve(by="force_name", as_index=False)
    forces.boundary.plot(ax=ax, color="#000000", linewidth=1.4)


def capacity_map(r: OptionsResult) -> str:
    """Map of today's partnerships by how they stand against the standard and the lowered standard."""
    from matplotlib.patches import Patch

    s = r.settings
    las = _map_frame(r).copy()
    status: dict[str, str] = {}
    for row in r.capacity.itertuples():
        v = getattr(row, s.metric)
        label = (
            "meets the standard"
            if v >= s.standard
            else "meets the lowered standard only"
            if v >= s.lowered
            else "below the lowered standard"
        )
        for la in row.la_codes.split(", "):
            status[la] = label
    las["status"] = las["area_code"].map(status).fillna("no capacity data")
    # (The status keys stay English: they pick the colours; the legend shows them translated.)
    fig, ax = _figure(las)
    for label, colour in STATUS_COLOURS.items():
        sub = las[las["status"] == label]
        if len(sub):
            sub.plot(ax=ax, color=colour, edgecolor="white", linewidth=0.6)
    _force_outline(ax, las)
    handles = [Patch(facecolor=c, edgecolor="#777777", label=_(lab)) for lab, c in STATUS_COLOURS.items()]
    handles.append(Patch(facecolor="none", edgecolor="#000000", linewidth=1.4, label=_("police force area")))
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    fig.suptitle(
        _("Today: {metric} against {standard} (lowered {lowered})").format(
            metric=_(METRIC_LABELS[s.metric]), standard=f"{s.standard:g}", lowered=f"{s.lowered:g}"
        ),
        fontsize=10,
    )
    return svg_for_html(figure_svg(fig), "capacity-map")


def _group_colours(r: OptionsResult) -> dict[int, str]:
    """Greedy colouring of the group adjacency graph so neighbouring groups differ in colour."""
    w = r.contiguity.w
    group_of = dict(zip(r.amalgamation.labels["area_code"], r.amalgamation.labels["group"], strict=True))
    adj: dict[int, set[int]] = {g: set() for g in set(group_of.values())}
    for a, nbrs in w.neighbors.items():
        for b in nbrs:
            if group_of[a] != group_of[b]:
                adj[group_of[a]].add(group_of[b])
    palette = OKABE_ITO[:7]
    colours: dict[int, str] = {}
    for g in sorted(adj, key=lambda g: (-len(adj[g]), g)):
        used = {colours[n] for n in adj[g] if n in colours}
        colours[g] = next((c for c in palette if c not in used), palette[g % len(palette)])
    return colours


def groups_map(r: OptionsResult) -> str:
    """Map of option (iii): the groups, numbered, with police force areas outlined."""
    from matplotlib.lines import Line2D

    las = _map_frame(r).merge(r.amalgamation.labels[["area_code", "group"]], on="area_code")
    colours = _group_colours(r)
    fig, ax = _figure(las)
    las.plot(ax=ax, color=[colours[g] for g in las["group"]], edgecolor="white", linewidth=0.5)
    groups = las.dissolve(by="group", as_index=False)
    groups.boundary.plot(ax=ax, color="#333333", linewidth=0.8)
    forces = las.dissolve(by="force_name", as_index=False)
    forces.boundary.plot(ax=ax, color="#000000", linewidth=1.6, linestyle=(0, (4, 2)))
    for row in groups.itertuples():
        pt = row.geometry.representative_point()
        ax.annotate(
            str(row.group), (pt.x, pt.y), ha="center", va="center", fontsize=9, fontweight="bold",
            bbox={"boxstyle": "circle,pad=0.2", "facecolor": "white", "edgecolor": "#333333", "linewidth": 0.6},
        )  # fmt: skip
    cent = dict(zip(las["area_code"], las.geometry.representative_point(), strict=True))
    for a, b, _d in r.contiguity.added_links:
        ax.plot([cent[a].x, cent[b].x], [cent[a].y, cent[b].y], color="#333333", linestyle=":", linewidth=1)
    handles = [
        Line2D([], [], color="#333333", linewidth=0.8, label=_("group boundary")),
        Line2D([], [], color="#000000", linewidth=1.6, linestyle=(0, (4, 2)), label=_("police force area")),
    ]
    if r.contiguity.added_links:
        handles.append(Line2D([], [], color="#333333", linestyle=":", label=_("link across water")))
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False)
    s = r.settings
    fig.suptitle(
        _("Option (iii): {groups} groups of at least {population} residents (seed {seed})").format(
            groups=len(groups), population=f"{s.min_population:,.0f}", seed=s.seed
        ),
        fontsize=10,
    )
    return svg_for_html(figure_svg(fig), "groups-map")


def draw_maps(r: OptionsResult) -> dict[str, str]:
    """Both maps in the report language: ``{"capacity": svg, "groups": svg}``."""
    return {"capacity": capacity_map(r), "groups": groups_map(r)}
