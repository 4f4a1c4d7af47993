"""Section "Stop and search": volumes, rates, outcome and find rates, ethnicity, and where searches are.

police.uk stop-and-search rows carry a point, not an LSOA: a search belongs to the area when its
point falls in one of the area's 2021 LSOA polygons (searches without a location cannot be placed
and are counted apart). Disproportionality needs residents by self-defined ethnicity for the
area; no such table is loaded in diogel, so the section says so and shows the search-side
breakdown only, rather than inventing a denominator.

The searches are read once before the sections are built (:mod:`diogel.gather.stop_search`, given
to the context as ``ctx.stop_search``); :func:`compute` is a pure function of them and the gathered
area data, and :func:`build` registers the figures and writes the text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup

from diogel.analysis.stop_search import MIN_READABLE, StopSearchSummary, searches_against_crime, summarise
from diogel.gather.stop_search import StopSearchBundle
from diogel.report.context import Context, SectionOutput
from diogel.report.figures import FigureRegistry, fmt_count, fmt_number, fmt_pct
from diogel.report.gather import AreaData
from diogel.report.i18n import T, _, here, term
from diogel.report.sections import Section, register
from diogel.report.sections._common import CRIME, lsoa_counts

__all__ = ["StopSearchResult", "build", "compute"]

# police.uk's values of "Object of search" and "Outcome", so a table cell can be given in Welsh
# (a value not listed here is shown as published).
VALUES = {
    str(t): t
    for t in (
        T("Controlled drugs"), T("Offensive weapons"), T("Stolen goods"), T("Article for use in theft"),
        T("Articles for use in criminal damage"), T("Evidence of offences under the Act"), T("Firearms"),
        T("Anything to threaten or harm anyone"), T("Fireworks"), T("Psychoactive substances"), T("Crossbows"),
        T("Game or poaching equipment"), T("Evidence of wildlife offences"),
        T("Goods on which duty has not been paid etc."), T("Detailed object of search unavailable"),
        T("A no further action disposal"), T("Arrest"), T("Community resolution"), T("Khat or Cannabis warning"),
        T("Penalty Notice for Disorder"), T("Summons / charged by post"), T("Caution (simple or conditional)"),
        T("not recorded"), T("Not stated"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class StopSearchResult:
    """What the section shows: the searches' summary, the unplaced count and the place comparison."""

    summary: StopSearchSummary
    unlocated: int
    place: dict


def compute(bundle: StopSearchBundle | None, data: AreaData) -> StopSearchResult | None:
    """The section's numbers from the gathered searches; None when no search is placed in the area."""
    if bundle is None or bundle.placed.empty:
        return None
    searches = bundle.placed
    residents = float(data.population["population"].sum())
    s = summarise(searches, residents, data.period.n_months)
    crime = lsoa_counts(data, data.period, CRIME)
    place = searches_against_crime(searches.groupby("lsoa_code").size(), crime)
    return StopSearchResult(summary=s, unlocated=bundle.unlocated, place=place)


def _pct(v: float) -> str:
    return fmt_pct(100 * v) if v is not None and not math.isnan(v) else _("n/a")


def _value(v: object) -> str:
    """A police.uk category (object, outcome, ethnic group) in the report language."""
    if v is None:
        return ""
    return here(VALUES[v]) if v in VALUES else term(str(v))


