"""``diogel survey``: analyse workforce survey responses (rankings, priorities, Likert charts)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from diogel.commands._common import err, fail, out
from diogel.errors import DiogelError

if TYPE_CHECKING:
    from diogel.resources.survey import Survey
    from diogel.resources.survey_report import SurveyAnalysis

survey_app = typer.Typer(
    help="The community safety workforce survey: analyse responses.", no_args_is_help=True
)


def _synthetic_responses() -> Path:
    from importlib import resources

    return Path(str(resources.files("diogel.resources") / "templates" / "synthetic_survey_responses.csv"))


def _print_rankings(result: SurveyAnalysis, survey: Survey) -> None:
    """Each ranking question's items by points, noting when the mean-rank order differs."""
    for qid, t in result.rankings.items():
        title = f"{survey.question(qid).text} (by points: n - rank from each respondent)"
        table = Table("item", "points", "mean rank", "top three", "respondents who ranked it", title=title)
        for r in t.itertuples(index=False):
            mean = "" if math.isnan(r.mean_rank) else f"{r.mean_rank:.2f}"
            table.add_row(r.label, str(r.borda), mean, str(r.top3), str(r.n_ranked))
        out.print(table)
        borda = list(t.sort_values(["borda_position", "item"])["item"])
        mean = list(t.sort_values(["mean_rank_position", "item"])["item"])
        if borda != mean:
            out.print("  [dim]mean-rank order differs from the order by points[/dim]")


def _print_choices(result: SurveyAnalysis, survey: Survey) -> None:
    """Top and lowest priorities, then each other choice question's three most chosen answers."""
    if result.priorities is not None:
        p = result.priorities

        def said(rows) -> str:  # noqa: ANN001
            return "; ".join(
                f"{r.label} (priority {r.priority_count}, least important {r.least_count}, net {r.net:+d})"
                for r in rows.itertuples()
            )

        out.print(f"top priorities: {escape(said(p.head(3)))}", highlight=False, soft_wrap=True)
        out.print(f"lowest priorities: {escape(said(p.tail(3).iloc[::-1]))}", highlight=False, soft_wrap=True)
    for qid, t in result.choices.items():
        if qid in ("priority_areas", "least_important_areas") and result.priorities is not None:
            continue
        top = "; ".join(f"{r.label} ({r.count}, {r.share:.0%})" for r in t.head(3).itertuples())
        out.print(
            f"{escape(survey.question(qid).text)} most chosen: {escape(top)}", highlight=False, soft_wrap=True
        )


def _print_likert(result: SurveyAnalysis, survey: Survey) -> None:
    """Each Likert question's items, most positive first."""
    for qid, t in result.likert.items():
        table = Table(
            "item",
            "answers",
            "% negative",
            "% neutral",
            "% positive",
            "mean",
            title=survey.question(qid).text,
        )
        for r in t.sort_values("pct_positive", ascending=False).itertuples(index=False):
            table.add_row(
                r.label, str(r.n), f"{r.pct_negative:.0f}", f"{r.pct_neutral:.0f}", f"{r.pct_positive:.0f}",
                f"{r.mean:.2f}",
            )  # fmt: skip
        out.print(table)


def _print_profile(result: SurveyAnalysis, survey: Survey) -> None:
    """The workforce profile: the three commonest answers of each question, and the FTE total."""
    prof = result.profile
    if prof:
        out.print("[bold]workforce profile[/bold]", highlight=False)
        for name in ("role", "grade", "funding_source", "time_in_post", "qualifications", "training_needs"):
            if name in prof:
                top = "; ".join(
                    f"{r.label} ({r.count}, {r.share:.0%})" for r in prof[name].head(3).itertuples()
                )
                out.print(
                    f"{escape(survey.question(name).text)} {escape(top)}", highlight=False, soft_wrap=True
                )
        if "fte" in prof:
            f = prof["fte"].iloc[0]
            out.print(f"full-time equivalent: {f['total']:.1f} over {int(f['answered'])} posts (mean {f['mean']:.2f})",
                      highlight=False)  # fmt: skip


def analyse(
    responses: Annotated[
        Path | None,
        typer.Argument(
            help="Responses CSV, one row per respondent; default: the bundled SYNTHETIC responses."
        ),
    ] = None,
    questions: Annotated[
        Path | None, typer.Option(help="Survey instrument YAML (default: the bundled questions).")
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the CSVs, SVG charts and HTML.")] = Path(
        "diogel-out"
    ),
) -> None:
    """Rankings, top and lowest priorities, Likert bars, the workforce profile and numbered figures."""
    from diogel.resources.survey import load_questions, read_responses
    from diogel.resources.survey_report import analyse as run
    from diogel.resources.survey_report import write_analysis

    synthetic = responses is None
    path = _synthetic_responses() if synthetic else responses
    if synthetic:
        err.print(
            "[yellow]no responses file given: analysing the bundled SYNTHETIC responses (invented, not survey "
            "data)[/yellow]",
            highlight=False,
            soft_wrap=True,
        )
    try:
        survey = load_questions(questions)
        df = read_responses(path, survey)
        result = run(df, survey, str(path), synthetic)
        paths = write_analysis(result, out_dir)
    except (DiogelError, ValueError, OSError) as exc:
        fail(exc)
    out.print(
        f"[bold]{escape(survey.title)}[/bold]: {result.n_respondents} respondents"
        + (" [yellow](SYNTHETIC)[/yellow]" if synthetic else ""),
        highlight=False,
    )
    _print_rankings(result, survey)
    _print_choices(result, survey)
    _print_likert(result, survey)
    _print_profile(result, survey)
    for p in paths:
        out.print(f"wrote {escape(str(p))}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    survey_app.command("analyse")(analyse)
    app.add_typer(survey_app, name="survey")
