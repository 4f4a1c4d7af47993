"""The ``diogel`` command line: a thin front door over the Python API."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from diogel import __version__
from diogel.commands._common import Settings, err, fail, out, progress, report_results
from diogel.errors import DiogelError


class _App(typer.Typer):
    """The command line as a program: an error diogel did not foresee is still one line, not a traceback.

    Errors diogel foresees (bad input, a missing warehouse) are reported by each command with
    ``fail``; this is the last resort. ``DIOGEL_TRACEBACK=1`` shows the traceback instead (for a
    bug report). Tests that call the app through Typer's runner see the exception itself.
    """

    def __call__(self, *args: object, **kwargs: object) -> object:
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            if os.environ.get("DIOGEL_TRACEBACK"):
                raise
            what = " ".join(str(exc).split())[:300] or "no message"
            err.print(
                f"[red]error:[/red] {escape(type(exc).__name__)}: {escape(what)} (an error diogel did not "
                "expect: please report it; DIOGEL_TRACEBACK=1 shows where it happened)",
                highlight=False,
                soft_wrap=True,
            )
            sys.exit(2)


app = _App(
    name="diogel",
    help="Partnership intelligence for Community Safety Partnerships: warehouse, analysis and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
            from diogel.sources.partner.keys import ensure_partner_secret

            key, created = ensure_partner_secret(wh.data_dir)
            out.print(
                f"partner pseudonymisation key {'created' if created else 'found'}: {escape(str(key))} "
                "(outside the warehouse; back it up separately and never copy it with the warehouse)",
                highlight=False,
                soft_wrap=True,
            )
            if reference:
                from diogel.warehouse.reference import load_reference

                with progress(f"loading reference data ({reference})") as update:
                    results = load_reference(wh, reference, update)
                raise typer.Exit(1 if report_results(results) else 0)
    except DiogelError as exc:
        fail(exc)


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
    schema: Annotated[
        str | None, typer.Option(help="Partner files: a shipped schema (e.g. ed_assaults) or a YAML file.")
    ] = None,
    supplier: Annotated[
        str | None, typer.Option(help="Partner files: who sent them, when several partners send one dataset.")
    ] = None,
    postcode_lookup: Annotated[
        Path | None, typer.Option(help="Partner files: a postcode -> LSOA lookup CSV (e.g. the ONSPD).")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Load a file even where it replaces a slice with under 80% of its rows (or, for partner "
            "data without --supplier, any month); on a file loaded before, put it back in force.",
        ),
    ] = False,
) -> None:
    """Validate and load files. Prints, per file: rows read = loaded + duplicates + quarantined."""
    partner = dict(schema=schema, supplier=supplier, postcode_lookup=postcode_lookup)
    if kind != "partner" and any(v is not None for v in partner.values()):
        fail(DiogelError("--schema, --supplier and --postcode-lookup apply only to 'diogel ingest partner'"))
    given = dict(year=year, lsoa_vintage=vintage, index=index) | partner
    options = {k: v for k, v in given.items() if v is not None}
    try:
        if kind == "partner":
            from diogel.sources.partner.ingest import schema_from_options

            # A missing or broken schema is a usage error: say so even when every file is already loaded.
            options["schema"] = schema_from_options(options)
        with ctx.obj.open() as wh, progress(f"ingesting {kind}") as update:
            results = wh.ingest(kind, path, options=options, progress=update, replace=replace)
            if kind == "pact":
                from diogel.portal.store import pact_to_portal

                n = pact_to_portal(wh, results)
                if n is not None:
                    out.print(f"{n} PACT meetings recorded in the portal's store", highlight=False)
    except DiogelError as exc:
        fail(exc)
    refused = report_results(results)
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
    """What is loaded, per file: rows read, loaded, duplicates, quarantined, months covered.

    Then the coverage of each kind and force (or partner dataset and supplier) as month ranges, with
    the months never loaded named, and what replaced what (when, by which file, forced or not).
    """
    from diogel.warehouse.counting import coverage, replacements

    try:
        with ctx.obj.open(read_only=True) as wh:
            df = wh.status()
            cover = coverage(wh)
            changes = replacements(wh)
    except DiogelError as exc:
        fail(exc)
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
        doc = {
            "diogel_version": __version__,
            "files": records,
            "coverage": [_plain(r) for r in cover.to_dict(orient="records")],
            "replacements": [_plain(r) for r in changes.to_dict(orient="records")],
        }
        sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
        return
    table = Table("kind", "file", "rows read", "loaded", "duplicates", "quarantined", "months")
    for r in df.itertuples():
        lo = r.month_min if isinstance(r.month_min, str) else ""
        hi = r.month_max if isinstance(r.month_max, str) else ""
        months = f"{lo}..{hi}" if lo and hi and lo != hi else lo
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
    if not cover.empty:
        table = Table("kind", "of", "months loaded", "", "not loaded (never ingested)", title="coverage")
        for r in cover.itertuples():
            table.add_row(r.kind, r.of, r.ranges, f"{r.months:,}", r.not_loaded or "none")
        out.print(table)
    if not changes.empty:
        table = Table("when", "what", "kind", "file now in force", "in place of", "slices", "rows before -> after",
                      title="replacements (diogel restore FILE puts a replaced file back)")  # fmt: skip
        for r in changes.itertuples():
            what = r.action + (" (--replace)" if r.forced else "")
            table.add_row(f"{r.at:%Y-%m-%d %H:%M}", what, r.kind, str(r.file), str(r.replaced), f"{r.slices:,}",
                          f"{r.rows_before:,} -> {r.rows_after:,}")  # fmt: skip
        out.print(table)


def _plain(row: dict) -> dict:
    """A record with numpy scalars and timestamps made JSON-friendly."""
    return {
        k: (v.item() if hasattr(v, "item") else (str(v) if hasattr(v, "isoformat") else v))
        for k, v in row.items()
    }


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
        with ctx.obj.open(read_only=True) as wh:
            df = counts_frame(wh, [b.strip() for b in by.split(",") if b.strip()], area, start, end)
    except DiogelError as exc:
        fail(exc)
    df.to_csv(sys.stdout, index=False, lineterminator="\n")


def _register_commands() -> None:
    """Add the commands of every module in :mod:`diogel.commands` (the CLI's plugin seam).

    A module there defines ``register(app: typer.Typer) -> None``; a new command is one new module.
    Modules import their heavy dependencies inside the command, so ``diogel --help`` stays quick.
    """
    import importlib
    import pkgutil

    from diogel import commands

    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"diogel.commands.{module.name}").register(app)


_register_commands()


def run() -> None:  # pragma: no cover - console entry for python -m
    app()


if __name__ == "__main__":  # pragma: no cover
    run()
