"""Signing in and out, the language, the API's "who am I", and the small pages every visitor may reach."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from diogel.portal import audit, isa
from diogel.portal.deps import PARTNERS, csrf_token, current_user, get_db, portal_of
from diogel.portal.i18n import gettext as _
from diogel.portal.models import ADMIN_ROLES, PortalSession, User, utcnow
from diogel.portal.pages import redirect, render
from diogel.portal.security import (
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    needs_rehash,
    new_session_token,
    verify_password,
)
from diogel.portal.state import Portal

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["api"])


def home_for(user: User | None, s: Session) -> str:
    if user is None:
        return "/public"
    if user.role in ADMIN_ROLES:
        return "/admin/users"
    if isa.more_detailed_or_equal(isa.level_for(s, user, "police-street"), "lsoa"):
        return "/dashboard"
    if user.role == "member":
        return "/scrutiny"
    return "/meetings" if user.role in PARTNERS else "/public"


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


@router.get("/")
def index(user: User | None = Depends(current_user), s: Session = Depends(get_db)) -> Response:
    return redirect(home_for(user, s))


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"ok": True})


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:  # noqa: A002
    return render(request, "login.html", next=next, error=None)


def safe_next(value: str) -> str | None:
    """Only a path on this site: never let a login redirect a user to another site."""
    parsed = urlparse(value or "")
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and not parsed.netloc
        and not parsed.scheme
    ):
        return value
    return None


def attempt_login(
    s: Session, portal: Portal, username: str, password: str, client: str
) -> tuple[User | None, str, int]:
    """(user or None, message, HTTP status). Every outcome is audited.

    Every refusal is the same 401 with the same sentence, after the same work (an unknown name is
    checked against a dummy hash), whether the name is unknown, the password wrong or the account
    disabled; throttling only delays the answer (see :func:`login`), for known and unknown names
    alike, so neither the answer nor its timing says which usernames exist."""
    username = (username or "").strip().lower()[:120]
    user = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = verify_password(user.password_hash if user is not None else None, password or "")
    if not ok or user is None or not user.active:
        portal.throttle.failed(username, client)
        if user is not None:
            user.failed_logins += 1
        audit.append(s, username or "anonymous", "login.failed", username, {"client": client})
        s.commit()
        return None, _("wrong username or password"), 401
    portal.throttle.succeeded(username)
    user.failed_logins = 0
    if needs_rehash(user.password_hash):
        from diogel.portal.security import hash_password

        user.password_hash = hash_password(password)
    audit.append(s, username, "login", username, {"client": client, "role": user.role})
    return user, "", 200


@router.post("/login")
async def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form(""),  # noqa: A002
    s: Session = Depends(get_db),
) -> Response:
    import asyncio

    from starlette.concurrency import run_in_threadpool

    portal = portal_of(request)
    client = request.client.host if request.client else "unknown"
    # Throttled: wait before answering (on the event loop: a waiting attempt holds no thread).
    delay = portal.throttle.delay((username or "").strip().lower()[:120], client)
    if delay:
        await asyncio.sleep(delay)
    user, message, status = await run_in_threadpool(attempt_login, s, portal, username, password, client)
    if user is None:
        return render(request, "login.html", status_code=status, next=next, error=message, username=username)
    response = redirect(safe_next(next) or home_for(user, s))
    if user.language:  # the account's language, chosen in another browser perhaps
        response.set_cookie("lang", user.language, max_age=365 * 86400, samesite="lax", path="/")
    # A new session (and so new session-bound CSRF tokens): a token planted before login is worthless.
    start_session(s, response, portal, user, client)
    await run_in_threadpool(s.commit)
    return response


@router.post("/logout")
def logout(
    request: Request, user: User | None = Depends(current_user), s: Session = Depends(get_db)
) -> Response:
    if user is not None:
        session_id = getattr(request.state, "session_id", None)
        if session_id:
            s.execute(delete(PortalSession).where(PortalSession.id == session_id))
        audit.append(s, user.username, "logout", user.username)
        s.commit()
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/docs")
def docs(request: Request) -> Response:
    """Swagger UI for /openapi.json, from the vendored bundle."""
    return render(request, "docs.html")


@router.get("/language/{lang}")
def language(
    request: Request,
    lang: str,
    user: User | None = Depends(current_user),
    s: Session = Depends(get_db),
) -> Response:
    """Switch language: the browser remembers it (cookie) and so does a logged-in user's account."""
    from diogel.portal.i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise HTTPException(404, _("no such language"))
    if user is not None and user.language != lang:
        user.language = lang
        s.commit()
    request.state.lang = lang
    back = (
        safe_next(request.headers.get("referer", "").split(str(request.base_url).rstrip("/"), 1)[-1]) or "/"
    )
    response = redirect(back)
    response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


class Me(BaseModel):
    role: str
    username: str | None = None
    agency: str | None = None
    csrf_token: str
    levels: dict[str, str | None]


@api.get("/me", response_model=Me)
def me(request: Request, user: User | None = Depends(current_user), s: Session = Depends(get_db)) -> Me:
    """Who the caller is, the CSRF token to send back, and the caller's level on each dataset."""
    portal = portal_of(request)
    return Me(
        role=user.role if user else "public",
        username=user.username if user else None,
        agency=user.agency.name if user else None,
        csrf_token=csrf_token(request),
        levels={d: isa.level_for(s, user, d) for d in portal.datasets},
    )
