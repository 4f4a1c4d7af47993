"""``diogel status``: what is loaded, file by file, and each kind's coverage and replacements."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.table import Table

from diogel import __version__
from diogel.commands._common import fail, out
from diogel.errors import DiogelError


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


def register(app: typer.Typer) -> None:
    app.command()(status)
