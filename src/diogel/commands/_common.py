"""What every ``diogel`` command shares: consoles, settings, progress bars, error and result reporting.

Command modules in :mod:`diogel.commands` import from here, never from :mod:`diogel.cli`.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

err = Console(stderr=True)
out = Console()


class Settings:
    """The global options: where the data directory is and which warehouse engine to use."""

    def __init__(self, data_dir: Path | None, warehouse: str | None):
        self.data_dir = data_dir
        self.warehouse = warehouse

    def open(self, read_only: bool = False):  # noqa: ANN201
        """The warehouse, read-write (``init``, ``ingest``) or ``read_only`` (every command that
        only reads, so it can run beside ``diogel serve`` and other readers).

        A DuckDB file locked by another process is waited for (``DIOGEL_LOCK_WAIT`` seconds,
        default 120), with one line on stderr saying what for; if the wait runs out, the
        :class:`~diogel.warehouse.backends.WarehouseBusy` it raises is a :class:`DiogelError`, which
        every command reports in one line with exit code 2.
        """
        from diogel.warehouse.core import Warehouse

        return Warehouse(self.warehouse, self.data_dir, read_only=read_only, on_wait=_say_waiting)


def _say_waiting(message: str) -> None:
    err.print(f"[yellow]{escape(message)}[/yellow]", highlight=False, soft_wrap=True)


@contextmanager
def progress(description: str):  # noqa: ANN202
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

    def update(done: int, total: int | None, item: str) -> None:
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


def fail(exc: Exception) -> None:
    err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def output_language(value: str) -> str:
    """The ``--language`` of a command that writes a document: ``en``, ``cy`` or ``both``; anything
    else ends the command with a one-line error."""
    lang = value.strip().casefold()
    if lang not in ("en", "cy", "both"):
        fail(ValueError(f"--language {value}: expected en, cy or both"))
    return lang


def report_results(results: list, show_problems: int = 5) -> int:
    """Print what happened to each file; return the number of files refused."""
    refused = 0
    totals = dict(read=0, loaded=0, duplicates=0, quarantined=0)
    for r in results:
        style = {"loaded": "green", "already loaded": "dim", "refused": "red", "restored": "green"}[r.status]
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
