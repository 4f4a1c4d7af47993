"""Passwords, session cookies, CSRF tokens, login rate limiting and account lockout.

* Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile) and
  re-hashed on login when the parameters change.
* A session is a signed (HMAC-SHA1 via itsdangerous), time-limited cookie holding the user id and
  the account's ``session_epoch``; it is HttpOnly and SameSite=Lax, and Secure when the portal is
  told it sits behind HTTPS. Nothing secret is in it; changing the password, role or agency of an
  account bumps the epoch and so ends every session of that account.
* CSRF: every browser gets a random token in its own signed cookie; every unsafe request (POST,
  PUT, PATCH, DELETE) must send the same token back in the ``csrf_token`` form field or the
  ``X-CSRF-Token`` header (double submit with a signed cookie). A cross-site page can make the
  browser send the cookie but cannot read it, so it cannot send the matching field.
* Logins are rate-limited per client address (a sliding window, in memory: one process serves the
  portal) and an account is locked for a while after several failed passwords in a row (stored in
  the database, so it survives a restart).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "diogel_session"
CSRF_COOKIE = "diogel_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_MAX_AGE = 8 * 3600  # a working day: a partner's laptop left logged in overnight is logged out

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown user the same as for a known
# one, so response times do not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def check_password_strength(password: str) -> str | None:
    """A reason the password is refused, or None. Length is what matters (NCSC guidance)."""
    if len(password) < 12:
        return "a password must be at least 12 characters long"
    return None


def load_or_create_secret(path: Path) -> str:
    """The key that signs cookies, kept in the data directory (mode 600) so sessions survive restarts."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


class Signer:
    """Signs and checks the session and CSRF cookies with the portal's secret key."""

    def __init__(self, secret: str):
        self._session = URLSafeTimedSerializer(secret, salt="diogel.session")
        self._csrf = URLSafeTimedSerializer(secret, salt="diogel.csrf")

    def session_cookie(self, user_id: int, epoch: int) -> str:
        return self._session.dumps({"u": user_id, "e": epoch, "n": secrets.token_hex(8)})

    def read_session(self, value: str | None) -> tuple[int, int] | None:
        if not value:
            return None
        try:
            data = self._session.loads(value, max_age=SESSION_MAX_AGE)
            return int(data["u"]), int(data["e"])
        except (BadSignature, KeyError, TypeError, ValueError):
            return None

    def new_csrf(self) -> tuple[str, str]:
        """(token, cookie value): the token goes in forms, the signed cookie to the browser."""
        token = secrets.token_urlsafe(32)
        return token, self._csrf.dumps(token)

    def read_csrf(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            token = self._csrf.loads(value)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


@dataclass
class LockoutPolicy:
    """After ``max_failures`` wrong passwords in a row an account is locked for ``lock_minutes``;
    a client address may try ``rate_per_minute`` logins a minute whatever the account."""

    max_failures: int = 5
    lock_minutes: int = 15
    rate_per_minute: int = 20


class RateLimiter:
    """A sliding one-minute window of attempts per key (client address)."""

    def __init__(self, per_minute: int, clock=time.monotonic):  # noqa: ANN001
        self.per_minute = per_minute
        self.clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] > 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return False
            hits.append(now)
            return True


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
