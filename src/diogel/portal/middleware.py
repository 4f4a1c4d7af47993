"""The portal's ASGI middleware: refuses unreadable bodies before the application, sets the
language, the CSRF cookie for new browsers and the security headers on every response."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from diogel.portal import i18n
from diogel.portal.deps import MAX_FORM_BYTES, SAFE_METHODS, STREAMED
from diogel.portal.security import CSRF_COOKIE, SESSION_COOKIE

#: Content Security Policy for every page: nothing from anywhere but the portal itself, no inline
#: script or style (htmx, the API docs and the style sheet load as files; colours and bars are SVG
#: attributes, which the policy does not govern).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"


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
