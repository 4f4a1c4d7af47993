"""The command line beside a running portal, and commands beside each other, on one DuckDB file.

Every process here is a real ``diogel`` subprocess on a data directory of real data (the all-Wales
reference data and the bundled Gwent year of police.uk street crime, its last month held back to
be ingested while the portal runs). A DuckDB file is open read-write in one process or read-only
in several: readers must share it, a writer must wait for it with one line saying why, and no
output may ever show a traceback or DuckDB's lock error.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from diogel.warehouse.core import Warehouse
from diogel.warehouse.reference import demo_police_archive, load_reference

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "policeuk" / "2024-06-gwent-street.csv"  # a month the demo lacks
NEW_MONTH = "2025-06"  # the demo's last month, held back from the warehouse the portal starts on
AREA = "W14000022"  # Newport CSP
PASSWORD = "correct horse battery staple"
BAD = ("Traceback", "Could not set lock", "IOException", "_duckdb")


# -- fixtures and helpers --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Reference data and the demo's latest Gwent year but its last month; that month as its own file.

    (The demo archive holds two years; June 2024, the fixture's month, must not be loaded already.)
    """
    root = tmp_path_factory.mktemp("beside")
    months, new = root / "months", root / "new"
    with zipfile.ZipFile(demo_police_archive()) as z:
        for member in z.namelist():
            if member.endswith(".csv") and Path(member).name[:7] >= "2024-07":
                target = new if member.startswith(NEW_MONTH) else months
                target.mkdir(exist_ok=True)
                (target / Path(member).name).write_bytes(z.read(member))
    with Warehouse(None, root / "data") as wh:
        load_reference(wh, "wales")
        assert all(r.status == "loaded" for r in wh.ingest("police-street", months))
    return root


@pytest.fixture
def data_dir(template: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(template / "data", data)
    return data


@pytest.fixture
def new_month(template: Path) -> Path:
    (path,) = (template / "new").iterdir()
    return path


def _env(**extra: str) -> dict[str, str]:
    # The default engine and waits, whatever the test runner's environment says.
    unset = ("DIOGEL_WAREHOUSE", "DIOGEL_LOCK_WAIT", "DIOGEL_DATA_DIR", "DIOGEL_TEST_PAUSE_BEFORE_COMMIT")
    return {**{k: v for k, v in os.environ.items() if k not in unset}, **extra}


def start(data_dir: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "diogel.cli", "--data-dir", str(data_dir), *args],
        env=_env(**env),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen, stdin: str | None = None, timeout: float = 600) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"{proc.args[4:]} did not finish in {timeout} s: {err[-2000:]}") from None
    return proc.returncode, out, err


def run(data_dir: Path, *args: str, stdin: str | None = None, **env: str) -> tuple[int, str, str]:
    return finish(start(data_dir, *args, stdin=stdin, **env), stdin)


def assert_clean(name: str, *texts: str) -> None:
    for text in texts:
        for bad in BAD:
            assert bad not in text, f"{name}: {bad!r} in its output:\n{text[-3000:]}"


