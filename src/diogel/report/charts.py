"""Charts and maps as inline SVG: matplotlib and geopandas, colour-blind-safe, legible on screen and paper.

Every chart is drawn from the rows of a registered table figure, so what is plotted is exactly what
figures.json holds. The SVG is cleaned for inlining: no XML prolog, no namespace or metadata URLs
(the report must not name a single external address), text kept as text so it stays sharp and
searchable.

Palettes: Okabe-Ito for categories; ColorBrewer RdYlBu for hot and cold spots and clusters;
viridis for sequential choropleths. All are readable with the common colour-vision deficiencies.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.colors
import matplotlib.ticker

matplotlib.use("Agg")

import geopandas as gpd  # noqa: E402
import mapclassify  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from markupsafe import Markup, escape  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from diogel.report.i18n import _, current  # noqa: E402  (after matplotlib.use)
from diogel.report.map_furniture import decorate  # noqa: E402

# The usual Welsh short month names (matplotlib's %b would print the English ones whatever the language).
_SHORT_CY = ("Ion", "Chwef", "Maw", "Ebr", "Mai", "Meh", "Gorff", "Awst", "Medi", "Hyd", "Tach", "Rhag")


def _month_tick(x: float, sep: str) -> str:
    """A month axis tick in the report's language: "Jul 2024" / "Gorff 2024"."""
    when = matplotlib.dates.num2date(x)
    short = _SHORT_CY[when.month - 1] if current() == "cy" else f"{when:%b}"
    return f"{short}{sep}{when.year}"


__all__ = [
    "EMERGING_COLOURS",
    "GI_COLOURS",
    "LISA_COLOURS",
    "OKABE_ITO",
    "categorical_map",
    "choropleth",
    "control_chart",
    "forest_plot",
    "paired_bars",
    "peer_chart",
    "rank_slope",
    "small_multiples",
    "svg",
]

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
INK = "#222222"
GREY = "#9a9a9a"
NOT_SIGNIFICANT = "#eeeeee"

GI_COLOURS = {
    "Hot spot 99%": "#d73027",
    "Hot spot 95%": "#fc8d59",
    "Hot spot 90%": "#fee090",
    "Not significant": NOT_SIGNIFICANT,
    "Cold spot 90%": "#e0f3f8",
    "Cold spot 95%": "#91bfdb",
    "Cold spot 99%": "#4575b4",
}
LISA_COLOURS = {
    "HH": "#d7191c",
    "HL": "#fdae61",
    "LH": "#abd9e9",
    "LL": "#2c7bb6",
    "Not significant": NOT_SIGNIFICANT,
}
LISA_WORDS = {
    "HH": "High among high (HH)",
    "HL": "High among low (HL)",
    "LH": "Low among high (LH)",
    "LL": "Low among low (LL)",
    "Not significant": "Not significant",
}
EMERGING_COLOURS = {
    "New hot spot": "#fee090",
    "Consecutive hot spot": "#fdb863",
    "Intensifying hot spot": "#b2182b",
    "Persistent hot spot": "#d6604d",
    "Diminishing hot spot": "#f4a582",
    "Sporadic hot spot": "#fddbc7",
    "Oscillating hot spot": "#e08214",
    "Historical hot spot": "#8c510a",
    "New cold spot": "#e0f3f8",
    "Consecutive cold spot": "#c6dbef",
    "Intensifying cold spot": "#2166ac",
    "Persistent cold spot": "#4393c3",
    "Diminishing cold spot": "#92c5de",
    "Sporadic cold spot": "#d1e5f0",
    "Oscillating cold spot": "#35978f",
    "Historical cold spot": "#01665e",
    "No pattern detected": NOT_SIGNIFICANT,
}
CHANGE_COLOURS = {"higher in test": "#D55E00", "lower in test": "#0072B2", "similar": NOT_SIGNIFICANT}

_RC = {
    "svg.fonttype": "none",  # text stays text: sharp when printed, searchable, no embedded glyphs
    "svg.hashsalt": "diogel",  # deterministic element ids
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.labelsize": 9,
    "axes.edgecolor": "#555555",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
}

_STRIP = [
    (re.compile(r"<\?xml[^>]*\?>\s*"), ""),
    (re.compile(r"<!DOCTYPE[^>]*>\s*", re.S), ""),
    (re.compile(r"<metadata>.*?</metadata>\s*", re.S), ""),
    (re.compile(r'\s+xmlns(:\w+)?="[^"]*"'), ""),
]


