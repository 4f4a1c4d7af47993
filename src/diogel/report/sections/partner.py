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
context built without one gets a section saying that partner data were not read. :func:`compute` puts
each dataset's LSOA table and hot-spot count together; :func:`build` registers the figures and writes the
text (the gatherer's English sentences are phrased in the report language by :mod:`._partner_words`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from markupsafe import Markup

from diogel.analysis.cardiff import CardiffView
from diogel.gather.partner import PartnerBundle, PartnerDataset, gather_partner_bundle
from diogel.report import charts
from diogel.report.context import AssessOptions, Context, Finding, SectionOutput
from diogel.report.figures import FigureRegistry, fmt_count, fmt_number, fmt_p, fmt_pct, fmt_signed_pct
from diogel.report.gather import AreaData, Period, SourceRef
from diogel.report.i18n import Place, T, Term, Text, _, here, term
from diogel.report.sections import Section, register
from diogel.report.sections import _partner_words as words
from diogel.report.sections._common import rate_unit, slug

__all__ = ["DatasetResult", "PartnerResult", "build", "compute", "read_partner"]

TREND_MONTHS = 6


def _absent(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _hidden(threshold: int):  # noqa: ANN202
    """Formatter for a published count: a hidden one reads "fewer than 5" (or "hidden")."""

    def fmt(value: Any) -> str:
        if _absent(value):
            return _("hidden (fewer than {}, or to protect one)").format(threshold)
        return fmt_count(value)

    return fmt


def _cell(value: Any, fmt=fmt_count) -> str:  # noqa: ANN001
    return "*" if _absent(value) else fmt(value)


def _missing(text: str, values: dict | None = None) -> SectionOutput:
    return SectionOutput(html=Markup("<p class='missing'>{}</p>").format(Markup(text)), values=values or {})


def _unit(period: Period) -> Text:
    """:func:`rate_unit` as a figure label's value (given in English and Welsh in figures.json)."""
    if period.n_months == 12:
        return T("per 1,000 residents a year")
    return T("per 1,000 residents over {months} months", months=period.n_months)


# ----------------------------------------------------------------------------------------------------
# Compute: each dataset's LSOA table and hot spots, from the bundle


@dataclass(frozen=True)
class DatasetResult:
    """One partner dataset ready to show: its bundle entry, LSOA table (names, counts, rates, Gi* class)
    joined to the boundaries, the ten LSOAs with the most records and the number of hot-spot LSOAs."""

    item: PartnerDataset
    sid: str
    synthetic: bool
    population: float
    lsoa: pd.DataFrame
    gdf: gpd.GeoDataFrame
    top: pd.DataFrame
    hot_n: int


@dataclass(frozen=True)
class PartnerResult:
    """The datasets of the bundle present in the area, and the violence view when ED assaults are."""

    bundle: PartnerBundle
    datasets: list[DatasetResult]
    violence: CardiffView | None
    violence_threshold: int | None


def _dataset_result(d: AreaData, item: PartnerDataset) -> DatasetResult:
    hot = item.hotspots
    lsoa = d.lsoas[["lsoa_code", "lsoa_name"]].merge(hot.by_lsoa, on="lsoa_code", how="left")
    gdf = d.boundaries[["lsoa_code", "geometry"]].merge(lsoa, on="lsoa_code")
    order = lsoa.assign(_c=lsoa["count"].astype("Float64").fillna(-1)).sort_values(["_c", "lsoa_code"],
                                                                                    ascending=[False, True])  # fmt: skip
    return DatasetResult(
        item=item,
        sid=slug(item.dataset),
        synthetic=any("synthetic" in r["name"].casefold() for r in item.sources),
        population=float(d.population["population"].sum()),
        lsoa=lsoa,
        gdf=gdf,
        top=order.head(10),
        hot_n=int(lsoa["gi_bin"].astype(str).str.startswith("Hot spot").sum()),
    )


def compute(bundle: PartnerBundle, d: AreaData) -> PartnerResult:
    """The section's results from the gathered bundle (nothing is read from the warehouse here)."""
    datasets = [_dataset_result(d, item) for item in bundle.datasets]
    ed = next((x for x in datasets if x.item.dataset == "ed_assaults"), None)
    violence = bundle.violence if ed is not None and bundle.violence else None
    return PartnerResult(
        bundle, datasets, violence, ed.item.summary.threshold if violence is not None else None
    )


# ----------------------------------------------------------------------------------------------------
# Charts drawn from the registered tables


def _monthly_chart(rows: pd.DataFrame, title: str, threshold: int):  # noqa: ANN202
    fig, ax = plt.subplots(figsize=(7.2, 2.6))
    x = pd.to_datetime(rows["month"] + "-01")
    shown = rows["count"].notna()
    ax.bar(
        x[shown],
        rows.loc[shown, "count"].astype(float),
        width=20,
        color=charts.OKABE_ITO[0],
        label=_("records"),
    )
    if (~shown).any():
        ax.scatter(x[~shown], np.zeros((~shown).sum()), marker="x", color=charts.OKABE_ITO[1],
                   label=_("hidden (fewer than {}, or to protect one)").format(threshold))  # fmt: skip
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title, loc="left")
    ax.set_ylabel(_("records a month"))
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
    ax.set_yticks(np.arange(7) + 0.5, [here(words.DAY_SHORT[d]) for d in DAYS])
    ax.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)])
    ax.set_title(title, loc="left")
    bar = fig.colorbar(im, ax=ax)
    bar.solids.set_rasterized(False)  # matplotlib rasterises long colour bars into a data: image
    bar.set_label(label)
    return fig


