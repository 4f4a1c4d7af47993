"""Fixtures shared by the report tests."""

from __future__ import annotations

import gzip

import geopandas as gpd
import pytest

from diogel.data import path
from diogel.report.map_furniture import _wards


@pytest.fixture(scope="session")
def newport_lsoas() -> gpd.GeoDataFrame:
    """Newport's 2021 LSOAs (``lsoa_code``, geometry) from the shipped boundaries: a real map to draw."""
    with gzip.open(path("reference", "wales", "lsoa21_boundaries.geojson.gz")) as f:
        g = gpd.read_file(f)
    codes = _wards().query("ltla24_name == 'Newport'").index
    return g[g["LSOA21CD"].isin(codes)].rename(columns={"LSOA21CD": "lsoa_code"}).reset_index(drop=True)
