"""``benchmarks/assess_national.py --real-wales``: all of Wales in one command, on real data.

A warehouse of the bundled all-Wales reference set and the shared folder's police.uk street files of
the four Welsh forces, then, each in its own child process, the reference (the 22 local authorities
one after another in one process) and ``diogel assess --area all-wales --jobs N``; see the docstring
of ``assess_national.py``. Run through that script; its children call back into this module.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import assess_national as bench
import ingest_national as national
from assess_national import (
    CSP,
    GOAL_ALL_WALES_SECONDS,
    GOAL_CSP_CLI_SECONDS,
    GOAL_FIGURES_BYTES,
    GOAL_PEAK_RSS_BYTES,
    HERE,
    REAL_WALES_PERIOD,
    REAL_WALES_POLICE,
    SECTION_ALL_WALES,
    log,
)

# -- all of Wales in one command, on real data ----------------------------------------------------------


def shared_data() -> Path:
    return Path(os.environ.get("DIOGEL_SHARED_DATA") or HERE.parent.parent / "shared" / "data")


def child_build_real(target: Path) -> dict:
    """The all-Wales reference set and the four Welsh forces' real police.uk files."""
    from diogel.warehouse.core import Warehouse
    from diogel.warehouse.reference import load_reference

    t0 = time.perf_counter()
    with Warehouse(url=None, data_dir=target) as wh:
        load_reference(wh, "wales")
        results = wh.ingest("police-street", shared_data().joinpath(*REAL_WALES_POLICE))
    return {
        "seconds": time.perf_counter() - t0,
        "files": len(results),
        "rows_read": sum(r.rows_read for r in results),
        "bad_status": sorted({r.status for r in results} - {"loaded"}),
    }


