"""Section "Levels and trends": counts and rates by crime type, this period against the previous one,
and the monthly series against a seasonal baseline or control limits.

Change is tested month by month with a quasi-Poisson test that allows for over-dispersion
(:func:`compare_monthly`: each month paired with the same month of the previous period), and the
p-values of all rows of the table are adjusted together by Benjamini-Hochberg. A change is a finding
only when its q-value is below alpha and no data-supply gap month touches it. Control charts are
Laney u'-charts on a leave-one-out seasonal baseline (:func:`control_limits`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from markupsafe import Markup

from diogel.analysis.harm import POLICEUK_CRIME_TYPES
from diogel.analysis.trends import (
    CONTROL_METHOD,
    QUASI_POISSON_METHOD,
    compare_monthly_family,
    comparison_gap_check,
    control_limits,
    rates_per_1000,
)
from diogel.report import charts
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_number, fmt_p, fmt_pct, fmt_signed_pct
from diogel.report.gather import ASB, AreaData
from diogel.report.i18n import T, Term, _, month_year, term
from diogel.report.sections import Section, register
from diogel.report.sections._common import ALL, CRIME, area_population, finite, rate_unit, slug, type_counts

SIGMA = 3.0
RR_LABELS = {
    "rr": "{name}: rate ratio estimate",
    "rr_lower": "{name}: rate ratio lower",
    "rr_upper": "{name}: rate ratio upper",
}


def _rows(d: AreaData, gaps: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """One row per crime type plus the totals, with rates and (when possible) the comparison."""
    now = type_counts(d, d.period)
    totals = pd.DataFrame(
        {
            "crime_type": [ALL, CRIME],
            "count": [now["count"].sum(), now.loc[now["crime_type"] != ASB, "count"].sum()],
        }
    )
    frame = pd.concat([totals, now.sort_values("count", ascending=False)], ignore_index=True)
    rates = rates_per_1000(
        frame.assign(area=d.code), area_population(d), by=("area", "crime_type")
    ).set_index("crime_type")
    frame["rate_per_1000"] = frame["crime_type"].map(rates["rate_per_1000"])
    frame["rate_lower"] = frame["crime_type"].map(rates["rate_lower"])
    frame["rate_upper"] = frame["crime_type"].map(rates["rate_upper"])
    frame["share"] = frame["count"] / frame.loc[0, "count"] if frame.loc[0, "count"] else np.nan
    cols = ["previous", "change", "percent_change", "rate_ratio", "rr_lower", "rr_upper", "p_value", "q_value",
            "dispersion", "log_rate_ratio", "significant", "gap_in_comparison", "gap_months"]  # fmt: skip
    for c in cols:
        frame[c] = None
    if d.previous_available:
        now_m = _monthly_by_type(d, d.period)
        before_m = _monthly_by_type(d, d.previous)
        names = frame["crime_type"].tolist()
        # One family per report: every row of the table (the two totals and each crime type).
        family = compare_monthly_family({t: (now_m[t], before_m[t]) for t in names}, alpha=alpha)
        for i, r in frame.iterrows():
            cmp = family.loc[r["crime_type"]]
            kinds = ["all types"] if r["crime_type"] in (ALL, CRIME) else ["all types", r["crime_type"]]
            check = comparison_gap_check(
                gaps[gaps["crime_type"].isin(kinds)].assign(gap=True),
                (d.period.start, d.period.end), (d.previous.start, d.previous.end),
            )  # fmt: skip
            frame.loc[i, cols] = [
                cmp["previous"], cmp["change"], cmp["percent_change"], cmp["rate_ratio"], cmp["ci_lower"],
                cmp["ci_upper"], cmp["p_value"], cmp["q_value"], cmp["dispersion"], cmp["log_rate_ratio"],
                bool(cmp["significant"]) and not check.includes_gap, check.includes_gap,
                ", ".join(f"{m:%Y-%m}" for m in check.gap_months),
            ]  # fmt: skip
    return frame


def _monthly_by_type(d, period) -> dict[str, np.ndarray]:  # noqa: ANN001
    """Monthly counts over ``period`` for each crime type and the two totals, in month order."""
    months = period.months
    c = d.crimes[(d.crimes["month"] >= period.start) & (d.crimes["month"] <= period.end)]
    by = c.groupby(["crime_type", "month"])["count"].sum().unstack(fill_value=0.0)
    by = by.reindex(columns=months, fill_value=0.0)
    out = {
        t: (by.loc[t].to_numpy(float) if t in by.index else np.zeros(len(months)))
        for t in POLICEUK_CRIME_TYPES
    }
    out[ALL] = by.sum(axis=0).to_numpy(float)
    out[CRIME] = by.drop(index=ASB, errors="ignore").sum(axis=0).to_numpy(float)
    return out


def _monthly(d: AreaData, gaps: pd.DataFrame) -> pd.DataFrame:
    """Monthly counts of the area (all records, and each type) with expected counts and control limits.

    Gap months are left out of the baseline (their count is treated as missing) and marked.
    """
    start = min(d.months_loaded) if d.months_loaded else d.period.start
    months = pd.date_range(start, d.period.end, freq="MS")
    c = d.crimes[(d.crimes["month"] >= start) & (d.crimes["month"] <= d.period.end)]
    series = {ALL: c.groupby("month")["count"].sum()}
    by_type = c.groupby(["crime_type", "month"])["count"].sum()
    volume = c.groupby("crime_type")["count"].sum().sort_values(ascending=False)
    for t in volume.index:
        series[t] = by_type.loc[t]
    loaded = set(d.months_loaded)
    parts = []
    for name, s in series.items():
        s = s.reindex(months, fill_value=0.0).astype(float)
        g = gaps[gaps["crime_type"].isin(["all types"] if name == ALL else ["all types", name])]
        gap = s.index.isin(pd.to_datetime(g["month"])) | ~s.index.isin(list(loaded))
        cl = control_limits(s.where(~gap), sigma=SIGMA)
        part = cl.reset_index()
        part["count"] = s.to_numpy()
        part["gap"] = gap
        part["signal"] = np.where(gap, "", part["signal"])
        part["in_period"] = (part["month"] >= d.period.start) & (part["month"] <= d.period.end)
        part.insert(0, "crime_type", name)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _sentence(ctx: Context, r: pd.Series) -> Markup:
    """The plain-English reading of one crime type's change (or level, without a previous period)."""
    f, key = ctx.figures, slug(r["crime_type"])
    name = term(r["crime_type"])
    if not ctx.data.previous_available:
        return Markup(_("{}: {} records, {} {}.")).format(
            name, f.span(f"{key}.count"), f.span(f"{key}.rate"), rate_unit(ctx.data.period)
        )
    if r["gap_in_comparison"]:
        return Markup(
            _(
                "{}: {} records against {} in the previous period, but the comparison includes data-supply gap "
                "months ({}), so it is not reported as a rise or fall."
            )
        ).format(name, f.span(f"{key}.count"), f.span(f"{key}.previous"), r["gap_months"])
    if not finite(r["percent_change"]):
        return Markup(_("{}: {} records against none in the previous period.")).format(
            name, f.span(f"{key}.count")
        )
    if r["significant"]:
        sentence = (
            _("{} rose {} ({}, {}; rate ratio {}, 95% CI {} to {}), from {} to {} records.")
            if r["change"] > 0
            else _("{} fell {} ({}, {}; rate ratio {}, 95% CI {} to {}), from {} to {} records.")
        )
        return Markup(sentence).format(
            name, f.span(f"{key}.pct_abs"), f.span(f"{key}.q"), f.span(f"{key}.p"), f.span(f"{key}.rr"),
            f.span(f"{key}.rr_lower"), f.span(f"{key}.rr_upper"), f.span(f"{key}.previous"), f.span(f"{key}.count"),
        )  # fmt: skip
    return Markup(
        _(
            "{} changed by {} ({} to {} records; {}, {}): within the month-to-month variation of the series once "
            "every row is tested together, so no evidence of a real change."
        )
    ).format(
        name,
        f.span(f"{key}.pct"),
        f.span(f"{key}.previous"),
        f.span(f"{key}.count"),
        f.span(f"{key}.p"),
        f.span(f"{key}.q"),
    )


