"""Forecast methods and units by hand: the prospective hot-spot kernel, the 250 m grid."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from diogel.analysis.forecast import ForecastData, count_model_features, prospective_hotspot
from diogel.analysis.forecast_units import grid_units

ORIGIN = pd.Timestamp("2024-06-01")


def kernel_data() -> ForecastData:
    units = pd.DataFrame({"unit": ["u1", "u2"], "area_km2": [2.0, 2.0]})
    counts = pd.DataFrame(0.0, index=["u1", "u2"], columns=pd.date_range("2024-01-01", ORIGIN, freq="MS"))
    events = pd.DataFrame(
        {
            "x": [0.0, 0.0, 0.0],
            "y": [0.0, 0.0, 0.0],
            "month": pd.to_datetime(["2024-06-01", "2024-05-01", "2024-04-01"]),
            "count": [2.0, 1.0, 100.0],  # the last is 2 months old: outside the 2-month window
        }
    )
    lattice = pd.DataFrame(
        {"x": [0.0, 150.0, 450.0, 50.0], "y": 0.0, "unit": ["u1", "u1", "u2", "u2"], "weight_km2": 1.0}
    )
    return ForecastData(units, counts, sp.csr_matrix((2, 2)), events, lattice)


def test_prospective_hotspot_by_hand():
    score = prospective_hotspot(kernel_data(), ORIGIN, 3)
    # risk at 0 m (band 0): 2 x 1 + 1 x 1/2 = 2.5; at 150 m (band 1): (2 + 1/2) / 2 = 1.25;
    # at 450 m: beyond 400 m, 0; at 50 m (band 0): 2.5.
    assert score["u1"] == pytest.approx(2.5 + 1.25)
    assert score["u2"] == pytest.approx(0.0 + 2.5)


def test_prospective_hotspot_time_window_and_refusal():
    d = kernel_data()
    wide = prospective_hotspot(d, ORIGIN, 3, months=3)  # the 100 records now count, at 1/3
    assert wide["u1"] == pytest.approx(3.75 + 100 / 3 * (1 + 0.5))
    with pytest.raises(ValueError, match="past the origin"):
        prospective_hotspot(d, pd.Timestamp("2024-05-01"), 3)


def test_count_model_features_by_hand():
    months = pd.date_range("2023-01-01", "2024-06-01", freq="MS")
    counts = pd.DataFrame(
        [np.arange(len(months), dtype=float), np.ones(len(months))], index=["a", "b"], columns=months
    )
    units = pd.DataFrame({"unit": ["a", "b"], "area_km2": [1.0, 2.0], "deprivation": [5.0, np.nan]})
    w = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    f = count_model_features(ForecastData(units, counts, w), ORIGIN, 3)
    # a: month index 17 at the origin; last 3 = 15+16+17; last 12 = 6..17; same months last year
    # = July..September 2023 = 6+7+8.
    assert f.loc["a", "log_last_1"] == pytest.approx(np.log1p(17))
    assert f.loc["a", "log_last_3"] == pytest.approx(np.log1p(48))
    assert f.loc["a", "log_last_12"] == pytest.approx(np.log1p(sum(range(6, 18))))
    assert f.loc["a", "log_same_months"] == pytest.approx(np.log1p(21))
    assert f.loc["b", "log_neighbours_12"] == pytest.approx(np.log1p(sum(range(6, 18))))
    assert f.loc["a", "season_sin"] == pytest.approx(np.sin(2 * np.pi * 6 / 12))  # July
    assert f.loc["b", "deprivation"] == 0.0 and f.loc["b", "log_area"] == pytest.approx(np.log(2))


def _lonlat(xy: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    pts = gpd.GeoSeries(gpd.points_from_xy(*zip(*xy, strict=True)), crs=27700).to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


def test_grid_units_by_hand():
    square = shapely.box(300001, 200001, 300499, 200499)  # within four 250 m cells
    boundaries = gpd.GeoDataFrame({"lsoa_code": ["L1"]}, geometry=[square], crs=27700).to_crs(4326)
    xy = [(300100, 200100), (300100, 200120), (300400, 200100), (300600, 200100)]  # the last outside
    lon, lat = _lonlat(xy)
    events = pd.DataFrame(
        {
            "longitude": lon,
            "latitude": lat,
            "month": pd.to_datetime(["2024-06-01", "2024-05-01", "2024-06-01", "2024-06-01"]),
            "crime_type": ["Burglary", "Burglary", "Drugs", "Burglary"],
            "count": [2.0, 1.0, 1.0, 4.0],
        }
    )
    months = pd.date_range("2024-05-01", "2024-06-01", freq="MS")
    dep = pd.DataFrame({"lsoa_code": ["L1"], "overall": [42.0]})
    data, geo = grid_units(boundaries, events, months, "Burglary", dep)
    # The square's 4 cells (not those that only touch its edge) and the one outside with a map point.
    assert sorted(data.counts.index) == sorted(
        ["E300000N200000", "E300250N200000", "E300000N200250", "E300250N200250", "E300500N200000"]
    )
    c = data.counts
    assert c.loc["E300000N200000", pd.Timestamp("2024-06-01")] == 2.0
    assert c.loc["E300000N200000", pd.Timestamp("2024-05-01")] == 1.0
    assert c.loc["E300250N200000"].sum() == 0.0  # Drugs is another type
    assert c.loc["E300500N200000", pd.Timestamp("2024-06-01")] == 4.0
    assert c.to_numpy().sum() == 7.0
    assert np.allclose(data.units["area_km2"], 0.0625)
    assert data.units.set_index("unit").loc["E300000N200000", "deprivation"] == 42.0
    rows = np.asarray(data.neighbours.sum(axis=1)).ravel()
    assert np.allclose(rows[rows > 0], 1.0)
    assert len(geo) == len(data.units)
    # The lattice: 25 points of 50 m per cell, each standing for 1/25 of it.
    assert data.lattice.groupby("unit").size().eq(25).all()
