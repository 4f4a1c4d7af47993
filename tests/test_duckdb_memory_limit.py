"""DuckDB's memory limit: 2 GB, 1.2 GB while an ingest runs, the analyst's own for both when set."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import POLICE
from diogel.warehouse.backends import BULK_MEMORY_LIMIT, DUCKDB_MEMORY_LIMIT
from diogel.warehouse.core import Warehouse


def _as_duckdb_says(limit: str) -> str:
    """How DuckDB reports a limit once set (``2GB`` reads back as ``1.8 GiB``)."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{limit}'")
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def _limits_seen(tmp_path: Path) -> tuple[str, set[str], str]:
    """The limit before, during (at every progress call of an ingest) and after it."""

    def setting() -> str:
        return wh.backend.raw.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    during: set[str] = set()
    with Warehouse(data_dir=tmp_path) as wh:
        before = setting()
        wh.ingest(
            "police-street", POLICE / "2022-07-gwent-street.csv", progress=lambda *_: during.add(setting())
        )
        return before, during, setting()


def test_an_ingest_runs_under_the_lower_limit_and_gives_the_usual_one_back(tmp_path: Path) -> None:
    before, during, after = _limits_seen(tmp_path)
    assert before == after == _as_duckdb_says(DUCKDB_MEMORY_LIMIT)
    assert during == {_as_duckdb_says(BULK_MEMORY_LIMIT)}


def test_the_analysts_limit_holds_during_an_ingest_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIOGEL_DUCKDB_MEMORY_LIMIT", "3GB")
    before, during, after = _limits_seen(tmp_path)
    assert before == after == _as_duckdb_says("3GB")
    assert during == {_as_duckdb_says("3GB")}
