"""National-scale ingest benchmark: diogel's validated ingest against DuckDB's bare CSV load.

Builds a police.uk-shaped tree ``YYYY-MM/YYYY-MM-<force>-street.csv`` for the 43 territorial forces
of England and Wales by re-sampling, with replacement, the REAL street rows in
``/work/shared/data/policeuk`` (Gwent 2022-07..2025-06 and the four Welsh forces 2018-10..2019-02),
then in one run on the same files measures, each in its own child process:

(a) ``Warehouse(url=None, data_dir=...).ingest("police-street", tree)`` into a fresh data directory
    (decode, header check, per-row rules, quarantine, content-hash registry, slices, accounting);
(b) DuckDB's bare ``CREATE TABLE t AS SELECT * FROM read_csv('<tree>/*/*.csv', ...)`` into a fresh file;
(c) the throughput ratio diogel / DuckDB (rows per second over rows per second).

Peak memory is the child's peak resident set size from ``os.wait4`` (``ru_maxrss``), so it includes
the interpreter and imported libraries.

Only the synthetic parts are: which real row lands in which file (seeded sampling), the Month /
Reported by / Falls within columns (rewritten to the target force and month), the Crime IDs (fresh
64-hex SHA-256 of force, month and row index, so the only repeats are the planted ones: 0.4% of
rows repeat an earlier Crime ID, half from earlier in the same file, half from the force's previous
month) and the file sizes (rows per file proportional to the force area's real mid-2020 population,
ONS, with a floor of 1/20 of the mean). ASB rows keep their blank Crime ID.

Usage::

    python benchmarks/ingest_national.py                 # 43 forces x 36 months x ~13,000 rows
    python benchmarks/ingest_national.py --months 12     # a smaller documented scale
    python benchmarks/ingest_national.py --smoke         # 2 forces x 2 months, ~2,000 rows, seconds
    python benchmarks/ingest_national.py --rounds 3      # three rounds, the median ratio (a drifting VM)

The tree is kept in ``--work`` (default ``benchmarks/work``, git-ignored) with a manifest and reused
when complete; the two warehouses are deleted after measuring unless ``--keep``. A full run appends
a dated entry to ``benchmarks/RESULTS.md``; ``--smoke`` writes no results unless ``--results`` is
given. Exit status 1 means an accounting check failed (a diogel bug), not that a goal was missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("DIOGEL_SHARED_DATA", "/work/shared/data"))
SOURCES = [DATA / "policeuk" / "gwent-2022-07_2025-06", DATA / "policeuk" / "wales-2018-10_2019-02"]
GENERATOR_VERSION = 1
START_MONTH = "2022-07"
REPEAT_SHARE = 0.004  # of all rows; about what police.uk street files show
CROSS_MONTH_SHARE = 0.5  # of the repeats; the rest repeat an earlier row of the same file
GOAL_RATIO = 0.5
GOAL_PEAK_BYTES = 2 * 10**9  # issue 16's "2 GB", read strictly as 2e9 bytes (1,907 MiB)
SECTION = "## Ingest: national police.uk street tree (`benchmarks/ingest_national.py`)"

HEADER = (
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
)  # fmt: skip

# The 43 territorial forces of England and Wales: police.uk slug, police.uk "Reported by", and the
# force-area name in the ONS PFA 2019 lookup (used only for the population shares).
FORCES: tuple[tuple[str, str, str], ...] = (
    ("avon-and-somerset", "Avon and Somerset Constabulary", "Avon and Somerset"),
    ("bedfordshire", "Bedfordshire Police", "Bedfordshire"),
    ("cambridgeshire", "Cambridgeshire Constabulary", "Cambridgeshire"),
    ("cheshire", "Cheshire Constabulary", "Cheshire"),
    ("city-of-london", "City of London Police", "London, City of"),
    ("cleveland", "Cleveland Police", "Cleveland"),
    ("cumbria", "Cumbria Constabulary", "Cumbria"),
    ("derbyshire", "Derbyshire Constabulary", "Derbyshire"),
    ("devon-and-cornwall", "Devon & Cornwall Police", "Devon & Cornwall"),
    ("dorset", "Dorset Police", "Dorset"),
    ("durham", "Durham Constabulary", "Durham"),
    ("dyfed-powys", "Dyfed-Powys Police", "Dyfed-Powys"),
    ("essex", "Essex Police", "Essex"),
    ("gloucestershire", "Gloucestershire Constabulary", "Gloucestershire"),
    ("greater-manchester", "Greater Manchester Police", "Greater Manchester"),
    ("gwent", "Gwent Police", "Gwent"),
    ("hampshire", "Hampshire Constabulary", "Hampshire"),
    ("hertfordshire", "Hertfordshire Constabulary", "Hertfordshire"),
    ("humberside", "Humberside Police", "Humberside"),
    ("kent", "Kent Police", "Kent"),
    ("lancashire", "Lancashire Constabulary", "Lancashire"),
    ("leicestershire", "Leicestershire Police", "Leicestershire"),
    ("lincolnshire", "Lincolnshire Police", "Lincolnshire"),
    ("merseyside", "Merseyside Police", "Merseyside"),
    ("metropolitan", "Metropolitan Police Service", "Metropolitan Police"),
    ("norfolk", "Norfolk Constabulary", "Norfolk"),
    ("north-wales", "North Wales Police", "North Wales"),
    ("north-yorkshire", "North Yorkshire Police", "North Yorkshire"),
    ("northamptonshire", "Northamptonshire Police", "Northamptonshire"),
    ("northumbria", "Northumbria Police", "Northumbria"),
    ("nottinghamshire", "Nottinghamshire Police", "Nottinghamshire"),
    ("south-wales", "South Wales Police", "South Wales"),
    ("south-yorkshire", "South Yorkshire Police", "South Yorkshire"),
    ("staffordshire", "Staffordshire Police", "Staffordshire"),
    ("suffolk", "Suffolk Constabulary", "Suffolk"),
    ("surrey", "Surrey Police", "Surrey"),
    ("sussex", "Sussex Police", "Sussex"),
    ("thames-valley", "Thames Valley Police", "Thames Valley"),
    ("warwickshire", "Warwickshire Police", "Warwickshire"),
    ("west-mercia", "West Mercia Police", "West Mercia"),
    ("west-midlands", "West Midlands Police", "West Midlands"),
    ("west-yorkshire", "West Yorkshire Police", "West Yorkshire"),
    ("wiltshire", "Wiltshire Police", "Wiltshire"),
)

# Types for the DuckDB baseline: what diogel stores typed (coordinates as numbers), strings otherwise.
DUCKDB_COLUMNS = {c: "VARCHAR" for c in HEADER} | {"Longitude": "DOUBLE", "Latitude": "DOUBLE"}


def log(msg: str) -> None:
    print(f"[{dt.datetime.now().strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- building the tree ---------------------------------------------------------------------------


def load_pool() -> pa.Table:
    """Every real street row of the source folders, as strings (328,168 rows)."""
    files = sorted(p for d in SOURCES for p in d.glob("*-street.csv"))
    if not files:
        raise SystemExit(f"no real police.uk street files under {', '.join(map(str, SOURCES))}")
    convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in HEADER}, strings_can_be_null=False)
    tables = [pacsv.read_csv(p, convert_options=convert).select(list(HEADER)) for p in files]
    return pa.concat_tables(tables).combine_chunks()


def population_shares(forces: list[tuple[str, str, str]]) -> np.ndarray:
    """Each force area's share of the real ONS mid-2020 population of the chosen forces."""
    import pandas as pd

    pop = pd.read_csv(
        DATA / "population" / "population20_lsoa11_england_wales.csv",
        usecols=["lsoa11_code", "total_population"],
    )
    lad = pd.read_csv(DATA / "geography" / "lsoa11_to_ward19_lad19_EW.csv", usecols=["LSOA11CD", "LAD19CD"])
    pfa = pd.read_csv(DATA / "geography" / "lad19_csp19_pfa19_EW.csv", usecols=["LAD19CD", "PFA19NM"])
    merged = pop.merge(lad.drop_duplicates(), left_on="lsoa11_code", right_on="LSOA11CD").merge(
        pfa.drop_duplicates(), on="LAD19CD"
    )
    by_force = merged.groupby("PFA19NM").total_population.sum()
    values = np.array([float(by_force[name]) for _, _, name in forces])
    return values / values.sum()


