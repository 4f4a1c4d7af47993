"""The portal application: configuration, shared state, authentication and the FastAPI factory.

``create_app(PortalConfig(...))`` builds the whole portal; ``diogel serve`` runs it under uvicorn.
Routes live in :mod:`diogel.portal.web` (server-rendered pages) and :mod:`diogel.portal.api` (the
JSON API); both ask the same permission functions here and in :mod:`diogel.portal.isa`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from diogel import __version__
from diogel.portal import i18n, isa, phrases
from diogel.portal.db import Database, database_url
from diogel.portal.i18n import gettext as _
from diogel.portal.models import ADMIN_ROLES, PortalSession, User, utcnow
from diogel.portal.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    LoginThrottle,
    Signer,
    ThrottlePolicy,
    load_or_create_secret,
    new_session_token,
    session_key,
    tokens_match,
)
from diogel.portal.views import Dataset, WarehouseViews, datasets
from diogel.warehouse.backends import WarehouseBusy

_log = logging.getLogger("diogel.portal")

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PACKAGE = resources.files("diogel.portal")

#: Content Security Policy for every page: nothing from anywhere but the portal itself, no inline
#: script or style (htmx, the API docs and the style sheet load as files; colours and bars are SVG
#: attributes, which the policy does not govern).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


@dataclass
class PortalConfig:
    """Where the portal keeps things and how strict it is.

    ``db`` is the ``--db`` URL (None: SQLite ``portal.sqlite`` in ``data_dir``); ``warehouse`` the
    warehouse URL (None: DuckDB in ``data_dir``); ``area`` the partnership the dashboard shows by
    default (a CSP code; None: the CSP with the most recorded crime); ``secure_cookies`` adds the
    Secure flag (set it whenever the portal is reached over HTTPS, e.g. behind a reverse proxy).
    """

    data_dir: Path
    warehouse: str | None = None
    db: str | None = None
    area: str | None = None
    secure_cookies: bool = False
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)
    max_upload_mb: int = 200
    warm_cache: bool = True
    #: A folder of compiled catalogues (``<lang>/LC_MESSAGES/messages.mo``) to use instead of the
    #: packaged ones: a council can try its own translation without changing the package.
    translations: Path | None = None
    #: The areas the public pages list (CSP codes); None: every area whose police forces' files are loaded.
    public_areas: tuple[str, ...] | None = None


class Portal:
    """Everything a request needs, created once per application."""

    def __init__(self, config: PortalConfig, warehouse=None):  # noqa: ANN001
        from diogel.warehouse.access import Held, for_process

        self.config = config
        config.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        from diogel.portal.audit import load_audit_key

        # The audit log's head is signed under the partnership secret (created here if this data
        # directory has none yet, as 'diogel init' does), which is never stored in this database.
        self.db = Database(
            database_url(config.db, config.data_dir), audit_key=load_audit_key(config.data_dir)
        )
        self.signer = Signer(load_or_create_secret(config.data_dir / "portal_secret.key"))
        self.throttle = LoginThrottle(config.throttle)
        # The portal does not keep an embedded DuckDB warehouse open (the command line could not
        # use it): each computation opens it and closes it (diogel.warehouse.access).
        self.access = (
            Held(warehouse) if warehouse is not None else for_process(config.warehouse, config.data_dir)
        )
        self.views = WarehouseViews(self.access)
        self.templates = _templates()
        self.datasets: dict[str, Dataset] = datasets()
        # A counter the dashboards' cache key includes, moved on whenever a PACT meeting changes,
        # because the priorities' community-concern score reads the meetings.
        self.pact_epoch = 0
        with self.db.session() as s:
            isa.seed_access(s, list(self.datasets))

    def default_area(self) -> str | None:
        if self.config.area:
            return self.config.area
        areas = self.views.areas()
        return areas[0].code if areas else None

    def warm(self) -> None:
        """Compute the default dashboard in the background so the first visitor does not wait."""

        def run() -> None:
            try:
                from diogel.portal.web import pact_frame

                area = self.default_area()
                if area:
                    with self.db.session() as s:
                        frame = pact_frame(s, self, area)
                    self.views.dashboard(area, frame, ("pact", self.pact_epoch))
                    self.views.ward_table(area)
            except Exception:  # noqa: BLE001 - warming is an optimisation; the page computes on demand
                pass

        threading.Thread(target=run, name="diogel-warm", daemon=True).start()

    def close(self) -> None:
        self.db.close()
        self.access.close()  # a lent warehouse stays open: its lender closes it


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(PACKAGE / "templates")),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)
    # Numbers and dates by Babel in the request's language (en_GB or cy), read when a page renders.
    env.filters["num"] = i18n.number
    env.filters["pct"] = lambda v: "" if v is None or v != v else i18n.number(v, 1, sign=True) + "%"
    env.filters["share"] = lambda v: "" if v is None or v != v else i18n.number(v * 100) + "%"
    env.filters["cell"] = _cell
    env.filters["dec"] = lambda v: i18n.number(v, 1)
    env.filters["date"] = i18n.date
    env.filters["datetime"] = lambda v: i18n.date(v, with_time=True)
    env.filters["month"] = i18n.month
    env.filters["rule_words"] = phrases.rule_words
    env.filters["reason_words"] = phrases.reason_words
    env.filters["morile_words"] = phrases.morile_words
    env.filters["map_titles"] = phrases.map_titles
    env.globals["place"] = i18n.place
    return env


def _cell(value: Any) -> str:
    """A published count: ``*`` where suppressed (NA), otherwise with thousands separators."""
    import pandas as pd

    return "*" if value is None or pd.isna(value) else i18n.number(value)


# --------------------------------------------------------------------------------------------------
# Request plumbing


def portal_of(request: Request) -> Portal:
    return request.app.state.portal


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's one database session. It is also left on ``request.state`` so that rendering
    (the navigation) reuses it: a second session per request could take a second pooled
    connection while holding the first, and under load every worker thread would then hold one
    connection and wait for another until the pool timed out.

    Opening a session takes no connection (the first query does, in a worker thread), and closing
    one only hands its connection back, so this runs on the event loop: two fewer thread hops per
    request, which under load cost more than the queries."""
    with portal_of(request).db.sessions() as s:
        request.state.db = s
        yield s


