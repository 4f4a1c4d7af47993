"""Targets: like-for-like windows, the progress figure against hand computations, statuses, peers, YAML."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from diogel.analysis.targets import (
    ALL_CRIME,
    ALL_CRIME_EXCL_ASB,
    comparison_months,
    load_targets,
    make_target,
    measure_series,
    target_progress,
)
from diogel.errors import DiogelError

MONTHS = pd.date_range("2023-01-01", "2025-06-01", freq="MS")


def frame(series: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """A monthly frame from {(area, crime type): 30 monthly counts from January 2023}."""
    rows = [
        {"area": a, "month": m, "crime_type": ct, "count": c}
        for (a, ct), counts in series.items()
        for m, c in zip(MONTHS, counts, strict=True)
    ]
    return pd.DataFrame(rows)


def seasonal(level: float, growth: float = 1.0, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    season = 1 + 0.3 * np.sin(2 * np.pi * np.arange(len(MONTHS)) / 12)
    trend = growth ** (np.arange(len(MONTHS)) / 12)
    return list(rng.poisson(level * season * trend).astype(float))


def test_twelve_month_baseline_is_compared_with_the_latest_twelve_paired_by_calendar_month() -> None:
    base = pd.date_range("2023-04-01", "2024-03-01", freq="MS")
    current, paired = comparison_months(base, list(MONTHS))
    assert current == list(pd.date_range("2024-07-01", "2025-06-01", freq="MS"))
    assert [m.month for m in paired] == [m.month for m in current]
    assert all(b in set(base) for b in paired)


def test_short_baseline_uses_the_same_months_of_the_latest_full_year() -> None:
    base = pd.date_range("2023-11-01", "2024-01-01", freq="MS")
    current, paired = comparison_months(base, list(MONTHS))
    assert current == list(pd.date_range("2024-11-01", "2025-01-01", freq="MS"))
    assert paired == list(base)
    # Without the latest January, the last full year of those months is the one before: none here.
    assert comparison_months(base, [m for m in MONTHS if m < pd.Timestamp("2025-01-01")]) is None


def test_overlapping_windows_are_not_measurable() -> None:
    base = pd.date_range("2024-01-01", "2024-12-01", freq="MS")
    assert comparison_months(base, [m for m in MONTHS if m <= pd.Timestamp("2025-06-01")]) is None


def test_progress_figure_is_the_hand_computed_change_and_quasi_poisson_test() -> None:
    counts = seasonal(50, growth=0.8, seed=1)
    monthly = frame({("A", "Burglary"): counts, ("A", "Drugs"): seasonal(20, seed=2)})
    t = make_target("b", "Burglary", "Burglary", "A", "2023-07..2024-06", "2026-06", change=-10)
    row = target_progress([t], monthly).iloc[0]
    by_month = dict(zip(MONTHS, counts, strict=True))
    current = pd.date_range("2024-07-01", "2025-06-01", freq="MS")
    c = np.array([by_month[m] for m in current])
    b = np.array([by_month[m - pd.DateOffset(years=1)] for m in current])
    assert row.current_count == c.sum() and row.baseline_count == b.sum()
    assert row.percent_change == round(100 * (c.sum() - b.sum()) / b.sum(), 1)
    # Quasi-Poisson on paired months by hand: pi = C / N, phi = Pearson X2 / (M - 1), z against t(M - 1).
    n, pi = c + b, c.sum() / (c.sum() + b.sum())
    phi = (((c - n * pi) ** 2) / (n * pi * (1 - pi))).sum() / 11
    z = (c.sum() - n.sum() / 2) / math.sqrt(phi * n.sum() / 4)
    assert row.p_value == pytest.approx(2 * stats.t.sf(abs(z), 11), rel=1e-9)
    assert row.q_value == pytest.approx(row.p_value)  # one target: BH leaves p alone
    half = stats.t.ppf(0.975, 11) * math.sqrt(phi * (1 / c.sum() + 1 / b.sum()))
    assert row.ci_lower == round(100 * (math.exp(math.log(c.sum() / b.sum()) - half) - 1), 1)


def test_benjamini_hochberg_runs_across_the_partnerships_targets() -> None:
    monthly = frame({("A", "Burglary"): seasonal(80, 0.6, 3), ("A", "Drugs"): seasonal(30, 1.0, 4)})
    ts = [
        make_target("1", "Burglary", "Burglary", "A", "2023-07..2024-06", "2026-06", change=-10),
        make_target("2", "Drugs", "Drugs", "A", "2023-07..2024-06", "2026-06", change=-10),
    ]
    out = target_progress(ts, monthly)
    p = out["p_value"].to_numpy()
    order = np.argsort(p)
    q_sorted = np.minimum.accumulate((p[order] * 2 / np.arange(1, 3))[::-1])[::-1]
    assert out["q_value"].to_numpy()[order] == pytest.approx(np.minimum(q_sorted, 1))


def test_status_against_the_straight_line_to_the_deadline() -> None:
    # Halfway from the baseline's end (June 2024) to a June 2026 deadline at June 2025: expected -10 of -20.
    steady = [100.0] * 18 + [88.0] * 12
    monthly = frame({("A", "Burglary"): steady})
    on = make_target("1", "Burglary", "Burglary", "A", "2023-07..2024-06", "2026-06", change=-20)
    met = make_target("2", "Burglary", "Burglary", "A", "2023-07..2024-06", "2026-06", change=-10)
    off = make_target("3", "Burglary", "Burglary", "A", "2023-07..2024-06", "2026-06", change=-30)
    late = make_target("4", "Burglary", "Burglary", "A", "2023-07..2024-06", "2025-03", change=-30)
    level = make_target("5", "Burglary", "Burglary", "A", "2023-07..2024-06", "2026-06", level=1080)
    out = target_progress([on, met, off, late, level], monthly).set_index("target_id")
    assert out.loc["1", "percent_change"] == -12.0
    assert out.loc["1", "expected_by_now"] == pytest.approx(-20 * 365 / 730, abs=0.1)
    assert out["status"].to_dict() == {
        "1": "on course",
        "2": "met",
        "3": "off course",
        "4": "missed",
        "5": "met",
    }
    assert out.loc["5", "target_change"] == -10.0  # 1,080 against a baseline of 1,200


def test_measures_all_crime_and_excluding_asb() -> None:
    monthly = frame({("A", "Burglary"): [3.0] * 30, ("A", "Anti-social behaviour"): [5.0] * 30})
    assert measure_series(monthly, "A", ALL_CRIME).iloc[0] == 8
    assert measure_series(monthly, "A", ALL_CRIME_EXCL_ASB).iloc[0] == 3


def test_peers_compare_the_same_change_and_skip_areas_without_data() -> None:
    series = {("A", "Burglary"): seasonal(60, 0.7, 5)}
    for i, g in enumerate((1.0, 1.1, 0.9, 1.2)):
        series[(f"P{i}", "Burglary")] = seasonal(40, g, 10 + i)
    monthly = frame(series)
    loaded = {a: list(MONTHS) for a in ["A", "P0", "P1", "P2"]} | {"P3": list(MONTHS[:20])}
    t = make_target("1", "Burglary", "Burglary", "A", "2023-07..2024-06", "2026-06", change=-10)
    row = target_progress([t], monthly, peers=["P0", "P1", "P2", "P3"], loaded=loaded).iloc[0]
    assert row.peers_with_data == 3  # P3's data stop before the latest months

    def change(a: str) -> float:
        s = measure_series(monthly, a, "Burglary")
        return (
            100 * (s["2024-07":"2025-06"].sum() - s["2023-07":"2024-06"].sum()) / s["2023-07":"2024-06"].sum()
        )

    values = np.array([change(a) for a in ["A", "P0", "P1", "P2"]])
    assert row.peer_mean == round(values.mean(), 1)
    half = stats.t.ppf(0.975, 3) * values.std(ddof=1) / 2
    assert row.peer_lower == round(values.mean() - half, 1)


def test_not_measurable_says_why() -> None:
    monthly = frame({("A", "Burglary"): [0.0] * 18 + [5.0] * 12, ("A", "Drugs"): [4.0] * 30})
    t = make_target("1", "Burglary", "Burglary", "A", "2023-07..2024-06", "2026-06", change=-10)
    row = target_progress([t], monthly).iloc[0]
    assert row.status == "not measurable" and "baseline" in row.note


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"measure": "Burglarry"}, "unknown measure"),
        ({"baseline": "2023-01..2024-06"}, "1 to 12 months"),
        ({"deadline": "2024-01"}, "not after the baseline"),
        ({"change": None}, "either a target change"),
        ({"level": 5.0}, "either a target change"),
    ],
)
def test_make_target_refuses_with_one_line(kwargs: dict, message: str) -> None:
    args = {"measure": "Burglary", "baseline": "2023-07..2024-06", "deadline": "2026-03", "change": -10.0}
    args |= kwargs
    with pytest.raises(DiogelError, match=message) as info:
        make_target("x", "P", area="A", **args)
    assert "\n" not in str(info.value)


def test_load_targets_from_yaml(tmp_path) -> None:  # noqa: ANN001
    p = tmp_path / "targets.yaml"
    p.write_text(
        "targets:\n  - priority: Burglary\n    measure: Burglary\n    baseline: 2023-07..2024-06\n"
        "    change: -10\n    deadline: 2026-03\n",
        encoding="utf-8",
    )
    (t,) = load_targets(p, area="W14000022")
    assert (t.id, t.area, t.change, f"{t.deadline:%Y-%m}") == ("t1", "W14000022", -10.0, "2026-03")
    p.write_text("targets:\n  - priority: x\n    measure: [\n", encoding="utf-8")
    with pytest.raises(DiogelError, match=r"targets.yaml:\d+:\d+: not valid YAML"):
        load_targets(p)
    p.write_text("targets:\n  - priority: x\n", encoding="utf-8")
    with pytest.raises(DiogelError, match="target 1: missing measure, baseline, deadline"):
        load_targets(p, area="A")
