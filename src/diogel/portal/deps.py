"""Who may use a route: the request's database session, its user, the CSRF check and the
authorisation dependencies every route (page or API) states. The agreement
(:mod:`diogel.portal.isa`) decides data access, roles decide everything else.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeVar

from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session

from diogel.portal import i18n, isa
from diogel.portal.db import row_by_id
from diogel.portal.i18n import gettext as _
from diogel.portal.models import ADMIN_ROLES, PortalSession, User, utcnow
from diogel.portal.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    session_key,
    tokens_match,
)
from diogel.portal.views import Dataset

if TYPE_CHECKING:
    from diogel.portal.state import Portal

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PARTNERS = ("analyst", "contributor", "viewer", "member")
RECORDERS = ("analyst", "contributor")


T = TypeVar("T")


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


#: Account administration: an agency's administrator (their agency's accounts) or a partnership
#: administrator (every account). The agencies, the agreement and the audit log are partnership-wide.
admin_only = require_roles(*ADMIN_ROLES)
partnership_only = require_roles("partnership_admin")


def uploader(request: Request, user: User = Depends(require_user), s: Session = Depends(get_db)) -> User:
    if not isa.uploadable(s, user, list(portal_of(request).datasets)):
        raise Forbidden(_("the information sharing agreement does not let your agency upload data"))
    return user


def found(s: Session, model: type[T], key: int, missing: str) -> T:
    """The row of ``model`` with primary key ``key``, or a 404 saying ``missing`` (already translated)."""
    row = row_by_id(s, model, key)
    if row is None:
        raise HTTPException(404, missing)
    return row


def area_for(portal: Portal, requested: str | None) -> str:
    """The area a page shows: one the warehouse knows (``?area=``), else the portal's default."""
    codes = [a.code for a in portal.views.areas()]
    if requested:
        if requested not in codes:
            raise HTTPException(
                404, _("no partnership area %(code)r with data in the warehouse", code=requested)
            )
        return requested
    area = portal.default_area()
    if area is None:
        raise HTTPException(404, _("the warehouse has no police.uk data yet: ingest some first"))
    return area


def police_only(ds: Dataset) -> None:
    if ds.name != "police-street":
        # Partner datasets get their readers when the partner ingest lands; until then there is
        # nothing to show, and saying so beats an empty table.
        raise HTTPException(404, _("%(title)s: no view of this dataset yet", title=ds.title))
