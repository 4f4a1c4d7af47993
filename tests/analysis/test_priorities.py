"""Tests for diogel.analysis.priorities. All measures and PACT votes here are synthetic."""

from __future__ import annotations

import pandas as pd
import pytest

from diogel.analysis.priorities import (
    DEFAULT_THEME_TO_CRIME_TYPE,
    community_concern,
    load_scoring,
    rank_side_by_side,
    score_priorities,
)

V, D, B, S, C = (
    "Violence and sexual offences",
    "Drugs",
    "Burglary",
    "Shoplifting",
    "Criminal damage and arson",
)

MEASURES = pd.DataFrame(
    {
        "crime_type": [V, D, B, S, C],
        "css_harm_per_1000": [500.0, 40.0, 120.0, 15.0, 60.0],
        "rate_per_1000": [30.0, 2.0, 4.0, 8.0, 0.5],
        "trend_pct_change": [5.0, 30.0, -12.0, 0.0, -5.0],
        "top10_share": [0.25, 0.55, 0.30, 0.60, 0.10],
        "vulnerability_rating": [5, 3, 4, 1, 2],
        "community_vote_share": [0.10, 0.25, 0.05, 0.01, 0.02],
        "capacity_rating": [3, 4, 2, 5, 3],
    }
)

# Default weights: harm 2, volume 1, trend 1, concentration 1, vulnerability 2, community 1,
# capacity 1 -> max = 5 * 9 = 45.
# harm (quintile, p = types strictly lower / 5): 500 -> 4/5 -> 5; 120 -> 3/5 -> 4; 60 -> 2/5 -> 3;
#   40 -> 1/5 -> 2; 15 -> 0 -> 1
# volume cuts 1, 2.5, 5, 10: 30 -> 5; 2 -> 2; 4 -> 3; 8 -> 4; 0.5 -> 1
# trend cuts -10, 0, 10, 25: 5 -> 3; 30 -> 5; -12 -> 1; 0 -> 3 (at the cut counts); -5 -> 2
# concentration cuts .2 .3 .4 .5: .25 -> 2; .55 -> 5; .30 -> 3; .60 -> 5; .10 -> 1
# community cuts .02 .05 .10 .20: .10 -> 4; .25 -> 5; .05 -> 3; .01 -> 1; .02 -> 2
# totals:
#   V: 2*5 + 5 + 3 + 2 + 2*5 + 4 + 3 = 37
#   D: 2*2 + 2 + 5 + 5 + 2*3 + 5 + 4 = 31
#   B: 2*4 + 3 + 1 + 3 + 2*4 + 3 + 2 = 28
#   S: 2*1 + 4 + 3 + 5 + 2*1 + 1 + 5 = 22
#   C: 2*3 + 1 + 2 + 1 + 2*2 + 2 + 3 = 19
EXPECTED = {
    V: (37, [5, 5, 3, 2, 5, 4, 3]),
    D: (31, [2, 2, 5, 5, 3, 5, 4]),
    B: (28, [4, 3, 1, 3, 4, 3, 2]),
    S: (22, [1, 4, 3, 5, 1, 1, 5]),
    C: (19, [3, 1, 2, 1, 2, 2, 3]),
}
CRITERIA = ["harm", "volume", "trend", "concentration", "vulnerability", "community_concern", "capacity"]


def test_default_matrix_loads_with_seven_criteria():
    cfg = load_scoring()
    assert list(cfg["criteria"]) == CRITERIA
    assert cfg["scale"] == {"min": 1, "max": 5}


def test_hand_computed_scores_totals_and_ranking():
    out = score_priorities(MEASURES)
    assert out["crime_type"].tolist() == [V, D, B, S, C]
    assert out["rank"].tolist() == [1, 2, 3, 4, 5]
    for _, row in out.iterrows():
        total, scores = EXPECTED[row["crime_type"]]
        assert row["total"] == total
        assert [row[f"score_{c}"] for c in CRITERIA] == scores
    assert (out["max_total"] == 45).all()
    assert out.loc[0, "total_pct"] == pytest.approx(100 * 37 / 45)


def test_reason_strings():
    out = score_priorities(MEASURES).set_index("crime_type")
    assert out.loc[V, "reason_harm"] == (
        "harm 5/5: CSS harm 500.0 per 1,000 residents is in the top quintile of the 5 types scored"
    )
    assert out.loc[S, "reason_harm"].endswith("is in the bottom quintile of the 5 types scored")
    assert out.loc[B, "reason_volume"] == (
        "volume 3/5: 4.0 crimes per 1,000 residents a year is at least 2.5 and below 5"
    )
    assert out.loc[B, "reason_trend"] == "trend 1/5: -12.0% on the previous 12 months is below -10"
    assert out.loc[V, "reason_volume"].endswith("is at least 10")
    assert out.loc[B, "reason_community_concern"] == (
        "community concern 3/5: 5% of PACT priority votes is at least 0.05 and below 0.1"
    )
    assert out.loc[V, "reason_capacity"] == "capacity to influence 3/5: partner rating 3"
    assert out.loc[V, "reasons"].count("; ") == 6


