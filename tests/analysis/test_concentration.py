"""Tests for diogel.analysis.concentration: top-x% shares (ceil rule) and the Gini coefficient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diogel.analysis.concentration import concentration, gini, top_share

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "analysis_a"


def test_top_share_hand_case():
    # Counts 1..20, total 210. Top 5%: ceil(0.05 * 20) = 1 area -> 20 / 210.
    # Top 10%: ceil(2.0) = 2 areas -> (20 + 19) / 210 = 39 / 210.
    x = np.arange(1, 21)
    assert top_share(x, 0.05) == (1, pytest.approx(20 / 210))
    assert top_share(x, 0.10) == (2, pytest.approx(39 / 210))


def test_top_share_ceil_rule():
    # 21 areas: 0.05 * 21 = 1.05 -> ceil -> 2 areas (floor would give 1).
    x = np.array([100, 50] + [1] * 19)
    k, share = top_share(x, 0.05)
    assert k == 2
    assert share == pytest.approx(150 / 169)
    # 100 areas: 0.05 * 100 is 5.000000000000001 in floating point; still 5 areas, not 6.
    assert top_share(np.ones(100), 0.05)[0] == 5
    # Fewer than 20 areas: the top 5% is still one area.
    assert top_share([3, 1, 0], 0.05) == (1, pytest.approx(0.75))


def test_gini_hand_cases():
    # [1, 2, 3, 4]: sum_i i x_(i) = 1 + 4 + 9 + 16 = 30; G = 2 * 30 / (4 * 10) - 5/4 = 0.25.
    # Check by pairs: sum over ordered pairs |xi - xj| = 2 * (1+2+3+1+2+1) = 20; 20 / (2 * 16 * 2.5) = 0.25.
    assert gini([4, 1, 3, 2]) == pytest.approx(0.25)
    # All crime in one of four areas: G = (N - 1) / N = 0.75.
    assert gini([0, 0, 10, 0]) == pytest.approx(0.75)
    assert gini([5, 5, 5]) == pytest.approx(0.0)
    assert np.isnan(gini([0, 0]))


def test_real_gwent_concentration_matches_pairwise_definition():
    counts = pd.read_csv(FIX / "gwent_lsoa21_counts_2024-07_2025-06.csv")["count"].to_numpy(dtype=float)
    res = concentration(counts)
    assert res.n_areas == 374
    assert res.total == 69462
    # Mean absolute difference form, computed independently: sum |xi - xj| / (2 N^2 mean).
    pairwise = np.abs(counts[:, None] - counts[None, :]).sum() / (2 * counts.size**2 * counts.mean())
    assert res.gini == pytest.approx(pairwise, rel=1e-12)
    shares = res.shares.set_index("fraction")
    # 374 LSOAs: top 5% = ceil(18.7) = 19 areas, top 10% = ceil(37.4) = 38 areas.
    assert shares.loc[0.05, "n_top_areas"] == 19
    assert shares.loc[0.10, "n_top_areas"] == 38
    top19 = np.sort(counts)[::-1][:19].sum()
    assert shares.loc[0.05, "share"] == pytest.approx(top19 / counts.sum())
    assert shares.loc[0.05, "share"] < shares.loc[0.10, "share"] < 1


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="missing"):
        gini([1, np.nan])
    with pytest.raises(ValueError, match="non-negative"):
        top_share([1, -1], 0.1)
    with pytest.raises(ValueError, match="fraction"):
        top_share([1, 2], 0)
