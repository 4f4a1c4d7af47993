"""Section "Data and coverage": what was counted, from which files, and what the data cannot show.

Also detects data-supply gaps (force-months whose volume collapses) once, for the whole report:
the levels section and the priorities matrix read them from here, so a gap is never reported as a
fall in crime anywhere.

:func:`coverage` computes (a pure function of the gathered data and the row accounting);
:func:`build` registers the figures and writes the text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup

from diogel.analysis.trends import detect_supply_gaps
from diogel.gather.accounting import RowAccounting
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import FigureRegistry, fmt_count, fmt_pct
from diogel.report.gather import AreaData
from diogel.report.i18n import T, Text, _, catalogue, term
from diogel.report.sections import Section, register

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


# -- compute ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Coverage:
    """What was counted in the area and in its forces' files, and what is missing or set aside.

    Attributes
    ----------
    records : records counted in the area's LSOAs in the period.
    records_own, records_other : of those, published by the area's own force(s), and by other forces.
    force_rows : every counted record in the own forces' files for the period, wherever located.
    no_location : of those, records with no location; ``outside``: located outside the force area.
    gaps : supply-gap months of each force (:func:`supply_gaps`).
    missing_in_period : months of the period with no data from the forces.
    not_loaded : months never loaded between the first one loaded and the end of the period.
    unknown_lsoa : rows quarantined at ingest for an LSOA code in no lookup (None: not read).
    """

    records: float
    records_own: float
    records_other: float
    force_rows: float
    no_location: float
    outside: float
    gaps: pd.DataFrame
    missing_in_period: list[pd.Timestamp]
    not_loaded: list[pd.Timestamp]
    unknown_lsoa: int | None

    @property
    def gap_months_total(self) -> list[pd.Timestamp]:
        """Months flagged as a supply gap for all crime types together."""
        return sorted(self.gaps.loc[self.gaps["crime_type"] == "all types", "month"].unique())

    @property
    def type_gaps(self) -> int:
        """(Force, month, crime type) combinations flagged as a supply gap."""
        return int((self.gaps["crime_type"] != "all types").sum())


def coverage(data: AreaData, accounting: RowAccounting | None) -> Coverage:
    """Count what the area's figures rest on, and what they miss."""
    p = data.period
    in_period = data.period_crimes()
    own = in_period["reported_by"].isin(data.reporters)
    fm = data.force_monthly
    fm_p = fm[(fm["month"] >= p.start) & (fm["month"] <= p.end)]
    loaded = set(data.months_loaded)
    # Months never loaded between the first one loaded and the end of the period: not gaps, unknown.
    not_loaded: list[pd.Timestamp] = []
    if data.months_loaded:
        span = pd.date_range(min(data.months_loaded), p.end, freq="MS")
        not_loaded = [m for m in span if m not in loaded]
    return Coverage(
        records=float(in_period["count"].sum()),
        records_own=float(in_period.loc[own, "count"].sum()),
        records_other=float(in_period.loc[~own, "count"].sum()),
        force_rows=float(fm_p["count"].sum()),
        no_location=float(fm_p.loc[~fm_p["located"], "count"].sum()),
        outside=float(fm_p.loc[fm_p["located"] & ~fm_p["in_force_area"], "count"].sum()),
        gaps=supply_gaps(data.force_monthly),
        missing_in_period=[m for m in p.months if m not in loaded],
        not_loaded=not_loaded,
        unknown_lsoa=accounting.unknown_lsoa if accounting is not None else None,
    )


# -- present ---------------------------------------------------------------------------------------
class Forces(Text):
    """The area's forces as police.uk names them ("Gwent Police"), joined, in either language ("Heddlu Gwent")."""

    def __new__(cls, names: list[str]) -> Forces:
        self = str.__new__(cls, " and ".join(names))
        self.msgid, self.values, self.names = str(self), {}, list(names)
        return self

    def in_(self, lang: str) -> str:
        return catalogue(lang).ugettext(" and ").join(term(n, lang) for n in self.names)