def test_rating_notes_missing_values_and_bad_ratings():
    m = MEASURES.copy()
    m["vulnerability_rating_note"] = ["high-risk domestic abuse", "", None, None, None]
    out = score_priorities(m).set_index("crime_type")
    assert (
        out.loc[V, "reason_vulnerability"] == "vulnerability 5/5: partner rating 5 (high-risk domestic abuse)"
    )

    gap = MEASURES.copy()
    gap.loc[gap["crime_type"] == S, "capacity_rating"] = None
    with pytest.raises(ValueError, match="capacity_rating"):
        score_priorities(gap)
    out = score_priorities(gap, allow_missing=True).set_index("crime_type")
    # Shoplifting loses its capacity 5: 22 - 5 = 17
    assert out.loc[S, "total"] == 17 and out.loc[S, "score_capacity"] == 0
    assert "no value supplied" in out.loc[S, "reason_capacity"]

    bad = MEASURES.copy()
    bad.loc[0, "vulnerability_rating"] = 6
    with pytest.raises(ValueError, match="rating"):
        score_priorities(bad)


def test_custom_yaml_weights_and_ties(tmp_path):
    cfg = tmp_path / "matrix.yaml"
    cfg.write_text(
        "scale: {min: 1, max: 5}\n"
        "criteria:\n"
        "  volume:\n"
        "    measure: rate_per_1000\n"
        "    method: thresholds\n"
        "    thresholds: [1, 2, 3, 4]\n"
        "    weight: 3\n"
    )
    scoring = load_scoring(cfg)
    m = pd.DataFrame({"crime_type": ["X", "Y", "Z"], "rate_per_1000": [3.5, 0.5, 3.0]})
    out = score_priorities(m, scoring)
    # X: 3.5 -> 4 -> 12; Z: 3.0 -> 4 -> 12; Y: 0.5 -> 1 -> 3. X and Z tie at rank 1.
    assert out["crime_type"].tolist() == ["X", "Z", "Y"]
    assert out["total"].tolist() == [12, 12, 3]
    assert out["rank"].tolist() == [1, 1, 3]

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "scale: {min: 1, max: 5}\ncriteria:\n  volume: {measure: r, method: thresholds, thresholds: [1, 2, 2, 4], weight: 1}\n"
    )
    with pytest.raises(ValueError, match="strictly ascending"):
        load_scoring(bad)


PACT = pd.DataFrame(
    {
        "meeting_date": pd.to_datetime(["2024-01-10"] * 3 + ["2024-02-14"] * 3 + ["2024-01-20"] * 3),
        "neighbourhood": ["Pill"] * 6 + ["Malpas"] * 3,
        "theme": [
            "Drug dealing",
            "Speeding",
            "youths",
            "drug dealing ",
            "ASB",
            "Parking",
            "Burglary",
            "Dog fouling",
            "Pothole",
        ],
        "votes": [12, 8, 5, 6, 4, 3, 7, 2, 3],
    }
)


def test_community_concern_hand_computed():
    # total votes = 12+8+5+6+4+3+7+2+3 = 50
    # Drugs 12+6 = 18 (0.36, 2 meetings); ASB youths 5 + ASB 4 = 9 (0.18, 2); Burglary 7 (0.14, 1)
    cc = community_concern(PACT)
    assert cc.total_votes == 50
    t = cc.by_crime_type.set_index("crime_type")
    assert t["votes"].to_dict() == {"Drugs": 18, "Anti-social behaviour": 9, "Burglary": 7}
    assert t["share"].to_dict() == pytest.approx(
        {"Drugs": 0.36, "Anti-social behaviour": 0.18, "Burglary": 0.14}
    )
    assert t["meetings"].to_dict() == {"Drugs": 2, "Anti-social behaviour": 2, "Burglary": 1}
    assert t.loc["Anti-social behaviour", "themes"] == "asb, youths"
    assert cc.by_crime_type["crime_type"].tolist()[0] == "Drugs"
    assert cc.not_crime.set_index("theme")["votes"].to_dict() == {
        "speeding": 8,
        "parking": 3,
        "dog fouling": 2,
    }
    assert cc.unknown.set_index("theme")["votes"].to_dict() == {"pothole": 3}
    assert DEFAULT_THEME_TO_CRIME_TYPE["speeding"] is None


def test_community_concern_custom_mapping_and_lsoa_column():
    pact = PACT.rename(columns={"neighbourhood": "lsoa_code"})
    cc = community_concern(pact, {"Pothole": None, "Burglary": "Burglary"})
    assert cc.by_crime_type["crime_type"].tolist() == ["Burglary"]
    assert "pothole" in set(cc.not_crime["theme"])
    assert "drug dealing" in set(cc.unknown["theme"])