@dataclass(frozen=True)
class Levels:
    """The levels table (``rows``: each crime type and the two totals, with the comparison), the
    monthly series with control limits, and the signals in the last three months of the period."""

    rows: pd.DataFrame
    monthly: pd.DataFrame
    signals: pd.DataFrame


def compute(d: AreaData, gaps: pd.DataFrame, alpha: float) -> Levels:
    """Counts, rates and change by crime type, and the monthly control charts, from the gathered data
    and the data section's gap months."""
    monthly = _monthly(d, gaps)
    # Signals in the last three months of the period are what a strategic group acts on.
    recent = monthly[monthly["in_period"] & (monthly["month"] > d.period.end - pd.DateOffset(months=3))]
    return Levels(_rows(d, gaps, alpha), monthly, recent[recent["signal"] != ""])


def _comparison(ctx: Context) -> tuple[list[str], dict[str, object]]:
    """The input keys and parameters of the figures comparing the period with the previous one."""
    d = ctx.data
    period_inputs = ["police:period", "lookups"] + (["police:previous"] if d.previous_available else [])
    cmp_params = {"period": d.period.label, "previous_period": d.previous.label, "alpha": ctx.options.alpha,
                  "test": "quasi-Poisson on paired months (compare_monthly), Benjamini-Hochberg across the rows"}  # fmt: skip
    return period_inputs, cmp_params


