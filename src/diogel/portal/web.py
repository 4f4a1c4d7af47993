"""Server-rendered pages. Each route states who may use it through its dependencies; the agreement
(:mod:`diogel.portal.isa`) decides data access, roles decide everything else."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlparse

import pandas as pd
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from diogel.portal import audit, isa, performance, published, services, uploads
from diogel.portal.app import (
    Forbidden,
    Portal,
    area_level,
    csrf_token,
    current_user,
    dashboard_level,
    get_db,
    portal_of,
    render,
    render_fragment,
    require_level,
    require_roles,
    require_user,
    start_session,
)
from diogel.portal.i18n import gettext as _
from diogel.portal.models import (
    ACTION_STATUSES,
    ADMIN_ROLES,
    AGENCY_KINDS,
    LEVELS,
    PRIORITY_STATUSES,
    ROLES,
    AccessGrant,
    Agency,
    AuditEntry,
    Meeting,
    MeetingAction,
    PartnershipPriority,
    PortalSession,
    PublishedAssessment,
    Upload,
    UploadGrant,
    User,
    utcnow,
)
from diogel.portal.security import SESSION_COOKIE, needs_rehash, verify_password
from diogel.portal.services import PortalError
from diogel.portal.views import AGE_BANDS, ETHNICITIES, SEXES, Dataset, legend, representation

router = APIRouter(include_in_schema=False)

PARTNERS = ("analyst", "contributor", "viewer", "member")
RECORDERS = ("analyst", "contributor")


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


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


def pact_frame(s: Session, portal: Portal, area: str) -> pd.DataFrame:
    """PACT votes in the area's neighbourhoods, as :func:`community_concern` reads them."""
    codes = {c for c, _ in portal.views.neighbourhoods(area)}
    rows = [
        {
            "meeting_date": m.meeting_date,
            "neighbourhood": m.neighbourhood_code,
            "theme": p.theme,
            "votes": p.votes,
        }
        for m in services.meetings_in(s, codes)
        for p in m.priorities
    ]
    return pd.DataFrame(rows, columns=["meeting_date", "neighbourhood", "theme", "votes"])


def dashboard_data(s: Session, portal: Portal, area: str, epoch: int | None = None):  # noqa: ANN201
    """The area's dashboard with priorities scored on the PACT votes as of ``epoch`` (default: now).

    The votes are read only when the priorities must be scored again (a new meeting moves the
    epoch on), not on every visit to the dashboard."""
    stamp = ("pact", portal.pact_epoch if epoch is None else epoch)
    return portal.views.dashboard(area, lambda: pact_frame(s, portal, area), stamp)


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


# --------------------------------------------------------------------------------------------------
# Login


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


# --------------------------------------------------------------------------------------------------
# Dashboard


@router.get("/dashboard")
def dashboard(
    request: Request,
    area: str | None = None,
    user: User = Depends(dashboard_level),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    code = area_for(portal, area)
    # One reading of the epoch for the figures and the cache key, so a meeting recorded meanwhile
    # cannot file old priorities under the new epoch.
    epoch = portal.pact_epoch
    d = dashboard_data(s, portal, code, epoch)
    lang = getattr(request.state, "lang", "en")

    def body() -> str:
        rates = (
            portal.views._lsoa_frame(code, d.months[-12:]).set_index("lsoa_code")["rate_per_1000"]
            if d.months
            else pd.Series(dtype=float)
        )
        return render_fragment(
            request, "dashboard_body.html", d=d, legend=legend(rates), areas=portal.views.areas(),
            sparkline=sparkline, window=portal.views.window_bounds(code), wn=portal.views.where_next(code),
            map_words=map_in_words(rates, d.hotspots),
        )  # fmt: skip

    # The figures are the same for everyone allowed here: render them once per area, PACT epoch,
    # language and catalogue folder (the cache moves on with the warehouse version).
    key = ("dashboard_html", code, epoch, lang, str(portal.config.translations))
    return render(
        request,
        "dashboard.html",
        d=d,
        body=portal.views.cached(key, body),
        record_level=isa.level_for(s, user, "police-street") == "record",
        targets=performance.progress_rows(portal, s, code),
    )


def sparkline(values: list[int], label: str = "", width: int = 120, height: int = 24) -> str:
    """A tiny inline SVG line of monthly counts (markup built from numbers only); ``label``, the
    counts in words, is its text alternative (an image with a name), else it is hidden from screen
    readers as decoration."""
    from markupsafe import escape

    if not values:
        return ""
    hi = max(values) or 1
    step = width / max(1, len(values) - 1)
    pts = " ".join(f"{i * step:.1f},{height - 2 - (v / hi) * (height - 4):.1f}" for i, v in enumerate(values))
    named = f'role="img" aria-label="{escape(label)}"' if label else 'aria-hidden="true"'
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" {named}>'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{pts}"/></svg>'
    )