def run_command(cmd: list[str]) -> dict:
    """Any command under the ``wait4`` launcher: wall time, CPU (with its reaped workers), peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        usage_path = Path(tmp) / "usage.json"
        load0, busy0, t0 = os.getloadavg(), national.machine_busy_seconds(), time.perf_counter()
        subprocess.run([sys.executable, "-c", national._LAUNCHER, str(usage_path), *cmd], check=False)
        busy1, wall, load1 = national.machine_busy_seconds(), time.perf_counter() - t0, os.getloadavg()
        usage = json.loads(usage_path.read_text())
    return {
        "exit": usage["exit"],
        "seconds": wall,
        "cpu_seconds": usage["cpu_seconds"],
        "peak_rss_bytes": usage["maxrss_kb"] * 1024,
        "others_cores": max(0.0, (busy1 - busy0) - usage["cpu_seconds"]) / wall,
        "load_before": load0,
        "load_after": load1,
    }


def check_folders(out: Path) -> dict:
    """Which of the 22 folders are complete (HTML, PDF, figures.json) and the largest figures.json."""
    folders = [p for p in sorted(out.iterdir()) if p.is_dir()] if out.exists() else []
    complete = [
        p.name for p in folders
        if all((p / f).is_file() and (p / f).stat().st_size > 0
               for f in ("assessment.html", "assessment.pdf", "figures.json"))
    ]  # fmt: skip
    sizes = {p.name: (p / "figures.json").stat().st_size for p in folders if (p / "figures.json").is_file()}
    return {
        "folders": len(folders),
        "complete": len(complete),
        "index": (out / "index.html").is_file(),
        "figures_max": max(sizes.values(), default=0),
        "figures_max_area": max(sizes, key=sizes.get, default=""),
        "figures_median": statistics.median(sizes.values()) if sizes else 0,
    }


def real_wales(args: argparse.Namespace) -> int:
    # Over 80 lines: the run's steps and its RESULTS.md entry, in the order they happen.
    work = (args.work or HERE / "work").resolve()
    target = work / "warehouse-real-wales"
    if not (target / "real-wales.json").exists():
        shutil.rmtree(target, ignore_errors=True)
        log(f"building the real all-Wales warehouse in {target}")
        built = bench.run_child("build-real", ["--target", str(target)])
        if built["bad_status"]:
            raise SystemExit(f"the warehouse build went wrong: {built}")
        (target / "real-wales.json").write_text(json.dumps(built))
    built = json.loads((target / "real-wales.json").read_text())
    info = national.machine()
    period, perms = REAL_WALES_PERIOD, str(args.permutations)
    ref_out, cli_out = work / "real-wales-reference", work / "real-wales-all"
    for p in (ref_out, cli_out):
        shutil.rmtree(p, ignore_errors=True)
    ref = None
    if not args.skip_reference:
        log(f"reference: the 22 local authorities one after another in one process, {period}")
        load0 = os.getloadavg()
        ref = bench.run_child("las", ["--target", str(target), "--period", period, "--permutations", perms,
                                "--assess-seed", str(args.assess_seed), "--out", str(ref_out)])  # fmt: skip
        ref["load_before"], ref["load_after"] = load0, os.getloadavg()
        log(f"reference: {ref['seconds']:.1f} s")
    diogel = str(Path(sys.executable).with_name("diogel"))
    log(f"diogel assess --area all-wales --jobs {args.jobs}")
    cli = run_command([diogel, "--data-dir", str(target), "assess", "--area", "all-wales", "--period", period,
                       "--out", str(cli_out), "--permutations", perms, "--seed", str(args.assess_seed),
                       "--jobs", str(args.jobs)])  # fmt: skip
    log(f"all-wales: {cli['seconds']:.1f} s, exit {cli['exit']}")
    csp_out = work / "real-wales-csp"
    csp_runs = []
    for i in range(max(1, args.csp_runs)):
        # (Several cold runs: a virtual machine's speed drifts; the goal is judged on the median.)
        shutil.rmtree(csp_out, ignore_errors=True)
        log(f"one CSP, cold CLI ({i + 1} of {args.csp_runs}): diogel assess --area {CSP[0]} ({CSP[1]})")
        csp_runs.append(run_command([diogel, "--data-dir", str(target), "assess", "--area", CSP[0], "--period",
                                     period, "--out", str(csp_out), "--permutations", perms, "--seed",
                                     str(args.assess_seed)]))  # fmt: skip
        log(f"CSP: {csp_runs[-1]['seconds']:.1f} s, exit {csp_runs[-1]['exit']}")
    csp = sorted(csp_runs, key=lambda r: r["seconds"])[len(csp_runs) // 2]
    folders = check_folders(cli_out)
    checks = {
        "the command exited 0": cli["exit"] == 0,
        "22 folders complete (HTML, PDF, figures.json) and index.html": folders["complete"] == 22
        and folders["index"],
        "the reference assessed 22 local authorities": ref is None or len(ref["runs"]) == 22,
        "the CSP command exited 0": all(r["exit"] == 0 for r in csp_runs),
    }
    failed = [k for k, ok in checks.items() if not ok]
    goal_time = cli["seconds"] < GOAL_ALL_WALES_SECONDS
    goal_size = 0 < folders["figures_max"] < GOAL_FIGURES_BYTES
    mib = national.mib
    runs = [r for r in (ref, cli, csp) if r is not None]
    shared = max(r["others_cores"] for r in runs) > 0.2
    lines = [
        f"### {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}: real data, the four Welsh forces, {period}",
        "",
        f"- Machine: {info['cpus']} CPUs ({info['cpu_model']}), {info['ram_gib']} GiB RAM; Python {info['python']}, "
        f"duckdb {info['duckdb']}, diogel {info['diogel']}",
        f"- Warehouse (DuckDB): the bundled all-Wales reference set and the shared folder's "
        f"`{'/'.join(REAL_WALES_POLICE)}` ({built['files']} police.uk street files, {built['rows_read']:,} rows, "
        f"real), built in {built['seconds']:.0f} s; period {period} (no previous period loaded); {perms} "
        "permutations; PDF written every time",
        "",
        "| run | wall (s) | CPU (s) | peak RSS | load average before / after | goal |",
        "|---|---:|---:|---:|---|---|",
        *(
            [
                f"| reference: the 22 local authorities one after another in one process (`run_assessment`) | "
                f"{ref['seconds']:.1f} | {ref['cpu_seconds']:.1f} | {mib(ref['peak_rss_bytes'])} | "
                f"{ref['load_before'][0]:.1f} / {ref['load_after'][0]:.1f} | |"
            ]
            if ref is not None
            else []
        ),
        f"| `diogel assess --area all-wales --jobs {args.jobs}` (one command, worker processes) | "
        f"{cli['seconds']:.1f} | {cli['cpu_seconds']:.1f} | {mib(cli['peak_rss_bytes'])} | "
        f"{cli['load_before'][0]:.1f} / {cli['load_after'][0]:.1f} | < {GOAL_ALL_WALES_SECONDS:.0f} s: "
        f"{'met' if goal_time else 'NOT met'} |",
        f"| `diogel assess --area {CSP[0]}` ({CSP[1]}: one CSP, a cold CLI process, HTML + PDF + figures.json"
        f"{'' if len(csp_runs) == 1 else f'; the median of {len(csp_runs)} runs'}) | "
        f"{csp['seconds']:.1f} | {csp['cpu_seconds']:.1f} | {mib(csp['peak_rss_bytes'])} | "
        f"{csp['load_before'][0]:.1f} / {csp['load_after'][0]:.1f} | < {GOAL_CSP_CLI_SECONDS:.0f} s: "
        f"{'met' if csp['seconds'] < GOAL_CSP_CLI_SECONDS else 'NOT met'} (CPU-s "
        f"{'met' if csp['cpu_seconds'] < GOAL_CSP_CLI_SECONDS else 'NOT met'}) |",
        "",
        *(
            [
                "- The one-CSP command's cold runs, in order: "
                + ", ".join(f"{r['seconds']:.1f} s ({r['cpu_seconds']:.1f} CPU-s)" for r in csp_runs)
            ]
            if len(csp_runs) > 1
            else []
        ),  # fmt: skip
        f"- Peak RSS (largest process of each run) under {mib(GOAL_PEAK_RSS_BYTES)}: "
        f"{'met' if max(r['peak_rss_bytes'] for r in [*runs, *csp_runs]) < GOAL_PEAK_RSS_BYTES else 'NOT met'}",
        (
            f"- Ratio one command / reference (wall): **{cli['seconds'] / ref['seconds']:.2f}**; CPU-s: "
            f"{cli['cpu_seconds'] / ref['cpu_seconds']:.2f}"
        )
        if ref is not None
        else "- Reference not run (`--skip-reference`): compare the CPU-s with earlier entries on the same data",
        f"- Folders: {folders['complete']} of 22 complete, index.html {'written' if folders['index'] else 'MISSING'}; "
        f"figures.json largest {folders['figures_max'] / 1000:,.0f} KB ({folders['figures_max_area']}), median "
        f"{folders['figures_median'] / 1000:,.0f} KB (goal < {GOAL_FIGURES_BYTES / 1000:.0f} KB: "
        f"{'met' if goal_size else 'NOT met'})",
        "- Other processes used on average "
        + " / ".join(f"{r['others_cores']:.2f}" for r in runs)
        + " cores during "
        + ("the reference, " if ref is not None else "")
        + "the one-command run and the CSP run"
        + (" (SHARED MACHINE: the figures are perturbed)" if shared else ""),
        "- Checks: " + ("all passed" if not failed else "FAILED: " + "; ".join(failed)),
        "",
    ]
    entry = "\n".join(lines)
    print(entry)
    results_path = args.results or HERE / "RESULTS.md"
    text = results_path.read_text() if results_path.exists() else "# diogel benchmark results\n"
    if SECTION_ALL_WALES not in text:
        # A section of its own, at the end of the file.
        text = text.rstrip("\n") + "\n\n" + SECTION_ALL_WALES + "\n\n"
        results_path.write_text(text)
    append_results_to(results_path, SECTION_ALL_WALES, entry)
    log(f"appended to {results_path}")
    return 1 if failed else 0


def append_results_to(path: Path, section: str, entry: str) -> None:
    """Add ``entry`` at the end of ``section`` of RESULTS.md; nothing else changes."""
    text = path.read_text()
    start = text.index(section) + len(section)
    nxt = text.find("\n## ", start)
    end = len(text) if nxt < 0 else nxt + 1
    body = text[start:end].rstrip("\n") + "\n\n" + entry.rstrip("\n") + "\n"
    rest = text[end:]
    path.write_text(text[:start] + body + ("\n" + rest if rest else ""))
