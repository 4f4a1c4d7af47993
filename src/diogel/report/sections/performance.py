"""Section "Performance against targets": each target's progress, like-for-like, and against similar areas.

The targets come from ``diogel assess --targets FILE`` (YAML) and from the partnership portal's
database when the assessment reads it (see :mod:`diogel.commands.assess`). Progress is
:func:`diogel.analysis.targets.target_progress` on :func:`diogel.gather.targets.target_inputs`
(gathered before the sections, :mod:`diogel.gather.performance`):
the one function and inputs the portal's dashboard and scrutiny pack use, so all three show the
same figure. Progress is measured on the latest loaded months, which may run past the period
assessed: a target is judged on the newest figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup

from diogel.analysis.targets import target_progress
from diogel.gather.performance import TargetsBundle
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_signed_pct
from diogel.report.i18n import T, _, term
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


# The words of target_progress's ``status`` and ``peer_position``, for the catalogue.
STATUS = {"met": T("met"), "on course": T("on course"), "off course": T("off course"), "missed": T("missed"),
          "not measurable": T("not measurable")}  # fmt: skip
POSITION = {"below": T("below"), "within": T("within"), "above": T("above")}
# A priority is the partnership's own words, shown as written; the demo's example targets
# (diogel/data/demo/example_targets_newport.yaml) are in the catalogue so the Welsh demo is Welsh.
DEMO_PRIORITIES = (T("Fewer burglaries"), T("Anti-social behaviour in the winter months"),
                   T("Violence in the night-time economy"))  # fmt: skip


def _pct(v: object) -> str:
    return fmt_signed_pct(v, 1) if v is not None else _("n/a")


def _priority(v: object) -> object:
    return _(v) if isinstance(v, str) and v else v


def _word(words: dict[str, T], v: object) -> object:
    return words[v].here() if isinstance(v, str) and v in words else v


@dataclass(frozen=True)
class Performance:
    """Progress towards each target (:func:`target_progress`'s table) and the similar areas used."""

    progress: pd.DataFrame
    peers: list[str]


def compute(bundle: TargetsBundle | None, alpha: float) -> Performance | None:
    """Progress towards the gathered targets; None when the area has none."""
    if bundle is None or not bundle.targets or bundle.inputs is None:
        return None
    i = bundle.inputs
    return Performance(
        target_progress(list(bundle.targets), i.monthly, i.peers, i.loaded, alpha=alpha), i.peers
    )


def present(ctx: Context, p: Performance | None) -> SectionOutput:
    """Register the progress table and write the section."""
    d, f = ctx.data, ctx.figures
    if p is None:
        return SectionOutput(html=Markup(_(
            "<p class='missing'>The partnership has recorded no targets for this area, so there is no performance to "
            "report. Record targets on the portal's Targets page, or pass a YAML file with "
            "<code>diogel assess --targets FILE</code>.</p>")))  # fmt: skip
    progress = p.progress
    params = {"alpha": ctx.options.alpha, "peers": p.peers,
              "comparison": "a 12-month baseline against the latest 12 loaded months; a shorter one against the "
                            "same months of the latest year loaded"}  # fmt: skip
    f.table("progress", progress, label=T("Progress towards the partnership's targets"), inputs=["police:all", "lookups"],
            parameters=params, columns=COLUMNS, csv="targets_progress",
            definition=T("target_progress: police.uk recorded crime under the counting rules, the latest like-for-like "
                         "months against the baseline months paired by calendar month, quasi-Poisson test with "
                         "Benjamini-Hochberg across the targets; the same change in each most-similar area with data."))  # fmt: skip
    html = [Markup(_("<p>Each target is measured on like-for-like seasons: a 12-month baseline against the latest 12 "
                     "months loaded, a shorter baseline against the same months of the latest year. A change is "
                     "called significant only when the quasi-Poisson test on paired months, adjusted across the "
                     "targets, says so. The similar areas are the most similar {} in this nation.</p>"))
            .format(d.level_words_plural)]  # fmt: skip
    html.append(f.html_table(
        "progress", {"priority": _("Priority"), "measure": _("Measure"), "baseline": _("Baseline"),
                     "current": _("Compared with"), "baseline_count": _("Baseline count"),
                     "current_count": _("Latest count"), "percent_change": _("Change"), "target_change": _("Target"),
                     "deadline": _("Deadline"), "status": _("Status"), "peer_position": _("Against similar areas")},
        formats={"percent_change": _pct, "target_change": _pct, "baseline_count": fmt_count,
                 "current_count": fmt_count, "measure": term, "status": lambda v: _word(STATUS, v), "priority": _priority,
                 "peer_position": lambda v: _word(POSITION, v) or _("too few with data")}))  # fmt: skip
    findings = []
    for row in progress.itertuples():
        if row.status in ("met", "on course", "off course", "missed"):
            findings.append(Markup(_("{} target ({}, {} by {}): {} since the baseline, {}.")).format(
                _priority(row.priority), term(row.measure), _pct(row.target_change), row.deadline, _pct(row.percent_change),
                _word(STATUS, row.status)))  # fmt: skip
    return SectionOutput(html=Markup("").join(html), findings=[Finding(t, rank=40) for t in findings],
                         values={"progress": progress})  # fmt: skip


def build(ctx: Context) -> SectionOutput:
    return present(ctx, compute(ctx.targets, ctx.options.alpha))


register(
    Section(
        id="performance",
        title="Performance against targets",
        order=82,
        build=build,
        description="The partnership's targets, progress on like-for-like seasons, and against similar areas.",
    )
)
