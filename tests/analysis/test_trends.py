"""Tests for diogel.analysis.trends: rates, period comparison, control limits, supply gaps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.rates import confint_poisson

from diogel.analysis.trends import (
    benjamini_hochberg,
    compare_monthly,
    compare_monthly_family,
    compare_periods,
    comparison_gap_check,
    control_limits,
    detect_supply_gaps,
    poisson_ci,
    rates_per_1000,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "analysis_a"


@pytest.fixture(scope="module")
def gwent_by_type() -> pd.DataFrame:
    return pd.read_csv(FIX / "gwent_monthly_by_type_2022-07_2025-06.csv", parse_dates=["month"])


@pytest.fixture(scope="module")
def gwent_totals(gwent_by_type: pd.DataFrame) -> pd.DataFrame:
    return gwent_by_type.groupby(["force", "month"], as_index=False)["count"].sum()


# ------------------------------------------------------------------------------------------------
# rates_per_1000
# ------------------------------------------------------------------------------------------------


def test_poisson_ci_hand_and_statsmodels():
    # k = 0: lower 0, upper = chi2(0.975, 2) / 2 = -ln(0.025) = 3.68888 (closed form).
    lo, hi = poisson_ci([0, 10])
    assert lo[0] == 0.0
    assert hi[0] == pytest.approx(-math.log(0.025), rel=1e-12)
    # k = 10: the tabulated exact (Garwood) limits are 4.795 and 18.390.
    assert lo[1] == pytest.approx(4.7954, abs=1e-4)
    assert hi[1] == pytest.approx(18.3904, abs=1e-4)
    for k in (1, 7, 250):
        ref = confint_poisson(k, 1, method="exact-c")
        got = poisson_ci(k)
        assert float(got[0]) == pytest.approx(ref[0], rel=1e-10)
        assert float(got[1]) == pytest.approx(ref[1], rel=1e-10)


def test_rates_per_1000_hand_case():
    counts = pd.DataFrame(
        {
            "lsoa_code": ["A", "A", "C"],
            "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-01"]),
            "count": [4, 6, 3],
        }
    )
    population = pd.DataFrame({"lsoa_code": ["A", "B"], "population": [2000, 500]})
    out = rates_per_1000(counts, population).set_index("lsoa_code")
    # A: (4 + 6) / 2000 * 1000 = 5.0; B has no crime, count 0 and rate 0; C has no population.
    assert out.loc["A", "count"] == 10
    assert out.loc["A", "rate_per_1000"] == pytest.approx(5.0)
    assert out.loc["B", "count"] == 0
    assert out.loc["B", "rate_per_1000"] == 0.0
    # Upper limit for 0 events: 3.68888 / 500 * 1000 = 7.3778.
    assert out.loc["B", "rate_upper"] == pytest.approx(1000 * -math.log(0.025) / 500)
    assert out.loc["C", "count"] == 3
    assert np.isnan(out.loc["C", "rate_per_1000"])
    # A: 10 events, limits 4.7954 and 18.3904 per 2000 people -> 2.3977 and 9.1952 per 1,000.
    assert out.loc["A", "rate_lower"] == pytest.approx(2.3977, abs=1e-4)
    assert out.loc["A", "rate_upper"] == pytest.approx(9.1952, abs=1e-4)


def test_rates_per_1000_by_type_fills_zero_cells():
    counts = pd.DataFrame({"lsoa_code": ["A", "B"], "crime_type": ["Burglary", "Robbery"], "count": [2, 1]})
    population = pd.DataFrame({"lsoa_code": ["A", "B"], "population": [1000, 250]})
    out = rates_per_1000(counts, population, by=("lsoa_code", "crime_type"))
    assert len(out) == 4  # 2 areas x 2 types
    cell = out.set_index(["lsoa_code", "crime_type"])
    assert cell.loc[("A", "Robbery"), "count"] == 0
    assert cell.loc[("B", "Robbery"), "rate_per_1000"] == pytest.approx(4.0)  # 1 / 250 * 1000


def test_rates_per_1000_rejects_duplicate_population():
    population = pd.DataFrame({"lsoa_code": ["A", "A"], "population": [1, 2]})
    with pytest.raises(ValueError, match="more than one row"):
        rates_per_1000(pd.DataFrame({"lsoa_code": ["A"], "count": [1]}), population)


# ------------------------------------------------------------------------------------------------
# compare_periods
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "previous", "e"),
    [
        (30, 20, 1.0),
        (5, 15, 1.2),
        (0, 7, 1.0),
        (100, 100, 0.9),
        (1234, 1100, 1.0),
        (61, 117, 1.0),
        (9, 2, 0.5),
    ],
)
def test_compare_periods_matches_scipy_binomtest(current, previous, e):
    res = compare_periods(current, previous, exposure_ratio=e)
    n = current + previous
    ref = stats.binomtest(current, n, e / (1 + e), alternative="two-sided")
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
    ci = ref.proportion_ci(confidence_level=0.95, method="exact")
    assert res.ci_lower == pytest.approx(ci.low / (1 - ci.low) / e, rel=1e-9)
    if ci.high < 1:
        assert res.ci_upper == pytest.approx(ci.high / (1 - ci.high) / e, rel=1e-9)
    assert res.significant == (ref.pvalue < 0.05)


def test_compare_periods_hand_case_three_vs_one():
    res = compare_periods(3, 1)
    # n = 4, pi0 = 0.5: P(X=k) = 1,4,6,4,1 / 16. P(X=3) = 4/16; outcomes no more likely: k=0,1,3,4
    # -> p = (1 + 4 + 4 + 1) / 16 = 0.625.
    assert res.p_value == pytest.approx(0.625)
    assert res.rate_ratio == 3.0
    assert res.percent_change == pytest.approx(200.0)
    assert res.log_rate_ratio == pytest.approx(math.log(3))
    # Cohen's h = 2 asin(sqrt(3/4)) - 2 asin(sqrt(1/2)) = 2 pi/3 - 2 pi/4 = pi/6.
    assert res.cohens_h == pytest.approx(math.pi / 6)
    # Clopper-Pearson upper for 3/4 solves Beta(4, 1) cdf x^4 = 0.975 -> x = 0.975 ** 0.25.
    xu = 0.975**0.25
    assert res.ci_upper == pytest.approx(xu / (1 - xu))
    # Lower solves the Beta(3, 2) cdf 4x^3 - 3x^4 = 0.025.
    xl = res.ci_lower / (1 + res.ci_lower)
    assert 4 * xl**3 - 3 * xl**4 == pytest.approx(0.025, abs=1e-10)
    assert not res.significant


def test_compare_periods_hand_case_with_exposure():
    # e = 2 (current period twice the exposure), 4 vs 1: pi0 = 2/3, n = 5.
    # P(X=k) * 243 = 1, 10, 40, 80, 80, 32; P(X=4) = 80/243 is the largest, so p = 1.
    res = compare_periods(4, 1, exposure_ratio=2.0)
    assert res.p_value == pytest.approx(1.0)
    assert res.rate_ratio == pytest.approx(2.0)  # (4 / 1) / 2


def test_compare_periods_zero_current():
    # 0 vs 5: P(X=0) = 1/32 = P(X=5) -> p = 2/32 = 0.0625; CP upper = 1 - 0.025 ** (1/5).
    res = compare_periods(0, 5)
    assert res.p_value == pytest.approx(0.0625)
    assert res.rate_ratio == 0.0
    assert res.ci_lower == 0.0
    xu = 1 - 0.025 ** (1 / 5)
    assert res.ci_upper == pytest.approx(xu / (1 - xu))
    assert res.percent_change == pytest.approx(-100.0)


def test_compare_periods_large_real_counts_is_significant(gwent_totals):
    # Gwent 2024-07..2025-06 against 2023-07..2024-06, real totals from the fixture.
    t = gwent_totals.set_index("month")["count"]
    cur = int(t["2024-07-01":"2025-06-01"].sum())
    prev = int(t["2023-07-01":"2024-06-01"].sum())
    res = compare_periods(cur, prev)
    assert (cur, prev) == (71158, 68652)
    assert res.rate_ratio == pytest.approx(71158 / 68652)
    assert res.significant
    assert res.ci_lower > 1


def test_compare_periods_rejects_bad_input():
    with pytest.raises(ValueError):
        compare_periods(-1, 3)
    with pytest.raises(ValueError):
        compare_periods(1, 3, exposure_ratio=0)


def test_compare_periods_no_events():
    res = compare_periods(0, 0)
    assert res.p_value == 1.0
    assert math.isnan(res.rate_ratio)
    assert not res.significant


# ------------------------------------------------------------------------------------------------
# control_limits
# ------------------------------------------------------------------------------------------------


def _months(n: int, start: str = "2022-01-01") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="MS")


def test_control_limits_exact_poisson_hand_case():
    # Mean is exactly 1 (12 months summing to 12), no earlier years -> series mean.
    # Poisson(1): P(X >= 5) = 1 - e^-1 (1 + 1 + 1/2 + 1/6 + 1/24) = 0.00366 > 0.00135,
    #             P(X >= 6) = 0.00366 - e^-1 / 120 = 0.00059 < 0.00135  -> upper limit 5.
    #             P(X <= 0) = 0.368 -> lower limit 0.
    s = pd.Series([5, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0], index=_months(12))
    exact = control_limits(s, method="exact")
    assert (exact["expected"] == 1.0).all()
    assert (exact["baseline"] == "series mean").all()
    assert (exact["upper"] == 5).all() and (exact["lower"] == 0).all()
    assert (exact["signal"] == "").all()  # 5 is inside the exact limits
    # Shewhart: 1 + 3 sqrt(1) = 4, so the same 5 signals.
    shew = control_limits(s, method="shewhart")
    assert shew["upper"].iloc[0] == pytest.approx(4.0)
    assert shew["lower"].iloc[0] == 0.0  # 1 - 3 floored at 0
    assert shew["signal"].iloc[0] == "above"
    assert (shew["signal"].iloc[1:] == "").all()
    s6 = pd.Series([6, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1], index=_months(12))
    assert control_limits(s6, method="exact")["signal"].iloc[0] == "above"


def test_control_limits_seasonal_baseline_hand_case():
    # Three synthetic years: January 100 then 120, other months 50; year 3 January 200.
    values = [100] + [50] * 11 + [120] + [50] * 11 + [200] + [50] * 11
    s = pd.Series(values, index=_months(36))
    out = control_limits(s, method="exact")
    jan3 = out.loc["2024-01-01"]
    assert jan3["expected"] == pytest.approx(110.0)  # (100 + 120) / 2
    assert jan3["baseline"] == "same month in 2 earlier years"
    assert jan3["signal"] == "above"  # 200 against Poisson(110)
    assert out.loc["2024-02-01", "expected"] == pytest.approx(50.0)
    # Years 1 and 2 have fewer than two earlier Januaries: series mean (100+120+200+33*50)/36.
    assert out.loc["2023-01-01", "expected"] == pytest.approx((100 + 120 + 200 + 33 * 50) / 36)
    assert out.loc["2023-01-01", "baseline"] == "series mean"


def test_control_limits_real_gwent_totals(gwent_totals):
    s = gwent_totals.set_index("month")["count"]
    out = control_limits(s, method="exact")
    assert len(out) == 36
    # From 2024-07 two earlier years exist: July expected = (5388 + 5120) / 2 = 5254.
    assert out.loc["2024-07-01", "expected"] == pytest.approx(5254.0)
    assert out.loc["2024-07-01", "baseline"] == "same month in 2 earlier years"
    assert out.loc["2024-06-01", "baseline"] == "series mean"
    # 2024-07 (6,744) is far above Poisson(5254) limits.
    assert out.loc["2024-07-01", "signal"] == "above"


# ------------------------------------------------------------------------------------------------
# detect_supply_gaps
# ------------------------------------------------------------------------------------------------


def test_real_gwent_totals_have_no_supply_gap(gwent_totals):
    all_months = detect_supply_gaps(gwent_totals, return_all=True)
    assert len(all_months) == 36
    assert not all_months["gap"].any()
    assert detect_supply_gaps(gwent_totals).empty
    # Smallest real month, 2022-12 (4,445), is still over 80% of its neighbours' median.
    assert all_months["ratio"].min() > 0.8


def test_real_gwent_by_type_gaps(gwent_by_type):
    gaps = detect_supply_gaps(gwent_by_type, by=("force", "crime_type"))
    found = {(r.crime_type, f"{r.month:%Y-%m}") for r in gaps.itertuples()}
    criminal_damage_low = {
        ("Criminal damage and arson", f"{m:%Y-%m}")
        for m in pd.date_range("2022-07-01", "2023-09-01", freq="MS")
    }
    burglary_dip = {("Burglary", m) for m in ("2023-04", "2023-05", "2023-07", "2023-08", "2023-09")}
    assert found == criminal_damage_low | burglary_dip | {("Bicycle theft", "2024-01")}
    cd = gaps[(gaps["crime_type"] == "Criminal damage and arson") & (gaps["month"] == "2023-09-01")].iloc[0]
    # Every earlier month is flagged too, so the reference is the 12 months after it (topped up):
    # 2023-10..2024-09 = 667,619,539,581,529,533,655,614,571,657,581,568; sorted, the 6th and 7th
    # are 581 and 581 -> median 581; 41 / 581 = 0.0706.
    assert cd["neighbour_median"] == pytest.approx(581.0)
    assert cd["ratio"] == pytest.approx(41 / 581)
    assert "not a fall in crime" in cd["reason"]
    assert "2023-09" in cd["reason"]


def test_real_burglary_dip_reference_medians(gwent_by_type):
    # Final pass, flagged months 2023-04/05/07/08/09 excluded from every reference.
    # 2023-06 (90): 6 usable before = 2022-10..2023-03 = 141,119,138,137,116,132; after =
    # 2023-10..2024-03 = 176,195,194,165,159,185; sorted 6th, 7th = 141, 159 -> median 150;
    # 90 / 150 = 0.6, above 0.5, so the one month of the dip at 90 is not flagged.
    out = detect_supply_gaps(gwent_by_type, by=("force", "crime_type"), return_all=True)
    burglary = out[out["crime_type"] == "Burglary"].set_index("month")
    assert burglary.loc["2023-06-01", "neighbour_median"] == pytest.approx(150.0)
    assert burglary.loc["2023-06-01", "ratio"] == pytest.approx(0.6)
    assert not burglary.loc["2023-06-01", "gap"]
    # 2023-09 (68): before = 2023-06, 2023-03..2022-11 = 90,132,116,137,138,119; after as above;
    # sorted 6th, 7th = 138, 159 -> median 148.5.
    assert burglary.loc["2023-09-01", "neighbour_median"] == pytest.approx(148.5)
    assert burglary.loc["2023-09-01", "ratio"] == pytest.approx(68 / 148.5)


def test_ratio_exactly_at_threshold_is_not_flagged():
    # Synthetic: 100 a month with one month of exactly 50 -> ratio 0.5, and the rule is strict "<".
    frame = pd.DataFrame({"force": "Synthetic", "month": _months(13), "count": [100] * 6 + [50] + [100] * 6})
    out = detect_supply_gaps(frame, return_all=True)
    assert out["ratio"].iloc[6] == pytest.approx(0.5)
    assert not out["gap"].any()
    frame.loc[6, "count"] = 49
    assert list(detect_supply_gaps(frame)["month"]) == [_months(13)[6]]


def test_planted_gap_in_real_series_is_flagged(gwent_totals):
    # Synthetic edit of the real series: 2024-02 cut to 10% of its real value (5,378 -> 538)
    # and 2023-05 removed altogether (nothing published).
    planted = gwent_totals.copy()
    planted.loc[planted["month"] == "2024-02-01", "count"] = 538
    planted = planted[planted["month"] != "2023-05-01"]
    gaps = detect_supply_gaps(planted)
    assert [f"{m:%Y-%m}" for m in gaps["month"]] == ["2023-05", "2024-02"]
    missing = gaps.iloc[0]
    assert missing["count"] == 0
    assert "no records were published" in missing["reason"]


def test_synthetic_long_gap_is_found_by_iteration():
    # Synthetic: 30 months of 100 with a 9-month gap at 10. In the first pass the middle month sees
    # 8 gap months among its 12 reference months (median 10) and passes; the edges are flagged
    # first and excluding them exposes the rest.
    counts = [100] * 8 + [10] * 9 + [100] * 13
    frame = pd.DataFrame({"force": "Synthetic", "month": _months(30), "count": counts})
    gaps = detect_supply_gaps(frame)
    assert list(gaps["month"]) == list(_months(30)[8:17])


def test_small_series_are_not_judged():
    # Synthetic: median 8 < min_median 10, so a month of 2 is not called a gap.
    frame = pd.DataFrame({"force": "Synthetic", "month": _months(13), "count": [8] * 6 + [2] + [8] * 6})
    assert detect_supply_gaps(frame).empty
    assert len(detect_supply_gaps(frame, min_median=5)) == 1


def test_comparison_gap_check(gwent_by_type):
    gaps = detect_supply_gaps(gwent_by_type, by=("force", "crime_type"))
    hit = comparison_gap_check(
        gaps, ("2024-07", "2024-09"), ("2023-07", "2023-09"), crime_type="Criminal damage and arson"
    )
    assert hit.includes_gap
    assert hit.gap_months == list(pd.date_range("2023-07-01", "2023-09-01", freq="MS"))
    assert "2023-07, 2023-08, 2023-09" in hit.message and "cannot be reported as a fall" in hit.message
    clean = comparison_gap_check(
        gaps, ("2024-07", "2025-06"), ("2023-10", "2024-06"), crime_type="Criminal damage and arson"
    )
    assert not clean.includes_gap and clean.message == ""
    # Unfiltered, 2024-01 counts (Bicycle theft and nothing else); for Burglary alone neither month is a gap.
    assert comparison_gap_check(gaps, ("2024-01", "2024-01"), ("2023-01", "2023-01")).includes_gap
    assert not comparison_gap_check(
        gaps, ("2024-01", "2024-01"), ("2023-01", "2023-01"), crime_type="Burglary"
    ).includes_gap


# ------------------------------------------------------------------------------------------------
# Over-dispersed year-on-year change, Benjamini-Hochberg, Laney control limits
# ------------------------------------------------------------------------------------------------


def test_benjamini_hochberg_matches_statsmodels_and_hand_case():
    from statsmodels.stats.multitest import multipletests

    # Hand case: m = 4, sorted p 0.01, 0.02, 0.03, 0.5 -> 4p/rank = 0.04, 0.04, 0.04, 0.5.
    q = benjamini_hochberg([0.03, 0.5, 0.01, 0.02])
    assert q == pytest.approx([0.04, 0.5, 0.04, 0.04])
    rng = np.random.default_rng(3)
    p = rng.uniform(size=40) ** 3
    assert benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1], rel=1e-12)
    with_nan = benjamini_hochberg([0.01, np.nan, 0.04])
    assert np.isnan(with_nan[1]) and with_nan[[0, 2]] == pytest.approx([0.02, 0.04])


def test_compare_monthly_is_the_quasi_poisson_glm(gwent_by_type):
    """Dispersion and rate-ratio standard error equal statsmodels' quasi-Poisson GLM with one
    effect per month pair and one for the period (scale = Pearson X2 / df)."""
    import statsmodels.api as sm

    s = gwent_by_type[gwent_by_type["crime_type"] == "Shoplifting"].set_index("month")["count"]
    cur, prev = s.iloc[24:].to_numpy(float), s.iloc[12:24].to_numpy(float)
    got = compare_monthly(cur, prev)
    y = np.concatenate([cur, prev])
    pair = np.tile(np.eye(12), (2, 1))
    period = np.r_[np.ones(12), np.zeros(12)]
    fit = sm.GLM(y, np.column_stack([pair, period]), family=sm.families.Poisson()).fit(scale="X2")
    assert got.dispersion == pytest.approx(fit.scale, rel=1e-8)
    assert got.dispersion > 5  # real Gwent shoplifting is strongly over-dispersed
    assert math.log(got.rate_ratio) == pytest.approx(fit.params[-1], rel=1e-8)
    crit = stats.t.ppf(0.975, 11)
    se = fit.bse[-1]
    assert got.ci_lower == pytest.approx(math.exp(fit.params[-1] - crit * se), rel=1e-8)
    assert got.ci_upper == pytest.approx(math.exp(fit.params[-1] + crit * se), rel=1e-8)
    # Score test by hand: z = (C - N/2) / sqrt(phi N / 4), t with 11 df.
    c, n = cur.sum(), cur.sum() + prev.sum()
    z = (c - n / 2) / math.sqrt(got.dispersion * n / 4)
    assert got.p_value == pytest.approx(2 * stats.t.sf(abs(z), 11), rel=1e-10)
    assert got.df == 11 and got.months == 12


def test_compare_monthly_with_one_month_is_the_exact_test():
    # One pair of months: no dispersion can be estimated, so the exact binomial test on the totals.
    got = compare_monthly([42], [34])
    assert got.df == 0 and got.dispersion == 1.0
    assert got.p_value == pytest.approx(compare_periods(42, 34).p_value)


def test_compare_monthly_poisson_like_months_give_a_small_dispersion():
    # Months that vary less than Poisson: phi < 1 (not floored: the t test is calibrated as it is).
    got = compare_monthly([10, 12, 11, 9], [8, 10, 9, 7])
    assert 0 < got.dispersion < 0.1
    c, n = 42, 76
    z = (c - n / 2) / math.sqrt(got.dispersion * n / 4)
    assert got.p_value == pytest.approx(2 * stats.t.sf(abs(z), 3))


def test_compare_monthly_over_dispersion_widens_the_test():
    # Same totals (120 vs 80) spread evenly or wildly over 4 months: the wild one is not significant.
    even = compare_monthly([30, 30, 30, 30], [20, 20, 20, 20])
    wild = compare_monthly([90, 5, 20, 5], [5, 60, 5, 10])
    assert even.p_value < 0.01
    assert wild.dispersion > 10 and wild.p_value > 0.1
    assert even.current == wild.current == 120 and even.previous == wild.previous == 80


def test_compare_monthly_drops_nan_pairs_and_checks_input():
    got = compare_monthly([10, np.nan, 12], [8, 9, np.nan])
    assert got.months == 1 and got.current == 10 and got.previous == 8
    with pytest.raises(ValueError, match="same number of months"):
        compare_monthly([1, 2], [1, 2, 3])


def test_compare_monthly_family_adjusts_across_rows():
    pairs = {"a": ([30, 30, 30, 30], [20, 20, 20, 20]), "b": ([10, 11, 9, 10], [10, 10, 10, 10])}
    fam = compare_monthly_family(pairs)
    assert list(fam.index) == ["a", "b"]
    assert fam["q_value"].to_numpy() == pytest.approx(benjamini_hochberg(fam["p_value"].to_numpy()))
    assert bool(fam.loc["a", "significant"]) and not bool(fam.loc["b", "significant"])


def test_laney_limits_hand_case():
    # One year only, so the expected count of a month is the mean of the other 11 months.
    values = np.array([100, 110, 90, 105, 95, 100, 120, 80, 100, 100, 110, 90], dtype=float)
    s = pd.Series(values, index=_months(12))
    out = control_limits(s)
    mu = np.array([(values.sum() - v) / 11 for v in values])
    assert out["expected"].to_numpy() == pytest.approx(mu)
    z = (values - mu) / np.sqrt(mu)
    sz = max(1.0, np.abs(np.diff(z)).mean() / 1.128)
    assert out["sigma_z"].iloc[0] == pytest.approx(sz)
    # k: the t quantile with 2 (12 - 1) = 22 df for the one-sided 3-sigma tail 0.00135.
    k = stats.t.isf(stats.norm.sf(3), 22)
    assert 3.3 < k < 3.45 and out["multiplier"].iloc[0] == pytest.approx(k)
    assert out["upper"].to_numpy() == pytest.approx(mu + k * sz * np.sqrt(mu))
    assert (out["baseline"] == "mean of the other months").all()


def test_laney_seasonal_baseline_leaves_the_month_out():
    values = [100] + [50] * 11 + [120] + [50] * 11 + [200] + [50] * 11
    out = control_limits(pd.Series(values, index=_months(36)))
    assert out.loc["2024-01-01", "expected"] == pytest.approx(110.0)  # the two other Januaries
    assert out.loc["2022-01-01", "expected"] == pytest.approx(160.0)  # (120 + 200) / 2
    assert out.loc["2024-01-01", "baseline"] == "same month in 2 other years"


def test_laney_flags_far_fewer_real_gwent_months_than_poisson(gwent_totals):
    s = gwent_totals.set_index("month")["count"]
    laney = control_limits(s)
    poisson = control_limits(s, method="exact")
    assert laney["sigma_z"].iloc[0] > 3  # monthly Gwent totals vary far more than Poisson
    assert (laney["signal"] != "").sum() <= 3 < (poisson["signal"] != "").sum()
