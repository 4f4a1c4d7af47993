"""``diogel kinds``: the source kinds diogel can ingest."""

from __future__ import annotations

import typer

from diogel.commands._common import out


def kinds() -> None:
    """List the source kinds diogel can ingest."""
    from diogel.sources.registry import kinds as registered

    for k in registered().values():
        out.print(
            f"[bold]{k.name}[/bold]  {k.description}  (files: {', '.join(k.patterns)})", highlight=False
        )


def register(app: typer.Typer) -> None:
    app.command()(kinds)