# ----------------------------------------------------------------------------------------------------
# Present: one dataset's levels, trend, hot spots and near repeats


def _levels(ctx: Context, r: DatasetResult, inputs: list[str], params: dict) -> dict[str, Any]:
    d, f, s, title = ctx.data, ctx.figures, r.item.summary, r.item.title
    hidden, sid, name = _hidden(s.threshold), r.sid, Term(title)
    total = f.number(f"{sid}.total", s.total, fmt=hidden, inputs=inputs, parameters=params,
                     label=T("{title}: records in {area}, {period}", title=name, area=Place(d.name), period=d.period.label),
                     definition=T("Partner records placed in the area's LSOAs in the period, counted once each "
                                  "(the schema's record id), hidden if from 1 to the threshold minus 1."))  # fmt: skip
    rate_value = None if s.total is None else 1000 * s.total / r.population
    rate = f.number(f"{sid}.per_1000", rate_value, label=T("{title}: records {unit}", title=name, unit=_unit(d.period)),
                    fmt=lambda v: _("hidden") if v is None else fmt_number(v, 2), inputs=[*inputs, "population"],
                    parameters=params | {"population_year": d.population_year},
                    definition=T("1000 x records / residents (hidden when the count is)."))  # fmt: skip
    by_month = s.by_month[["month", "count", "suppression"]]
    f.table(f"{sid}.by_month", by_month, label=T("{title}: records per month in {area}", title=name, area=Place(d.name)),
            inputs=inputs, parameters=params, csv=f"partner_{sid}_by_month",
            columns={"month": "month (YYYY-MM)", "count": "records (empty where hidden)",
                     "suppression": "primary: hidden as small; secondary: hidden to protect another; empty: shown"},
            definition=T("Records per month of the period, small counts hidden with secondary suppression against "
                         "the period total."))  # fmt: skip
    chart = charts.svg(_monthly_chart(by_month, _("{}: records per month").format(term(title)), s.threshold),
                       _("{}: records per month in {}").format(term(title), d.display_name), f"partner.{sid}.by_month")  # fmt: skip
    return {"total": total, "rate": rate, "chart": chart}


