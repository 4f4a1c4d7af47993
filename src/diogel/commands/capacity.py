"""``diogel capacity``: the capacity ledger template, and checking a ledger for double counting."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from diogel.commands._common import err, fail, out
from diogel.errors import DiogelError

if TYPE_CHECKING:
    import pandas as pd

    from diogel.resources.ledger import Ledger
    from diogel.warehouse.protocol import Warehouse

capacity_app = typer.Typer(
    help="The capacity ledger: funding lines and posts per partnership, double-counting checks, indicators.",
    no_args_is_help=True,
)


def _wide_print(table: Table) -> None:
    from rich.console import Console

    # Piped output (a log, a file) gets room for every column rather than an 80-column squeeze.
    (out if out.is_terminal else Console(width=200, highlight=False)).print(table)


def _fmt(x: object, kind: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "unknown"
    v = float(x)  # type: ignore[arg-type]
    if kind == "money":
        return f"£{v:,.2f}"
    if kind == "pct":
        return f"{v:.0%}"
    return f"{v:,.2f}"


def template(
    dest: Annotated[Path, typer.Option("--out", help="Where to write the template (.csv or .xlsx).")] = Path(
        "capacity_ledger.csv"
    ),
) -> None:
    """Write an empty capacity ledger (header only) to fill in: one row per funding line or post."""
    from importlib import resources

    from diogel.resources.ledger import COLUMNS

    src = resources.files("diogel.resources") / "templates" / "capacity_ledger_template.csv"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.suffix.lower() == ".xlsx":
            from openpyxl import Workbook

            wb = Workbook()
            ws = wb.active
            ws.title = "ledger"
            ws.append(list(COLUMNS))
            wb.save(dest)
        elif dest.suffix.lower() == ".csv":
            with resources.as_file(src) as path:
                shutil.copyfile(path, dest)
        else:
            raise DiogelError(f"{dest}: the template is written as .csv or .xlsx")
    except (DiogelError, OSError) as exc:
        fail(exc)
    out.print(f"wrote {escape(str(dest))}", highlight=False)
    out.print(
        "one row per funding line (record_type = funding) or post (record_type = post); columns are "
        "described in diogel.resources.ledger; check it with: diogel capacity check "
        f"{escape(str(dest))}",
        highlight=False,
        soft_wrap=True,
    )


def _population_context(
    wh: Warehouse, ledger: Ledger, names: list[str], stats_year: int | None, notes: list[str]
) -> pd.DataFrame | None:
    """Population and recorded crime of each partnership for the per-head and per-crime indicators
    (None when no population is loaded); what was used is added to ``notes``."""
    from diogel.resources.indicators import la_indicators, partnership_context, population_years

    years = population_years(wh)
    if not years:
        notes.append(
            "no population is loaded, so no per-head or per-crime indicators "
            "(run 'diogel init --reference wales')"
        )
        return None
    year = stats_year if stats_year is not None else years[-1]
    if year not in years:
        raise DiogelError(f"no mid-{year} population is loaded (loaded: {', '.join(map(str, years))})")
    ind = la_indicators(wh, year)
    context = partnership_context(wh, names, ind)
    ledger_years = sorted(set(ledger.funding["year"]) | set(ledger.posts["year"]))
    notes.append(
        f"population: ONS mid-{year} estimates (the ledger covers "
        f"{', '.join(f'{y}/{(y + 1) % 100:02d}' for y in ledger_years)})"
    )
    notes += [n for n in ind.notes if n.startswith(("recorded crime", "no police"))]
    return context


def _print_flags(flags: pd.DataFrame) -> None:
    if flags.empty:
        out.print("[green]no double counting found[/green]")
    else:
        t = Table("check", "partnership", "year", "item", "rows", "detail", title="double-counting flags")
        for r in flags.itertuples(index=False):
            t.add_row(r.check, r.partnership, str(r.year), r.item, r.rows, r.detail)
        _wide_print(t)


def _print_indicators(indicators: pd.DataFrame) -> None:
    cols = [
        ("funding counted", "funding_counted", "money"),
        ("claimed", "funding_claimed", "money"),
        ("FTE", "fte", "num"),
        ("per head", "funding_per_head", "money"),
        ("per crime", "funding_per_crime", "money"),
        ("staff per 100k", "fte_per_100k", "num"),
        ("annual grants", "annual_grant_share", "pct"),
        ("SMAF", "smaf_share", "pct"),
        ("fixed-term FTE", "fte_fixed_term_share", "pct"),
    ]
    cols = [c for c in cols if c[1] in indicators.columns]
    t = Table("partnership", "year", *[c[0] for c in cols], title="capacity indicators")
    for r in indicators.to_dict(orient="records"):
        cells = [_fmt(r[c], kind) for _, c, kind in cols]
        if "funding_per_crime" in r and not r.get("police_data", True):
            cells[[c[1] for c in cols].index("funding_per_crime")] = "[yellow]no police data[/yellow]"
        t.add_row(str(r["partnership"]), f"{r['year']}/{(r['year'] + 1) % 100:02d}", *cells)
    _wide_print(t)


def _write_check(out_dir: Path, flags: pd.DataFrame, indicators: pd.DataFrame, notes: list[str]) -> None:
    """flags.csv, indicators.csv and notes.txt in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    flags.to_csv(out_dir / "flags.csv", index=False, lineterminator="\n")
    indicators.to_csv(out_dir / "indicators.csv", index=False, lineterminator="\n", float_format="%.6f")
    (out_dir / "notes.txt").write_text("\n".join(notes) + "\n", encoding="utf-8")
    for name in ("flags.csv", "indicators.csv", "notes.txt"):
        out.print(f"wrote {escape(str(out_dir / name))}", highlight=False)


