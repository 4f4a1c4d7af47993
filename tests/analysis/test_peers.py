"""Tests for diogel.analysis.peers (most similar areas). Areas and values here are synthetic."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from diogel.analysis.peers import compare_with_peers, most_similar, peer_distances, prepare_variables

FIXTURE = (
    Path(__file__).parents[1] / "fixtures" / "analysis_b" / "gwent_wimd2019_scores_population19_lsoa11.csv"
)

# Four synthetic areas, two variables
AREAS = pd.DataFrame(
    {
        "code": ["A", "B", "C", "D"],
        "name": ["Aber", "Bryn", "Cwm", "Dol"],
        "x": [1.0, 2.0, 3.0, 6.0],
        "y": [10.0, 14.0, 10.0, 6.0],
    }
)
# x: mean 3, deviations -2,-1,0,3, sum of squares 14, sd^2 = 14/3
# y: mean 10, deviations 0,4,0,-4, sum of squares 32, sd^2 = 32/3
# d^2(A,B) = 1^2/(14/3) + 4^2/(32/3) = 3/14 + 1.5   = 1.714286 -> d = 1.309307
# d^2(A,C) = 2^2/(14/3) + 0          = 12/14       = 0.857143 -> d = 0.925820
# d^2(A,D) = 5^2/(14/3) + 4^2/(32/3) = 75/14 + 1.5 = 6.857143 -> d = 2.618615
D_AB, D_AC, D_AD = math.sqrt(3 / 14 + 1.5), math.sqrt(12 / 14), math.sqrt(75 / 14 + 1.5)


def test_hand_computed_distances_without_transform():
    out = peer_distances(AREAS, "A", ["x", "y"], transforms="none")
    assert out["code"].tolist() == ["C", "B", "D"]
    assert out["name"].tolist() == ["Cwm", "Bryn", "Dol"]
    assert out["distance"].tolist() == pytest.approx([D_AC, D_AB, D_AD])
    assert out["distance"].tolist() == pytest.approx([0.925820, 1.309307, 2.618615], abs=1e-6)
    assert out["rank"].tolist() == [1, 2, 3]


def test_weights_change_the_order():
    # weight 2 on x multiplies its squared term by 4:
    # d^2(A,B) = 4 * 3/14 + 1.5 = 2.357143 -> 1.535299 ; d^2(A,C) = 4 * 12/14 = 3.428571 -> 1.851640
    # d^2(A,D) = 4 * 75/14 + 1.5 = 22.928571 -> 4.788379
    out = most_similar(AREAS, "A", k=2, variables=["x", "y"], transforms="none", weights={"x": 2.0})
    assert out["code"].tolist() == ["B", "C"]
    assert out["distance"].tolist() == pytest.approx([1.535299, 1.851640], abs=1e-6)


def test_log_transform_hand_computed():
    # log x = [0, ln2, ln3, ln6]; with y unused, distance = |log x_a - log x_b| / sd(log x)
    lx = np.log([1.0, 2.0, 3.0, 6.0])
    sd = lx.std(ddof=1)
    out = peer_distances(AREAS, "B", ["x"], transforms="log").set_index("code")
    # from B (ln 2): A |0 - ln2|, C |ln3 - ln2| = ln1.5, D |ln6 - ln2| = ln3
    assert out.loc["A", "distance"] == pytest.approx(math.log(2) / sd)
    assert out.loc["C", "distance"] == pytest.approx(math.log(1.5) / sd)
    assert out.loc["D", "distance"] == pytest.approx(math.log(3) / sd)


def test_yeojohnson_matches_scipy():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"code": [f"K{i}" for i in range(40)], "pop": rng.lognormal(8, 1, 40)})
    z = prepare_variables(frame, ["pop"])
    t, lam = stats.yeojohnson(frame["pop"].to_numpy())
    assert z["pop"].to_numpy() == pytest.approx((t - t.mean()) / t.std(ddof=1))
    # the transform pulls the lognormal skew towards 0
    assert abs(stats.skew(z["pop"])) < abs(stats.skew(frame["pop"]))


def test_most_similar_on_real_gwent_variables():
    df = pd.read_csv(FIXTURE).rename(columns={"lsoa11_code": "code", "lsoa11_name": "name"})
    cols = ["code", "name", "total_population", "Income_score", "Access_score", "Housing_score"]
    out = most_similar(df[cols], "W01001325", k=7)
    assert len(out) == 7 and "W01001325" not in set(out["code"])
    assert out["distance"].is_monotonic_increasing
    # the nearest seven are the seven smallest of all distances
    every = peer_distances(df[cols], "W01001325")
    assert out["distance"].tolist() == every["distance"].nsmallest(7).tolist()


def test_compare_with_peers_hand_computed():
    # rates: A 10, B 14, C 6, D 20; group = A + peers B, C, D
    # mean = 50/4 = 12.5; deviations -2.5, 1.5, -6.5, 7.5; SS = 6.25+2.25+42.25+56.25 = 107
    # sd = sqrt(107/3) = 5.972158; se = sd/2 = 2.986079; t(0.975, 3) = 3.182446
    # half = 9.503; interval 2.997 to 22.003; A's rank: 20 D, 14 B, 10 A, 6 C -> 3rd
    rates = pd.Series({"A": 10.0, "B": 14.0, "C": 6.0, "D": 20.0, "E": 99.0})
    peers = most_similar(AREAS, "A", k=3, variables=["x", "y"], transforms="none")
    res = compare_with_peers(rates, peers, "A", name="Aber")
    assert res.group_mean == pytest.approx(12.5)
    half = 3.182446 * math.sqrt(107 / 3) / 2
    assert res.lower == pytest.approx(12.5 - half, abs=1e-5)
    assert res.upper == pytest.approx(12.5 + half, abs=1e-5)
    assert res.rank == 3 and res.n_group == 4 and res.position == "within"
    assert res.group["code"].tolist() == ["D", "B", "A", "C"]
    assert res.sentence.startswith("Aber's rate of 10.0 is within the 95% interval")
    assert "ranks 3 of 4" in res.sentence


def test_compare_with_peers_above_and_frame_input():
    # A 30 with peers 10, 11, 12: mean 15.75, deviations 14.25, -5.75, -4.75, -3.75;
    # SS = 203.0625 + 33.0625 + 22.5625 + 14.0625 = 272.75; sd = sqrt(272.75/3) = 9.5350;
    # half = 3.182446 * 9.5350 / 2 = 15.172; upper 30.922 -> 30 is within;
    # with 7 peers at 10..16 the interval is narrow and A (30) is above it.
    rates = pd.DataFrame({"code": list("AHIJKLMN"), "rate": [30.0, 10, 11, 12, 13, 14, 15, 16]})
    res = compare_with_peers(rates, ["H", "I", "J"], "A")
    assert res.upper == pytest.approx(15.75 + 3.182446 * math.sqrt(272.75 / 3) / 2, abs=1e-4)
    assert res.position == "within" and res.rank == 1
    res7 = compare_with_peers(rates, list("HIJKLMN"), "A")
    assert res7.position == "above" and res7.rank == 1
    with pytest.raises(ValueError, match="no rate"):
        compare_with_peers(rates, ["Z"], "A")


def test_input_errors():
    with pytest.raises(ValueError, match="not in the frame"):
        most_similar(AREAS, "Q")
    with pytest.raises(ValueError, match="cannot be logged"):
        prepare_variables(AREAS.assign(x=[0.0, 1, 2, 3]), ["x"], transforms="log")
    with pytest.raises(ValueError, match="does not vary"):
        prepare_variables(AREAS.assign(y=5.0), ["y"], transforms="none")
    with pytest.raises(ValueError, match="only 3 other areas"):
        most_similar(AREAS, "A", k=4, variables=["x", "y"], transforms="none")