def _register_numbers(ctx: Context, rows: pd.DataFrame) -> None:
    """Each row's count, rate and (with the previous period) change, p, q and rate ratio."""
    d, f = ctx.data, ctx.figures
    period_inputs, cmp_params = _comparison(ctx)
    unit_t = (
        T("per 1,000 residents a year")
        if d.period.n_months == 12
        else T("per 1,000 residents over {n} months", n=d.period.n_months)
    )
    for _i, r in rows.iterrows():
        key, name = slug(r["crime_type"]), Term(r["crime_type"])
        f.number(f"{key}.count", r["count"], label=T("{name}: records", name=name), inputs=["police:period", "lookups"],
                 parameters={"period": d.period.label},
                 definition=T("Records of {name} in the area's LSOAs in the period, under the counting rules.", name=Term(name.lower())))  # fmt: skip
        f.number(f"{key}.rate", r["rate_per_1000"], label=T("{name}: rate {unit}", name=name, unit=unit_t), fmt=fmt_number,
                 inputs=["police:period", "lookups", "population"], parameters={"population_year": d.population_year},
                 definition=T("1000 x count / residents (ONS mid-year estimate), over the period."))  # fmt: skip
        if d.previous_available:
            f.number(f"{key}.previous", r["previous"], label=T("{name}: records in the previous period", name=name),
                     inputs=["police:previous", "lookups"], parameters={"previous_period": d.previous.label},
                     definition=T("Records of {name} in the area's LSOAs in the previous period of equal length.", name=Term(name.lower())))  # fmt: skip
            f.number(f"{key}.pct", r["percent_change"], label=T("{name}: % change", name=name), fmt=fmt_signed_pct,
                     inputs=period_inputs, parameters=cmp_params, definition=T("100 x (count - previous) / previous."))  # fmt: skip
            f.number(f"{key}.pct_abs", abs(r["percent_change"]) if finite(r["percent_change"]) else None,
                     label=T("{name}: size of the % change", name=name), fmt=lambda v: fmt_pct(v / 100 if v is not None else v),
                     inputs=period_inputs, parameters=cmp_params, definition=T("|100 x (count - previous) / previous|."))  # fmt: skip
            f.number(f"{key}.p", r["p_value"], label=T("{name}: p-value of the change", name=name), fmt=fmt_p,
                     inputs=period_inputs, parameters=cmp_params,
                     definition=T("Two-sided quasi-Poisson test of equal rates on paired months (compare_monthly): "
                     "score z = (C - N/2) / sqrt(phi N / 4) against t with months - 1 df."))  # fmt: skip
            f.number(f"{key}.q", r["q_value"], label=T("{name}: Benjamini-Hochberg q-value of the change", name=name),
                     fmt=lambda v: fmt_p(v).replace("p", "q", 1),
                     inputs=period_inputs, parameters=cmp_params,
                     definition=T("The p-value adjusted by Benjamini-Hochberg across every row of the levels table "
                     "(both totals and each crime type); a change is a finding when q < alpha and no gap month touches it."))  # fmt: skip
            f.number(f"{key}.dispersion", r["dispersion"], label=T("{name}: dispersion of the monthly series", name=name),
                     fmt=lambda v: fmt_number(v, 1), inputs=period_inputs, parameters=cmp_params,
                     definition=T("phi = Pearson X2 / (months - 1) of the paired months (1 = Poisson)."))  # fmt: skip
            for k, what in (("rr", "rate_ratio"), ("rr_lower", "rr_lower"), ("rr_upper", "rr_upper")):
                f.number(f"{key}.{k}", r[what], label=T(RR_LABELS[k], name=name),
                         fmt=lambda v: fmt_number(v, 2), inputs=period_inputs, parameters=cmp_params,
                         definition=T("Rate ratio this period / previous (same residents and length), with the 95% "
                         "interval exp(log RR -/+ t se), se = sqrt(phi (1/count + 1/previous))."))  # fmt: skip


