"""``diogel audit verify``: check the portal's audit log has not been altered, cut short or emptied."""

from __future__ import annotations

import typer

from diogel.commands._common import err, out
from diogel.commands.serve import DbOption

audit_app = typer.Typer(help="The portal's audit log.", no_args_is_help=True)


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@audit_app.command("verify")
def verify(ctx: typer.Context, db: DbOption = None) -> None:
    """Recompute the hash chain and check it against the signed head; exit 1 naming the problem if
    entries were altered, inserted or removed (at the end too, or all of them), 2 if the log or the
    partnership secret cannot be found."""
    from pathlib import Path

    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from diogel.portal import audit
    from diogel.portal.db import Database, database_url
    from diogel.warehouse.core import data_dir_from_env

    data_dir = data_dir_from_env(ctx.obj.data_dir)
    url = database_url(db, data_dir)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        if not path.is_file():
            # Never create a database here: a fresh empty log would "verify" as intact.
            _fail(f"{path}: no portal database here (give --db, or the data directory with --data-dir)")
    try:
        key = audit.load_audit_key(data_dir, create=False)
    except FileNotFoundError as exc:
        _fail(f"{exc}: the partnership secret is missing, so the audit log's signed head cannot be checked")
    except Exception as exc:  # noqa: BLE001 - an unreadable or malformed secret: one line, not a traceback
        _fail(str(exc))
    try:
        database = Database(url, migrate_schema=False, audit_key=key)
    except Exception as exc:  # noqa: BLE001
        _fail(f"cannot open the portal database: {type(exc).__name__}")
    try:
        with database.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
        missing = [t for t in ("audit_log", "audit_head") if t not in tables]
        if missing:
            _fail(f"the portal database has no {' or '.join(missing)} table: the audit log was removed")
        with database.session() as s:
            result = audit.verify(s)
    except SQLAlchemyError as exc:
        _fail(
            f"cannot read the audit log: {type(exc).__name__}: {str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}"
        )
    finally:
        database.close()
    if result.ok:
        out.print(f"audit log intact: {result.entries} entries, latest hash {result.head}", highlight=False)
        return
    err.print(
        f"[red]audit log broken:[/red] {result.problem} (checked {result.entries} entries)",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
