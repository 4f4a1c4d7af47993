"""The audit log: an append-only, hash-chained record of who did what.

Every login (and failed login), logout, upload, view of record-level data, export, change of a
permission (accounts, roles, agencies, the information sharing agreement) and refused administrator
action appends one entry. Each entry's hash is SHA-256 over the previous entry's hash and the
entry's own fields as canonical JSON, so altering, deleting or inserting any row breaks the chain
from that row on; :func:`verify` finds the first break (``diogel audit verify``).

The chain alone cannot show that rows were removed from its end, or that every row was. So every
append also updates the signed head (the ``audit_head`` table): the number of entries and the last
entry's hash, with an HMAC-SHA256 under a key derived from the partnership secret (the file that
``diogel init`` creates, :mod:`diogel.sources.partner.keys`), which is kept outside the portal
database. Whoever can write to the database but cannot read that file cannot make a head that
matches a shortened or emptied log; :func:`verify` compares the chain with the head.

What the head cannot stop: someone who saved an older head row and restores it together with the
rows up to it (a replay), or someone who also holds the secret. For that, publish the latest hash
elsewhere (e.g. in the minutes of the strategic group) and compare it later (``verify`` returns it).

Appends are serialised (a process lock, and on PostgreSQL a transaction-level advisory lock) so two
requests never both chain onto the same predecessor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from diogel.portal.i18n import gettext as _
from diogel.portal.models import AuditEntry, AuditHead

GENESIS = "0" * 64
_LOCK = threading.Lock()
_ADVISORY_KEY = 0x0D10_9E1A  # any constant: the portal's one advisory lock
_HEAD_ID = 1
_KEY_LABEL = b"diogel audit head"


class AuditKeyMissing(RuntimeError):
    """An audited write or a verification without the partnership secret."""


def audit_key(partner_secret: bytes) -> bytes:
    """The head's HMAC key: derived from the partnership secret, so the secret itself signs nothing else."""
    return hmac.new(partner_secret, _KEY_LABEL, hashlib.sha256).digest()


def load_audit_key(data_dir, create: bool = True) -> bytes:  # noqa: ANN001
    """The head key from the partnership secret of ``data_dir`` (created, as ``diogel init`` does,
    when ``create`` and missing). Raises FileNotFoundError when it is missing and not to be created."""
    from pathlib import Path

    from diogel.sources.partner.depersonalise import load_or_create_secret
    from diogel.sources.partner.keys import ensure_partner_secret, secret_path

    path = secret_path(data_dir)
    if not path.exists():
        if not create:
            raise FileNotFoundError(str(path))
        ensure_partner_secret(Path(data_dir))
    return audit_key(load_or_create_secret(path))


def head_mac(key: bytes, entries: int, last_hash: str) -> str:
    return hmac.new(key, f"{entries}|{last_hash}".encode("ascii"), hashlib.sha256).hexdigest()


def _key(session: Session) -> bytes:
    key = session.info.get("audit_key")
    if not key:
        raise AuditKeyMissing("the audit log needs the partnership secret (open the database with audit_key)")
    return key


def ensure_head(session: Session) -> None:
    """Sign the empty head of a new log (once, when the portal or ``diogel users`` first opens it),
    or the unsigned head the migration gave a log written before heads existed (then an
    ``audit.head_signed`` entry records it, so a head reset to unsigned later leaves a trace).

    A missing head over a log that already has entries is left missing: signing it now would hide
    a deletion, so :func:`verify` reports it instead."""
    key = _key(session)
    head = session.get(AuditHead, _HEAD_ID)
    if head is not None:
        if not head.mac:
            head.mac = head_mac(key, head.entries, head.last_hash)
            session.flush()
            append(session, "diogel", "audit.head_signed", "audit_head", {"entries": head.entries})
        return
    if session.execute(select(AuditEntry.id).limit(1)).first() is not None:
        return
    session.add(AuditHead(id=_HEAD_ID, entries=0, last_hash=GENESIS, mac=head_mac(key, 0, GENESIS)))
    session.flush()


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
    key = _key(session)
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
        head = session.get(AuditHead, _HEAD_ID)
        if head is None and last is None:
            head = AuditHead(id=_HEAD_ID, entries=0, last_hash=GENESIS, mac="")
            session.add(head)
        if head is not None:
            # A head that no longer matches the chain (rows were deleted) is moved on all the same:
            # its count stays ahead of the chain, so verify keeps reporting the deletion.
            head.entries += 1
            head.last_hash = entry.hash
            head.mac = head_mac(key, head.entries, head.last_hash)
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
    """Recompute the chain from the first entry; report the first entry that does not fit, then
    check the chain's length and last hash against the signed head."""
    key = _key(session)
    chain = _verify_chain(session)
    if not chain.ok:
        return chain
    head = session.get(AuditHead, _HEAD_ID)
    if head is None:
        return Verification(
            False, chain.entries, chain.head, None,
            _("the signed head of the audit log is missing: the log was deleted or replaced"),
        )  # fmt: skip
    if not hmac.compare_digest(head.mac or "", head_mac(key, head.entries, head.last_hash)):
        return Verification(
            False, chain.entries, chain.head, None,
            _("the signed head of the audit log was altered (or signed with another partnership secret)"),
        )  # fmt: skip
    if head.entries != chain.entries or head.last_hash != chain.head:
        missing = head.entries - chain.entries
        if missing > 0:
            problem = _(
                "%(n)d entries are missing from the end of the log (the signed head counts %(head)d, the log holds %(have)d)",
                n=missing, head=head.entries, have=chain.entries,
            )  # fmt: skip
        else:
            problem = _(
                "the log does not end where its signed head says (the head counts %(head)d entries, the log holds %(have)d)",
                head=head.entries, have=chain.entries,
            )  # fmt: skip
        return Verification(False, chain.entries, chain.head, None, problem)
    return chain


def _verify_chain(session: Session) -> Verification:
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
