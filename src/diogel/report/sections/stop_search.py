"""Section "Stop and search": volumes, rates, outcome and find rates, ethnicity, and where searches are.

police.uk stop-and-search rows carry a point, not an LSOA: a search belongs to the area when its
point falls in one of the area's 2021 LSOA polygons (searches without a location cannot be placed
and are counted apart). Disproportionality needs residents by self-defined ethnicity for the
area; no such table is loaded in diogel, so the section says so and shows the search-side
breakdown only, rather than inventing a denominator.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pandas as pd
from markupsafe import Markup

from diogel.analysis.stop_search import MIN_READABLE, searches_against_crime, summarise
from diogel.report.context import Context, SectionOutput
from diogel.report.figures import fmt_count, fmt_number, fmt_pct
from diogel.report.sections import Section, register
from diogel.report.sections._common import CRIME, lsoa_counts

TABLE = "police_stop_search"


def _searches(ctx: Context) -> tuple[pd.DataFrame, int] | None:
    """The period's searches placed in the area's LSOAs, and how many of the forces' searches had no location."""
    wh, d = ctx.warehouse, ctx.data
    if wh is None or not wh.has(TABLE):
        return None
    t = wh.table(TABLE)
    # police.uk files a search by its local (UK) date: 23:32 UTC on 31 May in summer time is 1 June.
    # The stored month is the UTC one, so the month is taken from the time in Europe/London here.
    first = (d.period.start - pd.DateOffset(months=1)).date()
    last = (d.period.end + pd.DateOffset(months=1)).date()
    rows = wh.execute(t.filter((t.month >= first) & (t.month <= last)))
    if rows.empty:
        return None
    local = pd.to_datetime(rows["searched_at"], utc=True).dt.tz_convert("Europe/London")
    month = local.dt.tz_localize(None).dt.to_period("M").dt.to_timestamp()
    rows = rows[(month >= d.period.start) & (month <= d.period.end)].reset_index(drop=True)
    if rows.empty:
        return None
    located = rows.dropna(subset=["latitude", "longitude"])
    points = gpd.GeoDataFrame(
        located, geometry=gpd.points_from_xy(located.longitude, located.latitude), crs=4326
    )
    polys = d.boundaries[["lsoa_code", "geometry"]].to_crs(4326)
    placed = gpd.sjoin(points, polys, how="inner", predicate="within")
    placed = pd.DataFrame(placed.drop(columns=["geometry", "index_right"]))
    forces = set(placed["force"]) if not placed.empty else set()
    unlocated = int(rows[rows["force"].isin(forces)][["latitude", "longitude"]].isna().any(axis=1).sum())
    return placed, unlocated


def _pct(v: float) -> str:
    return fmt_pct(100 * v) if v is not None and not math.isnan(v) else "n/a"


