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
from diogel.report.i18n import HTML_LANG, Place, T, Text, _, current, here, language, place
from diogel.report.render import bilingual as two_languages
from diogel.report.render import environment, write_pdf
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
)
from diogel.resources.options_maps import METRIC_LABELS, draw_maps
from diogel.resources.provenance import options_figures, write_figures

if TYPE_CHECKING:
    from diogel.resources.indicators import Indicators
    from diogel.warehouse.protocol import Warehouse

SYNTHETIC_LEDGER = "synthetic_capacity_ledger_wales.csv"


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
    #: the language the maps' titles and legends were drawn in (a page in another language redraws them)
    maps_language: str = "en"
    #: population year, deprivation index and crime months behind every indicator (indicator_vintage)
    vintage: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["indicator", "source", "vintage"])
    )


def synthetic_ledger_path() -> Path:
    return Path(str(resources.files("diogel.resources") / "templates" / SYNTHETIC_LEDGER))


def _money(x: float | None) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return _("unknown")
    return f"£{x:,.0f}"


def _num(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return _("unknown")
    return f"{x:,.{digits}f}"


def build_options(
    wh: Warehouse,
    ledger: str | Path | Ledger | None = None,
    settings: OptionsSettings | None = None,
) -> OptionsResult:
    """Work out the three options on the warehouse and a capacity ledger (default: the synthetic one).

    Returns an :class:`OptionsResult` holding every table and the maps (SVG strings, drawn in the
    report language). The notes are :class:`~diogel.report.i18n.Text`: English, and Welsh on a Welsh page.
    """
    from diogel.resources.indicators import la_indicators, partnership_context, population_years
    from diogel.resources.vintage import indicator_vintage, vintage_lines

    settings = settings or OptionsSettings()
    notes: list[str] = []
    led, label = _ledger(ledger, notes)
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
    cap = _capacity(ind_year, partnership_context(wh, list(ind_year["partnership"]), ind), settings)
    notes.append(
        T(
            "capacity: {ledger}, financial year {year}: {n} partnership(s); funding counted once per budget "
            "line, core-service budgets excluded; each post counted once",
            ledger=label,
            year=f"{year}/{(year + 1) % 100:02d}",
            n=len(cap),
        )
    )
    notes.append(
        T("population: ONS mid-{year} estimates by LSOA, summed to local authorities", year=pop_year)
    )
    notes += [n for n in ind.notes if n.startswith("recorded crime")]
    no_police = cap.loc[~cap["police_data"], "partnership"].tolist()
    if no_police:
        notes.append(
            T(
                "no police data for {n} of {total} partnership(s) ({partnerships}): their recorded crime and "
                "funding per crime are unknown, not zero",
                n=len(no_police),
                total=len(cap),
                partnerships=", ".join(no_police),
            )
        )
    las, contiguity, am, cot = _amalgamation(wh, ind, settings, pop_year, notes)
    result = OptionsResult(
        settings=settings,
        ledger_label=label,
        synthetic=ledger is None,
        year=year,
        population_year=pop_year,
        capacity=cap,
        cost=cost_to_standard(cap, Standard(settings.metric, settings.standard, settings.cost_per_fte)),
        meeting=count_meeting(cap, settings.metric, [settings.standard, settings.lowered]),
        las=las,
        contiguity=contiguity,
        amalgamation=am,
        coterminosity=cot,
        groups=_groups(cap, las, am, cot, settings),
        summary=pd.DataFrame(),
        notes=[*notes, *vintage_lines(ind)],
        vintage=indicator_vintage(ind, ["population", "deprivation_score", "recorded_crime", "asb"]),
    )
    # The summary is data (options_summary.csv, figures.json), so English; the page words its own.
    with language("en"):
        result.summary = side_by_side(result)
    result.maps, result.maps_language = draw_maps(result), current()
    return result


def _ledger(ledger: str | Path | Ledger | None, notes: list[str]) -> tuple[Ledger, str]:
    """The capacity ledger and its label; with none given, the bundled synthetic one (said in ``notes``)."""
    if ledger is None:
        notes.append(
            T(
                "SYNTHETIC DATA: no capacity ledger was given, so the bundled synthetic ledger is used. Its "
                "figures are invented for five partnerships and describe no real partnership."
            )
        )
        label = T("SYNTHETIC capacity ledger ({file}, invented figures)", file=SYNTHETIC_LEDGER)
        return read_ledger(synthetic_ledger_path()), label
    if isinstance(ledger, Ledger):
        return ledger, ledger.source or "capacity ledger"
    return read_ledger(ledger), str(ledger)


def _capacity(ind_year: pd.DataFrame, ctx: pd.DataFrame, settings: OptionsSettings) -> pd.DataFrame:
    """One row per partnership of the ledger: its capacity, population, recorded crime and the metric."""
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
    return cap


def _amalgamation(
    wh: Warehouse, ind: Indicators, settings: OptionsSettings, pop_year: int, notes: list[str]
) -> tuple[object, Contiguity, Amalgamation, pd.DataFrame]:
    """Option (iii) on every local authority with population: the authorities with their force, their
    contiguity, the max-p groups and each group's coterminosity with police force areas."""
    from diogel.resources.la_geography import la_force, la_geometries

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
    notes.append(
        T(
            "amalgamation: spopt max-p regions (Wei, Rey & Knaap 2020) on Queen contiguity of the {n} local "
            "authorities dissolved from the loaded LSOA boundaries; every group has at least {population} "
            "residents (mid-{year}); seed {seed}",
            n=len(las),
            population=f"{settings.min_population:,.0f}",
            year=pop_year,
            seed=settings.seed,
        )
    )
    names = dict(zip(las["area_code"], las["area_name"], strict=True))
    for a, b, d in contiguity.added_links:
        notes.append(
            T(
                "{area} shares no border with another authority in the boundaries, so it is joined to its "
                "nearest neighbour, {neighbour} ({km} km away)",
                area=Place(names[a]),
                neighbour=Place(names[b]),
                km=f"{d / 1000:.1f}",
            )
        )
    return las, contiguity, am, cot


def _groups(
    cap: pd.DataFrame, las: object, am: Amalgamation, cot: pd.DataFrame, settings: OptionsSettings
) -> pd.DataFrame:
    """Option (iii) by group: members, force areas, pooled capacity where known, shortfall and cost."""
    metric_col, mult = METRICS[settings.metric]
    members = {r.area_code: r.la_codes.split(", ") for r in cap.itertuples()}
    pooled = pooled_capacity(cap[["area_code", "population", "fte", "funding"]], am.labels, members)
    groups = am.groups.merge(cot, on="group").merge(
        pooled.drop(columns=["population"]), on="group", how="left"
    )
    groups = groups.rename(columns={"size": "population"})
    la_names = dict(zip(las["area_code"], las["area_name"], strict=True))  # type: ignore[index]
    reasons = [_named(text, la_names) if isinstance(text, str) else "" for text in groups["reason"]]
    groups["reason"] = pd.Series(reasons, index=groups.index, dtype=object)  # Text: Welsh on a Welsh page
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
    return groups


def _named(text: str, names: dict[str, str]) -> str:
    """``text`` with every local-authority code replaced by the authority's name (inside a Text's values,
    so the text can still be given in Welsh)."""
    if isinstance(text, Text):
        return T(
            text.msgid, **{k: _named(v, names) if isinstance(v, str) else v for k, v in text.values.items()}
        )
    return re.sub(r"[EW]0\d{7}", lambda m: names.get(m.group(0), m.group(0)), text)


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


def _vintage_table(vintage: pd.DataFrame) -> pd.DataFrame:
    """The vintage table in the report language: headings, indicator names, sources and vintages."""
    words = vintage.map(here)
    words["indicator"] = [_(code) for code in vintage["indicator"]]  # a data name in English
    return words.rename(columns=_)


def _places(names: str) -> str:
    """A comma-separated list of area or force names, each in the report language."""
    return ", ".join(place(n) for n in str(names).split(", ")) if names else names


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
            _("partnership"): per["partnership"].map(place),
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
            _("local authorities"): g["area_names"].map(_places),
            _("population"): g["population"].map(lambda v: f"{v:,.0f}"),
            _("police force areas"): g["forces"].map(_places),
            _("crosses a force boundary"): g["crosses_force_boundary"].map(yes_no),
            _("pooled FTE"): g["fte"].map(_num),
            _(METRIC_LABELS[s.metric]): g[s.metric].map(_num),
            _("meets standard"): g["meets_standard"].map(yes_no),
            _("annual cost to standard"): g["cost"].map(_money),
            _("why unknown"): g["reason"].fillna("").map(here),
        }
    )
    maps = r.maps if r.maps_language == current() else draw_maps(r)
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
            ledger=here(r.ledger_label),
            settings=s,
            metric_label=_(METRIC_LABELS[s.metric]),
            year=f"{r.year}/{(r.year + 1) % 100:02d}",
            population_year=r.population_year,
            # Worked out again so the words are this page's language (a bilingual report has two pages).
            summary=_table(side_by_side(r), index=True),
            partnerships=_table(part),
            groups=_table(groups),
            capacity_map=maps["capacity"],
            groups_map=maps["groups"],
            notes=[here(n) for n in r.notes],
            vintage=_table(_vintage_table(r.vintage)),
            cost_per_fte=_money(s.cost_per_fte) if s.cost_per_fte is not None else _("not given"),
        )
    )


def write_report(
    r: OptionsResult, out_dir: str | Path, pdf: bool = True, bilingual: bool = False
) -> list[Path]:
    """Write ``options_report.html``, ``options_report.pdf``, the tables as CSV and ``options_figures.json``
    (every figure with its definition, inputs and parameters) into ``out_dir``.

    The page is in the report language, or with ``bilingual`` one document in Welsh then English
    (:func:`diogel.report.render.bilingual`, as ``diogel assess --language both``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if bilingual:
        with language("cy"):
            welsh = render_html(r)
        with language("en"):
            page = two_languages(welsh, render_html(r))
    else:
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