def current_user(request: Request, s: Session = Depends(get_db)) -> User | None:
    """The logged-in user, or None: the session row the cookie's token names, unexpired, of an
    active account (one query)."""
    if hasattr(request.state, "user"):
        return request.state.user
    user = None
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) < 100:
        row = s.get(PortalSession, session_key(token))
        if row is not None and row.expires_at > utcnow() and row.user.active:
            user = row.user
            request.state.session_id = row.id
            if user.language in i18n.LANGUAGES:
                # The account's own choice beats the browser's: the same language in any browser.
                request.state.lang = user.language
                i18n.prefer(user.language)
    request.state.user = user
    return user


def csrf_token(request: Request) -> str:
    """This browser's CSRF token: bound to its session when it has one, otherwise the token of its
    pre-login cookie (a new one is set as a cookie by the middleware when missing)."""
    token = getattr(request.state, "csrf", None)
    if token:
        return token
    portal = portal_of(request)
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        token = portal.signer.session_csrf(session)
    else:
        token = portal.signer.read_csrf(request.cookies.get(CSRF_COOKIE))
        if token is None:
            token, cookie = portal.signer.new_csrf()
            request.state.new_csrf_cookie = cookie
    request.state.csrf = token
    return token


def expected_csrf(request: Request) -> str | None:
    portal = portal_of(request)
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return portal.signer.session_csrf(session)
    return portal.signer.read_csrf(request.cookies.get(CSRF_COOKIE))