def month_list(n: int, start: str = START_MONTH) -> list[str]:
    y, m = map(int, start.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def plan_sizes(n_forces: int, months: list[str], rows_per_file: int, seed: int) -> np.ndarray:
    """Rows per (force, month): mean ``rows_per_file``, proportional to population, +-5% month noise."""
    shares = population_shares(list(FORCES[:n_forces]))
    base = np.maximum(rows_per_file * n_forces * shares, rows_per_file / 20)
    rng = np.random.default_rng([seed, 0])
    noise = 1 + 0.05 * rng.standard_normal((n_forces, len(months)))
    return np.maximum(np.rint(base[:, None] * noise), 10).astype(np.int64)


_POOL: pa.Table | None = None


def _init_worker(pool: pa.Table) -> None:
    global _POOL
    _POOL = pool


def _crime_id(slug: str, month: str, i: int) -> str:
    return hashlib.sha256(f"{slug}|{month}|{i}".encode()).hexdigest()


def generate_force(job: tuple[int, list[str], list[int], str, int]) -> list[dict]:
    """Write every month's file of one force; return one manifest entry per file."""
    force_index, months, sizes, tree, seed = job
    pool = _POOL
    assert pool is not None
    slug, reported_by, _ = FORCES[force_index]
    rng = np.random.default_rng([seed, 1, force_index])
    pool_is_crime = np.asarray(pc.not_equal(pool["Crime ID"], "").to_numpy(zero_copy_only=False))
    header = (",".join(HEADER) + "\n").encode()
    prev_fresh: np.ndarray = np.array([], dtype=object)
    entries = []
    for month, n in zip(months, sizes, strict=True):
        idx = rng.integers(0, pool.num_rows, n)
        crime_pos = np.flatnonzero(pool_is_crime[idx])
        ids = np.full(n, "", dtype=object)
        ids[crime_pos] = [_crime_id(slug, month, int(i)) for i in crime_pos]
        k = min(int(round(REPEAT_SHARE * n)), max(len(crime_pos) - 1, 0))
        # Planted repeats never take the file's first crime row, so an earlier original always exists.
        planted = np.sort(rng.choice(crime_pos[1:], size=k, replace=False)) if k else np.array([], np.int64)
        fresh_pos = np.setdiff1d(crime_pos, planted)
        n_cross = 0
        if k:
            earlier = np.searchsorted(fresh_pos, planted)  # fresh crime rows before each planted row (>= 1)
            same_file = ids[fresh_pos[rng.integers(0, earlier)]]
            cross = (rng.random(k) < CROSS_MONTH_SHARE) & (len(prev_fresh) > 0)
            n_cross = int(cross.sum())
            if n_cross:
                same_file[cross] = prev_fresh[rng.integers(0, len(prev_fresh), n_cross)]
            ids[planted] = same_file
        prev_fresh = ids[fresh_pos]
        table = pool.take(pa.array(idx))
        table = table.set_column(0, "Crime ID", pa.array(ids, pa.string()))
        for col, value in (("Month", month), ("Reported by", reported_by), ("Falls within", reported_by)):
            table = table.set_column(table.column_names.index(col), col, pa.array([value] * n, pa.string()))
        rel = f"{month}/{month}-{slug}-street.csv"
        path = Path(tree) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(header)
            pacsv.write_csv(table, fh, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        entries.append(
            {
                "path": rel,
                "rows": int(n),
                "crime_rows": int(len(crime_pos)),
                "planted_repeats": int(k),
                "planted_cross_month": n_cross,
                "bytes": path.stat().st_size,
            }
        )
    return entries


def tree_complete(tree: Path, params: dict) -> dict | None:
    manifest = tree / "manifest.json"
    if not manifest.exists():
        return None
    data = json.loads(manifest.read_text())
    if data.get("params") != params:
        return None
    for f in data["files"]:
        p = tree / f["path"]
        if not p.exists() or p.stat().st_size != f["bytes"]:
            return None
    return data


def build_tree(tree: Path, n_forces: int, n_months: int, rows_per_file: int, seed: int) -> dict:
    params = {
        "generator_version": GENERATOR_VERSION,
        "forces": n_forces,
        "months": n_months,
        "rows_per_file": rows_per_file,
        "seed": seed,
        "start_month": START_MONTH,
    }
    existing = tree_complete(tree, params)
    if existing is not None:
        log(f"reusing the complete tree in {tree} ({existing['totals']['rows']:,} rows)")
        existing["reused"] = True
        return existing
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir(parents=True)
    t0 = time.perf_counter()
    pool = load_pool()
    months = month_list(n_months)
    sizes = plan_sizes(n_forces, months, rows_per_file, seed)
    log(
        f"building {n_forces} forces x {n_months} months, {int(sizes.sum()):,} rows from {pool.num_rows:,} real rows"
    )
    jobs = [(f, months, sizes[f].tolist(), str(tree), seed) for f in range(n_forces)]
    workers = max(1, min(os.cpu_count() or 1, n_forces))
    if workers == 1:
        _init_worker(pool)
        results = [generate_force(j) for j in jobs]
    else:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers, initializer=_init_worker, initargs=(pool,)) as procs:
            results = procs.map(generate_force, jobs, chunksize=1)
    files = sorted((e for r in results for e in r), key=lambda e: e["path"])
    totals = {
        k: sum(f[k] for f in files)
        for k in ("rows", "crime_rows", "planted_repeats", "planted_cross_month", "bytes")
    }
    totals["files"] = len(files)
    totals["asb_rows"] = totals["rows"] - totals["crime_rows"]
    manifest = {
        "params": params,
        "source_rows": pool.num_rows,
        "sources": [str(s) for s in SOURCES],
        "generated_seconds": round(time.perf_counter() - t0, 1),
        "totals": totals,
        "files": files,
    }
    # Written last: its presence with matching sizes is what "complete" means.
    (tree / "manifest.json").write_text(json.dumps(manifest, indent=1))
    log(
        f"built in {manifest['generated_seconds']} s: {totals['files']} files, {totals['bytes'] / 1e9:.2f} GB"
    )
    manifest["reused"] = False
    return manifest


# -- the two measured loads (each run in a child process) -----------------------------------------


def child_diogel(tree: Path, target: Path) -> dict:
    from diogel.warehouse.core import Warehouse

    marks: dict[str, float] = {}
    every = 1

    def progress(i: int, n: int, label: str) -> None:
        nonlocal every
        if i == 0:
            marks["loop_start"] = time.perf_counter()
            every = max(1, n // 10)
        if i == n:
            marks["loop_end"] = time.perf_counter()
            marks["hwm_loop_end"] = vm_hwm_bytes()
        elif i % every == 0:
            log(f"diogel: file {i:,}/{n:,} {label}")

    t0 = time.perf_counter()
    wh = Warehouse(url=None, data_dir=target)
    results = wh.ingest("police-street", tree, progress=progress)
    t1 = time.perf_counter()
    wh.close()
    t2 = time.perf_counter()
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status] = statuses.get(r.status, 0) + 1
    return {
        "seconds": t2 - t0,
        "phases": {
            "open_and_list": marks.get("loop_start", t1) - t0,
            "per_file_read_validate_insert": marks.get("loop_end", t1) - marks.get("loop_start", t0),
            "accounting": t1 - marks.get("loop_end", t1),
            "close": t2 - t1,
        },
        "files": len(results),
        "statuses": statuses,
        "rows_read": sum(r.rows_read for r in results),
        "loaded": sum(r.loaded or 0 for r in results),
        "duplicates": sum(r.duplicates or 0 for r in results),
        "quarantined": sum(r.quarantined for r in results),
        "db_bytes": (target / "warehouse.duckdb").stat().st_size,
        "peak_rss_before_accounting_bytes": marks.get("hwm_loop_end", 0),
    }


def vm_hwm_bytes() -> int:
    """This process's peak resident set size so far (Linux ``VmHWM``)."""
    with open("/proc/self/status") as fh:
        return int(next(ln for ln in fh if ln.startswith("VmHWM")).split()[1]) * 1024


def child_duckdb(tree: Path, target: Path) -> dict:
    import duckdb

    target.mkdir(parents=True, exist_ok=True)
    db = target / "bare.duckdb"
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in DUCKDB_COLUMNS.items()) + "}"
    sql = f"CREATE TABLE t AS SELECT * FROM read_csv('{tree}/*/*.csv', header = true, columns = {columns})"
    t0 = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(sql)
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
    t1 = time.perf_counter()
    return {"seconds": t1 - t0, "rows_read": int(rows), "sql": sql, "db_bytes": db.stat().st_size}


