"""``diogel users``: create the first administrator (and other accounts) from the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from diogel.commands._common import err, out
from diogel.commands.serve import DbOption

users_app = typer.Typer(
    help="Portal accounts: 'diogel users add' creates the first administrator.", no_args_is_help=True
)


def _database(ctx: typer.Context, db: str | None):  # noqa: ANN202
    """The portal database, with the audit log's head key from the partnership secret (created, as
    'diogel init' does, if this data directory has none yet)."""
    from diogel.portal.audit import load_audit_key
    from diogel.portal.db import Database, database_url
    from diogel.warehouse.core import data_dir_from_env

    data_dir = data_dir_from_env(ctx.obj.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    return Database(database_url(db, data_dir), audit_key=load_audit_key(data_dir))


@users_app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[
        str,
        typer.Option(
            help="partnership_admin (every agency, the agreement, the audit log), admin (the accounts "
            "of one agency), analyst, contributor, viewer or member."
        ),
    ] = "partnership_admin",
    agency: Annotated[
        str, typer.Option(help="Agency name (created if new).")
    ] = "Community Safety Partnership",
    agency_kind: Annotated[
        str,
        typer.Option(help="police, local_authority, fire, health, probation or other (for a new agency)."),
    ] = "local_authority",
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
    ] = False,
    db: DbOption = None,
) -> None:
    """Add a portal account (the password is asked for, or read from stdin)."""
    from diogel.portal import isa, services
    from diogel.portal.views import datasets

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    database = _database(ctx, db)
    try:
        with database.session() as s:
            names = list(datasets())
            isa.seed_access(s, names)
            ag = services.get_or_create_agency(s, None, agency, agency_kind, names)
            user = services.create_user(s, None, username, password, role, ag, name)
            out.print(f"added {user.username} ({user.role}, {ag.name})")
    except services.PortalError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        database.close()


@users_app.command("list")
def list_users(ctx: typer.Context, db: DbOption = None) -> None:
    """List portal accounts."""
    from sqlalchemy import select

    from diogel.portal.models import User

    database = _database(ctx, db)
    try:
        with database.session() as s:
            for u in s.execute(select(User).order_by(User.username)).scalars():
                state = "active" if u.active else "disabled"
                out.print(f"{u.username}\t{u.role}\t{u.agency.name}\t{state}", highlight=False)
    finally:
        database.close()


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