def _register(f: FigureRegistry, r: StopSearchResult, period: str) -> dict[str, Markup]:
    """Register the section's figures in the order the text quotes them; return their spans."""
    s, place = r.summary, r.place
    inputs = ["population", "boundaries", "lookups"]
    params = {"period": period, "source": "police.uk stop and search (table police_stop_search)",
              "min_readable": MIN_READABLE}  # fmt: skip
    spans = {
        "n": f.number("searches", s.searches, label=T("Stop and searches in the area"), inputs=inputs, parameters=params,
                      definition=T("police.uk stop-and-search rows in the period whose point lies in one of the area's "
                                   "2021 LSOAs; each row is one search (no ID, so identical rows both count).")),
        "un": f.number("unlocated", r.unlocated, label=T("Searches by the same force(s) with no location"),
                       inputs=inputs, parameters=params,
                       definition=T("Rows in the period without latitude and longitude: they cannot be placed in any area.")),
        "rate": f.number("rate_per_1000", s.rate_per_1000_a_year, fmt=lambda v: fmt_number(v, 1), inputs=inputs,
                         label=T("Searches per 1,000 residents a year"), parameters=params,
                         definition=T("1000 x searches / residents x 12 / months.")),
        "outcome": f.number("outcome_rate", s.outcome_rate, fmt=_pct, inputs=inputs, parameters=params,
                            label=T("Outcome rate (an outcome other than no further action)"),
                            definition=T("Searches with an outcome other than 'A no further action disposal' / searches "
                                         "with an outcome recorded.")),
        "find": f.number("find_rate", s.find_rate, fmt=_pct, inputs=inputs, parameters=params,
                         label=T("Find rate (outcome linked to the object of search)"),
                         definition=T("Searches with 'Outcome linked to object of search' = True / searches with it recorded.")),
    }  # fmt: skip
    f.table("by_object", s.by_object, label=T("Searches by object of search"), inputs=inputs, parameters=params,
            columns={"object_of_search": "what the search was for", "searches": "searches",
                     "share": "searches / all searches"}, definition=T("Counts of 'Object of search'."),
            csv="stop_search_by_object")  # fmt: skip
    f.table("by_outcome", s.by_outcome, label=T("Searches by outcome"), inputs=inputs, parameters=params,
            columns={"outcome": "outcome", "searches": "searches", "share": "searches / all searches"},
            definition=T("Counts of 'Outcome'."), csv="stop_search_by_outcome")  # fmt: skip
    f.table("by_ethnicity", s.by_ethnicity, label=T("Searches by self-defined ethnicity (broad group)"),
            inputs=inputs, parameters=params,
            columns={"ethnic_group": "Census broad group of the self-defined ethnicity", "searches": "searches",
                     "share": "searches / all searches", "share_of_stated": "searches / searches with ethnicity stated"},
            definition=T("broad_ethnic_group of 'Self-defined ethnicity'."), csv="stop_search_by_ethnicity")  # fmt: skip
    crime_inputs = inputs + ["police:period"]
    spans |= {
        "share_s": f.number("search_share_top10", place["search_share_top"], fmt=_pct, inputs=crime_inputs,
                            parameters=params, label=T("Share of searches in the 10% of LSOAs with the most crime"),
                            definition=T("searches_against_crime: located searches in the ceil(0.1 N) LSOAs with the "
                                         "most recorded crime (excluding ASB) / all located searches.")),
        "share_c": f.number("crime_share_top10", place["crime_share_top"], fmt=_pct, inputs=crime_inputs,
                            parameters=params, label=T("Share of crime in those LSOAs"),
                            definition=T("Recorded crime (excluding ASB) in the same LSOAs / all recorded crime in the area.")),
        "rho": f.number("spearman", place["spearman"],
                        fmt=lambda v: _("n/a") if v is None or math.isnan(v) else f"{v:.2f}",
                        inputs=crime_inputs, parameters=params,
                        label=T("Rank correlation of searches and crime across LSOAs"),
                        definition=T("Spearman's rho between searches and recorded crime (excluding ASB) per LSOA.")),
    }  # fmt: skip
    return spans


