"""One test (or more) per finding of the security review in issue 13, each of which failed before the
fix: uploads read before authentication, unsuppressed scrutiny counts, an audit log that did not
notice truncation, login enumeration and lockout, sessions that outlived logout, global
administrators, weak passwords, and the hardening list (formula injection, symlinks, file modes,
CSRF binding and Origin, caching, HSTS, the CSP)."""

from __future__ import annotations

import re
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from diogel.portal import audit
from diogel.portal.models import AuditEntry, PortalSession, User
from portal.conftest import login, make_harness, page_csrf

# -- 2. uploads are authenticated before any byte is written --------------------------------------


class LiveServer:
    """The portal under uvicorn on a free local port, in a thread (a real socket, so a request body
    can be streamed as a browser or an attacker would, rather than read into memory by a test client)."""

    def __init__(self, app) -> None:  # noqa: ANN001
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.server.should_exit = True
        self.thread.join(10)


def stream_post(port: int, path: str, declared: int, send_limit: int, headers: str = "") -> tuple[int, bytes]:
    """POST a multipart body of ``declared`` bytes (synthetic: one file part of zeros), sending at most
    ``send_limit`` of them or until the server answers or hangs up; returns (bytes sent, response)."""
    boundary = "synthetic-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="dataset"\r\n\r\npolice-street\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {declared}\r\n"
        f"{headers}Connection: close\r\n\r\n"
    ).encode()
    chunk = b"0" * (1 << 20)
    sent = 0
    response = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request + head)
        sent += len(head)
        sock.setblocking(False)
        while sent < send_limit:
            try:
                response += sock.recv(65536)
                if response:
                    break
            except BlockingIOError:
                pass
            except OSError:
                break
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break
        sock.setblocking(True)
        sock.settimeout(10)
        try:
            while part := sock.recv(65536):
                response += part
        except OSError:
            pass
    return sent, response


def _files_under(*folders: Path) -> list[Path]:
    return [p for f in folders if f.exists() for p in f.rglob("*") if p.is_file()]


