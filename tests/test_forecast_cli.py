"""``diogel forecast`` on real data: Gwent Police's 36 published months (../shared/data) and the
bundled all-Wales reference data, for Newport, trained to June 2025.

The warehouse is built once for the module. The naive map is checked against a count of the raw
street files made with the csv module only.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from conftest import shared
from diogel.cli import app

pytestmark = pytest.mark.slow


def invoke(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output + repr(result.exception)
    return result.output


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    base = tmp_path_factory.mktemp("forecast")
    dd = ["--data-dir", str(base / "data")]
    invoke(*dd, "init", "--reference", "wales")
    invoke(*dd, "ingest", "police-street", str(shared("policeuk", "gwent-2022-07_2025-06")))
    return dd


@pytest.fixture(scope="module")
def lsoa_run(warehouse: list[str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("lsoa")
    output = invoke(*warehouse, "forecast", "--area", "Newport", "--train-to", "2025-06", "--out", str(out))
    return out, output


def hand_count(first: str, last: str, crime_type: str | None = None) -> Counter:
    """Records per LSOA code in months first..last from the raw street files (counting rules 2 and 3)."""
    folder = shared("policeuk", "gwent-2022-07_2025-06")
    seen: set[str] = set()
    counts: Counter = Counter()
    for path in sorted(folder.glob("*-street.csv")):  # one file per month, in month order
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for row in csv.DictReader(fh):
                cid = row["Crime ID"]
                if cid:
                    if cid in seen:
                        continue  # counted in the earliest month it appears
                    seen.add(cid)
                if crime_type and row["Crime type"] != crime_type:
                    continue
                if first <= row["Month"] <= last and row["LSOA code"]:
                    counts[row["LSOA code"]] += 1
    return counts


def test_lsoa_forecast_files_and_naive_hand_count(lsoa_run: tuple[Path, str]):
    out, output = lsoa_run
    for name in ("predictions.csv", "evaluation.csv", "evaluation_by_origin.csv", "forecast.gpkg",
                 "forecast_map.svg", "forecast.html", "forecast.pdf"):  # fmt: skip
        assert (out / name).stat().st_size > 0, name
    p = pd.read_csv(out / "predictions.csv")
    assert {"unit", "period", "score", "rank", "method"} <= set(p.columns)
    assert set(p["period"]) == {"2025-07..2025-09"}
    assert set(p["method"]) == {"naive_last_12", "naive_same_months", "count_model_negbin"}
    for _, g in p.groupby("method"):
        assert sorted(g["rank"]) == list(range(1, len(g) + 1))
        assert g.sort_values("rank")["score"].is_monotonic_decreasing
    # The naive map: records of July 2024 to June 2025 (all 2021 codes), scaled by 3/12, per km2.
    naive = p[p["method"] == "naive_last_12"].set_index("unit")
    hand = hand_count("2024-07", "2025-06")
    got = naive["score"] * naive["area_km2"] * 12 / 3
    expected = pd.Series({u: float(hand.get(u, 0)) for u in naive.index})
    pd.testing.assert_series_equal(got, expected, check_names=False, atol=1e-6)
    assert expected.sum() > 10000  # Newport has tens of thousands of records a year
    assert p.loc[p["chosen"], "method"].nunique() == 1


def test_lsoa_evaluation_six_origins_and_honest_choice(lsoa_run: tuple[Path, str]):
    out, output = lsoa_run
    by_origin = pd.read_csv(out / "evaluation_by_origin.csv", parse_dates=["origin"])
    assert by_origin.groupby(["method", "coverage"])["origin"].nunique().eq(6).all()
    assert by_origin["origin"].max() == pd.Timestamp("2025-03-01")  # its horizon ends at --train-to
    ev = pd.read_csv(out / "evaluation.csv")
    assert set(ev["coverage"].round(2)) == {0.01, 0.05, 0.1}
    assert (ev["pai_mean"] > 1).all() and (ev["pei_mean"] <= 1 + 1e-9).all()
    chosen = pd.read_csv(out / "predictions.csv").query("chosen")["method"].iloc[0]
    at5 = ev[ev["coverage"].round(2) == 0.05].set_index("method")
    if chosen == "naive_last_12":
        assert "naive map is used" in output
    else:
        assert at5.loc[chosen, "wilcoxon_p"] <= 0.05 and at5.loc[chosen, "pai_ratio"] > 1
    html = (out / "forecast.html").read_text(encoding="utf-8")
    assert "anonymous map points" in html and "PEI" in html and "Wilcoxon" in html
    layers = pyogrio.list_layers(out / "forecast.gpkg")
    assert "forecast" in layers[:, 0]
    assert (out / "forecast_map.svg").read_text(encoding="utf-8").startswith("<svg")


def test_grid_burglary_with_kernel(warehouse: list[str], lsoa_run: tuple[Path, str], tmp_path: Path):
    output = invoke(*warehouse, "forecast", "--area", "W06000022", "--crime-type", "burglary", "--unit", "grid250",
                    "--train-to", "2025-06", "--horizon", "3", "--origins", "2", "--no-pdf", "--out", str(tmp_path))  # fmt: skip
    p = pd.read_csv(tmp_path / "predictions.csv")
    assert "prospective_hotspot" in set(p["method"])
    assert p["unit"].str.match(r"^E\d+N\d+$").all()
    assert (p["area_km2"] == 0.0625).all()
    # Two origins cannot show a method beats the naive map (a one-sided Wilcoxon p >= 1/4): naive used.
    assert p.loc[p["chosen"], "method"].unique().tolist() == ["naive_last_12"]
    assert "naive map is used" in output
    # Every burglary of the last 12 months in Newport's LSOAs is at a map point in some cell.
    naive = p[p["method"] == "naive_last_12"]
    newport = set(pd.read_csv(lsoa_run[0] / "predictions.csv")["unit"])
    hand = hand_count("2024-07", "2025-06", "Burglary")
    expected = sum(n for lsoa, n in hand.items() if lsoa in newport)
    assert expected > 300
    assert (naive["score"] * naive["area_km2"] * 12 / 3).sum() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--train-to", "2025-13"], "--train-to must be a month"),
        (["--train-to", "2025-06", "--unit", "hex"], "--unit takes lsoa or grid250"),
        (["--train-to", "2025-06", "--crime-type", "arson"], "--crime-type takes"),
        (["--train-to", "2030-01"], "no police.uk data"),
    ],
)
def test_bad_options_one_line(warehouse: list[str], tmp_path: Path, args: list[str], message: str):
    output = invoke(*warehouse, "forecast", "--area", "Newport", "--out", str(tmp_path), *args, code=2)
    assert message in output and "Traceback" not in output
