"""CPU-seconds of each area's assessment, and of each step, in one process (issue 16's per-area cost).

Usage::

    PYTHONPATH=src python benchmarks/assess_cpu_areas.py WAREHOUSE_DIR OUT_DIR W06000001 W06000015 W06000022

``WAREHOUSE_DIR`` is a DuckDB warehouse folder (e.g. built by ``assess_real_wales.child_build_real``).
The areas are assessed one after another on one connection, as a worker of ``diogel assess --area
all-wales`` does (the first pays for the area-independent reads). CPU-s are the process's user + system
time (DuckDB's threads included), which on a shared machine compare far better than wall time. Each
area prints its CPU-s, wall seconds, pages and the CPU-s of each progress step, largest first.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

_T0 = time.process_time()


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("areas", nargs="+")
    parser.add_argument("--period", default="2018-10..2019-02")
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()

    import weasyprint  # noqa: F401  (imported here so its import is counted with the others)

    from diogel.report.assessment import run_assessment
    from diogel.report.context import AssessOptions
    from diogel.warehouse.core import Warehouse

    print(f"imports {time.process_time() - _T0:.2f} CPU-s", flush=True)
    options = AssessOptions(permutations=args.permutations, seed=args.seed)
    with Warehouse(url=None, data_dir=args.warehouse) as wh:
        for area in args.areas:
            marks: list[tuple[float, str]] = []
            c0, w0 = cpu(), time.perf_counter()
            result = run_assessment(
                wh,
                area,
                args.period,
                args.out / area,
                options,
                progress=lambda _i, _n, s, marks=marks: marks.append((cpu(), s)),
            )
            c1, w1 = cpu(), time.perf_counter()
            steps: dict[str, float] = {}
            for (a, label), (b, _) in zip(marks, [*marks[1:], (c1, "")], strict=True):
                if label:
                    steps[label] = steps.get(label, 0.0) + b - a
            print(f"{area} cpu {c1 - c0:.2f} wall {w1 - w0:.2f} pages {result.pages}", flush=True)
            print(
                "   " + ", ".join(f"{k}={v:.2f}" for k, v in sorted(steps.items(), key=lambda x: -x[1])),
                flush=True,
            )


if __name__ == "__main__":
    main()
