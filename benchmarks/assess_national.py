"""Strategic-assessment benchmark: ``diogel assess`` from a national-scale warehouse, with esda's Gi* as reference.

Builds (or reuses) the national police.uk street tree of ``benchmarks/ingest_national.py`` (real
police.uk rows re-sampled into the 43 territorial forces' monthly files; see that script and the
README), loads it into a fresh DuckDB warehouse with the bundled all-Wales reference data (geography,
population, WIMD 2019, harm weights), then in one run measures, each in its own child process:

(a) the full assessment (HTML, PDF, figures.json, tables, maps) of one Community Safety Partnership,
    Cwm Taf (W14000023: Rhondda Cynon Taf and Merthyr Tydfil, two local authorities);
(b) the full assessment of each of the 22 Welsh local authorities, one after another in one process;
(c) on the same LSOA data as (a) (its 2021 LSOAs, queen contiguity, all records in the period):
    diogel's hot-spot step ``diogel.analysis.hotspots.gi_star`` against esda's own
    ``esda.G_Local(y, w, transform="B", star=True, permutations=R, seed=...)`` called directly,
    single-threaded like diogel (``n_jobs=1``) and with esda's default ``n_jobs=-1``; the median of
    ``--repeats`` calls each, after one warm-up call, and a check that the z-values agree.

The period assessed is the last twelve months of the tree and the previous period the twelve before,
so every comparison is made (the tree must have at least 24 months; ``--smoke`` assesses a one-month
period against the month before).

Peak memory is the child's peak resident set size (``ru_maxrss`` from ``os.wait4`` on a child
started from a tiny launcher, as in ``ingest_national.py``), so it includes the interpreter and the
imported libraries. Wall times are ``time.perf_counter`` inside the child around
``run_assessment``; the per-section split comes from its progress callback.

Only the tree is synthetic, as described in ``ingest_national.py``: because its rows are drawn from
Gwent and all-Wales files, every Welsh LSOA receives records from all 43 forces' files, and areas have
more records than in reality (the volume per LSOA does not change the cost of the small-area
statistics, which depends on the number of LSOAs and permutations; the warehouse queries scan every
row of the national table).

With ``--real-wales`` it instead measures the all-Wales run of one command on real data: a
warehouse of the bundled all-Wales reference set and the shared folder's police.uk street files of
the four Welsh forces (``policeuk/wales-2018-10_2019-02``: 20 files, 125,794 rows, 2011 LSOA
codes), then, each in its own child process, the reference (the 22 local authorities one after
another in one process, as (b)) and ``diogel assess --area all-wales --jobs N`` (worker processes
sharing the warehouse read-only), and checks that all 22 folders are complete and every
figures.json is under 300 KB. The load average is recorded before and after, since a shared
machine slows both runs.

Usage::

    python benchmarks/assess_national.py --real-wales        # all of Wales in one command, real data
    python benchmarks/assess_national.py                     # 43 forces x 24 months x ~6,500 rows
    python benchmarks/assess_national.py --rows-per-file 13000  # the foundation benchmark's file size
    python benchmarks/assess_national.py --smoke             # 43 forces x 2 months x ~60 rows: checks the script

The tree and the warehouse are kept in ``--work`` (default ``benchmarks/work``, git-ignored) and reused
when complete. A run that is not ``--smoke`` appends a dated entry to ``benchmarks/RESULTS.md``.
Exit status 1 means a check failed (an assessment raised, or diogel's z differs from esda's), not
that a goal was missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import ingest_national as national  # noqa: E402  (the tree generator and machine description)

SECTION = "## Assessment: one CSP and the 22 Welsh local authorities (`benchmarks/assess_national.py`)"
CSP = ("W14000023", "Cwm Taf")
WELSH_LAS = (
    "W06000001", "W06000002", "W06000003", "W06000004", "W06000005", "W06000006", "W06000008",
    "W06000009", "W06000010", "W06000011", "W06000012", "W06000013", "W06000014", "W06000015",
    "W06000016", "W06000018", "W06000019", "W06000020", "W06000021", "W06000022", "W06000023",
    "W06000024",
)  # fmt: skip
REAL_WALES_POLICE = ("policeuk", "wales-2018-10_2019-02")
REAL_WALES_PERIOD = "2018-10..2019-02"
SECTION_ALL_WALES = (
    "## Assessment: all of Wales in one command (`benchmarks/assess_national.py --real-wales`)"
)
GOAL_ALL_WALES_SECONDS = 90.0
GOAL_CSP_CLI_SECONDS = 12.0
GOAL_PEAK_RSS_BYTES = 1.5 * 1024**3
GOAL_FIGURES_BYTES = 300_000
GOAL_CSP_SECONDS = 30.0
GOAL_ALL_SECONDS = 180.0
WAREHOUSE_VERSION = 1

log = national.log


# -- the warehouse ------------------------------------------------------------------------------


def assessed_periods(months: list[str], smoke: bool) -> str:
    """The last 12 months of the tree (the 12 before are the previous period); smoke: the last month."""
    if smoke:
        return f"{months[-1]}..{months[-1]}"
    if len(months) < 24:
        raise SystemExit("--months must be at least 24, so the previous period is loaded too")
    return f"{months[-12]}..{months[-1]}"


def child_build(tree: Path, target: Path) -> dict:
    """A fresh warehouse: the all-Wales reference set, then the whole police.uk tree."""
    from diogel.warehouse.core import Warehouse
    from diogel.warehouse.reference import load_reference

    t0 = time.perf_counter()
    wh = Warehouse(url=None, data_dir=target)
    ref = load_reference(wh, "wales")
    t1 = time.perf_counter()
    results = wh.ingest("police-street", tree)
    t2 = time.perf_counter()
    wh.close()
    return {
        "reference_seconds": t1 - t0,
        "ingest_seconds": t2 - t1,
        "reference_files": len(ref),
        "files": len(results),
        "rows_read": sum(r.rows_read for r in results),
        "loaded": sum(r.loaded or 0 for r in results),
        "bad_status": sorted({r.status for r in results} - {"loaded"}),
    }


# -- the measured assessments -------------------------------------------------------------------


def _assess(wh, area: str, period: str, out: Path, permutations: int, seed: int) -> dict:  # noqa: ANN001
    from diogel.report.assessment import run_assessment
    from diogel.report.context import AssessOptions

    marks: list[tuple[float, str]] = []

    def progress(_i: int, _n: int, label: str) -> None:
        marks.append((time.perf_counter(), label))

    t0 = time.perf_counter()
    result = run_assessment(
        wh, area, period, out, AssessOptions(permutations=permutations, seed=seed), progress=progress
    )
    t1 = time.perf_counter()
    steps: dict[str, float] = {}
    for (t_a, label), (t_b, _) in zip(marks, marks[1:] + [(t1, "")], strict=True):
        if label:
            steps[label] = steps.get(label, 0.0) + (t_b - t_a)
    figures = json.loads(result.figures.read_text(encoding="utf-8"))
    return {
        "area": result.area_code,
        "name": result.area_name,
        "seconds": t1 - t0,
        "steps": steps,
        "lsoas": figures["area"]["lsoas_2021"],
        "figures": result.n_figures,
        "pages": result.pages,
        "previous_available": result.previous_available,
        "records": next(f["value"] for f in figures["figures"] if f["id"] == "levels.all_records.count"),
    }


def child_csp(target: Path, period: str, out: Path, permutations: int, seed: int) -> dict:
    from diogel.warehouse.core import Warehouse

    with Warehouse(url=None, data_dir=target) as wh:
        return _assess(wh, CSP[0], period, out / "csp", permutations, seed)


def child_las(target: Path, period: str, out: Path, permutations: int, seed: int) -> dict:
    from diogel.warehouse.core import Warehouse

    t0 = time.perf_counter()
    runs = []
    with Warehouse(url=None, data_dir=target) as wh:
        for code in WELSH_LAS:
            runs.append(_assess(wh, code, period, out / code, permutations, seed))
            log(f"  {runs[-1]['name']}: {runs[-1]['seconds']:.1f} s, {runs[-1]['lsoas']} LSOAs")
    return {"seconds": time.perf_counter() - t0, "runs": runs}


def child_gi(target: Path, period: str, permutations: int, seed: int, repeats: int) -> dict:
    """diogel's gi_star against esda.G_Local directly, on the CSP's LSOAs and counts of the period."""
    import warnings

    import esda
    import numpy as np
    from esda.significance import calculate_significance

    from diogel.analysis.hotspots import contiguity_weights, gi_star
    from diogel.report.gather import gather, parse_period
    from diogel.report.sections._common import lsoa_counts
    from diogel.warehouse.core import Warehouse

    with Warehouse(url=None, data_dir=target) as wh:
        d = gather(wh, CSP[0], parse_period(period))
    gdf = d.boundaries[["lsoa_code", "geometry"]]
    w = contiguity_weights(gdf)  # what the "where" section uses
    counts = lsoa_counts(d, d.period)  # all records per 2021 LSOA, as the "where" section
    y = counts.reindex(w.id_order).to_numpy(dtype=float)

    def time_it(fn) -> tuple[float, list[float], object]:  # noqa: ANN001
        fn()  # warm-up: imports, first-call allocation
        times, last = [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            last = fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times), times, last

    def diogel_call():  # noqa: ANN202
        return gi_star(counts, w, permutations=permutations, seed=seed)

    def esda_call(n_jobs: int, two_sided: bool = False):  # noqa: ANN202
        # Called directly on the same W: with no self-weights G_Local(star=True) works on a copy it
        # makes itself (checked below), so no copy is made here.
        def call():  # noqa: ANN202
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                g = esda.G_Local(
                    y, w, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=n_jobs
                )
                if two_sided:  # the p-value diogel reports, by esda's own function
                    calculate_significance(g.Gs, g.rGs, alternative="two-sided")
                return g

        return call

    d_med, d_all, d_res = time_it(diogel_call)
    e1_med, e1_all, e1_res = time_it(esda_call(1))
    ep_med, ep_all, _ = time_it(esda_call(-1))
    e2_med, e2_all, _ = time_it(esda_call(1, two_sided=True))
    if w.transform != "B" or w.sparse.diagonal().any():
        raise SystemExit("esda.G_Local changed the weights it was given")
    z_diff = float(np.max(np.abs(d_res["z"].to_numpy() - np.asarray(e1_res.Zs))))
    return {
        "lsoas": int(w.n),
        "records": float(y.sum()),
        "mean_neighbours": float(w.mean_neighbors),
        "diogel_median": d_med,
        "diogel_all": d_all,
        "esda_1_median": e1_med,
        "esda_1_all": e1_all,
        "esda_default_median": ep_med,
        "esda_default_all": ep_all,
        "esda_two_sided_median": e2_med,
        "esda_two_sided_all": e2_all,
        "max_abs_z_difference": z_diff,
        "hot_99": int((d_res["bin"] == "Hot spot 99%").sum()),
    }


# -- running children -----------------------------------------------------------------------------


def run_child(which: str, args: list[str]) -> dict:
    """One step in a fresh interpreter; its result plus peak RSS and CPU from ``wait4``."""
    with tempfile.TemporaryDirectory() as tmp:
        result_path, usage_path = Path(tmp) / "result.json", Path(tmp) / "usage.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            which,
            "--result",
            str(result_path),
            *args,
        ]
        busy0, t0 = national.machine_busy_seconds(), time.perf_counter()
        subprocess.run([sys.executable, "-c", national._LAUNCHER, str(usage_path), *cmd], check=True)
        busy1, wall = national.machine_busy_seconds(), time.perf_counter() - t0
        usage = json.loads(usage_path.read_text())
        if usage["exit"] != 0:
            raise SystemExit(f"the {which} child failed with exit status {usage['exit']}")
        result = json.loads(result_path.read_text())
    result["process_seconds"] = wall
    result["peak_rss_bytes"] = usage["maxrss_kb"] * 1024
    result["cpu_seconds"] = usage["cpu_seconds"]
    result["others_cores"] = max(0.0, (busy1 - busy0) - usage["cpu_seconds"]) / wall
    return result


def warehouse(work: Path, tree: Path, manifest: dict) -> tuple[Path, dict]:
    """The warehouse of this tree, built once (in a child) and reused while its record matches."""
    target = work / f"warehouse-{tree.name}"
    record_path = target / "assess-benchmark.json"
    params = {"version": WAREHOUSE_VERSION, "tree": manifest["params"], "rows": manifest["totals"]["rows"]}
    if record_path.exists():
        record = json.loads(record_path.read_text())
        if record.get("params") == params:
            log(f"reusing the warehouse in {target}")
            return target, record | {"reused": True}
    if target.exists():
        shutil.rmtree(target)
    log(f"building the warehouse in {target} (reference data, then {manifest['totals']['files']:,} files)")
    built = run_child("build", ["--tree", str(tree), "--target", str(target)])
    if built["bad_status"] or built["rows_read"] != manifest["totals"]["rows"]:
        raise SystemExit(f"the warehouse build went wrong: {built}")
    record = {"params": params, "build": built}
    record_path.write_text(json.dumps(record, indent=1))
    return target, record | {"reused": False}


# -- reporting -------------------------------------------------------------------------------------


def report(manifest: dict, wh: dict, csp: dict, las: dict | None, gi: dict, info: dict, period: str, smoke: bool,
           permutations: int, repeats: int) -> tuple[str, list[str]]:  # fmt: skip
    # Over 80 lines: one entry of RESULTS.md, written line by line in the order it reads.
    t, p = manifest["totals"], manifest["params"]
    mib = national.mib
    b = wh["build"]
    runs = las["runs"] if las else []
    slowest = max(runs, key=lambda r: r["seconds"]) if runs else None
    where_csp = csp["steps"].get("Where: small areas", float("nan"))
    checks = {
        "z of diogel's gi_star = esda.G_Local's to 1e-9": gi["max_abs_z_difference"] <= 1e-9,
        "every assessment compared with a loaded previous period": smoke
        or (csp["previous_available"] and all(r["previous_available"] for r in runs)),
    }
    if las:
        checks["22 local authorities assessed"] = len(runs) == 22
    failed = [k for k, ok in checks.items() if not ok]
    shared = max(csp["others_cores"], las["others_cores"] if las else 0.0, gi["others_cores"]) > 0.2
    scale = "SMOKE (tiny tree, not a measurement)" if smoke else (
        f"{p['forces']} forces x {p['months']} months x ~{p['rows_per_file']:,} rows per file"
    )  # fmt: skip
    ratio = gi["diogel_median"] / gi["esda_1_median"]
    steps = sorted(csp["steps"].items(), key=lambda kv: -kv[1])
    lines = [
        f"### {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}: {scale}",
        "",
        f"- Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['ram_gib']} GiB RAM; Python {info['python']}, "
        f"duckdb {info['duckdb']}, diogel {info['diogel']}; esda {gi['esda_version']}, numba "
        f"{gi['numba'] or 'not installed'}",
        f"- Tree (`ingest_national.py` generator, seed {p['seed']}): {t['files']:,} files, {t['rows']:,} rows, "
        f"{t['bytes'] / 1e9:.2f} GB, months from {p['start_month']}; warehouse (DuckDB) with the all-Wales reference "
        f"set: reference {b['reference_seconds']:.0f} s, police.uk ingest {b['ingest_seconds']:.0f} s"
        + (" (built in an earlier run, reused)" if wh["reused"] else ""),
        f"- Period assessed {period} against the period of the same length before it; {permutations} permutations; "
        "PDF written every time",
        "",
        "| run | wall (s) | peak RSS | LSOAs | records in the period | goal |",
        "|---|---:|---:|---:|---:|---|",
        f"| one CSP: {CSP[1]} ({CSP[0]}), HTML + PDF + figures + tables + maps | {csp['seconds']:.1f} | "
        f"{mib(csp['peak_rss_bytes'])} | {csp['lsoas']} | {csp['records']:,.0f} | < {GOAL_CSP_SECONDS:.0f} s: "
        f"{'met' if csp['seconds'] < GOAL_CSP_SECONDS else 'NOT met'} |",
        *(
            [
                f"| all 22 Welsh local authorities, one process | {las['seconds']:.1f} | {mib(las['peak_rss_bytes'])} | "
                f"{sum(r['lsoas'] for r in runs):,} | {sum(r['records'] for r in runs):,.0f} | < {GOAL_ALL_SECONDS:.0f} s: "
                f"{'met' if las['seconds'] < GOAL_ALL_SECONDS else 'NOT met'} |"
            ]
            if las
            else []
        ),
        "",
        *(
            [
                f"- Local authorities: median {statistics.median(r['seconds'] for r in runs):.1f} s, slowest "
                f"{slowest['name']} {slowest['seconds']:.1f} s ({slowest['lsoas']} LSOAs)"
            ]
            if las
            else ["- The 22 local authorities were not assessed in this run (--skip-las)"]
        ),
        "- CSP time by step: " + "; ".join(f"{k} {v:.1f} s" for k, v in steps if v >= 0.05),
        f"- Hot-spot step on the CSP's {gi['lsoas']} LSOAs (all records, queen contiguity, mean "
        f"{gi['mean_neighbours']:.1f} neighbours), {permutations} permutations, median of {repeats} calls after "
        f"a warm-up: diogel `gi_star` {gi['diogel_median']:.3f} s; esda `G_Local(transform='B', star=True)` "
        f"n_jobs=1 {gi['esda_1_median']:.3f} s; esda with its default n_jobs=-1 {gi['esda_default_median']:.3f} s; "
        f"esda n_jobs=1 followed by esda's `calculate_significance(alternative='two-sided')`, which gives the "
        f"two-sided pseudo p-value diogel returns, {gi['esda_two_sided_median']:.3f} s. "
        f"Ratio diogel / esda G_Local alone (n_jobs=1): **{ratio:.2f}** (goal <= 1, allowing 5% timing noise: "
        f"{'met' if ratio <= 1.05 else 'NOT met'}); diogel / esda with the same two-sided p-values: "
        f"{gi['diogel_median'] / gi['esda_two_sided_median']:.2f}; max |z diogel - z esda| = {gi['max_abs_z_difference']:.1e}. "
        f'The "where" section, which runs Gi* four times and local Moran\'s I for rates once (all with '
        f"{permutations} permutations), the space-time Gi* of the emerging hot spots and the pattern-change null "
        f"(199 simulated pairs of periods), took {where_csp:.1f} s",
        f"- CPU: the CSP child used {csp['cpu_seconds']:.1f} CPU-s"
        + (f", the 22-LA child {las['cpu_seconds']:.1f} CPU-s" if las else "")
        + f". Other processes used on average {csp['others_cores']:.2f} / "
        + (f"{las['others_cores']:.2f} / " if las else "")
        + f"{gi['others_cores']:.2f} cores during the CSP, {'22-LA and ' if las else ''}Gi* children"
        + (" (SHARED MACHINE: the figures are perturbed)" if shared else ""),
        "- Checks: " + ("all passed" if not failed else "FAILED: " + "; ".join(failed)),
        "",
    ]
    return "\n".join(lines), failed


def append_results(path: Path, entry: str) -> None:
    """Add ``entry`` at the end of this benchmark's section of RESULTS.md (made if missing); nothing else changes."""
    text = path.read_text() if path.exists() else "# diogel benchmark results\n"
    if SECTION not in text:
        text = text.rstrip("\n") + "\n\n" + SECTION + "\n\n"
    start = text.index(SECTION) + len(SECTION)
    nxt = text.find("\n## ", start)
    end = len(text) if nxt < 0 else nxt + 1
    body = text[start:end].rstrip("\n") + "\n\n" + entry.rstrip("\n") + "\n"
    rest = text[end:]
    path.write_text(text[:start] + body + ("\n" + rest if rest else ""))


