"""``diogel ingest``: validate and load files of one source kind."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diogel.commands._common import fail, out, progress, report_results
from diogel.errors import DiogelError


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


def register(app: typer.Typer) -> None:
    app.command()(ingest)
