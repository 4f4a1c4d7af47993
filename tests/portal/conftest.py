"""Portal fixtures: a real warehouse built once per session from the bundled data, a fresh portal
database per test (SQLite, or a fresh database on the real PostgreSQL server), and users of every role."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from diogel.portal.app import PortalConfig, create_app
from diogel.portal.security import ThrottlePolicy
from diogel.warehouse.core import Warehouse

PASSWORD = "correct horse battery staple"

#: One user per role; agencies chosen so the default agreement gives the police contributor an
#: upload grant and nobody else (the analyst works for the council).
USERS = {
    "partnership_admin": ("local_authority", "Community Safety Partnership"),
    "admin": ("local_authority", "Newport City Council"),
    "analyst": ("local_authority", "Newport City Council"),
    "contributor": ("police", "Gwent Police"),
    "viewer": ("health", "Aneurin Bevan University Health Board"),
    "member": ("local_authority", "Newport City Council"),
}
ROLES = (*USERS, "public")
AREA = "W14000022"  # Newport CSP: the area with most recorded crime in the bundled Gwent year


@pytest.fixture(scope="session")
def master_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled all-Wales reference data and a year of Gwent crime (2024-07..2025-06), built once.

    The demo archive holds two years; the portal tests were written against its latest year, so
    that a June 2024 upload adds a month rather than replacing one (which guarded replacement refuses).
    """
    import zipfile

    from diogel.warehouse.reference import demo_police_archive, load_reference

    folder = tmp_path_factory.mktemp("master")
    year = tmp_path_factory.mktemp("gwent-year")
    with zipfile.ZipFile(demo_police_archive()) as zf:
        for name in zf.namelist():
            if name.endswith("-street.csv") and Path(name).name[:7] >= "2024-07":
                zf.extract(name, year)
    with Warehouse(None, folder) as wh:
        load_reference(wh, "wales")
        results = wh.ingest("police-street", year)
        assert all(r.status == "loaded" for r in results)
    return folder / "warehouse.duckdb"


@pytest.fixture
def data_dir(tmp_path: Path, master_warehouse: Path) -> Path:
    """A data directory with a private copy of the warehouse (uploads must not leak between tests)."""
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(master_warehouse, folder / "warehouse.duckdb")
    return folder


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """The portal database: None (SQLite in the data directory) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres_url")


@dataclass
class PortalHarness:
    app: object
    data_dir: Path

    @property
    def portal(self):  # noqa: ANN201
        return self.app.state.portal

    def client(self, role: str | None = None) -> TestClient:
        """A browser: logged in as the user of ``role`` (None or "public": anonymous)."""
        c = TestClient(self.app, base_url="http://testserver")
        if role and role != "public":
            r = login(c, username_of(role))
            assert r.status_code == 303, (role, r.status_code, r.text[:300])
        return c


def username_of(role: str) -> str:
    """The test user of ``role`` (usernames take no underscore)."""
    return role.replace("_", "-")


def make_harness(
    data_dir: Path, db: str | None, throttle: ThrottlePolicy | None = None, **config_options
) -> PortalHarness:
    config_options.setdefault("area", AREA)
    config = PortalConfig(
        data_dir=data_dir,
        db=db,
        warm_cache=False,
        throttle=throttle or ThrottlePolicy(),
        **config_options,
    )
    app = create_app(config)
    seed_users(app)
    return PortalHarness(app, data_dir)


@pytest.fixture
def harness(data_dir: Path, db_url: str | None) -> Iterator[PortalHarness]:
    h = make_harness(data_dir, db_url)
    yield h
    h.portal.close()


@pytest.fixture
def sqlite_harness(data_dir: Path) -> Iterator[PortalHarness]:
    h = make_harness(data_dir, None)
    yield h
    h.portal.close()


def seed_users(app) -> None:  # noqa: ANN001
    from diogel.portal import services

    portal = app.state.portal
    with portal.db.session() as s:
        for role, (kind, agency_name) in USERS.items():
            agency = services.get_or_create_agency(s, None, agency_name, kind, list(portal.datasets))
            services.create_user(s, None, username_of(role), PASSWORD, role, agency, f"{role.title()} User")


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD):  # noqa: ANN201
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def page_csrf(client: TestClient) -> str:
    """The CSRF token of this browser (as any page's forms carry it)."""
    return client.get("/api/me").json()["csrf_token"]


@pytest.fixture(scope="session")
def two_year_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled all-Wales reference data and both bundled years of Gwent crime (2023-07..2025-06):
    targets are measured year on year, which one year cannot show."""
    from diogel.warehouse.reference import demo_police_archive, load_reference

    folder = tmp_path_factory.mktemp("two-years")
    with Warehouse(None, folder) as wh:
        load_reference(wh, "wales")
        results = wh.ingest("police-street", demo_police_archive())
        assert all(r.status == "loaded" for r in results)
    return folder / "warehouse.duckdb"


@contextmanager
def serving(data_dir: Path, area: str) -> Iterator[str]:
    """``diogel serve`` on a free loopback port over ``data_dir`` as a real process; yields its base URL
    once /healthz answers, and stops it afterwards."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [sys.executable, "-m", "diogel.cli", "--data-dir", str(data_dir), "serve", "--port", str(port),
           "--area", area]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"diogel serve exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("diogel serve did not answer within 90 s")
        time.sleep(0.2)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