def same_origin(request: Request) -> bool:
    """False when a browser says the request comes from another site (``Origin``, else ``Referer``).
    A client that sends neither (a script) is judged by its CSRF token alone."""
    from urllib.parse import urlparse

    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True
    if source == "null":
        return False
    host = request.headers.get("host") or request.url.netloc
    return urlparse(source).netloc.lower() == host.lower()


#: Routes that read their own (streamed) body: the CSRF token comes in the header, or as the form
#: field before the file (checked by :mod:`diogel.portal.uploads` before a byte is written).
STREAMED = ("/upload", "/api/uploads", "/meetings/import")
#: Any other request body is a small form or JSON document.
MAX_FORM_BYTES = 1 << 20


async def csrf_protect(request: Request) -> None:
    """Refuse any unsafe request from another site or whose form field or header does not carry
    this browser's token."""
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request):
        raise HTTPException(403, _("this request came from another site: refused"))
    expected = expected_csrf(request)
    given = request.headers.get(CSRF_HEADER)
    if request.url.path in STREAMED:
        # Never parse an upload's body here: it is read, after the session check, by the route.
        if given and not tokens_match(expected, given):
            raise HTTPException(403, _("missing or wrong CSRF token: reload the page and try again"))
        request.state.csrf_checked = bool(given)
        return
    if "form" in request.headers.get("content-type", ""):
        # No file parts (only the upload routes take files, and read their own bodies; the
        # middleware has already refused multipart bodies and anything over MAX_FORM_BYTES here).
        # Starlette caches the parsed form on the request, so the route's Form() fields reuse it.
        form = await request.form(max_files=0, max_fields=200)
        given = given or form.get(CSRF_FIELD)
    if not tokens_match(expected, given if isinstance(given, str) else None):
        raise HTTPException(403, _("missing or wrong CSRF token: reload the page and try again"))


# C0 control characters and DEL: no page offers them and a NUL ends the SQL text it reaches.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


async def plain_query(request: Request) -> None:
    """Refuse (400) a query string whose names or values hold control characters."""
    if any(_CONTROL.search(k) or _CONTROL.search(v) for k, v in request.query_params.multi_items()):
        raise HTTPException(400, _("the address holds control characters: remove them and try again"))


class Forbidden(HTTPException):
    def __init__(self, detail: str | None = None):
        super().__init__(403, detail or _("you do not have access to this page"))


# The dependencies below that only look at the user, or at the agreement's in-memory snapshot
# after current_user has run a query (so the session already holds its connection and never waits
# for the pool), are coroutines: they run on the event loop instead of costing a thread hop each.
# One that may be the first to query for an anonymous visitor (require_level) stays a function:
# waiting for a pooled connection on the event loop would stop the requests that hold them.


async def require_user(user: User | None = Depends(current_user)) -> User:
    if user is None:
        raise Forbidden(_("please log in"))
    return user


def require_roles(*roles: str):  # noqa: ANN201
    """A dependency that lets only users with one of ``roles`` through (403 for everyone else)."""

    async def dependency(user: User | None = Depends(current_user)) -> User:
        if user is None or user.role not in roles:
            raise Forbidden()
        return user

    return dependency


def require_level(level: str):  # noqa: ANN201
    """A dependency for routes with a ``dataset`` path parameter: the ISA must grant ``level``."""

    def dependency(
        request: Request,
        dataset: str,
        user: User | None = Depends(current_user),
        s: Session = Depends(get_db),
    ) -> Dataset:
        ds = portal_of(request).datasets.get(dataset)
        if ds is None:
            raise HTTPException(404, _("no dataset %(name)r", name=dataset))
        if not isa.more_detailed_or_equal(isa.level_for(s, user, dataset), level):
            raise Forbidden(
                _("the information sharing agreement does not let you see this data at this level")
            )
        return ds

    return dependency


async def dashboard_level(
    request: Request, user: User | None = Depends(current_user), s: Session = Depends(get_db)
) -> User:
    """The dashboard maps police.uk counts by LSOA, so it needs LSOA-level access to them."""
    if user is None or not isa.more_detailed_or_equal(isa.level_for(s, user, "police-street"), "lsoa"):
        raise Forbidden(_("the dashboard needs LSOA-level access to police.uk data under the agreement"))
    return user


