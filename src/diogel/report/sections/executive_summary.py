"""Section "Executive summary": one page ahead of the detailed findings.

Built from what the other sections registered: the headline volume and its change, harm, the
data-led priorities, and the high-priority recommendations (with the figures they cite). Nothing
is recomputed here.
"""

from __future__ import annotations

from markupsafe import Markup

from diogel.report.context import Context, SectionOutput
from diogel.report.i18n import _, term
from diogel.report.sections import Section, register
from diogel.report.sections.conclusions import cites_html, segments_html

MAX_RECOMMENDATIONS = 6


def _span(ctx: Context, fid: str) -> Markup | None:
    if fid in ctx.figures and ctx.figures.get(fid).value is not None:
        return ctx.figures.span(fid)
    return None


def build(ctx: Context) -> SectionOutput:
    d = ctx.data
    items: list[Markup] = []
    count, pct = _span(ctx, "levels.all_records.count"), _span(ctx, "levels.all_records.pct")
    if count is not None:
        line = Markup(_("{} recorded crimes and ASB incidents in {}")).format(count, d.period.words)
        if pct is not None and d.previous_available:
            line += Markup(_(", {} on the same months a year before ({})")).format(pct, d.previous.label)
        items.append(line + Markup("."))
    harm, harm_change = _span(ctx, "harm.per_1000"), _span(ctx, "harm.pct_change")
    if harm is not None:
        line = Markup(_("Harm (Crime Severity Score): {} per 1,000 residents")).format(harm)
        if harm_change is not None:
            line += Markup(_(", {} on the year before")).format(harm_change)
        items.append(line + Markup("."))
    if "priorities.matrix" in ctx.figures:
        rows = ctx.figures.get("priorities.matrix").rows or []
        top = [term(r["crime_type"]) for r in sorted(rows, key=lambda r: r["rank"])[:3]]
        if top:
            items.append(
                Markup(_("Data-led priorities: {} (<span class='fig' data-figure='priorities.matrix'>matrix</span>).")).format(
                    ", ".join(f"{i + 1}. {t}" for i, t in enumerate(top))
                )
            )  # fmt: skip
    result = ctx.results.get("conclusions")
    recs = [r for r in (result.values.get("recommendations", []) if result else []) if r.priority == "high"]
    shown = recs[:MAX_RECOMMENDATIONS]
    rec_html = Markup("").join(
        Markup("<li>{}{} {}</li>").format(
            segments_html(r.recommendation, ctx.figures),
            Markup(_(" <span class='analyst-mark'>[the analyst's]</span>")) if r.source == "analyst" else "",
            cites_html(r),
        )
        for r in shown
    )
    more = len(recs) - len(shown)
    html = Markup(
        _(
            "<p>{} ({}), {}. The detailed findings follow; every number is traceable in figures.json.</p>"
            "<h3>Key findings</h3><ul class='key-findings'>{}</ul>"
        )
    ).format(
        d.display_name,
        d.code,
        d.period.words,
        Markup("").join(Markup("<li>{}</li>").format(i) for i in items),
    )
    if shown:
        html += Markup(
            _("<h3>What the partnership should do</h3><ol class='exec-recommendations'>{}</ol>")
        ).format(rec_html)
        if more > 0:
            html += Markup(_("<p class='note'>{} more high-priority recommendation(s) in "
                             "<a href='#conclusions'>Conclusions and recommendations</a>.</p>")).format(more)  # fmt: skip
    else:
        html += Markup(_("<p class='missing'>No high-priority recommendation: see {}.</p>")).format(
            Markup("<a href='#conclusions'>{}</a>").format(_("Conclusions and recommendations"))
        )
    return SectionOutput(html=Markup("<div class='executive-summary'>{}</div>").format(html))


register(
    Section(
        id="executive_summary",
        title="Executive summary",
        order=5,
        build=build,
        needs=("conclusions", "levels", "harm", "priorities"),
        description="One page: the headline figures and what the partnership should do.",
    )
)
