"""``diogel demo``: build a warehouse from the bundled real data (and the bundled SYNTHETIC partner
samples), with no network, show what it did, and write the strategic assessment of Newport for the latest
twelve of the 24 bundled months (the twelve before them give the year-on-year comparison)."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from diogel.commands._common import fail, out, progress, report_results
from diogel.errors import DiogelError

DEMO_AREA = "W06000022"  # Newport, one of the five Gwent local authorities in the bundled police data
DEMO_PERIOD = "2024-07..2025-06"  # the latest twelve of the 24 bundled months (2023-07..2025-06)
DEMO_PACT = "synthetic_pact_priorities_gwent.csv"
DEMO_TARGETS = "example_targets_newport.yaml"  # made-up example targets, to show the performance section


def demo(ctx: typer.Context) -> None:
    """Build a warehouse from the bundled data (no network needed), show what it holds, and write the
    strategic assessment of Newport for July 2024 to June 2025."""
    from diogel import data
    from diogel.commands.assess import print_result
    from diogel.demo.files import load_demo_partner_data
    from diogel.report.assessment import run_assessment
    from diogel.report.context import AssessOptions
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
            out.print("2. police.uk street-level crime, Gwent, July 2023 to June 2025 (archive zip)")
            with progress("police.uk") as update:
                report_results(
                    wh.ingest("police-street", demo_police_archive(), progress=update), show_problems=2
                )
            out.print(
                "3. PACT meeting priorities for Gwent: [bold]SYNTHETIC[/bold] sample data (made up, not real "
                "meetings), to show the community-led ranking"
            )
            from diogel.portal.store import pact_to_portal, read_portal

            pact_results = wh.ingest("pact", data.path("demo", DEMO_PACT))
            report_results(pact_results, show_problems=2)
            pact_to_portal(wh, pact_results)  # the one PACT store: the portal's database
            out.print(
                "4. partner data for Gwent: [bold]SYNTHETIC[/bold] emergency department assaults and fire "
                "incidents (made up, not real patients or fires), de-personalised on the way in, to show the "
                "partner and Cardiff Model sections"
            )
            with progress("partner data") as update:
                report_results(load_demo_partner_data(wh, update), show_problems=2)
            df = counts_frame(wh, ["la", "crime_type"])
            from diogel.warehouse.geography import lsoa_membership

            names = wh.execute(lsoa_membership(wh).select("la_code", "la_name").distinct())
            names = dict(zip(names.la_code, names.la_name, strict=True))
            totals = df.groupby("la", dropna=False)["count"].sum().sort_values(ascending=False)
            table = Table(
                "local authority", "crimes and ASB, 2023-07..2025-06", title="5. counts by LSOA membership"
            )
            for la, n in totals.head(8).items():
                label = (
                    f"{names.get(la, la)} ({la})" if isinstance(la, str) else "no location / outside lookups"
                )
                table.add_row(label, f"{n:,}")
            out.print(table)
            out.print(f"6. strategic assessment of Newport ({DEMO_AREA}), {DEMO_PERIOD}")
            target = wh.data_dir / "assessment-newport"
            from diogel.report.context import AssessOptions

            # The partnership's targets (an example set for the demo) and whatever the portal's store holds.
            records = read_portal(None, wh.data_dir)
            options = AssessOptions(targets=data.path("demo", DEMO_TARGETS), targets_from_portal=records.targets,
                                    pact_from_portal=records.pact, ratings_from_portal=records.ratings,
                                    language="both")  # fmt: skip
            with progress("assessment") as update:
                # In Welsh and English, one document, Welsh first (the Welsh Language Standards).
                result = run_assessment(
                    wh, DEMO_AREA, DEMO_PERIOD, target, options, progress=update, workers=2
                )
            print_result(result)
            out.print(
                f"open {escape(str(result.html.resolve()))} in a browser (it works offline); "
                f"data directory: {escape(str(wh.data_dir.resolve()))}  (try: diogel --data-dir {escape(str(wh.data_dir))} status)",
                highlight=False,
            )
    except DiogelError as exc:
        fail(exc)


def register(app: typer.Typer) -> None:
    app.command()(demo)