def check(
    ctx: typer.Context,
    ledger_path: Annotated[Path, typer.Argument(help="A capacity ledger, .csv or .xlsx.")],
    sheet: Annotated[str | None, typer.Option(help="Worksheet (default 'ledger', else the first).")] = None,
    core_threshold: Annotated[
        float, typer.Option(help="Flag core-service budgets above this share of tagged funding.")
    ] = 0.10,
    stats_year: Annotated[
        int | None, typer.Option(help="Population year (default: the latest loaded).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Also write flags.csv and indicators.csv here.")
    ] = None,
) -> None:
    """Double-counting flags and capacity indicators (per head, per crime, staff per 100,000, grant shares)."""
    from diogel.resources.ledger import capacity_indicators, check_double_counting, read_ledger

    notes: list[str] = []
    try:
        ledger = read_ledger(ledger_path, sheet)
        flags = check_double_counting(ledger, core_threshold)
        names = sorted(set(ledger.funding["partnership"]) | set(ledger.posts["partnership"]))
        if not names:
            out.print(
                f"{escape(str(ledger_path))}: the ledger has no funding lines or posts yet", highlight=False
            )
            return
        with ctx.obj.open(read_only=True) as wh:
            context = _population_context(wh, ledger, names, stats_year, notes)
        indicators = capacity_indicators(
            ledger, context[["partnership", "population", "recorded_crime"]] if context is not None else None
        )
        if context is not None:
            indicators = indicators.merge(
                context[["partnership", "area_code", "police_data", "note"]], on="partnership", how="left"
            )
    except (DiogelError, ValueError) as exc:
        fail(exc)

    out.print(
        f"[bold]{escape(str(ledger_path))}[/bold]: {len(ledger.funding)} funding line(s), "
        f"{len(ledger.posts)} post row(s), {len(names)} partnership(s)",
        highlight=False,
    )
    _print_flags(flags)
    _print_indicators(indicators)
    out.print(
        "funding counted = funding tagged as community safety, each budget line once, core-service budgets "
        "excluded; annual grants = BSC, BCU, SCF and SMAF",
        style="dim",
        highlight=False,
        soft_wrap=True,
    )
    for n in notes:
        out.print(f"  [dim]-[/dim] {escape(n)}", highlight=False, soft_wrap=True)
    if out_dir is not None:
        _write_check(out_dir, flags, indicators, notes)
    if not flags.empty:
        err.print(f"[yellow]{len(flags)} double-counting flag(s)[/yellow]")


def register(app: typer.Typer) -> None:
    capacity_app.command("template")(template)
    capacity_app.command("check")(check)
    app.add_typer(capacity_app, name="capacity")
