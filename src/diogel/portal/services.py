"""What the portal does, independent of pages or the API: accounts, uploads, meetings, standards,
strategic assessments. Pages, the JSON API and the ``diogel users`` command all call these, so a
rule (and its audit entry) is written once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from diogel.errors import InputError
from diogel.portal import audit, isa
from diogel.portal.db import row_by_id
from diogel.portal.errors import PortalError
from diogel.portal.i18n import gettext as _
from diogel.portal.models import (
    ACTION_STATUSES,
    AGENCY_KINDS,
    PRIORITY_STATUSES,
    ROLES,
    Agency,
    Meeting,
    MeetingAction,
    MeetingPriority,
    PartnershipPriority,
    PublishedAssessment,
    Upload,
    User,
    utcnow,
)
from diogel.portal.security import check_password_strength, hash_password
from diogel.portal.standards import HALLMARK_KEYS, HALLMARKS, save_standards, standards_comparison
from diogel.portal.views import AGE_BANDS, ETHNICITIES, SEXES, Dataset, WarehouseViews

# PortalError and the standards' functions are imported from here by pages, commands and tests.
__all__ = ["HALLMARKS", "HALLMARK_KEYS", "PortalError", "save_standards", "standards_comparison"]


def actor(user: User | None) -> str:
    return user.username if user is not None else "anonymous"


# --------------------------------------------------------------------------------------------------
# Agencies and accounts


def create_agency(s: Session, by: User | None, name: str, kind: str, datasets: list[str]) -> Agency:
    name = name.strip()
    if not name:
        raise PortalError(_("an agency needs a name"))
    if kind not in AGENCY_KINDS:
        raise PortalError(_("agency kind must be one of %(kinds)s", kinds=", ".join(AGENCY_KINDS)))
    if s.execute(select(Agency).where(Agency.name == name)).scalar_one_or_none():
        raise PortalError(_("there is already an agency called %(name)r", name=name))
    agency = Agency(name=name, kind=kind)
    s.add(agency)
    s.flush()
    granted = isa.seed_uploads(s, agency, datasets)
    audit.append(s, actor(by), "agency.create", name, {"kind": kind, "upload_grants": granted})
    return agency


def get_or_create_agency(s: Session, by: User | None, name: str, kind: str, datasets: list[str]) -> Agency:
    found = s.execute(select(Agency).where(Agency.name == name.strip())).scalar_one_or_none()
    return found if found is not None else create_agency(s, by, name, kind, datasets)


def create_user(
    s: Session,
    by: User | None,
    username: str,
    password: str,
    role: str,
    agency: Agency,
    display_name: str = "",
) -> User:
    username = username.strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._@-]{1,119}", username):
        raise PortalError(_("a username is 2 to 120 letters, digits, dots, dashes, underscores or @"))
    if role not in ROLES:
        raise PortalError(_("role must be one of %(roles)s", roles=", ".join(ROLES)))
    check_scope(by, agency.id, role)
    problem = check_password_strength(password, username)
    if problem:
        raise PortalError(_(problem))
    if s.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise PortalError(_("there is already a user %(name)r", name=username))
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        password_hash=hash_password(password),
        role=role,
        agency_id=agency.id,
    )
    s.add(user)
    s.flush()
    audit.append(s, actor(by), "user.create", username, {"role": role, "agency": agency.name})
    return user


class ScopeError(PortalError):
    """An administrator acting outside their agency (answered 403)."""


def may_administer(by: User | None, target: User) -> bool:
    """A partnership administrator (or the command line, ``by=None``) may manage every account; an
    agency's administrator only the accounts of that agency that are not partnership administrators."""
    if by is None or by.role == "partnership_admin":
        return True
    return by.role == "admin" and target.agency_id == by.agency_id and target.role != "partnership_admin"


def check_scope(by: User | None, agency_id: int, role: str) -> None:
    """Refuse an agency administrator giving an account another agency or the partnership-wide role."""
    if by is None or by.role == "partnership_admin":
        return
    if by.role != "admin" or agency_id != by.agency_id:
        raise ScopeError(_("an agency's administrator manages only the accounts of that agency"))
    if role == "partnership_admin":
        raise ScopeError(_("only a partnership administrator can make another"))


