"""The workforce survey written out: readable tables, diverging Likert and bar charts (SVG), the HTML
report and its CSV files, for the command line (``diogel survey``) and reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from diogel.resources.survey import Survey
from diogel.resources.survey_analysis import (
    choice_counts,
    diverging_segments,
    likert_summary,
    priorities,
    rank_summary,
    workforce_profile,
)


def _palette(k: int) -> list[str]:
    """ColorBrewer PuOr (colour-blind safe) with a grey midpoint; orange = negative, purple = positive."""
    fixed = {
        2: ["#e66101", "#5e3c99"],
        3: ["#e66101", "#bdbdbd", "#5e3c99"],
        4: ["#e66101", "#fdb863", "#b2abd2", "#5e3c99"],
        5: ["#e66101", "#fdb863", "#bdbdbd", "#b2abd2", "#5e3c99"],
        6: ["#b35806", "#f1a340", "#fee0b6", "#d8daeb", "#998ec3", "#542788"],
        7: ["#b35806", "#f1a340", "#fee0b6", "#bdbdbd", "#d8daeb", "#998ec3", "#542788"],
    }
    if k not in fixed:
        raise ValueError(f"diverging palette defined for 2-7 levels, not {k}")
    return fixed[k]


def diverging_likert_svg(responses: pd.DataFrame, survey: Survey, question: str, title: str = "") -> str:
    """Diverging stacked bars of a Likert question, as an SVG string.

    Disagreement/low engagement to the left of zero, agreement/high engagement to the right, the
    neutral level split across zero (see :func:`diverging_segments`); items ordered by
    ``pct_positive - pct_negative``. Colours: ColorBrewer PuOr, colour-blind safe.
    """
    from matplotlib.figure import Figure

    from diogel.resources.charts import figure_svg as _svg

    q = survey.question(question)
    summary = likert_summary(responses, survey, question)
    summary = summary.assign(_net=summary["pct_positive"] - summary["pct_negative"]).sort_values("_net")
    segs = diverging_segments(summary, q.scale)
    colours = dict(zip([c for c, _ in q.scale], _palette(len(q.scale)), strict=True))
    labels = dict(zip(summary["item"], summary["label"], strict=True))
    order = list(summary["item"])
    fig = Figure(figsize=(8, 0.4 * len(order) + 1.6))
    ax = fig.subplots()
    for code, label in q.scale:
        s = segs[segs["code"] == code].set_index("item").reindex(order)
        ax.barh(
            [_wrap(labels[i]) for i in order],
            s["width"],
            left=s["left"],
            color=colours[code],
            edgecolor="white",
            linewidth=0.5,
            label=label,
        )
    ax.axvline(0, color="black", linewidth=0.8)
    lim = max(50.0, float((segs["left"] + segs["width"]).abs().max()), float(segs["left"].abs().max()))
    ax.set_xlim(-lim, lim)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{abs(t):.0f}%" for t in ticks])
    ax.set_title(title or q.text, fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(q.scale), fontsize=7, frameon=False)
    ax.spines[["top", "right", "left"]].set_visible(False)
    return _svg(fig)


def _wrap(text: str, width: int = 40) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


# ---------------------------------------------------------------------------------------------
# Readable output

READABLE = {
    "item": "Item id",
    "label": "Item",
    "n_ranked": "Respondents who ranked it",
    "mean_rank": "Mean rank (1 = most important)",
    "borda": "Points (n - rank from each respondent)",
    "top3": "Respondents ranking it in their top three",
    "borda_position": "Position by points",
    "mean_rank_position": "Position by mean rank",
    "count": "Respondents",
    "share": "Share of respondents who answered",
    "priority_count": "Chosen as a top priority",
    "least_count": "Chosen as least important",
    "net": "Net (top priority - least important)",
    "n": "Answers",
    "pct_negative": "% negative",
    "pct_neutral": "% neutral",
    "pct_positive": "% positive",
    "mean": "Mean",
    "answered": "Respondents who answered",
    "total": "Total FTE",
    "median": "Median",
    "respondents": "Respondents",
    "role": "Role",
}


def readable(df: pd.DataFrame, scale: Sequence[tuple[int, str]] = ()) -> pd.DataFrame:
    """The same table with readable column headings (Likert levels named by their scale labels)."""
    names = dict(READABLE)
    for code, label in scale:
        names[f"count_{code}"] = f"{label} (answers)"
        names[f"pct_{code}"] = f"{label} (%)"
    return df.rename(columns=names)


def bar_svg(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> str:
    """Horizontal bars, largest at the top, as an SVG string."""
    from matplotlib.figure import Figure

    from diogel.resources.charts import figure_svg as _svg

    order = list(range(len(labels)))[::-1]
    fig = Figure(figsize=(8, 0.35 * len(labels) + 1.4))
    ax = fig.subplots()
    ax.barh([_wrap(str(labels[i])) for i in order], [values[i] for i in order], color="#5e3c99")
    ax.set_title(_wrap(title, 90), fontsize=10)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _figures(a: SurveyAnalysis) -> list[tuple[str, str]]:
    """The survey's figures, numbered in the order of the seed report: rankings, priorities,
    influence, engagement and professionalisation (Likert), qualifications, then the profile."""
    figs: list[tuple[str, str]] = []
    for qid, df in a.rankings.items():
        figs.append((a.survey.question(qid).text, bar_svg(df["label"], df["borda"], a.survey.question(qid).text,
                                                          READABLE["borda"])))  # fmt: skip
    if a.priorities is not None:
        p = a.priorities
        figs.append(("Top and lowest priorities", bar_svg(p["label"], p["net"], "Top and lowest priorities",
                                                          READABLE["net"])))  # fmt: skip
    for qid, df in a.choices.items():
        if qid in ("priority_areas", "least_important_areas") and a.priorities is not None:
            continue
        text = a.survey.question(qid).text
        figs.append((text, bar_svg(df["label"], df["count"], text, "Respondents choosing it")))
    for qid in a.likert:
        figs.append((a.survey.question(qid).text, a.charts[qid]))
    for qid, df in a.profile.items():
        if qid in {q.id for q in a.survey.questions if q.type in ("single_choice", "multi_choice")}:
            text = a.survey.question(qid).text
            figs.append((text, bar_svg(df["label"], df["count"], text, "Respondents")))
    return [(f"Figure {i}: {title}", svg) for i, (title, svg) in enumerate(figs, 1)]


# ---------------------------------------------------------------------------------------------
# The whole analysis, for the command line and reports


@dataclass
class SurveyAnalysis:
    """Every analysis of a set of responses: one table per question, Likert charts as SVG.

    ``rankings``: :func:`rank_summary` per rank question; ``choices``: :func:`choice_counts` per
    multi- and single-choice question; ``priorities``: :func:`priorities` when the survey has the
    ``priority_areas`` and ``least_important_areas`` questions; ``likert``: :func:`likert_summary`
    per Likert question; ``charts``: :func:`diverging_likert_svg` per Likert question.
    """

    survey: Survey
    n_respondents: int
    source: str
    synthetic: bool
    rankings: dict[str, pd.DataFrame]
    choices: dict[str, pd.DataFrame]
    priorities: pd.DataFrame | None
    likert: dict[str, pd.DataFrame]
    charts: dict[str, str]
    profile: dict[str, pd.DataFrame] = field(default_factory=dict)


def analyse(
    responses: pd.DataFrame, survey: Survey, source: str = "", synthetic: bool = False
) -> SurveyAnalysis:
    """Run every analysis the instrument supports on validated ``responses``."""
    rankings = {q.id: rank_summary(responses, survey, q.id) for q in survey.questions if q.type == "rank"}
    choices = {
        q.id: choice_counts(responses, survey, q.id)
        for q in survey.questions
        if q.type in ("multi_choice", "single_choice") and q.section != "profile"
    }
    ids = {q.id: q.type for q in survey.questions}
    prio = (
        priorities(responses, survey)
        if ids.get("priority_areas") == "multi_choice" and ids.get("least_important_areas") == "multi_choice"
        else None
    )
    likert = {q.id: likert_summary(responses, survey, q.id) for q in survey.questions if q.type == "likert"}
    charts = {qid: diverging_likert_svg(responses, survey, qid) for qid in likert}
    profile = workforce_profile(responses, survey)
    return SurveyAnalysis(
        survey, len(responses), source, synthetic, rankings, choices, prio, likert, charts, profile
    )


def _html_table(df: pd.DataFrame) -> str:
    import html

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for v in r:
            if isinstance(v, float):
                v = "" if np.isnan(v) else f"{v:,.2f}"
            cells.append(f"<td>{html.escape(str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _profile_title(a: SurveyAnalysis, name: str) -> str:
    fixed = {"fte_by_role": "Full-time equivalent by role", "fte_by_funding_source": "Full-time equivalent by "
             "main funding source of the post", "role_by_funding_source": "Respondents by role and main funding "
             "source of the post"}  # fmt: skip
    if name in fixed:
        return fixed[name]
    return a.survey.question(name).text


def render_html(a: SurveyAnalysis) -> str:
    """One self-contained HTML page (inline CSS and SVG, nothing fetched): numbered figures, the
    tables behind them and the workforce profile, all with readable headings."""
    import html

    from diogel.resources.charts import svg_for_html

    parts = [
        "<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>",
        f"<title>{html.escape(a.survey.title)}</title><style>",
        "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:10pt;max-width:60em;margin:1.5em auto;"
        "padding:0 1em;color:#1a1a1a}table{border-collapse:collapse;margin:.5em 0;font-size:9pt}"
        "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}thead th{background:#eef2f6}"
        ".synthetic{border:2px solid #D55E00;background:#fff3e8;padding:.5em .8em;font-weight:bold}"
        "svg{max-width:100%;height:auto}h2{border-bottom:1px solid #bbb}figure{margin:1em 0}",
        "</style></head><body>",
        f"<h1>{html.escape(a.survey.title)}</h1>",
    ]
    if a.synthetic:
        parts.append(
            "<p class='synthetic'>SYNTHETIC DATA: these responses are invented (generated by "
            "diogel.resources.survey.make_synthetic_responses); they are not survey data.</p>"
        )
    parts.append(f"<p>{a.n_respondents} respondents; responses: {html.escape(a.source)}.</p>")
    parts.append("<h2>Figures</h2>")
    for i, (title, svg) in enumerate(_figures(a), 1):
        parts.append(
            f"<figure>{svg_for_html(svg, f'figure-{i}')}<figcaption>{html.escape(title)}</figcaption></figure>"
        )
    if a.profile:
        parts.append("<h2>Workforce profile</h2>")
        for name, df in a.profile.items():
            parts += [
                f"<h3>{html.escape(_profile_title(a, name))}</h3>",
                _html_table(readable(df.drop(columns="item", errors="ignore"))),
            ]
    parts.append("<h2>Tables</h2>")
    for qid, df in a.rankings.items():
        q = a.survey.question(qid)
        parts += [f"<h3>{html.escape(q.text)}</h3>", "<p>Ordered by points: each respondent gives an item n - rank "
                  "points (n items); mean rank 1 = most important.</p>", _html_table(readable(df.drop(columns="item")))]  # fmt: skip
    if a.priorities is not None:
        parts += [
            "<h3>Top and lowest priorities</h3>",
            _html_table(readable(a.priorities.drop(columns="item"))),
        ]
    for qid, df in a.choices.items():
        if qid in ("priority_areas", "least_important_areas") and a.priorities is not None:
            continue
        parts += [
            f"<h3>{html.escape(a.survey.question(qid).text)}</h3>",
            _html_table(readable(df.drop(columns="item"))),
        ]
    for qid, df in a.likert.items():
        q = a.survey.question(qid)
        parts += [f"<h3>{html.escape(q.text)}</h3>", _html_table(readable(df.drop(columns="item"), q.scale))]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_analysis(a: SurveyAnalysis, out_dir: str | Path) -> list[Path]:
    """Write one CSV per table (readable headings), one SVG per figure and ``survey_report.html`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []

    def csv_out(name: str, df: pd.DataFrame) -> None:
        p = out / name
        df.to_csv(p, index=False, lineterminator="\n", float_format="%.6f")
        paths.append(p)

    for qid, df in a.rankings.items():
        csv_out(f"rank_{qid}.csv", readable(df))
    if a.priorities is not None:
        csv_out("priorities.csv", readable(a.priorities))
    for qid, df in a.choices.items():
        csv_out(f"choices_{qid}.csv", readable(df))
    for qid, df in a.likert.items():
        csv_out(f"likert_{qid}.csv", readable(df, a.survey.question(qid).scale))
        p = out / f"likert_{qid}.svg"
        p.write_text(a.charts[qid], encoding="utf-8")
        paths.append(p)
    for name, df in a.profile.items():
        csv_out(f"profile_{name}.csv", readable(df))
    for i, (_, svg) in enumerate(_figures(a), 1):
        p = out / f"figure_{i}.svg"
        p.write_text(svg, encoding="utf-8")
        paths.append(p)
    p = out / "survey_report.html"
    p.write_text(render_html(a), encoding="utf-8")
    paths.append(p)
    return paths
