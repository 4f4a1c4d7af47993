"""Section "Performance against targets": each target's progress, like-for-like, and against similar areas.

The targets come from ``diogel assess --targets FILE`` (YAML) and from the partnership portal's
database when the assessment reads it (see :mod:`diogel.commands.assess`). Progress is
:func:`diogel.analysis.targets.target_progress` on :func:`diogel.gather.targets.target_inputs`:
the one function and inputs the portal's dashboard and scrutiny pack use, so all three show the
same figure. Progress is measured on the latest loaded months, which may run past the period
assessed: a target is judged on the newest figures.
"""

from __future__ import annotations

from markupsafe import Markup

from diogel.analysis.targets import load_targets, target_progress
from diogel.gather.targets import target_inputs
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_signed_pct
from diogel.report.sections import Section, register

COLUMNS = {
    "target_id": "target id", "priority": "the priority the target belongs to", "measure": "what is counted",
    "baseline": "baseline months", "current": "the like-for-like months compared with the baseline",
    "baseline_count": "records in the baseline months", "current_count": "records in the compared months",
    "percent_change": "100 (compared - baseline) / baseline", "ci_lower": "95% interval, lower (percent)",
    "ci_upper": "95% interval, upper (percent)", "p_value": "quasi-Poisson test on paired months",
    "q_value": "Benjamini-Hochberg across the targets", "significant": "q_value < alpha",
    "target_change": "the target as a change from the baseline (percent)",
    "expected_by_now": "the change a straight line from baseline to deadline reaches by the latest month",
    "deadline": "deadline (month)", "status": "met, on course, off course, missed or not measurable",
    "peer_mean": "mean change over the same months in the area and its most similar areas with data",
    "peer_lower": "t interval for that mean, lower", "peer_upper": "t interval for that mean, upper",
    "peer_position": "the area's change below, within or above the interval",
    "peers_with_data": "similar areas whose police data cover the months", "note": "why a target is not measurable",
}  # fmt: skip


def _pct(v: object) -> str:
    return fmt_signed_pct(v, 1) if v is not None else "n/a"


def build(ctx: Context) -> SectionOutput:
    d, f = ctx.data, ctx.figures
    targets = list(ctx.options.targets_from_portal)
    if ctx.options.targets:
        targets += load_targets(ctx.options.targets, area=d.code)
    targets = [t for t in targets if t.area == d.code]
    if not targets:
        return SectionOutput(html=Markup(
            "<p class='missing'>The partnership has recorded no targets for this area, so there is no performance to "
            "report. Record targets on the portal's Targets page, or pass a YAML file with "
            "<code>diogel assess --targets FILE</code>.</p>"))  # fmt: skip
    inputs = target_inputs(ctx.warehouse, d.code, ctx.options.peers)
    progress = target_progress(targets, inputs.monthly, inputs.peers, inputs.loaded, alpha=ctx.options.alpha)
    params = {"alpha": ctx.options.alpha, "peers": inputs.peers,
              "comparison": "a 12-month baseline against the latest 12 loaded months; a shorter one against the "
                            "same months of the latest year loaded"}  # fmt: skip
    f.table("progress", progress, label="Progress towards the partnership's targets", inputs=["police:all", "lookups"],
            parameters=params, columns=COLUMNS, csv="targets_progress",
            definition="target_progress: police.uk recorded crime under the counting rules, the latest like-for-like "
                       "months against the baseline months paired by calendar month, quasi-Poisson test with "
                       "Benjamini-Hochberg across the targets; the same change in each most-similar area with data.")  # fmt: skip
    html = [Markup("<p>Each target is measured on like-for-like seasons: a 12-month baseline against the latest 12 "
                   "months loaded, a shorter baseline against the same months of the latest year. A change is "
                   "called significant only when the quasi-Poisson test on paired months, adjusted across the "
                   "targets, says so. The similar areas are the most similar {} in this nation.</p>")
            .format(d.level_words_plural)]  # fmt: skip
    html.append(f.html_table(
        "progress", {"priority": "Priority", "measure": "Measure", "baseline": "Baseline", "current": "Compared with",
                     "baseline_count": "Baseline count", "current_count": "Latest count", "percent_change": "Change",
                     "target_change": "Target", "deadline": "Deadline", "status": "Status",
                     "peer_position": "Against similar areas"},
        formats={"percent_change": _pct, "target_change": _pct, "baseline_count": fmt_count,
                 "current_count": fmt_count, "peer_position": lambda v: v or "too few with data"}))  # fmt: skip
    findings = []
    for row in progress.itertuples():
        if row.status in ("met", "on course", "off course", "missed"):
            findings.append(Markup("{} target ({}, {} by {}): {} since the baseline, {}.").format(
                row.priority, row.measure, _pct(row.target_change), row.deadline, _pct(row.percent_change),
                row.status))  # fmt: skip
    return SectionOutput(html=Markup("").join(html), findings=[Finding(t, rank=40) for t in findings],
                         values={"progress": progress})  # fmt: skip


register(
    Section(
        id="performance",
        title="Performance against targets",
        order=82,
        build=build,
        description="The partnership's targets, progress on like-for-like seasons, and against similar areas.",
    )
)