def _trend(f: FigureRegistry, r: DatasetResult, inputs: list[str], params: dict) -> dict[str, Any] | None:
    s = r.item.summary
    if s.trend.empty:
        return None
    t, hidden = s.trend.iloc[0], _hidden(s.threshold)
    frame = pd.DataFrame([{c: t[c] for c in ("period", "current", "previous", "percent_change", "rate_ratio",
                                             "ci_lower", "ci_upper", "p_value", "direction")}])  # fmt: skip
    f.table(f"{r.sid}.trend", frame, label=T("{title}: last {n} months against the {n} before", title=Term(r.item.title),
            n=TREND_MONTHS), inputs=inputs, parameters=params | {"test": "exact conditional binomial, equal exposure"},
            columns={"period": "months compared", "current": "records, recent months",
                     "previous": "records, months before", "percent_change": "% change",
                     "rate_ratio": "recent / before", "ci_lower": "95% interval, lower",
                     "ci_upper": "95% interval, upper", "p_value": "two-sided p", "direction": "reading"},
            definition=T("Recent months against the months before (hidden when either count is small)."))  # fmt: skip
    return {
        "period": t["period"],
        "current": hidden(t["current"]),
        "previous": hidden(t["previous"]),
        "pct": fmt_signed_pct(t["percent_change"]) if not pd.isna(t["percent_change"]) else _("n/a"),
        "p": fmt_p(t["p_value"]) if not pd.isna(t["p_value"]) else _("n/a"),
        "direction": t["direction"],
        "direction_words": words.direction(t["direction"]),
        "span": f.span(f"{r.sid}.trend"),
    }


def _hotspots(ctx: Context, r: DatasetResult, inputs: list[str], params: dict) -> dict[str, Any]:
    d, f, o, hot, title = ctx.data, ctx.figures, ctx.options, r.item.hotspots, r.item.title
    gpkg = ctx.write_map(f"partner_{r.sid}_by_lsoa", r.gdf)
    f.table(f"{r.sid}.by_lsoa", r.lsoa, kind="map", label=T("{title}: records, rates and hot spots by LSOA", title=Term(title)),
            inputs=[*inputs, "population", "boundaries"], files=[gpkg], csv=f"partner_{r.sid}_by_lsoa",
            parameters=params | {"gi_star": {"weights": "queen contiguity, binary (B), self included",
                                             "permutations": o.permutations, "seed": o.seed,
                                             "fdr": "Benjamini-Hochberg"}, "lsoa_rule": hot.rule},
            columns={"lsoa_code": "LSOA 2021 code", "lsoa_name": "LSOA name", "count": "records (empty where hidden)",
                     "suppression": "primary / secondary / empty", "population": "residents",
                     "rate_per_1000": "1000 x records / residents (empty where the count is hidden)",
                     "gi_bin": "Getis-Ord Gi* class of the exact counts"},
            definition=T("Records per LSOA of the area in the period; hot and cold spots by Gi* on the counts."))  # fmt: skip
    top = [
        {"lsoa": f"{x.lsoa_name} ({x.lsoa_code})", "count": _cell(x.count), "rate": _cell(x.rate_per_1000, fmt_number),
         "gi": x.gi_bin if _absent(x.gi_bin) else _(x.gi_bin)}
        for x in r.top.itertuples()
    ]  # fmt: skip
    hot_map = charts.svg(charts.categorical_map(r.gdf, "gi_bin", charts.GI_COLOURS, _("{}: Gi* hot and cold spots").format(term(title)),
                                                _("Gi* class (LSOAs)"), outline=d.boundaries.dissolve()),
                         _("Map of {} hot and cold spots by LSOA").format(term(title)), f"partner.{r.sid}.by_lsoa")  # fmt: skip
    n_hot = f.number(f"{r.sid}.hot_spots", r.hot_n, label=T("{title}: LSOAs in a Gi* hot spot", title=Term(title)),
                     inputs=inputs, parameters=params,
                     definition=T("LSOAs classed 'Hot spot' at 90% or more (FDR-adjusted)."))  # fmt: skip
    return {
        "top": top,
        "hot_map": hot_map,
        "hot_n": n_hot,
        "hot_rule": words.rule_hotspots(hot),
        "gpkg": gpkg,
    }


