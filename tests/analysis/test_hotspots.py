"""Tests for diogel.analysis.hotspots: contiguity, Gi*, FDR, local Moran's I for rates."""

from __future__ import annotations

import copy
import math
import warnings
from pathlib import Path

import esda
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from esda.smoothing import assuncao_rate
from libpysal.weights import lat2W
from scipy import stats
from shapely.geometry import box
from statsmodels.stats.multitest import multipletests

from diogel.analysis.hotspots import (
    benjamini_hochberg,
    conditional_permutation_ids,
    conditional_randomisation,
    contiguity_weights,
    gi_star,
    gi_star_textbook,
    local_moran_rate,
    two_sided_pseudo_p,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "analysis_a"


@pytest.fixture(scope="module")
def gwent_polygons() -> gpd.GeoDataFrame:
    return gpd.read_file(FIX / "gwent_lsoa21_boundaries.geojson")


@pytest.fixture(scope="module")
def gwent_counts() -> pd.DataFrame:
    return pd.read_csv(FIX / "gwent_lsoa21_counts_2024-07_2025-06.csv").set_index("lsoa_code")


@pytest.fixture(scope="module")
def gwent_w(gwent_polygons):
    return contiguity_weights(gwent_polygons)


# ------------------------------------------------------------------------------------------------
# contiguity_weights
# ------------------------------------------------------------------------------------------------


def _grid_with_island() -> gpd.GeoDataFrame:
    # Synthetic 3 x 3 grid of unit squares named r{row}c{col}, plus an island square far east.
    cells = [(f"r{r}c{c}", box(c, r, c + 1, r + 1)) for r in range(3) for c in range(3)]
    cells.append(("island", box(10, 1, 11, 2)))
    return gpd.GeoDataFrame(
        {"lsoa_code": [c[0] for c in cells]}, geometry=[c[1] for c in cells], crs="EPSG:27700"
    )


def test_contiguity_grid_queen_and_rook():
    gdf = _grid_with_island()
    queen = contiguity_weights(gdf, rule="queen", islands="keep")
    rook = contiguity_weights(gdf, rule="rook", islands="keep")
    # Queen: centre touches all 8, a corner 3, an edge cell 5. Rook: 4, 2, 3.
    assert len(queen.neighbors["r1c1"]) == 8
    assert len(queen.neighbors["r0c0"]) == 3
    assert len(queen.neighbors["r0c1"]) == 5
    assert len(rook.neighbors["r1c1"]) == 4
    assert sorted(rook.neighbors["r0c0"]) == ["r0c1", "r1c0"]
    assert len(rook.neighbors["r0c1"]) == 3
    assert queen.neighbors["island"] == []
    assert queen.transform == "B"
    assert queen.id_order == list(gdf["lsoa_code"])


def test_contiguity_islands_joined_to_nearest():
    gdf = _grid_with_island()
    w = contiguity_weights(gdf)
    # Island centroid (10.5, 1.5); nearest grid centroid is r1c2 at (2.5, 1.5). The link is symmetric.
    assert w.neighbors["island"] == ["r1c2"]
    assert "island" in w.neighbors["r1c2"]
    assert w.islands == []
    with pytest.raises(ValueError, match="no contiguous neighbour"):
        contiguity_weights(gdf, islands="raise")


def test_contiguity_real_gwent_matches_shapely(gwent_polygons):
    # Independent check: queen neighbours are exactly the other polygons that intersect; rook
    # neighbours those whose boundaries share a length > 0.
    g = gwent_polygons
    ids = g["lsoa_code"].to_numpy()
    left, right = g.sindex.query(g.geometry, predicate="intersects")
    queen_pairs, rook_pairs = set(), set()
    for a, b in zip(left, right, strict=True):
        if a == b:
            continue
        queen_pairs.add((ids[a], ids[b]))
        if g.geometry.iloc[a].boundary.intersection(g.geometry.iloc[b].boundary).length > 0:
            rook_pairs.add((ids[a], ids[b]))
    for rule, pairs in (("queen", queen_pairs), ("rook", rook_pairs)):
        w = contiguity_weights(g, rule=rule)
        assert w.n == 374
        assert w.islands == []
        assert {(a, b) for a in w.neighbors for b in w.neighbors[a]} == pairs


# ------------------------------------------------------------------------------------------------
# Benjamini-Hochberg
# ------------------------------------------------------------------------------------------------


def test_benjamini_hochberg_hand_case():
    # Sorted: 0.01, 0.03, 0.04, 0.20; m/j p: 0.04, 0.06, 0.0533, 0.20;
    # running minimum from the top: 0.04, 0.0533, 0.0533, 0.20.
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.20])
    np.testing.assert_allclose(q, [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20])


