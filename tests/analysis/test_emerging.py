"""Tests for diogel.analysis.emerging: Mann-Kendall and emerging hot spot classes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from diogel.analysis.emerging import classify_series, emerging_hotspot_classes, mann_kendall

# ---------------------------------------------------------------------------------------------
# Mann-Kendall
# ---------------------------------------------------------------------------------------------


def test_mann_kendall_hand_computed_with_a_tie():
    # x = [1, 3, 2, 5, 5], pairs i<j and sign(x_j - x_i):
    #   from 1: (1,3)+ (1,2)+ (1,5)+ (1,5)+      -> +4
    #   from 3: (3,2)- (3,5)+ (3,5)+             -> +1
    #   from 2: (2,5)+ (2,5)+                    -> +2
    #   from 5: (5,5) 0                          ->  0
    # S = 7
    # var S = [5*4*15 - 2*1*9] / 18 = (300 - 18) / 18 = 15.666...
    # Z = (7 - 1) / sqrt(15.666...) = 1.51587...
    # p = 2 * (1 - Phi(1.51587)) = 0.12956...
    # tau-b = 7 / sqrt(10 * (10 - 1)) = 0.73786...
    mk = mann_kendall([1, 3, 2, 5, 5])
    assert mk.n == 5
    assert mk.S == 7
    assert mk.var_S == pytest.approx(282 / 18)
    z = mk.Z
    assert z == pytest.approx(6 / math.sqrt(282 / 18))
    assert z == pytest.approx(1.515873, abs=1e-6)
    assert mk.p == pytest.approx(2 * stats.norm.sf(6 / math.sqrt(282 / 18)))
    assert mk.p == pytest.approx(0.12956, abs=1e-4)
    assert mk.tau == pytest.approx(7 / math.sqrt(90))
    assert mk.trend == "no trend"


@pytest.mark.parametrize(
    "series",
    [
        [1, 3, 2, 5, 5],
        [4.0, 4.0, 2.0, 7.5, 1.0, 1.0, 1.0, 9.0, 3.0, 6.0, 6.0, 0.5],
        list(np.random.default_rng(7).poisson(5, size=30)),
    ],
)
def test_mann_kendall_matches_scipy_kendalltau(series):
    t = np.arange(len(series))
    mk = mann_kendall(series)
    ref = stats.kendalltau(t, series, method="asymptotic")
    assert mk.tau == pytest.approx(ref.statistic, abs=1e-12)
    # scipy's asymptotic test uses S / sqrt(var S) with the same tie correction (no continuity
    # correction, and time has no ties), so its p-value pins down S and var_S together.
    assert ref.pvalue == pytest.approx(2 * stats.norm.sf(abs(mk.S) / math.sqrt(mk.var_S)), rel=1e-9)


def test_mann_kendall_monotonic_series_and_sign():
    # Strictly increasing n=10: S = 45, var S = 10*9*25/18 = 125, Z = 44/sqrt(125) = 3.9355
    up = mann_kendall(np.arange(10.0))
    assert up.S == 45 and up.var_S == pytest.approx(125.0)
    z_up = up.Z
    assert z_up == pytest.approx(44 / math.sqrt(125))
    assert up.trend == "increasing" and up.tau == pytest.approx(1.0)
    down = mann_kendall(np.arange(10.0)[::-1])
    z_down = down.Z
    assert down.S == -45 and z_down == pytest.approx(-44 / math.sqrt(125))
    assert down.trend == "decreasing"


def test_mann_kendall_degenerate_series():
    flat = mann_kendall([2, 2, 2, 2])
    assert flat.S == 0 and flat.Z == 0 and flat.p == 1.0 and flat.trend == "no trend"
    # NaNs are dropped: [1, nan, 2, 3] is tested as [1, 2, 3], S = 3
    assert mann_kendall([1, float("nan"), 2, 3]).S == 3


# ---------------------------------------------------------------------------------------------
# Emerging hot spot classes: one constructed 10-month series per class
# ---------------------------------------------------------------------------------------------

SIG, NS = 0.01, 0.5


def _series(pattern: str, z_hot=3.0, z_cold=-3.0, z_none=0.5):
    """'H' hot, 'C' cold, '.' not significant -> (z, p)."""
    z = [z_hot if c == "H" else z_cold if c == "C" else z_none for c in pattern]
    p = [SIG if c in "HC" else NS for c in pattern]
    return z, p


def _flip(z):
    return [-v for v in z]


@pytest.mark.parametrize(
    "pattern,expected",
    [
        (".........H", "New hot spot"),
        (".......HHH", "Consecutive hot spot"),
        ("..H..H...H", "Sporadic hot spot"),
        (".C...H...H", "Oscillating hot spot"),
        ("HHHHHHHHH.", "Historical hot spot"),
        ("..........", "No pattern detected"),
        # 9 of 10 hot with a gap, final hot: at least 90% -> persistent (z constant, no trend)
        ("HHHH.HHHHH", "Persistent hot spot"),
        # 8 of 10 hot with a gap, final hot: below 90% and hot before the final run -> sporadic
        ("HH..HHHHHH", "Sporadic hot spot"),
        # a run from month 3 to the end is 8 of 10 (< 90%) and never hot before -> consecutive
        ("..HHHHHHHH", "Consecutive hot spot"),
        # cold earlier, hot only in the final month: "new" takes precedence over "oscillating"
        ("C........H", "New hot spot"),
        # hot 80% but not in the final month: not historical
        ("HHHHHHHH..", "No pattern detected"),
    ],
)
def test_pattern_classes_hot_and_mirrored_cold(pattern, expected):
    z, p = _series(pattern)
    assert classify_series(z, p) == expected
    mirrored = pattern.replace("H", "x").replace("C", "H").replace("x", "C")
    zc, pc = _series(mirrored)
    assert classify_series(zc, pc) == expected.replace("hot", "cold")


def test_intensifying_persistent_diminishing_use_the_mann_kendall_trend():
    p = [SIG] * 10
    rising = list(np.linspace(2.5, 6.0, 10))
    falling = rising[::-1]
    steady = [3.0, 4.0] * 5
    assert mann_kendall(rising).trend == "increasing"
    assert mann_kendall(falling).trend == "decreasing"
    # [3,4]*5: S = 5 (hand: each 3 at position 0,2,4,6,8 has 5,4,3,2,1 later 4s -> +15; each 4 at
    # 1,3,5,7,9 has 4,3,2,1,0 later 3s -> -10; S = +5), var = (10*9*25 - 2*(5*4*15))/18 = 1650/18,
    # Z = 4 / sqrt(91.67) = 0.418 -> p = 0.68, no trend
    assert mann_kendall(steady).S == 5
    assert mann_kendall(steady).var_S == pytest.approx(1650 / 18)
    assert mann_kendall(steady).trend == "no trend"
    assert classify_series(rising, p) == "Intensifying hot spot"
    assert classify_series(falling, p) == "Diminishing hot spot"
    assert classify_series(steady, p) == "Persistent hot spot"
    # Cold spots intensify as z becomes more negative, i.e. a decreasing z trend
    assert classify_series(_flip(rising), p) == "Intensifying cold spot"
    assert classify_series(_flip(falling), p) == "Diminishing cold spot"
    assert classify_series(_flip(steady), p) == "Persistent cold spot"


def test_significance_needs_both_sign_and_p():
    # z > 0 but p = 0.06 at alpha 0.05 is not hot; at alpha 0.1 it is
    z = [0.5] * 9 + [1.9]
    p = [0.5] * 9 + [0.06]
    assert classify_series(z, p) == "No pattern detected"
    assert classify_series(z, p, alpha=0.1) == "New hot spot"


def test_emerging_hotspot_classes_frame():
    months = pd.date_range("2024-01-01", periods=10, freq="MS")
    cases = {
        "W01000001": ".........H",
        "W01000002": ".......HHH",
        "W01000003": "CCCCCCCCC.",
        "W01000004": "..........",
    }
    rows = []
    for code, pattern in cases.items():
        z, p = _series(pattern)
        rows += [
            {"lsoa_code": code, "month": m, "z": zi, "p": pi} for m, zi, pi in zip(months, z, p, strict=True)
        ]
    gi = pd.DataFrame(rows).sample(frac=1.0, random_state=3)  # order of rows must not matter
    out = emerging_hotspot_classes(gi).set_index("lsoa_code")
    assert out.loc["W01000001", "pattern"] == "New hot spot"
    assert out.loc["W01000002", "pattern"] == "Consecutive hot spot"
    assert out.loc["W01000003", "pattern"] == "Historical cold spot"
    assert out.loc["W01000004", "pattern"] == "No pattern detected"
    assert out.loc["W01000002", "n_hot"] == 3 and out.loc["W01000003", "n_cold"] == 9
    assert bool(out.loc["W01000001", "final_hot"]) and not bool(out.loc["W01000003", "final_cold"])
    assert list(out.columns[:2]) == ["pattern", "n_months"]


def test_emerging_hotspot_classes_rejects_incomplete_panel():
    months = pd.date_range("2024-01-01", periods=3, freq="MS")
    gi = pd.DataFrame(
        {
            "lsoa_code": ["A", "A", "A", "B", "B"],
            "month": list(months) + list(months[:2]),
            "z": [1.0] * 5,
            "p": [0.5] * 5,
        }
    )
    with pytest.raises(ValueError, match="complete panel"):
        emerging_hotspot_classes(gi)
    with pytest.raises(ValueError, match="missing column"):
        emerging_hotspot_classes(gi.drop(columns="p"))


# ------------------------------------------------------------------------------------------------
# Space-time Gi* and ESRI's Emerging Hot Spot Analysis on hand-built (synthetic) cubes
# ------------------------------------------------------------------------------------------------


def _brute_force_space_time_z(x: np.ndarray, adj: np.ndarray, lag: int) -> np.ndarray:
    """The Getis-Ord formula on the full (areas x months)^2 binary space-time weight matrix."""
    from diogel.analysis.hotspots import gi_star_textbook

    n, t_len = x.shape
    big = np.zeros((n * t_len, n * t_len))
    for i in range(n):
        for t in range(t_len):
            for j in range(n):
                if i != j and not adj[i, j]:
                    continue
                for s in range(max(0, t - lag), t + 1):
                    big[i * t_len + t, j * t_len + s] = 1.0
    return gi_star_textbook(x.ravel(), big).reshape(n, t_len)


@pytest.mark.parametrize("lag", [0, 1, 2])
def test_space_time_gi_star_equals_the_formula_on_the_full_cube(lag):
    from libpysal.weights import lat2W

    from diogel.analysis.emerging import space_time_gi_star

    w = lat2W(3, 3, rook=False)
    rng = np.random.default_rng(3)
    x = rng.poisson(5, size=(9, 6)).astype(float)  # synthetic counts
    cube = pd.DataFrame(x, index=w.id_order, columns=[f"2024-{m:02d}" for m in range(1, 7)])
    got = space_time_gi_star(cube, w, time_lag=lag)
    adj = w.full()[0]
    expected = _brute_force_space_time_z(x, adj, lag)
    np.testing.assert_allclose(got["z"].to_numpy().reshape(9, 6), expected, rtol=1e-12)
    assert list(got["month"].iloc[:6]) == list(cube.columns)
    # Lag 0 in a single month is the ordinary Gi* of that month's counts on a one-month cube.
    if lag == 0:
        from diogel.analysis.hotspots import gi_star

        one = space_time_gi_star(cube.iloc[:, [2]], w, time_lag=0)
        np.testing.assert_allclose(one["z"], gi_star(x[:, 2], w, permutations=0)["z"], rtol=1e-12)


def test_emerging_hot_spots_on_a_hand_built_cube():
    """A synthetic 6 x 6 grid over 12 months: background 9-11, with planted blocks of 2 x 2 areas."""
    from libpysal.weights import lat2W

    from diogel.analysis.emerging import emerging_hot_spots

    w = lat2W(6, 6, rook=False)
    x = np.full((36, 12), 10.0) + (np.add.outer(np.arange(36), np.arange(12)) % 3 - 1)
    for a in (0, 1, 6, 7):
        x[a, :] += 30  # high in every month
    for a in (28, 29, 34, 35):
        x[a, -1] += 60  # high in the final month only
    for a in (4, 5, 10, 11):
        x[a, -3:] += 40  # high in the last three months
    for a in (24, 25, 30, 31):
        x[a, :-1] += 30  # high in every month but the last
    cube = pd.DataFrame(x, index=w.id_order, columns=[f"2024-{m:02d}" for m in range(1, 13)])
    classes, bins = emerging_hot_spots(cube, w)
    got = classes.set_index("lsoa_code")["pattern"]
    assert got[0] == got[1] == got[6] == "Persistent hot spot"
    assert got[4] == got[5] == got[10] == got[11] == "Consecutive hot spot"
    assert got[35] == got[34] == got[29] == "New hot spot"
    assert got[30] == "Historical hot spot"
    # Areas two steps or more from every planted block stay unclassified.
    for a in (14, 15, 20, 21):
        assert got[a] == "No pattern detected"
    # FDR: q is the Benjamini-Hochberg adjustment over all 432 bins of the cube.
    from statsmodels.stats.multitest import multipletests

    np.testing.assert_allclose(bins["q"], multipletests(bins["p"], method="fdr_bh")[1], rtol=1e-10)
    # The same cube mirrored (low blocks) gives the cold classes.
    cold, _ = emerging_hot_spots(pd.DataFrame(60 - x, index=cube.index, columns=cube.columns), w)
    cg = cold.set_index("lsoa_code")["pattern"]
    assert cg[0] == "Persistent cold spot"
    assert cg[35] == "New cold spot"
    assert cg[4] == "Consecutive cold spot"


def test_pearson_residuals_by_hand():
    from diogel.analysis.emerging import pearson_residuals

    cube = pd.DataFrame([[2.0, 6.0], [8.0, 4.0], [0.0, 0.0]], index=["a", "b", "c"], columns=["m1", "m2"])
    got = pearson_residuals(cube)
    # Totals: rows 8, 12, 0; months 10, 10; all 20. e(a, m1) = 8 * 10 / 20 = 4: (2 - 4) / 2 = -1.
    assert got.loc["a", "m1"] == pytest.approx(-1.0)
    assert got.loc["a", "m2"] == pytest.approx(1.0)
    # e(b, m1) = 6: (8 - 6) / sqrt(6).
    assert got.loc["b", "m1"] == pytest.approx(2 / np.sqrt(6))
    # An area with no records has e = 0 and residual 0.
    assert (got.loc["c"] == 0).all()


def test_space_time_permutation_equals_a_hand_loop_over_the_same_draws():
    """Every bin's simulated neighbour sums rebuilt one by one from esda's draws (conditional_permutation_ids)."""
    from libpysal.weights import lat2W
    from scipy.stats import norm

    from diogel.analysis.emerging import space_time_permutation
    from diogel.analysis.hotspots import conditional_permutation_ids

    w = lat2W(4, 4, rook=False)
    x = np.random.default_rng(8).poisson(6, size=(16, 5)).astype(float)  # synthetic counts
    cube = pd.DataFrame(x, index=w.id_order, columns=[f"m{t}" for t in range(5)])
    perms, seed, lag = 99, 7, 1
    got = space_time_permutation(cube, w, time_lag=lag, permutations=perms, seed=seed)
    adj = w.full()[0] != 0
    n, t_len = x.shape
    own = np.array([[x[i, max(0, t - lag) : t + 1].sum() for t in range(t_len)] for i in range(n)])
    card = adj.sum(axis=1)
    ids = conditional_permutation_ids(n, int(card.max()), perms, seed)
    z = np.zeros((n, t_len))
    p = np.zeros((n, t_len))
    for i in range(n):
        nbrs = np.flatnonzero(adj[i])
        for t in range(t_len):
            obs = own[nbrs, t].sum()
            sims = []
            for r in range(perms):
                drawn = [j if j < i else j + 1 for j in ids[r, : card[i]]]
                sims.append(own[drawn, t].sum())
            sims = np.array(sims)
            extreme = min((sims >= obs).sum(), (sims <= obs).sum())
            p[i, t] = min(1.0, 2 * (1 + extreme) / (perms + 1))
            z[i, t] = (obs - sims.mean()) / sims.std()
    np.testing.assert_allclose(got["z_sim"].to_numpy().reshape(n, t_len), z, rtol=1e-10)
    np.testing.assert_allclose(got["p_sim"].to_numpy().reshape(n, t_len), p, rtol=1e-12)
    np.testing.assert_allclose(got["p_z_sim"], 2 * norm.sf(np.abs(z.ravel())), rtol=1e-10)


def test_residual_emerging_hot_spots_ignore_a_busy_area_and_find_a_new_cluster():
    """ESRI's normal p-values class an area that is merely busy; the residual, permuted version does not."""
    from libpysal.weights import lat2W

    from diogel.analysis.emerging import emerging_hot_spots

    w = lat2W(8, 8, rook=False)
    rng = np.random.default_rng(21)
    mu = np.full((64, 12), 10.0)
    mu[0, :] = 200.0  # one busy area, the same every month, neighbours ordinary
    for a in (36, 37, 44, 45):
        mu[a, -3:] = 60.0  # a new cluster in the last three months
    cube = pd.DataFrame(
        rng.poisson(mu).astype(float), index=w.id_order, columns=[f"m{t:02d}" for t in range(12)]
    )
    esri = emerging_hot_spots(cube, w)[0].set_index("lsoa_code")["pattern"]
    assert esri[0] != "No pattern detected"
    classes, bins = emerging_hot_spots(cube, w, permutations=999, seed=5, residuals=True)
    got = classes.set_index("lsoa_code")["pattern"]
    assert got[0] == "No pattern detected"
    for a in (36, 37, 44, 45):
        assert got[a] in ("New hot spot", "Consecutive hot spot")
    # Areas far from the cluster have no class.
    assert got[[2, 3, 10, 11, 58, 59]].eq("No pattern detected").all()
    assert {"count", "residual", "z_sim", "p_sim", "p_z_sim", "q"} <= set(bins.columns)


def test_residual_emerging_hot_spots_of_a_single_month_find_nothing():
    from libpysal.weights import lat2W

    from diogel.analysis.emerging import emerging_hot_spots

    w = lat2W(3, 3, rook=False)
    cube = pd.DataFrame(np.arange(9.0)[:, None] + 1, index=w.id_order, columns=["2024-06"])
    classes, bins = emerging_hot_spots(cube, w, permutations=99, residuals=True)
    assert (classes["pattern"] == "No pattern detected").all()
    assert (bins["q"] == 1.0).all() and len(bins) == 9
