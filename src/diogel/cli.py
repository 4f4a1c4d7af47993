"""The ``diogel`` command line: a thin front door over the Python API."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from rich.markup import escape

from diogel.commands._common import Settings, err


class _App(typer.Typer):
    """The command line as a program: an error diogel did not foresee is still one line, not a traceback.

    Errors diogel foresees (bad input, a missing warehouse) are reported by each command with
    ``fail``; this is the last resort. ``DIOGEL_TRACEBACK=1`` shows the traceback instead (for a
    bug report). Tests that call the app through Typer's runner see the exception itself.
    """

    def __call__(self, *args: object, **kwargs: object) -> object:
        from diogel.report.gc_policy import no_collection_at_exit

        no_collection_at_exit()  # (the program's exit, not a test runner's: see gc_policy)
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


def add_commands(app: typer.Typer, modules: Iterable[ModuleType]) -> None:
    """Add the commands of each module (each defines ``register(app: typer.Typer) -> None``).

    The CLI's plugin seam: :data:`diogel.commands.COMMANDS` gives diogel's own modules (a new command
    is one new module in :mod:`diogel.commands`; ``FIRST`` come first, then the rest by name), then
    any package's from the ``diogel.commands`` entry-point group. Modules import their heavy
    dependencies inside the command, so ``diogel --help`` stays quick.
    """
    for module in modules:
        module.register(app)


def _register_commands() -> None:
    from diogel.commands import COMMANDS

    add_commands(app, COMMANDS)


_register_commands()


def run() -> None:  # pragma: no cover - console entry for python -m
    app()


if __name__ == "__main__":  # pragma: no cover
    run()