def test_benjamini_hochberg_matches_statsmodels():
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(0, 1, 200), rng.uniform(0, 0.01, 30), [0.02, 0.02, 0.02, 1.0]])
    np.testing.assert_allclose(benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12)
    with_nan = np.array([0.01, np.nan, 0.04, 0.03])
    q = benjamini_hochberg(with_nan)
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2, 3]], multipletests(with_nan[[0, 2, 3]], method="fdr_bh")[1])


# ------------------------------------------------------------------------------------------------
# Gi*
# ------------------------------------------------------------------------------------------------


def test_gi_star_textbook_hand_line():
    # Five areas on a line, x = 1, 2, 3, 4, 10, each with itself and its line neighbours.
    # n = 5, mean 4, S^2 = (1+4+9+16+100)/5 - 16 = 10. W_i = 2, 3, 3, 3, 2 (= S1_i, binary).
    # Denominator: sqrt(10) * sqrt((5 W_i - W_i^2) / 4) = sqrt(10 * 1.5) = sqrt(15) for every i.
    # Numerators: 3-8 = -5, 6-12 = -6, 9-12 = -3, 17-12 = 5, 14-8 = 6.
    x = np.array([1, 2, 3, 4, 10])
    line = np.diag(np.ones(4), 1) + np.diag(np.ones(4), -1)
    expected = np.array([-5, -6, -3, 5, 6]) / math.sqrt(15)
    np.testing.assert_allclose(gi_star_textbook(x, line), expected, rtol=1e-12)
    w = lat2W(5, 1, rook=True)
    res = gi_star(x, w, permutations=0)
    np.testing.assert_allclose(res["z"], expected, rtol=1e-12)
    # p = 2 (1 - Phi(6 / sqrt 15)) = 2 * sf(1.5492) = 0.1213: nothing significant on five areas.
    assert res["p"].iloc[4] == pytest.approx(2 * stats.norm.sf(6 / math.sqrt(15)))
    assert (res["bin"] == "Not significant").all()


def test_esda_gi_star_equals_textbook_on_real_gwent(gwent_w, gwent_counts):
    x = gwent_counts["count"].reindex(gwent_w.id_order).to_numpy(dtype=float)
    dense = gwent_w.full()[0]
    textbook = gi_star_textbook(x, dense)
    res = gi_star(gwent_counts["count"], gwent_w, permutations=0)
    assert gwent_w.transform == "B"  # gi_star worked on a copy
    np.testing.assert_allclose(res["z"].to_numpy(), textbook, rtol=0, atol=1e-9)
    # Why transform "B" matters: esda's default row-standardised weights give different z.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row_std = esda.G_Local(x, copy.deepcopy(gwent_w), transform="R", star=True, permutations=0)
    assert np.abs(row_std.Zs - textbook).max() > 1.0


def _expected_bin(z: float, p: float) -> str:
    for alpha, label in ((0.01, "99%"), (0.05, "95%"), (0.10, "90%")):
        if p <= alpha:
            return f"{'Hot' if z > 0 else 'Cold'} spot {label}"
    return "Not significant"