def test_rank_side_by_side_hand_computed():
    data_led = score_priorities(MEASURES)  # ranks V 1, D 2, B 3, S 4, C 5
    community = pd.DataFrame(
        {"crime_type": [S, C, D, B, V, "Anti-social behaviour"], "votes": [20, 15, 10, 5, 2, 30]}
    )
    # community ranks over the scored types: S 1, C 2, D 3, B 4, V 5
    # V: 1 vs 5, diff +4 (>= 3) and in the data top 3 only -> disagree
    # D: 2 vs 3, diff +1, in both top 3 -> agree
    # B: 3 vs 4, diff +1, in the data top 3 only -> disagree
    # S: 4 vs 1, diff -3 and community top 3 only -> disagree
    # C: 5 vs 2, diff -3 and community top 3 only -> disagree
    res = rank_side_by_side(data_led, community)
    t = res.table.set_index("crime_type")
    assert t["data_rank"].to_dict() == {V: 1, D: 2, B: 3, S: 4, C: 5}
    assert t["community_rank"].to_dict() == {V: 5, D: 3, B: 4, S: 1, C: 2}
    assert t["rank_difference"].to_dict() == {V: 4, D: 1, B: 1, S: -3, C: -3}
    assert t["disagree"].to_dict() == {V: True, D: False, B: True, S: True, C: True}
    assert res.disagreements["crime_type"].tolist() == [V, B, S, C]
    assert res.unscored == ["Anti-social behaviour"]
    assert t.loc[V, "sentence"] == (
        "Violence and sexual offences ranks 1st on the data-led score but 5th on PACT votes "
        "(4 places apart; in the data-led top 3 only): the recorded data give it more weight than "
        "residents do; consider explaining the evidence at PACT meetings."
    )
    assert t.loc[B, "sentence"].startswith(
        "Burglary ranks 3rd on the data-led score but 4th on PACT votes (in the data-led top 3 only)"
    )
    assert "residents give it more weight" in t.loc[S, "sentence"]
    assert t.loc[D, "sentence"] == ""


def test_rank_side_by_side_missing_votes_count_as_zero():
    data_led = pd.DataFrame({"crime_type": ["A", "B", "C", "D", "E"], "rank": [1, 2, 3, 4, 5]})
    community = pd.DataFrame({"crime_type": ["E"], "votes": [9]})
    # E has the only votes -> community rank 1; A..D tie at 0 votes -> rank 2
    res = rank_side_by_side(data_led, community)
    t = res.table.set_index("crime_type")
    assert t["community_rank"].to_dict() == {"A": 2, "B": 2, "C": 2, "D": 2, "E": 1}
    # A: 1 vs 2 both top 3 -> agree; D: 4 vs 2 -> community top 3 only -> disagree;
    # E: 5 vs 1 -> diff -4 -> disagree
    assert t["disagree"].to_dict() == {"A": False, "B": False, "C": False, "D": True, "E": True}


def test_missing_inputs_are_named_per_crime_type():
    from diogel.analysis.priorities import score_priorities

    base = {"css_harm_per_1000": 5.0, "rate_per_1000": 3.0, "trend_pct_change": 1.0, "top10_share": 0.3,
            "community_vote_share": 0.1, "capacity_rating": None}  # fmt: skip
    frame = pd.DataFrame([
        {"crime_type": "Burglary", **base, "vulnerability_rating": 4.0, "capacity_rating": 2.0},
        {"crime_type": "Drugs", **base, "vulnerability_rating": None},
    ])  # fmt: skip
    out = score_priorities(frame, allow_missing=True).set_index("crime_type")
    assert out.loc["Burglary", "missing"] == ""
    assert out.loc["Drugs", "missing"] == "vulnerability, capacity to influence"
    assert out.loc["Burglary", "score_vulnerability"] == 4 and out.loc["Drugs", "score_vulnerability"] == 0


def test_load_ratings(tmp_path):
    from diogel.analysis.priorities import load_ratings

    p = tmp_path / "ratings.yaml"
    p.write_text(
        "ratings:\n  Burglary: {vulnerability: 4, capacity: 3}\n  Drugs: {vulnerability: 5}\n", "utf-8"
    )
    assert load_ratings(p) == {"Burglary": {"vulnerability_rating": 4, "capacity_rating": 3},
                               "Drugs": {"vulnerability_rating": 5}}  # fmt: skip
    for bad, message in (("  Burglarry: {vulnerability: 4}", "not a police.uk crime type"),
                         ("  Burglary: {vulnerability: 6}", "whole number 1..5"),
                         ("  Burglary: {harm: 2}", "vulnerability and/or capacity")):  # fmt: skip
        p.write_text("ratings:\n" + bad + "\n", "utf-8")
        with pytest.raises(ValueError, match=message) as info:
            load_ratings(p)
        assert str(p) in str(info.value) and "\n" not in str(info.value)
