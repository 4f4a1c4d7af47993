"""``diogel restore``: put a loaded file back in force for the slices a later file took over."""

from __future__ import annotations

from typing import Annotated

import typer

from diogel.commands._common import fail, report_results
from diogel.errors import DiogelError


def register(app: typer.Typer) -> None:
    @app.command()
    def restore(
        ctx: typer.Context,
        file: Annotated[
            str,
            typer.Argument(
                help="The file: its path on disk, its id (or first 8+ characters) or its name, as in diogel status."
            ),
        ],
    ) -> None:
        """Make a replaced (or any earlier) file count again for its slices, without reading it again.

        Recorded as a run and shown by 'diogel status' under replacements; restoring the newer file
        undoes it.
        """
        try:
            with ctx.obj.open() as wh:
                result = wh.restore(file)
        except DiogelError as exc:
            fail(exc)
        report_results([result])