def test_gi_star_bins_follow_fdr_q_of_the_permutation_p(gwent_w, gwent_counts):
    res = gi_star(gwent_counts["count"], gwent_w, permutations=9999, seed=7)
    np.testing.assert_allclose(res["p"], 2 * stats.norm.sf(np.abs(res["z"])))
    # By default the bins test the permutation p-values, FDR adjusted; the analytic z stays a column.
    np.testing.assert_allclose(res["q"], multipletests(res["p_sim"], method="fdr_bh")[1], rtol=1e-10)
    assert list(res["bin"]) == [_expected_bin(z, q) for z, q in zip(res["z"], res["q"], strict=True)]
    analytic = gi_star(gwent_counts["count"], gwent_w, permutations=0)
    np.testing.assert_allclose(analytic["q"], multipletests(analytic["p"], method="fdr_bh")[1], rtol=1e-10)
    raw = gi_star(gwent_counts["count"], gwent_w, permutations=0, fdr=False)
    assert list(raw["bin"]) == [_expected_bin(z, p) for z, p in zip(raw["z"], raw["p"], strict=True)]
    # FDR control can only remove areas from the significant set.
    assert (analytic["bin"] != "Not significant").sum() <= (raw["bin"] != "Not significant").sum()
    # Real Gwent 2024-25: the analytic p-values make 14 LSOAs hot at 95%+ (10 of them at 99%); the
    # permutation p-values, which do not assume the skewed counts are normal, make 5 (none at 99%:
    # with 374 LSOAs that would need 12 of them at the floor 3 / 10,000).
    hot = ["Hot spot 99%", "Hot spot 95%"]
    assert analytic["bin"].isin(hot).sum() == 14
    assert res["bin"].isin(hot).sum() == 5
    assert (res["bin"] == "Hot spot 99%").sum() == 0
    # Newport city centre W01001687 (1,791 records, the most in Gwent) stays a 95% hot spot.
    assert res.loc["W01001687", "bin"] == "Hot spot 95%"


def test_gi_star_permutation_p_is_two_sided_and_seeded(gwent_w, gwent_counts):
    a = gi_star(gwent_counts["count"], gwent_w, permutations=199, seed=3)
    b = gi_star(gwent_counts["count"], gwent_w, permutations=199, seed=3)
    np.testing.assert_array_equal(a["p_sim"], b["p_sim"])
    assert ((a["p_sim"] >= 1 / 200) & (a["p_sim"] <= 1)).all()
    x = gwent_counts["count"].reindex(gwent_w.id_order).to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        directed = esda.G_Local(
            x, copy.deepcopy(gwent_w), transform="B", star=True, permutations=199, seed=3, n_jobs=1
        )
    # esda's own p_sim picks the tail the statistic is in; the two-sided value is about double.
    ratio = a["p_sim"].to_numpy() / directed.p_sim
    assert 1.8 < np.median(ratio) < 2.2
    analytic = gi_star(gwent_counts["count"], gwent_w, permutations=199, seed=3, p_source="analytic")
    np.testing.assert_allclose(analytic["q"], multipletests(analytic["p"], method="fdr_bh")[1])
    with pytest.raises(ValueError, match="needs permutations"):
        gi_star(gwent_counts["count"], gwent_w, permutations=0, p_source="permutation")


def _esda_draws_like_ours() -> bool:
    # Without numba esda draws with numpy's legacy generator, as diogel does; with numba it uses
    # numba's own generator and only the distributions agree.
    try:
        import numba  # noqa: F401
    except ImportError:
        return True
    return False


@pytest.mark.parametrize("seed", [7, 20240601])
def test_gi_star_permutations_equal_esdas_for_the_same_seed(gwent_w, gwent_counts, seed):
    from esda.significance import calculate_significance

    x = gwent_counts["count"].reindex(gwent_w.id_order).to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(
            x, copy.deepcopy(gwent_w), transform="B", star=True, permutations=999, seed=seed, n_jobs=1
        )
    esda_p = calculate_significance(ref.Gs, ref.rGs, alternative="two-sided")
    ours = gi_star(gwent_counts["count"], gwent_w, permutations=999, seed=seed)
    # Our re-implementation of esda's draw scheme, with esda's statistic, gives esda's simulations.
    sims = (x[:, None] + conditional_randomisation(x, gwent_w, 999, seed)) / x.sum()
    if _esda_draws_like_ours():
        np.testing.assert_array_equal(sims, ref.rGs)
        np.testing.assert_array_equal(ours["p_sim"].to_numpy(), esda_p)
    else:
        # Two independent sets of 999 permutations; see the test below for the standard error.
        se = np.sqrt(2 * np.maximum(esda_p * (2 - esda_p), 1e-3) / 999)
        assert (np.abs(ours["p_sim"].to_numpy() - esda_p) <= 5 * se + 2 / 1000).all()


