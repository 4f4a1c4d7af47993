"""``diogel funding``: allocate a grant formula's pot between partnerships, and compare formulas."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from diogel.commands._common import err, fail, out, output_language
from diogel.errors import DiogelError

if TYPE_CHECKING:
    from diogel.resources.funding import Allocation

funding_app = typer.Typer(
    help="Grant formulas (presets scf, smaf, needs, or a YAML file): allocate a pot, compare two formulas.",
    no_args_is_help=True,
)

YEAR_HELP = "Financial year of the pot: 2005 = 2005/06 (default: the formula's latest pot)."
OUT_HELP = "Folder for the CSV, notes and charts."
MISSING_HELP = (
    "When some areas have no police data: 'drop' leaves crime-based components out (shares rescaled, "
    "said in the output); 'fail' refuses."
)


LANGUAGE_HELP = (
    "Language of the notes and charts: en, cy (Cymraeg) or both (the notes in Welsh then English, each "
    "chart in both: .cy.svg, .en.svg); the CSV files are data."
)


def _money(x: float | None, fine: bool = False) -> str:
    """``-£1,234.56``; with ``fine``, amounts under £1 keep four decimals (changes per head are pennies)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "unknown"
    digits = 4 if fine and abs(x) < 1 else 2
    return f"{'-' if x < 0 else ''}£{abs(x):,.{digits}f}"


def _window(start: str | None, end: str | None):  # noqa: ANN202
    from diogel.resources.indicators import CrimeWindow

    if start is None and end is None:
        return None
    if start is None or end is None:
        raise DiogelError("give both --crime-from and --crime-to (YYYY-MM), or neither")
    return CrimeWindow(start, end)


def _print_table(table: Table) -> None:
    from rich.console import Console

    # Piped output (a log, a file) gets room for every column rather than an 80-column squeeze.
    (out if out.is_terminal else Console(width=200, highlight=False)).print(table)


def _notes(notes: list[str]) -> None:
    for n in notes:
        out.print(f"  [dim]-[/dim] {escape(n)}", highlight=False, soft_wrap=True)


def _written(paths: list[Path]) -> None:
    for p in paths:
        out.print(f"wrote {escape(str(p))}", highlight=False, soft_wrap=True)


def allocate(
    ctx: typer.Context,
    formula: Annotated[str, typer.Argument(help="Preset (scf, smaf, needs) or a formula YAML file.")],
    year: Annotated[int | None, typer.Option(help=YEAR_HELP)] = None,
    out_dir: Annotated[Path, typer.Option("--out", help=OUT_HELP)] = Path("diogel-out"),
    statistics: Annotated[
        str,
        typer.Option(
            help="'frozen' (the formula's base year, else the earliest loaded), 'current' (the latest "
            "loaded) or 'auto' (frozen if the formula has a base year)."
        ),
    ] = "auto",
    stats_year: Annotated[
        int | None, typer.Option(help="Population year to use (overrides --statistics).")
    ] = None,
    crime_from: Annotated[str | None, typer.Option(help="First month of police data, YYYY-MM.")] = None,
    crime_to: Annotated[str | None, typer.Option(help="Last month of police data, YYYY-MM.")] = None,
    missing_crime: Annotated[str, typer.Option(help=MISSING_HELP)] = "drop",
    extra: Annotated[
        Path | None,
        typer.Option(
            help="CSV of further indicators by area_code (e.g. prisoners_released) for the formula."
        ),
    ] = None,
    language: Annotated[str, typer.Option(help=LANGUAGE_HELP)] = "en",
) -> None:
    """Allocate a formula's pot for one financial year between the partnerships; writes one CSV row per area."""
    import pandas as pd

    from diogel.report.i18n import language as report_language
    from diogel.resources.funding import allocate_from_warehouse
    from diogel.resources.funding_output import write_allocation

    frozen = {"auto": None, "frozen": True, "current": False}.get(statistics, "bad")
    try:
        if frozen == "bad":
            raise DiogelError(f"--statistics takes auto, frozen or current, not {statistics!r}")
        extra_frame = pd.read_csv(extra, dtype={"area_code": str}) if extra else None
        with ctx.obj.open(read_only=True) as wh:
            alloc = allocate_from_warehouse(
                wh,
                formula,
                year,
                frozen=frozen,  # type: ignore[arg-type]
                population_year=stats_year,
                window=_window(crime_from, crime_to),
                missing_crime=missing_crime,
                extra=extra_frame,
            )
        lang = output_language(language)
        # The notes' and the chart's words; the CSV columns stay data names. Both: Welsh, then English.
        with report_language("en" if lang == "both" else lang):
            paths = write_allocation(alloc, out_dir, bilingual=lang == "both")
    except (DiogelError, ValueError, OSError) as exc:
        fail(exc)
    _print_table(_allocation_table(alloc))
    if alloc.dropped:
        err.print(
            f"[yellow]note:[/yellow] {escape(', '.join(alloc.dropped))} left out: recorded crime is unknown "
            "for some areas (their police data is not loaded); see the notes",
            highlight=False,
            soft_wrap=True,
        )
    _notes(alloc.notes)
    _written(paths)