async def area_level(
    request: Request, user: User | None = Depends(current_user), s: Session = Depends(get_db)
) -> User:
    """The scrutiny pack shows suppressed ward tables: area-level access to police.uk data."""
    if user is None or user.role not in ("member", "analyst"):
        raise Forbidden()
    if not isa.more_detailed_or_equal(isa.level_for(s, user, "police-street"), "area"):
        raise Forbidden(_("the agreement does not give you area-level access to police.uk data"))
    return user


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def body_refusal(method: str, path: str, headers) -> tuple[int, str] | None:  # noqa: ANN001
    """(status, reason) when a request body must be refused before anything reads it: a body for a
    route other than the uploads is a small form or JSON document of declared length, never a file."""
    if method in SAFE_METHODS or path in STREAMED:
        return None
    if headers.get("content-type", "").lower().startswith("multipart/"):
        return 415, "files are accepted only by the upload routes"
    length = headers.get("content-length")
    if length is None:
        if headers.get("transfer-encoding"):
            return 411, "send the request with a Content-Length"
        return None
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return 413, "the request is too large"
    return None


class SecurityHeaders:
    """Language, the CSRF cookie for new browsers, and security headers on every response.

    A plain ASGI middleware (not Starlette's BaseHTTPMiddleware, which costs a task and a stream
    copy per request): it only touches the response's start message.
    """

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = body_refusal(scope["method"], scope["path"], request.headers)
        if refusal is not None:
            # Before the application: FastAPI reads (and spools to disk) a route's form fields before
            # its dependencies check the session, so an oversized or file-carrying body must be
            # refused here, unread.
            await JSONResponse({"detail": refusal[1]}, status_code=refusal[0])(scope, receive, send)
            return
        lang = i18n.choose(request.cookies.get("lang"), request.headers.get("accept-language"))
        i18n.set_language(lang)
        folder = scope["app"].state.portal.config.translations
        i18n.set_directory(str(folder) if folder else None)
        state = scope.setdefault("state", {})
        state["lang"] = lang
        path = scope["path"]
        portal = scope["app"].state.portal
        authenticated = SESSION_COOKIE in request.cookies

        async def send_with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                from starlette.datastructures import MutableHeaders

                headers = MutableHeaders(scope=message)
                if state.get("lang") != lang:
                    # A logged-in user's saved language: the browser remembers it too, so the pages
                    # before the next log-in (and after log-out) stay in it.
                    headers.append(
                        "set-cookie", f"lang={state['lang']}; Max-Age=31536000; Path=/; SameSite=lax"
                    )
                cookie = state.get("new_csrf_cookie")
                if cookie:
                    secure = "; Secure" if portal.config.secure_cookies else ""
                    headers.append(
                        "set-cookie", f"{CSRF_COOKIE}={cookie}; HttpOnly; Path=/; SameSite=lax{secure}"
                    )
                for name, value in (
                    ("content-security-policy", CSP),
                    ("x-content-type-options", "nosniff"),
                    ("x-frame-options", "DENY"),
                    ("referrer-policy", "same-origin"),
                ):
                    if name not in headers:
                        headers[name] = value
                if portal.config.secure_cookies or scope.get("scheme") == "https":
                    headers["strict-transport-security"] = HSTS
                if (
                    (authenticated and not path.startswith("/static/"))
                    or path.startswith(("/api/", "/data/", "/uploads/", "/admin/", "/scrutiny"))
                ) and "cache-control" not in headers:
                    # Nothing a logged-in person sees, and no data, may linger in a shared cache or
                    # the back button of a shared PC.
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def start_session(s: Session, response: Response, portal: Portal, user: User, client: str) -> None:
    """Store a new session for ``user`` and give the browser its token (the only thing the cookie holds)."""
    import datetime as dt

    from sqlalchemy import delete

    token, key = new_session_token()
    now = utcnow()
    s.execute(delete(PortalSession).where(PortalSession.expires_at < now))  # expired ones: gone
    s.add(
        PortalSession(
            id=key,
            user_id=user.id,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=SESSION_MAX_AGE),
            client=client[:64],
        )
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=portal.config.secure_cookies,
        path="/",
    )


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a template with what every page needs: the user, the CSRF token, the navigation."""
    portal = portal_of(request)
    user = getattr(request.state, "user", None)
    lang = getattr(request.state, "lang", i18n.DEFAULT)
    tr = i18n.translations(lang)  # the catalogue folder is the request's (set by SecurityHeaders)
    context.setdefault("user", user)
    html = portal.templates.get_template(name).render(
        request=request,
        csrf_token=csrf_token(request),
        csrf_field=CSRF_FIELD,
        nav=navigation(request, user),
        lang=lang,
        languages=i18n.LANGUAGES,
        version=__version__,
        _=tr.ugettext,
        gettext=tr.ugettext,
        ngettext=tr.ungettext,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def render_fragment(request: Request, name: str, **context: Any) -> str:
    """Render a part of a page that does not depend on the user (so it may be cached), in the
    request's language."""
    lang = getattr(request.state, "lang", i18n.DEFAULT)
    tr = i18n.translations(lang)
    return (
        portal_of(request)
        .templates.get_template(name)
        .render(_=tr.ugettext, gettext=tr.ugettext, ngettext=tr.ungettext, **context)
    )


