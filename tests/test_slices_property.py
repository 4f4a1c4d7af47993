"""A property that must always hold, whatever a user loads in whatever order (Hypothesis, stateful).

Over a small pool of real police.uk files cut to a few hundred rows and variants derived from them
(a later download of the same force-month with rows removed or added, a truncated copy, crimes of
one month republished in the month before, the outcomes and the stop-and-search file of the same
force-month), any sequence of ``diogel ingest`` (with or without ``--replace``), a repeat of a
file, and ``diogel restore`` leaves:

* ``diogel counts`` equal to the independent csv-module count (tests/_independent.py) of the files
  that should be in force under the README's rules, modelled there without diogel's code;
* every file's rows read = loaded + duplicates + quarantined, the loaded rows of outcomes and
  stop-and-search equal to the rows of the files in force, and the exit code of each command the
  one the rules predict (1 for a refused file, 2 for restoring a file never loaded).

DuckDB runs in every CI run with bounded examples; PostgreSQL with fewer.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import tempfile
import uuid
from collections import Counter
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule
from typer.testing import CliRunner

from _independent import Ledger, count_raw, police_slices
from conftest import POLICE, POSTGRES_URL, _postgres_admin
from diogel.cli import app

runner = CliRunner()
JUNE_2024 = POLICE / "2024-06-gwent-street.csv"
JULY_2022 = POLICE / "2022-07-gwent-street.csv"
JULY_2022_OUTCOMES = POLICE / "2022-07-gwent-outcomes.csv"
STOP_SEARCH = POLICE / "2024-06-dyfed-powys-stop-and-search.csv"
KIND_OF = {"street": "police-street", "outcomes": "police-outcomes", "stop-and-search": "police-stop-search"}


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def _write(path: Path, table: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


@cache
def pool() -> dict[str, Path]:
    """The files, each in a folder named for what it is; all but the first cuts are derived variants."""
    root = Path(tempfile.mkdtemp(prefix="diogel-slices-pool-"))
    june, july, outcomes = _rows(JUNE_2024), _rows(JULY_2022), _rows(JULY_2022_OUTCOMES)
    head = june[0]
    month = head.index("Month")
    files = {
        # Real files cut to their first rows.
        "june": _write(root / "cut-300" / JUNE_2024.name, june[:301]),
        "july": _write(root / "cut-300" / JULY_2022.name, july[:301]),
        "outcomes": _write(root / "cut-200" / JULY_2022_OUTCOMES.name, outcomes[:201]),
        # Derived: later downloads of June with rows removed (90%) or added, and a truncated copy.
        "june-less": _write(root / "derived-fewer-rows" / JUNE_2024.name, june[:271]),
        "june-more": _write(root / "derived-more-rows" / JUNE_2024.name, june[:331]),
        "june-truncated": _write(root / "derived-truncated" / JUNE_2024.name, june[:31]),
        # Derived: 40 of June's crimes republished as May (so a Crime ID counts in its earliest month).
        "may-relabelled": _write(
            root / "derived-relabelled" / "2024-05-gwent-street.csv",
            [head, *([*r[:month], "2024-05", *r[month + 1 :]] for r in june[1:41])],
        ),
        "outcomes-truncated": _write(root / "derived-truncated" / JULY_2022_OUTCOMES.name, outcomes[:21]),
        # Derived: real Dyfed-Powys searches under a Gwent Police file name (the street file's force-month).
        "stop-search": root / "derived-renamed" / "2024-06-gwent-police-stop-and-search.csv",
    }
    files["stop-search"].parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STOP_SEARCH, files["stop-search"])
    return files


def _kind(path: Path) -> str:
    return next(k for suffix, k in KIND_OF.items() if path.name.endswith(f"-{suffix}.csv"))


def _slices(path: Path, kind: str) -> Counter:
    if kind == "police-stop-search":  # force and month from the file name, as police.uk names it
        return Counter({(kind, "Gwent Police", "2024-06"): len(_rows(path)) - 1})
    return police_slices(path, kind)


class Slices(RuleBasedStateMachine):
    url: str | None = None  # the engine; PostgreSQL makes a database per run

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="diogel-slices-"))
        self.db = None
        self.args = ["--data-dir", str(self.dir / "data")]
        if self.url:
            self.db = f"diogel_prop_{uuid.uuid4().hex[:10]}"
            self.admin = _postgres_admin()
            self.admin.execute(f'CREATE DATABASE "{self.db}"')
            self.args += ["--warehouse", f"{POSTGRES_URL.rsplit('/', 1)[0]}/{self.db}"]
        self.ledger = Ledger()

    def teardown(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.db:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
            self.admin.close()

    def diogel(self, *args: str) -> tuple[int, str]:
        result = runner.invoke(app, [*self.args, *args])
        text = result.stdout + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), text
        assert "Traceback" not in text
        return result.exit_code, text

    @rule(name=st.sampled_from(sorted(pool())), replace=st.booleans())
    def ingest(self, name: str, replace: bool) -> None:
        path = pool()[name]
        kind = _kind(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        expected = self.ledger.ingest(path, digest, _slices(path, kind), replace)
        code, text = self.diogel("ingest", kind, *(["--replace"] if replace else []), str(path))
        assert code == (1 if expected == "refused" else 0), (expected, text)
        first = text.splitlines()[0]
        assert first.startswith({"loaded": "loaded", "already loaded": "skipped", "refused": "refused",
                                 "restored": "restored"}[expected]), (expected, text)  # fmt: skip
        self.check()

    @rule(name=st.sampled_from(sorted(pool())))
    def restore(self, name: str) -> None:
        path = pool()[name]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        code, text = self.diogel("restore", str(path))
        if digest in self.ledger.registered:
            self.ledger.restore(digest)
            assert code == 0, text
        else:
            assert code == 2 and "was never loaded" in text, text
        self.check()

    def check(self) -> None:
        code, text = self.diogel("status", "--json")
        assert code == 0, text
        doc = json.loads(text)
        files = pd.DataFrame(doc["files"])
        registered = {d for d in self.ledger.registered}
        assert set(files.get("file_id", [])) == registered
        if files.empty:
            return
        assert (files.rows_read == files.loaded + files.duplicates + files.quarantined).all()
        for kind in ("police-outcomes", "police-stop-search"):
            assert files.loc[files.kind == kind, "loaded"].sum() == self.ledger.rows_in_force(kind), kind
        if not (files.kind == "police-street").any():
            return
        code, text = self.diogel("counts", "--by", "lsoa,month,crime_type")
        assert code == 0, text
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        got = Counter({(r.lsoa or None, r.month, r.crime_type): int(r.count) for r in df.itertuples()})
        assert got == count_raw(self.ledger.street_files_in_force())
        assert files.loc[files.kind == "police-street", "loaded"].sum() == sum(got.values())


_SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)


@pytest.mark.slow
def test_counts_follow_the_readme_rules_on_duckdb() -> None:
    Slices.TestCase.settings = settings(max_examples=12, stateful_step_count=6, **_SETTINGS)
    Slices.TestCase().runTest()


class SlicesPostgres(Slices):
    url = POSTGRES_URL


@pytest.mark.postgres
@pytest.mark.slow
def test_counts_follow_the_readme_rules_on_postgres() -> None:
    SlicesPostgres.TestCase.settings = settings(max_examples=4, stateful_step_count=5, **_SETTINGS)
    SlicesPostgres.TestCase().runTest()
