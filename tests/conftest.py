"""Shared fixtures: warehouses on each engine, paths to real data."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from diogel.warehouse.core import Warehouse

if TYPE_CHECKING:
    import geopandas as gpd

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
POLICE = FIXTURES / "policeuk"
SHARED = Path(os.environ.get("DIOGEL_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
POSTGRES_URL = os.environ.get("DIOGEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def shared(*parts: str) -> Path:
    """A file in the shared real-data folder. CI always has it; elsewhere the test is skipped."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing under CI: {path}")
        pytest.skip(f"shared data not found: {path}")
    return path


@pytest.fixture
def duckdb_warehouse(tmp_path: Path) -> Warehouse:
    wh = Warehouse(None, tmp_path / "data")
    yield wh
    wh.close()


def _postgres_admin():
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable under CI at {POSTGRES_URL}: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")


@pytest.fixture
def postgres_url() -> str:
    """A fresh, empty PostgreSQL database on the real server, dropped afterwards."""
    admin = _postgres_admin()
    name = f"diogel_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def postgres_warehouse(tmp_path: Path, postgres_url: str) -> Warehouse:
    wh = Warehouse(postgres_url, tmp_path / "data")
    yield wh
    wh.close()


@pytest.fixture
def spark_warehouse(tmp_path: Path) -> Warehouse:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    wh = Warehouse("spark://local[2]", tmp_path / "data")
    yield wh
    wh.close()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])])  # fmt: skip
def any_warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """The same test on DuckDB, PostgreSQL (a real server) and Spark (local mode)."""
    return request.getfixturevalue(f"{request.param}_warehouse")


@pytest.fixture(scope="session")
def newport_lsoas() -> gpd.GeoDataFrame:
    """Newport's 2021 LSOAs (``lsoa_code``, geometry) from the shipped boundaries: a real map to draw.

    (geopandas is imported here, for the tests that draw maps only.)"""
    import gzip

    import geopandas as gpd

    from diogel.data import path
    from diogel.report.map_furniture import _wards

    with gzip.open(path("reference", "wales", "lsoa21_boundaries.geojson.gz")) as f:
        g = gpd.read_file(f)
    codes = _wards().query("ltla24_name == 'Newport'").index
    return g[g["LSOA21CD"].isin(codes)].rename(columns={"LSOA21CD": "lsoa_code"}).reset_index(drop=True)