def revoke_sessions(s: Session, user: User) -> int:
    """End every session of ``user`` at once; returns how many there were."""
    from sqlalchemy import delete

    from diogel.portal.models import PortalSession

    return s.execute(delete(PortalSession).where(PortalSession.user_id == user.id)).rowcount or 0


def change_user(
    s: Session,
    by: User,
    user: User,
    role: str | None = None,
    agency_id: int | None = None,
    active: bool | None = None,
    password: str | None = None,
    unlock: bool = False,
    revoke: bool = False,
) -> dict[str, Any]:
    """Change an account; any change to what it may do ends its sessions. Returns what changed.

    Raises :class:`ScopeError` when ``by`` may not manage ``user`` (see :func:`may_administer`)."""
    if not may_administer(by, user):
        raise ScopeError(_("an agency's administrator manages only the accounts of that agency"))
    check_scope(by, user.agency_id if agency_id is None else agency_id, role or user.role)
    changes: dict[str, Any] = {}
    if role is not None and role != user.role:
        if role not in ROLES:
            raise PortalError(_("role must be one of %(roles)s", roles=", ".join(ROLES)))
        if user.id == by.id and role != by.role:
            raise PortalError(_("you cannot change your own administrator role"))
        changes["role"] = [user.role, role]
        user.role = role
    if agency_id is not None and agency_id != user.agency_id:
        agency = row_by_id(s, Agency, agency_id)
        if agency is None:
            raise PortalError(_("no such agency"))
        changes["agency"] = [user.agency.name, agency.name]
        user.agency_id = agency_id
    if active is not None and active != user.active:
        if user.id == by.id and not active:
            raise PortalError(_("you cannot disable your own account"))
        changes["active"] = [user.active, active]
        user.active = active
    if password:
        problem = check_password_strength(password, user.username)
        if problem:
            raise PortalError(_(problem))
        user.password_hash = hash_password(password)
        changes["password"] = "reset"
    if unlock and (user.locked_until is not None or user.failed_logins):
        user.locked_until = None
        user.failed_logins = 0
        changes["unlocked"] = True
    if changes or revoke:
        user.session_epoch += 1
        s.flush()
        ended = revoke_sessions(s, user)
        if revoke:
            changes["sessions_revoked"] = ended
        audit.append(s, by.username, "user.change", user.username, changes)
    return changes


# --------------------------------------------------------------------------------------------------
# Uploads


@dataclass
class UploadOutcome:
    upload: Upload
    ok: bool
    message: str


def upload_file(
    s: Session,
    views: WarehouseViews,
    user: User,
    dataset: Dataset,
    file_name: str,
    path: Path,
) -> UploadOutcome:
    """Validate and load one uploaded file through the warehouse, exactly as ``diogel ingest`` does.

    The permission checks (session, CSRF, the agreement's upload grant) are the caller's, and the
    file is already spooled (:mod:`diogel.portal.uploads`) to ``path`` in a private folder, which the
    caller deletes. Validation, de-personalisation and quarantine happen in the warehouse; this
    records the upload and its audit entry.
    """
    safe = file_name
    folder = path.parent
    try:
        # The agency's id, not its name: a renamed agency's next file must still replace its own.
        results = views.ingest(dataset, str(path), supplier=f"portal-agency-{user.agency_id}")
    except InputError as exc:  # the upload as a whole (an archive refused before any file loads)
        raise PortalError(str(exc).replace(str(folder) + "/", "")) from None
    rows = [
        {
            "name": Path(r.name).name if r.name else safe,
            "status": r.status,
            "file_id": r.file_id,
            "rows_read": r.rows_read,
            "loaded": r.loaded,
            "duplicates": r.duplicates,
            "quarantined": r.quarantined,
            # The warehouse names the temporary folder in its messages; the uploader knows the file by name.
            "error": r.error.replace(str(folder) + "/", "") if r.error else None,
            "problems": [p.replace(str(folder) + "/", "") for p in r.problems[:50]],
        }
        for r in results
    ]
    if not rows:
        rows = [
            {
                "name": safe,
                "status": "refused",
                "error": _("%(file)s: no file of this dataset's kind was found in it", file=safe),
            }
        ]
    statuses = {r["status"] for r in rows}
    status = (
        "refused" if statuses == {"refused"} else ("loaded" if "loaded" in statuses else "already loaded")
    )
    upload = Upload(
        user_id=user.id,
        agency_id=user.agency_id,
        dataset=dataset.name,
        file_name=safe,
        results=rows,
        status=status,
    )
    s.add(upload)
    s.flush()
    audit.append(
        s,
        user.username,
        "upload",
        f"{dataset.name}/{safe}",
        {
            "upload_id": upload.id,
            "status": status,
            "files": [
                {k: r.get(k) for k in ("name", "status", "file_id", "rows_read", "loaded", "quarantined")}
                for r in rows
            ],
        },
    )
    message = {
        "loaded": _("loaded"),
        "already loaded": _("this file was already loaded: nothing changed"),
        "refused": _("refused: nothing was stored"),
    }[status]
    return UploadOutcome(upload, status != "refused", message)


