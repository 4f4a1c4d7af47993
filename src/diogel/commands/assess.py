"""``diogel assess``: the strategic assessment of a CSP or local authority (HTML, PDF, figures, tables, maps)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from diogel.commands._common import fail, out, progress
from diogel.errors import DiogelError


def assess(
    ctx: typer.Context,
    area: Annotated[
        str,
        typer.Option(help="A CSP (W14/E22 code), a local authority (W06/E06..E09 code), or its name."),
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
) -> None:
    """Write the strategic assessment of an area for a period: analysis, charts, maps and sources."""
    from diogel.report.assessment import run_assessment
    from diogel.report.context import AssessOptions

    try:
        weights = parse_weights(peer_weight or [])
        if recommendations:  # a bad file fails now, not after the analysis
            from diogel.analysis.recommendations import load_analyst_input

            load_analyst_input(recommendations)
    except (ValueError, DiogelError) as exc:
        fail(exc)
    options = AssessOptions(
        permutations=permutations,
        seed=seed,
        peers=peers,
        peer_weights=weights or None,
        scoring=scoring,
        pdf=pdf,
        recommendations=recommendations,
    )
    try:
        with ctx.obj.open(read_only=True) as wh, progress("assessment") as update:
            result = run_assessment(wh, area, period, out_dir, options, progress=update)
    except DiogelError as exc:
        fail(exc)
    except (OSError, ValueError) as exc:  # e.g. an unreadable scoring YAML or an unwritable --out
        fail(exc)
    print_result(result)


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
    out.print(f"  report  {escape(str(result.html))}", highlight=False)
    if result.pdf:
        out.print(f"  PDF     {escape(str(result.pdf))} ({result.pages} pages)", highlight=False)
    out.print(f"  figures {escape(str(result.figures))} ({result.n_figures} figures)", highlight=False)
    out.print(
        f"  tables  {len(result.tables)} CSV in {escape(str(result.out_dir / 'tables'))}; "
        f"maps {len(result.maps)} GeoPackage in {escape(str(result.out_dir / 'maps'))}",
        highlight=False,
    )
    out.print(f"  took {result.seconds:.0f} s", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(assess)
