"""``diogel serve``: the partnership portal (FastAPI under uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from diogel.commands._common import fail, out
from diogel.errors import DiogelError

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="DIOGEL_PORTAL_DB",
        help="Portal database: SQLite in the data directory by default, or postgresql://...",
    ),
]


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: DbOption = None,
    area: Annotated[
        str | None,
        typer.Option(help="CSP code the dashboard shows by default (default: the one with most data)."),
    ] = None,
    secure_cookies: Annotated[
        bool, typer.Option("--secure-cookies", help="Mark cookies Secure (use when served over HTTPS).")
    ] = False,
    public_area: Annotated[
        list[str] | None,
        typer.Option(
            help="A CSP code the public pages list (repeatable; default: every CSP whose police force's files are loaded)."
        ),
    ] = None,
) -> None:
    """Run the partnership portal: log in at /login, the API's OpenAPI document at /openapi.json.

    Other diogel commands (ingest, status, counts, assess) can run on the same data directory while
    it serves; the portal shows newly ingested data as soon as the ingest commits."""
    import uvicorn

    from diogel.portal.app import PortalConfig, create_app
    from diogel.warehouse.core import data_dir_from_env

    config = PortalConfig(
        data_dir=data_dir_from_env(ctx.obj.data_dir),
        warehouse=ctx.obj.warehouse,
        db=db,
        area=area,
        secure_cookies=secure_cookies,
        public_areas=tuple(public_area) if public_area else None,
    )
    try:
        app = create_app(config)
    except DiogelError as exc:  # e.g. a new warehouse file kept locked by another process
        fail(exc)
    out.print(f"diogel portal on http://{host}:{port}/ (data directory {config.data_dir.resolve()})")
    # One process: the login rate limiter and the dashboard cache live in memory. uvicorn's thread
    # pool serves concurrent requests. The portal does not hold an embedded DuckDB warehouse open:
    # it opens it read-only for each computation (read-write for an upload) and closes it, so
    # diogel ingest, status, counts and assess work on the same data directory while it runs.
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=secure_cookies)


def register(app: typer.Typer) -> None:
    app.command()(serve)