def _near(f: FigureRegistry, r: DatasetResult, inputs: list[str], params: dict) -> dict[str, Any] | None:
    nr, sid, name = r.item.near_repeats, r.sid, Term(r.item.title)
    if nr is None:
        return None
    nr_params = params | {"metric": "manhattan", "permutations": nr.permutations, "seed": nr.seed,
                          "near_distance_m": nr.near_distance_m, "near_days": nr.near_days,
                          "grid_cell_m": nr.grid_cell_m, "bands": nr.band_note, "label_rule": nr.rule}  # fmt: skip
    f.table(f"{sid}.knox", nr.table, label=T("{title}: Knox ratios by distance and time band", title=name),
            inputs=inputs, parameters=nr_params, csv=f"partner_{sid}_knox",
            columns={"distance_band": "Manhattan distance between grid-cell centres",
                     "time_band": "days apart", "knox_ratio": "observed pairs / mean of permuted pairs",
                     "p_value": "(permutations with at least the observed pairs + 1) / (permutations + 1)"},
            definition=T("Knox test: pairs of incidents by distance and time band against the same incidents "
                         "with their dates permuted across locations."))  # fmt: skip
    f.table(f"{sid}.near_repeat_labels", nr.labels[["label", "count", "suppression"]],
            label=T("{title}: incidents by near-repeat label", title=name), inputs=inputs, parameters=nr_params,
            csv=f"partner_{sid}_near_repeat_labels",
            columns={"label": "originator / repeat / near repeat / isolated",
                     "count": "incidents (empty where hidden)", "suppression": "primary / secondary / empty"},
            definition=T("Repeat: an earlier incident in the same place within {days} days; near repeat: within "
                         "1-{m} m and {days} days; originator: followed by a repeat or near repeat; isolated: none "
                         "of these.", days=nr.near_days, m=nr.near_distance_m))  # fmt: skip
    ratio = f.number(f"{sid}.near_ratio", nr.near_ratio, fmt=lambda v: fmt_number(v, 2),
                     label=T("{title}: Knox ratio within {m} m and {days} days", title=name, m=nr.near_distance_m,
                             days=nr.near_days), inputs=inputs, parameters=nr_params,
                     definition=T("Observed pairs within the near distance and time / mean of permutations."))  # fmt: skip
    summary = f.number(f"{sid}.near_summary", nr.summary, fmt=lambda v: words.near_summary(nr),
                       label=T("{title}: near repeats in words", title=name), inputs=inputs, parameters=nr_params,
                       definition=T("The Knox test's reading for the near cell, in plain English."))  # fmt: skip
    knox = f.html_table(f"{sid}.knox", {"distance_band": _("distance"), "time_band": _("days apart"),
                                        "knox_ratio": _("Knox ratio"), "p_value": "p"},
                        {"distance_band": words.band, "time_band": words.band,
                         "knox_ratio": lambda v: fmt_number(v, 2), "p_value": lambda v: fmt_number(v, 3)})  # fmt: skip
    return {
        "summary": summary,
        "band_note": words.band_note(nr),
        "ratio": ratio,
        "p": fmt_p(nr.near_p),
        "labels": [{"label": words.value(x.label), "count": _cell(x.count)} for x in nr.labels.itertuples()],
        "knox": knox,
        "grid_100": nr.grid_cell_m == 100,
        "rule": words.rule_near(nr),
    }


def _dataset(ctx: Context, r: DatasetResult) -> dict[str, Any]:
    """Register one dataset's figures in the order the template shows them; the template's values."""
    d, item, s = ctx.data, r.item, r.item.summary
    key = f"partner:{item.dataset}"
    d.sources[key] = [SourceRef(x["kind"], x["name"], x["file_id"], x["run_id"]) for x in item.sources]
    inputs = [key, "lookups"]
    params = {"period": d.period.label, "disclosure_threshold": s.threshold, "disclosure_rule": s.rule}
    levels = _levels(ctx, r, inputs, params)
    trend = _trend(ctx.figures, r, inputs, params)
    hot = _hotspots(ctx, r, inputs, params)
    return {
        "dataset": item.dataset, "id": r.sid, "title": term(item.title), "synthetic": r.synthetic,
        "files": [x["name"] for x in item.sources], "threshold": s.threshold, "rule": words.rule_summary(s),
        "notes": words.notes(s, item.title), "total_value": s.total, **levels, "trend": trend,
        "trend_raw": None if s.trend.empty else s.trend.iloc[0].to_dict(), **hot,
        "placed": item.hotspots.placed, "near": _near(ctx.figures, r, inputs, params),
    }  # fmt: skip


