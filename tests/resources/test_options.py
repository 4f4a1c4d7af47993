"""Tests for diogel.resources.options: standards, lowered standards, amalgamation, coterminosity."""

from __future__ import annotations

import random
from collections import deque
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from libpysal.weights import Queen
from spopt.region import MaxPHeuristic

from diogel.resources.options import (
    Standard,
    amalgamate,
    compare_options,
    cost_to_standard,
    count_meeting,
    force_coterminosity,
    group_capacity,
    groups_contiguous,
    la_contiguity,
    simplify_coverage,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "resources"
FLOOR = 250_000


@pytest.fixture(scope="module")
def las() -> gpd.GeoDataFrame:
    """The 22 Welsh LAs dissolved from real LSOA 2011 boundaries (EPSG:27700), mid-2019 population."""
    return gpd.read_file(FIXTURES / "wales_la22_boundaries.geojson")


@pytest.fixture(scope="module")
def contiguity(las):
    return la_contiguity(las)


@pytest.fixture(scope="module")
def result(las, contiguity):
    return amalgamate(las, contiguity.w, "population", FLOOR, seed=7)


@pytest.fixture()
def capacity() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area_code": ["A", "B", "C"],
            "area_name": ["a", "b", "c"],
            "population": [100_000, 200_000, 50_000],
            "fte": [2.0, 3.0, 2.0],
            "funding": [500_000.0, 600_000.0, 100_000.0],
        }
    )


def test_cost_to_standard_fte_by_hand(capacity):
    cost = cost_to_standard(capacity, Standard("fte_per_100k", 2.0, cost_per_fte=40_000))
    df = cost.by_partnership.set_index("area_code")
    # Required FTE = 2 per 100k x population: A 2, B 4, C 1. Shortfall: A 0, B 4 - 3 = 1, C 0.
    assert df["required"].tolist() == [2.0, 4.0, 1.0]
    assert df["shortfall"].tolist() == [0.0, 1.0, 0.0]
    assert df["current"].tolist() == [2.0, 1.5, 4.0]
    assert cost.total_shortfall == 1.0 and cost.total_cost == 40_000 and cost.n_below == 1
    assert cost_to_standard(capacity, Standard("fte_per_100k", 2.0)).total_cost is None


def test_cost_to_standard_funding_by_hand(capacity):
    cost = cost_to_standard(capacity, Standard("funding_per_head", 3.0))
    # Required = 3 x population: 300,000, 600,000, 150,000; C is 50,000 short, B exactly meets it.
    assert cost.by_partnership["shortfall"].tolist() == [0.0, 0.0, 50_000.0]
    assert cost.total_cost == 50_000 and cost.n_below == 1


def test_count_meeting_lowered_standards(capacity):
    # FTE per 100k: A 2.0, B 1.5, C 4.0.
    out = count_meeting(capacity, "fte_per_100k", [2.0, 1.5, 5.0])
    assert out["n_meeting"].tolist() == [2, 3, 0]
    assert out.loc[0, "below"] == "B"
    assert out.loc[1, "share_meeting"] == 1.0
    with pytest.raises(ValueError, match="unknown metric"):
        Standard("staff", 1.0)


def test_fixture_contiguity_and_anglesey(las, contiguity):
    assert len(las) == 22 and las.crs.to_epsg() == 27700
    assert las["population"].sum() == 3_152_879
    with pytest.warns(UserWarning, match="not fully connected"):
        raw = Queen.from_dataframe(las, ids=las["area_code"].tolist(), use_index=False)
    # The Menai Strait: Anglesey touches no other authority in the boundaries.
    assert raw.islands == ["W06000001"]
    # ... and is joined to Gwynedd, its nearest neighbour across the strait.
    assert [(a, b) for a, b, _ in contiguity.added_links] == [("W06000001", "W06000002")]
    assert contiguity.w.islands == []
    assert "W06000001" in contiguity.w.neighbors["W06000002"]
    # Known borders survive simplification: Cardiff-Newport, Powys-Gwynedd; not Cardiff-Powys.
    nb = contiguity.w.neighbors
    assert "W06000022" in nb["W06000015"] and "W06000002" in nb["W06000023"]
    assert "W06000023" not in nb["W06000015"]


def test_simplify_coverage_refuses_to_break_contiguity(las):
    # Simplifying each polygon on its own opens gaps along borders and loses neighbours ...
    with pytest.raises(ValueError, match="changed contiguity"):
        simplify_coverage(las, tolerance=1_000, method="independent")
    # ... simplifying the coverage keeps every shared border shared, even at 20 km.
    kept = simplify_coverage(las, tolerance=20_000)
    assert kept.geometry.is_valid.all()
    assert kept.geometry.count_coordinates().sum() < las.geometry.count_coordinates().sum()


def _connected(members: set[str], neighbors: dict[str, list[str]]) -> bool:
    start = next(iter(members))
    seen, todo = {start}, deque([start])
    while todo:
        for nb in neighbors[todo.popleft()]:
            if nb in members and nb not in seen:
                seen.add(nb)
                todo.append(nb)
    return seen == members


