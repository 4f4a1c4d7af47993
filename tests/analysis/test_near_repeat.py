"""Knox near-repeat test and incident labels."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
import pytest

from diogel.analysis.near_repeat import distance_band_labels, knox_test, label_incidents, time_band_labels

D_LABELS = [
    "0 m (same location)",
    "1 to 100 m",
    "101 to 200 m",
    "201 to 300 m",
    "301 to 400 m",
    "more than 400 m",
]
T_LABELS = ["0 to 7 days", "8 to 14 days", "15 to 21 days", "22 to 28 days", "more than 28 days"]


def _frame(xs, ys, days) -> pd.DataFrame:
    return pd.DataFrame(
        {"x": xs, "y": ys, "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.asarray(days), unit="D")}
    )


# A(0,0) day 0, B(50,0) day 3, C(0,250) day 10, D(0,0) day 20.
HAND = _frame([0, 50, 0, 0], [0, 0, 250, 0], [0, 3, 10, 20])


def test_band_labels_say_what_they_contain():
    assert distance_band_labels([0, 100, 200, 300, 400]) == D_LABELS
    assert time_band_labels([7, 14, 21, 28]) == T_LABELS
    assert distance_band_labels([50, 250]) == ["0 to 50 m", "51 to 250 m", "more than 250 m"]
    assert time_band_labels([0, 1, 7]) == ["same day", "1 day", "2 to 7 days", "more than 7 days"]


def test_hand_computed_pair_counts():
    r = knox_test(HAND, permutations=999, seed=1)
    # Pairs (Manhattan distance, days apart) -> cell:
    #   A-B: 50 m, 3 d   -> 1 to 100 m,   0 to 7 days
    #   A-C: 250 m, 10 d -> 201 to 300 m, 8 to 14 days
    #   A-D: 0 m, 20 d   -> 0 m,          15 to 21 days
    #   B-C: 300 m, 7 d  -> 201 to 300 m, 0 to 7 days   (7 days and 300 m are inclusive upper bounds)
    #   B-D: 50 m, 17 d  -> 1 to 100 m,   15 to 21 days
    #   C-D: 250 m, 10 d -> 201 to 300 m, 8 to 14 days
    want = pd.DataFrame(0, index=D_LABELS, columns=T_LABELS)
    want.loc["1 to 100 m", "0 to 7 days"] = 1
    want.loc["201 to 300 m", "8 to 14 days"] = 2
    want.loc["0 m (same location)", "15 to 21 days"] = 1
    want.loc["201 to 300 m", "0 to 7 days"] = 1
    want.loc["1 to 100 m", "15 to 21 days"] = 1
    np.testing.assert_array_equal(r.observed.to_numpy(), want.to_numpy())
    assert list(r.observed.index) == D_LABELS and list(r.observed.columns) == T_LABELS
    assert r.n_pairs == 6 and r.n_incidents == 4

    # Classical expectation N_d * M_t / N: pairs per distance band N_d = (1, 2, 0, 3, 0, 0); the day gaps
    # 3, 10, 20, 7, 17, 10 give pairs per time band M_t = (2, 2, 2, 0, 0); N = 6. E.g. 1-100 m x 0-7 days:
    # 2 * 2 / 6 = 0.667; 201-300 m x 8-14 days: 3 * 2 / 6 = 1.
    assert r.expected_analytic.loc["1 to 100 m", "0 to 7 days"] == pytest.approx(2 / 3)
    assert r.expected_analytic.loc["201 to 300 m", "8 to 14 days"] == pytest.approx(1.0)

    # Exact permutation reference: all 4! = 24 assignments of the dates to the locations.
    coords = HAND[["x", "y"]].to_numpy()
    days = np.array([0, 3, 10, 20])
    near_week = []
    for perm in itertools.permutations(range(4)):
        d = days[list(perm)]
        near_week.append(
            sum(
                1
                for i, j in itertools.combinations(range(4), 2)
                if 1 <= np.abs(coords[i] - coords[j]).sum() <= 100 and abs(d[i] - d[j]) <= 7
            )
        )
    near_week = np.array(near_week)
    assert near_week.mean() == pytest.approx(2 / 3)  # the permutation mean is the classical expectation
    assert r.expected.loc["1 to 100 m", "0 to 7 days"] == pytest.approx(near_week.mean(), abs=0.08)
    exact_p = (near_week >= 1).mean()
    assert r.p_value.loc["1 to 100 m", "0 to 7 days"] == pytest.approx(exact_p, abs=0.05)
    ratio = r.knox_ratio.loc["1 to 100 m", "0 to 7 days"]
    assert ratio == pytest.approx(1 / r.expected.loc["1 to 100 m", "0 to 7 days"])


def test_p_value_and_ratio_follow_the_stated_formulas():
    rng = np.random.default_rng(5)
    inc = _frame(rng.uniform(0, 800, 60), rng.uniform(0, 800, 60), rng.integers(0, 90, 60))
    r = knox_test(inc, permutations=199, seed=3)
    sims = r.simulated
    assert sims.shape == (199, 6, 5)
    obs = r.observed.to_numpy()
    np.testing.assert_allclose(r.p_value.to_numpy(), ((sims >= obs).sum(axis=0) + 1) / 200)
    mean = sims.mean(axis=0)
    np.testing.assert_allclose(r.expected.to_numpy(), mean)
    ok = mean > 0
    np.testing.assert_allclose(r.knox_ratio.to_numpy()[ok], obs[ok] / mean[ok])
    # Every permutation keeps the total number of pairs and the pairs per time band.
    assert (sims.sum(axis=(1, 2)) == r.n_pairs).all()
    assert (sims.sum(axis=1) == obs.sum(axis=0)).all()
    # Seeded: the same seed gives the same reference distribution.
    np.testing.assert_array_equal(knox_test(inc, permutations=199, seed=3).simulated, sims)


def test_distances_are_rounded_to_whole_metres_before_banding():
    def band(dx: float) -> str:
        r = knox_test(_frame([0, dx], [0, 0], [0, 1]), permutations=9, seed=0)
        row = r.observed.sum(axis=1)
        return row[row > 0].index[0]

    assert band(0.4) == "0 m (same location)"
    assert band(0.5) == "1 to 100 m"
    assert band(100.4) == "1 to 100 m"
    assert band(100.5) == "101 to 200 m"
    assert band(400.0) == "301 to 400 m"
    assert band(400.6) == "more than 400 m"
    r = knox_test(_frame([0, 60], [0, 80], [0, 1]), permutations=9, seed=0, metric="euclidean")
    assert r.observed.loc["1 to 100 m"].sum() == 1  # straight line 100 m; Manhattan would be 140 m


def test_labels_by_hand():
    inc = pd.concat([HAND, _frame([0], [0], [22])], ignore_index=True)  # E at A's location on day 22
    labels = label_incidents(inc, near_distance_m=100, near_days=7)
    # A: B follows within 50 m and 3 days -> originator. B: near repeat of A. C: nothing within 100 m.
    # D: A is at 0 m but 20 days earlier, B is 50 m but 17 days earlier -> not a repeat; E follows it at
    # 0 m within 2 days -> originator. E: repeat of D.
    assert labels.tolist() == ["originator", "near repeat", "isolated", "originator", "repeat"]
    inc.loc[2, "x"] = np.nan
    assert pd.isna(label_incidents(inc).iloc[2])


def test_planted_near_repeats_are_found():
    rng = np.random.default_rng(42)
    n = 300
    base = _frame(rng.uniform(0, 4000, n), rng.uniform(0, 4000, n), rng.integers(0, 365, n))
    src = rng.integers(0, n, 80)
    planted = pd.DataFrame(
        {
            "x": base.x.to_numpy()[src] + rng.uniform(-40, 40, 80),
            "y": base.y.to_numpy()[src] + rng.uniform(-40, 40, 80),
            "date": base.date.to_numpy()[src] + pd.to_timedelta(rng.integers(0, 7, 80), unit="D").to_numpy(),
        }
    )
    inc = pd.concat([base, planted], ignore_index=True)
    r = knox_test(inc, seed=7, crime_label="burglary")
    cell = ("1 to 100 m", "0 to 7 days")
    assert r.p_value.loc[cell] == pytest.approx(0.001)
    assert r.knox_ratio.loc[cell] > 3
    assert r.significant().loc[cell]
    assert r.near_p == pytest.approx(0.001) and r.near_ratio > 3
    assert r.summary.startswith(
        f"Within 100 m and 7 days of a burglary, further burglaries were {r.near_ratio:.1f} times more frequent "
        "than expected by chance (p = 0.001;"
    )
    assert r.summary.endswith("a near-repeat pattern unlikely to be chance.")
    planted_labels = r.labels.iloc[n:]
    assert set(planted_labels) <= {"near repeat", "repeat"}
    assert (r.labels.iloc[src] != "isolated").all()


def test_random_pattern_shows_no_near_repeats():
    rng = np.random.default_rng(11)
    n = 400
    inc = _frame(rng.uniform(0, 3000, n), rng.uniform(0, 3000, n), rng.integers(0, 365, n))
    r = knox_test(inc, seed=13)
    cells = r.p_value.size
    # Bonferroni across the 30 cells: no cell below 0.05 / 30.
    assert (r.p_value.to_numpy() > 0.05 / cells).all()
    assert r.near_p > 0.05
    assert "not enough to rule out chance" in r.summary
    # The permutation mean agrees with the classical expectation.
    np.testing.assert_allclose(r.expected.to_numpy(), r.expected_analytic.to_numpy(), rtol=0.1, atol=0.5)


def test_999_permutations_of_500_incidents_in_seconds():
    rng = np.random.default_rng(2)
    # A 600 m square: every pair is within 400 m + 400 m, the worst case for the near-pair enumeration.
    inc = _frame(rng.uniform(0, 600, 500), rng.uniform(0, 600, 500), rng.integers(0, 365, 500))
    start = time.perf_counter()
    r = knox_test(inc, permutations=999, seed=0)
    assert time.perf_counter() - start < 10
    assert r.n_pairs == 500 * 499 // 2


def test_invalid_arguments():
    with pytest.raises(ValueError, match="near_distance_m=150 must be one of the distance band edges"):
        knox_test(HAND, near_distance_m=150)
    with pytest.raises(ValueError, match="strictly increasing"):
        knox_test(HAND, distance_bands=(100, 50))
    with pytest.raises(KeyError, match="'when'"):
        knox_test(HAND, date="when")
