"""Stop and search arithmetic, by hand, on the one real file in the shared data (Dyfed-Powys, June 2024,
the first 12 rows), loaded through the ordinary ingest; and the formulas on small hand-made numbers."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from conftest import shared
from diogel.analysis.stop_search import (
    MIN_READABLE,
    broad_ethnic_group,
    disproportionality,
    searches_against_crime,
    summarise,
    wilson_interval,
)
from diogel.warehouse.core import Warehouse


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory) -> pd.DataFrame:  # noqa: ANN001
    folder = shared("policeuk", "stop-and-search-excerpt")
    with Warehouse(None, tmp_path_factory.mktemp("ss") / "wh") as wh:
        results = wh.ingest("police-stop-search", str(folder))
        assert [r.status for r in results] == ["loaded"]
        return wh.execute(wh.table("police_stop_search")).sort_values("line").reset_index(drop=True)


def test_the_excerpt_by_hand(excerpt: pd.DataFrame):
    s = summarise(excerpt, residents=1000.0, months=1)
    # 12 rows; rows 4 and 5 are identical but carry no ID, so both count.
    assert s.searches == 12
    # Outcomes: 10 "A no further action disposal", 1 "Community resolution", 1 blank.
    assert (s.with_outcome, s.outcome_other_than_nfa) == (11, 1)
    assert s.outcome_rate == pytest.approx(1 / 11)
    # "Outcome linked to object of search": True once (the community resolution), False 11 times.
    assert (s.with_link_recorded, s.linked_to_object) == (12, 1)
    assert s.find_rate == pytest.approx(1 / 12)
    # 12 searches per 1,000 residents in one month; 144 a year at that pace.
    assert s.rate_per_1000 == pytest.approx(12.0) and s.rate_per_1000_a_year == pytest.approx(144.0)
    assert s.too_few and MIN_READABLE > 12
    objects = dict(zip(s.by_object["object_of_search"], s.by_object["searches"], strict=True))
    assert objects == {"Controlled drugs": 9, "Articles for use in criminal damage": 2, "Stolen goods": 1}
    types = dict(zip(s.by_type["search_type"], s.by_type["searches"], strict=True))
    assert types == {"Person search": 10, "Person and Vehicle search": 2}
    eth = s.by_ethnicity.set_index("ethnic_group")
    assert eth.loc["White", "searches"] == 12 and eth.drop("White")["searches"].sum() == 0
    assert eth.loc["White", "share_of_stated"] == 1.0


def test_wilson_matches_statsmodels():
    for k, n in [(1, 11), (1, 12), (0, 5), (30, 40)]:
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((lo, hi), abs=1e-9)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


@pytest.mark.parametrize(
    ("text", "group"),
    [
        ("White - English/Welsh/Scottish/Northern Irish/British", "White"),
        ("Asian/Asian British - Indian", "Asian"),
        ("Black/African/Caribbean/Black British - African", "Black"),
        ("Mixed/Multiple ethnic groups - White and Black Caribbean", "Mixed"),
        ("Other ethnic group - Any other ethnic group", "Other"),
        ("Other ethnic group - Not stated", "Not stated"),
        (None, "Not stated"),
        ("", "Not stated"),
    ],
)
def test_broad_ethnic_groups(text, group):
    assert broad_ethnic_group(text) == group


def test_disproportionality_by_hand():
    # SYNTHETIC numbers, to check the formula: 60 searches of 10,000 Black residents (6 per 1,000),
    # 300 of 150,000 White residents (2 per 1,000): ratio 3.
    # se = sqrt(1/60 - 1/10000 + 1/300 - 1/150000) = sqrt(0.0198933...) = 0.141044...
    out = disproportionality(
        pd.Series({"White": 300, "Black": 60}), pd.Series({"White": 150_000, "Black": 10_000})
    )
    black = out.set_index("ethnic_group").loc["Black"]
    assert black["rate_per_1000"] == pytest.approx(6.0) and black["ratio"] == pytest.approx(3.0)
    se = math.sqrt(1 / 60 - 1 / 10_000 + 1 / 300 - 1 / 150_000)
    assert se == pytest.approx(0.1410437, rel=1e-6)
    assert black["ratio_lower"] == pytest.approx(3 * math.exp(-1.959964 * se), rel=1e-6)
    assert black["ratio_upper"] == pytest.approx(3 * math.exp(1.959964 * se), rel=1e-6)
    assert not black["too_few"]
    small = disproportionality(
        pd.Series({"White": 300, "Asian": 4}), pd.Series({"White": 150_000, "Asian": 2_000})
    )
    assert small.set_index("ethnic_group").loc["Asian", "too_few"]


def test_searches_against_crime_by_hand():
    crime = pd.Series({"A": 50, "B": 30, "C": 10, "D": 5, "E": 5, "F": 0, "G": 0, "H": 0, "I": 0, "J": 0})
    searches = pd.Series({"A": 6, "B": 1, "C": 3})
    r = searches_against_crime(searches, crime)
    # Top 10% of 10 LSOAs = 1 LSOA (A): 50 of 100 crimes, 6 of 10 located searches.
    assert r["top_lsoas"] == 1 and r["crime_share_top"] == 0.5 and r["search_share_top"] == 0.6
    assert r["located_searches"] == 10
    expected = stats.spearmanr(searches.reindex(crime.index, fill_value=0), crime).statistic
    assert r["spearman"] == pytest.approx(expected)
