"""Calibration of the spatial tests: false-positive rates on synthetic null data and power.

The null data are synthetic, with parameters fitted to real police.uk counts: LSOA x month counts are
drawn as gamma-Poisson (negative binomial) with mean mu and variance phi mu, phi the quasi-Poisson
over-dispersion of the real LSOA-month counts (:func:`diogel.analysis.spatial_change.monthly_dispersion`).

* Gi* (one year of counts per LSOA): the LSOA means are the real LSOAs' yearly counts shuffled over the
  map (the real spread of counts, no spatial structure); a false positive is a data set with any
  LSOA binned hot or cold at 95%+ after the FDR adjustment (under a complete null the false discovery
  rate equals this family-wise rate).
* Pattern change: both periods drawn month by month from the same LSOA shares (the real pooled ones)
  and the real monthly totals; false positives: "the pattern moved" (S below its null 2.5% point) and
  any LSOA flagged by the exact tests.
* Emerging hot spots: a 12-month cube with each LSOA at its real mean level (shuffled over the map, or
  in its real place) times the real seasonality, with the real phi; a false positive is a data set with
  any LSOA given a class other than "No pattern detected".

Power: a new hot spot of five contiguous LSOAs (one LSOA and four of its neighbours) with its mean
multiplied by ``effect`` (in the test period, or the last three months of the cube).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from diogel.analysis.emerging import emerging_hot_spots
from diogel.analysis.hotspots import contiguity_weights, gi_star
from diogel.analysis.spatial_change import monthly_dispersion, pattern_change

__all__ = ["Setup", "calibrate_emerging", "calibrate_gi_star", "calibrate_pattern_change", "load_setup"]

HOT = ("Hot spot 99%", "Hot spot 95%")
SIG = (*HOT, "Cold spot 99%", "Cold spot 95%")


@dataclass
class Setup:
    cube: pd.DataFrame  # real LSOA x month counts, 24 months
    w: object  # queen contiguity of the same LSOAs
    phi: float
    planted: list[str]  # five contiguous LSOAs


def load_setup(cube_dir: Path, boundaries_dir: Path) -> Setup:
    cube = pd.read_csv(next(Path(cube_dir).glob("gwent_lsoa21_monthly_counts_*.csv")), index_col=0)
    gdf = gpd.read_file(Path(boundaries_dir) / "gwent_lsoa21_boundaries.geojson")
    w = contiguity_weights(gdf)
    cube = cube.reindex(w.id_order)
    phi = float(np.mean([monthly_dispersion(cube.iloc[:, :12]), monthly_dispersion(cube.iloc[:, 12:])]))
    # A planted cluster: the first LSOA (in code order) with at least four neighbours, and four of them.
    centre = next(i for i in sorted(w.id_order) if len(w.neighbors[i]) >= 4)
    planted = [centre, *sorted(w.neighbors[centre])[:4]]
    return Setup(cube=cube, w=w, phi=phi, planted=planted)


def _nb(rng: np.random.Generator, mu: np.ndarray, phi: float) -> np.ndarray:
    """Gamma-Poisson counts with mean mu and variance phi mu (Poisson when phi = 1)."""
    mu = np.asarray(mu, dtype=float)
    if phi <= 1:
        return rng.poisson(mu)
    shape = mu / (phi - 1)
    lam = rng.gamma(np.maximum(shape, 1e-12), phi - 1)
    return rng.poisson(np.where(mu > 0, lam, 0.0))


def _mc_se(nominal: float, reps: int) -> float:
    """Monte Carlo standard error of a false-positive rate from ``reps`` data sets if the test is at ``nominal``.

    The rate is "at nominal within Monte Carlo error" when it is below nominal + 3 of these (the false
    discovery rate of BH is an upper bound, so rates below nominal are expected).
    """
    return math.sqrt(nominal * (1 - nominal) / reps)


def calibrate_gi_star(setup: Setup, reps: int, permutations: int, seed: int, effect: float = 3.0) -> dict:
    rng = np.random.default_rng(seed)
    ids = list(setup.w.id_order)
    yearly = setup.cube.iloc[:, 12:].sum(axis=1).to_numpy(dtype=float)
    pos = [ids.index(a) for a in setup.planted]
    false_pos = 0
    detected = []
    for _ in range(reps):
        mu = rng.permutation(yearly)
        null = _nb(rng, mu, setup.phi)
        res = gi_star(null.astype(float), setup.w, permutations=permutations, seed=int(rng.integers(1 << 31)))
        false_pos += bool(res["bin"].isin(SIG).any())
        mu_p = mu.copy()
        mu_p[pos] *= effect
        planted = _nb(rng, mu_p, setup.phi)
        rp = gi_star(
            planted.astype(float), setup.w, permutations=permutations, seed=int(rng.integers(1 << 31))
        )
        detected.append(
            rp["bin"].to_numpy()[pos].tolist().count("Hot spot 95%")
            + rp["bin"].to_numpy()[pos].tolist().count("Hot spot 99%")
        )
    rate = false_pos / reps
    p_source = "permutation" if permutations else "analytic"
    return {
        "test": f"Gi* hot/cold bins at 95%, FDR ({p_source} p{f', {permutations} permutations' if permutations else ''})",
        "nominal": 0.05,
        "false_positive_rate": rate,
        "mc_se": _mc_se(0.05, reps),
        "power": float(np.mean(detected)) / len(pos),
        "reps": reps,
        "notes": f"null: real yearly LSOA counts shuffled over the map, NB phi {setup.phi:.2f}; false positive = any LSOA "
        f"binned at 95%+; power = share of 5 planted contiguous LSOAs (mean x{effect:g}) binned hot at 95%+"
        + (
            f"; power is capped by the permutation floor 3/(R+1): BH at 0.05 over {len(ids)} LSOAs needs at least "
            f"{math.ceil(3 / (permutations + 1) * len(ids) / 0.05 - 1e-9)} LSOAs at the floor"
            if permutations
            else "; power not meaningful with this false-positive rate"
        ),
    }


def calibrate_pattern_change(
    setup: Setup, reps: int, seed: int, effect: float = 2.0, n_null: int = 99
) -> list[dict]:
    rng = np.random.default_rng(seed)
    cube = setup.cube.to_numpy(dtype=float)
    shares = cube.sum(axis=1) / cube.sum()
    months = cube.sum(axis=0)
    ids = list(setup.w.id_order)
    pos = [ids.index(a) for a in setup.planted]
    moved = changed = 0
    moved_p = []
    found_p = []
    for r in range(reps):
        for planted in (False, True):
            mu = np.outer(shares, months)
            if planted:
                mu[pos, 12:] *= effect
            y = _nb(rng, mu, setup.phi)
            phi = float(np.mean([monthly_dispersion(y[:, :12]), monthly_dispersion(y[:, 12:])]))
            res = pattern_change(
                pd.DataFrame({"lsoa_code": ids, "count": y[:, :12].sum(axis=1)}),
                pd.DataFrame({"lsoa_code": ids, "count": y[:, 12:].sum(axis=1)}),
                areas=ids, dispersion=phi, n_null=n_null, seed=1000 + r,
            )  # fmt: skip
            if planted:
                moved_p.append(res.moved)
                a = res.areas.set_index("lsoa_code")["exact_change"]
                found_p.append(float((a.loc[setup.planted] == "higher in test").mean()))
            else:
                moved += res.moved
                changed += res.n_changed > 0
    note = (f"null: both 12-month periods from the real pooled LSOA shares and monthly totals, NB phi {setup.phi:.2f}; "
            "the test's null is drawn given each LSOA's count in both periods (beta-binomial)")  # fmt: skip
    r1, r2 = moved / reps, changed / reps
    return [
        {"test": "Pattern change: S below its no-change 2.5% point", "nominal": 0.025, "false_positive_rate": r1,
         "mc_se": _mc_se(0.025, reps), "power": float(np.mean(moved_p)), "reps": reps,
         "notes": f"{note}; {n_null} null simulations per data set, moved when the Monte Carlo p of a low S "
                  f"<= 0.025; power = share of data sets with a planted 5-LSOA new hot spot (x{effect:g}) where it moved"},
        {"test": "Pattern change: per-LSOA exact tests, FDR", "nominal": 0.05, "false_positive_rate": r2,
         "mc_se": _mc_se(0.05, reps), "power": float(np.mean(found_p)), "reps": reps,
         "notes": f"{note}; false positive = any LSOA flagged (q < 0.05); power = share of the 5 planted LSOAs "
                  f"(x{effect:g}) flagged higher"},
    ]  # fmt: skip


EMERGING_PERMUTATIONS = 999


def calibrate_emerging(
    setup: Setup,
    reps: int,
    seed: int,
    effect: float = 3.0,
    months: int = 12,
    levels: str = "shuffled",
    method: str = "residual",
) -> dict:
    """False positives and power of the emerging hot-spot classes at real LSOA levels.

    The null cube: each LSOA's real mean monthly count (2024-07..2025-06) times the real month's share
    (Gwent's seasonality), gamma-Poisson with the real phi; no cluster and no change. ``levels``:
    "shuffled" puts the real levels on the map at random, "real" keeps each LSOA's own level in its
    place (the real town-centre clusters, still with no change in time). ``method``: "residual" is
    the report's (space-time Gi* of the Pearson residuals, whole series permuted, normal p of z_sim,
    FDR over the cube); "esri" is ESRI's normal p-values on the counts, which class busy LSOAs.
    Power: five contiguous LSOAs with their mean multiplied by ``effect`` in the last three months, on
    the shuffled levels; a planted LSOA counts as found when classed new, consecutive or sporadic hot.
    """
    rng = np.random.default_rng(seed)
    ids = list(setup.w.id_order)
    pos = [ids.index(a) for a in setup.planted]
    real = setup.cube.to_numpy(dtype=float)[:, -months:]
    level = real.mean(axis=1)
    season = real.sum(axis=0) / real.sum(axis=0).mean()
    cols = [f"m{t:02d}" for t in range(months)]
    options = {"permutations": EMERGING_PERMUTATIONS, "residuals": True} if method == "residual" else {}
    false_pos = 0
    found = []
    emerging = ("New hot spot", "Consecutive hot spot", "Sporadic hot spot")
    for _ in range(reps):
        for planted in (False, True):
            placed = level if (levels == "real" and not planted) else rng.permutation(level)
            mu = np.outer(placed, season)
            if planted:
                mu[np.ix_(pos, range(months - 3, months))] *= effect
            y = _nb(rng, mu, setup.phi)
            classes, _ = emerging_hot_spots(
                pd.DataFrame(y, index=ids, columns=cols), setup.w, seed=int(rng.integers(1 << 31)), **options
            )
            pat = classes.set_index("lsoa_code")["pattern"]
            if planted:
                found.append(float(pat.loc[setup.planted].isin(emerging).mean()))
            else:
                false_pos += bool((pat != "No pattern detected").any())
    name = (
        "Emerging hot spots (space-time Gi* of residuals, permutation z, FDR over the cube)"
        if method == "residual"
        else "Emerging hot spots (ESRI: space-time Gi* of counts, normal p, FDR over the cube)"
    )
    where = "shuffled over the map" if levels == "shuffled" else "in their real places"
    return {
        "test": f"{name}: any class, real LSOA levels {where}", "nominal": 0.05,
        "false_positive_rate": false_pos / reps, "mc_se": _mc_se(0.05, reps), "power": float(np.mean(found)),
        "reps": reps,
        "notes": f"null: {len(ids)} LSOAs x {months} months, each LSOA's real mean monthly count {where} times the "
                 f"real monthly seasonality, NB phi {setup.phi:.2f}, no cluster and no change; false positive = any "
                 f"LSOA classed; power = share of 5 planted contiguous LSOAs (x{effect:g} in the last 3 months, levels "
                 "shuffled) classed new, consecutive or sporadic hot spot"
                 + (f"; {EMERGING_PERMUTATIONS} permutations of whole LSOA series" if method == "residual" else
                    "; ESRI's normal p-values class busy LSOAs through their own months"),
    }  # fmt: skip