@pytest.mark.slow
def test_anonymous_1gb_upload_writes_nothing(sqlite_harness, monkeypatch) -> None:
    """Finding 2: a 1 GB POST to /api/uploads with no cookie wrote 1,063 MB to the temporary
    directory before answering 403. Now it is refused before the body is read: the temporary
    directory and the upload folder stay empty, and the server stops reading long before 1 GB."""
    tmp = Path(tempfile.mkdtemp(prefix="diogel-tmp-"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    uploads = sqlite_harness.data_dir / "uploads"
    with LiveServer(sqlite_harness.app) as live:
        for path in ("/api/uploads", "/upload"):
            sent, response = stream_post(live.port, path, declared=1 << 30, send_limit=1 << 30)
            assert response.startswith(b"HTTP/1.1 403"), response[:200]
            assert sent < 64 << 20, f"the server read {sent >> 20} MB of an anonymous upload"
            assert _files_under(tmp, uploads) == []
        # Nor can a file be pushed at any other form (FastAPI parses a route's form before its
        # dependencies run): a multipart body, or one over 1 MB, is refused unread.
        for path in ("/login", "/admin/users"):
            sent, response = stream_post(live.port, path, declared=1 << 30, send_limit=1 << 30)
            assert response.startswith(b"HTTP/1.1 415"), response[:200]
            assert sent < 64 << 20, f"the server read {sent >> 20} MB of a file sent to {path}"
            assert _files_under(tmp, uploads) == []


@pytest.mark.slow
def test_oversized_upload_is_refused_the_moment_it_passes_the_limit(data_dir) -> None:
    """Logged in with the right to upload, a body over the limit is refused with 413 while it
    streams (no Content-Length to trust here: it is declared small), and its partial file is gone."""
    h = make_harness(data_dir, None, max_upload_mb=1)
    try:
        c = h.client("contributor")
        cookie = c.cookies.get("diogel_session")
        token = page_csrf(c)
        with LiveServer(h.app) as live:
            headers = f"Cookie: diogel_session={cookie}\r\nX-CSRF-Token: {token}\r\n"
            sent, response = stream_post(live.port, "/api/uploads", 1 << 30, 64 << 20, headers)
            assert response.startswith(b"HTTP/1.1 413"), response[:300]
            assert sent < 32 << 20
            # A declared length over the limit is refused before anything is read.
            sent, response = stream_post(live.port, "/api/uploads", 5 << 20, 5 << 20, headers)
            assert response.startswith(b"HTTP/1.1 413")
        assert _files_under(data_dir / "uploads") == []
    finally:
        h.portal.close()


def test_upload_without_csrf_before_the_file_writes_nothing(sqlite_harness) -> None:
    """A logged-in browser's form must carry the token before the file; without it the file part is
    refused before a byte of it is written."""
    c = sqlite_harness.client("contributor")
    r = c.post(
        "/upload", data={"dataset": "police-street"}, files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert r.status_code == 403 and "CSRF" in r.text
    r = c.post(
        "/api/uploads",
        data={"dataset": "police-street", "csrf_token": "wrong"},
        files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert r.status_code == 403
    assert _files_under(sqlite_harness.data_dir / "uploads") == []


# -- 3. one disclosure path ---------------------------------------------------------------------------

SMALL_AREA = "W14000023"  # Cwm Taf: a handful of crimes in the bundled Gwent year, many of 1 to 4


def test_scrutiny_api_and_page_publish_the_same_suppressed_cells(data_dir) -> None:
    """Finding 3: /api/scrutiny gave members counts of 1 to 4 that the page showed as *. Both now
    come from diogel.disclosure: the same cells, none of 1 to 4."""
    h = make_harness(data_dir, None, area=SMALL_AREA)
    try:
        member = h.client("member")
        api = member.get("/api/scrutiny")
        assert api.status_code == 200
        trends = api.json()["trends"]
        values = [v for t in trends for v in (t["current"], t["previous"])]
        assert None in values, "nothing suppressed: the test would prove nothing"
        assert not [v for v in values if v is not None and 1 <= v <= 4]
        page = member.get("/scrutiny").text
        table = re.search(r"<h2>1\..*?<tbody>(.*?)</tbody>", page, flags=re.S).group(1)
        cells = re.findall(r'<td class="n">([^<]*)</td><td class="n">([^<]*)</td>', table)
        published = [None if v == "*" else int(v.replace(",", "")) for pair in cells for v in pair]
        assert published == values
        assert "suppressed" in api.json()["trend_rule"]
    finally:
        h.portal.close()


# -- 4. the audit log notices truncation ------------------------------------------------------------


def _verify(h) -> audit.Verification:  # noqa: ANN001
    with h.portal.db.session() as s:
        return audit.verify(s)


def _cli_verify(data_dir: Path, db: str | None = None):  # noqa: ANN202
    from diogel.cli import app

    args = ["--data-dir", str(data_dir), "audit", "verify"] + (["--db", db] if db else [])
    return CliRunner().invoke(app, args)


def test_audit_verify_detects_deleting_the_last_rows_and_the_whole_log(harness) -> None:
    """Finding 4: deleting the last rows, or all of them, still verified as intact."""
    harness.client("analyst").get("/api/datasets/police-street/records?limit=1")
    first = _verify(harness)
    assert first.ok and first.entries > 5
    engine = harness.portal.db.engine
    with engine.begin() as conn:
        last = conn.execute(text("SELECT max(id) FROM audit_log")).scalar()
        conn.execute(text("DELETE FROM audit_log WHERE id > :i"), {"i": last - 3})
    result = _verify(harness)
    assert not result.ok and "3 entries are missing from the end" in result.problem
    out = _cli_verify(harness.data_dir, harness.portal.config.db)
    assert out.exit_code == 1 and "missing from the end" in out.output
    # A new entry chained onto the shortened log does not hide the deletion.
    harness.client("viewer")
    assert not _verify(harness).ok
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    result = _verify(harness)
    assert not result.ok and result.entries == 0 and "missing" in result.problem
    # Forging the head without the partnership secret does not help.
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET entries = 0, last_hash = :g"), {"g": audit.GENESIS})
    result = _verify(harness)
    assert not result.ok and "altered" in result.problem
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    result = _verify(harness)
    assert not result.ok and "head of the audit log is missing" in result.problem
    out = _cli_verify(harness.data_dir, harness.portal.config.db)
    assert out.exit_code == 1


def test_audit_verify_refuses_a_missing_database_or_table(sqlite_harness, tmp_path: Path) -> None:
    """A --db that does not exist used to be created and reported 'intact: 0 entries'; a dropped
    table gave a traceback. Both are now one line and exit 2."""
    missing = tmp_path / "nowhere" / "portal.sqlite"
    out = _cli_verify(sqlite_harness.data_dir, f"sqlite:///{missing}")
    assert (
        out.exit_code == 2
        and len(out.output.strip().splitlines()) == 1
        and "no portal database" in out.output
    )
    assert not missing.exists()
    out = _cli_verify(tmp_path / "empty-data-dir")
    assert out.exit_code == 2 and "Traceback" not in out.output
    with sqlite_harness.portal.db.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_log"))
    out = _cli_verify(sqlite_harness.data_dir)
    assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1, out.output
    assert "audit_log" in out.output and "Traceback" not in out.output


def test_audit_head_needs_the_partnership_secret(sqlite_harness) -> None:
    """The head is signed under the secret 'diogel init' creates, kept outside the database."""
    from diogel.sources.partner.keys import secret_path

    key_file = secret_path(sqlite_harness.data_dir)
    assert key_file.is_file() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _verify(sqlite_harness).ok
    key_file.rename(key_file.with_suffix(".moved"))
    out = _cli_verify(sqlite_harness.data_dir)
    assert out.exit_code == 2 and "partnership secret is missing" in out.output


# -- 5. login reveals nothing -------------------------------------------------------------------------


def _answer(r) -> str:  # noqa: ANN001
    """A login page's answer without the parts that differ per request (the CSRF token, the name typed)."""
    body = re.sub(r'name="csrf_token" value="[^"]+"', "", r.text)
    return re.sub(r'name="username"[^>]*>', "", body)


def test_unknown_user_wrong_password_and_throttled_account_answer_alike(data_dir) -> None:
    from diogel.portal.security import ThrottlePolicy

    h = make_harness(data_dir, None, ThrottlePolicy(free_failures=2, base_delay=0.01, max_delay=0.02))
    try:
        c = h.client()
        answers = [login(c, "viewer", "wrong wrong wrong") for _ in range(6)]
        answers += [login(c, "no-such-person", "wrong wrong wrong") for _ in range(6)]
        assert {r.status_code for r in answers} == {401}
        assert len({_answer(r) for r in answers}) == 1
        throttle = h.portal.throttle
        assert throttle.delay("viewer", "elsewhere") == throttle.delay("no-such-person", "elsewhere") > 0
    finally:
        h.portal.close()


# -- 6. logout ends the session -----------------------------------------------------------------------


def test_logout_ends_the_session_for_a_copied_cookie(harness) -> None:
    """Finding 6: a copied session cookie kept working for 8 hours after logout."""
    c = harness.client("analyst")
    stolen = c.cookies.get("diogel_session")
    other = harness.client()
    other.cookies.set("diogel_session", stolen)
    assert other.get("/api/me").json()["role"] == "analyst"
    assert (
        c.post("/logout", headers={"X-CSRF-Token": page_csrf(c)}, follow_redirects=False).status_code == 303
    )
    assert other.get("/api/me").json()["role"] == "public"
    assert other.get("/dashboard").status_code == 403
    # The cookie holds only a random id; the table only its hash.
    with harness.portal.db.session() as s:
        ids = list(s.execute(select(PortalSession.id)).scalars())
    assert stolen not in ids and all(len(i) == 64 for i in ids)


def test_password_change_and_admin_revocation_end_sessions(harness) -> None:
    viewer = harness.client("viewer")
    second = harness.client("viewer")
    admin = harness.client("partnership_admin")
    with harness.portal.db.session() as s:
        uid = s.execute(select(User.id).where(User.username == "viewer")).scalar_one()
    r = admin.post(
        f"/admin/users/{uid}", data={"revoke": "yes", "csrf_token": page_csrf(admin)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert (
        viewer.get("/api/me").json()["role"] == "public" and second.get("/api/me").json()["role"] == "public"
    )
    viewer = harness.client("viewer")
    r = admin.post(
        f"/admin/users/{uid}",
        data={"password": "a brand new passphrase for Tuesday", "csrf_token": page_csrf(admin)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert viewer.get("/api/me").json()["role"] == "public"
    assert login(viewer, "viewer", "a brand new passphrase for Tuesday").status_code == 303
    with harness.portal.db.session() as s:
        changes = list(
            s.execute(select(AuditEntry.detail).where(AuditEntry.action == "user.change")).scalars()
        )
    assert any("sessions_revoked" in c for c in changes)


# -- 7. administrators are scoped to their agency -------------------------------------------------------


def test_an_agency_admin_cannot_touch_another_agencys_accounts(harness) -> None:
    """Finding 7: an admin of one agency reset the password of an admin of another and logged in as them."""
    admin = harness.client("admin")  # Newport City Council
    token = page_csrf(admin)
    with harness.portal.db.session() as s:
        ids = {u.username: (u.id, u.agency_id) for u in s.execute(select(User)).scalars()}
    takeover = {"password": "taken over by another agency", "csrf_token": token}
    for victim in ("partnership-admin", "contributor"):  # another agency's account, the partnership's admin
        r = admin.post(f"/admin/users/{ids[victim][0]}", data=takeover, follow_redirects=False)
        assert r.status_code in (403, 404), (victim, r.status_code)
        assert login(harness.client(), victim, "taken over by another agency").status_code == 401
    # Nor give an account to another agency, make a partnership administrator, or see other agencies.
    own = ids["analyst"]
    r = admin.post(
        "/admin/users",
        data={"username": "newbie", "password": "a perfectly long password", "role": "partnership_admin",
              "agency_id": str(own[1]), "csrf_token": token},
    )  # fmt: skip
    assert r.status_code == 403
    r = admin.post(
        "/admin/users",
        data={"username": "newbie", "password": "a perfectly long password", "role": "viewer",
              "agency_id": str(ids["contributor"][1]), "csrf_token": token},
    )  # fmt: skip
    assert r.status_code == 403
    assert {u["username"] for u in admin.get("/api/users").json()} <= {"admin", "analyst", "member", "spare"}
    assert admin.get("/admin/agreement").status_code == 403
    # Within the agency it works, and every admin action (and refusal) is audited.
    r = admin.post(
        f"/admin/users/{own[0]}", data={"revoke": "yes", "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    with harness.portal.db.session() as s:
        actions = [
            (a, t) for a, t in s.execute(select(AuditEntry.action, AuditEntry.target).where(AuditEntry.actor == "admin"))
        ]  # fmt: skip
    assert ("user.change", "analyst") in actions
    assert sum(a == "admin.refused" for a, _ in actions) == 4
    # The partnership administrator may manage anyone.
    pa = harness.client("partnership_admin")
    r = pa.post(
        f"/admin/users/{ids['contributor'][0]}", data={"revoke": "yes", "csrf_token": page_csrf(pa)},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303


# -- 8. passwords -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [" " * 12, "a" * 12, "password1234", "qwertyuiop123", "viewer-account-1", "VIEWER"],
)
def test_weak_passwords_are_refused(password: str) -> None:
    """Finding 8: 12 spaces, aaaaaaaaaaaa, password1234 and the username itself were accepted."""
    from diogel.portal.security import check_password_strength

    problem = check_password_strength(password, "viewer" if "viewer" in password.lower() else "someone")
    assert problem is not None and password not in problem
    assert check_password_strength("viewer", "viewer") is not None
    assert check_password_strength("correct horse battery staple", "viewer") is None


def test_common_password_list_is_shipped_and_named() -> None:
    import gzip
    from importlib import resources

    from diogel.portal.security import common_passwords

    raw = gzip.decompress(
        (resources.files("diogel.portal") / "data" / "common-passwords.txt.gz").read_bytes()
    )
    assert b"zxcvbn" in raw.splitlines()[1]  # the header names its source
    words = common_passwords()
    assert len(words) == 10_000 and {"password", "123456", "dragon"} <= words


# -- 9. hardening -----------------------------------------------------------------------------------------


def test_exports_neutralise_formulas() -> None:
    import pandas as pd

    from diogel.portal.formats import csv_response

    frame = pd.DataFrame({"name": ['=HYPERLINK("http://evil","x")', "+1", "-cmd", "@SUM(A1)", "\tx", "ok"],
                          "count": [1, -2, 3, 4, 5, 6]})  # fmt: skip
    body = csv_response(frame, "x.csv").body.decode()
    lines = body.splitlines()[1:]
    assert all(ln.startswith(("\"'", "'", "ok")) for ln in lines), lines
    assert "-2" in body  # numbers stay numbers


def test_symlinks_out_of_the_assessment_folder_are_not_served(sqlite_harness) -> None:
    h = sqlite_harness
    folder = h.data_dir / "assessments" / "2025"
    folder.mkdir(parents=True)
    (folder / "assessment.html").write_text("<html><body><h1>SA</h1></body></html>")
    (folder / "passwd.csv").symlink_to("/etc/passwd")
    (folder / "figures.json").symlink_to(folder / "assessment.html")  # inside the folder: fine
    from diogel.portal import services

    with h.portal.db.session() as s:
        analyst = s.execute(select(User).where(User.username == "analyst")).scalar_one()
        row = services.register_assessment(s, analyst, str(folder), h.data_dir, "SA")
        services.publish_assessment(s, analyst, row, True)
        rid = row.id
    c = h.client("analyst")
    assert c.get(f"/assessments/{rid}/passwd.csv").status_code == 404
    assert c.get(f"/assessments/{rid}/assessment.html").status_code == 200


def test_portal_files_are_private(sqlite_harness) -> None:
    for name in ("portal.sqlite", "portal_secret.key"):
        mode = stat.S_IMODE((sqlite_harness.data_dir / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_csrf_token_is_bound_to_the_session_and_origin_is_checked(harness) -> None:
    a = harness.client("analyst")
    b = harness.client("analyst")
    body = {"meeting_date": "2025-05-01", "neighbourhood_code": "nowhere", "attendees": 3}
    # b's token with a's session: refused (it used to be accepted from any browser of the same cookie jar).
    assert a.post("/api/meetings", json=body, headers={"X-CSRF-Token": page_csrf(b)}).status_code == 403
    token = page_csrf(a)
    assert a.post("/api/meetings", json=body, headers={"X-CSRF-Token": token}).status_code == 400
    evil = {"X-CSRF-Token": token, "Origin": "https://evil.example"}
    assert a.post("/api/meetings", json=body, headers=evil).status_code == 403
    assert (
        a.post(
            "/api/meetings", json=body, headers={"X-CSRF-Token": token, "Referer": "https://evil.example/x"}
        ).status_code
        == 403
    )
    same = {"X-CSRF-Token": token, "Origin": "http://testserver"}
    assert a.post("/api/meetings", json=body, headers=same).status_code == 400


def test_authenticated_responses_are_not_cached(sqlite_harness) -> None:
    c = sqlite_harness.client("analyst")
    for path in (
        "/dashboard",
        "/meetings",
        "/priorities",
        "/standards",
        "/assessments",
        "/api/me",
        "/public",
    ):
        r = c.get(path)
        assert r.status_code == 200 and r.headers.get("cache-control") == "no-store", path
    assert "cache-control" not in sqlite_harness.client().get("/public").headers


def test_hsts_when_served_over_https(sqlite_harness, tmp_path: Path) -> None:
    assert "strict-transport-security" not in sqlite_harness.client().get("/login").headers
    folder = tmp_path / "secure"
    folder.mkdir()
    h = make_harness(folder, None, secure_cookies=True)
    try:
        assert h.client().get("/login").headers["strict-transport-security"].startswith("max-age=")
    finally:
        h.portal.close()


def test_no_unsafe_inline_in_any_content_security_policy(sqlite_harness) -> None:
    c = sqlite_harness.client("analyst")
    for path in ("/login", "/dashboard", "/docs", "/meetings"):
        r = c.get(path)
        csp = r.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "style-src 'self'" in csp, path
        # Nothing on the page that the policy would now block.
        assert "style=" not in r.text and "<style" not in r.text, path


def test_assessment_html_is_served_without_unsafe_inline(sqlite_harness) -> None:
    """The report's style sheet and matplotlib's styled SVG used to need 'unsafe-inline'; now the
    style attributes become a hashed style sheet and every <style> is allowed by its hash."""
    import base64
    import hashlib

    import matplotlib.pyplot as plt

    from diogel.portal import services
    from diogel.report.charts import svg

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.bar(["a", "b"], [3, 5], color="#d95f02")
    chart = str(svg(fig, "Synthetic chart"))
    assert "style=" in chart  # matplotlib styles its shapes with attributes
    h = sqlite_harness
    folder = h.data_dir / "assessments" / "csp"
    folder.mkdir(parents=True)
    document = f"<!doctype html><html><head><style>h1 {{ color: #123; }}</style></head><body><h1>SA</h1>{chart}</body></html>"
    (folder / "assessment.html").write_text(document)
    with h.portal.db.session() as s:
        analyst = s.execute(select(User).where(User.username == "analyst")).scalar_one()
        row = services.register_assessment(s, analyst, str(folder), h.data_dir, "SA")
        services.publish_assessment(s, analyst, row, True)
        rid = row.id
    r = h.client("member").get(f"/assessments/{rid}/assessment.html")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "script-src 'none'" in csp
    assert "style=" not in r.text and 'data-s="0"' in r.text
    for block in re.findall(r"<style\b[^>]*>(.*?)</style>", r.text, flags=re.S):
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "fill: #d95f02 !important" in r.text


def test_a_log_written_before_signed_heads_is_signed_on_upgrade(tmp_path: Path) -> None:
    """A portal database at revision 0002 with audit entries: the migration gives it an unsigned
    head, the portal signs it on opening and says so in the log, and the log then verifies."""
    import datetime as dt

    from diogel.portal.db import Database, make_engine, migrate

    url = f"sqlite:///{tmp_path / 'portal.sqlite'}"
    engine = make_engine(url)
    migrate(engine, "0002")
    prev = audit.GENESIS
    with engine.begin() as conn:
        for i in range(3):
            at = dt.datetime(2026, 1, 1 + i).isoformat()
            h = audit.entry_hash(prev, at, "someone", "login", "someone", "{}")
            conn.execute(
                text("INSERT INTO audit_log (at, actor, action, target, detail, prev_hash, hash) "
                     "VALUES (:at, 'someone', 'login', 'someone', '{}', :p, :h)"),
                {"at": at, "p": prev, "h": h},
            )  # fmt: skip
            prev = h
    engine.dispose()
    db = Database(url, audit_key=audit.audit_key(b"synthetic partnership secret"))
    try:
        with db.session() as s:
            result = audit.verify(s)
            actions = list(s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())
        assert result.ok and result.entries == 4 and actions[-1] == "audit.head_signed"
    finally:
        db.close()
