"""Section "Summary": the key findings of every other section, in plain English, most important first."""

from __future__ import annotations

from diogel.report.context import Context, SectionOutput
from diogel.report.i18n import _
from diogel.report.sections import Section, register, sections


def build(ctx: Context) -> SectionOutput:
    order = {s.id: i for i, s in enumerate(sections())}
    findings = [
        (f.rank, order.get(sid, 99), i, f.text, sid)
        for sid, out in ctx.results.items()
        for i, f in enumerate(out.findings)
    ]
    findings.sort(key=lambda t: t[:3])
    titles = {s.id: _(s.title) for s in sections()}
    return SectionOutput(
        html=ctx.render(
            "sections/summary.html.j2",
            findings=[(text, sid, titles.get(sid, sid)) for *_, text, sid in findings],
        )
    )


register(
    Section(
        id="summary",
        title="Summary of findings",
        order=10,
        build=build,
        needs=("*",),
        description="The key findings of every section in plain English.",
    )
)
