"""Section "Data and coverage": what was counted, from which files, and what the data cannot show.

Also detects data-supply gaps (force-months whose volume collapses) once, for the whole report:
the levels section and the priorities matrix read them from here, so a gap is never reported as a
fall in crime anywhere.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from diogel.analysis.trends import detect_supply_gaps
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_pct
from diogel.report.i18n import T, _, term
from diogel.report.sections import Section, register
from diogel.warehouse.counting import unknown_lsoa_rows

GAP_PARAMETERS = {"threshold": 0.5, "window": 6, "min_neighbours": 4, "min_median": 10.0}


def supply_gaps(force_monthly: pd.DataFrame, months: list[pd.Timestamp] | None = None) -> pd.DataFrame:
    """Gap months of each force, for all types together and for each crime type separately.

    Only loaded months are compared: a force-month is loaded when the warehouse holds any counted
    record of that force for it (the force's street file for the month was ingested; ``months``,
    if given, adds months loaded for every force). A month never loaded is "not loaded", neither a
    gap nor a reference month. Within a loaded month, a crime type with no record counts as 0.
    """
    fm = force_monthly.groupby(["force", "month", "crime_type"], as_index=False)["count"].sum()
    if fm.empty:
        return pd.DataFrame(
            columns=["force", "crime_type", "month", "count", "neighbour_median", "ratio", "reason"]
        )
    loaded = fm.loc[fm["count"] > 0, ["force", "month"]].drop_duplicates()
    if months:
        every = pd.MultiIndex.from_product([fm["force"].unique(), months], names=["force", "month"])
        loaded = pd.concat([loaded, every.to_frame(index=False)], ignore_index=True)
    total = detect_supply_gaps(fm, by=("force",), loaded=loaded, **GAP_PARAMETERS).assign(
        crime_type="all types"
    )
    by_type = detect_supply_gaps(fm, by=("force", "crime_type"), loaded=loaded, **GAP_PARAMETERS)
    out = pd.concat([total, by_type], ignore_index=True)
    return out[["force", "crime_type", "month", "count", "neighbour_median", "ratio", "reason"]].sort_values(
        ["force", "crime_type", "month"], ignore_index=True
    )


def build(ctx: Context) -> SectionOutput:
    d, f = ctx.data, ctx.figures
    p = d.period
    in_period = d.period_crimes()
    n_area = float(in_period["count"].sum())
    own = in_period["reported_by"].isin(d.reporters)
    fm = d.force_monthly
    fm_p = fm[(fm["month"] >= p.start) & (fm["month"] <= p.end)]
    force_total = float(fm_p["count"].sum())
    no_location = float(fm_p.loc[~fm_p["located"], "count"].sum())
    outside = float(fm_p.loc[fm_p["located"] & ~fm_p["in_force_area"], "count"].sum())
    forces_words = _(" and ").join(d.reporters)
    area_forces = ", ".join(name for _, name in d.forces) or forces_words

    fig = {
        "lsoas": f.number(
            "lsoas",
            len(d.lsoas),
            label="LSOAs (2021) in the area",
            inputs=["lookups"],
            definition="Number of 2021 Lower layer Super Output Areas whose local authority (ONS LSOA -> ward -> LA "
            "lookup) is in the area.",
        ),
        "residents": f.number(
            "residents",
            d.population["population"].sum(),
            label="Residents",
            inputs=["population", "lookups"],
            parameters={"population_year": d.population_year},
            definition=f"ONS mid-{d.population_year} population estimate, sum over the area's LSOAs (2011 LSOAs "
            "carried to 2021 through the ONS lookup; a split LSOA's residents shared equally).",
        ),
        "records": f.number(
            "records",
            n_area,
            label="Records counted in the area",
            inputs=["police:period", "lookups"],
            parameters={"period": p.label},
            definition="police.uk street-level crimes and ASB incidents in the area's LSOAs, counted under the counting "
            "rules (a Crime ID once, in its earliest month; each ASB row; the latest file for a force-month).",
        ),
        "records_own": f.number(
            "records_own",
            float(in_period.loc[own, "count"].sum()),
            label=f"Records reported by {forces_words}",
            inputs=["police:period", "lookups"],
            parameters={"period": p.label, "reported_by": d.reporters},
            definition="Of the area's records, those in the files of the force(s) that cover it.",
        ),
        "records_other": f.number(
            "records_other",
            float(in_period.loc[~own, "count"].sum()),
            label="Records reported by other forces",
            inputs=["police:period", "lookups"],
            parameters={"period": p.label},
            definition="Of the area's records, those published by another force (only forces whose files are loaded "
            "can be counted).",
        ),
        "force_rows": f.number(
            "force_rows",
            force_total,
            label=f"Records in the files of {forces_words}",
            inputs=["police:period"],
            parameters={"period": p.label},
            definition="All counted records in the force's own files for the period, wherever located.",
        ),
        "no_location": f.number(
            "no_location",
            no_location,
            label="Force records with no location",
            inputs=["police:period"],
            parameters={"period": p.label},
            definition="Records in the force's files with no LSOA or coordinates: they cannot be placed in any area.",
        ),
        "no_location_share": f.number(
            "no_location_share",
            no_location / force_total if force_total else None,
            label="Share of force records with no location",
            inputs=["police:period"],
            fmt=lambda v: fmt_pct(v, 1),
            definition="no_location / force_rows.",
        ),
        "outside": f.number(
            "outside",
            outside,
            label="Force records located outside its area",
            inputs=["police:period", "lookups"],
            parameters={"period": p.label},
            definition="Records in the force's files whose LSOA lies in another police force area (or in no "
            "loaded lookup): counted there, not here.",
        ),
        "months_loaded": f.number(
            "months_loaded",
            len(d.months_loaded),
            label="Months of police data loaded",
            inputs=["police:all"],
            definition=f"Months up to {p.end:%Y-%m} with any record from {forces_words} in the warehouse.",
        ),
        "period_months": f.number(
            "period_months",
            p.n_months,
            label="Months in the period",
            inputs=[],
            parameters={"period": p.label},
            definition="Calendar months from the first to the last month of the period.",
        ),
        "previous_missing": f.number(
            "previous_missing",
            len(d.previous_missing),
            label="Months of the previous period missing",
            inputs=["police:all"],
            parameters={"previous_period": d.previous.label},
            definition="Months of the previous period of equal length with no data from the force in the warehouse.",
        ),
        "moved_2011": f.number(
            "moved_2011",
            d.harmonised["records_on_2011_codes"],
            label="Records on 2011 LSOA codes",
            inputs=["police:all", "lookups"],
            definition="Records (all months shown) published with a 2011 LSOA code that no longer exists, carried to "
            "2021 LSOAs through the ONS 2011 -> 2021 lookup.",
        ),
        "apportioned": f.number(
            "apportioned",
            d.harmonised["records_apportioned"],
            label="Records shared between split LSOAs",
            inputs=["police:all", "lookups"],
            definition="Of those, records whose 2011 LSOA split into several 2021 LSOAs, shared equally between them.",
        ),
    }

    gaps = supply_gaps(d.force_monthly)
    gaps_shown = gaps.assign(month=gaps["month"].dt.strftime("%Y-%m"))
    f.table(
        "supply_gaps",
        gaps_shown,
        label=T("Data-supply gaps: force-months whose volume collapses"),
        definition="Months where a force's count (all types, or one crime type) is under half the median of the "
        "nearest months around it (detect_supply_gaps, iterated). A gap is a problem with the data supplied "
        "to police.uk, not a fall in crime.",
        columns={
            "force": "police.uk 'Reported by'",
            "crime_type": "crime type, or 'all types'",
            "month": "month",
            "count": "records published",
            "neighbour_median": "median of the reference months",
            "ratio": "count / neighbour median",
            "reason": "plain-English explanation",
        },
        inputs=["police:all"],
        parameters=GAP_PARAMETERS,
        csv="supply_gaps",
    )
    gap_months_total = sorted(gaps.loc[gaps["crime_type"] == "all types", "month"].unique())
    n_gap_total = f.number(
        "gap_months_total",
        len(gap_months_total),
        label="Force-months with a gap in the total",
        inputs=["police:all"],
        parameters=GAP_PARAMETERS,
        definition="Number of months flagged as a supply gap for all crime types together.",
    )
    n_gap_type = f.number(
        "gap_months_by_type",
        int((gaps["crime_type"] != "all types").sum()),
        label="Force-month-crime-type gaps",
        inputs=["police:all"],
        parameters=GAP_PARAMETERS,
        definition="Number of (month, crime type) combinations flagged as a supply gap.",
    )

    missing_in_period = [m for m in p.months if m not in set(d.months_loaded)]
    # Months never loaded between the first one loaded and the end of the period: not gaps, unknown.
    not_loaded: list[pd.Timestamp] = []
    if d.months_loaded:
        span = pd.date_range(min(d.months_loaded), p.end, freq="MS")
        not_loaded = [m for m in span if m not in set(d.months_loaded)]
    fig["months_not_loaded"] = f.number(
        "months_not_loaded",
        len(not_loaded),
        label="Months not loaded",
        inputs=["police:all"],
        parameters={"months": _ranges(not_loaded)},
        definition=f"Months from the first loaded to {p.end:%Y-%m} with no data from {forces_words} in the warehouse: "
        "never ingested, so unknown (not a data-supply gap, not a fall).",
    )
    unknown_lsoa = unknown_lsoa_rows(ctx.warehouse) if ctx.warehouse is not None else None
    fig["unknown_lsoa"] = f.number(
        "unknown_lsoa",
        unknown_lsoa,
        label="Records quarantined: LSOA code in no ONS lookup",
        inputs=["police:all"],
        definition="Rows of the police.uk street files loaded (every force and month) quarantined at ingest because "
        "their LSOA code is in none of the loaded ONS lookups (no such LSOA): not counted in any area.",
    )
    findings = [
        Finding(
            Markup(_("{} records were counted in {} from {}, in {} LSOAs with {} residents.")).format(
                fig["records"], d.display_name, p.words, fig["lsoas"], fig["residents"]
            ),
            rank=1,
        )
    ]
    if not d.previous_available:
        findings.append(
            Finding(
                Markup(
                    _(
                        "The warehouse does not hold the previous period ({}; {} of its months are missing), so this "
                        "report makes no comparison with it: load those months to add one."
                    )
                ).format(d.previous.label, fig["previous_missing"]),
                rank=3,
            )
        )
    if len(gap_months_total) or (gaps["crime_type"] != "all types").any():
        findings.append(
            Finding(
                Markup(
                    _(
                        "Data-supply gaps were found in {} force-months overall and {} force-month-crime-type "
                        "combinations; they are flagged wherever they touch a figure and never reported as falls."
                    )
                ).format(n_gap_total, n_gap_type),
                rank=4,
            )
        )
    caveats = [
        Markup(
            _(
                "police.uk locations are anonymised: each record is moved to the nearest of a fixed set of map points "
                "(a street, a park, a station) that covers at least a few addresses. LSOA counts are reliable; exact "
                "points are not, and nothing here works below LSOA level."
            )
        ),
        Markup(
            _(
                "{} of the force's records ({}) have no location and cannot be placed in any area; {} are located "
                "outside the force area and are counted where they happened."
            )
        ).format(fig["no_location"], fig["no_location_share"], fig["outside"]),
        Markup(
            _(
                "Areas are built from LSOAs (LSOA -> ward -> local authority -> CSP -> force), never from the "
                "'Falls within' column. {} records in this area were published by other forces; crimes here "
                "reported by a force whose files are not loaded (for example British Transport Police) are missing."
            )
        ).format(fig["records_other"]),
        Markup(
            _(
                "LSOA vintages: police.uk used 2011 LSOA codes before 2023 and 2021 codes since; {} records on 2011 "
                "codes were carried to 2021 LSOAs ({} shared equally where an LSOA split). Population ({}) and WIMD "
                "2019 are published on 2011 LSOAs and were carried the same way."
            )
        ).format(fig["moved_2011"], fig["apportioned"], d.population_year),
    ]
    return SectionOutput(
        html=ctx.render(
            "sections/data.html.j2",
            area_forces=area_forces,
            forces_words=forces_words,
            missing_in_period=[f"{m:%Y-%m}" for m in missing_in_period],
            not_loaded=_ranges(not_loaded),
            gap_rows=len(gaps),
            formats={
                "count": fmt_count,
                "neighbour_median": fmt_count,
                "ratio": lambda v: fmt_pct(v),
                "crime_type": term,
            },
        ),
        findings=findings,
        caveats=caveats,
        methods=[
            (
                _("Counting"),
                Markup(
                    _(
                        "Records are police.uk street-level crimes and anti-social behaviour incidents, counted under "
                        "diogel's counting rules: when two files cover the same force and month the later-ingested one "
                        "replaces the earlier; a Crime ID is counted once, in the earliest month it appears; ASB rows "
                        "have no ID and each counts. Areas are sets of LSOAs by the ONS lookups."
                    )
                ),
            ),
            (
                _("Data-supply gaps"),
                Markup(
                    _(
                        "A force-month (all types, and each crime type separately) is flagged when its count is under "
                        "half the median of the six nearest unflagged months on each side (at least four reference "
                        "months with a median of ten or more), repeated until nothing new is flagged, so a run of gap "
                        "months is found from its edges. Only loaded months are compared: a month never loaded is "
                        "reported as not loaded, never as a gap, and is not a reference month. Any comparison that "
                        "includes a flagged month is not reported as a rise or fall."
                    )
                ),
            ),
        ],
        values={"gaps": gaps, "missing_in_period": missing_in_period, "not_loaded": not_loaded, "fig": fig},
    )


def _ranges(months: list[pd.Timestamp]) -> str:
    """Months as runs: ``2019-03..2022-06, 2023-01``."""
    runs: list[list[pd.Timestamp]] = []
    for m in sorted(months):
        if runs and m == runs[-1][-1] + pd.DateOffset(months=1):
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(f"{r[0]:%Y-%m}" if len(r) == 1 else f"{r[0]:%Y-%m}..{r[-1]:%Y-%m}" for r in runs)


register(
    Section(
        id="data",
        title="Data and coverage",
        order=20,
        build=build,
        description="What was counted, from which files, data-supply gaps and what the data cannot show.",
    )
)

__all__ = ["GAP_PARAMETERS", "build", "fmt_count", "supply_gaps"]