# ----------------------------------------------------------------------------------------------------
# The violence view: ED assaults beside police-recorded violence


def _violence_numbers(
    f: FigureRegistry, view: CardiffView, threshold: int, inputs: list[str], params: dict
) -> dict:
    """The view's headline figures and the sentence that quotes them."""
    hide = _hidden(threshold)
    share = f.number("violence.share_not_reported", view.share_not_reported, fmt=fmt_pct,
                     label=T("Share of ED assault attendances not reported to the police"), inputs=inputs,
                     parameters=params | {"interval": "exact (Clopper-Pearson) 95%",
                                          "ci_lower": view.ci_lower, "ci_upper": view.ci_upper},
                     definition=T("No / (Yes + No) of the patients' answers to 'has this assault been reported to "
                                  "the police?' (recorded method), or the lower bound described in the methods."))  # fmt: skip
    ed_total = f.number("violence.ed_total", view.ed_total, fmt=hide, label=T("ED assault attendances in the area"),
                        inputs=inputs, parameters=params,
                        definition=T("ED assault attendances whose place of assault is in the area's LSOAs."))  # fmt: skip
    police = f.number("violence.police_total", view.police_total, label=T("Police-recorded violence and sexual offences"),
                      inputs=inputs, parameters=params,
                      definition=T("police.uk 'Violence and sexual offences' in the same LSOAs and months."))  # fmt: skip
    if view.method != "recorded":
        headline = f.number("violence.statement", view.statement, fmt=lambda v: words.statement(view, threshold),
                            inputs=inputs, parameters=params,
                            label=T("How many ED assaults, at least, are not among police records"),
                            definition=T("The lower bound described in the methods, in words."))  # fmt: skip
        return {"share": share, "ed_total": ed_total, "police_total": police, "headline": headline}
    answered = f.number("violence.answered", view.denominator, fmt=hide, inputs=inputs, parameters=params,
                        label=T("ED assault attendances where the patient said whether the police had been told"),
                        definition=T("Answers Yes or No to 'has this assault been reported to the police?'."))  # fmt: skip
    not_reported = f.number("violence.not_reported", view.numerator, fmt=hide, inputs=inputs, parameters=params,
                            label=T("ED assault attendances the patient said had not been reported to the police"),
                            definition=T("Answers No (hidden when small, or when the Yes answers are)."))  # fmt: skip
    ci = f.number("violence.share_interval", None if pd.isna(view.ci_lower) else [view.ci_lower, view.ci_upper],
                  fmt=lambda v: _("not published") if v is None else _("{} to {}").format(fmt_pct(v[0]), fmt_pct(v[1])),
                  inputs=inputs, parameters=params, label=T("95% interval of the share not reported"),
                  definition=T("Exact (Clopper-Pearson) binomial interval."))  # fmt: skip
    if pd.isna(view.share_not_reported):
        headline = Markup(_(
            "Of {} attendances where the patient said whether the police had been told, too few had or had not "
            "been for the share to be published."
        )).format(answered)  # fmt: skip
    else:
        headline = Markup(_(
            "Of {} attendances where the patient said whether the police had been told, {} ({}) said it had "
            "not been reported (95% interval {})."
        )).format(answered, not_reported, share, ci)  # fmt: skip
    return {"share": share, "ed_total": ed_total, "police_total": police, "headline": headline}


