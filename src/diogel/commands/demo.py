"""``diogel demo``: build a warehouse from the bundled real data, with no network, and show what it did."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from diogel.commands._common import fail, out, progress, report_results
from diogel.errors import DiogelError


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
            with progress("reference data") as update:
                report_results(load_reference(wh, "wales", update), show_problems=2)
            out.print("2. police.uk street-level crime, Gwent, July 2024 to June 2025 (archive zip)")
            with progress("police.uk") as update:
                report_results(
                    wh.ingest("police-street", demo_police_archive(), progress=update), show_problems=2
                )
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
        fail(exc)


def register(app: typer.Typer) -> None:
    app.command()(demo)
