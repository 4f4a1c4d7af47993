"""``diogel assess``: the strategic assessment of a CSP or local authority (HTML, PDF, figures, tables, maps).

One ``--area`` is assessed in this process and written to ``--out``. Several (``--area`` repeated, or
a group such as ``all-wales``) are assessed in ``--jobs`` worker processes that share the warehouse
read-only, each into its own folder under ``--out``, with ``index.html`` linking them.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from diogel.commands._common import err, fail, out, output_language, progress
from diogel.errors import DiogelError
from diogel.portal import has_portal


def assess(
    ctx: typer.Context,
    area: Annotated[
        list[str],
        typer.Option(
            help="A CSP (W14/E22 code), a local authority (W06/E06..E09 code), or its name; repeatable. "
            "all-wales: the 22 Welsh local authorities; all-wales-csp: the Welsh CSPs."
        ),
    ],
    period: Annotated[str, typer.Option(help="Months to assess, first..last: e.g. 2024-07..2025-06.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for assessment.html, .pdf, figures.json, tables/, maps/.")
    ],
    peers: Annotated[
        int | None,
        typer.Option(help="Size of the most-similar peer group (default 7 in Wales, 15 in England)."),
    ] = None,
    peer_weight: Annotated[
        list[str] | None,
        typer.Option(
            help="Weight of a peer variable in the similarity distance, VARIABLE=WEIGHT (repeatable; others weigh 1): "
            "population, density, share_15_24, wimd_income, wimd_employment, wimd_education, wimd_housing."
        ),
    ] = None,
    permutations: Annotated[int, typer.Option(help="Permutations for Gi* and local Moran's I.")] = 9999,
    seed: Annotated[int, typer.Option(help="Random seed (permutations, resampling).")] = 12345,
    scoring: Annotated[
        Path | None, typer.Option(help="A priority-scoring matrix YAML (default: the packaged one).")
    ] = None,
    pdf: Annotated[bool, typer.Option("--pdf/--no-pdf", help="Also write assessment.pdf.")] = True,
    recommendations: Annotated[
        Path | None,
        typer.Option(help="The analyst's recommendations, PESTELO and triangle notes (YAML or Markdown)."),
    ] = None,
    targets: Annotated[
        Path | None,
        typer.Option(help="The partnership's targets (YAML) for the 'Performance against targets' section."),
    ] = None,
    ratings: Annotated[
        Path | None,
        typer.Option(
            help="MoRiLE vulnerability and capacity ratings per crime type (YAML) for the priority matrix."
        ),
    ] = None,
    portal_db: Annotated[
        str | None,
        typer.Option(
            help="The portal's database URL, whose targets and PACT meetings the assessment reads "
            "(default: portal.sqlite in the data directory, when there is one)."
        ),
    ] = None,
    portal: Annotated[
        bool, typer.Option("--portal/--no-portal", help="Read the portal's targets and PACT meetings.")
    ] = True,
    jobs: Annotated[
        int,
        typer.Option(
            help="Worker processes when several areas are assessed (each area's own folder); "
            "for one area, 2 or more also builds its sections in two processes, 1 in one."
        ),
    ] = 2,
    language: Annotated[
        str,
        typer.Option(help="en, cy (Cymraeg) or both: one bilingual document, Welsh first."),
    ] = "en",
) -> None:
    # Over 80 lines only for typer's option declarations above; the work is in the helpers below.
    """Write the strategic assessment of an area for a period: analysis, charts, maps and sources."""
    from diogel.report.options import AssessOptions

    try:
        weights = parse_weights(peer_weight or [])
        records = _check_inputs(ctx, recommendations, targets, ratings, portal_db, portal)
    except (ValueError, DiogelError) as exc:
        fail(exc)
    found = bool(records and records.found)
    options = AssessOptions(
        permutations=permutations,
        seed=seed,
        peers=peers,
        peer_weights=weights or None,
        scoring=scoring,
        pdf=pdf,
        recommendations=recommendations,
        targets=targets,
        targets_from_portal=records.targets if found else (),
        pact_from_portal=records.pact if found else None,
        ratings=ratings,
        ratings_from_portal=records.ratings if found else None,
        language=output_language(language),
    )
    if jobs < 1:
        fail(ValueError("--jobs must be at least 1"))
    _run(ctx, area, period, out_dir, options, jobs)


def _check_inputs(ctx: typer.Context, recommendations, targets, ratings, portal_db, portal: bool):  # noqa: ANN001, ANN202
    """Read the analyst's files now, so a bad one fails before the analysis; the portal's records, or None."""
    if recommendations:
        from diogel.analysis.recommendations import load_analyst_input

        load_analyst_input(recommendations)
    if targets:
        from diogel.analysis.targets import load_targets

        load_targets(targets, area="-")
    if ratings:
        from diogel.analysis.priorities import load_ratings

        load_ratings(ratings)
    data_dir = ctx.obj.data_dir or Path("diogel-data")
    if not portal or not has_portal(portal_db, data_dir):
        return None
    from diogel.portal.store import read_portal

    return read_portal(portal_db, data_dir)


def _run(ctx: typer.Context, area: list[str], period: str, out_dir: Path, options, jobs: int) -> None:  # noqa: ANN001
    """One area in this process, or several in worker processes; a one-line error for what the user can fix."""
    opener = functools.partial(open_read_only, ctx.obj.warehouse, ctx.obj.data_dir)
    try:
        with opener() as wh:
            from diogel.report.batch import GROUPS, area_sizes, expand_areas

            if len(area) == 1 and area[0].strip().casefold() not in GROUPS:
                # Imported here: the parent of worker processes never assesses, and importing the
                # report's libraries (1.1 to 1.3 s) would hold back starting them.
                from diogel.report.assessment import run_assessment

                with progress("assessment") as update:
                    result = run_assessment(wh, area[0], period, out_dir, options, progress=update,
                                            workers=min(jobs, 2))  # fmt: skip
                print_result(result)
                return
            areas = expand_areas(wh, area)
            sizes = area_sizes(wh, areas)
        many(opener, areas, period, out_dir, options, jobs, sizes)
    except DiogelError as exc:
        fail(exc)
    except (OSError, ValueError) as exc:  # e.g. an unreadable scoring YAML or an unwritable --out
        fail(exc)


def open_read_only(url: str | None, data_dir: Path | None):  # noqa: ANN201
    """The warehouse opened for reading, so several assessments (and other readers) can share it.

    A module-level function of plain arguments, so worker processes can be handed it; a locked
    DuckDB file is waited for as every command does (:meth:`diogel.commands._common.Settings.open`).
    """
    from diogel.commands._common import _say_waiting
    from diogel.warehouse.core import Warehouse

    return Warehouse(url, data_dir, read_only=True, on_wait=_say_waiting)


def many(
    opener, areas: list, period: str, out_dir: Path, options, jobs: int, sizes: dict | None = None
) -> None:  # noqa: ANN001
    """Assess ``areas`` in ``jobs`` worker processes; one line on stderr per area as it starts and ends."""
    from diogel.report.batch import run_many

    err.print(
        f"assessing {len(areas)} areas in {min(jobs, len(areas))} worker process(es) into {escape(str(out_dir))}",
        highlight=False,
        soft_wrap=True,
    )
    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.fields[step]}", style="dim"), console=err, transient=True,
    )  # fmt: skip
    tasks = {code: bar.add_task(f"{name[:28]:28}", total=None, step="waiting") for _, code, name in areas}

    def on_event(run) -> None:  # noqa: ANN001
        task = tasks[run.code]
        if run.status in ("done", "failed"):
            bar.update(task, completed=run.total or 1, total=run.total or 1, step=run.status)
            what = (
                f"[green]done[/green] {run.seconds:.0f} s, {run.pages} pages" if run.status == "done"
                else f"[red]failed[/red]: {escape(run.error)}"
            )  # fmt: skip
            bar.console.print(f"  {escape(run.name)} ({run.code}): {what}", highlight=False, soft_wrap=True)
        else:
            bar.update(task, completed=run.done, total=run.total, step=run.step[:40])

    with bar:
        runs = run_many(opener, areas, period, out_dir, options, jobs=jobs, on_event=on_event, sizes=sizes)
    written = [r for r in runs if r.status == "done"]
    out.print(
        f"[bold]strategic assessments[/bold]: {len(written)} of {len(runs)} areas written, "
        f"index {escape(str(Path(out_dir) / 'index.html'))}",
        highlight=False,
        soft_wrap=True,
    )
    for r in runs:
        where = escape(str(Path(out_dir) / r.folder))
        out.print(
            f"  {escape(r.name)} ({r.code}): "
            + (where if r.status == "done" else f"FAILED: {escape(r.error)}"),
            highlight=False,
            soft_wrap=True,
        )
    if len(written) < len(runs):
        raise typer.Exit(2)


def parse_weights(items: list[str]) -> dict[str, float]:
    """``["density=2", "population=0.5"]`` -> ``{"density": 2.0, "population": 0.5}`` (weights >= 0)."""
    weights: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            w = float(value)
        except ValueError:
            w = float("nan")
        if not sep or not name.strip() or not w >= 0:
            raise ValueError(f"--peer-weight takes VARIABLE=WEIGHT with a weight of 0 or more, not {item!r}")
        weights[name.strip()] = w
    return weights


def print_result(result) -> None:  # noqa: ANN001
    out.print(
        f"[bold]strategic assessment[/bold]: {escape(result.area_name)} ({result.area_code}), {result.period}"
        + ("" if result.previous_available else " (previous period not loaded: no comparison made)"),
        highlight=False,
    )
    out.print(f"  report  {escape(str(result.html))}", highlight=False, soft_wrap=True)
    if result.pdf:
        out.print(
            f"  PDF     {escape(str(result.pdf))} ({result.pages} pages)", highlight=False, soft_wrap=True
        )
    out.print(
        f"  figures {escape(str(result.figures))} ({result.n_figures} figures)",
        highlight=False,
        soft_wrap=True,
    )
    out.print(
        f"  tables  {len(result.tables)} CSV in {escape(str(result.out_dir / 'tables'))}; "
        f"maps {len(result.maps)} GeoPackage in {escape(str(result.out_dir / 'maps'))}",
        highlight=False,
        soft_wrap=True,
    )
    out.print(f"  took {result.seconds:.0f} s", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(assess)