def svg(fig: matplotlib.figure.Figure, title: str, figure: str | None = None) -> Markup:
    """The figure as an inline ``<svg>`` element with an accessible title; closes the figure.

    ``figure`` is the id of the registered table the chart is drawn from (``data-figure``).
    """
    with plt.rc_context(_RC):
        text = _tight_svg(fig)
    plt.close(fig)
    for rx, repl in _STRIP:
        text = rx.sub(repl, text)
    tag = '<svg role="img" class="chart"' + (f' data-figure="{escape(figure)}"' if figure else "")
    text = re.sub(r"<svg\b", tag, text, count=1)
    text = re.sub(r"(<svg[^>]*>)", lambda m: f"{m.group(1)}<title>{escape(title)}</title>", text, count=1)
    return Markup(text)


_ROOT_SIZE = re.compile(r'width="[^"]*pt" height="[^"]*pt" viewBox="[^"]*"')
_BACKGROUND = re.compile(r'(<g id="patch_1">\s*<path d=")[^"]*(")')


def _pt(value: float) -> str:
    return f"{value:f}".rstrip("0").rstrip(".")  # (as matplotlib writes SVG lengths)


def _tight_svg(fig: matplotlib.figure.Figure) -> str:
    """The figure as an SVG document cropped to what is drawn plus ``savefig.pad_inches``, drawn once.

    What ``fig.savefig(buf, format="svg", bbox_inches="tight")`` writes, to the eye, but in one
    draw instead of two: savefig draws the figure once to measure it and again to write it,
    shifted. Here the figure is written as it is, then measured on the same renderer (whose text
    measurements are cached by then), and the ``<svg>`` element's size and viewBox crop it; the
    figure's background is resized to the cropped box as savefig resizes it. Measured on the
    charts of two Welsh areas (24 figures, the same figures both ways, order alternated): 2.06 and
    2.33 CPU-s with savefig, 1.50 and 1.56 drawn once; the sizes agree to a millionth of a point and
    Chromium paints the two the same but for anti-aliasing at the edges. Units: SVG user units are
    points (the figure is drawn at 72 dpi, as savefig draws an SVG), with y downwards.
    """
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import RendererSVG

    buf = io.StringIO()
    image_dpi = fig.dpi
    width, height = fig.get_size_inches()
    fig.dpi = 72
    try:
        renderer = RendererSVG(width * 72, height * 72, buf, image_dpi=image_dpi,
                               metadata={"Date": None, "Creator": None})  # fmt: skip
        fig.draw(MixedModeRenderer(fig, width, height, image_dpi, renderer))
        renderer.finalize()
        box = fig.get_tightbbox(renderer).padded(matplotlib.rcParams["savefig.pad_inches"])
    finally:
        fig.dpi = image_dpi
    x0, y0, x1, y1 = (72 * v for v in box.extents)
    left, top, w, h = _pt(x0), _pt(72 * height - y1), _pt(x1 - x0), _pt(y1 - y0)
    right, bottom = _pt(x1), _pt(72 * height - y0)
    text = _ROOT_SIZE.sub(
        f'width="{w}pt" height="{h}pt" viewBox="{left} {top} {w} {h}"', buf.getvalue(), count=1
    )
    return _BACKGROUND.sub(
        lambda m: (
            f"{m.group(1)}M {left} {bottom} L {right} {bottom} L {right} {top} L {left} {top} z{m.group(2)}"
        ),
        text,
        count=1,
    )


def _figure(width: float, height: float):  # noqa: ANN202
    with plt.rc_context(_RC):
        return plt.subplots(figsize=(width, height))


