"""Section "Conclusions and recommendations": what the findings mean and what to do, by open rules.

The rules (``analysis/recommendations_default.yaml``) read the figures the other sections
registered, never recompute them; each recommendation cites the figure ids it rests on. The
analyst's own text (``diogel assess --recommendations FILE``) replaces or adds to the generated
ones and is marked as the analyst's. The PESTELO and problem-analysis-triangle headings are
pre-filled where the data speak (the Cardiff Model and concentration figures) and otherwise show
the analyst's notes, or say plainly that the analyst has not provided them (they replace the
former "For the analyst to complete" section of blank headings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

from diogel.analysis.harm import POLICEUK_CRIME_TYPES
from diogel.analysis.recommendations import (
    PESTELO,
    TRIANGLE,
    AnalystInput,
    Recommendation,
    Segment,
    apply_rules,
    load_analyst_input,
    load_rules,
    merge_analyst,
)
from diogel.report.context import Context, SectionOutput
from diogel.report.figures import FigureRegistry
from diogel.report.i18n import T, _, current, term
from diogel.report.sections import Section, register
from diogel.report.sections._common import slug

NOT_PROVIDED = "Not provided by the analyst."
# The sections whose figures the rules read (explicit, so the executive summary can follow this one).
READS = ("data", "levels", "harm", "where", "partner", "drivers", "peers", "priorities")


def facts(figures: FigureRegistry) -> dict[str, Any]:
    """Every registered figure's value by id, and every table cell as ``id[first column value].column``."""
    out: dict[str, Any] = {}
    for fid, f in figures.figures.items():
        if f.kind == "number":
            out[fid] = f.value
        elif f.rows and f.columns:
            # Rows are named by what they are about (a crime type, a measure), else by the first column.
            key = next((k for k in ("crime_type", "measure") if k in f.columns), next(iter(f.columns)))
            for row in f.rows:
                for col, value in row.items():
                    out.setdefault(f"{fid}[{row.get(key)}].{col}", value)
    return out


_CELL = re.compile(r"^(?P<id>[^\[]+)\[(?P<key>.*)\]\.(?P<column>[^.\]]+)$")


def with_displays(rec: Recommendation, figures: FigureRegistry) -> Recommendation:
    """A number figure quoted by a rule shows the report's own display of it (one figure, one display)."""

    def fix(segs: tuple[Segment, ...]) -> tuple[Segment, ...]:
        return tuple(
            replace(s, text=figures.get(s.ref).display)
            if s.ref and s.ref in figures.figures and figures.get(s.ref).kind == "number"
            else s
            for s in segs
        )

    return replace(rec, conclusion=fix(rec.conclusion), recommendation=fix(rec.recommendation))


def _cell(figures: FigureRegistry, ref: str) -> tuple[str, int, str] | None:
    m = _CELL.match(ref)
    if not m or m["id"] not in figures.figures:
        return None
    f = figures.get(m["id"])
    key = next((k for k in ("crime_type", "measure") if k in f.columns), next(iter(f.columns)))
    for i, row in enumerate(f.rows or []):
        if str(row.get(key)) == m["key"]:
            return f.id, i, m["column"]
    return None


def segments_html(segments: tuple[Segment, ...], figures: FigureRegistry) -> Markup:
    """Words and quoted figures. A number figure is its span (tagged with its id, as every figure in the
    report is); a table cell is tagged with its table's id, row and column (the value formatted)."""
    parts = []
    for s in segments:
        if s.ref and s.ref in figures.figures:
            parts.append(figures.span(s.ref))
        elif s.ref and (cell := _cell(figures, s.ref)):
            parts.append(Markup('<span class="fig-cell" data-table="{}" data-row="{}" data-column="{}">{}</span>')
                         .format(*cell, s.text))  # fmt: skip
        else:
            parts.append(escape(s.text))
    return Markup("").join(parts)


def cites_html(rec: Recommendation) -> Markup:
    if not rec.figures:
        return Markup("<span class='cites'>{}</span>").format(_("(no figure cited)"))
    ids = Markup(", ").join(Markup("<code>{}</code>").format(f) for f in rec.figures)
    return Markup(_("<span class='cites'>(figures: {})</span>")).format(ids)


def _fact_sentence(ctx: Context, parts: list[tuple[str, str | None]]) -> Markup | None:
    """Join text and figure spans (``(text, None)`` or ``(prefix, figure id)``); None if a figure is absent."""
    out = []
    for text, fid in parts:
        if fid is None:
            out.append(escape(text))
        elif fid in ctx.figures and ctx.figures.get(fid).value is not None:
            out.append(escape(text) + ctx.figures.span(fid))
        else:
            return None
    return Markup("").join(out)


