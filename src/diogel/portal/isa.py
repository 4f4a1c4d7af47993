"""The information sharing agreement (ISA), held as data and enforced on the server.

Two kinds of clause, both rows in the portal database and both changed only by an administrator
(each change is audited):

* **upload grants**: agency A may upload dataset D;
* **access grants**: users with role R (optionally only those in an agency of kind K) see dataset D
  at level L, one of

  - ``record``: record level, pseudonymised (one row per crime, incident or attendance);
  - ``lsoa``: counts by LSOA, unsuppressed;
  - ``area``: counts by ward or larger area, with small numbers suppressed (:mod:`diogel.disclosure`);
  - ``public``: what anyone may see (suppressed aggregates on the public page).

Levels are ordered: a user granted ``record`` may also see everything coarser. Anonymous visitors
have the role ``public``. A user with no grant for a dataset sees nothing of it. Every page, export
and API route asks :func:`level_for` / :func:`require_level` before reading the warehouse.

The agreement is a few dozen rows read on every request, several times, so each process keeps a
snapshot of it. A change made through this module (the administrator's pages, ``diogel users``)
replaces the snapshot as soon as its transaction commits; a change written to the database by some
other process is picked up within :data:`SNAPSHOT_SECONDS`.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from diogel.portal.models import LEVELS, AccessGrant, Agency, UploadGrant, User

#: Roles that may upload at all (then only datasets their agency is granted).
UPLOAD_ROLES = ("analyst", "contributor")

#: The agreement a new portal starts with, per dataset family: role -> level. An administrator
#: changes it on the agreement page; these are the defaults a CSP's ISA most often records.
DEFAULT_ACCESS: dict[str, dict[str, str]] = {
    "police-street": {
        "analyst": "record",
        "contributor": "lsoa",
        "viewer": "lsoa",
        "member": "area",
        "admin": "area",
        "partnership_admin": "area",
        "public": "public",
    },
    "partner": {
        "analyst": "record",
        "contributor": "lsoa",
        "viewer": "area",
        "member": "area",
        "admin": "area",
        "partnership_admin": "area",
        "public": "public",
    },
}

#: Which kind of agency uploads which dataset by default (applied when an agency is created).
DEFAULT_UPLOADERS: dict[str, str] = {
    "police-street": "police",
    "partner:ed_assaults": "health",
    "partner:ambulance_callouts": "health",
    "partner:hospital_admissions": "health",
    "partner:substance_treatment": "health",
    "partner:fire_incidents": "fire",
    "partner:licensed_premises": "local_authority",
}


#: How long a snapshot of the agreement is trusted when nothing in this process changed it.
SNAPSHOT_SECONDS = 5.0


@dataclass(frozen=True)
class Snapshot:
    """The whole agreement: access clauses by (dataset, role) and upload grants by agency."""

    access: dict[tuple[str, str], tuple[tuple[str | None, str], ...]]
    uploads: dict[int, frozenset[str]]
    taken: float


# One snapshot per database engine (weakly held, so a closed portal's snapshot goes with it).
_snapshots: weakref.WeakKeyDictionary[Any, Snapshot] = weakref.WeakKeyDictionary()
_snapshot_lock = threading.Lock()
_CHANGED = "diogel.isa.changed"


def _load(session: Session) -> Snapshot:
    access: dict[tuple[str, str], list[tuple[str | None, str]]] = {}
    for d, r, ak, lv in session.execute(
        select(AccessGrant.dataset, AccessGrant.role, AccessGrant.agency_kind, AccessGrant.level)
    ):
        access.setdefault((d, r), []).append((ak, lv))
    uploads: dict[int, set[str]] = {}
    for d, a in session.execute(select(UploadGrant.dataset, UploadGrant.agency_id)):
        uploads.setdefault(a, set()).add(d)
    return Snapshot(
        {k: tuple(v) for k, v in access.items()},
        {k: frozenset(v) for k, v in uploads.items()},
        time.monotonic(),
    )


def snapshot(session: Session) -> Snapshot:
    """The agreement as ``session`` sees it. Inside a transaction that changed it, read afresh
    (the change is not committed yet, so the shared snapshot must not hold it)."""
    if session.info.get(_CHANGED):
        return _load(session)
    key = session.get_bind()
    snap = _snapshots.get(key)
    if snap is None or time.monotonic() - snap.taken > SNAPSHOT_SECONDS:
        snap = _load(session)
        with _snapshot_lock:
            _snapshots[key] = snap
    return snap


def _changed(session: Session) -> None:
    """Mark ``session`` as changing the agreement: the snapshot is dropped when it commits."""
    session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _drop_snapshot(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        with _snapshot_lock:
            _snapshots.pop(session.get_bind(), None)


@event.listens_for(Session, "after_rollback")
def _forget_change(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def more_detailed_or_equal(granted: str | None, needed: str) -> bool:
    """True when a grant at ``granted`` covers a view at ``needed`` (record covers everything)."""
    return granted is not None and LEVELS.index(granted) <= LEVELS.index(needed)


def level_for(session: Session, user: User | None, dataset: str) -> str | None:
    """The most detailed level at which ``user`` (None: anonymous) may see ``dataset``, or None."""
    role = user.role if user is not None else "public"
    kind = user.agency.kind if user is not None else None
    access = snapshot(session).access
    # The role's own clauses (agency-specific ones only for that kind of agency), and anything
    # public, which everybody may see, logged in or not.
    levels = [lv for ak, lv in access.get((dataset, role), ()) if ak is None or ak == kind]
    levels += [lv for _, lv in access.get((dataset, "public"), ()) if lv == "public"]
    return min(levels, key=LEVELS.index) if levels else None


def can_upload(session: Session, user: User | None, dataset: str) -> bool:
    if user is None or user.role not in UPLOAD_ROLES:
        return False
    return dataset in snapshot(session).uploads.get(user.agency_id, frozenset())


def uploadable(session: Session, user: User | None, datasets: list[str]) -> list[str]:
    if user is None or user.role not in UPLOAD_ROLES:
        return []
    granted = snapshot(session).uploads.get(user.agency_id, frozenset())
    return [d for d in datasets if d in granted]


def family(dataset: str) -> str:
    return "partner" if dataset.startswith("partner:") else dataset


def seed_access(session: Session, datasets: list[str]) -> list[tuple[str, str, str]]:
    """Add the default access grants for datasets the agreement does not mention yet; returns them."""
    known = set(session.execute(select(AccessGrant.dataset)).scalars())
    added = []
    for d in datasets:
        if d in known:
            continue
        for role, level in DEFAULT_ACCESS.get(family(d), {}).items():
            session.add(AccessGrant(dataset=d, role=role, agency_kind=None, level=level))
            added.append((d, role, level))
    if added:
        _changed(session)
    session.flush()
    return added


def seed_uploads(session: Session, agency: Agency, datasets: list[str]) -> list[str]:
    """Grant a new agency the uploads its kind usually makes; returns the datasets granted."""
    granted = []
    for d in datasets:
        if DEFAULT_UPLOADERS.get(d) == agency.kind:
            exists = session.execute(
                select(UploadGrant.id).where(UploadGrant.dataset == d, UploadGrant.agency_id == agency.id)
            ).first()
            if not exists:
                session.add(UploadGrant(dataset=d, agency_id=agency.id))
                granted.append(d)
    if granted:
        _changed(session)
    session.flush()
    return granted


def set_access(session: Session, dataset: str, role: str, agency_kind: str | None, level: str | None) -> None:
    """Set (or with ``level=None`` remove) one access clause."""
    if level is not None and level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    _changed(session)
    row = session.execute(
        select(AccessGrant).where(
            AccessGrant.dataset == dataset,
            AccessGrant.role == role,
            AccessGrant.agency_kind.is_(None)
            if agency_kind is None
            else AccessGrant.agency_kind == agency_kind,
        )
    ).scalar_one_or_none()
    if level is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(AccessGrant(dataset=dataset, role=role, agency_kind=agency_kind, level=level))
    else:
        row.level = level
    session.flush()


def set_upload(session: Session, dataset: str, agency_id: int, allowed: bool) -> None:
    _changed(session)
    row = session.execute(
        select(UploadGrant).where(UploadGrant.dataset == dataset, UploadGrant.agency_id == agency_id)
    ).scalar_one_or_none()
    if allowed and row is None:
        session.add(UploadGrant(dataset=dataset, agency_id=agency_id))
    elif not allowed and row is not None:
        session.delete(row)
    session.flush()