def control_chart(frame: pd.DataFrame, title: str, ax=None, compact: bool = False):  # noqa: ANN001, ANN201
    """Monthly counts against the expected count and Poisson control limits.

    ``frame``: ``month``, ``count``, ``expected``, ``lower``, ``upper``, ``signal``, ``gap``,
    ``in_period``. Gap months (supply gaps) are crossed out, not drawn as falls.
    """
    with plt.rc_context(_RC):
        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(7.2, 2.9))
        f = frame.sort_values("month")
        x = pd.to_datetime(f["month"])
        period = f[f["in_period"]]
        if not period.empty and not compact:
            ax.axvspan(
                pd.to_datetime(period["month"].min()) - pd.Timedelta(days=15),
                pd.to_datetime(period["month"].max()) + pd.Timedelta(days=15),
                color="#f2f2f2",
                zorder=0,
                label=_("period assessed"),
            )
        ax.fill_between(x, f["lower"], f["upper"], step="mid", color="#cfe3f2", alpha=0.9, zorder=1,
                        label=_("control limits (3 sigma)"))  # fmt: skip
        ax.plot(x, f["expected"], color="#0072B2", lw=1.0, ls="--", zorder=2, label=_("expected"))
        ok = ~f["gap"].astype(bool)
        ax.plot(x[ok], f["count"][ok], color=INK, lw=1.4, marker="o", ms=2.5 if compact else 3.5, zorder=3,
                label=_("recorded"))  # fmt: skip
        above = ok & (f["signal"] == "above")
        below = ok & (f["signal"] == "below")
        ax.scatter(
            x[above], f["count"][above], marker="^", s=40, color="#D55E00", zorder=4, label=_("above limit")
        )
        ax.scatter(
            x[below], f["count"][below], marker="v", s=40, color="#56B4E9", zorder=4, label=_("below limit")
        )
        gaps = ~ok
        if gaps.any():
            ax.scatter(x[gaps], f["count"][gaps], marker="x", s=40, color="#CC79A7", zorder=4,
                       label=_("supply gap (not a fall)"))  # fmt: skip
        ax.set_title(title, loc="left")
        ax.set_ylim(bottom=0)
        ax.margins(x=0.01)
        if compact:
            ax.tick_params(axis="x", labelrotation=0, labelsize=7)
            ax.xaxis.set_major_locator(matplotlib.dates.MonthLocator(bymonth=(1, 7)))
            ax.xaxis.set_major_formatter(
                matplotlib.ticker.FuncFormatter(lambda x, _pos: _month_tick(x, "\n"))
            )
        else:
            ax.set_ylabel(_("records a month"))
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _pos: _month_tick(x, " ")))
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        if own:
            return fig
        return ax


def small_multiples(frames: Mapping[str, pd.DataFrame], ncols: int = 3):  # noqa: ANN201
    """One compact control chart per series (e.g. per crime type), sharing the legend of the main chart."""
    n = len(frames)
    nrows = int(np.ceil(n / ncols))
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(7.4, 1.75 * nrows + 0.3), squeeze=False)
        for ax, (name, f) in zip(axes.flat, frames.items(), strict=False):
            control_chart(f, name, ax=ax, compact=True)
            ax.title.set_fontsize(8.5)
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        fig.tight_layout(h_pad=0.8, w_pad=0.8)
    return fig


def paired_bars(frame: pd.DataFrame, label_col: str, a: str, b: str, a_label: str, b_label: str, title: str):  # noqa: ANN201
    """Horizontal bars of two shares per category (e.g. share of records and share of harm)."""
    f = frame.iloc[::-1]
    y = np.arange(len(f))
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(7.2, 0.32 * len(f) + 1.0))
        ax.barh(y + 0.2, 100 * f[a].fillna(0), height=0.38, color=OKABE_ITO[0], label=a_label)
        ax.barh(y - 0.2, 100 * f[b].fillna(0), height=0.38, color=OKABE_ITO[1], label=b_label)
        ax.set_yticks(y, f[label_col])
        ax.set_xlabel(_("% of the area's total"))
        ax.set_title(title, loc="left")
        ax.legend(loc="lower right")
    return fig


def _map_axes(gdf: gpd.GeoDataFrame, width: float = 7.0):  # noqa: ANN202
    g = gdf.to_crs(27700)
    minx, miny, maxx, maxy = g.total_bounds
    aspect = (maxy - miny) / max(maxx - minx, 1.0)
    height = float(np.clip(width * aspect * 0.72, 3.2, 7.5))
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(width, height))
    ax.set_axis_off()
    return fig, ax, g