def _allocation_table(alloc: Allocation) -> Table:
    """One row per area: each component, the total, per head, per crime and whether police data is loaded."""
    from diogel.resources.funding import financial_year

    f = alloc.requested
    table = Table(
        "area",
        *[c.replace("_", " ") for c in alloc.components],
        "total",
        "per head",
        "per crime",
        "police data",
        title=f"{escape(f.title or f.name)}: {financial_year(alloc.year)}, pot £{f.pots[alloc.year]:,.2f}",
    )
    for r in alloc.table.itertuples(index=False):
        row = r._asdict()
        table.add_row(
            str(row["area_name"]),
            *[_money(row[c]) for c in alloc.components],
            _money(row["total"]),
            _money(row["per_head"]),
            _money(row["per_crime"]),
            "yes" if row["police_data"] else "[yellow]not loaded[/yellow]",
        )
    table.add_row(
        "[bold]total[/bold]",
        *[_money(alloc.table[c].sum()) for c in alloc.components],
        f"[bold]{_money(alloc.table['total_pence'].sum() / 100)}[/bold]",
        _money(alloc.table["total"].sum() / alloc.table["residents"].sum()),
        "",
        "",
    )
    return table


def compare(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Preset or formula file A (the reference).")],
    b: Annotated[
        str | None,
        typer.Argument(
            help="Preset or formula file B; leave out to compare A on frozen vs current statistics."
        ),
    ] = None,
    year: Annotated[int | None, typer.Option(help=YEAR_HELP)] = None,
    out_dir: Annotated[Path, typer.Option("--out", help=OUT_HELP)] = Path("diogel-out"),
    floor: Annotated[
        float | None,
        typer.Option(
            help="Damping floor: largest fractional loss allowed, e.g. -0.05 (default: B's damping)."
        ),
    ] = None,
    ceiling: Annotated[
        float | None, typer.Option(help="Damping ceiling: largest fractional gain allowed, e.g. 0.10.")
    ] = None,
    stats_a: Annotated[int | None, typer.Option(help="Population year for A.")] = None,
    stats_b: Annotated[int | None, typer.Option(help="Population year for B.")] = None,
    missing_crime: Annotated[str, typer.Option(help=MISSING_HELP)] = "drop",
    language: Annotated[str, typer.Option(help=LANGUAGE_HELP)] = "en",
) -> None:
    """Winners and losers moving from A to B: change, change per head and per crime, damping, a chart."""
    from diogel.report.i18n import language as report_language
    from diogel.resources.funding import compare_from_warehouse, financial_year
    from diogel.resources.funding_output import write_comparison

    try:
        with ctx.obj.open(read_only=True) as wh:
            cmp = compare_from_warehouse(
                wh, a, b, year, (stats_a, stats_b), floor=floor, ceiling=ceiling, missing_crime=missing_crime
            )
        lang = output_language(language)
        with report_language("en" if lang == "both" else lang):
            paths = write_comparison(cmp, out_dir, bilingual=lang == "both")
    except (DiogelError, ValueError, OSError) as exc:
        fail(exc)
    damped = cmp.damping is not None
    cols = ["area", "A", "B", "change", "change %", "per head", "per crime"]
    cols += ["damped", "damped change", ""] if damped else []
    table = Table(
        *cols,
        title=f"{escape(cmp.label_a)} -> {escape(cmp.label_b)}, {financial_year(cmp.b.year)}",
    )
    for r in cmp.table.to_dict(orient="records"):
        style = "green" if r["change"] > 0 else "red" if r["change"] < 0 else ""
        cells = [
            str(r["area_name"]),
            _money(r["total_a"]),
            _money(r["total_b"]),
            f"[{style}]{_money(r['change'])}[/{style}]" if style else _money(r["change"]),
            f"{r['change_pct']:+.2f}%",
            _money(r["change_per_head"], fine=True),
            _money(r["change_per_crime"], fine=True)
            if r["police_data"]
            else "[yellow]no police data[/yellow]",
        ]
        if damped:
            cells += [_money(r["damped_total"]), _money(r["damped_change"]), str(r["constraint"])]
        table.add_row(*cells)
    _print_table(table)
    _notes(cmp.notes)
    _written(paths)


def register(app: typer.Typer) -> None:
    funding_app.command("allocate")(allocate)
    funding_app.command("compare")(compare)
    app.add_typer(funding_app, name="funding")
