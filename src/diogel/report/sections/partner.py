"""Section "Partner data": the multi-agency datasets beside the police data, disclosure-controlled.

For every partner dataset (fire incidents, ED assaults, ambulance call-outs...) with records placed in
the area's LSOAs during the period:

* levels: records in the period, per 1,000 residents, and per month (a chart of the monthly counts);
* trend: the last six months of the period against the six before (exact conditional binomial test);
* hot spots: records, rate per 1,000 residents and the Getis-Ord Gi* class of each LSOA (queen
  contiguity, 999 conditional permutations, Benjamini-Hochberg FDR), as for police data;
* near repeats, for a dataset with exact dates and grid-cell locations: the Knox test (Manhattan
  distance bands 0, 1-100, 101-200, 201-300, 301-400, >400 m; time bands 0-7, 8-14, 15-21, 22-28, >28
  days; 999 permutations) and how many incidents are originators, repeats or near repeats.

With ED assaults loaded, the violence view (the Cardiff Model): ED assault attendances beside
police-recorded violence and sexual offences, and the share of ED assaults never reported to the police,
by location type and by hour of the week.

Every count leaves the warehouse through the gatherer :mod:`diogel.gather.partner`, which hides counts from 1
to the dataset's threshold minus 1 (5 in every shipped schema), adds secondary suppression so that no
hidden count can be worked out from the totals beside it, and hides any share or rate built on a hidden
count. Each table in the section states the rule. Police-recorded figures are public and are not hidden.

Reading the warehouse: the section is a pure function of the :class:`~diogel.gather.partner.PartnerBundle`
read once before the sections are built (:func:`read_partner`, given to the context as ``ctx.partner``); a
context built without one gets a section saying that partner data were not read.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from markupsafe import Markup

from diogel.analysis.cardiff import CardiffView
from diogel.gather.partner import PartnerBundle, PartnerDataset, gather_partner_bundle
from diogel.report import charts
from diogel.report.context import AssessOptions, Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_number, fmt_p, fmt_pct, fmt_signed_pct
from diogel.report.gather import AreaData, SourceRef
from diogel.report.sections import Section, register
from diogel.report.sections._common import rate_unit, slug

__all__ = ["build", "read_partner"]

TREND_MONTHS = 6


def _hidden(threshold: int):  # noqa: ANN202
    """Formatter for a published count: a hidden one reads "fewer than 5" (or "hidden")."""

    def fmt(value: Any) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return f"hidden (fewer than {threshold}, or to protect one)"
        return fmt_count(value)

    return fmt


def _cell(value: Any, fmt=fmt_count) -> str:  # noqa: ANN001
    return (
        "*"
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))
        else fmt(value)
    )


def _missing(text: str, values: dict | None = None) -> SectionOutput:
    return SectionOutput(html=Markup("<p class='missing'>{}</p>").format(Markup(text)), values=values or {})


# ----------------------------------------------------------------------------------------------------
# Charts drawn from the registered tables


def _monthly_chart(rows: pd.DataFrame, title: str, threshold: int):  # noqa: ANN202
    fig, ax = plt.subplots(figsize=(7.2, 2.6))
    x = pd.to_datetime(rows["month"] + "-01")
    shown = rows["count"].notna()
    ax.bar(
        x[shown], rows.loc[shown, "count"].astype(float), width=20, color=charts.OKABE_ITO[0], label="records"
    )
    if (~shown).any():
        ax.scatter(x[~shown], np.zeros((~shown).sum()), marker="x", color=charts.OKABE_ITO[1],
                   label=f"hidden (fewer than {threshold}, or to protect one)")  # fmt: skip
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title, loc="left")
    ax.set_ylabel("records a month")
    ax.set_ylim(bottom=0)
    return fig


def _hour_chart(rows: pd.DataFrame, column: str, title: str, label: str, share: bool = False):  # noqa: ANN202
    from diogel.analysis.cardiff import DAYS

    grid = rows.pivot(index="day", columns="hour", values=column).reindex(list(DAYS)).astype(float)
    fig, ax = plt.subplots(figsize=(7.2, 2.6))
    masked = np.ma.masked_invalid(grid.to_numpy())
    cmap = plt.get_cmap("viridis_r").with_extremes(bad="#dddddd")
    # Vector cells (pcolormesh), not an embedded image: the report carries no data: URLs.
    im = ax.pcolormesh(np.arange(25), np.arange(8), masked, cmap=cmap, vmin=0, vmax=1 if share else None,
                       edgecolors="white", linewidth=0.2)  # fmt: skip
    ax.invert_yaxis()
    ax.set_yticks(np.arange(7) + 0.5, [d[:3] for d in DAYS])
    ax.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)])
    ax.set_title(title, loc="left")
    bar = fig.colorbar(im, ax=ax)
    bar.solids.set_rasterized(False)  # matplotlib rasterises long colour bars into a data: image
    bar.set_label(label)
    return fig


# ----------------------------------------------------------------------------------------------------
# One dataset: levels, trend, hot spots, near repeats


def _dataset(ctx: Context, item: PartnerDataset) -> dict[str, Any]:
    # Over 80 lines: one dataset's figures are registered in the order the template shows them.
    d, f, o = ctx.data, ctx.figures, ctx.options
    dataset, title, refs = item.dataset, item.title, item.sources
    key = f"partner:{dataset}"
    d.sources[key] = [SourceRef(r["kind"], r["name"], r["file_id"], r["run_id"]) for r in refs]
    synthetic = any("synthetic" in r["name"].casefold() for r in refs)
    s = item.summary
    k = s.threshold
    hidden = _hidden(k)
    inputs = [key, "lookups"]
    params = {"period": d.period.label, "disclosure_threshold": k, "disclosure_rule": s.rule}
    sid = slug(dataset)
    population = float(d.population["population"].sum())
    total = f.number(f"{sid}.total", s.total, label=f"{title}: records in {d.name}, {d.period.label}", fmt=hidden,
                     inputs=inputs, parameters=params,
                     definition="Partner records placed in the area's LSOAs in the period, counted once each "
                     "(the schema's record id), hidden if from 1 to the threshold minus 1.")  # fmt: skip
    rate_value = None if s.total is None else 1000 * s.total / population
    rate = f.number(f"{sid}.per_1000", rate_value, label=f"{title}: records {rate_unit(d.period)}",
                    fmt=lambda v: "hidden" if v is None else fmt_number(v, 2), inputs=[*inputs, "population"],
                    parameters=params | {"population_year": d.population_year},
                    definition="1000 x records / residents (hidden when the count is).")  # fmt: skip
    by_month = s.by_month[["month", "count", "suppression"]]
    f.table(f"{sid}.by_month", by_month, label=f"{title}: records per month in {d.name}", inputs=inputs,
            parameters=params, csv=f"partner_{sid}_by_month",
            columns={"month": "month (YYYY-MM)", "count": "records (empty where hidden)",
                     "suppression": "primary: hidden as small; secondary: hidden to protect another; empty: shown"},
            definition="Records per month of the period, small counts hidden with secondary suppression against "
            "the period total.")  # fmt: skip
    chart = charts.svg(_monthly_chart(by_month, f"{title}: records per month", k),
                       f"{title}: records per month in {d.name}", f"partner.{sid}.by_month")  # fmt: skip

    trend = None
    if not s.trend.empty:
        t = s.trend.iloc[0]
        trend_frame = pd.DataFrame([{c: t[c] for c in ("period", "current", "previous", "percent_change",
                                                         "rate_ratio", "ci_lower", "ci_upper", "p_value",
                                                         "direction")}])  # fmt: skip
        f.table(f"{sid}.trend", trend_frame, label=f"{title}: last {TREND_MONTHS} months against the {TREND_MONTHS} "
                "before", inputs=inputs, parameters=params | {"test": "exact conditional binomial, equal exposure"},
                columns={"period": "months compared", "current": "records, recent months",
                         "previous": "records, months before", "percent_change": "% change",
                         "rate_ratio": "recent / before", "ci_lower": "95% interval, lower",
                         "ci_upper": "95% interval, upper", "p_value": "two-sided p", "direction": "reading"},
                definition="Recent months against the months before (hidden when either count is small).")  # fmt: skip
        trend = {
            "period": t["period"],
            "current": hidden(t["current"]),
            "previous": hidden(t["previous"]),
            "pct": fmt_signed_pct(t["percent_change"]) if not pd.isna(t["percent_change"]) else "n/a",
            "p": fmt_p(t["p_value"]) if not pd.isna(t["p_value"]) else "n/a",
            "direction": t["direction"],
            "span": f.span(f"{sid}.trend"),
        }

    hot = item.hotspots
    lsoa = d.lsoas[["lsoa_code", "lsoa_name"]].merge(hot.by_lsoa, on="lsoa_code", how="left")
    gdf = d.boundaries[["lsoa_code", "geometry"]].merge(lsoa, on="lsoa_code")
    gpkg = ctx.write_map(f"partner_{sid}_by_lsoa", gdf)
    f.table(f"{sid}.by_lsoa", lsoa, kind="map", label=f"{title}: records, rates and hot spots by LSOA",
            inputs=[*inputs, "population", "boundaries"], files=[gpkg], csv=f"partner_{sid}_by_lsoa",
            parameters=params | {"gi_star": {"weights": "queen contiguity, binary (B), self included",
                                             "permutations": o.permutations, "seed": o.seed,
                                             "fdr": "Benjamini-Hochberg"}, "lsoa_rule": hot.rule},
            columns={"lsoa_code": "LSOA 2021 code", "lsoa_name": "LSOA name", "count": "records (empty where hidden)",
                     "suppression": "primary / secondary / empty", "population": "residents",
                     "rate_per_1000": "1000 x records / residents (empty where the count is hidden)",
                     "gi_bin": "Getis-Ord Gi* class of the exact counts"},
            definition="Records per LSOA of the area in the period; hot and cold spots by Gi* on the counts.")  # fmt: skip
    order = lsoa.assign(_c=lsoa["count"].astype("Float64").fillna(-1)).sort_values(["_c", "lsoa_code"],
                                                                                    ascending=[False, True])  # fmt: skip
    top = order.head(10)
    top_rows = [
        {"lsoa": f"{r.lsoa_name} ({r.lsoa_code})", "count": _cell(r.count), "rate": _cell(r.rate_per_1000, fmt_number),
         "gi": r.gi_bin}
        for r in top.itertuples()
    ]  # fmt: skip
    hot_n = int(lsoa["gi_bin"].astype(str).str.startswith("Hot spot").sum())
    hot_map = charts.svg(charts.categorical_map(gdf, "gi_bin", charts.GI_COLOURS, f"{title}: Gi* hot and cold spots",
                                                "Gi* class (LSOAs)", outline=d.boundaries.dissolve()),
                         f"Map of {title} hot and cold spots by LSOA", f"partner.{sid}.by_lsoa")  # fmt: skip
    n_hot = f.number(f"{sid}.hot_spots", hot_n, label=f"{title}: LSOAs in a Gi* hot spot", inputs=inputs,
                     parameters=params, definition="LSOAs classed 'Hot spot' at 90% or more (FDR-adjusted).")  # fmt: skip

    near = None
    nr = item.near_repeats
    if nr is not None:
        nr_params = params | {"metric": "manhattan", "permutations": nr.permutations, "seed": nr.seed,
                              "near_distance_m": nr.near_distance_m, "near_days": nr.near_days,
                              "grid_cell_m": nr.grid_cell_m, "bands": nr.band_note, "label_rule": nr.rule}  # fmt: skip
        f.table(f"{sid}.knox", nr.table, label=f"{title}: Knox ratios by distance and time band",
                inputs=inputs, parameters=nr_params, csv=f"partner_{sid}_knox",
                columns={"distance_band": "Manhattan distance between grid-cell centres",
                         "time_band": "days apart", "knox_ratio": "observed pairs / mean of permuted pairs",
                         "p_value": "(permutations with at least the observed pairs + 1) / (permutations + 1)"},
                definition="Knox test: pairs of incidents by distance and time band against the same incidents "
                "with their dates permuted across locations.")  # fmt: skip
        f.table(f"{sid}.near_repeat_labels", nr.labels[["label", "count", "suppression"]],
                label=f"{title}: incidents by near-repeat label", inputs=inputs, parameters=nr_params,
                csv=f"partner_{sid}_near_repeat_labels",
                columns={"label": "originator / repeat / near repeat / isolated",
                         "count": "incidents (empty where hidden)", "suppression": "primary / secondary / empty"},
                definition=f"Repeat: an earlier incident in the same place within {nr.near_days} days; near repeat: "
                f"within 1-{nr.near_distance_m} m and {nr.near_days} days; originator: followed by a repeat or "
                "near repeat; isolated: none of these.")  # fmt: skip
        ratio = f.number(f"{sid}.near_ratio", nr.near_ratio, fmt=lambda v: fmt_number(v, 2),
                         label=f"{title}: Knox ratio within {nr.near_distance_m} m and {nr.near_days} days",
                         inputs=inputs, parameters=nr_params,
                         definition="Observed pairs within the near distance and time / mean of permutations.")  # fmt: skip
        summary = f.number(f"{sid}.near_summary", nr.summary, fmt=str, label=f"{title}: near repeats in words",
                           inputs=inputs, parameters=nr_params,
                           definition="The Knox test's reading for the near cell, in plain English.")  # fmt: skip
        grid = "the 100 m" if nr.grid_cell_m == 100 else "their"
        near = {
            "summary": summary,
            "band_note": nr.band_note,
            "ratio": ratio,
            "p": fmt_p(nr.near_p),
            "labels": [{"label": r.label, "count": _cell(r.count)} for r in nr.labels.itertuples()],
            "knox": f.html_table(
                f"{sid}.knox",
                {
                    "distance_band": "distance",
                    "time_band": "days apart",
                    "knox_ratio": "Knox ratio",
                    "p_value": "p",
                },
                {"knox_ratio": lambda v: fmt_number(v, 2), "p_value": lambda v: fmt_number(v, 3)},
            ),  # fmt: skip
            "grid": grid,
            "rule": nr.rule,
        }
    return {
        "dataset": dataset,
        "id": sid,
        "title": title,
        "synthetic": synthetic,
        "files": [r["name"] for r in refs],
        "threshold": k,
        "rule": s.rule,
        "notes": s.notes,
        "total": total,
        "total_value": s.total,
        "rate": rate,
        "chart": chart,
        "trend": trend,
        "trend_raw": None if s.trend.empty else s.trend.iloc[0].to_dict(),
        "top": top_rows,
        "hot_map": hot_map,
        "hot_n": n_hot,
        "hot_rule": hot.rule,
        "placed": hot.placed,
        "gpkg": gpkg,
        "near": near,
    }


# ----------------------------------------------------------------------------------------------------
# The violence view: ED assaults beside police-recorded violence


def _violence(ctx: Context, view: CardiffView, threshold: int) -> dict[str, Any]:
    # Over 80 lines: the violence view's figures are registered in the order the template shows them.
    d, f = ctx.data, ctx.figures
    inputs = ["partner:ed_assaults", "police:period", "lookups"]
    params = {"period": d.period.label, "method": view.method, "disclosure_rule": view.rule}
    share = f.number("violence.share_not_reported", view.share_not_reported, fmt=fmt_pct,
                     label="Share of ED assault attendances not reported to the police", inputs=inputs,
                     parameters=params | {"interval": "exact (Clopper-Pearson) 95%",
                                          "ci_lower": view.ci_lower, "ci_upper": view.ci_upper},
                     definition="No / (Yes + No) of the patients' answers to 'has this assault been reported to "
                     "the police?' (recorded method), or the lower bound described in the methods.")  # fmt: skip
    ed_total = f.number("violence.ed_total", view.ed_total, fmt=_hidden(threshold), label="ED assault attendances in the area",
                        inputs=inputs, parameters=params,
                        definition="ED assault attendances whose place of assault is in the area's LSOAs.")  # fmt: skip
    police = f.number("violence.police_total", view.police_total, label="Police-recorded violence and sexual offences",
                      inputs=inputs, parameters=params,
                      definition="police.uk 'Violence and sexual offences' in the same LSOAs and months.")  # fmt: skip
    hide = _hidden(threshold)
    if view.method == "recorded":
        answered = f.number("violence.answered", view.denominator, fmt=hide, inputs=inputs, parameters=params,
                            label="ED assault attendances where the patient said whether the police had been told",
                            definition="Answers Yes or No to 'has this assault been reported to the police?'.")  # fmt: skip
        not_reported = f.number("violence.not_reported", view.numerator, fmt=hide, inputs=inputs, parameters=params,
                                label="ED assault attendances the patient said had not been reported to the police",
                                definition="Answers No (hidden when small, or when the Yes answers are).")  # fmt: skip
        ci = f.number("violence.share_interval", None if pd.isna(view.ci_lower) else [view.ci_lower, view.ci_upper],
                      fmt=lambda v: "not published" if v is None else f"{fmt_pct(v[0])} to {fmt_pct(v[1])}",
                      inputs=inputs, parameters=params, label="95% interval of the share not reported",
                      definition="Exact (Clopper-Pearson) binomial interval.")  # fmt: skip
        if pd.isna(view.share_not_reported):
            headline = Markup(
                "Of {} attendances where the patient said whether the police had been told, too few had or had not "
                "been for the share to be published."
            ).format(answered)
        else:
            headline = Markup(
                "Of {} attendances where the patient said whether the police had been told, {} ({}) said it had "
                "not been reported (95% interval {})."
            ).format(answered, not_reported, share, ci)
    else:
        headline = f.number("violence.statement", view.statement, fmt=str, inputs=inputs, parameters=params,
                            label="How many ED assaults, at least, are not among police records",
                            definition="The lower bound described in the methods, in words.")  # fmt: skip
    monthly = view.monthly.assign(month=pd.to_datetime(view.monthly["month"]).dt.strftime("%Y-%m"))
    f.table("violence.monthly", monthly, label="ED assaults and police-recorded violence per month", inputs=inputs,
            parameters=params, csv="partner_violence_by_month",
            columns={"month": "month (YYYY-MM)", "ed_assaults": "ED assault attendances (empty where hidden)",
                     "police_violence": "police-recorded violence and sexual offences",
                     "ed_per_100_police": "100 x ED assaults / police-recorded violence"},
            definition="The two sources month by month, in the same LSOAs.")  # fmt: skip
    by_type = view.by_location_type
    f.table("violence.by_location_type", by_type, label="ED assaults by location type and whether reported",
            inputs=["partner:ed_assaults", "lookups"], parameters=params, csv="partner_violence_by_location_type",
            columns={"location_type": "type of place of the assault", "ed_assaults": "ED assault attendances",
                     "reported": "patient said reported", "not_reported": "patient said not reported",
                     "not_known": "answer not known", "share_not_reported": "not reported / (reported + not reported)"},
            definition="ED assaults by type of location, with the share never reported to the police; empty "
            "cells are hidden.")  # fmt: skip
    by_how = view.by_hour_of_week
    f.table("violence.by_hour_of_week", by_how, label="ED assaults by day and hour of the week",
            inputs=["partner:ed_assaults", "lookups"], parameters=params, csv="partner_violence_by_hour_of_week",
            columns={"day": "day of the week of the assault", "hour": "hour of the assault (0-23)",
                     "ed_assaults": "ED assault attendances", "reported": "patient said reported",
                     "not_reported": "patient said not reported", "not_known": "answer not known",
                     "share_not_reported": "not reported / (reported + not reported)"},
            definition="ED assaults with a known time, by the 168 hours of the week; empty cells are hidden.")  # fmt: skip
    type_rows = [
        {"type": r.location_type, "ed": _cell(r.ed_assaults), "not_reported": _cell(r.not_reported),
         "share": _cell(r.share_not_reported, fmt_pct)}
        for r in by_type.itertuples()
    ]  # fmt: skip
    hours = charts.svg(_hour_chart(by_how, "ed_assaults", "ED assaults by hour of the week", "attendances"),
                       "Heat map of ED assaults by day and hour", "partner.violence.by_hour_of_week")  # fmt: skip
    shares = None
    if view.method == "recorded":
        shares = charts.svg(_hour_chart(by_how, "share_not_reported", "Share not reported to the police",
                                        "share not reported", share=True),
                            "Heat map of the share of ED assaults not reported to the police by day and hour",
                            "partner.violence.by_hour_of_week")  # fmt: skip
    peak = by_how.dropna(subset=["ed_assaults"]).sort_values("ed_assaults", ascending=False).head(1)
    peak_words = (
        f"{peak['day'].iloc[0]}s {int(peak['hour'].iloc[0]):02d}:00-{int(peak['hour'].iloc[0]):02d}:59"
        if len(peak) and peak["ed_assaults"].iloc[0] > 0 else None
    )  # fmt: skip
    return {
        "view": view,
        "share": share,
        "ed_total": ed_total,
        "police_total": police,
        "headline": headline,
        "rule": view.rule,
        "types": type_rows,
        "hours": hours,
        "shares": shares,
        "peak": peak_words,
        "method": view.method,
        "monthly": f.html_table(
            "violence.monthly",
            {
                "month": "month",
                "ed_assaults": "ED assaults",
                "police_violence": "police-recorded violence",
                "ed_per_100_police": "ED per 100 police",
            },
            {
                "ed_assaults": _cell,
                "police_violence": fmt_count,
                "ed_per_100_police": lambda v: _cell(v, fmt_number),
            },
        ),  # fmt: skip
    }


# ----------------------------------------------------------------------------------------------------


def read_partner(wh, data: AreaData, options: AssessOptions) -> PartnerBundle | None:  # noqa: ANN001
    """The partner bundle of the assessment's area and period (None without a warehouse)."""
    if wh is None:
        return None
    return gather_partner_bundle(
        wh,
        data.code,
        f"{data.period.start:%Y-%m}",
        f"{data.period.end:%Y-%m}",
        data.population[["lsoa_code", "population"]],
        data.boundaries[["lsoa_code", "geometry"]],
        permutations=options.permutations,
        seed=options.seed,
        trend_months=TREND_MONTHS,
    )