def _text(f: FigureRegistry, r: StopSearchResult, spans: dict[str, Markup]) -> Markup:
    """The section's HTML: the headline sentence, the tables and the caveats, in the report language."""
    s = r.summary
    html = [Markup(_(
        "<p>{} searches were placed in the area ({} a year per 1,000 residents); {} searches by the same force(s) "
        "had no location and could not be placed. An outcome other than no further action followed {} of "
        "searches with an outcome recorded; the outcome was linked to what the search was for (the find rate) "
        "in {}.</p>")).format(spans["n"], spans["rate"], spans["un"], spans["outcome"], spans["find"])]  # fmt: skip
    if s.too_few:
        html.append(Markup(_(
            "<p class='warning'><strong>Too few to read:</strong> {} searches is fewer than {}. Rates and "
            "shares are shown for completeness; their intervals are wide (outcome rate 95% interval {} to {}, "
            "find rate {} to {}) and they should not be compared or ranked.</p>")).format(
                fmt_count(s.searches), MIN_READABLE, _pct(s.outcome_interval[0]), _pct(s.outcome_interval[1]),
                _pct(s.find_interval[0]), _pct(s.find_interval[1])))  # fmt: skip
    counted = {"searches": fmt_count, "share": _pct}
    html.append(f.html_table("by_object", {"object_of_search": _("Object of search"), "searches": _("Searches"),
                                           "share": _("Share")}, formats=counted | {"object_of_search": _value}))  # fmt: skip
    html.append(f.html_table("by_outcome", {"outcome": _("Outcome"), "searches": _("Searches"), "share": _("Share")},
                             formats=counted | {"outcome": _value}))  # fmt: skip
    html.append(Markup("<h3>{}</h3>").format(_("Self-defined ethnicity")))
    html.append(f.html_table("by_ethnicity", {"ethnic_group": _("Ethnic group (broad)"), "searches": _("Searches"),
                                              "share_of_stated": _("Share of those stated")},
                             formats={"share_of_stated": _pct, "searches": fmt_count, "ethnic_group": _value}))  # fmt: skip
    html.append(Markup(_(
        "<p class='missing'><strong>Disproportionality is not calculated:</strong> it needs the area's residents "
        "by self-defined ethnicity (Census 2021 table TS021 by LSOA), which is not loaded. The table above shows "
        "the search side only and is not a measure of disproportionality. Where it is calculated (search rate "
        "per 1,000 residents of a group / rate of the White group), the College of Policing and HMICFRS caveats "
        "apply: the resident population is not the population available to be searched (visitors, the "
        "night-time economy, people passing through), Census figures age, the same person may be searched "
        "more than once, and self-defined ethnicity is often not stated.</p>")))  # fmt: skip
    html.append(Markup(_("<h3>Where searches happen against where crime is</h3><p>The 10% of LSOAs with the most "
                         "recorded crime hold {} of the area's crime and {} of its located searches; the rank "
                         "correlation of searches and crime across LSOAs is {}.</p>")).format(
                             spans["share_c"], spans["share_s"], spans["rho"]))  # fmt: skip
    return Markup("").join(html)


def build(ctx: Context) -> SectionOutput:
    """Build the stop-and-search section (see the module docstring) from ``ctx.stop_search``."""
    r = compute(ctx.stop_search, ctx.data)
    if r is None:
        return SectionOutput(
            html=Markup(
                _(
                    "<p class='missing'>No stop-and-search records are loaded for this area and period, so this "
                    "section has nothing to show. Load police.uk's <code>*-stop-and-search.csv</code> files with "
                    "<code>diogel ingest police-stop-search FILE</code>.</p>"
                )
            )  # fmt: skip
        )
    spans = _register(ctx.figures, r, ctx.data.period.label)
    caveats = [Markup(_("Stop and search: a search is placed by its published point, which police.uk moves to a "
                        "nearby anonymised location; searches without a point cannot be placed."))]  # fmt: skip
    return SectionOutput(
        html=_text(ctx.figures, r, spans), caveats=caveats, values={"summary": r.summary, "place": r.place}
    )


register(
    Section(
        id="stop_search",
        title="Stop and search",
        order=65,
        build=build,
        description="Searches, outcome and find rates, ethnicity, and where searches are against where crime is.",
    )
)
