"""The README's warehouse commands, run top to bottom on a fresh data directory, never lose a count.

Each ``diogel`` line of the README's "The warehouse" section runs as a subprocess in the README's
order, with its example paths replaced by real files (the table below; a README path missing from
it fails the test, so the walk follows the README as it changes). After every ``ingest`` and
``restore`` line, ``diogel counts`` equals the independent csv-module count of the street files in
force under the README's rules (tests/_independent.py), and every file's rows read = loaded +
duplicates + quarantined. The counts line itself is checked against the independent count of its
area and months.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import shlex
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from _independent import Ledger, count_raw, lsoa_to_la, police_slices
from conftest import shared
from diogel import data

README = Path(__file__).resolve().parents[1] / "README.md"
REFERENCE = Path(data.__file__).parent / "reference" / "wales"


def warehouse_lines() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### The warehouse", 1)[1].split("\n### ", 1)[0]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("diogel "):
                lines.append(line)
    return lines


def _area_las(code: str) -> set[str]:
    """The local authorities of a local authority, CSP or police force area code, from the ONS lookup."""
    with gzip.open(REFERENCE / "lookup_ltla24_csp24_pfa24.csv.gz", "rt", encoding="utf-8-sig") as f:
        return {
            r["ltla24_code"]
            for r in csv.DictReader(f)
            if code in (r["ltla24_code"], r["csp24_code"], r["pfa24_code"])
        }


@pytest.mark.slow
def test_the_readme_warehouse_commands_never_lose_a_count(tmp_path: Path) -> None:
    gwent = shared("policeuk", "gwent-2022-07_2025-06")
    street, outcomes = gwent / "2025-06-gwent-street.csv", gwent / "2025-06-gwent-outcomes.csv"
    # The month's archive as police.uk lays it out (a folder per month), made from the real files.
    archive = tmp_path / "2025-06.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(street, f"2025-06/{street.name}")
        z.write(outcomes, f"2025-06/{outcomes.name}")
    # Derived: a later, shorter download of the month (70% of its rows), loaded on purpose.
    with street.open(newline="", encoding="utf-8-sig") as f:
        table = list(csv.reader(f))
    shorter = tmp_path / "derived-shorter-download" / street.name
    shorter.parent.mkdir()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table[: int(len(table) * 0.7)])
    shorter.write_text(buf.getvalue(), encoding="utf-8")
    real = {
        "~/Downloads/2025-06.zip": archive,
        "2025-06/2025-06-gwent-outcomes.csv": outcomes,
        "sapelsoasyoa20192020.csv": shared("population", "population20_lsoa11_wales.csv"),
        "wimd2019_scores.csv": shared("deprivation", "wimd2019_ranks_by_lsoa11.csv"),
        "2025-06/2025-06-gwent-street.csv": shorter,
        "~/Downloads/2025-06/2025-06-gwent-street.csv": street,
    }
    data_dir = tmp_path / "diogel-data"
    env = {**os.environ, "DIOGEL_DATA_DIR": str(data_dir)}
    env.pop("DIOGEL_WAREHOUSE", None)

    def run(args: list[str]) -> tuple[int, str]:
        proc = subprocess.run(
            [sys.executable, "-m", "diogel.cli", *args], capture_output=True, text=True, env=env, cwd=tmp_path,
            timeout=600,
        )  # fmt: skip
        text = proc.stdout + proc.stderr
        assert "Traceback" not in text, text
        return proc.returncode, proc.stdout

    ledger = Ledger()
    lines = warehouse_lines()
    assert [ln.split()[1] for ln in lines][:2] == ["init", "ingest"]  # the walk starts where a user does
    checked = 0
    for line in lines:
        command, _, redirect = line.partition(" > ")
        args = shlex.split(command)[1:]
        paths = [a for a in args if a.endswith((".zip", ".csv"))]
        missing = [p for p in paths if p not in real]
        assert not missing, f"README line {line!r}: add a real file for {missing} to this test"
        args = [str(real.get(a, a)) for a in args]
        code, out = run(args)
        assert code == 0, f"{line}\n{out}"
        if args[0] == "ingest" and args[1] == "police-street" or args[0] == "restore":
            replace = "--replace" in args
            for p in [Path(a) for a in args[2:] if a.endswith((".zip", ".csv"))] or [Path(args[1])]:
                files = [street] if p == archive else [p]  # the archive's street member
                for f in files:
                    digest = hashlib.sha256(f.read_bytes()).hexdigest()
                    if args[0] == "restore":
                        ledger.restore(digest)
                    else:
                        ledger.ingest(f, digest, police_slices(f, "police-street"), replace)
        if args[0] in ("ingest", "restore"):
            code, text = run(["counts", "--by", "lsoa,month,crime_type"])
            assert code == 0, text
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
            got = Counter({(r.lsoa or None, r.month, r.crime_type): int(r.count) for r in df.itertuples()})
            assert got == count_raw(ledger.street_files_in_force()), line
            code, text = run(["status", "--json"])
            for f in json.loads(text)["files"]:
                assert f["rows_read"] == f["loaded"] + f["duplicates"] + f["quarantined"], (line, f)
            checked += 1
        if args[0] == "counts":
            # The README's own counts line: the area's local authorities, by the ONS lookups read directly.
            area = args[args.index("--area") + 1]
            lo, hi = args[args.index("--from") + 1], args[args.index("--to") + 1]
            las = _area_las(area)
            la_of = lsoa_to_la(REFERENCE / "lookup_lsoa21_ward24_ltla24.csv.gz",
                               REFERENCE / "lookup_lsoa11_ward19_lad19.csv.gz")  # fmt: skip
            expected = Counter()
            raw = count_raw(ledger.street_files_in_force())
            for (lsoa, month, crime_type), n in raw.items():
                if lsoa and la_of.get(lsoa) in las and lo <= month <= hi:
                    expected[(la_of[lsoa], month, crime_type)] += n
            df = pd.read_csv(io.StringIO(out), dtype=str)
            got = Counter({(r.la, r.month, r.crime_type): int(r.count) for r in df.itertuples()})
            assert got == expected and sum(got.values()) > 0
            if redirect:
                (tmp_path / redirect.strip()).write_text(out)
    assert checked >= 6  # init, three ingests of police data, two more reference ingests, restore