def _violence(ctx: Context, view: CardiffView, threshold: int) -> dict[str, Any]:
    """Register the violence view's figures in the order the template shows them; the template's values."""
    d, f = ctx.data, ctx.figures
    inputs = ["partner:ed_assaults", "police:period", "lookups"]
    params = {"period": d.period.label, "method": view.method, "disclosure_rule": view.rule}
    numbers = _violence_numbers(f, view, threshold, inputs, params)
    monthly = view.monthly.assign(month=pd.to_datetime(view.monthly["month"]).dt.strftime("%Y-%m"))
    f.table("violence.monthly", monthly, label=T("ED assaults and police-recorded violence per month"), inputs=inputs,
            parameters=params, csv="partner_violence_by_month",
            columns={"month": "month (YYYY-MM)", "ed_assaults": "ED assault attendances (empty where hidden)",
                     "police_violence": "police-recorded violence and sexual offences",
                     "ed_per_100_police": "100 x ED assaults / police-recorded violence"},
            definition=T("The two sources month by month, in the same LSOAs."))  # fmt: skip
    by_type, by_how = view.by_location_type, view.by_hour_of_week
    answers = {"reported": "patient said reported", "not_reported": "patient said not reported",
               "not_known": "answer not known", "share_not_reported": "not reported / (reported + not reported)"}  # fmt: skip
    f.table("violence.by_location_type", by_type, label=T("ED assaults by location type and whether reported"),
            inputs=["partner:ed_assaults", "lookups"], parameters=params, csv="partner_violence_by_location_type",
            columns={"location_type": "type of place of the assault", "ed_assaults": "ED assault attendances", **answers},
            definition=T("ED assaults by type of location, with the share never reported to the police; empty "
                         "cells are hidden."))  # fmt: skip
    f.table("violence.by_hour_of_week", by_how, label=T("ED assaults by day and hour of the week"),
            inputs=["partner:ed_assaults", "lookups"], parameters=params, csv="partner_violence_by_hour_of_week",
            columns={"day": "day of the week of the assault", "hour": "hour of the assault (0-23)",
                     "ed_assaults": "ED assault attendances", **answers},
            definition=T("ED assaults with a known time, by the 168 hours of the week; empty cells are hidden."))  # fmt: skip
    hours = charts.svg(_hour_chart(by_how, "ed_assaults", _("ED assaults by hour of the week"), _("attendances")),
                       _("Heat map of ED assaults by day and hour"), "partner.violence.by_hour_of_week")  # fmt: skip
    shares = None
    if view.method == "recorded":
        shares = charts.svg(_hour_chart(by_how, "share_not_reported", _("Share not reported to the police"),
                                        _("share not reported"), share=True),
                            _("Heat map of the share of ED assaults not reported to the police by day and hour"),
                            "partner.violence.by_hour_of_week")  # fmt: skip
    peak = by_how.dropna(subset=["ed_assaults"]).sort_values("ed_assaults", ascending=False).head(1)
    peak_words = None
    if len(peak) and peak["ed_assaults"].iloc[0] > 0:
        hour, day = int(peak["hour"].iloc[0]), peak["day"].iloc[0]
        peak_words = T(
            "{day}s {hours}", day=words.VALUES.get(day, day), hours=f"{hour:02d}:00-{hour:02d}:59"
        ).here()
    monthly_html = f.html_table(
        "violence.monthly",
        {"month": _("month"), "ed_assaults": _("ED assaults"), "police_violence": _("police-recorded violence"),
         "ed_per_100_police": _("ED per 100 police")},
        {"ed_assaults": _cell, "police_violence": fmt_count, "ed_per_100_police": lambda v: _cell(v, fmt_number)},
    )  # fmt: skip
    types = [{"type": words.value(x.location_type), "ed": _cell(x.ed_assaults), "not_reported": _cell(x.not_reported),
              "share": _cell(x.share_not_reported, fmt_pct)} for x in by_type.itertuples()]  # fmt: skip
    return {"view": view, **numbers, "rule": words.rule_violence(view, threshold), "types": types, "hours": hours,
            "shares": shares, "peak": peak_words, "method": view.method, "monthly": monthly_html}  # fmt: skip


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


def _findings(d: AreaData, datasets: list[dict], violence: dict | None) -> list[Finding]:
    findings: list[Finding] = []
    for x in datasets:
        text = Markup(_("{}: {} records in the period ({} {}).")).format(
            x["title"], x["total"], x["rate"], rate_unit(d.period)
        )
        if x["trend"] and x["trend"]["direction"] in ("up", "down"):
            text += Markup(_(" Over the last {} months they went {} ({}, {}).")).format(
                TREND_MONTHS, x["trend"]["direction_words"], x["trend"]["pct"], x["trend"]["p"]
            )
        findings.append(Finding(text, rank=45))
    if violence is not None and not pd.isna(violence["view"].share_not_reported):
        text = _(
            "Violence: {} of emergency department assault attendances were not reported to the police "
            "(Cardiff Model view)."
        )
        findings.append(Finding(Markup(text).format(violence["share"]), rank=8))
    return findings