def test_amalgamation_groups_are_contiguous_and_meet_the_floor(las, contiguity, result):
    pop = dict(zip(las["area_code"], las["population"], strict=True))
    assert len(result.labels) == 22
    for _, sub in result.labels.groupby("group"):
        members = set(sub["area_code"])
        assert sum(pop[c] for c in members) >= FLOOR
        assert _connected(members, contiguity.w.neighbors)
    assert result.groups["meets_floor"].all()
    assert groups_contiguous(result.labels, contiguity.w).all()
    # Max-p: more than one group, and fewer groups than the population allows.
    assert 1 < len(result.groups) <= las["population"].sum() // FLOOR


def test_groups_contiguous_detects_a_broken_group(contiguity):
    labels = pd.DataFrame({"area_code": list(contiguity.w.id_order), "group": 1})
    labels.loc[labels["area_code"].isin(["W06000001", "W06000015"]), "group"] = 2  # Anglesey + Cardiff
    out = groups_contiguous(labels, contiguity.w)
    assert out[1] and not out[2]


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # spopt 0.7 under pandas 3
def test_amalgamation_is_deterministic_and_matches_spopt(las, contiguity, result):
    np.random.seed(123)
    before = np.random.random()
    again = amalgamate(las, contiguity.w, "population", FLOOR, seed=7)
    pd.testing.assert_frame_equal(again.labels, result.labels)
    # The global generators are restored afterwards.
    np.random.seed(123)
    assert np.random.random() == before
    # Reference: spopt directly, same seed, positional W -> the same partition.
    ids = las["area_code"].tolist()
    pos = {c: i for i, c in enumerate(ids)}
    from libpysal.weights import W

    w = W({pos[k]: [pos[v] for v in contiguity.w.neighbors[k]] for k in ids}, ids=list(range(22)))
    np.random.seed(7)
    random.seed(7)
    model = MaxPHeuristic(
        las[["area_code", "population", "geometry"]], w, ["population"], "population", FLOOR
    )
    model.solve()
    ref = pd.Series(model.labels_, index=ids)
    ours = result.labels.set_index("area_code")["group"]
    pairs = set(zip(ref, ours[ids], strict=True))
    assert len(pairs) == len(set(ref)) == len(set(ours))  # a one-to-one relabelling


def test_force_coterminosity_by_hand():
    forces = pd.read_csv(FIXTURES / "wales_la22_force.csv")
    assert sorted(forces["force_name"].unique()) == ["Dyfed-Powys", "Gwent", "North Wales", "South Wales"]
    labels = pd.DataFrame(
        {
            # Cardiff + Vale: both South Wales. Powys (Dyfed-Powys) + Wrexham (North Wales): crosses.
            "area_code": ["W06000015", "W06000014", "W06000023", "W06000006"],
            "group": [1, 1, 2, 2],
        }
    )
    out = force_coterminosity(labels, forces).set_index("group")
    assert out.loc[1, "crosses_force_boundary"] == False  # noqa: E712
    assert out.loc[2, "crosses_force_boundary"] == True  # noqa: E712
    assert out.loc[2, "forces"] == "Dyfed-Powys, North Wales"


def test_group_capacity_and_compare_options(capacity):
    labels = pd.DataFrame({"area_code": ["A", "B", "C"], "group": [1, 1, 2]})
    pooled = group_capacity(capacity, labels).set_index("area_code")
    # G1 = A + B: 300,000 people, 5 FTE -> 1.667 per 100k. G2 = C: 4.0 per 100k.
    assert pooled.loc["G1", "fte"] == 5.0
    assert pooled.loc["G1", "fte_per_100k"] == pytest.approx(5 / 3)
    from diogel.resources.options import Amalgamation

    groups = pd.DataFrame({"group": [1, 2], "size": [300_000.0, 50_000.0]})
    am = Amalgamation(labels=labels, groups=groups, floor=50_000, seed=0)
    cot = pd.DataFrame({"group": [1, 2], "crosses_force_boundary": [True, False]})
    out = compare_options(capacity, Standard("fte_per_100k", 2.0, cost_per_fte=40_000), 1.5, am, cot)
    assert list(out.columns) == ["option", "metric", "value", "unit"]
    v = out.set_index(["option", "metric"])["value"]
    assert v[("i: keep all, fund to standard", "annual cost to reach standard")] == 40_000
    assert v[("ii: keep all, lower standard", "partnerships meeting lowered standard")] == 3
    assert v[("ii: keep all, lower standard", "partnerships meeting current standard")] == 2
    # Pooled G1 needs 2 x 3 = 6 FTE, has 5: shortfall 1 FTE = 40,000; G2 meets it.
    assert v[("iii: amalgamate", "groups meeting standard on pooled capacity")] == 1
    assert v[("iii: amalgamate", "annual cost to reach standard")] == 40_000
    assert v[("iii: amalgamate", "groups crossing a force boundary")] == 1