def counts_by_month(stdout: str) -> dict[str, int]:
    return {r["month"]: int(r["count"]) for r in csv.DictReader(io.StringIO(stdout))}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``diogel serve`` in a subprocess, with its output captured to files."""

    def __init__(self, data_dir: Path, log_dir: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out, self.err = log_dir / "serve.out", log_dir / "serve.err"
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "diogel.cli", "--data-dir", str(data_dir), "serve"]
                + ["--port", str(self.port), "--area", AREA],
                env=_env(),
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"diogel serve did not start: {self.err.read_text()[-3000:]}")
            time.sleep(0.3)

    def stop(self) -> str:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)
        return self.out.read_text() + self.err.read_text()


@pytest.fixture
def server(data_dir: Path, tmp_path: Path) -> Iterator[Server]:
    # An analyst account (in the portal's own database, not the warehouse) to read records with.
    rc, out, err = run(
        data_dir, "users", "add", "analyst", "--role", "analyst", "--agency", "Newport City Council",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert rc == 0, err
    srv = Server(data_dir, tmp_path)
    yield srv
    log = srv.stop()
    assert_clean("diogel serve", log)


def login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token, "no CSRF field on the login page"
    r = client.post(
        "/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert r.status_code in (200, 303), r.text[:500]
    return client


def records_in(client: httpx.Client, month: str) -> int:
    r = client.get(f"/api/datasets/police-street/records?area={AREA}&month={month}&limit=1")
    assert r.status_code == 200, r.text[:500]
    return int(r.json()["total"])


# -- the portal runs all day; the month's files are loaded from the command line -------------------
@pytest.mark.slow
def test_ingest_status_counts_and_assess_while_the_portal_serves(
    server: Server, data_dir: Path, new_month: Path, tmp_path: Path
) -> None:
    public = httpx.Client(base_url=server.base, timeout=120)
    analyst = login(server.base)
    before = public.get(f"/api/public/{AREA}")
    assert before.status_code == 200, before.text[:500]
    assert before.json()["months"][-1] == "2025-05"
    assert records_in(analyst, NEW_MONTH) == 0

    # People keep using the portal the whole time the commands run.
    answers: list[tuple[str, int]] = []
    stop = threading.Event()

    def browse() -> None:
        while not stop.is_set():
            for client, url in (
                (public, "/healthz"),
                (public, f"/api/public/{AREA}"),
                (public, f"/public/{AREA}"),
                (analyst, f"/api/datasets/police-street/records?area={AREA}&month=2025-05&limit=5"),
            ):
                answers.append((url, client.get(url).status_code))

    browser = threading.Thread(target=browse, daemon=True)
    browser.start()
    try:
        procs = {
            "ingest": start(data_dir, "ingest", "police-street", str(new_month)),
            "status": start(data_dir, "status", "--json"),
            "counts": start(data_dir, "counts", "--by", "month"),
            "assess": start(
                data_dir,
                "assess",
                "--area",
                "Newport",
                "--period",
                "2024-07..2025-05",
                "--permutations",
                "99",
                "--no-pdf",
                "--out",
                str(tmp_path / "assessment"),
            ),  # fmt: skip
        }
        results = {name: finish(p) for name, p in procs.items()}
    finally:
        stop.set()
        browser.join(180)
    for name, (rc, out, err) in results.items():
        assert rc == 0, f"diogel {name} failed ({rc}):\n{err[-3000:]}"
        assert_clean(f"diogel {name}", out, err)
        # A command that had to wait said so once, naming what it waited for.
        assert err.count("waiting for the warehouse") <= 1, err
    assert "loaded" in results["ingest"][1]
    assert (tmp_path / "assessment" / "assessment.html").exists()
    assert answers and {code for _, code in answers} == {200}, sorted(set(answers))

    # Once the ingest has committed, the portal shows the new month: on the public page and in records.
    rc, out, err = run(data_dir, "counts", "--by", "month", "--area", AREA)
    assert rc == 0, err
    in_newport = counts_by_month(out)[NEW_MONTH]
    assert in_newport > 0
    after = public.get(f"/api/public/{AREA}").json()
    assert after["months"][-1] == NEW_MONTH
    assert after["wards"] != before.json()["wards"]
    assert records_in(analyst, NEW_MONTH) > 0

    # And the command line still works on the data directory with the portal up.
    rc, out, err = run(data_dir, "status")
    assert rc == 0 and "waiting" not in err, err
    assert_clean("diogel status", out, err)


# -- commands beside each other --------------------------------------------------------------------
@pytest.mark.slow
def test_two_status_commands_at_once(data_dir: Path) -> None:
    a, b = start(data_dir, "status", "--json"), start(data_dir, "status", "--json")
    (rc_a, out_a, err_a), (rc_b, out_b, err_b) = finish(a), finish(b)
    assert rc_a == rc_b == 0, err_a + err_b
    assert_clean("status", out_a, err_a, out_b, err_b)
    assert out_a == out_b and '"files"' in out_a
    assert "waiting" not in err_a + err_b  # readers share the file


def _paused_ingest(data_dir: Path, path: Path, tmp_path: Path) -> subprocess.Popen:
    """A real ingest stopped inside its transaction (the test hook), holding the file read-write."""
    marker = tmp_path / "paused"
    proc = start(data_dir, "ingest", "police-street", str(path), DIOGEL_TEST_PAUSE_BEFORE_COMMIT=str(marker))
    deadline = time.monotonic() + 180
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"ingest ended before the pause: {proc.communicate()[1][-2000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("ingest never reached the commit")
        time.sleep(0.1)
    return proc


@pytest.mark.slow
def test_a_writer_kept_out_by_an_ingest_fails_in_one_line_or_waits_and_proceeds(
    data_dir: Path, new_month: Path, tmp_path: Path
) -> None:
    holder = _paused_ingest(data_dir, FIXTURE, tmp_path)
    try:
        # A short wait runs out: one line on stderr saying what it waited for, then one error line.
        rc, out, err = run(data_dir, "ingest", "police-street", str(new_month), DIOGEL_LOCK_WAIT="2")
        assert rc == 2, (rc, out, err)
        assert_clean("ingest", out, err)
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 2, err
        assert lines[0].startswith("waiting for the warehouse") and "up to 2 s" in lines[0]
        assert f"diogel ingest (PID {holder.pid}) has it open for writing" in lines[0]
        assert lines[1].startswith("error: cannot write to the warehouse") and "waited 2 s" in lines[1]
        # A reader is kept out too, the same way.
        rc, out, err = run(data_dir, "status", DIOGEL_LOCK_WAIT="1")
        assert rc == 2 and "error: cannot read the warehouse" in err, err
        assert_clean("status", out, err)

        # A longer wait outlasts the holder (here killed mid-file, which leaves nothing behind).
        waiting = start(data_dir, "ingest", "police-street", str(new_month), DIOGEL_LOCK_WAIT="300")
        said = waiting.stderr.readline()  # blocks until it has found the file locked
        assert said.startswith("waiting for the warehouse") and "up to 5 min" in said, said
        assert waiting.poll() is None
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(30)
    rc, out, err = finish(waiting)
    err = said + err
    assert rc == 0, err
    assert_clean("ingest", out, err)
    assert err.count("waiting for the warehouse") == 1, err
    rc, out, err = run(data_dir, "counts", "--by", "month")
    assert rc == 0, err
    by_month = counts_by_month(out)
    assert by_month[NEW_MONTH] > 0 and "2024-06" not in by_month  # the killed ingest left nothing


# -- the files diogel creates ------------------------------------------------------------------------
def test_data_directory_and_warehouse_are_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    with Warehouse(None, data):
        pass
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "warehouse.duckdb").stat().st_mode & 0o777 == 0o600


def test_a_reader_shares_the_file_and_cannot_write(tmp_path: Path) -> None:
    with Warehouse(None, tmp_path / "data", read_only=True) as a:  # creates the empty warehouse first
        with Warehouse(None, tmp_path / "data", read_only=True) as b:
            assert a.status().empty and b.status().empty
        assert a.backend.read_only
        with pytest.raises(Exception, match="read-only"):
            a.backend.raw.execute("CREATE TABLE t (x INTEGER)")


def test_lock_wait_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from diogel.errors import WarehouseError
    from diogel.warehouse.backends import LOCK_WAIT_SECONDS, lock_wait_seconds

    monkeypatch.delenv("DIOGEL_LOCK_WAIT", raising=False)
    assert lock_wait_seconds() == LOCK_WAIT_SECONDS
    monkeypatch.setenv("DIOGEL_LOCK_WAIT", "0")
    assert lock_wait_seconds() == 0
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv("DIOGEL_LOCK_WAIT", bad)
        with pytest.raises(WarehouseError, match="DIOGEL_LOCK_WAIT"):
            lock_wait_seconds()


@pytest.mark.postgres
def test_reading_commands_share_a_postgres_warehouse(postgres_url: str, tmp_path: Path) -> None:
    """PostgreSQL has no file lock: readers (opened read-only, which there changes nothing) and a
    writer run at once, as before."""
    data = tmp_path / "data"
    rc, out, err = run(data, "--warehouse", postgres_url, "ingest", "police-street", str(FIXTURE))
    assert rc == 0, err
    loaded = int(re.search(r"= loaded ([\d,]+)", out).group(1).replace(",", ""))
    procs = [
        start(data, "--warehouse", postgres_url, "status", "--json"),
        start(data, "--warehouse", postgres_url, "counts", "--by", "month"),
        start(data, "--warehouse", postgres_url, "ingest", "police-street", str(FIXTURE)),
    ]
    (rc_s, out_s, err_s), (rc_c, out_c, err_c), (rc_i, out_i, err_i) = [finish(p) for p in procs]
    assert rc_s == rc_c == rc_i == 0, err_s + err_c + err_i
    assert_clean("postgres", out_s, err_s, out_c, err_c, out_i, err_i)
    assert "waiting" not in err_s + err_c + err_i
    assert counts_by_month(out_c) == {"2024-06": loaded}
    assert "already loaded" in out_i


# -- the portal's read models while another process writes ----------------------------------------
class Holder:
    """Another process that opens the warehouse read-write, commits a change and keeps it open."""

    def __init__(self, path: Path):
        code = (
            "import sys, time, duckdb\n"
            "c = duckdb.connect(sys.argv[1])\n"
            "c.execute('CREATE TABLE IF NOT EXISTS holder_note AS SELECT 1 AS x')\n"
            "print('holding', flush=True)\n"
            "time.sleep(120)\n"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self.proc.stdout.readline().strip() == "holding"

    def release(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)


@pytest.mark.slow
def test_portal_answers_from_its_read_models_while_another_process_writes(data_dir: Path) -> None:
    from fastapi.testclient import TestClient

    from diogel.demo.files import demo_paths
    from diogel.portal.app import PortalConfig, create_app
    from diogel.sources.partner.keys import ensure_partner_secret
    from diogel.warehouse.backends import WarehouseBusy

    ensure_partner_secret(data_dir)  # what 'diogel init' does: partner uploads need the key
    app = create_app(PortalConfig(data_dir=data_dir, area=AREA, warm_cache=False))
    portal = app.state.portal
    portal.access.read_wait = 1.0  # a person would wait 30 s; the test need not
    client = TestClient(app)
    try:
        first = client.get(f"/api/public/{AREA}")
        assert first.status_code == 200
        version = portal.views.version()
        areas = portal.views.areas()

        holder = Holder(data_dir / "warehouse.duckdb")
        try:
            assert portal.views.version() != version  # the holder's commit moved the file's stamp
            started = time.monotonic()
            again = client.get(f"/api/public/{AREA}")  # computed before: answered from it at once
            assert again.status_code == 200 and again.json() == first.json()
            assert portal.views.areas() == areas
            assert time.monotonic() - started < 5
            # Record pages are read afresh each time: the warehouse is busy, said in one line.
            with pytest.raises(WarehouseBusy, match="has it open for writing"):
                portal.views.records(AREA, limit=1)
            # Another area's public page (Monmouthshire): nothing computed before, so "busy", a page.
            page = client.get("/public/W14000021")
            assert page.status_code == 503, page.text[:500]
            assert "being updated by another diogel process" in page.text
            assert "Traceback" not in page.text
            # A partner upload waits for the writer, then gives up in one line (nothing stored).
            portal.access.write_wait = 1.0
            (path, schema), *_ = demo_paths()
            with pytest.raises(WarehouseBusy, match=r"cannot write to the warehouse .*\(waited 1 s"):
                portal.views.ingest(portal.datasets[f"partner:{schema}"], str(path))
        finally:
            holder.release()
        # With the file free, partner uploads go in through a brief read-write open.
        for path, schema in demo_paths():
            results = portal.views.ingest(portal.datasets[f"partner:{schema}"], str(path))
            assert [r.status for r in results] == ["loaded"], [r.error for r in results]
        assert not list(data_dir.glob("*.write-pending"))  # the waiting upload cleared its marker
        # The writer has gone: the next request reads the file again, the holder's table included.
        rows, total = portal.views.records(AREA, limit=1)
        assert total > 0
        with portal.views.reading() as wh:
            assert wh.has("holder_note")
    finally:
        portal.close()


def test_a_reader_of_an_older_warehouse_gets_the_system_tables_it_lacks(tmp_path: Path) -> None:
    import duckdb

    data = tmp_path / "data"
    with Warehouse(None, data):
        pass
    con = duckdb.connect(str(data / "warehouse.duckdb"))
    con.execute("DROP TABLE quarantine")  # as if made before the quarantine table existed
    con.close()
    with Warehouse(None, data, read_only=True) as wh:
        assert wh.backend.read_only and wh.has("quarantine") and wh.quarantine().empty