def _register_tables(ctx: Context, rows: pd.DataFrame, monthly: pd.DataFrame) -> None:
    """The levels table (with each row's reading) and the monthly series behind the charts."""
    d, f = ctx.data, ctx.figures
    unit = rate_unit(d.period)
    period_inputs, cmp_params = _comparison(ctx)
    columns = {
        "crime_type": "police.uk crime type, or a total",
        "count": "records in the period",
        "share": "count / all records",
        "rate_per_1000": f"rate {unit}",
        "rate_lower": "exact (Garwood) 95% lower limit of the rate",
        "rate_upper": "exact (Garwood) 95% upper limit of the rate",
        "previous": "records in the previous period (blank when not loaded)",
        "change": "count - previous",
        "percent_change": "100 x change / previous",
        "rate_ratio": "count / previous (equal residents and length)",
        "rr_lower": "95% lower limit of the rate ratio (quasi-Poisson)",
        "rr_upper": "95% upper limit of the rate ratio (quasi-Poisson)",
        "p_value": "two-sided quasi-Poisson p-value on paired months",
        "q_value": "Benjamini-Hochberg q-value across every row of this table",
        "dispersion": "phi: Pearson X2 / (months - 1) of the paired months (1 = Poisson)",
        "log_rate_ratio": "effect size: natural log of the rate ratio",
        "significant": "a finding: q_value < alpha and no gap month in either period",
        "gap_in_comparison": "either period includes a data-supply gap month for this type or the total",
        "gap_months": "the gap months concerned",
        "reading": "plain-English reading",
    }
    rows["reading"] = [str(_sentence(ctx, r)) for _i, r in rows.iterrows()]
    # The reading holds spans for the web page; the table keeps the text only.
    rows["reading"] = rows["reading"].str.replace(r"<[^>]+>", "", regex=True)
    f.table("by_type", rows, label=T("Records and rates by crime type, {period}", period=d.period.label), columns=columns,
            definition=T("Counts, rates per 1,000 residents with exact intervals and, when the previous period is loaded, "
            "the change with a quasi-Poisson test on paired months, Benjamini-Hochberg q-values and effect sizes."), inputs=period_inputs + ["population"],
            parameters=cmp_params | {"population_year": d.population_year}, csv="levels_by_crime_type")  # fmt: skip

    shown = monthly.assign(month=monthly["month"].dt.strftime("%Y-%m"))
    f.table("monthly", shown, kind="chart", label=T("Monthly records against expected counts and control limits"),
            columns={"crime_type": "crime type or all records", "month": "month", "count": "records",
                     "expected": "expected count: mean of the same month in the other years, else of the other months",
                     "baseline": "which expected value was used", "lower": "lower control limit (Laney u', 3-sigma tail)",
                     "upper": "upper control limit (Laney u', 3-sigma tail)", "sigma_z": "Laney's sigma_z (1 = Poisson)", "multiplier": "k: limits are expected -/+ k sigma_z sqrt(expected)",
                     "signal": "above / below the limits (blank in gap months)", "gap": "data-supply gap or month not loaded",
                     "in_period": "month in the period assessed"},
            definition=T("Laney u'-chart on a leave-one-out seasonal baseline (control_limits, 3-sigma tail); gap months are excluded from the "
            "baseline and marked."), inputs=["police:all", "lookups"], parameters={"sigma": SIGMA, "method": "laney"},
            csv="levels_monthly")  # fmt: skip


