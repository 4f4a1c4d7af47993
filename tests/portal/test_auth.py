"""Logins, sessions, CSRF and login throttling, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from diogel.portal.models import AuditEntry, User
from diogel.portal.security import ThrottlePolicy
from portal.conftest import PASSWORD, csrf_from, login, make_harness, page_csrf


def test_login_sets_hardened_session_cookie(harness) -> None:
    c = harness.client()
    r = login(c, "analyst")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookies = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
    session = next(v for v in cookies if v.startswith("diogel_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session.replace("Lax", "lax")
    assert c.get("/api/me").json()["role"] == "analyst"
    # The password is stored as an argon2id hash, never as given.
    with harness.portal.db.session() as s:
        stored = s.execute(select(User.password_hash).where(User.username == "analyst")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_and_unknown_user_look_the_same(harness) -> None:
    c = harness.client()
    a = login(c, "analyst", "not the password at all")
    b = login(c, "nobody-at-all", "not the password at all")
    assert a.status_code == b.status_code == 401
    assert "wrong username or password" in a.text and "wrong username or password" in b.text
    assert c.get("/api/me").json()["role"] == "public"


def test_forged_session_cookie_is_ignored(harness) -> None:
    c = harness.client()
    c.cookies.set("diogel_session", "eyJ1IjoxLCJlIjowfQ.forged.signature")
    assert c.get("/api/me").json()["role"] == "public"
    assert c.get("/admin/users").status_code == 403


def test_csrf_required_on_every_form_and_api_call(harness) -> None:
    c = harness.client()
    # Login form without the token, and with a token from another browser.
    r = c.post("/login", data={"username": "analyst", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    other = harness.client()
    foreign = csrf_from(other.get("/login").text)
    c.get("/login")
    r = c.post(
        "/login",
        data={"username": "analyst", "password": PASSWORD, "csrf_token": foreign},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert c.get("/api/me").json()["role"] == "public"
    # Logged in: an admin form and a JSON call refused without the token, accepted with it.
    admin = harness.client("partnership_admin")
    form = {"name": "Gwent Fire and Rescue", "kind": "fire"}
    assert admin.post("/admin/agencies", data=form, follow_redirects=False).status_code == 403
    assert (
        admin.post(
            "/admin/agencies", data={**form, "csrf_token": "x" * 43}, follow_redirects=False
        ).status_code
        == 403
    )
    ok = admin.post("/admin/agencies", data={**form, "csrf_token": page_csrf(admin)}, follow_redirects=False)
    assert ok.status_code == 303
    contributor = harness.client("contributor")
    body = {"meeting_date": "2025-05-01", "neighbourhood_code": "W05001627", "attendees": 3}
    assert contributor.post("/api/meetings", json=body).status_code == 403
    r = contributor.post("/api/meetings", json=body, headers={"X-CSRF-Token": page_csrf(contributor)})
    assert r.status_code == 201, r.text


def test_failures_slow_logins_down_but_lock_nobody_out(data_dir, db_url) -> None:
    """Finding 5: five failures used to lock a real account (403 'locked', while an unknown name
    answered 401), so anyone could enumerate usernames and lock an administrator out. Now failures
    only earn a growing delay, the same for a real and an unknown name, and the right password
    still gets in."""
    h = make_harness(data_dir, db_url, ThrottlePolicy(free_failures=2, base_delay=0.05, max_delay=0.2))
    try:
        c = h.client()
        real = [login(c, "viewer", "wrong wrong wrong") for _ in range(6)]
        unknown = [login(c, "nobody-at-all", "wrong wrong wrong") for _ in range(6)]
        for r in real + unknown:
            assert r.status_code == 401 and "wrong username or password" in r.text and "locked" not in r.text
        assert h.portal.throttle.delay("viewer", "x") == h.portal.throttle.delay("nobody-at-all", "x") == 0.2
        # Throttled, not locked: the right password works (after the delay).
        assert login(c, "viewer").status_code == 303
        with h.portal.db.session() as s:
            actions = list(s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())
        assert actions.count("login.failed") == 12 and "login.lockout" not in actions
    finally:
        h.portal.close()


def test_throttle_delay_grows_by_account_and_by_client() -> None:
    from diogel.portal.security import LoginThrottle

    now = [0.0]
    t = LoginThrottle(
        ThrottlePolicy(free_failures=3, base_delay=1, max_delay=8, window_minutes=15), lambda: now[0]
    )
    assert t.delay("alice", "1.2.3.4") == 0
    delays = []
    for _ in range(7):
        t.failed("alice", "1.2.3.4")
        delays.append(t.delay("alice", "9.9.9.9"))  # by account, from any address
    assert delays == [0, 0, 1, 2, 4, 8, 8]
    assert t.delay("bob", "1.2.3.4") == 8  # by client, for any account
    assert t.delay("bob", "5.6.7.8") == 0
    now[0] += 16 * 60  # the window has passed
    assert t.delay("alice", "1.2.3.4") == 0
    t.failed("carol", "1.1.1.1")
    t.succeeded("carol")
    assert t.delay("carol", "2.2.2.2") == 0


def test_role_change_ends_existing_sessions(harness) -> None:
    viewer = harness.client("viewer")
    assert viewer.get("/dashboard").status_code == 200
    admin = harness.client("partnership_admin")
    with harness.portal.db.session() as s:
        uid = s.execute(select(User.id).where(User.username == "viewer")).scalar_one()
    r = admin.post(
        f"/admin/users/{uid}", data={"role": "member", "csrf_token": page_csrf(admin)}, follow_redirects=False
    )
    assert r.status_code == 303
    # The old cookie no longer works: the viewer must log in again (and is then a member).
    assert viewer.get("/api/me").json()["role"] == "public"
    assert login(viewer, "viewer").status_code == 303
    assert viewer.get("/api/me").json()["role"] == "member"
    assert viewer.get("/dashboard").status_code == 403


def test_login_redirect_stays_on_site(harness) -> None:
    c = harness.client()
    token = csrf_from(c.get("/login").text)
    for target, expected in (
        ("//evil.example/x", "/dashboard"),
        ("https://evil.example", "/dashboard"),
        ("/meetings", "/meetings"),
    ):
        c.cookies.clear()
        token = csrf_from(c.get("/login").text)
        r = c.post(
            "/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": token, "next": target},
            follow_redirects=False,
        )  # fmt: skip
        assert r.headers["location"] == expected


@pytest.mark.parametrize("path", ["/login", "/public", "/docs"])
def test_security_headers(sqlite_harness, path: str) -> None:
    r = sqlite_harness.client().get(path)
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    # No asset from anywhere else: a closed council network has no CDN.
    assert "https://" not in r.text.replace("https://www.w3.org", "")


def test_users_add_creates_the_first_admin(data_dir, db_url) -> None:
    """``diogel users add`` on an empty portal database makes an administrator who can log in;
    a weak password is refused and nothing is stored."""
    from typer.testing import CliRunner

    from diogel.cli import app

    base = ["--data-dir", str(data_dir), "users", "add"]
    db = ["--db", db_url] if db_url else []
    runner = CliRunner()
    weak = runner.invoke(app, [*base, "boss", "--password-stdin", *db], input="short\n")
    assert weak.exit_code == 2 and "at least 12 characters" in weak.output
    weak = runner.invoke(app, [*base, "boss", "--password-stdin", *db], input="password1234\n")
    assert weak.exit_code == 2 and "password1234" not in weak.output
    ok = runner.invoke(app, [*base, "boss", "--password-stdin", *db], input="a perfectly long password\n")
    assert ok.exit_code == 0, ok.output
    h = make_harness(data_dir, db_url)
    try:
        with h.portal.db.session() as s:
            boss = s.execute(select(User).where(User.username == "boss")).scalar_one()
            assert boss.role == "partnership_admin" and boss.password_hash.startswith("$argon2id$")
            creations = s.execute(
                select(AuditEntry.target).where(AuditEntry.action == "user.create")
            ).scalars()
            assert list(creations).count("boss") == 1  # the refused attempt left nothing
        c = h.client()
        assert login(c, "boss", "a perfectly long password").headers["location"] == "/admin/users"
        assert c.get("/admin/users").status_code == 200
    finally:
        h.portal.close()
