"""``diogel init``: create a warehouse, optionally with the bundled all-Wales reference data."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from diogel.commands._common import fail, out, progress, report_results
from diogel.errors import DiogelError


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


def register(app: typer.Typer) -> None:
    app.command()(init)
