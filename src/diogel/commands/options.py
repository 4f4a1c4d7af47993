"""``diogel options``: the options-for-change report (fund to a standard, lower it, or amalgamate)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from diogel.commands._common import err, fail, out, output_language
from diogel.errors import DiogelError

if TYPE_CHECKING:
    from diogel.resources.options_report import OptionsResult


def options(
    ctx: typer.Context,
    ledger: Annotated[
        Path | None,
        typer.Option(help="Capacity ledger (.csv or .xlsx); default: the bundled SYNTHETIC ledger."),
    ] = None,
    metric: Annotated[
        str, typer.Option(help="Capacity measure: fte_per_100k (staff per 100,000) or funding_per_head.")
    ] = "fte_per_100k",
    standard: Annotated[float, typer.Option(help="The capacity standard, in units of --metric.")] = 3.0,
    lowered: Annotated[float, typer.Option(help="The lowered standard for option (ii).")] = 2.0,
    cost_per_fte: Annotated[
        float, typer.Option(help="Annual cost of one FTE with on-costs, to price a staffing shortfall.")
    ] = 40_000.0,
    min_population: Annotated[
        float, typer.Option(help="Smallest population of an amalgamated group, option (iii).")
    ] = 200_000.0,
    seed: Annotated[int, typer.Option(help="Seed for the max-p heuristic (same seed, same groups).")] = 0,
    stats_year: Annotated[
        int | None, typer.Option(help="Population year (default: the latest loaded).")
    ] = None,
    year: Annotated[
        int | None, typer.Option(help="Ledger financial year, 2007 = 2007/08 (default: its latest).")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the HTML and PDF report and CSVs.")
    ] = Path("diogel-out"),
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write the PDF (WeasyPrint).")] = True,
    language: Annotated[
        str,
        typer.Option(help="Language of the report: en, cy (Cymraeg) or both (one document, Welsh first)."),
    ] = "en",
) -> None:
    """Compare three options side by side: (i) fund every partnership to a standard, (ii) lower the
    standard, (iii) amalgamate contiguous local authorities (max-p), with maps; writes HTML and PDF."""
    from diogel.report.i18n import language as report_language
    from diogel.resources.options_report import OptionsSettings, build_options, write_report

    lang = output_language(language)
    try:
        settings = OptionsSettings(
            metric=metric,
            standard=standard,
            lowered=lowered,
            cost_per_fte=cost_per_fte,
            min_population=min_population,
            seed=seed,
            population_year=stats_year,
            year=year,
        )
        if ledger is None:
            err.print(
                "[yellow]no --ledger given: using the bundled SYNTHETIC capacity ledger "
                "(invented figures for five partnerships)[/yellow]",
                highlight=False,
                soft_wrap=True,
            )
        # The maps are drawn while the options are built, so the whole run is in the chosen language;
        # a bilingual report is built in English (its CSVs) and written in Welsh, then English.
        with report_language("en" if lang == "both" else lang):
            with ctx.obj.open(read_only=True) as wh:
                result = build_options(wh, ledger, settings)
            paths = write_report(result, out_dir, pdf=pdf, bilingual=lang == "both")
    except (DiogelError, ValueError, OSError) as exc:
        fail(exc)
    _print_result(result, seed, paths)


def _print_result(result: OptionsResult, seed: int, paths: list[Path]) -> None:
    """The side-by-side table, the groups of option (iii), the notes and the files written."""
    table = Table("", *result.summary.columns, title="Options for change, side by side", show_lines=True)
    for measure, row in result.summary.iterrows():
        table.add_row(str(measure), *[escape(str(v)) for v in row])
    from rich.console import Console

    # Piped output (a log, a file) gets room for every column rather than an 80-column squeeze.
    (out if out.is_terminal else Console(width=160, highlight=False)).print(table)
    g = result.groups
    out.print(
        f"option (iii) groups (seed {seed}): "
        + "; ".join(f"{r.group}: {r.area_names} ({r.population:,.0f})" for r in g.itertuples()),
        highlight=False,
        soft_wrap=True,
    )
    for n in result.notes:
        out.print(f"  [dim]-[/dim] {escape(n)}", highlight=False, soft_wrap=True)
    for p in paths:
        out.print(f"wrote {escape(str(p))}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("options")(options)
