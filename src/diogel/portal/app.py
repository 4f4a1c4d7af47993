"""The FastAPI factory: ``create_app(PortalConfig(...))`` builds the whole portal; ``diogel serve``
runs it under uvicorn.

The factory only assembles: the shared state (:mod:`diogel.portal.state`), the middleware
(:mod:`diogel.portal.middleware`), the request-wide checks (:mod:`diogel.portal.deps`) and one
router per resource (:mod:`diogel.portal.routes`), each route answering as a page, JSON or CSV.
"""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from diogel import __version__
from diogel.portal.deps import csrf_protect, plain_query
from diogel.portal.i18n import gettext as _
from diogel.portal.middleware import SecurityHeaders
from diogel.portal.pages import render
from diogel.portal.state import PACKAGE, Portal, PortalConfig
from diogel.warehouse.backends import WarehouseBusy

__all__ = ["Portal", "PortalConfig", "create_app"]

_log = logging.getLogger("diogel.portal")


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def _lifespan(portal: Portal):  # noqa: ANN202
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        yield
        portal.close()

    return lifespan


def create_app(config: PortalConfig, warehouse=None) -> FastAPI:  # noqa: ANN001
    """The portal as an ASGI application. ``warehouse``: an open :class:`Warehouse` to share (tests)."""
    from diogel.portal.routes import ROUTERS

    portal = Portal(config, warehouse)
    app = FastAPI(
        title="diogel partnership portal",
        version=__version__,
        description=(
            "The JSON API of the diogel partnership portal. Every route enforces the information "
            "sharing agreement exactly as the pages do. Log in at /login (the session cookie "
            "authenticates API calls); unsafe methods need the X-CSRF-Token header."
        ),
        docs_url=None,  # the default docs page loads Swagger UI from a CDN; ours is vendored
        redoc_url=None,
        dependencies=[Depends(plain_query), Depends(csrf_protect)],
        lifespan=_lifespan(portal),
    )
    app.state.portal = portal
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        try:
            return render(
                request, "error.html", status_code=exc.status_code, status=exc.status_code, detail=exc.detail
            )
        finally:
            # The request's session may already have been closed by its dependency; the navigation
            # may have used it again, which takes a pooled connection: give it back now.
            db = getattr(request.state, "db", None)
            if db is not None:
                db.close()

    @app.exception_handler(WarehouseBusy)
    async def warehouse_busy(request: Request, exc: WarehouseBusy) -> Response:
        # Another process (an ingest from the command line) holds the warehouse and this page has
        # nothing computed before to show meanwhile; the server log has the one-line reason.
        _log.warning("%s", exc)
        detail = _("the warehouse is being updated by another diogel process: try again in a minute")
        return await http_error(request, StarletteHTTPException(503, detail, headers={"Retry-After": "60"}))

    if config.warm_cache:
        portal.warm()
    return app