def map_in_words(rates: pd.Series, hotspots: list[dict[str, Any]], n: int = 3) -> str:
    """The dashboard map as a sentence (its text alternative): the range of rates, the LSOAs with
    the highest, and how many are hot spots, in the request's language."""
    from diogel.portal import i18n

    rates = rates.dropna()
    if rates.empty:
        return _("No LSOA has a rate to map.")
    top = rates.sort_values(ascending=False).head(n)
    words = _(
        "Rates per 1,000 residents run from %(low)s to %(high)s across %(lsoas)s LSOAs; the highest"
        " are in %(top)s.",
        low=i18n.number(rates.min(), 1),
        high=i18n.number(rates.max(), 1),
        lsoas=i18n.number(len(rates)),
        top=", ".join(f"{code} ({i18n.number(v, 1)})" for code, v in top.items()),
    )
    hot = sum(str(h.get("bin", "")).startswith("Hot spot") for h in hotspots)
    return words + " " + _("Hot spots outlined: %(hot)s (listed under Hot spots).", hot=i18n.number(hot))


# --------------------------------------------------------------------------------------------------
# Data at each level of the agreement


def police_only(ds: Dataset) -> None:
    if ds.name != "police-street":
        # Partner datasets get their readers when the partner ingest lands; until then there is
        # nothing to show, and saying so beats an empty table.
        raise HTTPException(404, _("%(title)s: no view of this dataset yet", title=ds.title))