def _caveats_methods(
    ctx: Context, datasets: list[dict], violence: dict | None
) -> tuple[list[Markup], list[tuple[str, Markup]]]:
    permutations = ctx.options.permutations
    caveats = [Markup(_(
        "Partner data are disclosure-controlled: counts from 1 to {} are hidden, with secondary suppression "
        "so no hidden count can be worked out from totals, and rates and shares built on hidden counts are "
        "hidden too."
    )).format(min(x["threshold"] for x in datasets) - 1)]  # fmt: skip
    synthetic = [x["title"] for x in datasets if x["synthetic"]]
    if synthetic:
        text = _("The partner data in this assessment are SYNTHETIC (made up for the demo): {}.")
        caveats.append(Markup(text).format(", ".join(synthetic)))
    methods = [(_("Partner data"), Markup(_(
        "Partner records are de-personalised when loaded (identifiers replaced by keyed HMAC-SHA256 "
        "pseudonyms, dates of birth by age bands, postcodes by LSOA or outward code, coordinates by LSOA "
        "and a grid cell) and placed in the area by the LSOA of the event. Levels are records in the "
        "period; the trend compares the last {} months with the {} before (exact conditional binomial "
        "test); hot spots are Getis-Ord Gi* on the exact counts per LSOA (queen contiguity, {} "
        "permutations, Benjamini-Hochberg FDR), of which only the class is published. Near repeats use "
        "the Knox test on grid-cell centres with Manhattan distance and {} permutations of the dates."
    )).format(TREND_MONTHS, TREND_MONTHS, permutations, permutations))]  # fmt: skip
    if violence is not None:
        methods.append((_("Violence: the Cardiff Model view"), Markup(_(
            "ED assault attendances whose place of assault is in the area are set beside police.uk "
            "violence and sexual offences in the same LSOAs and months. With the patient's answer to "
            "'has this assault been reported to the police?' the share not reported is No / (Yes + No) "
            "with an exact binomial interval; without it only a lower bound is possible."
        ))))  # fmt: skip
    return caveats, methods


def build(ctx: Context) -> SectionOutput:
    """Build the partner-data section (see the module docstring) from ``ctx.partner``."""
    d, bundle = ctx.data, ctx.partner
    if bundle is None:
        text = _("Partner data were not read for this assessment: it was built without access to the partner "
                 "records (the section was given no warehouse).")  # fmt: skip
        return _missing(text, {"datasets": [], "read": False})
    loaded, present, titles = bundle.loaded, bundle.present, bundle.titles
    if not loaded:
        text = _("No partner data are loaded, so this assessment uses police data only. Load fire, ambulance, "
                 "emergency department, hospital, licensing or treatment data with <code>diogel ingest partner "
                 "--schema &lt;name&gt; &lt;file&gt;</code>; they are de-personalised on the way in and small counts "
                 "are hidden on the way out.")  # fmt: skip
        return _missing(text, {"datasets": [], "read": True})
    if not present:
        text = _("Partner data are loaded ({}) but none of their records is placed in an LSOA of {} between {}, so "
                 "none is shown. Records located only by an outward postcode belong to no area.")  # fmt: skip
        names = ", ".join(term(titles[x]) for x in loaded)
        return _missing(text.format(names, d.display_name, d.period.words), {"datasets": [], "read": True})
    result = compute(bundle, d)
    datasets = [_dataset(ctx, r) for r in result.datasets]
    violence = (
        _violence(ctx, result.violence, result.violence_threshold) if result.violence is not None else None
    )
    caveats, methods = _caveats_methods(ctx, datasets, violence)
    html = ctx.render(
        "sections/partner.html.j2",
        datasets=datasets,
        violence=violence,
        synthetic=[x for x in datasets if x["synthetic"]],
        not_here=[term(titles[x]) for x in loaded if x not in present],
        unit=rate_unit(d.period),
        trend_months=TREND_MONTHS,
    )
    return SectionOutput(
        html=html,
        findings=_findings(d, datasets, violence),
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