def _area_figures(f: FigureRegistry, d: AreaData, cov: Coverage, forces: Forces) -> dict[str, Markup]:
    """The area, its residents and what was counted in it and in its forces' files."""
    p = d.period
    return {
        "lsoas": f.number("lsoas", len(d.lsoas), label=T("LSOAs (2021) in the area"), inputs=["lookups"],
                          definition=T("Number of 2021 Lower layer Super Output Areas whose local authority (ONS LSOA -> ward -> LA "
                          "lookup) is in the area.")),
        "residents": f.number("residents", d.population["population"].sum(), label=T("Residents"),
                              inputs=["population", "lookups"], parameters={"population_year": d.population_year},
                              definition=T("ONS mid-{year} population estimate, sum over the area's LSOAs (2011 LSOAs "
                              "carried to 2021 through the ONS lookup; a split LSOA's residents shared equally).", year=d.population_year)),
        "records": f.number("records", cov.records, label=T("Records counted in the area"), inputs=["police:period", "lookups"],
                            parameters={"period": p.label},
                            definition=T("police.uk street-level crimes and ASB incidents in the area's LSOAs, counted under the counting "
                            "rules (a Crime ID once, in its earliest month; each ASB row; the latest file for a force-month).")),
        "records_own": f.number("records_own", cov.records_own, label=T("Records reported by {forces}", forces=forces),
                                inputs=["police:period", "lookups"], parameters={"period": p.label, "reported_by": d.reporters},
                                definition=T("Of the area's records, those in the files of the force(s) that cover it.")),
        "records_other": f.number("records_other", cov.records_other, label=T("Records reported by other forces"),
                                  inputs=["police:period", "lookups"], parameters={"period": p.label},
                                  definition=T("Of the area's records, those published by another force (only forces whose files are loaded "
                                  "can be counted).")),
        "force_rows": f.number("force_rows", cov.force_rows, label=T("Records in the files of {forces}", forces=forces),
                               inputs=["police:period"], parameters={"period": p.label},
                               definition=T("All counted records in the force's own files for the period, wherever located.")),
        "no_location": f.number("no_location", cov.no_location, label=T("Force records with no location"),
                                inputs=["police:period"], parameters={"period": p.label},
                                definition=T("Records in the force's files with no LSOA or coordinates: they cannot be placed in any area.")),
        "no_location_share": f.number("no_location_share", cov.no_location / cov.force_rows if cov.force_rows else None,
                                      label=T("Share of force records with no location"), inputs=["police:period"],
                                      fmt=lambda v: fmt_pct(v, 1), definition="no_location / force_rows."),
        "outside": f.number("outside", cov.outside, label=T("Force records located outside its area"),
                            inputs=["police:period", "lookups"], parameters={"period": p.label},
                            definition=T("Records in the force's files whose LSOA lies in another police force area (or in no "
                            "loaded lookup): counted there, not here.")),
    }  # fmt: skip


def _month_figures(f: FigureRegistry, d: AreaData, forces: Forces) -> dict[str, Markup]:
    """The months loaded and the LSOA vintages the records were published on."""
    p = d.period
    end = f"{p.end:%Y-%m}"
    return {
        "months_loaded": f.number("months_loaded", len(d.months_loaded), label=T("Months of police data loaded"),
                                  inputs=["police:all"],
                                  definition=T("Months up to {end} with any record from {forces} in the warehouse.", end=end, forces=forces)),
        "period_months": f.number("period_months", p.n_months, label=T("Months in the period"), inputs=[],
                                  parameters={"period": p.label},
                                  definition=T("Calendar months from the first to the last month of the period.")),
        "previous_missing": f.number("previous_missing", len(d.previous_missing), label=T("Months of the previous period missing"),
                                     inputs=["police:all"], parameters={"previous_period": d.previous.label},
                                     definition=T("Months of the previous period of equal length with no data from the force in the warehouse.")),
        "moved_2011": f.number("moved_2011", d.harmonised["records_on_2011_codes"], label=T("Records on 2011 LSOA codes"),
                               inputs=["police:all", "lookups"],
                               definition=T("Records (all months shown) published with a 2011 LSOA code that no longer exists, carried to "
                               "2021 LSOAs through the ONS 2011 -> 2021 lookup.")),
        "apportioned": f.number("apportioned", d.harmonised["records_apportioned"], label=T("Records shared between split LSOAs"),
                                inputs=["police:all", "lookups"],
                                definition=T("Of those, records whose 2011 LSOA split into several 2021 LSOAs, shared equally between them.")),
    }  # fmt: skip