def test_permutation_p_agrees_with_esda_within_monte_carlo_error_across_seeds(gwent_w, gwent_counts):
    # Different seeds give different draws; the p-values must agree within Monte Carlo error.
    a = gi_star(gwent_counts["count"], gwent_w, permutations=9999, seed=1)["p_sim"].to_numpy()
    x = gwent_counts["count"].reindex(gwent_w.id_order).to_numpy(dtype=float)
    from esda.significance import calculate_significance

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(
            x, copy.deepcopy(gwent_w), transform="B", star=True, permutations=9999, seed=2, n_jobs=1
        )
    b = calculate_significance(ref.Gs, ref.rGs, alternative="two-sided")
    # p estimates 2 min(t, 1 - t), t = P(simulated <= observed), from R draws: var = 4 t (1 - t) / R
    # = p (2 - p) / R; the difference of two independent estimates has twice that variance.
    se = np.sqrt(2 * np.maximum(b * (2 - b), 1e-4) / 9999)
    assert (np.abs(a - b) <= 5 * se + 2 / 10000).all()
    assert np.abs(a - b).max() > 0  # really different draws


def test_conditional_permutation_ids_are_esdas_draws():
    from esda.crand import vec_permutations

    ids = conditional_permutation_ids(50, 8, 30, 11)
    if _esda_draws_like_ours():
        state = np.random.get_state()
        try:
            np.testing.assert_array_equal(ids, vec_permutations(8, 50, 30, 11))
        finally:
            np.random.set_state(state)
    # Each row: 8 distinct ids among the 49 other areas.
    assert ids.shape == (30, 8)
    assert all(len(set(r)) == 8 for r in ids.tolist())
    assert ids.min() >= 0 and ids.max() <= 48
    before = np.random.get_state()[1].copy()
    conditional_permutation_ids(50, 8, 31, 12)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # global generator untouched


def test_conditional_randomisation_hand_case():
    # A line of 4 areas; area i keeps its value and its neighbours are drawn among the other 3.
    w = lat2W(4, 1, rook=True)
    z = np.array([1.0, 10.0, 100.0, 1000.0])
    sims = conditional_randomisation(z, w, 5, 3)
    ids = conditional_permutation_ids(4, 2, 5, 3)
    for i in range(4):
        others = np.delete(z, i)
        k = len(w.neighbors[i])
        np.testing.assert_array_equal(sims[i], others[ids[:, :k]].sum(axis=1))


def test_gi_star_aligns_series_by_id(gwent_w, gwent_counts):
    shuffled = gwent_counts["count"].sample(frac=1, random_state=1)
    a = gi_star(shuffled, gwent_w, permutations=0)
    b = gi_star(gwent_counts["count"], gwent_w, permutations=0)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="no value"):
        gi_star(gwent_counts["count"].iloc[1:], gwent_w, permutations=0)


# ------------------------------------------------------------------------------------------------
# local_moran_rate
# ------------------------------------------------------------------------------------------------


def test_local_moran_rate_matches_esda_and_quadrant_rule(gwent_w, gwent_counts):
    res = local_moran_rate(
        gwent_counts["count"], gwent_counts["population"], gwent_w, permutations=199, fdr=False
    )
    # The caller's binary weights are untouched by the row-standardisation (esda would change them).
    assert gwent_w.transform == "B"
    assert "W01001687" not in gwent_w.neighbors["W01001687"]
    e = gwent_counts["count"].reindex(gwent_w.id_order).to_numpy(dtype=float)
    b = gwent_counts["population"].reindex(gwent_w.id_order).to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Moran_Local_Rate(e, b, copy.deepcopy(gwent_w), permutations=0)
    np.testing.assert_allclose(res["I"].to_numpy(), ref.Is, rtol=1e-12)
    # The analysed value is the Assuncao-Reis EB standardised rate.
    np.testing.assert_allclose(res["std_rate"].to_numpy(), assuncao_rate(e, b))
    # Quadrants recomputed with plain numpy: z-score and row-standardised lag of the z-scores.
    y = res["std_rate"].to_numpy()
    z = (y - y.mean()) / y.std()
    dense = gwent_w.full()[0]
    lag = (dense / dense.sum(axis=1, keepdims=True)) @ z
    expected = np.where(z > 0, np.where(lag > 0, "HH", "HL"), np.where(lag > 0, "LH", "LL"))
    assert list(res["quadrant"]) == list(expected)
    sig = res["p_sim"] <= 0.05
    assert (res["significant"] == sig).all()
    assert (res.loc[sig, "cluster"] == res.loc[sig, "quadrant"]).all()
    assert (res.loc[~sig, "cluster"] == "Not significant").all()
    np.testing.assert_allclose(
        res["rate_per_1000"], 1000 * gwent_counts["count"] / gwent_counts["population"]
    )


