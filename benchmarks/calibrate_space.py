"""Calibration of diogel's spatial tests on synthetic null data fitted to real Gwent police.uk LSOA counts.

Writes ``src/diogel/data/calibration/space.csv`` (one row per test: nominal level, false-positive
rate under the null with its Monte Carlo standard error, power against a planted new hot spot of
five contiguous LSOAs, notes). The simulations are synthetic; their parameters are fitted to the real
counts in ``tests/fixtures/calibration_space`` (Gwent 2023-07..2025-06, 374 LSOAs, exact aggregates
of the police.uk street files) on the bundled Gwent LSOA 2021 boundaries.

The table is also copied into ``docs/calibration.md`` (between its space.csv markers).

Usage::

    python benchmarks/calibrate_space.py [--reps 200] [--out src/diogel/data/calibration/space.csv]
    python benchmarks/calibrate_space.py --only emerging --only change   # recompute some rows, keep the rest
    python benchmarks/calibrate_space.py --docs-only                     # rewrite the docs block from --out
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from diogel.analysis import calibration_space as cal  # noqa: E402

DOCS = ROOT / "docs" / "calibration.md"
BEGIN, END = (
    "<!-- space.csv: begin (written by benchmarks/calibrate_space.py) -->",
    "<!-- space.csv: end -->",
)


def write_docs(table: pd.DataFrame, path: Path = DOCS) -> None:
    """Replace the space.csv block of docs/calibration.md (the trends block is left alone)."""
    lines = ["| test | nominal | false-positive rate | MC s.e. at nominal | power | data sets |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for _, r in table.iterrows():
        lines.append(
            f"| {r['test']} | {r['nominal']:.3f} | {r['false_positive_rate']:.3f} | {r['mc_se']:.3f} | "
            f"{r['power']:.3f} | {int(r['reps'])} |"
        )
    notes = "\n".join(f"- {r['test']}: {r['notes']}" for _, r in table.iterrows())
    block = f"{BEGIN}\n" + "\n".join(lines) + f"\n\nNotes:\n\n{notes}\n{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200, help="null and planted data sets per test (default 200)")
    ap.add_argument(
        "--reps-change",
        type=int,
        default=100,
        help="data sets for the pattern-change rows, each with 99 null simulations (default 100)",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "src/diogel/data/calibration/space.csv")
    ap.add_argument(
        "--only",
        choices=("gi", "change", "emerging"),
        action="append",
        help="recompute only these groups of rows and keep the others from --out (default: all)",
    )
    ap.add_argument("--docs-only", action="store_true", help="rewrite docs/calibration.md from --out")
    args = ap.parse_args(argv)
    if args.docs_only:
        write_docs(pd.read_csv(args.out))
        return 0
    setup = cal.load_setup(ROOT / "tests/fixtures/calibration_space", ROOT / "tests/fixtures/analysis_a")
    groups = {
        "gi": lambda: [
            cal.calibrate_gi_star(setup, reps=args.reps, permutations=9999, seed=1),
            cal.calibrate_gi_star(setup, reps=args.reps // 2, permutations=9999, seed=5, effect=6.0),
            cal.calibrate_gi_star(setup, reps=args.reps, permutations=0, seed=1),
        ],
        "change": lambda: cal.calibrate_pattern_change(setup, reps=args.reps_change, seed=2),
        "emerging": lambda: [
            cal.calibrate_emerging(setup, reps=args.reps, seed=3),
            cal.calibrate_emerging(setup, reps=args.reps, seed=6, levels="real"),
            cal.calibrate_emerging(setup, reps=max(20, args.reps // 5), seed=4, method="esri"),
        ],
    }
    prefix = {"gi": "Gi*", "change": "Pattern change", "emerging": "Emerging"}
    old = pd.read_csv(args.out) if args.only and args.out.exists() else None
    rows = []
    for group, make in groups.items():
        if args.only and group not in args.only:
            rows.extend(old[old["test"].str.startswith(prefix[group])].to_dict("records"))
        else:
            rows.extend(make())
    table = pd.DataFrame(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, float_format="%.4f")
    if args.out.resolve() == (ROOT / "src/diogel/data/calibration/space.csv").resolve():
        write_docs(table)
    print(f"phi {setup.phi:.3f}; planted LSOAs {', '.join(setup.planted)}")
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