def build(ctx: Context) -> SectionOutput:
    """Build the partner-data section (see the module docstring) from ``ctx.partner``."""
    # Over 80 lines: the findings, caveats and methods are written where they are decided.
    d = ctx.data
    bundle = ctx.partner
    if bundle is None:
        return _missing(
            "Partner data were not read for this assessment: it was built without access to the partner "
            "records (the section was given no warehouse).",
            {"datasets": [], "read": False},
        )
    loaded, present, titles = bundle.loaded, bundle.present, bundle.titles
    if not loaded:
        return _missing(
            "No partner data are loaded, so this assessment uses police data only. Load fire, ambulance, "
            "emergency department, hospital, licensing or treatment data with <code>diogel ingest partner "
            "--schema &lt;name&gt; &lt;file&gt;</code>; they are de-personalised on the way in and small counts "
            "are hidden on the way out.",
            {"datasets": [], "read": True},
        )
    if not present:
        names = ", ".join(titles[x] for x in loaded)
        return _missing(
            f"Partner data are loaded ({names}) but none of their records is placed in an LSOA of {d.name} "
            f"between {d.period.words}, so none is shown. Records located only by an outward postcode belong to "
            "no area.",
            {"datasets": [], "read": True},
        )
    datasets = [_dataset(ctx, item) for item in bundle.datasets]
    ed = next((x for x in datasets if x["dataset"] == "ed_assaults"), None)
    violence = (
        _violence(ctx, bundle.violence, ed["threshold"]) if ed is not None and bundle.violence else None
    )
    synthetic = [x for x in datasets if x["synthetic"]]

    findings: list[Finding] = []
    for x in datasets:
        text = Markup("{}: {} records in the period ({} {}).").format(
            x["title"], x["total"], x["rate"], rate_unit(d.period)
        )
        if x["trend"] and x["trend"]["direction"] in ("up", "down"):
            text += Markup(" Over the last {} months they went {} ({}, {}).").format(
                TREND_MONTHS, x["trend"]["direction"], x["trend"]["pct"], x["trend"]["p"]
            )
        findings.append(Finding(text, rank=45))
    if violence is not None and not pd.isna(violence["view"].share_not_reported):
        findings.append(
            Finding(
                Markup(
                    "Violence: {} of emergency department assault attendances were not reported to the police "
                    "(Cardiff Model view)."
                ).format(violence["share"]),
                rank=8,
            )
        )
    caveats = [
        Markup(
            "Partner data are disclosure-controlled: counts from 1 to {} are hidden, with secondary suppression "
            "so no hidden count can be worked out from totals, and rates and shares built on hidden counts are "
            "hidden too."
        ).format(min(x["threshold"] for x in datasets) - 1)
    ]
    if synthetic:
        caveats.append(
            Markup("The partner data in this assessment are SYNTHETIC (made up for the demo): {}.").format(
                ", ".join(x["title"] for x in synthetic)
            )
        )
    methods = [
        (
            "Partner data",
            Markup(
                "Partner records are de-personalised when loaded (identifiers replaced by keyed HMAC-SHA256 "
                "pseudonyms, dates of birth by age bands, postcodes by LSOA or outward code, coordinates by LSOA "
                "and a grid cell) and placed in the area by the LSOA of the event. Levels are records in the "
                "period; the trend compares the last {} months with the {} before (exact conditional binomial "
                "test); hot spots are Getis-Ord Gi* on the exact counts per LSOA (queen contiguity, {} "
                "permutations, Benjamini-Hochberg FDR), of which only the class is published. Near repeats use "
                "the Knox test on grid-cell centres with Manhattan distance and {} permutations of the dates."
            ).format(TREND_MONTHS, TREND_MONTHS, ctx.options.permutations, ctx.options.permutations),
        )
    ]
    if violence is not None:
        methods.append(
            (
                "Violence: the Cardiff Model view",
                Markup(
                    "ED assault attendances whose place of assault is in the area are set beside police.uk "
                    "violence and sexual offences in the same LSOAs and months. With the patient's answer to "
                    "'has this assault been reported to the police?' the share not reported is No / (Yes + No) "
                    "with an exact binomial interval; without it only a lower bound is possible."
                ),
            )
        )
    html = ctx.render(
        "sections/partner.html.j2",
        datasets=datasets,
        violence=violence,
        synthetic=synthetic,
        not_here=[titles[x] for x in loaded if x not in present],
        unit=rate_unit(d.period),
        trend_months=TREND_MONTHS,
    )
    return SectionOutput(
        html=html,
        findings=findings,
        caveats=caveats,
        methods=methods,
        values={
            "read": True,
            "datasets": [x["dataset"] for x in datasets],
            "totals": {x["dataset"]: x["total_value"] for x in datasets},
            "share_not_reported": None if violence is None else violence["view"].share_not_reported,
        },
    )


register(
    Section(
        id="partner",
        title="Partner data",
        order=55,
        build=build,
        description="Fire, health and other partner datasets: levels, trends, hot spots, near repeats and the "
        "Cardiff Model violence view, with small counts hidden.",
    )
)