@router.get("/data/{dataset}/records")
def data_records(
    request: Request,
    ds: Dataset = Depends(require_level("record")),
    user: User = Depends(require_user),
    area: str | None = None,
    month: str | None = Query(None, pattern=r"^\d{4}-\d{2}$"),
    crime_type: str | None = None,
    page: int = Query(1, ge=1, le=100000),
    s: Session = Depends(get_db),
) -> Response:
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    size = 100
    rows, total = portal.views.records(code, month, crime_type, limit=size, offset=(page - 1) * size)
    audit.append(
        s, user.username, "view.records", f"{ds.name}/{code}",
        {"month": month, "crime_type": crime_type, "page": page, "rows": len(rows)},
    )  # fmt: skip
    s.commit()
    return render(
        request, "data_records.html", ds=ds, area=code, rows=rows.to_dict("records"), total=total,
        page=page, pages=max(1, -(-total // size)), month=month or "", crime_type=crime_type or "",
    )  # fmt: skip


@router.get("/data/{dataset}/lsoa")
def data_lsoa(
    request: Request, ds: Dataset = Depends(require_level("lsoa")), area: str | None = None
) -> Response:
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    table = portal.views.lsoa_counts(code).pivot_table(
        index="lsoa_code", columns="crime_type", values="count", aggfunc="sum", fill_value=0
    )
    return render(
        request, "data_table.html", ds=ds, area=code, level="lsoa", table=table, rule="", csv="lsoa.csv"
    )


@router.get("/data/{dataset}/areas")
def data_areas(
    request: Request, ds: Dataset = Depends(require_level("area")), area: str | None = None
) -> Response:
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    table, rule, months = portal.views.ward_table(code)
    return render(
        request,
        "data_table.html",
        ds=ds,
        area=code,
        level="area",
        table=table,
        rule=rule,
        csv="areas.csv",
        months=months,
    )


#: A spreadsheet treats a cell starting with one of these as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert as OWASP advises: prefixed with
    a single quote (which Excel and LibreOffice show as text). Numbers are left alone, so a
    negative count stays a number."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell (and column name) neutralised for export."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def csv_response(frame: pd.DataFrame, name: str) -> Response:
    buf = io.StringIO()
    neutralised(frame).to_csv(buf, index=False, lineterminator="\n")
    return Response(
        buf.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def audited_export(
    s: Session,
    user: User,
    ds: Dataset,
    code: str,
    route: str,
    level: str,
    frame: pd.DataFrame,
    rows: int | None = None,
    filename: str | None = None,
) -> Response:
    """Record the export in the audit chain, then send ``frame`` as CSV (no export goes unrecorded)."""
    n = len(frame) if rows is None else rows
    audit.append(s, user.username, "export", f"{ds.name}/{code}/{route}", {"level": level, "rows": n})
    s.commit()
    return csv_response(frame, f"{ds.name}-{code}-{filename or route}")


@router.get("/data/{dataset}/records.csv")
def export_records(
    request: Request,
    ds: Dataset = Depends(require_level("record")),
    user: User = Depends(require_user),
    area: str | None = None,
    s: Session = Depends(get_db),
) -> Response:
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    rows, total = portal.views.records(code, limit=10_000_000)
    return audited_export(s, user, ds, code, "records.csv", "record", rows, total)


@router.get("/data/{dataset}/lsoa.csv")
def export_lsoa(
    request: Request,
    ds: Dataset = Depends(require_level("lsoa")),
    user: User = Depends(require_user),
    area: str | None = None,
    s: Session = Depends(get_db),
) -> Response:
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    frame = portal.views.lsoa_counts(code)
    return audited_export(s, user, ds, code, "lsoa.csv", "lsoa", frame)


@router.get("/data/{dataset}/areas.csv")
def export_areas(
    request: Request,
    ds: Dataset = Depends(require_level("area")),
    user: User = Depends(require_user),
    area: str | None = None,
    s: Session = Depends(get_db),
) -> Response:
    police_only(ds)
    portal = portal_of(request)
    code = area_for(portal, area)
    table, rule, _months = portal.views.ward_table(code)
    frame = table.reset_index().rename(columns={"ward_name": "ward"})
    return audited_export(s, user, ds, code, "areas.csv", "area", frame, filename="wards-suppressed.csv")


# --------------------------------------------------------------------------------------------------
# Upload


def uploader(request: Request, user: User = Depends(require_user), s: Session = Depends(get_db)) -> User:
    if not isa.uploadable(s, user, list(portal_of(request).datasets)):
        raise Forbidden(_("the information sharing agreement does not let your agency upload data"))
    return user


@router.get("/upload")
def upload_page(request: Request, user: User = Depends(uploader), s: Session = Depends(get_db)) -> Response:
    portal = portal_of(request)
    recent = (
        s.execute(select(Upload).where(Upload.user_id == user.id).order_by(Upload.id.desc()).limit(10))
        .scalars()
        .all()
    )
    return render(
        request, "upload.html", datasets=[portal.datasets[d] for d in isa.uploadable(s, user, list(portal.datasets))],
        recent=recent, error=None,
    )  # fmt: skip


async def receive_upload(request: Request, s: Session, user: User) -> services.UploadOutcome:
    """Read the upload (only now: the route's dependencies have found a user whose agency may upload
    something), check the agreement lets ``user`` upload the chosen dataset, then validate,
    de-personalise and load it.

    Raises :class:`UploadRefused` (CSRF, size, a malformed form), :class:`Forbidden` when the
    agreement does not allow the dataset and :class:`PortalError` for a bad file; the caller rolls
    back and answers in its own format (a page or JSON).
    """
    from starlette.concurrency import run_in_threadpool

    from diogel.portal.app import expected_csrf

    portal = portal_of(request)
    max_bytes = portal.config.max_upload_mb << 20
    received = await uploads.receive(
        request, portal.config.data_dir / "uploads", max_bytes, expected_csrf(request),
        bool(getattr(request.state, "csrf_checked", False)),
    )  # fmt: skip
    try:
        dataset = received.fields.get("dataset", "")
        ds = portal.datasets.get(dataset)
        if ds is None or not isa.can_upload(s, user, dataset):
            raise Forbidden(
                _("the information sharing agreement does not let your agency upload this dataset")
            )
        return await run_in_threadpool(
            services.upload_file, s, portal.views, user, ds, received.file_name or "upload", received.path
        )
    finally:
        received.cleanup()


#: The upload form as OpenAPI describes it (the routes read the body themselves, see uploads.py).
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["dataset", "file"],
                    "properties": {
                        "csrf_token": {"type": "string"},
                        "dataset": {"type": "string"},
                        "file": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}


@router.post("/upload", openapi_extra=UPLOAD_BODY)
async def upload(request: Request, user: User = Depends(uploader), s: Session = Depends(get_db)) -> Response:
    portal = portal_of(request)
    try:
        outcome = await receive_upload(request, s, user)
    except PortalError as exc:
        s.rollback()
        return render(
            request, "upload.html", status_code=400, error=str(exc),
            datasets=[portal.datasets[d] for d in isa.uploadable(s, user, list(portal.datasets))], recent=[],
        )  # fmt: skip
    s.commit()
    return redirect(f"/uploads/{outcome.upload.id}")


def visible_upload(s: Session, user: User, upload_id: int) -> tuple[Upload, bool]:
    """An upload, and whether the raw quarantined lines may be shown with it.

    Its uploader sees it in full (the raw lines hold what the partner sent before
    de-personalisation). An analyst sees it without the raw lines when the upload is their own
    agency's, or when the agreement gives them record-level access to its dataset; to anyone else,
    another agency's upload does not exist."""
    up = s.get(Upload, upload_id)
    if up is None:
        raise HTTPException(404, _("no such upload"))
    if up.user_id == user.id:
        return up, True
    if user.role == "analyst" and (
        up.agency_id == user.agency_id or isa.level_for(s, user, up.dataset) == "record"
    ):
        return up, False
    raise HTTPException(404, _("no such upload"))


@router.get("/uploads/{upload_id}")
def upload_result(
    request: Request, upload_id: int, user: User = Depends(require_user), s: Session = Depends(get_db)
) -> Response:
    up, show_raw = visible_upload(s, user, upload_id)
    ids = [r["file_id"] for r in up.results if r.get("file_id") and r.get("status") == "loaded"]
    q = portal_of(request).views.quarantine(ids)
    if not show_raw:
        q = q.drop(columns=["raw"])
    return render(
        request,
        "upload_result.html",
        up=up,
        quarantine=q.head(500).to_dict("records"),
        quarantined=len(q),
        show_raw=show_raw,
    )


# --------------------------------------------------------------------------------------------------
# PACT meetings


def neighbourhood_map(portal: Portal, area: str) -> dict[str, str]:
    return dict(portal.views.neighbourhoods(area))


def meeting_form_data(form: Any) -> dict[str, Any]:
    """The meeting form's flat fields as the nested structure :func:`services.record_meeting` takes."""
    profile = {
        "age": {b: form.get(f"age_{b}") for b, _, _ in AGE_BANDS if form.get(f"age_{b}")},
        "sex": {x: form.get(f"sex_{x}") for x in SEXES if form.get(f"sex_{x}")},
        "ethnicity": {x: form.get(f"eth_{x}") for x in ETHNICITIES if form.get(f"eth_{x}")},
        "ward": {k[5:]: v for k, v in form.items() if k.startswith("home_") and v},  # ward of residence
    }
    priorities = [
        {
            "theme": form.get(f"theme_{i}"),
            "votes": form.get(f"votes_{i}"),
            "chosen": form.get(f"chosen_{i}") == "on",
        }
        for i in range(1, 7)
    ]
    actions = [
        {
            "description": form.get(f"action_{i}"),
            "owner": form.get(f"owner_{i}"),
            "review_date": form.get(f"review_{i}"),
            "status": form.get(f"status_{i}") or "open",
        }
        for i in range(1, 4)
    ]
    return {
        "meeting_date": form.get("meeting_date"),
        "neighbourhood_code": form.get("neighbourhood_code"),
        "attendees": form.get("attendees"),
        "issues": form.get("issues"),
        "profile": profile,
        "priorities": priorities,
        "actions": actions,
    }


@router.get("/meetings")
def meetings(
    request: Request,
    area: str | None = None,
    user: User = Depends(require_roles(*PARTNERS)),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    code = area_for(portal, area)
    rows = services.meetings_in(s, set(neighbourhood_map(portal, code)))
    return render(request, "meetings.html", meetings=rows, area=code, can_record=user.role in RECORDERS)


@router.get("/meetings/new")
def meeting_new(request: Request, user: User = Depends(require_roles(*RECORDERS))) -> Response:
    portal = portal_of(request)
    return meeting_form(request, portal, {}, None)


def meeting_form(
    request: Request, portal: Portal, values: dict, error: str | None, status: int = 200
) -> Response:
    code = area_for(portal, None)
    return render(
        request, "meeting_new.html", status_code=status, neighbourhoods=portal.views.neighbourhoods(code),
        age_bands=[b for b, _, _ in AGE_BANDS], sexes=SEXES, ethnicities=ETHNICITIES, statuses=ACTION_STATUSES,
        v=values, error=error, today=dt.date.today().isoformat(),
    )  # fmt: skip


@router.post("/meetings")
async def meeting_create(
    request: Request, user: User = Depends(require_roles(*RECORDERS)), s: Session = Depends(get_db)
) -> Response:
    portal = portal_of(request)
    form = await request.form()
    data = meeting_form_data(form)
    code = area_for(portal, None)
    try:
        meeting = services.record_meeting(s, user, neighbourhood_map(portal, code), data)
    except PortalError as exc:
        s.rollback()
        return meeting_form(request, portal, dict(form), str(exc), status=400)
    s.commit()
    portal.pact_epoch += 1
    return redirect(f"/meetings/{meeting.id}")


@router.get("/meetings/{meeting_id}")
def meeting_view(
    request: Request,
    meeting_id: int,
    user: User = Depends(require_roles(*PARTNERS)),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    m = s.get(Meeting, meeting_id)
    if m is None:
        raise HTTPException(404, _("no such meeting"))
    return render(
        request, "meeting.html", m=m, rep=meeting_representation(portal, m), warnings=services.meeting_warnings(m),
        can_edit=user.role in RECORDERS, statuses=ACTION_STATUSES,
    )  # fmt: skip


def meeting_representation(portal: Portal, m: Meeting):  # noqa: ANN201
    area = portal.default_area()
    for a in portal.views.areas():
        if m.neighbourhood_code in dict(portal.views.neighbourhoods(a.code)):
            area = a.code
            break
    residents = portal.views.ward_age_profile(area, m.neighbourhood_code)
    return representation((m.profile or {}).get("age", {}), residents)


@router.post("/meetings/{meeting_id}/actions/{action_id}")
def meeting_action(
    request: Request,
    meeting_id: int,
    action_id: int,
    status: str = Form(...),
    user: User = Depends(require_roles(*RECORDERS)),
    s: Session = Depends(get_db),
) -> Response:
    action = s.get(MeetingAction, action_id)
    if action is None or action.meeting_id != meeting_id:
        raise HTTPException(404, _("no such action"))
    try:
        services.update_action(s, user, action, status)
    except PortalError as exc:
        raise HTTPException(400, str(exc)) from None
    s.commit()
    return redirect(f"/meetings/{meeting_id}")


# --------------------------------------------------------------------------------------------------
# National minimum standards


@router.get("/standards")
def standards(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> Response:
    portal = portal_of(request)
    code = area_for(portal, None)
    return render(
        request, "standards.html", cmp=services.standards_comparison(s, code), can_edit=user.role == "analyst",
        this_year=dt.date.today().year,
    )  # fmt: skip


@router.get("/standards/{year}/edit")
def standards_edit(
    request: Request, year: int, user: User = Depends(require_roles("analyst")), s: Session = Depends(get_db)
) -> Response:
    portal = portal_of(request)
    cmp = services.standards_comparison(s, area_for(portal, None))
    current = {}
    if year in cmp["years"]:
        i = cmp["years"].index(year)
        current = {h["key"]: h["cells"][i] for h in cmp["hallmarks"] if h["cells"][i]}
    return render(
        request, "standards_edit.html", year=year, hallmarks=services.HALLMARKS, current=current, error=None
    )


@router.post("/standards/{year}")
async def standards_save(
    request: Request, year: int, user: User = Depends(require_roles("analyst")), s: Session = Depends(get_db)
) -> Response:
    portal = portal_of(request)
    form = await request.form()
    ratings = {
        key: {
            "rag": form.get(f"{key}_rag"),
            "criteria_met": form.getlist(f"{key}_criteria"),
            "evidence": form.get(f"{key}_evidence") or "",
            "actions": form.get(f"{key}_actions") or "",
        }
        for key in services.HALLMARK_KEYS
    }
    try:
        services.save_standards(s, user, area_for(portal, None), year, ratings)
    except PortalError as exc:
        s.rollback()
        return render(
            request, "standards_edit.html", status_code=400, year=year, hallmarks=services.HALLMARKS,
            current=ratings, error=str(exc),
        )  # fmt: skip
    s.commit()
    return redirect("/standards")


# --------------------------------------------------------------------------------------------------
# Strategic assessments


@router.get("/assessments")
def assessments(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> Response:
    q = select(PublishedAssessment).order_by(PublishedAssessment.id.desc())
    if user.role != "analyst":
        q = q.where(PublishedAssessment.published_at.is_not(None))
    rows = s.execute(q).scalars().all()
    files = {r.id: [f for f in services.ASSESSMENT_FILES if services.assessment_file(r, f)] for r in rows}
    return render(
        request, "assessments.html", rows=rows, files=files, can_register=user.role == "analyst", error=None
    )


@router.post("/assessments")
def assessment_register(
    request: Request,
    directory: str = Form(...),
    title: str = Form(""),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    try:
        services.register_assessment(s, user, directory, portal.config.data_dir, title)
    except PortalError as exc:
        s.rollback()
        rows = s.execute(select(PublishedAssessment).order_by(PublishedAssessment.id.desc())).scalars().all()
        files = {r.id: [f for f in services.ASSESSMENT_FILES if services.assessment_file(r, f)] for r in rows}
        return render(
            request,
            "assessments.html",
            status_code=400,
            rows=rows,
            files=files,
            can_register=True,
            error=str(exc),
        )
    s.commit()
    return redirect("/assessments")


@router.post("/assessments/{assessment_id}/publish")
def assessment_publish(
    assessment_id: int,
    publish: str = Form("yes"),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    row = s.get(PublishedAssessment, assessment_id)
    if row is None:
        raise HTTPException(404, _("no such assessment"))
    services.publish_assessment(s, user, row, publish == "yes")
    s.commit()
    return redirect("/assessments")


@router.get("/assessments/{assessment_id}/{filename}")
def assessment_file(
    assessment_id: int,
    filename: str,
    user: User = Depends(require_roles(*PARTNERS)),
    s: Session = Depends(get_db),
) -> Response:
    row = s.get(PublishedAssessment, assessment_id)
    # Unpublished drafts are the analysts'; to anyone else they do not exist.
    if row is None or (row.published_at is None and user.role != "analyst"):
        raise HTTPException(404, _("no such assessment"))
    path = services.assessment_file(row, filename)
    if path is None:
        raise HTTPException(404, _("no such file in this assessment"))
    if path.suffix.lower() == ".html":
        # The report is a self-contained document: its styles are allowed by hash, never scripts.
        from diogel.portal.contained import contain

        document, csp = contain(path.read_text(encoding="utf-8", errors="replace"))
        return Response(document, media_type="text/html", headers={"Content-Security-Policy": csp})
    response = FileResponse(path)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'"
    )
    return response


# --------------------------------------------------------------------------------------------------
# Partnership priorities


def priority_progress(portal: Portal, code: str, rows: list[PartnershipPriority]) -> list[dict[str, Any]]:
    """Each priority with the area's recorded count of its crime type in the headline trends'
    window and the window before (police.uk, counting rules), suppressed exactly as the published
    trends (:func:`diogel.portal.published.area_trends`): None where hidden."""
    trends, _rule = published.area_trends(portal.views, code)
    counts = published.trend_counts(trends)
    _months, _current, previous, _words = portal.views.windows(code)
    out = []
    for r in rows:
        item: dict[str, Any] = {
            "id": r.id, "title": r.title, "aim": r.aim, "crime_type": r.crime_type,
            "adopted_on": r.adopted_on.isoformat(), "status": r.status, "progress": r.progress,
            "now": None, "before": None, "percent_change": None, "window": portal.views.window_bounds(code),
        }  # fmt: skip
        if r.crime_type and previous:
            # A crime type with no record in either window counts 0 (shown: a zero is not disclosive).
            now, before = counts.get(r.crime_type, (0, 0))
            item["now"], item["before"] = now, before
            if now is not None and before:
                item["percent_change"] = round(100.0 * (now - before) / before, 1)
        out.append(item)
    return out


@router.get("/priorities")
def priorities(
    request: Request, user: User = Depends(require_roles(*PARTNERS)), s: Session = Depends(get_db)
) -> Response:
    return priorities_page(request, s, user, None)


def priorities_page(
    request: Request, s: Session, user: User, error: str | None, status: int = 200
) -> Response:
    from diogel.analysis.harm import POLICEUK_CRIME_TYPES

    portal = portal_of(request)
    code = area_for(portal, None)
    return render(
        request, "priorities.html", status_code=status, items=priority_progress(portal, code, services.priorities_in(s, code)),
        can_edit=user.role == "analyst", crime_types=POLICEUK_CRIME_TYPES, statuses=PRIORITY_STATUSES,
        error=error, today=dt.date.today().isoformat(),
    )  # fmt: skip


@router.post("/priorities")
def priority_create(
    request: Request,
    title: str = Form(""),
    aim: str = Form(""),
    crime_type: str = Form(""),
    adopted_on: str = Form(""),
    progress: str = Form(""),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    data = {
        "title": title,
        "aim": aim,
        "crime_type": crime_type,
        "adopted_on": adopted_on,
        "progress": progress,
    }
    try:
        services.save_priority(s, user, area_for(portal, None), data)
    except PortalError as exc:
        s.rollback()
        return priorities_page(request, s, user, str(exc), 400)
    s.commit()
    return redirect("/priorities")


@router.post("/priorities/{priority_id}")
def priority_update(
    request: Request,
    priority_id: int,
    status: str = Form(""),
    progress: str = Form(""),
    user: User = Depends(require_roles("analyst")),
    s: Session = Depends(get_db),
) -> Response:
    row = s.get(PartnershipPriority, priority_id)
    if row is None:
        raise HTTPException(404, _("no such priority"))
    try:
        services.save_priority(s, user, row.area_code, {"status": status, "progress": progress}, row)
    except PortalError as exc:
        s.rollback()
        return priorities_page(request, s, user, str(exc), 400)
    s.commit()
    return redirect("/priorities")


# --------------------------------------------------------------------------------------------------
# Public pages and the scrutiny pack


@router.get("/public")
def public_index(request: Request) -> Response:
    from diogel.portal.publishing import public_areas

    portal = portal_of(request)
    return render(request, "public_index.html", areas=public_areas(portal, portal.config.public_areas))


def public_data(s: Session, portal: Portal, code: str) -> dict[str, Any]:
    """What anyone may see about an area: ward tables with small numbers suppressed, the priorities
    neighbourhood meetings chose and how their actions are going. No LSOA figures, no records."""
    try:
        area = portal.views.area(code)
    except KeyError:
        raise HTTPException(404, _("no partnership area %(code)r", code=code)) from None
    if isa.level_for(s, None, "police-street") != "public":
        raise Forbidden(_("the agreement does not publish police.uk figures"))
    table, rule, months = portal.views.ward_table(code)
    meetings = services.meetings_in(s, set(neighbourhood_map(portal, code)))
    chosen = [
        {
            "neighbourhood": m.neighbourhood_name,
            "date": m.meeting_date.isoformat(),
            "priorities": [p.theme for p in m.priorities if p.chosen],
            "actions_done": sum(a.status == "done" for a in m.actions),
            "actions_total": len(m.actions),
        }
        for m in meetings[:20]
    ]
    totals = table["Total"] if "Total" in table.columns else pd.Series(dtype="Int64")
    adopted = priority_progress(portal, code, services.priorities_in(s, code, include_retired=False))
    from diogel.portal.publishing import public_assessment

    return {
        "assessment": public_assessment(s, code),
        "priorities": adopted,
        "area": area,
        "table": table,
        "rule": rule,
        "months": months,
        "meetings": chosen,
        "totals": totals,
    }


@router.get("/public/{area_code}")
def public_area(request: Request, area_code: str, s: Session = Depends(get_db)) -> Response:
    data = public_data(s, portal_of(request), area_code)
    return render(request, "public_area.html", **data)


@router.get("/scrutiny")
def scrutiny(request: Request, user: User = Depends(area_level), s: Session = Depends(get_db)) -> Response:
    portal = portal_of(request)
    code = area_for(portal, None)
    d = dashboard_data(s, portal, code)
    table, rule, months = portal.views.ward_table(code)
    meetings = services.meetings_in(s, set(neighbourhood_map(portal, code)))
    reps = {m.id: meeting_representation(portal, m) for m in meetings[:12]}
    today = dt.date.today()
    overdue = [
        (m, a)
        for m in meetings
        for a in m.actions
        if a.status in ("open", "in progress") and a.review_date and a.review_date < today
    ]
    trends, trend_rule = published.area_trends(portal.views, code)
    from diogel.portal.pact import residence_representation

    return render(
        request, "scrutiny.html", residence=residence_representation(portal, meetings, code), d=d, trends=trends, trend_rule=trend_rule, window=portal.views.window_bounds(code), table=table, rule=rule, months=months, meetings=meetings[:12], reps=reps,
        overdue=overdue, cmp=services.standards_comparison(s, code), assessment=services.latest_published(s),
        priorities=priority_progress(portal, code, services.priorities_in(s, code)),
        targets=performance.progress_rows(portal, s, code),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------
# Administration


#: Account administration: an agency's administrator (their agency's accounts) or a partnership
#: administrator (every account). The agencies, the agreement and the audit log are partnership-wide.
admin_only = require_roles(*ADMIN_ROLES)
partnership_only = require_roles("partnership_admin")


def administered_users(s: Session, by: User) -> list[User]:
    q = select(User).order_by(User.username)
    if by.role != "partnership_admin":
        q = q.where(User.agency_id == by.agency_id)
    return list(s.execute(q).scalars())


def administered_agencies(s: Session, by: User) -> list[Agency]:
    q = select(Agency).order_by(Agency.name)
    if by.role != "partnership_admin":
        q = q.where(Agency.id == by.agency_id)
    return list(s.execute(q).scalars())


@router.get("/admin/users")
def admin_users(request: Request, user: User = Depends(admin_only), s: Session = Depends(get_db)) -> Response:
    return admin_users_page(request, s, user, None)


def admin_users_page(
    request: Request, s: Session, by: User, error: str | None, status: int = 200
) -> Response:
    roles = ROLES if by.role == "partnership_admin" else tuple(r for r in ROLES if r != "partnership_admin")
    return render(
        request, "admin_users.html", status_code=status, users=administered_users(s, by),
        agencies=administered_agencies(s, by), roles=roles, error=error, now=utcnow(),
    )  # fmt: skip


@router.post("/admin/users")
def admin_user_create(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    role: str = Form(...),
    agency_id: int = Form(...),
    display_name: str = Form(""),
    user: User = Depends(admin_only),
    s: Session = Depends(get_db),
) -> Response:
    agency = s.get(Agency, agency_id)
    try:
        if agency is None:
            raise PortalError(_("choose an agency"))
        services.create_user(s, user, username, password, role, agency, display_name)
    except services.ScopeError as exc:
        s.rollback()
        audit.append(
            s, user.username, "admin.refused", username, {"action": "user.create", "agency_id": agency_id}
        )
        s.commit()
        raise Forbidden(str(exc)) from None
    except PortalError as exc:
        s.rollback()
        return admin_users_page(request, s, user, str(exc), 400)
    s.commit()
    return redirect("/admin/users")


@router.post("/admin/users/{user_id}")
def admin_user_change(
    request: Request,
    user_id: int,
    role: str | None = Form(None),
    agency_id: int | None = Form(None),
    active: str | None = Form(None),
    password: str | None = Form(None),
    unlock: str | None = Form(None),
    revoke: str | None = Form(None),
    user: User = Depends(admin_only),
    s: Session = Depends(get_db),
) -> Response:
    target = s.get(User, user_id)
    if target is None or not services.may_administer(user, target):
        # Another agency's accounts do not exist for an agency's administrator (the attempt is audited).
        audit.append(s, user.username, "admin.refused", str(user_id), {"action": "user.change"})
        s.commit()
        raise HTTPException(404, _("no such user"))
    try:
        services.change_user(
            s, user, target, role=role or None, agency_id=agency_id,
            active=None if active is None else active == "yes", password=password or None,
            unlock=unlock == "yes", revoke=revoke == "yes",
        )  # fmt: skip
    except services.ScopeError as exc:
        s.rollback()
        audit.append(s, user.username, "admin.refused", target.username, {"action": "user.change"})
        s.commit()
        raise Forbidden(str(exc)) from None
    except PortalError as exc:
        s.rollback()
        return admin_users_page(request, s, user, str(exc), 400)
    if unlock == "yes":
        portal_of(request).throttle.clear(target.username)
    s.commit()
    return redirect("/admin/users")


@router.get("/admin/agencies")
def admin_agencies(
    request: Request, user: User = Depends(partnership_only), s: Session = Depends(get_db)
) -> Response:
    return render(
        request, "admin_agencies.html", agencies=s.execute(select(Agency).order_by(Agency.name)).scalars().all(),
        kinds=AGENCY_KINDS, error=None,
    )  # fmt: skip


@router.post("/admin/agencies")
def admin_agency_create(
    request: Request,
    name: str = Form(...),
    kind: str = Form(...),
    user: User = Depends(partnership_only),
    s: Session = Depends(get_db),
) -> Response:
    try:
        services.create_agency(s, user, name, kind, list(portal_of(request).datasets))
    except PortalError as exc:
        s.rollback()
        return render(
            request, "admin_agencies.html", status_code=400,
            agencies=s.execute(select(Agency).order_by(Agency.name)).scalars().all(), kinds=AGENCY_KINDS, error=str(exc),
        )  # fmt: skip
    s.commit()
    return redirect("/admin/agencies")


@router.get("/admin/agreement")
def admin_agreement(
    request: Request, user: User = Depends(partnership_only), s: Session = Depends(get_db)
) -> Response:
    portal = portal_of(request)
    access = s.execute(select(AccessGrant).order_by(AccessGrant.dataset, AccessGrant.role)).scalars().all()
    uploads = s.execute(select(UploadGrant).order_by(UploadGrant.dataset)).scalars().all()
    agencies = s.execute(select(Agency).order_by(Agency.name)).scalars().all()
    return render(
        request, "admin_agreement.html", access=access, uploads=uploads, agencies=agencies, datasets=portal.datasets,
        titles={name: ds.title for name, ds in portal.datasets.items()},
        roles=(*ROLES, "public"), levels=LEVELS, kinds=AGENCY_KINDS,
    )  # fmt: skip


@router.post("/admin/agreement/access")
def admin_agreement_access(
    request: Request,
    dataset: str = Form(...),
    role: str = Form(...),
    agency_kind: str = Form(""),
    level: str = Form(...),
    user: User = Depends(partnership_only),
    s: Session = Depends(get_db),
) -> Response:
    portal = portal_of(request)
    if (
        dataset not in portal.datasets
        or role not in (*ROLES, "public")
        or (agency_kind and agency_kind not in AGENCY_KINDS)
    ):
        raise HTTPException(400, _("unknown dataset, role or agency kind"))
    if level not in (*LEVELS, "none"):
        raise HTTPException(400, _("unknown level"))
    if role == "public" and level not in ("public", "none"):
        raise HTTPException(400, _("anonymous visitors can only be given the public level"))
    isa.set_access(s, dataset, role, agency_kind or None, None if level == "none" else level)
    audit.append(
        s,
        user.username,
        "agreement.access",
        dataset,
        {"role": role, "agency_kind": agency_kind or None, "level": level},
    )
    s.commit()
    return redirect("/admin/agreement")


@router.post("/admin/agreement/upload")
def admin_agreement_upload(
    request: Request,
    dataset: str = Form(...),
    agency_id: int = Form(...),
    allowed: str = Form("yes"),
    user: User = Depends(partnership_only),
    s: Session = Depends(get_db),
) -> Response:
    agency = s.get(Agency, agency_id)
    if dataset not in portal_of(request).datasets or agency is None:
        raise HTTPException(400, _("unknown dataset or agency"))
    isa.set_upload(s, dataset, agency_id, allowed == "yes")
    audit.append(
        s, user.username, "agreement.upload", dataset, {"agency": agency.name, "allowed": allowed == "yes"}
    )
    s.commit()
    return redirect("/admin/agreement")


@router.get("/admin/audit")
def admin_audit(
    request: Request, user: User = Depends(partnership_only), s: Session = Depends(get_db)
) -> Response:
    result = audit.verify(s)
    entries = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(200)).scalars().all()
    return render(request, "admin_audit.html", result=result, entries=entries)


# The CSRF token of a page is also needed by htmx requests; expose it for scripts on the page.
__all__ = ["csrf_token", "router"]
