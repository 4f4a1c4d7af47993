"""The audit log: an append-only, hash-chained record of who did what.

Every login (and failed login and lockout), upload, view of record-level data, export and change of
a permission (accounts, roles, agencies, the information sharing agreement) appends one entry. Each
entry's hash is SHA-256 over the previous entry's hash and the entry's own fields as canonical JSON,
so altering, deleting or inserting any row breaks the chain from that row on; :func:`verify` finds
the first break (``diogel audit verify``).

The chain protects against edits made through the database after the fact. It does not stop
someone with write access from rewriting the whole chain consistently; for that, publish the latest
hash elsewhere (e.g. in the minutes of the strategic group) and compare it later (``verify`` returns
it).

Appends are serialised (a process lock, and on PostgreSQL a transaction-level advisory lock) so two
requests never both chain onto the same predecessor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from diogel.portal.i18n import gettext as _
from diogel.portal.models import AuditEntry

GENESIS = "0" * 64
_LOCK = threading.Lock()
_ADVISORY_KEY = 0x0D10_9E1A  # any constant: the portal's one advisory lock


def canonical(detail: dict[str, Any] | None) -> str:
    return json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev_hash: str, at: str, actor: str, action: str, target: str, detail: str) -> str:
    payload = json.dumps(
        [prev_hash, at, actor, action, target, detail], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def append(
    session: Session, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one entry in ``session``'s transaction (committed with it, so an action and its audit
    entry are stored together or not at all)."""
    with _LOCK:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
        last = session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
        prev = last or GENESIS
        at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        body = canonical(detail)
        entry = AuditEntry(
            at=at,
            actor=actor,
            action=action,
            target=target,
            detail=body,
            prev_hash=prev,
            hash=entry_hash(prev, at, actor, action, target, body),
        )
        session.add(entry)
        # Flush inside the lock so the next append sees this entry as the last one.
        session.flush()
        return entry


@dataclass
class Verification:
    ok: bool
    entries: int
    head: str  # hash of the last entry (publish it to detect a consistent rewrite)
    first_bad_id: int | None = None
    problem: str = ""


def verify(session: Session) -> Verification:
    """Recompute the chain from the first entry; report the first entry that does not fit."""
    prev = GENESIS
    n = 0
    for e in session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        n += 1
        if e.prev_hash != prev:
            problem = _("entry %(id)d does not follow the entry before it", id=e.id)
            return Verification(False, n, prev, e.id, problem)
        want = entry_hash(e.prev_hash, e.at, e.actor, e.action, e.target, e.detail)
        if want != e.hash:
            return Verification(
                False, n, prev, e.id, _("entry %(id)d was altered after it was written", id=e.id)
            )
        prev = e.hash
    return Verification(True, n, prev)
