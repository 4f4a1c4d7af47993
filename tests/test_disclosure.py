"""Statistical disclosure control: primary and secondary suppression, rates, long frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import null_space

from diogel.disclosure import suppress, suppress_long, suppress_rates


def _with_margins(t: pd.DataFrame) -> pd.DataFrame:
    out = t.copy()
    out["Total"] = out.sum(axis=1)
    out.loc["Total"] = out.sum(axis=0)
    return out


def _lines(shape: tuple[int, int], margins: bool, present: np.ndarray):
    """Every row and column as (parts, total or None), written independently of the module."""
    n_rows, n_cols = shape
    r, c = (n_rows - 1, n_cols - 1) if margins else (n_rows, n_cols)
    lines = []
    for i in range(n_rows if margins else r):
        lines.append(([(i, j) for j in range(c) if present[i, j]], (i, c) if margins else None))
    for j in range(n_cols if margins else c):
        lines.append(([(i, j) for i in range(r) if present[i, j]], (r, j) if margins else None))
    return lines


def _recoverable(mask: np.ndarray, margins: bool, present: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed values fixed exactly by the published values and the line equations (scipy null space)."""
    hidden = [tuple(map(int, p)) for p in np.argwhere(mask)]
    if not hidden:
        return []
    idx = {p: k for k, p in enumerate(hidden)}
    rows = []
    for parts, total in _lines(mask.shape, margins, present):
        coef = np.zeros(len(hidden))
        for p in parts:
            if p in idx:
                coef[idx[p]] += 1
        if total is not None and total in idx:
            coef[idx[total]] -= 1
        if coef.any():
            rows.append(coef)
    if not rows:
        return hidden
    basis = null_space(np.vstack(rows))
    norms = np.linalg.norm(basis, axis=1) if basis.size else np.zeros(len(hidden))
    return [p for p, n in zip(hidden, norms, strict=True) if n < 1e-9]


def test_primary_suppression_and_zeros():
    t = pd.DataFrame({"x": [0, 1, 4, 5], "y": [12, 30, 7, 2]}, index=list("abcd"))
    r = suppress(t, secondary=False)
    assert r.primary.to_numpy().tolist() == [[False, False], [True, False], [True, False], [False, True]]
    assert r.table.loc["a", "x"] == 0  # a zero is shown
    assert r.table.loc["d", "x"] == 5  # 5 is not below the threshold
    assert r.n_secondary == 0
    assert r.rule.startswith("Counts from 1 to 4 are suppressed (primary suppression); zeros are shown.")
    z = suppress(t, secondary=False, suppress_zero=True)
    assert z.primary.loc["a", "x"]
    assert z.rule.startswith("Counts from 0 to 4 are suppressed")
    t10 = suppress(t, threshold=10, secondary=False)
    assert t10.primary.loc["c", "y"] and t10.primary.loc["d", "x"] and not t10.primary.loc["a", "y"]
    assert suppress(t, secondary=False).formatted().loc["b", "x"] == "*"


def test_secondary_suppression_by_hand():
    t = pd.DataFrame([[10, 3, 12], [8, 9, 15], [20, 7, 2]], index=list("abc"), columns=list("xyz"))
    r = suppress(t)
    # Primary: (a,y) = 3 and (c,z) = 2. Row a then has one hidden value; of its published cells, (a,z) = 12
    # also lies in column z, which has one hidden value, so it protects two lines at once and is chosen
    # over the smaller (a,x) = 10. Likewise row c takes (c,y) = 7 (column y). Result: a 2 x 2 rectangle.
    assert r.primary.to_numpy().sum() == 2
    assert sorted(zip(*np.nonzero(r.secondary.to_numpy()), strict=True)) == [(0, 2), (2, 1)]
    assert r.formatted().to_numpy().tolist() == [["10", "*", "*"], ["8", "9", "15"], ["20", "*", "*"]]
    assert "A further 2 cells were suppressed" in r.rule


def test_secondary_with_margins_and_single_cell_rows():
    t = _with_margins(pd.DataFrame({"n": [3, 10, 12, 20]}, index=list("abcd")))
    r = suppress(t)
    assert r.has_margins
    # Row a has one cell (3) and its total (3): the total must go too. The total column then has one hidden
    # value, so the smallest other row total (b = 10) goes, and with it cell (b, n) so column n has two.
    assert r.suppressed.to_numpy().tolist() == [
        [True, True],
        [True, True],
        [False, False],
        [False, False],
        [False, False],
    ]
    assert r.table.loc["Total", "Total"] == 45


def test_margins_must_add_up():
    t = _with_margins(pd.DataFrame({"x": [1, 2], "y": [3, 4]}))
    t.iloc[0, -1] = 99
    with pytest.raises(ValueError, match="row '0': total 99 is not the sum of its cells \\(4\\)"):
        suppress(t, margins=True)


