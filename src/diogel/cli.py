"""The ``diogel`` command line: a thin front door over the Python API."""

from __future__ import annotations

import os
import sys
from pathlib import Path
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


def _register_commands() -> None:
    """Add the commands of every module in :mod:`diogel.commands` (the CLI's plugin seam).

    A module there defines ``register(app: typer.Typer) -> None``; a new command is one new module.
    ``diogel.commands.FIRST`` come first, in its order, then the rest by module name.
    Modules import their heavy dependencies inside the command, so ``diogel --help`` stays quick.
    """
    import importlib
    import pkgutil

    from diogel import commands

    names = [m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_")]
    first = [n for n in commands.FIRST if n in names]
    for name in first + sorted(n for n in names if n not in first):
        importlib.import_module(f"diogel.commands.{name}").register(app)


_register_commands()


def run() -> None:  # pragma: no cover - console entry for python -m
    app()


if __name__ == "__main__":  # pragma: no cover
    run()