def data_speaks(ctx: Context) -> tuple[dict[str, Markup], dict[str, Markup]]:
    """PESTELO and triangle entries the data can fill (only where the figures exist)."""
    pestelo: dict[str, Markup] = {}
    triangle: dict[str, Markup] = {}
    s = _fact_sentence(ctx, [(_("The area has "), "data.residents"), (_(" residents (ONS estimate)."), None)])
    if s:
        pestelo["Social"] = s
    s = _fact_sentence(ctx, [(_("Fire and rescue recorded "), "partner.fire_incidents.total"),
                             (_(" incidents in the period."), None)])  # fmt: skip
    if s:
        pestelo["Environmental"] = s
    s = _fact_sentence(ctx, [(_("Emergency departments saw "), "partner.violence.ed_total"),
                             (_(" assault patients; "), "partner.violence.share_not_reported"),
                             (_(" of those who answered said the assault was not reported to the police (Cardiff Model)."), None)])  # fmt: skip
    if s:
        loc = _top_row(ctx, "partner.violence.by_location_type", "ed_assaults")
        if loc:
            s += Markup(_(" The most common place of assault was {} ({} patients).")).format(loc[0], loc[1])
        triangle["Victim"] = s
    s = _fact_sentence(ctx, [(_("The 5% of LSOAs with the most records hold "), "where.top5_share"),
                             (_(" of all records, the 10% with the most "), "where.top10_share"), (".", None)])  # fmt: skip
    if s:
        hot = _fact_sentence(ctx, [(_(" Hot spots (Gi*) cover "), "where.hot_lsoas"), (_(" LSOAs."), None)])
        triangle["Location"] = s + (hot or Markup(""))
    return pestelo, triangle


def _top_row(ctx: Context, fid: str, column: str) -> tuple[str, Any] | None:
    if fid not in ctx.figures:
        return None
    f = ctx.figures.get(fid)
    rows = [r for r in (f.rows or []) if r.get(column) is not None]
    if not rows:
        return None
    key = next((k for k in ("crime_type", "measure") if k in f.columns), next(iter(f.columns)))
    top = max(rows, key=lambda r: r[column])
    return str(top[key]), top[column]


def _notes_table(
    title: str, heads: tuple[str, ...], data: dict[str, Markup], analyst: dict[str, str]
) -> Markup:
    rows = []
    for h in heads:
        cells = []
        if h in data:
            cells.append(Markup(_("{} <span class='from'>(from the data)</span>")).format(data[h]))
        if h in analyst:
            cells.append(Markup(_("{} <span class='from analyst'>(the analyst)</span>")).format(analyst[h]))
        if not cells:
            cells.append(Markup("<span class='missing'>{}</span>").format(_(NOT_PROVIDED)))
        rows.append(
            Markup("<tr><th scope='row'>{}</th><td>{}</td></tr>").format(_(h), Markup("<br>").join(cells))
        )
    return Markup("<table class='notes'><caption>{}</caption><tbody>{}</tbody></table>").format(
        title, Markup("").join(rows)
    )


def recommendation_html(rec: Recommendation, figures: FigureRegistry) -> Markup:
    mark = Markup(_(" <span class='analyst-mark'>[the analyst's]</span>")) if rec.source == "analyst" else ""
    conclusion = segments_html(rec.conclusion, figures)
    body = Markup("<p class='conclusion'>{}</p>").format(conclusion) if rec.conclusion else Markup("")
    return Markup(
        "<li class='recommendation {}' data-recommendation='{}'>{}<p><strong>{}</strong>{} {}</p>{}</li>"
    ).format(rec.priority, rec.id, body, segments_html(rec.recommendation, figures), mark, cites_html(rec),
             Markup(_("<p class='note'>Replaces the generated <code>{}</code>.</p>")).format(rec.replaces)
             if rec.source == "analyst" and rec.replaces else "")  # fmt: skip


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def in_report_language(rules: dict[str, Any]) -> dict[str, Any]:
    """The packaged rules with their words (theme, conclusion, recommendation) in the report's language,
    from the report catalogue; conditions and quoted figures are untouched. In Welsh, ranks are quoted as
    numbers (the rules' ``|rank`` gives English ordinals)."""
    if current() == "en":
        return rules
    out = dict(rules)
    out["rules"] = [
        dict(r) | {k: _(_one_line(r[k])) for k in ("theme", "conclusion", "recommendation") if r.get(k)}
        for r in rules["rules"]
    ]
    return out


def with_terms(rec: Recommendation) -> Recommendation:
    """A generated recommendation with the crime type it names in the report's language (the rules
    substitute the English name, which is also the key of the facts they read)."""
    if current() == "en" or not rec.subject:
        return rec

    def swap(parts: tuple[Segment, ...]) -> tuple[Segment, ...]:
        return tuple(
            replace(s, text=s.text.replace(rec.subject, term(rec.subject))) if s.ref is None else s
            for s in parts
        )

    return replace(rec, conclusion=swap(rec.conclusion), recommendation=swap(rec.recommendation))


@dataclass(frozen=True)
class Conclusions:
    """The recommendations (generated by the rules, merged with the analyst's), the rules that could
    not be judged for want of a figure, and the analyst's input (None: generated only)."""

    recs: list
    unjudged: list
    analyst: AnalystInput | None
    path: Path | None