def test_audit_protects_a_bridge_the_line_rule_misses():
    t = pd.DataFrame([[3, 4, 9, 13, 4], [9, 7, 8, 6, 8], [8, 7, 3, 5, 13], [3, 10, 6, 9, 6], [9, 3, 4, 3, 9]])
    without = suppress(t, audit=False)
    present = np.ones(t.shape, dtype=bool)
    # Every line has two hidden cells, yet the two hidden cells of column 1 are a bridge between the blocks
    # rows {0,3} x cols {0,4} and rows {2,4} x cols {2,3}. E.g. (0,1): row 0 hides 33 - (9 + 13) = 11;
    # row 3 hides 34 - 25 = 9 = (3,0) + (3,4); column 0 hides 32 - 26 = 6 = (0,0) + (3,0); column 4 hides
    # 40 - 30 = 10 = (0,4) + (3,4); so (0,0) + (0,4) = 6 + 10 - 9 = 7 and (0,1) = 11 - 7 = 4.
    assert _recoverable(without.suppressed.to_numpy(), False, present) == [(0, 1), (4, 1)]
    with_audit = suppress(t)
    assert _recoverable(with_audit.suppressed.to_numpy(), False, present) == []
    assert with_audit.n_secondary > without.n_secondary


@pytest.mark.parametrize("margins", [False, True])
def test_property_no_suppressed_value_recoverable(margins):
    rng = np.random.default_rng(20250401 + margins)
    for _ in range(150):
        r, c = rng.integers(2, 8, size=2)
        counts = rng.poisson(rng.uniform(1, 15), size=(r, c)).astype(float)
        if margins and rng.random() < 0.5:
            counts[rng.random((r, c)) < 0.1] = np.nan  # structural blanks
        t = pd.DataFrame(counts)
        if margins:
            t["Total"] = t.sum(axis=1)
            t.loc["Total"] = t.sum(axis=0)
        res = suppress(t, threshold=5, margins=margins)
        mask = res.suppressed.to_numpy()
        values = t.to_numpy(dtype=float)
        present = ~np.isnan(values)
        assert not (mask & ~present).any()
        # Every primary cell is hidden; every published value is unchanged.
        assert mask[(values >= 1) & (values < 5)].all()
        shown = res.table.to_numpy(dtype=float, na_value=np.nan)
        np.testing.assert_array_equal(shown[~mask & present], values[~mask & present])
        # Each row and column with a hidden value has at least two (counting its total when shown).
        for parts, total in _lines(values.shape, margins, present):
            members = parts + ([total] if total is not None else [])
            n_hidden = sum(mask[p] for p in members)
            assert n_hidden != 1, (t, mask)
        # And, stronger, no hidden value can be solved from the published ones.
        assert _recoverable(mask, margins, present) == [], (t, mask)
        assert res.notes == []


def test_rates_are_suppressed_with_their_counts():
    counts = pd.DataFrame({"burglary": [2, 40, 15], "robbery": [12, 6, 1]}, index=["W1", "W2", "W3"])
    population = pd.Series([1500, 2000, 1800], index=counts.index)
    rates = counts.div(population, axis=0) * 1000
    res = suppress(counts)
    safe = suppress_rates(rates, res)
    assert safe.isna().equals(res.suppressed)
    assert safe.loc["W2", "burglary"] == pytest.approx(20.0)  # 40 / 2000 * 1000
    series = suppress_rates(rates["robbery"], res.suppressed["robbery"])
    assert series.isna().tolist() == res.suppressed["robbery"].tolist()
    with pytest.raises(ValueError, match="labels the suppression mask lacks"):
        suppress_rates(rates.rename(index={"W1": "W9"}), res)


def test_rates_without_margins_use_a_table_with_margins():
    counts = _with_margins(pd.DataFrame({"a": [3, 20], "b": [30, 40]}, index=["x", "y"]))
    res = suppress(counts)
    rates = counts.iloc[:-1, :-1] / 100
    safe = suppress_rates(rates, res)
    assert safe.isna().to_numpy().tolist() == res.suppressed.iloc[:-1, :-1].to_numpy().tolist()
    assert safe.isna().to_numpy().sum() == 4  # 3 is primary; the 2 x 2 interior leaves no other choice


def test_long_frame_matches_the_wide_table_and_groups_separately():
    long = pd.DataFrame(
        {
            "month": ["2024-01"] * 6 + ["2024-02"] * 6,
            "lsoa_code": ["A", "A", "B", "B", "C", "C"] * 2,
            "crime_type": ["Burglary", "Robbery"] * 6,
            "count": [10, 3, 8, 9, 20, 7, 10, 30, 8, 9, 20, 7],
        }
    )
    out = suppress_long(long, rows="lsoa_code", cols="crime_type", by=["month"])
    jan = out[out.month == "2024-01"]
    wide = suppress(
        long[long.month == "2024-01"].pivot(index="lsoa_code", columns="crime_type", values="count")
    )
    assert jan.suppressed.tolist() == [
        bool(wide.suppressed.loc[r, c]) for r, c in zip(jan.lsoa_code, jan.crime_type, strict=True)
    ]
    # Primary (A, Robbery) = 3. Row A: its only other cell (A, Burglary) = 10. Column Burglary then has one
    # hidden value: neither (B, Bu) = 8 nor (C, Bu) = 20 helps another line, so the smaller, 8. Column
    # Robbery: (B, R) = 9 also completes row B, so it is preferred to the smaller (C, R) = 7.
    assert jan.suppression.tolist() == ["secondary", "primary", "secondary", "secondary", "", ""]
    assert jan["count"].isna().tolist() == jan.suppressed.tolist()
    assert not out[out.month == "2024-02"].suppressed.any()  # nothing small in February

    one = suppress_long(pd.DataFrame({"lsoa_code": list("ABCD"), "count": [2, 50, 30, 9]}), rows="lsoa_code")
    # One line with total known: 2 is primary, the smallest other (9) is secondary.
    assert one.suppression.tolist() == ["primary", "", "", "secondary"]