# --------------------------------------------------------------------------------------------------
# PACT meetings


def _date(value: Any, what: str, required: bool = True) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise PortalError(_("%(what)s is required", what=what))
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PortalError(
            _("%(what)s must be a date as YYYY-MM-DD, not %(value)r", what=what, value=value)
        ) from None


def _count(value: Any, what: str) -> int:
    if value in (None, ""):
        return 0
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise PortalError(
            _("%(what)s must be a whole number, not %(value)r", what=what, value=value)
        ) from None
    if n < 0:
        raise PortalError(_("%(what)s cannot be negative", what=what))
    return n


def _attendee_profile(
    given: dict[str, Any], attendees: int, neighbourhoods: dict[str, str]
) -> dict[str, dict[str, int]]:
    """The meeting's attendee profile checked: known dimensions and groups, whole counts, no
    dimension adding up to more than the attendance; a dimension of zeros is left out (not recorded)."""
    profile: dict[str, dict[str, int]] = {}
    allowed = {"age": [b for b, _, _ in AGE_BANDS], "sex": list(SEXES), "ethnicity": list(ETHNICITIES),
               "ward": [*neighbourhoods, "elsewhere"]}  # fmt: skip
    for dim, values in given.items():
        if dim not in allowed:
            raise PortalError(_("unknown attendee profile %(dim)r", dim=dim))
        clean = {}
        for band, n in (values or {}).items():
            if band not in allowed[dim]:
                raise PortalError(
                    _(
                        "unknown %(dim)s group %(band)r; use %(allowed)s",
                        dim=dim,
                        band=band,
                        allowed=", ".join(allowed[dim]),
                    )
                )
            clean[band] = _count(n, _("attendees in %(dim)s group %(band)s", dim=dim, band=band))
        if sum(clean.values()) > attendees:
            raise PortalError(
                _("the %(dim)s profile adds up to more than the %(n)d attendees", dim=dim, n=attendees)
            )
        if sum(clean.values()):
            profile[dim] = clean
    return profile