def test_local_moran_rate_permutations_equal_esdas(gwent_w, gwent_counts):
    from esda.significance import calculate_significance

    e = gwent_counts["count"].reindex(gwent_w.id_order).to_numpy(dtype=float)
    b = gwent_counts["population"].reindex(gwent_w.id_order).to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.Moran_Local_Rate(e, b, copy.deepcopy(gwent_w), permutations=999, seed=9, n_jobs=1)
    esda_p = calculate_significance(ref.Is, ref.rlisas, alternative="two-sided")
    res = local_moran_rate(
        gwent_counts["count"], gwent_counts["population"], gwent_w, permutations=999, seed=9
    )
    if _esda_draws_like_ours():
        np.testing.assert_allclose(res["p_sim"].to_numpy(), esda_p, rtol=0, atol=1e-12)
    else:
        se = np.sqrt(2 * np.maximum(esda_p * (2 - esda_p), 1e-3) / 999)
        assert (np.abs(res["p_sim"].to_numpy() - esda_p) <= 5 * se + 2 / 1000).all()


def test_local_moran_rate_fdr_is_stricter(gwent_w, gwent_counts):
    plain = local_moran_rate(
        gwent_counts["count"], gwent_counts["population"], gwent_w, permutations=199, fdr=False
    )
    fdr = local_moran_rate(
        gwent_counts["count"], gwent_counts["population"], gwent_w, permutations=199, fdr=True
    )
    assert fdr["significant"].sum() <= plain["significant"].sum()
    np.testing.assert_allclose(fdr["q"], multipletests(plain["p_sim"], method="fdr_bh")[1])


def test_two_sided_pseudo_p_hand_case():
    # One area, R = 9 simulations 1..9, observed 8.5: P = 100 * 8/9; p_low = 100/9.
    # numpy linear percentiles of 1..9: at 100/9 the index is 8 * (1/9) = 0.889 -> 1.889; at
    # 100 - 100/9 the index is 7.111 -> 8.111. Outside: s <= 1.889 (1) and s >= 8.111 (9): 2.
    sims = np.arange(1.0, 10.0)[None, :]
    assert two_sided_pseudo_p(np.array([8.5]), sims)[0] == pytest.approx((2 + 1) / 10)
    # Observed 5 (the median): P = 500/9, p_low = 400/9, L at index 3.556 -> 4.556, U at index 4.444
    # -> 5.444; outside: 1..4 and 6..9, 8 simulations, p = 9/10.
    assert two_sided_pseudo_p(np.array([5.0]), sims)[0] == pytest.approx(9 / 10)


def test_two_sided_pseudo_p_equals_esda_on_real_gwent(gwent_w, gwent_counts):
    from esda.significance import calculate_significance

    x = gwent_counts["count"].reindex(gwent_w.id_order).to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(
            x, copy.deepcopy(gwent_w), transform="B", star=True, permutations=999, seed=7, n_jobs=1
        )
    expected = calculate_significance(g.Gs, g.rGs, alternative="two-sided")
    np.testing.assert_array_equal(two_sided_pseudo_p(g.Gs, g.rGs), expected)
    # Ties and a statistic outside every simulation.
    rng = np.random.default_rng(5)
    sims = rng.integers(0, 6, size=(40, 99)).astype(float)
    obs = rng.integers(-1, 8, size=40).astype(float)
    np.testing.assert_array_equal(
        two_sided_pseudo_p(obs, sims), calculate_significance(obs, sims, alternative="two-sided")
    )


def test_gi_star_leaves_the_callers_weights_alone(gwent_w, gwent_counts):
    from libpysal.weights import fill_diagonal

    ref = gi_star(gwent_counts["count"], gwent_w, permutations=0)
    for w in (copy.deepcopy(gwent_w), fill_diagonal(copy.deepcopy(gwent_w), 1)):
        w.transform = "R"
        before = {k: list(v) for k, v in w.weights.items()}
        res = gi_star(gwent_counts["count"], w, permutations=0)
        assert w.transform == "R"
        assert {k: list(v) for k, v in w.weights.items()} == before
        np.testing.assert_allclose(res["z"], ref["z"], rtol=0, atol=1e-9)
