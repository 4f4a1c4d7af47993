"""Load test of the partnership portal: concurrent clients against the dashboard and the API.

    python benchmarks/portal_load.py                 # 50 clients for 60 s (the goal: p95 < 300 ms, no errors)
    python benchmarks/portal_load.py --smoke         # 5 clients for 3 s (run by the test suite)
    python benchmarks/portal_load.py --json out.json

What it does: builds a data directory from the bundled real data (all-Wales reference data and a
year of Gwent police.uk crime) unless ``--data-dir`` names one, adds a benchmark analyst, starts
``diogel serve`` (uvicorn) in a subprocess on loopback, logs in once, opens the dashboard once to
warm the cache (that first, cold request is timed and reported on its own), then runs N clients
(httpx, asyncio), each looping over the dashboard page, the dashboard API and the suppressed ward
table API with the analyst's session, for the given time. Every request is timed; any status other
than 200, or any exception, is an error. The client runs on the same machine as the server, so on a
small machine the two compete for the CPU; the result says how many cores there were.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PASSWORD = "a load test passphrase 2025"
TARGETS = ("/dashboard", "/api/dashboard", "/api/datasets/police-street/areas")


def build_data_dir(folder: Path) -> None:
    """The bundled real data, through the ordinary loaders, and one analyst account."""
    from diogel.portal import isa, services
    from diogel.portal.audit import load_audit_key
    from diogel.portal.db import Database, database_url
    from diogel.portal.views import datasets
    from diogel.warehouse.core import Warehouse
    from diogel.warehouse.reference import demo_police_archive, load_reference

    if not (folder / "warehouse.duckdb").exists():
        with Warehouse(None, folder) as wh:
            load_reference(wh, "wales")
            wh.ingest("police-street", demo_police_archive())
    db = Database(database_url(None, folder), audit_key=load_audit_key(folder))
    try:
        with db.session() as s:
            names = list(datasets())
            isa.seed_access(s, names)
            agency = services.get_or_create_agency(s, None, "Benchmark Council", "local_authority", names)
            from sqlalchemy import select

            from diogel.portal.models import User

            if s.execute(select(User).where(User.username == "bench")).scalar_one_or_none() is None:
                services.create_user(s, None, "bench", PASSWORD, "analyst", agency)
    finally:
        db.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "diogel.cli", "--data-dir", str(data_dir), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server stopped: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start within 120 s")


def login(base: str) -> httpx.Cookies:
    import re

    with httpx.Client(base_url=base) as c:
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
        if r.status_code != 303:
            raise RuntimeError(f"benchmark login failed: {r.status_code}")
        return c.cookies


async def client_loop(
    base: str, cookies: httpx.Cookies, until: float, k: int, out: list, errors: list
) -> None:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, limits=limits, timeout=30) as c:
        i = k  # clients start at different targets so all three are loaded at once
        while time.monotonic() < until:
            path = TARGETS[i % len(TARGETS)]
            i += 1
            t = time.perf_counter()
            try:
                r = await c.get(path)
                ok = r.status_code == 200
                if not ok:
                    errors.append(f"{path}: HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                ok = False
                errors.append(f"{path}: {type(exc).__name__}")
            out.append((path, (time.perf_counter() - t) * 1000.0, ok))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def run(clients: int, seconds: float, data_dir: Path | None) -> dict:
    own = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="diogel-load-")) if own else data_dir
    try:
        t0 = time.perf_counter()
        build_data_dir(folder)
        build_s = time.perf_counter() - t0
        port = free_port()
        proc = start_server(folder, port)
        base = f"http://127.0.0.1:{port}"
        try:
            cookies = login(base)
            t = time.perf_counter()
            first = httpx.get(f"{base}/dashboard", cookies=cookies, timeout=120)
            cold_ms = (time.perf_counter() - t) * 1000.0
            if first.status_code != 200:
                raise RuntimeError(f"dashboard answered {first.status_code}")
            samples: list = []
            errors: list = []
            until = time.monotonic() + seconds

            async def main() -> None:
                await asyncio.gather(
                    *(client_loop(base, cookies, until, k, samples, errors) for k in range(clients))
                )

            started = time.perf_counter()
            asyncio.run(main())
            elapsed = time.perf_counter() - started
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
    lat = [ms for _, ms, _ in samples]
    per_path = {
        p: {
            "requests": len(v := [ms for q, ms, _ in samples if q == p]),
            "p50_ms": round(percentile(v, 50), 1),
            "p95_ms": round(percentile(v, 95), 1),
        }
        for p in TARGETS
    }
    return {
        "date": time.strftime("%Y-%m-%d"),
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(samples),
        "requests_per_s": round(len(samples) / elapsed, 1) if elapsed else 0.0,
        "errors": len(errors),
        "error_examples": sorted(set(errors))[:5],
        "p50_ms": round(percentile(lat, 50), 1),
        "p95_ms": round(percentile(lat, 95), 1),
        "p99_ms": round(percentile(lat, 99), 1),
        "mean_ms": round(statistics.fmean(lat), 1) if lat else float("nan"),
        "cold_dashboard_ms": round(cold_ms, 0),
        "build_data_s": round(build_s, 1),
        "per_path": per_path,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--smoke", action="store_true", help="5 clients for 3 seconds")
    ap.add_argument("--data-dir", type=Path, help="use (and keep) this data directory")
    ap.add_argument("--json", type=Path, help="also write the result here")
    args = ap.parse_args(argv)
    clients, seconds = (5, 3.0) if args.smoke else (args.clients, args.seconds)
    result = run(clients, seconds, args.data_dir)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    goal = result["errors"] == 0 and result["p95_ms"] < 300
    print(f"goal (p95 < 300 ms, zero errors): {'met' if goal else 'NOT met'}", file=sys.stderr)
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