def _gap_figures(f: FigureRegistry, cov: Coverage) -> dict[str, Markup]:
    """The supply-gap table and the number of gaps, in the total and by crime type."""
    f.table("supply_gaps", cov.gaps.assign(month=cov.gaps["month"].dt.strftime("%Y-%m")),
            label=T("Data-supply gaps: force-months whose volume collapses"),
            definition=T("Months where a force's count (all types, or one crime type) is under half the median of the "
            "nearest months around it (detect_supply_gaps, iterated). A gap is a problem with the data supplied "
            "to police.uk, not a fall in crime."),
            columns={"force": "police.uk 'Reported by'", "crime_type": "crime type, or 'all types'", "month": "month",
                     "count": "records published", "neighbour_median": "median of the reference months",
                     "ratio": "count / neighbour median", "reason": "plain-English explanation"},
            inputs=["police:all"], parameters=GAP_PARAMETERS, csv="supply_gaps")  # fmt: skip
    return {
        "gap_months_total": f.number("gap_months_total", len(cov.gap_months_total), label=T("Force-months with a gap in the total"),
                                     inputs=["police:all"], parameters=GAP_PARAMETERS,
                                     definition=T("Number of months flagged as a supply gap for all crime types together.")),
        "gap_months_by_type": f.number("gap_months_by_type", cov.type_gaps, label=T("Force-month-crime-type gaps"),
                                       inputs=["police:all"], parameters=GAP_PARAMETERS,
                                       definition=T("Number of (month, crime type) combinations flagged as a supply gap.")),
    }  # fmt: skip


def _loading_figures(f: FigureRegistry, d: AreaData, cov: Coverage, forces: Forces) -> dict[str, Markup]:
    """Months never loaded, and rows set aside at ingest."""
    end = f"{d.period.end:%Y-%m}"
    return {
        "months_not_loaded": f.number("months_not_loaded", len(cov.not_loaded), label=T("Months not loaded"), inputs=["police:all"],
                                      parameters={"months": _ranges(cov.not_loaded)},
                                      definition=T("Months from the first loaded to {end} with no data from {forces} in the warehouse: "
                                      "never ingested, so unknown (not a data-supply gap, not a fall).", end=end, forces=forces)),
        "unknown_lsoa": f.number("unknown_lsoa", cov.unknown_lsoa, label=T("Records quarantined: LSOA code in no ONS lookup"),
                                 inputs=["police:all"],
                                 definition=T("Rows of the police.uk street files loaded (every force and month) quarantined at ingest because "
                                 "their LSOA code is in none of the loaded ONS lookups (no such LSOA): not counted in any area.")),
    }  # fmt: skip


def _findings(d: AreaData, cov: Coverage, fig: dict[str, Markup], gaps: dict[str, Markup]) -> list[Finding]:
    findings = [
        Finding(Markup(_("{} records were counted in {} from {}, in {} LSOAs with {} residents.")).format(
            fig["records"], d.display_name, d.period.words, fig["lsoas"], fig["residents"]), rank=1)
    ]  # fmt: skip
    if not d.previous_available:
        findings.append(
            Finding(Markup(_("The warehouse does not hold the previous period ({}; {} of its months are missing), so this "
                             "report makes no comparison with it: load those months to add one.")).format(
                d.previous.label, fig["previous_missing"]), rank=3)
        )  # fmt: skip
    if len(cov.gap_months_total) or cov.type_gaps:
        findings.append(
            Finding(Markup(_("Data-supply gaps were found in {} force-months overall and {} force-month-crime-type "
                             "combinations; they are flagged wherever they touch a figure and never reported as falls.")).format(
                gaps["gap_months_total"], gaps["gap_months_by_type"]), rank=4)
        )  # fmt: skip
    return findings