def navigation(request: Request, user: User | None) -> list[tuple[str, str]]:
    """Links the user may follow (a page the user cannot open is not offered)."""
    from diogel.portal.i18n import N_

    links: list[tuple[str, str]] = []
    if user is not None:
        portal = portal_of(request)
        s = getattr(request.state, "db", None)
        if s is None:  # pragma: no cover - every route that knows the user has the request's session
            raise RuntimeError("navigation needs the request's database session")
        police = isa.level_for(s, user, "police-street")
        can_upload = bool(isa.uploadable(s, user, list(portal.datasets)))
        if isa.more_detailed_or_equal(police, "lsoa"):
            links.append(("/dashboard", N_("Dashboard")))
        if isa.more_detailed_or_equal(police, "area"):
            links.append(("/data/police-street/areas", N_("Data")))
        if user.role in ("analyst", "contributor", "viewer", "member"):
            links += [("/assessments", N_("Strategic assessment")), ("/priorities", N_("Priorities"))]
            links.append(("/targets", N_("Targets")))
            links.append(("/ratings", N_("Priority ratings")))
            links.append(("/meetings", N_("PACT meetings")))
            links.append(("/standards", N_("Minimum standards")))
        if can_upload:
            links.append(("/upload", N_("Upload")))
        if user.role in ("member", "analyst"):
            links.append(("/scrutiny", N_("Scrutiny pack")))
        if user.role in ADMIN_ROLES:
            links.append(("/admin/users", N_("Users")))
        if user.role == "partnership_admin":
            links += [
                ("/admin/agencies", N_("Agencies")),
                ("/admin/agreement", N_("Sharing agreement")),
                ("/admin/audit", N_("Audit log")),
            ]
    links.append(("/public", N_("Public pages")))
    return links


# --------------------------------------------------------------------------------------------------


def _lifespan(portal: Portal):  # noqa: ANN202
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        yield
        portal.close()

    return lifespan


def create_app(config: PortalConfig, warehouse=None) -> FastAPI:  # noqa: ANN001
    """The portal as an ASGI application. ``warehouse``: an open :class:`Warehouse` to share (tests)."""
    from diogel.portal import api, pact, performance, publishing, web

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
    app.include_router(web.router)
    app.include_router(api.router)
    app.include_router(performance.router)
    app.include_router(pact.router)
    app.include_router(publishing.router)

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
