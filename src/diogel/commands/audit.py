"""``diogel audit verify``: check the portal's hash-chained audit log has not been altered."""

from __future__ import annotations

import typer

from diogel.commands._common import err, out
from diogel.commands.serve import DbOption

audit_app = typer.Typer(help="The portal's audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify(ctx: typer.Context, db: DbOption = None) -> None:
    """Recompute the hash chain; exit 1 and name the first bad entry if anything was altered."""
    from diogel.commands.users import _database
    from diogel.portal import audit

    database = _database(ctx, db)
    try:
        with database.session() as s:
            result = audit.verify(s)
    finally:
        database.close()
    if result.ok:
        out.print(f"audit log intact: {result.entries} entries, latest hash {result.head}", highlight=False)
        return
    err.print(
        f"[red]audit log broken:[/red] {result.problem} (checked {result.entries} entries)", highlight=False
    )
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