# Forked from a near-empty interpreter: Linux carries the RSS a process had at fork into its
# ru_maxrss across exec, so forking the loads from this (large) process would inflate their peaks.
_LAUNCHER = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as fh:
    json.dump({"exit": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime}, fh)
"""


def run_child(which: str, tree: Path, target: Path) -> dict:
    """Run one load in a fresh interpreter; return its result plus its peak RSS from ``wait4``."""
    if target.exists():
        shutil.rmtree(target)
    with tempfile.TemporaryDirectory() as tmp:
        result_path, usage_path = Path(tmp) / "result.json", Path(tmp) / "usage.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", which, "--tree", str(tree)]
        cmd += ["--target", str(target), "--result", str(result_path)]
        busy0, t0 = machine_busy_seconds(), time.perf_counter()
        subprocess.run([sys.executable, "-c", _LAUNCHER, str(usage_path), *cmd], check=True)
        busy1, wall = machine_busy_seconds(), time.perf_counter() - t0
        usage = json.loads(usage_path.read_text())
        if usage["exit"] != 0:
            raise SystemExit(f"the {which} child failed with exit status {usage['exit']}")
        result = json.loads(result_path.read_text())
    result["process_seconds"] = wall
    result["peak_rss_bytes"] = usage["maxrss_kb"] * 1024  # Linux reports kilobytes
    result["cpu_seconds"] = usage["cpu_seconds"]
    # The machine may be shared: CPU time spent by every other process while this load ran.
    result["others_cores"] = max(0.0, (busy1 - busy0) - usage["cpu_seconds"]) / wall
    return result


def machine_busy_seconds() -> float:
    """CPU-seconds all processes have spent busy since boot (``/proc/stat``, all CPUs)."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