def compute(ctx: Context) -> Conclusions:
    """Apply the rules to the figures the earlier sections registered and merge the analyst's text."""
    path = ctx.options.recommendations
    analyst: AnalystInput | None = load_analyst_input(path) if path else None
    rules = analyst.rules if analyst and analyst.rules else in_report_language(load_rules())
    crime_types = {t: slug(t) for t in POLICEUK_CRIME_TYPES}
    generated, unjudged = apply_rules(facts(ctx.figures), rules, crime_types)
    generated = [with_terms(r) for r in generated]
    recs = merge_analyst([with_displays(r, ctx.figures) for r in generated], analyst)
    return Conclusions(recs, unjudged, analyst, path)


def _rules_name(c: Conclusions) -> str:
    if c.analyst and c.analyst.rules:
        return f"{c.path} (rules)"
    return _("recommendations_default.yaml (packaged)")


def _register(ctx: Context, c: Conclusions) -> None:
    """The recommendations table of figures.json and tables/recommendations.csv."""
    f, recs, path, rules_name = ctx.figures, c.recs, c.path, _rules_name(c)
    table = pd.DataFrame(
        [
            {
                "id": r.id,
                "priority": r.priority,
                "source": r.source,
                "crime_type": r.subject,
                "conclusion": "".join(s.text for s in r.conclusion),
                "recommendation": "".join(s.text for s in r.recommendation),
                "figures": " ".join(r.figures),
            }
            for r in recs
        ],
        columns=["id", "priority", "source", "crime_type", "conclusion", "recommendation", "figures"],
    )
    f.table("recommendations", table, label=T("Conclusions and recommendations"),
            definition=T("apply_rules over the registered figures with the rules file, then the analyst's text "
                         "(merge_analyst): an analyst's entry replaces the generated one it names or is added."),
            columns={"id": "rule id (:crime type slug) or analyst:n", "priority": "high / medium / low",
                     "source": "generated (by a rule) or analyst", "crime_type": "crime type, if the rule is per type",
                     "conclusion": "what the findings say", "recommendation": "what to do",
                     "figures": "figure ids it rests on"},
            inputs=[], parameters={"rules": rules_name, "analyst_input": str(path) if path else None},
            csv="recommendations")  # fmt: skip


def present(ctx: Context, c: Conclusions) -> SectionOutput:
    """Register the table and write the section from :func:`compute`'s result."""
    recs, analyst, unjudged, rules_name = c.recs, c.analyst, c.unjudged, _rules_name(c)
    _register(ctx, c)
    items = [recommendation_html(r, ctx.figures) for r in recs]
    pestelo_data, triangle_data = data_speaks(ctx)
    html = [Markup(_("<p>Generated by open rules from the figures in this report ({}); each cites the "
                     "figures it rests on. Text marked <em>the analyst's</em> was written by the analyst.</p>")).format(rules_name)]  # fmt: skip
    if analyst and analyst.conclusion:
        html.append(Markup(_("<p class='analyst'>{} <span class='analyst-mark'>[the analyst's]</span></p>")).format(
            analyst.conclusion))  # fmt: skip
    for level, title in (
        ("high", _("High priority")),
        ("medium", _("Medium priority")),
        ("low", _("Low priority")),
    ):
        chosen = [i for r, i in zip(recs, items, strict=True) if r.priority == level]
        if chosen:
            html.append(
                Markup("<h3>{}</h3><ol class='recommendations'>{}</ol>").format(
                    title, Markup("").join(chosen)
                )
            )
    if not recs:
        html.append(
            Markup(
                _(
                    "<p class='missing'>No rule fired on this area's figures and the analyst has added none.</p>"
                )
            )
        )
    html.append(Markup("<h3>{}</h3>").format(_("Context (PESTELO)")))
    html.append(_notes_table("PESTELO", PESTELO, pestelo_data, analyst.pestelo if analyst else {}))
    html.append(Markup("<h3>{}</h3>").format(_("Problem analysis triangle")))
    html.append(
        _notes_table(
            _("Problem analysis triangle"), TRIANGLE, triangle_data, analyst.triangle if analyst else {}
        )
    )
    caveats = []
    if unjudged:
        caveats.append(Markup(_("{} recommendation rule(s) could not be judged because a figure they read is "
                                "missing for this area (e.g. {})."))
                       .format(len(unjudged), unjudged[0][0]))  # fmt: skip
    return SectionOutput(
        html=Markup("").join(html),
        caveats=caveats,
        methods=[(_("Conclusions and recommendations"), Markup(_(
            "Each rule in the rules file states conditions on the report's figures (a percent change, a "
            "p-value, a rank, a share) and the conclusion and recommendation it gives when they all hold; "
            "a rule whose figure is missing never fires. Rules and wording are in the open and can be "
            "replaced by the partnership.")))],
        values={"recommendations": recs, "unjudged": unjudged, "analyst": analyst},
    )  # fmt: skip


def build(ctx: Context) -> SectionOutput:
    return present(ctx, compute(ctx))


register(
    Section(
        id="conclusions",
        title="Conclusions and recommendations",
        order=85,
        build=build,
        needs=READS,
        description="What the findings mean and what the partnership should do, each citing its figures.",
    )
)
