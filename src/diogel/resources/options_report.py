"""The options-for-change report: three ways to match partnership capacity to need, side by side.

(i)   keep every partnership and bring each up to a capacity standard (the cost of doing so);
(ii)  keep every partnership and lower the standard (how many then meet it);
(iii) amalgamate local authorities into contiguous groups that each reach a minimum population
      (spopt max-p on local-authority contiguity dissolved from the warehouse's LSOA boundaries),
      checked for coterminosity with police force areas, with capacity pooled where it is known.

Capacity comes from a capacity ledger (:mod:`diogel.resources.ledger`); with none given, the
bundled SYNTHETIC ledger is used and the report says so on its first line. Population, boundaries
and force areas come from the warehouse. The report is one self-contained HTML file (inline CSS
and SVG maps, nothing fetched from a network) and the same content as PDF (WeasyPrint). The same
inputs and seed give the same HTML, byte for byte.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from diogel import __version__
from diogel.errors import DiogelError
from diogel.report.i18n import HTML_LANG, _, current
from diogel.report.render import environment, write_pdf
from diogel.resources.charts import figure_svg, svg_for_html
from diogel.resources.ledger import Ledger, capacity_indicators, read_ledger
from diogel.resources.options import (
    METRICS,
    Amalgamation,
    Contiguity,
    Standard,
    StandardCost,
    amalgamate,
    cost_to_standard,
    count_meeting,
    force_coterminosity,
    groups_contiguous,
    la_contiguity,
    pooled_capacity,
    simplify_coverage,
)
from diogel.resources.provenance import options_figures, write_figures

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

SYNTHETIC_LEDGER = "synthetic_capacity_ledger_wales.csv"
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


@dataclass(frozen=True)
class OptionsSettings:
    """The choices behind a report (illustrative defaults, printed in the report).

    ``metric``: ``fte_per_100k`` or ``funding_per_head``; ``standard`` and ``lowered`` are levels of
    it; ``cost_per_fte`` prices an FTE shortfall (pounds a year, on-costs included);
    ``min_population`` is the smallest population an amalgamated group may have; ``seed`` fixes the
    max-p heuristic; ``population_year`` defaults to the latest loaded; ``year`` (financial year
    start) picks the ledger year, default the latest in the ledger.
    """

    metric: str = "fte_per_100k"
    standard: float = 3.0
    lowered: float = 2.0
    cost_per_fte: float | None = 40_000.0
    min_population: float = 200_000.0
    seed: int = 0
    population_year: int | None = None
    year: int | None = None

    def __post_init__(self) -> None:
        Standard(self.metric, self.standard, self.cost_per_fte)
        if self.lowered > self.standard:
            raise DiogelError(
                f"the lowered standard ({self.lowered}) is above the standard ({self.standard})"
            )
        if self.min_population <= 0:
            raise DiogelError("the minimum group population must be positive")


@dataclass
class OptionsResult:
    settings: OptionsSettings
    ledger_label: str
    synthetic: bool
    year: int
    population_year: int
    capacity: pd.DataFrame
    cost: StandardCost
    meeting: pd.DataFrame
    las: object  # GeoDataFrame of local authorities with population and force_name
    contiguity: Contiguity
    amalgamation: Amalgamation
    coterminosity: pd.DataFrame
    groups: pd.DataFrame
    summary: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    maps: dict[str, str] = field(default_factory=dict)
    #: population year, deprivation index and crime months behind every indicator (indicator_vintage)
    vintage: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["indicator", "source", "vintage"])
    )


def synthetic_ledger_path() -> Path:
    return Path(str(resources.files("diogel.resources") / "templates" / SYNTHETIC_LEDGER))


def _money(x: float | None) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "unknown"
    return f"£{x:,.0f}"


def _num(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "unknown"
    return f"{x:,.{digits}f}"


def build_options(
    wh: Warehouse,
    ledger: str | Path | Ledger | None = None,
    settings: OptionsSettings | None = None,
) -> OptionsResult:
    """Work out the three options on the warehouse and a capacity ledger (default: the synthetic one).

    Returns an :class:`OptionsResult` holding every table and the maps (SVG strings).
    """
    # Over 80 lines: the three options are worked out in the order the report states its notes.
    from diogel.resources.indicators import (
        indicator_vintage,
        la_indicators,
        partnership_context,
        population_years,
        vintage_lines,
    )
    from diogel.resources.la_geography import la_force, la_geometries

    settings = settings or OptionsSettings()
    notes: list[str] = []
    synthetic = ledger is None
    if ledger is None:
        path = synthetic_ledger_path()
        led = read_ledger(path)
        label = f"SYNTHETIC capacity ledger ({SYNTHETIC_LEDGER}, invented figures)"
        notes.append(
            "SYNTHETIC DATA: no capacity ledger was given, so the bundled synthetic ledger is used. Its "
            "figures are invented for five partnerships and describe no real partnership."
        )
    elif isinstance(ledger, Ledger):
        led, label = ledger, ledger.source or "capacity ledger"
    else:
        led, label = read_ledger(ledger), str(ledger)

    ind_all = capacity_indicators(led)
    if ind_all.empty:
        raise DiogelError(f"{label}: the ledger has no funding lines or posts")
    year = settings.year if settings.year is not None else int(ind_all["year"].max())
    ind_year = ind_all[ind_all["year"] == year]
    if ind_year.empty:
        raise DiogelError(f"{label}: nothing for {year} (the ledger has {sorted(set(ind_all['year']))})")

    years = population_years(wh)
    if not years:
        raise DiogelError("no population estimates are loaded: run 'diogel init --reference wales' first")
    pop_year = settings.population_year if settings.population_year is not None else years[-1]
    if pop_year not in years:
        raise DiogelError(f"no mid-{pop_year} population is loaded (loaded: {', '.join(map(str, years))})")
    ind = la_indicators(wh, pop_year)
    ctx = partnership_context(wh, list(ind_year["partnership"]), ind)
    context = ["partnership", "area_code", "area_name", "la_codes", "population", "recorded_crime"]
    cap = ind_year.merge(ctx[[*context, "police_data", "note"]], on="partnership")
    cap = cap.rename(columns={"funding_counted": "funding", "note": "police_note"})
    cap = cap[
        ["area_code", "area_name", "partnership", "la_codes", "population", "fte", "funding"]
        + ["recorded_crime", "police_data", "police_note"]
    ]
    cap = cap.sort_values("area_code").reset_index(drop=True)
    # Unknown crime (no police data loaded for the partnership's force) stays unknown, never zero.
    cap["funding_per_crime"] = cap["funding"] / cap["recorded_crime"].where(cap["police_data"])
    metric_col, mult = METRICS[settings.metric]
    cap[settings.metric] = cap[metric_col] / cap["population"] * mult
    notes.append(
        f"capacity: {label}, financial year {year}/{(year + 1) % 100:02d}: {len(cap)} partnership(s); "
        "funding counted once per budget line, core-service budgets excluded; each post counted once"
    )
    notes.append(f"population: ONS mid-{pop_year} estimates by LSOA, summed to local authorities")
    notes += [n for n in ind.notes if n.startswith("recorded crime")]
    no_police = cap.loc[~cap["police_data"], "partnership"].tolist()
    if no_police:
        notes.append(
            f"no police data for {len(no_police)} of {len(cap)} partnership(s) ({', '.join(no_police)}): "
            "their recorded crime and funding per crime are unknown, not zero"
        )

    standard = Standard(settings.metric, settings.standard, settings.cost_per_fte)
    cost = cost_to_standard(cap, standard)
    meeting = count_meeting(cap, settings.metric, [settings.standard, settings.lowered])

    # (iii) amalgamation on every local authority with population.
    frame = ind.frame[["area_code", "area_name", "population"]]
    las = la_geometries(wh, list(frame["area_code"]))
    las = las.drop(columns=["area_name"]).merge(frame, on="area_code")
    forces = la_force(wh).rename(columns={"la_code": "area_code"})
    las = las.merge(forces[["area_code", "force_name"]], on="area_code", how="left")
    las = las.sort_values("area_code", ignore_index=True)
    if las["force_name"].isna().any():
        raise DiogelError(
            "no police force area for some local authorities: load the LA -> CSP -> force lookup"
        )
    contiguity = la_contiguity(las)
    try:
        am = amalgamate(las, contiguity.w, "population", settings.min_population, seed=settings.seed)
    except ValueError as exc:
        raise DiogelError(str(exc)) from None
    contiguous = groups_contiguous(am.labels, contiguity.w)
    if not contiguous.all():  # a defect in the heuristic, not in the data: refuse to report it
        raise DiogelError(f"max-p returned non-contiguous groups {list(contiguous[~contiguous].index)}")
    cot = force_coterminosity(am.labels, las[["area_code", "force_name"]])
    members = {r.area_code: r.la_codes.split(", ") for r in cap.itertuples()}
    pooled = pooled_capacity(cap[["area_code", "population", "fte", "funding"]], am.labels, members)
    groups = am.groups.merge(cot, on="group").merge(
        pooled.drop(columns=["population"]), on="group", how="left"
    )
    groups = groups.rename(columns={"size": "population"})
    la_names = dict(zip(las["area_code"], las["area_name"], strict=True))
    groups["reason"] = (
        groups["reason"]
        .fillna("")
        .map(lambda text: re.sub(r"[EW]0\d{7}", lambda m: la_names.get(m.group(0), m.group(0)), text))
    )
    known = groups["known"]
    required = settings.standard * groups["population"] / mult
    groups["shortfall"] = np.where(known, (required - groups[metric_col]).clip(lower=0), np.nan)
    if settings.metric == "funding_per_head":
        groups["cost"] = groups["shortfall"]
    elif settings.cost_per_fte is not None:
        groups["cost"] = groups["shortfall"] * settings.cost_per_fte
    else:
        groups["cost"] = np.nan
    groups["meets_standard"] = np.where(known, groups[settings.metric] >= settings.standard, None)
    notes.append(
        f"amalgamation: spopt max-p regions (Wei, Rey & Knaap 2020) on Queen contiguity of the {len(las)} "
        f"local authorities dissolved from the loaded LSOA boundaries; every group has at least "
        f"{settings.min_population:,.0f} residents (mid-{pop_year}); seed {settings.seed}"
    )
    for a, b, d in contiguity.added_links:
        names = dict(zip(las["area_code"], las["area_name"], strict=True))
        notes.append(
            f"{names[a]} shares no border with another authority in the boundaries, so it is joined to its "
            f"nearest neighbour, {names[b]} ({d / 1000:.1f} km away)"
        )

    result = OptionsResult(
        settings=settings,
        ledger_label=label,
        synthetic=synthetic,
        year=year,
        population_year=pop_year,
        capacity=cap,
        cost=cost,
        meeting=meeting,
        las=las,
        contiguity=contiguity,
        amalgamation=am,
        coterminosity=cot,
        groups=groups,
        summary=pd.DataFrame(),
        notes=[*notes, *vintage_lines(ind)],
        vintage=indicator_vintage(ind, ["population", "deprivation_score", "recorded_crime", "asb"]),
    )
    result.summary = side_by_side(result)
    result.maps = {"capacity": capacity_map(result), "groups": groups_map(result)}
    return result


def side_by_side(r: OptionsResult) -> pd.DataFrame:
    """The three options in one table: rows are measures, columns the options."""
    s = r.settings
    unit = _("FTE") if s.metric == "fte_per_100k" else "£"
    n = len(r.capacity)
    n_las = len(r.las)  # type: ignore[arg-type]
    meets_now = int(r.meeting.loc[0, "n_meeting"])
    meets_low = int(r.meeting.loc[1, "n_meeting"])
    g = r.groups
    known = g[g["known"]]
    cost_i = r.cost.total_cost
    cost_iii = float(known["cost"].sum()) if len(known) and known["cost"].notna().all() else None
    # The words are in the report's language (diogel options --language); the numbers are the same.
    none_here = _("none (each authority lies in one force area)")
    rows = {
        _("what changes"): (
            _("keep the {n} partnerships; fund each up to {standard} {metric}").format(
                n=n_las, standard=f"{s.standard:g}", metric=_(METRIC_LABELS[s.metric])
            ),
            _("keep the {n} partnerships; lower the standard to {lowered}").format(
                n=n_las, lowered=f"{s.lowered:g}"
            ),
            _("merge authorities into {groups} contiguous groups of at least {population} residents").format(
                groups=len(g), population=f"{s.min_population:,.0f}"
            ),
        ),
        _("assessed (capacity known)"): (
            _("{n} of {total} partnerships").format(n=n, total=n_las),
            _("{n} of {total} partnerships").format(n=n, total=n_las),
            _("{n} of {total} groups").format(n=len(known), total=len(g)),
        ),
        _("meeting the standard today"): (
            _("{n} of {total}").format(n=meets_now, total=n),
            _("{low} of {total} meet the lowered standard ({now} meet {standard})").format(
                low=meets_low, total=n, now=meets_now, standard=f"{s.standard:g}"
            ),
            _("{n} of {total} on pooled capacity").format(
                n=int(known["meets_standard"].sum()), total=len(known)
            ),
        ),
        _("shortfall ({unit})").format(unit=unit): (
            _num(r.cost.total_shortfall),
            _("none by definition (the standard moves)"),
            _num(float(known["shortfall"].sum())) if len(known) else _("unknown"),
        ),
        _("annual cost to reach the standard"): (
            _money(cost_i) if cost_i is not None else _("no cost per FTE given"),
            _("£0 (no new money)"),
            _money(cost_iii) if cost_iii is not None else _("unknown"),
        ),
        _("groups crossing a police force boundary"): (
            none_here,
            none_here,
            _("{n} of {total}").format(n=int(g["crosses_force_boundary"].sum()), total=len(g)),
        ),
    }
    return pd.DataFrame(
        rows, index=[_("(i) fund to standard"), _("(ii) lower the standard"), _("(iii) amalgamate")]
    ).T.rename_axis(_("measure"))


# ---------------------------------------------------------------------------------------------
# Maps


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


# ---------------------------------------------------------------------------------------------
# HTML and PDF


def _table(df: pd.DataFrame, index: bool = False) -> str:
    head = "".join(
        f"<th>{html.escape(str(c))}</th>" for c in ([df.index.name or ""] if index else []) + list(df.columns)
    )
    body = []
    for idx, row in df.iterrows():
        cells = [f"<th>{html.escape(str(idx))}</th>"] if index else []
        cells += [f"<td>{html.escape(str(v))}</td>" for v in row]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def partnership_table(r: OptionsResult) -> pd.DataFrame:
    """Option (i) by partnership with the ledger's capacity and the police data behind it.

    :attr:`StandardCost.by_partnership` plus ``partnership``, ``fte``, ``funding``,
    ``recorded_crime``, ``police_data``, ``funding_per_crime`` = funding / recorded_crime (missing
    where the partnership's force has no police data loaded) and ``police_note`` saying why.
    """
    cols = ["area_code", "partnership", "fte", "funding", "recorded_crime", "police_data"]
    return r.cost.by_partnership.merge(
        r.capacity[[*cols, "funding_per_crime", "police_note"]], on="area_code"
    )


def render_html(r: OptionsResult) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG; no scripts, fonts or links)."""
    s = r.settings
    unit = _("FTE") if s.metric == "fte_per_100k" else "£"
    per = partnership_table(r)
    yes_no = {True: _("yes"), False: _("no"), None: _("unknown")}
    part = pd.DataFrame(
        {
            _("partnership"): per["partnership"],
            _("population"): per["population"].map(lambda v: f"{v:,.0f}"),
            _("FTE"): per["fte"].map(_num),
            _("funding counted"): per["funding"].map(_money),
            _(METRIC_LABELS[s.metric]): per["current"].map(_num),
            _("required ({unit})").format(unit=unit): per["required"].map(_num),
            _("shortfall ({unit})").format(unit=unit): per["shortfall"].map(_num),
            _("annual cost"): per["cost"].map(_money),
            _("meets lowered {lowered}").format(lowered=f"{s.lowered:g}"): (per["current"] >= s.lowered).map(
                yes_no
            ),
            _("recorded crime"): [
                f"{c:,.0f}" if ok else _("no police data")
                for c, ok in zip(per["recorded_crime"], per["police_data"], strict=True)
            ],
            _("funding per crime"): [
                _num(v) if ok else _("unknown")
                for v, ok in zip(per["funding_per_crime"], per["police_data"], strict=True)
            ],
        }
    )
    g = r.groups
    groups = pd.DataFrame(
        {
            _("group"): g["group"],
            _("local authorities"): g["area_names"],
            _("population"): g["population"].map(lambda v: f"{v:,.0f}"),
            _("police force areas"): g["forces"],
            _("crosses a force boundary"): g["crosses_force_boundary"].map(yes_no),
            _("pooled FTE"): g["fte"].map(_num),
            _(METRIC_LABELS[s.metric]): g[s.metric].map(_num),
            _("meets standard"): g["meets_standard"].map(yes_no),
            _("annual cost to standard"): g["cost"].map(_money),
            _("why unknown"): g["reason"].fillna(""),
        }
    )
    template = (resources.files("diogel.resources") / "templates" / "options_report.html").read_text(
        encoding="utf-8"
    )
    # The report's one renderer (autoescaped, strict about undefined names) serves this page too.
    return (
        environment()
        .from_string(template)
        .render(
            title=_("Options for change in community safety partnership capacity"),
            lang=HTML_LANG[current()],
            version=__version__,
            synthetic=r.synthetic,
            ledger=r.ledger_label,
            settings=s,
            metric_label=_(METRIC_LABELS[s.metric]),
            year=f"{r.year}/{(r.year + 1) % 100:02d}",
            population_year=r.population_year,
            summary=_table(r.summary, index=True),
            partnerships=_table(part),
            groups=_table(groups),
            capacity_map=r.maps["capacity"],
            groups_map=r.maps["groups"],
            notes=r.notes,
            vintage=_table(r.vintage),
            cost_per_fte=_money(s.cost_per_fte) if s.cost_per_fte is not None else _("not given"),
        )
    )


def write_report(r: OptionsResult, out_dir: str | Path, pdf: bool = True) -> list[Path]:
    """Write ``options_report.html``, ``options_report.pdf``, the tables as CSV and ``options_figures.json``
    (every figure with its definition, inputs and parameters) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    page = render_html(r)
    paths = [out / "options_report.html"]
    paths[0].write_text(page, encoding="utf-8")
    if pdf:
        paths.append(out / "options_report.pdf")
        write_pdf(page, paths[-1])
    tables = {
        "options_summary.csv": r.summary.reset_index(),
        "options_partnerships.csv": partnership_table(r),
        "options_groups.csv": r.groups,
        "options_group_members.csv": r.amalgamation.labels,
        "options_vintage.csv": r.vintage,
    }
    for name, df in tables.items():
        df.to_csv(out / name, index=False, lineterminator="\n", float_format="%.6f")
        paths.append(out / name)
    names = {
        "summary": "options_summary.csv",
        "partnerships": "options_partnerships.csv",
        "groups": "options_groups.csv",
    }
    figures = options_figures(r, tables["options_partnerships.csv"], names)
    paths.append(write_figures(out / "options_figures.json", "diogel options for change", figures))
    return paths