def build(ctx: Context) -> SectionOutput:
    d, f = ctx.data, ctx.figures
    got = _searches(ctx)
    if got is None or got[0].empty:
        return SectionOutput(
            html=Markup(
                "<p class='missing'>No stop-and-search records are loaded for this area and period, so this "
                "section has nothing to show. Load police.uk's <code>*-stop-and-search.csv</code> files with "
                "<code>diogel ingest police-stop-search FILE</code>.</p>"
            )
        )
    searches, unlocated = got
    residents = float(d.population["population"].sum())
    s = summarise(searches, residents, d.period.n_months)
    inputs = ["population", "boundaries", "lookups"]
    params = {"period": d.period.label, "source": "police.uk stop and search (table police_stop_search)",
              "min_readable": MIN_READABLE}  # fmt: skip
    n = f.number("searches", s.searches, label="Stop and searches in the area", inputs=inputs, parameters=params,
                 definition="police.uk stop-and-search rows in the period whose point lies in one of the area's "
                            "2021 LSOAs; each row is one search (no ID, so identical rows both count).")  # fmt: skip
    un = f.number("unlocated", unlocated, label="Searches by the same force(s) with no location",
                  inputs=inputs, parameters=params,
                  definition="Rows in the period without latitude and longitude: they cannot be placed in any area.")  # fmt: skip
    rate = f.number("rate_per_1000", s.rate_per_1000_a_year, fmt=lambda v: fmt_number(v, 1), inputs=inputs,
                    label="Searches per 1,000 residents a year", parameters=params,
                    definition="1000 x searches / residents x 12 / months.")  # fmt: skip
    outcome = f.number("outcome_rate", s.outcome_rate, fmt=_pct, inputs=inputs, parameters=params,
                       label="Outcome rate (an outcome other than no further action)",
                       definition="Searches with an outcome other than 'A no further action disposal' / searches "
                                  "with an outcome recorded.")  # fmt: skip
    find = f.number("find_rate", s.find_rate, fmt=_pct, inputs=inputs, parameters=params,
                    label="Find rate (outcome linked to the object of search)",
                    definition="Searches with 'Outcome linked to object of search' = True / searches with it recorded.")  # fmt: skip
    f.table("by_object", s.by_object, label="Searches by object of search", inputs=inputs, parameters=params,
            columns={"object_of_search": "what the search was for", "searches": "searches",
                     "share": "searches / all searches"}, definition="Counts of 'Object of search'.",
            csv="stop_search_by_object")  # fmt: skip
    f.table("by_outcome", s.by_outcome, label="Searches by outcome", inputs=inputs, parameters=params,
            columns={"outcome": "outcome", "searches": "searches", "share": "searches / all searches"},
            definition="Counts of 'Outcome'.", csv="stop_search_by_outcome")  # fmt: skip
    f.table("by_ethnicity", s.by_ethnicity, label="Searches by self-defined ethnicity (broad group)",
            inputs=inputs, parameters=params,
            columns={"ethnic_group": "Census broad group of the self-defined ethnicity", "searches": "searches",
                     "share": "searches / all searches", "share_of_stated": "searches / searches with ethnicity stated"},
            definition="broad_ethnic_group of 'Self-defined ethnicity'.", csv="stop_search_by_ethnicity")  # fmt: skip
    crime = lsoa_counts(d, d.period, CRIME)
    place = searches_against_crime(searches.groupby("lsoa_code").size(), crime)
    share_s = f.number("search_share_top10", place["search_share_top"], fmt=_pct, inputs=inputs + ["police:period"],
                       parameters=params, label="Share of searches in the 10% of LSOAs with the most crime",
                       definition="searches_against_crime: located searches in the ceil(0.1 N) LSOAs with the most "
                                  "recorded crime (excluding ASB) / all located searches.")  # fmt: skip
    share_c = f.number("crime_share_top10", place["crime_share_top"], fmt=_pct, inputs=inputs + ["police:period"],
                       parameters=params, label="Share of crime in those LSOAs",
                       definition="Recorded crime (excluding ASB) in the same LSOAs / all recorded crime in the area.")  # fmt: skip
    rho = f.number("spearman", place["spearman"], fmt=lambda v: "n/a" if v is None or math.isnan(v) else f"{v:.2f}",
                   inputs=inputs + ["police:period"], parameters=params,
                   label="Rank correlation of searches and crime across LSOAs",
                   definition="Spearman's rho between searches and recorded crime (excluding ASB) per LSOA.")  # fmt: skip
    html = [Markup(
        "<p>{} searches were placed in the area ({} a year per 1,000 residents); {} searches by the same force(s) "
        "had no location and could not be placed. An outcome other than no further action followed {} of "
        "searches with an outcome recorded; the outcome was linked to what the search was for (the find rate) "
        "in {}.</p>").format(n, rate, un, outcome, find)]  # fmt: skip
    if s.too_few:
        html.append(Markup(
            "<p class='warning'><strong>Too few to read:</strong> {} searches is fewer than {}. Rates and "
            "shares are shown for completeness; their intervals are wide (outcome rate 95% interval {} to {}, "
            "find rate {} to {}) and they should not be compared or ranked.</p>").format(
                fmt_count(s.searches), MIN_READABLE, _pct(s.outcome_interval[0]), _pct(s.outcome_interval[1]),
                _pct(s.find_interval[0]), _pct(s.find_interval[1])))  # fmt: skip
    html.append(f.html_table("by_object", {"object_of_search": "Object of search", "searches": "Searches",
                                           "share": "Share"}, formats={"share": _pct, "searches": fmt_count}))  # fmt: skip
    html.append(f.html_table("by_outcome", {"outcome": "Outcome", "searches": "Searches", "share": "Share"},
                             formats={"share": _pct, "searches": fmt_count}))  # fmt: skip
    html.append(Markup("<h3>Self-defined ethnicity</h3>"))
    html.append(f.html_table("by_ethnicity", {"ethnic_group": "Ethnic group (broad)", "searches": "Searches",
                                              "share_of_stated": "Share of those stated"},
                             formats={"share_of_stated": _pct, "searches": fmt_count}))  # fmt: skip
    html.append(Markup(
        "<p class='missing'><strong>Disproportionality is not calculated:</strong> it needs the area's residents "
        "by self-defined ethnicity (Census 2021 table TS021 by LSOA), which is not loaded. The table above shows "
        "the search side only and is not a measure of disproportionality. Where it is calculated (search rate "
        "per 1,000 residents of a group / rate of the White group), the College of Policing and HMICFRS caveats "
        "apply: the resident population is not the population available to be searched (visitors, the "
        "night-time economy, people passing through), Census figures age, the same person may be searched "
        "more than once, and self-defined ethnicity is often not stated.</p>"))  # fmt: skip
    html.append(Markup("<h3>Where searches happen against where crime is</h3><p>The 10% of LSOAs with the most "
                       "recorded crime hold {} of the area's crime and {} of its located searches; the rank "
                       "correlation of searches and crime across LSOAs is {}.</p>").format(share_c, share_s, rho))  # fmt: skip
    caveats = [Markup("Stop and search: a search is placed by its published point, which police.uk moves to a "
                      "nearby anonymised location; searches without a point cannot be placed.")]  # fmt: skip
    return SectionOutput(html=Markup("").join(html), caveats=caveats, values={"summary": s, "place": place})


register(
    Section(
        id="stop_search",
        title="Stop and search",
        order=65,
        build=build,
        description="Searches, outcome and find rates, ethnicity, and where searches are against where crime is.",
    )
)