def record_meeting(s: Session, user: User, neighbourhoods: dict[str, str], data: dict[str, Any]) -> Meeting:
    """Check and store a PACT meeting.

    ``data``: meeting_date, neighbourhood_code, attendees, profile ({"age"|"sex"|"ethnicity": {band:
    n}}), issues, priorities ([{theme, votes, chosen}]), actions ([{description, owner,
    review_date, status}]). Each profile dimension may be left out (not recorded) but may not add up
    to more than the attendance.
    """
    when = _date(data.get("meeting_date"), _("the meeting date"))
    if when > dt.date.today():
        raise PortalError(_("the meeting date is in the future"))
    code = data.get("neighbourhood_code") or ""
    if code not in neighbourhoods:
        raise PortalError(_("choose the neighbourhood (ward) the meeting covered"))
    attendees = _count(data.get("attendees"), _("the number of attendees"))
    profile = _attendee_profile(data.get("profile") or {}, attendees, neighbourhoods)
    meeting = Meeting(
        meeting_date=when,
        neighbourhood_code=code,
        neighbourhood_name=neighbourhoods[code],
        attendees=attendees,
        profile=profile,
        issues=str(data.get("issues") or "").strip(),
        created_by=user.id,
    )
    for p in data.get("priorities") or []:
        theme = str(p.get("theme") or "").strip()
        if not theme:
            continue
        meeting.priorities.append(
            MeetingPriority(
                theme=theme[:200],
                votes=_count(p.get("votes"), _("votes for %(theme)s", theme=theme)),
                chosen=bool(p.get("chosen")),
            )
        )
    for a in data.get("actions") or []:
        desc = str(a.get("description") or "").strip()
        if not desc:
            continue
        status = a.get("status") or "open"
        if status not in ACTION_STATUSES:
            raise PortalError(
                _("an action's status is one of %(statuses)s", statuses=", ".join(ACTION_STATUSES))
            )
        owner = str(a.get("owner") or "").strip()
        if not owner:
            raise PortalError(_("the action %(action)r needs an owner", action=desc))
        meeting.actions.append(
            MeetingAction(
                description=desc,
                owner=owner[:200],
                review_date=_date(a.get("review_date"), _("a review date"), required=False),
                status=status,
            )
        )
    s.add(meeting)
    s.flush()
    audit.append(
        s,
        user.username,
        "meeting.create",
        f"meeting/{meeting.id}",
        {"neighbourhood": code, "date": when.isoformat()},
    )
    return meeting


def meeting_warnings(meeting: Meeting) -> list[str]:
    chosen = sum(p.chosen for p in meeting.priorities)
    out = []
    if chosen > 3:
        out.append(_("%(n)d priorities were chosen; PACT meetings usually choose up to three", n=chosen))
    if chosen and not meeting.actions:
        out.append(_("priorities were chosen but no action was recorded"))
    return out


def update_action(s: Session, user: User, action: MeetingAction, status: str) -> None:
    if status not in ACTION_STATUSES:
        raise PortalError(_("an action's status is one of %(statuses)s", statuses=", ".join(ACTION_STATUSES)))
    old = action.status
    action.status = status
    audit.append(
        s,
        user.username,
        "meeting.action",
        f"meeting/{action.meeting_id}/action/{action.id}",
        {"status": [old, status]},
    )


def meeting_dict(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.id,
        "meeting_date": m.meeting_date.isoformat(),
        "neighbourhood_code": m.neighbourhood_code,
        "neighbourhood_name": m.neighbourhood_name,
        "attendees": m.attendees,
        "profile": m.profile,
        "issues": m.issues,
        "priorities": [{"theme": p.theme, "votes": p.votes, "chosen": p.chosen} for p in m.priorities],
        "actions": [
            {
                "id": a.id,
                "description": a.description,
                "owner": a.owner,
                "review_date": a.review_date.isoformat() if a.review_date else None,
                "status": a.status,
            }
            for a in m.actions
        ],
    }


def meetings_in(s: Session, codes: set[str]) -> list[Meeting]:
    rows = s.execute(select(Meeting).order_by(Meeting.meeting_date.desc(), Meeting.id.desc())).scalars()
    return [m for m in rows if m.neighbourhood_code in codes]


# --------------------------------------------------------------------------------------------------
# Partnership priorities