def fill_by_class(ax, g: gpd.GeoDataFrame, fills: Sequence, edgecolor: str, linewidth: float) -> None:  # noqa: ANN001
    """Each polygon of ``g`` filled with its colour in ``fills``, drawn as one path per colour.

    What ``g.plot(ax=ax, color=fills, ...)`` draws, to the eye: the same rings (holes included, as
    geopandas builds them), fills, edges, aspect and limits; only the order in which polygons of
    different colours are painted changes, which nothing shows since polygons do not overlap and
    every edge is the same colour. Why: a map is otherwise one SVG path per LSOA (about 200 a
    partnership, 7 maps a report); with one per class, drawing the map, writing its SVG and
    WeasyPrint's drawing of it in the PDF all handle a few paths instead of hundreds.
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    rings: dict[object, list[MplPath]] = {}
    for geom, fill in zip(g.geometry, fills, strict=True):
        if geom is None or geom.is_empty:
            continue
        key = matplotlib.colors.to_rgba(fill)
        for part in getattr(geom, "geoms", [geom]):
            rings.setdefault(key, []).append(MplPath(np.asarray(part.exterior.coords)[:, :2], closed=True))
            rings[key].extend(MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in part.interiors)
    patches = [PathPatch(MplPath.make_compound_path(*paths)) for paths in rings.values()]
    ax.set_aspect("equal")
    ax.add_collection(
        PatchCollection(patches, facecolors=list(rings), edgecolors=edgecolor, linewidths=linewidth),
        autolim=True,
    )
    ax.autoscale_view()


def _outline(ax, outline: gpd.GeoDataFrame | None) -> None:  # noqa: ANN001
    if outline is not None and not outline.empty:
        outline.to_crs(27700).boundary.plot(ax=ax, color=INK, linewidth=0.9)


def choropleth(
    gdf: gpd.GeoDataFrame,
    column: str,
    title: str,
    legend_title: str,
    k: int = 5,
    scheme: str = "FisherJenks",
    cmap: str = "viridis_r",
    outline: gpd.GeoDataFrame | None = None,
    digits: int = 1,
):  # noqa: ANN201
    """A choropleth with classes from mapclassify (Fisher-Jenks natural breaks by default).

    Returns (figure, bins): ``bins`` are the upper bounds of the classes, for the legend table.
    """
    values = gdf[column].astype(float)
    k = max(1, min(k, int(values.nunique())))
    with warnings.catch_warnings():
        # mapclassify notes it would be faster with numba; the pure-Python path is fine at LSOA scale.
        warnings.filterwarnings("ignore", message="Numba not installed")
        classifier = mapclassify.classify(values.to_numpy(), scheme=scheme, k=k)
    bins = list(classifier.bins)
    colours = matplotlib.colormaps[cmap](np.linspace(0.08, 0.92, len(bins)))
    fig, ax, g = _map_axes(gdf)
    with plt.rc_context(_RC):
        fill_by_class(ax, g, [tuple(colours[i]) for i in classifier.yb], edgecolor="white", linewidth=0.3)
        _outline(ax, outline)
        decorate(ax, g)
        lows = [float(values.min()), *bins[:-1]]
        handles = [
            Patch(
                facecolor=colours[i],
                edgecolor="#777777",
                label=_("{} to {}").format(f"{lo:,.{digits}f}", f"{hi:,.{digits}f}"),
            )
            for i, (lo, hi) in enumerate(zip(lows, bins, strict=True))
        ]
        ax.legend(handles=handles, title=_(legend_title), loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.set_title(title, loc="left")
    return fig, bins


def categorical_map(
    gdf: gpd.GeoDataFrame,
    column: str,
    colours: Mapping[str, str],
    title: str,
    legend_title: str,
    words: Mapping[str, str] | None = None,
    outline: gpd.GeoDataFrame | None = None,
    ax=None,  # noqa: ANN001
    legend: bool = True,
):  # noqa: ANN201
    """LSOAs coloured by class (hot-spot bins, clusters, emerging patterns), legend in a fixed order."""
    own = ax is None
    if own:
        fig, ax, g = _map_axes(gdf)
    else:
        fig, g = ax.figure, gdf.to_crs(27700)
        ax.set_axis_off()
    with plt.rc_context(_RC):
        fill = g[column].map(lambda v: colours.get(v, "#ffffff"))
        fill_by_class(ax, g, list(fill), edgecolor="#bbbbbb", linewidth=0.3)
        _outline(ax, outline)
        decorate(ax, g, labels=legend)
        present = [c for c in colours if c in set(g[column])]
        counts = g[column].value_counts()
        if legend:
            handles = [
                Patch(
                    facecolor=colours[c],
                    edgecolor="#777777",
                    label=f"{_((words or {}).get(c, c))} ({counts[c]})",
                )
                for c in present
            ]
            ax.legend(handles=handles, title=_(legend_title), loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.set_title(title, loc="left")
    return fig if own else ax


def map_panels(
    gdf: gpd.GeoDataFrame, columns: Sequence[tuple[str, str]], colours: Mapping[str, str], legend_title: str
):  # noqa: ANN201
    """Several categorical maps of the same LSOAs side by side with one legend (e.g. Gi* per crime type)."""
    n = len(columns)
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, n, figsize=(2.5 * n + 1.6, 3.6), squeeze=False)
        seen: set[str] = set()
        for ax, (col, title) in zip(axes.flat, columns, strict=True):
            categorical_map(gdf, col, colours, title, legend_title, ax=ax, legend=False)
            ax.title.set_fontsize(8.5)
            seen |= set(gdf[col])
        handles = [Patch(facecolor=colours[c], edgecolor="#777777", label=_(c)) for c in colours if c in seen]
        fig.legend(handles=handles, title=_(legend_title), loc="center left", bbox_to_anchor=(1.0, 0.5))
        fig.tight_layout()
    return fig


def forest_plot(frame: pd.DataFrame, title: str):  # noqa: ANN201
    """Incidence rate ratios with 95% intervals: rows are covariates, one colour per crime type.

    ``frame``: ``crime_type``, ``label``, ``irr``, ``irr_lower``, ``irr_upper``.
    """
    types = list(dict.fromkeys(frame["crime_type"]))
    labels = list(dict.fromkeys(frame["label"]))
    step = 0.8 / max(len(types), 1)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(7.2, 0.55 * len(labels) + 1.2))
        for i, t in enumerate(types):
            part = frame[frame["crime_type"] == t].set_index("label").reindex(labels)
            y = np.arange(len(labels))[::-1] + 0.4 - step / 2 - i * step
            err = np.vstack([part["irr"] - part["irr_lower"], part["irr_upper"] - part["irr"]])
            ax.errorbar(part["irr"], y, xerr=err, fmt="o", ms=3.5, lw=1.1, capsize=2,
                        color=OKABE_ITO[i % len(OKABE_ITO)], label=t)  # fmt: skip
        ax.axvline(1.0, color=GREY, lw=1, ls="--")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_yticks(np.arange(len(labels))[::-1], labels)
        ax.set_xlabel(_("incidence rate ratio per 1 SD higher score (log scale; 1 = no association)"))
        ax.set_title(title, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def peer_chart(
    group: pd.DataFrame, area: str, mean: float, lower: float, upper: float, title: str, xlabel: str
):  # noqa: ANN201
    """Rates of the area and its peers as dots, with the peer-group mean and its interval."""
    g = group.sort_values("rate")
    y = np.arange(len(g))
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(g) + 1.1))
        ax.axvspan(lower, upper, color="#cfe3f2", label=_("95% interval for the group mean"))
        ax.axvline(mean, color="#0072B2", lw=1, ls="--", label=_("group mean"))
        is_area = (g["code"] == area).to_numpy()
        ax.scatter(g["rate"][~is_area], y[~is_area], color=INK, s=22, zorder=3, label=_("peer"))
        ax.scatter(
            g["rate"][is_area], y[is_area], color="#D55E00", s=46, marker="D", zorder=4, label=_("this area")
        )
        ax.set_yticks(y, g["name"])
        ax.set_xlabel(xlabel)
        ax.set_title(title, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def rank_slope(frame: pd.DataFrame, title: str):  # noqa: ANN201
    """Data-led rank (left) against community rank (right), one line per crime type; disagreements coloured.

    Types are placed in rank order on each side (ties one below the other, so labels never overlap);
    the labels give the ranks themselves.
    """
    left = frame.sort_values(["data_rank", "crime_type"], kind="mergesort").reset_index(drop=True)
    right = frame.sort_values(["community_rank", "data_rank", "crime_type"], kind="mergesort").reset_index(
        drop=True
    )
    ly = {t: i for i, t in enumerate(left["crime_type"])}
    ry = {t: i for i, t in enumerate(right["crime_type"])}
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(6.8, 0.3 * len(frame) + 1.3))
        for r in frame.itertuples():
            colour = "#D55E00" if r.disagree else GREY
            ax.plot([0, 1], [ly[r.crime_type], ry[r.crime_type]], color=colour, lw=1.6 if r.disagree else 0.9)
            ax.text(
                -0.03,
                ly[r.crime_type],
                f"{r.crime_type} ({r.data_rank})",
                ha="right",
                va="center",
                fontsize=7.5,
            )
            ax.text(1.03, ry[r.crime_type], f"({r.community_rank}) {r.crime_type}", ha="left", va="center",
                    fontsize=7.5, color=INK if r.disagree else GREY)  # fmt: skip
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(len(frame) - 0.5, -0.8)
        ax.set_xticks([0, 1], ["data-led rank", "PACT (community) rank"])
        ax.xaxis.tick_top()
        ax.set_yticks([])
        for s in ("left", "bottom", "top"):
            ax.spines[s].set_visible(False)
        ax.set_title(title, loc="left", pad=18)
        ax.legend(
            handles=[
                Line2D([], [], color="#D55E00", lw=1.6, label=_("rankings disagree")),
                Line2D([], [], color=GREY, lw=0.9, label=_("broadly agree")),
            ],  # fmt: skip
            loc="upper center",
            bbox_to_anchor=(0.5, -0.02),
            ncols=2,
        )
    return fig