def _caveats(d: AreaData, fig: dict[str, Markup]) -> list[Markup]:
    return [
        Markup(_("police.uk locations are anonymised: each record is moved to the nearest of a fixed set of map points "
                 "(a street, a park, a station) that covers at least a few addresses. LSOA counts are reliable; exact "
                 "points are not, and nothing here works below LSOA level.")),
        Markup(_("{} of the force's records ({}) have no location and cannot be placed in any area; {} are located "
                 "outside the force area and are counted where they happened.")).format(
            fig["no_location"], fig["no_location_share"], fig["outside"]),
        Markup(_("Areas are built from LSOAs (LSOA -> ward -> local authority -> CSP -> force), never from the "
                 "'Falls within' column. {} records in this area were published by other forces; crimes here "
                 "reported by a force whose files are not loaded (for example British Transport Police) are missing.")).format(
            fig["records_other"]),
        Markup(_("LSOA vintages: police.uk used 2011 LSOA codes before 2023 and 2021 codes since; {} records on 2011 "
                 "codes were carried to 2021 LSOAs ({} shared equally where an LSOA split). Population ({}) and WIMD "
                 "2019 are published on 2011 LSOAs and were carried the same way.")).format(
            fig["moved_2011"], fig["apportioned"], d.population_year),
    ]  # fmt: skip


def _method_notes() -> list[tuple[str, Markup]]:
    return [
        (_("Counting"),
         Markup(_("Records are police.uk street-level crimes and anti-social behaviour incidents, counted under "
                  "diogel's counting rules: when two files cover the same force and month the later-ingested one "
                  "replaces the earlier; a Crime ID is counted once, in the earliest month it appears; ASB rows "
                  "have no ID and each counts. Areas are sets of LSOAs by the ONS lookups."))),
        (_("Data-supply gaps"),
         Markup(_("A force-month (all types, and each crime type separately) is flagged when its count is under "
                  "half the median of the six nearest unflagged months on each side (at least four reference "
                  "months with a median of ten or more), repeated until nothing new is flagged, so a run of gap "
                  "months is found from its edges. Only loaded months are compared: a month never loaded is "
                  "reported as not loaded, never as a gap, and is not a reference month. Any comparison that "
                  "includes a flagged month is not reported as a rise or fall."))),
    ]  # fmt: skip


def build(ctx: Context) -> SectionOutput:
    d, f = ctx.data, ctx.figures
    cov = coverage(d, ctx.accounting)
    forces = Forces(d.reporters)
    fig = _area_figures(f, d, cov, forces) | _month_figures(f, d, forces)
    gaps = _gap_figures(f, cov)
    fig |= _loading_figures(f, d, cov, forces)
    html = ctx.render(
        "sections/data.html.j2",
        area_forces=", ".join(name for _code, name in d.forces) or forces.here(),
        forces_words=forces.here(),
        missing_in_period=[f"{m:%Y-%m}" for m in cov.missing_in_period],
        not_loaded=_ranges(cov.not_loaded),
        gap_rows=len(cov.gaps),
        formats={
            "force": term,
            "count": fmt_count,
            "neighbour_median": fmt_count,
            "ratio": lambda v: fmt_pct(v),
            "crime_type": term,
        },  # fmt: skip
    )
    return SectionOutput(
        html=html,
        findings=_findings(d, cov, fig, gaps),
        caveats=_caveats(d, fig),
        methods=_method_notes(),
        values={
            "gaps": cov.gaps,
            "missing_in_period": cov.missing_in_period,
            "not_loaded": cov.not_loaded,
            "fig": fig,
        },  # fmt: skip
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
