"""The ``diogel`` command line: a thin front door over the Python API."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from diogel import __version__
from diogel.errors import DiogelError

app = typer.Typer(
    name="diogel",
    help="Partnership intelligence for Community Safety Partnerships: warehouse, analysis and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()


class Settings:
    def __init__(self, data_dir: Path | None, warehouse: str | None):
        self.data_dir = data_dir
        self.warehouse = warehouse

    def open(self):  # noqa: ANN201
        from diogel.warehouse.core import Warehouse

        return Warehouse(self.warehouse, self.data_dir)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", envvar="DIOGEL_DATA_DIR", help="Data directory (default ./diogel-data)."),
    ] = None,
    warehouse: Annotated[
        str | None,
        typer.Option(
            "--warehouse",
            envvar="DIOGEL_WAREHOUSE",
            help="Warehouse URL: duckdb (default), postgresql://user@host/db or spark://local[2].",
        ),
    ] = None,
) -> None:
    ctx.obj = Settings(data_dir, warehouse)


@contextmanager
def _progress(description: str):  # noqa: ANN202
    """A Rich progress bar on stderr that only appears once a step has taken more than a second."""
    started = time.monotonic()
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[item]}", style="dim"),
        console=err,
        transient=True,
    )
    task = bar.add_task(description, total=None, item="")
    shown = False

    def update(done: int, total: int, item: str) -> None:
        nonlocal shown
        if not shown and time.monotonic() - started > 1.0:
            bar.start()
            shown = True
        bar.update(task, completed=done, total=total, item=Path(item).name[:50] if item else "")

    try:
        yield update
    finally:
        if shown:
            bar.stop()


def _fail(exc: Exception) -> None:
    err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _report(results: list, show_problems: int = 5) -> int:
    """Print what happened to each file; return the number of files refused."""
    refused = 0
    totals = dict(read=0, loaded=0, duplicates=0, quarantined=0)
    for r in results:
        style = {"loaded": "green", "already loaded": "dim", "refused": "red"}[r.status]
        out.print(f"[{style}]{escape(r.summary())}[/{style}]", highlight=False, soft_wrap=True)
        for p in r.problems[:show_problems]:
            err.print(f"  quarantined {escape(str(p))}", highlight=False, soft_wrap=True)
        if len(r.problems) > show_problems:
            err.print(
                f"  ... and {len(r.problems) - show_problems} more (diogel status --json, table quarantine)"
            )
        if r.status == "refused":
            refused += 1
        elif r.status == "loaded":
            totals["read"] += r.rows_read
            totals["loaded"] += r.loaded or 0
            totals["duplicates"] += r.duplicates or 0
            totals["quarantined"] += r.quarantined
    loaded = sum(1 for r in results if r.status == "loaded")
    if len(results) > 1 or loaded:
        out.print(
            f"[bold]{loaded} file(s) loaded, {sum(r.status == 'already loaded' for r in results)} already loaded, "
            f"{refused} refused: rows read {totals['read']:,} = loaded {totals['loaded']:,} + duplicates "
            f"{totals['duplicates']:,} + quarantined {totals['quarantined']:,}[/bold]",
            highlight=False,
            soft_wrap=True,
        )
    return refused


@app.command()
def init(
    ctx: typer.Context,
    reference: Annotated[
        str | None,
        typer.Option(help="Load a bundled reference set: 'wales' (geography, population, WIMD, harm)."),
    ] = None,
) -> None:
    """Create a warehouse, optionally loading the bundled all-Wales reference data."""
    try:
        with ctx.obj.open() as wh:
            out.print(f"warehouse ready: {wh.backend.name} in {escape(str(wh.data_dir.resolve()))}")
            if reference:
                from diogel.warehouse.reference import load_reference

                with _progress(f"loading reference data ({reference})") as update:
                    results = load_reference(wh, reference, update)
                raise typer.Exit(1 if _report(results) else 0)
    except DiogelError as exc:
        _fail(exc)


def _kind_help() -> str:
    from diogel.sources.registry import kinds

    return "; ".join(f"{k.name}: {k.description}" for k in kinds().values())


@app.command()
def ingest(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="Source kind (see 'diogel kinds').")],
    path: Annotated[Path, typer.Argument(help="A file, a folder tree of monthly files, or a zip archive.")],
    year: Annotated[
        int | None, typer.Option(help="Year of a population estimate or deprivation index.")
    ] = None,
    vintage: Annotated[
        int | None, typer.Option(help="LSOA vintage (2011 or 2021) when the header does not say.")
    ] = None,
    index: Annotated[str | None, typer.Option(help="Name of a deprivation index, e.g. 'WIMD 2019'.")] = None,
) -> None:
    """Validate and load files. Prints, per file: rows read = loaded + duplicates + quarantined."""
    options = {k: v for k, v in dict(year=year, lsoa_vintage=vintage, index=index).items() if v is not None}
    try:
        with ctx.obj.open() as wh, _progress(f"ingesting {kind}") as update:
            results = wh.ingest(kind, path, options=options, progress=update)
    except DiogelError as exc:
        _fail(exc)
    refused = _report(results)
    raise typer.Exit(1 if refused else 0)


@app.command()
def kinds() -> None:
    """List the source kinds diogel can ingest."""
    from diogel.sources.registry import kinds as registered

    for k in registered().values():
        out.print(
            f"[bold]{k.name}[/bold]  {k.description}  (files: {', '.join(k.patterns)})", highlight=False
        )


@app.command()
def status(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """What is loaded, per file: rows read, loaded, duplicates, quarantined, months covered."""
    try:
        with ctx.obj.open() as wh:
            df = wh.status()
    except DiogelError as exc:
        _fail(exc)
    if as_json:
        records = []
        for row in df.to_dict(orient="records"):
            row["committed_at"] = str(row["committed_at"])
            records.append(
                {
                    k: (int(v) if hasattr(v, "item") and isinstance(v.item(), int) else v)
                    for k, v in row.items()
                }
            )
        sys.stdout.write(
            json.dumps({"diogel_version": __version__, "files": records}, indent=2, default=str) + "\n"
        )
        return
    table = Table("kind", "file", "rows read", "loaded", "duplicates", "quarantined", "months")
    for r in df.itertuples():
        months = (
            f"{r.month_min}..{r.month_max}"
            if r.month_min and r.month_min != r.month_max
            else (r.month_min or "")
        )
        table.add_row(
            r.kind,
            r.name,
            f"{r.rows_read:,}",
            f"{r.loaded:,}",
            f"{r.duplicates:,}",
            f"{r.quarantined:,}",
            months,
        )
    out.print(table)
    if df.empty:
        out.print(
            "nothing loaded yet: try 'diogel init --reference wales' or 'diogel ingest police-street PATH'"
        )


@app.command()
def counts(
    ctx: typer.Context,
    by: Annotated[
        str, typer.Option(help="Comma-separated: la, csp, force, ward, lsoa, month, crime_type.")
    ] = "la,month,crime_type",
    area: Annotated[
        str | None, typer.Option(help="Only this area (code or name of an LA, CSP, force, ward or LSOA).")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
) -> None:
    """Counts of crimes and ASB under the counting rules, as CSV on stdout."""
    from diogel.warehouse.queries import counts as counts_frame

    try:
        with ctx.obj.open() as wh:
            df = counts_frame(wh, [b.strip() for b in by.split(",") if b.strip()], area, start, end)
    except DiogelError as exc:
        _fail(exc)
    df.to_csv(sys.stdout, index=False, lineterminator="\n")


@app.command()
def demo(ctx: typer.Context) -> None:
    """Build a warehouse from the bundled data (no network needed) and show what it holds."""
    from diogel.warehouse.queries import counts as counts_frame
    from diogel.warehouse.reference import demo_police_archive, load_reference

    try:
        with ctx.obj.open() as wh:
            out.print(
                f"[bold]diogel demo[/bold]: warehouse {wh.backend.name} in {escape(str(wh.data_dir.resolve()))}"
            )
            out.print("1. all-Wales reference data: geography, population, WIMD 2019, harm weights")
            with _progress("reference data") as update:
                _report(load_reference(wh, "wales", update), show_problems=2)
            out.print("2. police.uk street-level crime, Gwent, July 2024 to June 2025 (archive zip)")
            with _progress("police.uk") as update:
                _report(wh.ingest("police-street", demo_police_archive(), progress=update), show_problems=2)
            df = counts_frame(wh, ["la", "crime_type"])
            from diogel.warehouse.geography import lsoa_membership

            names = wh.execute(lsoa_membership(wh).select("la_code", "la_name").distinct())
            names = dict(zip(names.la_code, names.la_name, strict=True))
            totals = df.groupby("la", dropna=False)["count"].sum().sort_values(ascending=False)
            table = Table(
                "local authority", "crimes and ASB, 2024-07..2025-06", title="3. counts by LSOA membership"
            )
            for la, n in totals.head(8).items():
                label = (
                    f"{names.get(la, la)} ({la})" if isinstance(la, str) else "no location / outside lookups"
                )
                table.add_row(label, f"{n:,}")
            out.print(table)
            out.print(
                f"data directory: {wh.data_dir.resolve()}  (try: diogel --data-dir {wh.data_dir} status)"
            )
    except DiogelError as exc:
        _fail(exc)


def run() -> None:  # pragma: no cover - console entry for python -m
    app()


if __name__ == "__main__":  # pragma: no cover
    run()
