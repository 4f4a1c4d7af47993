"""A chart's inline SVG, drawn once and cropped (charts._tight_svg), is what matplotlib's
``savefig(bbox_inches="tight")`` writes: the same size, text and placement, and to the eye the same
picture. Charts of the kinds the report draws, on real Newport LSOAs where a map is drawn, with the
awkward cases: legends outside the axes (the crop goes past the figure's right edge) and long
labels left of the axes (the crop starts left of the figure)."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from diogel.report import charts

_SIZE = re.compile(r'width="([-\d.]+)pt" height="([-\d.]+)pt" viewBox="([-\d. ]+)"')


@pytest.fixture(scope="module")
def newport(newport_lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    g = newport_lsoas.assign(value=np.arange(len(newport_lsoas), dtype=float) ** 1.5)
    bins = np.where(
        g.index % 7 == 0, "Hot spot 99%", np.where(g.index % 5 == 0, "Cold spot 95%", "Not significant")
    )
    return g.assign(bin=bins)


def _monthly() -> pd.DataFrame:
    months = pd.period_range("2023-07", periods=24, freq="M").astype(str)
    count = np.array([40, 52, 47, 61, 38, 44, 50, 49, 70, 41, 45, 39] * 2, dtype=float)
    return pd.DataFrame({
        "month": months, "count": count, "expected": 47.0, "lower": 27.0, "upper": 67.0,
        "signal": np.where(count > 67, "above", np.where(count < 27, "below", "none")),
        "gap": [False] * 23 + [True], "in_period": [False] * 12 + [True] * 12,
    })  # fmt: skip


def _bars() -> pd.DataFrame:
    return pd.DataFrame({
        "crime_type": ["Violence and sexual offences", "Criminal damage and arson", "Possession of weapons", "Other"],
        "records": [0.4, 0.3, 0.2, 0.1], "harm": [0.7, 0.1, 0.15, 0.05],
    })  # fmt: skip


CHARTS: dict[str, Callable[[gpd.GeoDataFrame], plt.Figure]] = {
    "control chart, legend right of the axes": lambda g: charts.control_chart(_monthly(), "All records"),
    "small multiples": lambda g: charts.small_multiples({f"type {i}": _monthly() for i in range(5)}),
    "bars, long labels left of the axes": lambda g: charts.paired_bars(
        _bars(), "crime_type", "records", "harm", "share of records", "share of harm", "Records and harm"
    ),
    "choropleth with legend and furniture": lambda g: charts.choropleth(g, "value", "Rates", "per 1,000")[0],
    "categorical map": lambda g: charts.categorical_map(g, "bin", charts.GI_COLOURS, "Gi*", "Gi* bin"),
    "map panels with a figure legend": lambda g: charts.map_panels(
        g, [("bin", "one"), ("bin", "two")], charts.GI_COLOURS, "Gi* bin"
    ),
}


def _savefig_tight(fig: plt.Figure) -> str:
    buf = io.StringIO()
    with plt.rc_context(charts._RC):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buf.getvalue()


def _ours(fig: plt.Figure) -> str:
    return str(charts.svg(fig, "a chart", "test.figure"))


def _first_axes_corner(svg: str) -> tuple[float, float]:
    """The first point of the first path drawn in the first axes: where the axes sit in the SVG."""
    m = re.search(r'<g id="axes_1">.*?<path d="M ([-\d.]+) ([-\d.]+)', svg, re.S)
    assert m, "no path in the first axes"
    return float(m.group(1)), float(m.group(2))


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)


@pytest.mark.parametrize("kind", list(CHARTS))
def test_the_cropped_chart_has_savefigs_size_text_and_placement(kind: str, newport: gpd.GeoDataFrame) -> None:
    reference = _savefig_tight(CHARTS[kind](newport))
    ours = _ours(CHARTS[kind](newport))
    (rw, rh, rbox), (w, h, box) = _SIZE.search(reference).groups(), _SIZE.search(ours).groups()
    assert float(w) == pytest.approx(float(rw), abs=1e-3) and float(h) == pytest.approx(float(rh), abs=1e-3)
    assert [float(v) for v in rbox.split()][:2] == [0.0, 0.0]
    left, top, bw, bh = (float(v) for v in box.split())
    assert (bw, bh) == (pytest.approx(float(w), abs=1e-5), pytest.approx(float(h), abs=1e-5))
    # Everything is where savefig puts it, once the viewBox's origin is taken off.
    rx, ry = _first_axes_corner(reference)
    x, y = _first_axes_corner(ours)
    assert (x - left, y - top) == (pytest.approx(rx, abs=0.01), pytest.approx(ry, abs=0.01))
    assert _texts(ours) == _texts(reference)
    # The background covers exactly the cropped box, as savefig's does.
    bg = re.search(r'<g id="patch_1">\s*<path d="([^"]*)"', ours).group(1)
    xs, ys = (
        [float(v) for v in re.findall(r"[-\d.]+", bg)[0::2]],
        [float(v) for v in re.findall(r"[-\d.]+", bg)[1::2]],
    )
    assert (min(xs), max(xs)) == (pytest.approx(left, abs=1e-5), pytest.approx(left + bw, abs=1e-5))
    assert (min(ys), max(ys)) == (pytest.approx(top, abs=1e-5), pytest.approx(top + bh, abs=1e-5))


def test_the_awkward_cases_are_covered() -> None:
    """The crop starts left of the figure for long labels and ends right of it for a legend: the
    cases a viewBox crop could get wrong are the ones tested above."""
    bars = _ours(CHARTS["bars, long labels left of the axes"](None))
    assert float(_SIZE.search(bars).group(3).split()[0]) < 0
    fig = CHARTS["control chart, legend right of the axes"](None)
    width = fig.get_size_inches()[0] * 72
    left, _top, w, _h = (float(v) for v in _SIZE.search(_ours(fig)).group(3).split())
    assert left + w > width


def test_chromium_paints_the_cropped_chart_as_savefigs(newport: gpd.GeoDataFrame) -> None:
    """Both SVGs rasterised by Chromium at twice the size: the same picture but for anti-aliasing at
    edges and glyphs (the crop moves the drawing by a fraction of a point)."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium (/usr/bin/chromium) is missing under CI")
        pytest.skip("chromium not installed at /usr/bin/chromium")
    from PIL import Image, ImageChops
    from playwright.sync_api import sync_playwright

    kinds = ["bars, long labels left of the axes", "choropleth with legend and furniture", "small multiples"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            tab = browser.new_page(device_scale_factor=2)
            for kind in kinds:
                pictures = []
                for svg in (_savefig_tight(CHARTS[kind](newport)), _ours(CHARTS[kind](newport))):
                    svg = re.sub(r"<\?xml[^>]*\?>\s*|<!DOCTYPE[^>]*>\s*", "", svg)
                    tab.set_content(f"<html><body style='margin:0;background:#fff'>{svg}</body></html>")
                    shot = tab.locator("svg").first.screenshot()
                    pictures.append(Image.open(io.BytesIO(shot)).convert("RGB"))
                assert pictures[0].size == pictures[1].size, kind
                diff = np.asarray(ImageChops.difference(*pictures)).max(axis=2)
                # Text and edges fall a fraction of a pixel apart; a crop a point out moves everything.
                assert (diff > 64).mean() < 0.005, kind
                assert diff.mean() < 1.0, kind
        finally:
            browser.close()
