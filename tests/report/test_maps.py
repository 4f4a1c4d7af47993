"""Maps people can read: ward names from the shipped lookup, a scale bar in the map's own metres and
a north arrow, on real Newport LSOAs (the shipped 2021 boundaries)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from diogel.report import charts
from diogel.report.map_furniture import _wards, nice_length, ward_labels


@pytest.fixture(scope="module")
def newport(newport_lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return newport_lsoas.assign(value=np.arange(len(newport_lsoas), dtype=float))


@pytest.mark.parametrize(("span", "length"), [(800, 100), (5_000, 1_000), (12_000, 2_000), (23_000, 2_000),
                                              (60_000, 10_000)])  # fmt: skip
def test_scale_bar_length_is_round_and_about_a_fifth(span: float, length: float) -> None:
    assert nice_length(span) == length


def test_ward_labels_are_the_lookups_wards_inside_them(newport: gpd.GeoDataFrame) -> None:
    g = newport.to_crs(27700)
    labels = ward_labels(g, limit=100)
    wards = _wards().loc[g["lsoa_code"], "ward24_name"]
    assert set(labels["name"]) == set(wards)
    for row in labels.itertuples():
        inside = g[wards.to_numpy() == row.name].union_all()
        assert inside.contains(row.geometry)
    assert len(ward_labels(g)) == 14  # the largest wards only, so names stay legible


def test_choropleth_svg_has_ward_names_scale_bar_and_north_arrow(newport: gpd.GeoDataFrame) -> None:
    fig, _ = charts.choropleth(newport, "value", "Test", "value")
    svg = str(charts.svg(fig, "Map of Newport", "test"))
    assert 'id="scale-bar' in svg and 'id="north-arrow' in svg
    assert ">N<" in svg or "N</text>" in svg
    assert "km" in svg
    for name in ("Pillgwenlly", "Caerleon", "Llanwern"):
        assert name in svg


def test_ward_labels_in_welsh_where_the_lookup_gives_a_welsh_name(newport: gpd.GeoDataFrame) -> None:
    """In the Welsh report a ward with a Welsh name in the warehouse's lookup (given to the build by
    ``i18n.ward_names``) is labelled in Welsh; the others, and the English report, keep the ONS name."""
    from diogel.report import i18n

    g = newport.to_crs(27700)
    english = set(ward_labels(g, limit=100)["name"])
    with i18n.language("cy"):
        assert set(ward_labels(g, limit=100)["name"]) == english  # no Welsh names loaded: unchanged
        with i18n.ward_names({"W05001632": "Caerllion", "W05001638": "Pilgwenlli"}):
            welsh = set(ward_labels(g, limit=100)["name"])
    assert welsh == (english - {"Caerleon", "Pillgwenlly"}) | {"Caerllion", "Pilgwenlli"}
    with i18n.ward_names({"W05001632": "Caerllion"}):
        assert set(ward_labels(g, limit=100)["name"]) == english  # the English report
