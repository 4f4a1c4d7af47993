"""``diogel counts``: counts of crimes and ASB under the counting rules, as CSV on stdout."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from diogel.commands._common import fail
from diogel.errors import DiogelError


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


def register(app: typer.Typer) -> None:
    app.command()(counts)