def _findings(ctx: Context, rows: pd.DataFrame, signals: pd.DataFrame) -> list[Finding]:
    d, f = ctx.data, ctx.figures
    unit = rate_unit(d.period)
    findings: list[Finding] = []
    total_key = slug(ALL)
    findings.append(
        Finding(
            Markup(_("All records: {} in the period, {} {} (crime excluding ASB: {}, {}).")).format(
                f.span(f"{total_key}.count"), f.span(f"{total_key}.rate"), unit,
                f.span(f"{slug(CRIME)}.count"), f.span(f"{slug(CRIME)}.rate"),
            ),
            rank=2,
        )
    )  # fmt: skip
    if d.previous_available:
        findings.append(Finding(_sentence(ctx, rows.iloc[0]), rank=5))
        moving = rows.iloc[2:]
        moving = moving[moving["significant"].astype(bool)]
        moving = moving.reindex(moving["log_rate_ratio"].abs().sort_values(ascending=False).index)
        for _i, r in moving.head(4).iterrows():
            findings.append(Finding(_sentence(ctx, r), rank=10))
        gapped = rows[rows["gap_in_comparison"].astype(bool)]
        for _i, r in gapped.iterrows():
            findings.append(Finding(_sentence(ctx, r), rank=12))
    for _i, s in signals.iterrows():
        above = s["signal"] == "above"
        findings.append(
            Finding(
                Markup(_("{} in {} was above its upper control limit (Laney u' chart): more than the seasonal pattern "
                         "and the series' usual month-to-month variation explain.") if above else
                       _("{} in {} was below its lower control limit (Laney u' chart): fewer than the seasonal pattern "
                         "and the series' usual month-to-month variation explain.")).format(
                    term(s["crime_type"]), month_year(s["month"]),
                ),
                rank=15,
            )
        )  # fmt: skip
    return findings


def _charts(d: AreaData, monthly: pd.DataFrame) -> tuple[Markup, Markup]:
    """The control chart of all records and the small multiples of each crime type."""
    main = charts.svg(
        charts.control_chart(
            monthly[monthly["crime_type"] == ALL], _("All records in {}, by month").format(d.display_name)
        ),
        _("All records in {} by month, with expected counts and control limits").format(d.display_name),
        "levels.monthly",
    )
    types = [t for t in monthly["crime_type"].unique() if t != ALL]
    multiples = charts.svg(
        charts.small_multiples({term(t): monthly[monthly["crime_type"] == t] for t in types}),
        _("Monthly records by crime type with control limits"),
        "levels.monthly",
    )

    return main, multiples


