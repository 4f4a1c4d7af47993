"""Passwords, server-side sessions, CSRF tokens and login throttling.

* Passwords are hashed with argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile) and
  re-hashed on login when the parameters change. A new password must score at least 3 of 4 in
  zxcvbn (Dropbox's estimator of guesses), must not be or contain the username and must not be in
  the common-password list shipped in ``diogel/portal/data/common-passwords.txt.gz``.
* A session is a row of the ``portal_session`` table; the cookie holds only a random 256-bit
  token, and the table only its SHA-256, so a copy of the database holds no usable session.
  Logout deletes the row; a password change or an administrator's revocation deletes every row of
  the account. The cookie is HttpOnly and SameSite=Lax, and Secure when the portal is told it sits
  behind HTTPS.
* CSRF: a logged-in browser's token is an HMAC of its session token, so it is bound to that one
  session (a token seen in another session is worthless). Before login a browser gets a random
  token in its own signed cookie (double submit). Every unsafe request must send the token back in
  the ``csrf_token`` form field or the ``X-CSRF-Token`` header, and a browser's ``Origin`` (or,
  failing that, ``Referer``) must be this site.
* Logins are throttled, never locked: after a few failures for a username (whether or not the
  account exists) or from a client address, each further attempt waits longer before it is
  answered (doubling up to a ceiling). Nobody can lock another person out; the answer and its
  timing are the same for an unknown user, a wrong password and a throttled account.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from diogel.portal.i18n import N_

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


#: Where the common-password list comes from (see the file's header and the README).
COMMON_PASSWORDS_SOURCE = (
    "the 'passwords' frequency list of zxcvbn 4.5.0 (Dropbox; the most common passwords of Xato's "
    "10 million password corpus), first 10,000"
)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case."""
    from importlib import resources

    raw = (resources.files("diogel.portal") / "data" / "common-passwords.txt.gz").read_bytes()
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    return frozenset(ln.strip().lower() for ln in lines if ln.strip() and not ln.startswith("#"))


MIN_ZXCVBN_SCORE = 3


def check_password_strength(password: str, username: str = "") -> str | None:
    """A reason the password is refused, or None.

    Refused: fewer than 12 characters (NCSC guidance), a zxcvbn score below 3 (of 0-4; 3 is "safely
    unguessable: moderate protection from offline slow-hash scenario", about 10^8 guesses or more),
    equal to or containing the username (case-insensitive), or in the shipped common-password list.
    The reason never repeats the password.
    """
    from zxcvbn import zxcvbn

    if len(password) < 12:
        return N_("a password must be at least 12 characters long")
    low = password.lower()
    name = username.strip().lower()
    if name and (low == name or name in low or low.strip() == name):
        return N_("a password must not be or contain the username")
    if low in common_passwords() or low.strip() in common_passwords():
        return N_("this password is in a list of common passwords: choose another")
    result = zxcvbn(password[:100], user_inputs=[name] if name else [])
    if result["score"] < MIN_ZXCVBN_SCORE:
        return N_("this password is too easy to guess: use a few unrelated words or a password manager")
    return None


def load_or_create_secret(path: Path) -> str:
    """The key that signs cookies and CSRF tokens, kept in the data directory (mode 0600)."""
    if path.exists():
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # an older portal wrote it with the umask's mode
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created 0600 atomically: never readable by others, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def new_session_token() -> tuple[str, str]:
    """(token for the cookie, its SHA-256 hex for the session table)."""
    token = secrets.token_urlsafe(32)
    return token, session_key(token)


def session_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Signer:
    """Signs and checks the pre-login CSRF cookie and derives session-bound CSRF tokens."""

    def __init__(self, secret: str):
        self._secret = secret.encode("utf-8")
        self._csrf = URLSafeTimedSerializer(secret, salt="diogel.csrf")

    def session_csrf(self, session_token: str) -> str:
        """The CSRF token of the session whose cookie holds ``session_token``."""
        return hmac.new(self._secret, b"diogel.csrf|" + session_token.encode("utf-8"), "sha256").hexdigest()

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
class ThrottlePolicy:
    """Login throttling: the first ``free_failures`` failures of a username or a client address in
    ``window_minutes`` cost nothing; each further attempt waits ``base_delay`` seconds, doubled for
    every further failure, at most ``max_delay``."""

    free_failures: int = 3
    base_delay: float = 1.0
    max_delay: float = 30.0
    window_minutes: int = 15


class LoginThrottle:
    """Failures per username and per client address in a sliding window, in memory (one process
    serves the portal), and the delay they earn."""

    def __init__(self, policy: ThrottlePolicy, clock=time.monotonic):  # noqa: ANN001
        self.policy = policy
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _count(self, key: str, now: float) -> int:
        hits = self._failures.get(key)
        if not hits:
            return 0
        while hits and now - hits[0] > self.policy.window_minutes * 60:
            hits.popleft()
        return len(hits)

    def delay(self, username: str, client: str) -> float:
        """Seconds to wait before answering an attempt for ``username`` from ``client``."""
        p = self.policy
        with self._lock:
            now = self.clock()
            n = max(self._count("u:" + username, now), self._count("c:" + client, now))
        if n < p.free_failures:
            return 0.0
        return float(min(p.max_delay, p.base_delay * 2 ** (n - p.free_failures)))

    #: Keys kept at most; beyond it, those with no failure in the window are dropped (a spray of
    #: made-up usernames must not grow memory without bound).
    MAX_KEYS = 100_000

    def failed(self, username: str, client: str) -> None:
        with self._lock:
            now = self.clock()
            if len(self._failures) > self.MAX_KEYS:
                for key in [k for k in self._failures if self._count(k, now) == 0]:
                    del self._failures[key]
            for key in ("u:" + username, "c:" + client):
                hits = self._failures[key]
                hits.append(now)
                if len(hits) > 1000:  # a bound on memory per key; the delay is at its ceiling anyway
                    hits.popleft()

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop("u:" + username, None)

    def clear(self, username: str) -> None:
        """An administrator's reset of an account's failures."""
        self.succeeded(username)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