# -- reporting -----------------------------------------------------------------------------------


def machine() -> dict:
    import duckdb
    import ibis

    model = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        mem_kb = int(next(ln for ln in fh if ln.startswith("MemTotal")).split()[1])
    try:
        from diogel import __version__ as diogel_version
    except ImportError:
        diogel_version = "not importable"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gib": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": pa.__version__,
        "ibis": ibis.__version__,
        "diogel": diogel_version,
    }


def mib(n: float) -> str:
    return f"{n / 1024**2:,.0f} MiB"


def report(
    manifest: dict, rounds: list[tuple[dict, dict]], info: dict, smoke: bool
) -> tuple[str, bool, list[str]]:
    """Markdown entry, whether the goal is met, and the failed accounting checks.

    ``rounds``: (diogel, DuckDB) results of each round. The goal is judged on the median round's
    ratio and on the highest diogel peak of any round; the table and the split show that round.
    """
    t = manifest["totals"]
    p = manifest["params"]
    ratios = [(x["rows_read"] / x["seconds"]) / (y["rows_read"] / y["seconds"]) for x, y in rounds]
    middle = sorted(range(len(rounds)), key=lambda i: ratios[i])[len(rounds) // 2]
    d, b = rounds[middle]
    d_rate = d["rows_read"] / d["seconds"]
    b_rate = b["rows_read"] / b["seconds"]
    ratio = ratios[middle]
    ratio_ok = ratio >= GOAL_RATIO
    peak = max(x["peak_rss_bytes"] for x, _ in rounds)
    mem_ok = peak < GOAL_PEAK_BYTES
    checks = {
        "diogel rows read = rows written": d["rows_read"] == t["rows"],
        "DuckDB rows = rows written": b["rows_read"] == t["rows"],
        "every file loaded": d["statuses"] == {"loaded": t["files"]},
        "quarantined = 0 (the real source rows are all valid)": d["quarantined"] == 0,
        "duplicates = planted repeats": d["duplicates"] == t["planted_repeats"],
        "rows read = loaded + duplicates + quarantined": d["rows_read"]
        == d["loaded"] + d["duplicates"] + d["quarantined"],
    }
    counted = [(x["rows_read"], x["loaded"], x["duplicates"], y["rows_read"]) for x, y in rounds]
    checks["every round counts the same rows"] = len(set(counted)) == 1
    failed = [k for k, ok in checks.items() if not ok]
    scale = "SMOKE (tiny tree, not a measurement)" if smoke else (
        "full default scale" if (p["forces"], p["months"]) == (43, 36) else
        f"REDUCED scale ({p['forces']} forces x {p['months']} months), not the 43 x 36 default"
    )  # fmt: skip
    ph = d["phases"]
    lines = [
        f"### {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}: {scale}",
        "",
        f"- Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['ram_gib']} GiB RAM; Python {info['python']}, "
        f"duckdb {info['duckdb']}, pyarrow {info['pyarrow']}, ibis {info['ibis']}, diogel {info['diogel']}",
        f"- Tree: {p['forces']} forces x {p['months']} months from {p['start_month']}, {t['files']:,} files, "
        f"{t['rows']:,} rows ({t['asb_rows']:,} ASB), {t['bytes'] / 1e9:.2f} GB; {t['planted_repeats']:,} planted "
        f"repeat Crime IDs ({t['planted_cross_month']:,} across months); mean --rows-per-file {p['rows_per_file']:,}, "
        f"seed {p['seed']}; generated in {manifest['generated_seconds']} s"
        + (" (reused)" if manifest.get("reused") else ""),
        "",
        "| load | time (s) | rows/s | peak RSS | DB file |",
        "|---|---:|---:|---:|---:|",
        f"| diogel `Warehouse.ingest('police-street', tree)` | {d['seconds']:,.1f} | {d_rate:,.0f} | "
        f"{mib(d['peak_rss_bytes'])} | {mib(d['db_bytes'])} |",
        f"| DuckDB bare `CREATE TABLE t AS SELECT * FROM read_csv(...)` | {b['seconds']:,.1f} | {b_rate:,.0f} | "
        f"{mib(b['peak_rss_bytes'])} | {mib(b['db_bytes'])} |",
        "",
        f"- Ratio diogel/DuckDB (rows/s over rows/s): **{ratio:.3f}**"
        + (
            ""
            if len(rounds) == 1
            else f" (the median of {len(rounds)} rounds, alternating which load goes first: "
            + ", ".join(
                f"{r:.3f} ({x['seconds']:.1f} s / {y['seconds']:.1f} s)"
                for r, (x, y) in zip(ratios, rounds, strict=True)
            )
            + f"; diogel peak RSS in each {', '.join(mib(x['peak_rss_bytes']) for x, _ in rounds)})"
        ),
        f"- diogel time split: open and list {ph['open_and_list']:.1f} s; per-file read, validate, insert "
        f"{ph['per_file_read_validate_insert']:.1f} s ({ph['per_file_read_validate_insert'] / max(t['files'], 1) * 1000:.0f} "
        f"ms/file); end-of-run accounting {ph['accounting']:.1f} s; close {ph['close']:.1f} s",
        f"- diogel peak RSS by the end of the per-file phase: {mib(d['peak_rss_before_accounting_bytes'])}; "
        f"over the whole ingest including the end-of-run accounting query: {mib(d['peak_rss_bytes'])}",
        f"- CPU: diogel used {d['cpu_seconds']:,.1f} CPU-s ({d['cpu_seconds'] / d['process_seconds']:.2f} cores "
        f"on average), DuckDB {b['cpu_seconds']:,.1f} CPU-s ({b['cpu_seconds'] / b['process_seconds']:.2f} cores). "
        f"Other processes on the machine used on average {d['others_cores']:.2f} cores during the diogel load "
        f"and {b['others_cores']:.2f} during the DuckDB load"
        + (
            " (SHARED MACHINE: the figures are perturbed)"
            if max(d["others_cores"], b["others_cores"]) > 0.2
            else ""
        ),
        f"- diogel accounting: read {d['rows_read']:,} = loaded {d['loaded']:,} + duplicates {d['duplicates']:,} "
        f"+ quarantined {d['quarantined']:,}",
        f"- Goal (ratio >= {GOAL_RATIO} and diogel peak memory < 2 GB = {mib(GOAL_PEAK_BYTES)} in every round, on a 2-core 24 GB "
        f"machine): ratio {'met' if ratio_ok else 'NOT met'}, memory {'met' if mem_ok else 'NOT met'}"
        + ("" if info["cpus"] == 2 else f" (this machine has {info['cpus']} CPUs, not 2)"),
        "- Checks: " + ("all passed" if not failed else "FAILED: " + "; ".join(failed)),
        "",
    ]
    return "\n".join(lines), ratio_ok and mem_ok, failed


def third_child_lines(a: dict, b: dict) -> str:
    """The same diogel load with ``DIOGEL_NATIVE_INGEST=0`` (the Arrow route on every file), run third."""
    ratio = (a["rows_read"] / a["seconds"]) / (b["rows_read"] / b["seconds"])
    ph = a["phases"]
    return (
        f"- Same run, third child: diogel with the Arrow route on every file (`DIOGEL_NATIVE_INGEST=0`): "
        f"{a['seconds']:,.1f} s, ratio to the DuckDB load above **{ratio:.3f}**, peak RSS {mib(a['peak_rss_bytes'])} "
        f"({mib(a['peak_rss_before_accounting_bytes'])} by the end of the per-file phase), {a['cpu_seconds']:,.1f} "
        f"CPU-s; per-file phase {ph['per_file_read_validate_insert']:.1f} s, close {ph['close']:.1f} s; other "
        f"processes used {a['others_cores']:.2f} cores; accounting read {a['rows_read']:,} = loaded {a['loaded']:,} "
        f"+ duplicates {a['duplicates']:,} + quarantined {a['quarantined']:,}\n"
    )


def append_results(path: Path, entry: str) -> None:
    """Add ``entry`` at the end of this benchmark's section, creating the file or section if needed."""
    if path.exists():
        text = path.read_text()
    else:
        text = (
            "# diogel benchmark results\n\n"
            "Each entry is one run of a benchmark script; every figure in an entry (times, rows per second, "
            "ratios, peak memory) was measured in that one run on the same machine and the same files. "
            "Compare ratios, not absolute times, across machines.\n"
        )
    if SECTION not in text:
        text = text.rstrip("\n") + "\n\n" + SECTION + "\n\n"
    start = text.index(SECTION) + len(SECTION)
    nxt = text.find("\n## ", start)
    end = len(text) if nxt < 0 else nxt + 1
    body = text[start:end].rstrip("\n") + "\n\n" + entry.rstrip("\n") + "\n"
    rest = text[end:]
    path.write_text(text[:start] + body + ("\n" + rest if rest else ""))


# -- main ----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--forces", type=int, default=43, help="how many of the 43 forces (alphabetical), default 43"
    )
    ap.add_argument("--months", type=int, default=36, help=f"months from {START_MONTH}, default 36")
    ap.add_argument("--rows-per-file", type=int, default=13_000, help="mean rows per file, default 13,000")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument(
        "--work", type=Path, default=None, help="work folder (default benchmarks/work; smoke: a temp dir)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the two warehouses (and the smoke temp dir)")
    ap.add_argument(
        "--smoke", action="store_true", help="2 forces x 2 months x ~500 rows: checks the script runs"
    )
    ap.add_argument("--results", type=Path, default=None, help="results file (default benchmarks/RESULTS.md; "
                    "smoke runs write none unless given)")  # fmt: skip
    ap.add_argument("--compare-arrow", action="store_true", help="also load with DIOGEL_NATIVE_INGEST=0 (the "
                    "Arrow route on every file) in the same run, as a third child")  # fmt: skip
    ap.add_argument("--rounds", type=int, default=1,
                    help="rounds of the two loads, alternating which goes first; the goal uses the median ratio")  # fmt: skip
    ap.add_argument("--child", choices=("diogel", "duckdb"), help=argparse.SUPPRESS)
    ap.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        fn = child_diogel if args.child == "diogel" else child_duckdb
        args.result.write_text(json.dumps(fn(args.tree, args.target)))
        return 0

    if args.smoke:
        args.forces, args.months, args.rows_per_file = 2, 2, 500
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    if not 1 <= args.forces <= len(FORCES):
        ap.error(f"--forces must be 1..{len(FORCES)}")
    temp = None
    if args.work is None:
        if args.smoke:
            temp = Path(tempfile.mkdtemp(prefix="diogel-bench-smoke-"))
            args.work = temp
        else:
            args.work = HERE / "work"
    results_path = args.results or (None if args.smoke else HERE / "RESULTS.md")
    work = args.work.resolve()
    tree = work / f"tree-{args.forces}f-{args.months}m-{args.rows_per_file}r-s{args.seed}"
    try:
        manifest = build_tree(tree, args.forces, args.months, args.rows_per_file, args.seed)
        # Warm the page cache once so neither load pays for the first read from disk.
        for f in manifest["files"]:
            (tree / f["path"]).read_bytes()
        info = machine()
        rounds = []
        for i in range(args.rounds):
            # (Alternating which goes first: a machine whose speed drifts favours neither load.)
            result = {}
            for which in ("diogel", "duckdb") if i % 2 == 0 else ("duckdb", "diogel"):
                log(f"round {i + 1}: measuring {which} (child process)")
                result[which] = run_child(which, tree, work / f"run-{which}")
                log(
                    f"{which}: {result[which]['seconds']:.1f} s, peak RSS {mib(result[which]['peak_rss_bytes'])}"
                )
            rounds.append((result["diogel"], result["duckdb"]))
        entry, goal_met, failed = report(manifest, rounds, info, args.smoke)
        b = rounds[-1][1]
        if args.compare_arrow:
            log("measuring diogel with the Arrow route (DIOGEL_NATIVE_INGEST=0, child process)")
            os.environ["DIOGEL_NATIVE_INGEST"] = "0"
            try:
                a = run_child("diogel", tree, work / "run-diogel")
            finally:
                del os.environ["DIOGEL_NATIVE_INGEST"]
            log(f"diogel (Arrow route): {a['seconds']:.1f} s, peak RSS {mib(a['peak_rss_bytes'])}")
            entry += third_child_lines(a, b)
        print(entry)
        print(f"GOAL {'MET' if goal_met else 'NOT MET'}: ratio >= {GOAL_RATIO} and peak memory < 2 GB")
        if results_path is not None:
            append_results(results_path, entry)
            log(f"appended to {results_path}")
        if not args.keep:
            for sub in ("run-diogel", "run-duckdb"):
                shutil.rmtree(work / sub, ignore_errors=True)
    finally:
        if temp is not None and not args.keep:
            shutil.rmtree(temp, ignore_errors=True)
    if failed:
        print("ACCOUNTING CHECKS FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