def _methods(ctx: Context) -> list[tuple[str, Markup]]:
    return [
        (
            _("Rates and change"),
            Markup(
                _(
                    "Rates are 1,000 x records / residents with exact (Garwood) Poisson intervals. This period is "
                    "compared with the previous period of the same length month by month: each month is paired "
                    "with the same month of the previous period (which takes out seasonality) and the change is "
                    "tested with a quasi-Poisson model, whose dispersion phi (Pearson X2 / (months - 1)) scales the "
                    "test by the month-to-month variation police.uk counts really have. {} The p-values of every row of the table (both "
                    "totals and each crime type) are adjusted together by Benjamini-Hochberg; a change is reported "
                    "as a rise or fall only when its q-value is below {} and no data-supply gap month touches "
                    "either period. Change is in counts: population change between the periods is not modelled."
                )
            ).format(_(QUASI_POISSON_METHOD), ctx.options.alpha),
        ),
        (
            _("Control limits"),
            Markup(
                _(
                    "{} A signal is a month outside its limits; gap months are left out of the baselines and of "
                    "sigma_z. About 3 months in 1,000 signal when nothing has changed (see the "
                    "calibration table), so a signal is a prompt to look, not proof of change."
                )
            ).format(_(CONTROL_METHOD)),
        ),
    ]


def present(ctx: Context, lv: Levels) -> SectionOutput:
    """Register the figures and write the section from :func:`compute`'s result."""
    d, rows, monthly, signals = ctx.data, lv.rows, lv.monthly, lv.signals
    _register_numbers(ctx, rows)
    _register_tables(ctx, rows, monthly)
    main, multiples = _charts(d, monthly)
    findings = _findings(ctx, rows, signals)
    unit = rate_unit(d.period)
    table_rows = rows.to_dict(orient="records")
    return SectionOutput(
        html=ctx.render(
            "sections/levels.html.j2",
            rows=table_rows,
            sentences=[_sentence(ctx, r) for _i, r in rows.iterrows()],
            columns={
                "crime_type": _("crime type"),
                "count": _("records"),
                "share": _("share"),
                "rate_per_1000": _("rate"),
                "rate_lower": _("95% CI low"),
                "rate_upper": _("95% CI high"),
            }
            | (
                {
                    "previous": _("previous period"),
                    "percent_change": _("change"),
                    "rate_ratio": _("rate ratio"),
                    "p_value": "p",
                    "q_value": "q",
                    "gap_in_comparison": _("gap"),
                }
                if d.previous_available
                else {}
            ),
            formats={
                "count": fmt_count,
                "share": fmt_pct,
                "rate_per_1000": fmt_number,
                "rate_lower": fmt_number,
                "rate_upper": fmt_number,
                "previous": fmt_count,
                "percent_change": fmt_signed_pct,
                "rate_ratio": lambda v: fmt_number(v, 2),
                "p_value": fmt_p,
                "q_value": lambda v: fmt_p(v).replace("p", "q", 1),
                "gap_in_comparison": lambda v: _("gap") if v else "",
                "crime_type": term,
            },
            unit=unit,
            main_chart=main,
            multiples=multiples,
            signals=signals.to_dict(orient="records"),
            fmt_count=fmt_count,
            fmt_number=fmt_number,
            fmt_pct=fmt_pct,
            fmt_signed_pct=fmt_signed_pct,
            fmt_p=fmt_p,
        ),
        findings=findings,
        methods=_methods(ctx),
        values={"rows": rows, "monthly": monthly},
    )


def build(ctx: Context) -> SectionOutput:
    return present(ctx, compute(ctx.data, ctx.results["data"].values["gaps"], ctx.options.alpha))


register(
    Section(
        id="levels",
        title="Levels and trends",
        order=30,
        build=build,
        needs=("data",),
        description="Counts and rates by crime type; change on the previous period; monthly control charts.",
    )
)