def save_priority(
    s: Session, user: User, area_code: str, data: dict[str, Any], row: PartnershipPriority | None = None
) -> PartnershipPriority:
    """Adopt a priority (``row`` None) or record progress on one: title, aim, crime_type (a police.uk
    type whose count measures progress, or empty), adopted_on, status, progress (the public note)."""
    from diogel.analysis.harm import POLICEUK_CRIME_TYPES

    status = data.get("status") or (row.status if row is not None else "active")
    if status not in PRIORITY_STATUSES:
        raise PortalError(
            _("a priority's status is one of %(statuses)s", statuses=", ".join(PRIORITY_STATUSES))
        )
    progress = str(data.get("progress") or "").strip()
    if row is None:
        title = str(data.get("title") or "").strip()
        if not title:
            raise PortalError(_("a priority needs a title"))
        crime_type = data.get("crime_type") or None
        if crime_type is not None and crime_type not in POLICEUK_CRIME_TYPES:
            raise PortalError(_("%(type)r is not a police.uk crime type", type=crime_type))
        adopted = _date(data.get("adopted_on"), _("the date the priority was adopted"))
        if adopted > dt.date.today():
            raise PortalError(_("the date the priority was adopted is in the future"))
        row = PartnershipPriority(
            area_code=area_code, title=title[:200], aim=str(data.get("aim") or "").strip(),
            crime_type=crime_type, adopted_on=adopted, updated_by=user.id,
        )  # fmt: skip
        s.add(row)
        action = "priority.create"
    else:
        action = "priority.update"
    row.status = status
    row.progress = progress
    row.updated_by = user.id
    row.updated_at = utcnow()
    s.flush()
    audit.append(
        s, user.username, action, f"priority/{row.id}",
        {"title": row.title, "status": status, "crime_type": row.crime_type},
    )  # fmt: skip
    return row


def priorities_in(s: Session, area_code: str, include_retired: bool = True) -> list[PartnershipPriority]:
    q = select(PartnershipPriority).where(PartnershipPriority.area_code == area_code)
    if not include_retired:
        q = q.where(PartnershipPriority.status != "retired")
    return list(
        s.execute(q.order_by(PartnershipPriority.adopted_on.desc(), PartnershipPriority.id)).scalars()
    )


# --------------------------------------------------------------------------------------------------
# Strategic assessments


ASSESSMENT_FILES = ("assessment.html", "assessment.pdf", "figures.json")
SERVABLE = {".html", ".pdf", ".json", ".png", ".svg", ".css", ".jpg", ".jpeg", ".csv"}


def register_assessment(
    s: Session, user: User, directory: str, root: Path, title: str = ""
) -> PublishedAssessment:
    """Register a directory written by ``diogel assess`` (it must hold assessment.html) under ``root``."""
    path = Path(directory).expanduser()
    if not path.is_absolute():
        path = root / path
    path = path.resolve()
    root = root.resolve()
    if root != path and root not in path.parents:
        raise PortalError(_("the assessment folder must be inside the data directory %(root)s", root=root))
    if not (path / "assessment.html").is_file():
        raise PortalError(
            _("%(path)s has no assessment.html: run 'diogel assess' to write one there", path=path)
        )
    row = PublishedAssessment(title=title.strip() or path.name, directory=str(path), registered_by=user.id)
    s.add(row)
    s.flush()
    present = [f for f in ASSESSMENT_FILES if (path / f).is_file()]
    audit.append(
        s,
        user.username,
        "assessment.register",
        f"assessment/{row.id}",
        {"directory": str(path), "files": present},
    )
    return row


def publish_assessment(s: Session, user: User, row: PublishedAssessment, published: bool) -> None:
    row.published_at = utcnow() if published else None
    audit.append(
        s, user.username, "assessment.publish" if published else "assessment.withdraw", f"assessment/{row.id}"
    )


def assessment_file(row: PublishedAssessment, filename: str) -> Path | None:
    """A file directly inside the assessment folder with an allowed extension, else None."""
    if "/" in filename or "\\" in filename or filename.startswith("."):
        return None
    folder = Path(row.directory).resolve()
    # Resolve symlinks: a link inside the folder to a file outside it (e.g. to /etc/passwd) is not served.
    path = (folder / filename).resolve()
    if path.parent != folder or path.suffix.lower() not in SERVABLE or not path.is_file():
        return None
    return path


def latest_published(s: Session) -> PublishedAssessment | None:
    return s.execute(
        select(PublishedAssessment)
        .where(PublishedAssessment.published_at.is_not(None))
        .order_by(PublishedAssessment.published_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def count_users(s: Session) -> int:
    return int(s.execute(select(func.count(User.id))).scalar() or 0)