def main(argv: list[str] | None = None) -> int:
    # Over 80 lines: the script's arguments and its steps, read top to bottom like the run.
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--forces", type=int, default=43, help="how many of the 43 forces (alphabetical), default 43"
    )
    ap.add_argument("--months", type=int, default=24, help="months from 2022-07, default 24 (at least 24)")
    ap.add_argument("--rows-per-file", type=int, default=6_500, help="mean rows per file, default 6,500")
    ap.add_argument("--seed", type=int, default=20240601, help="the tree's seed")
    ap.add_argument(
        "--permutations",
        type=int,
        default=9999,
        help="Gi* and local Moran permutations, default 9,999 (the assessment's default)",
    )
    ap.add_argument(
        "--skip-las", action="store_true", help="assess the CSP only, not the 22 local authorities"
    )
    ap.add_argument("--assess-seed", type=int, default=12345, help="the assessments' permutation seed")
    ap.add_argument("--repeats", type=int, default=5, help="timed calls of each Gi* implementation")
    ap.add_argument(
        "--work", type=Path, default=None, help="work folder (default benchmarks/work; smoke: temp)"
    )
    ap.add_argument("--smoke", action="store_true", help="43 forces x 2 months x ~60 rows: checks the script")
    ap.add_argument("--results", type=Path, default=None, help="results file (default benchmarks/RESULTS.md; "
                    "smoke runs write none unless given)")  # fmt: skip
    ap.add_argument(
        "--real-wales",
        action="store_true",
        help="all 22 Welsh LAs in one command on real data, against the one-process loop",
    )
    ap.add_argument("--jobs", type=int, default=2, help="--real-wales: worker processes, default 2")
    ap.add_argument(
        "--skip-reference",
        action="store_true",
        help="--real-wales: skip the one-process loop (on a busy machine it doubles the run)",
    )
    ap.add_argument("--csp-runs", type=int, default=3,
                    help="--real-wales: cold runs of the one-CSP command; the goal uses the median (default 3)")  # fmt: skip
    ap.add_argument("--child", choices=("build", "build-real", "csp", "las", "gi"), help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--period", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.real_wales or args.child == "build-real":
        from assess_real_wales import child_build_real, real_wales
    if args.child:
        if args.child == "build":
            res = child_build(args.tree, args.target)
        elif args.child == "build-real":
            res = child_build_real(args.target)
        elif args.child == "csp":
            res = child_csp(args.target, args.period, args.out, args.permutations, args.assess_seed)
        elif args.child == "las":
            res = child_las(args.target, args.period, args.out, args.permutations, args.assess_seed)
        else:
            import esda

            try:
                import numba

                nb = numba.__version__
            except ImportError:
                nb = None
            res = child_gi(args.target, args.period, args.permutations, args.assess_seed, args.repeats)
            res |= {"esda_version": esda.__version__, "numba": nb}
        args.result.write_text(json.dumps(res))
        return 0

    if args.real_wales:
        return real_wales(args)
    if args.smoke:
        args.forces, args.months, args.rows_per_file, args.repeats = 43, 2, 60, 1
    temp = None
    if args.work is None:
        if args.smoke:
            temp = Path(tempfile.mkdtemp(prefix="diogel-bench-assess-smoke-"))
            args.work = temp
        else:
            args.work = HERE / "work"
    results_path = args.results or (None if args.smoke else HERE / "RESULTS.md")
    work = args.work.resolve()
    tree = work / f"tree-{args.forces}f-{args.months}m-{args.rows_per_file}r-s{args.seed}"
    try:
        manifest = national.build_tree(tree, args.forces, args.months, args.rows_per_file, args.seed)
        period = assessed_periods(national.month_list(args.months), args.smoke)
        target, wh = warehouse(work, tree, manifest)
        info = national.machine()
        out = work / "assess-out"
        shutil.rmtree(out, ignore_errors=True)
        common = ["--target", str(target), "--period", period, "--permutations", str(args.permutations),
                  "--assess-seed", str(args.assess_seed)]  # fmt: skip
        log(f"assessing {CSP[1]} ({CSP[0]}), {period} (child process)")
        csp = run_child("csp", [*common, "--out", str(out)])
        log(f"CSP: {csp['seconds']:.1f} s, peak RSS {national.mib(csp['peak_rss_bytes'])}")
        las = None
        if not args.skip_las:
            log("assessing the 22 Welsh local authorities (child process)")
            las = run_child("las", [*common, "--out", str(out)])
            log(f"22 LAs: {las['seconds']:.1f} s, peak RSS {national.mib(las['peak_rss_bytes'])}")
        log("timing diogel's gi_star against esda.G_Local on the CSP's LSOAs (child process)")
        gi = run_child("gi", [*common, "--repeats", str(args.repeats)])
        entry, failed = report(manifest, wh, csp, las, gi, info, period, args.smoke, args.permutations,
                               args.repeats)  # fmt: skip
        print(entry)
        if results_path is not None:
            append_results(results_path, entry)
            log(f"appended to {results_path}")
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    if failed:
        print("CHECKS FAILED: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
