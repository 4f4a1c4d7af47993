"""Pages: a template rendered with what every page needs (the user, the CSRF token, the navigation
in the request's language), and the redirect after a form."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from diogel import __version__
from diogel.portal import i18n, isa
from diogel.portal.deps import csrf_token, portal_of
from diogel.portal.models import ADMIN_ROLES, User
from diogel.portal.security import CSRF_FIELD


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a template with what every page needs: the user, the CSRF token, the navigation."""
    portal = portal_of(request)
    user = getattr(request.state, "user", None)
    lang = getattr(request.state, "lang", i18n.DEFAULT)
    tr = i18n.translations(lang)  # the catalogue folder is the request's (set by SecurityHeaders)
    context.setdefault("user", user)
    context.setdefault("ward", i18n.ward_namer(lang, portal.views.welsh_wards))
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
    portal = portal_of(request)
    context.setdefault("ward", i18n.ward_namer(lang, portal.views.welsh_wards))
    return portal.templates.get_template(name).render(
        _=tr.ugettext, gettext=tr.ugettext, ngettext=tr.ungettext, **context
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
