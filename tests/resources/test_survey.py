"""Tests for diogel.resources.survey: instrument, validation, rankings, priorities, Likert charts."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from diogel.errors import InputError
from diogel.resources.survey import (
    load_questions,
    make_synthetic_responses,
    parse_responses,
    read_responses,
    survey_from_dict,
)
from diogel.resources.survey_analysis import (
    choice_counts,
    diverging_segments,
    likert_summary,
    priorities,
    rank_summary,
)
from diogel.resources.survey_report import diverging_likert_svg

SYNTHETIC = Path(str(resources.files("diogel.resources") / "templates" / "synthetic_survey_responses.csv"))


@pytest.fixture(scope="module")
def survey():
    return load_questions()


def _csv(survey, rows: list[dict]) -> str:
    """CSV text with every survey column; unspecified answers blank."""
    cols = survey.columns
    lines = [",".join(cols)]
    for r in rows:
        lines.append(",".join(str(r.get(c, "")) for c in cols))
    return "\n".join(lines) + "\n"


def test_instrument_has_the_question_set(survey):
    q = {x.id: x for x in survey.questions}
    assert len(q["knowledge_rank"].items) == 7 and q["knowledge_rank"].type == "rank"
    assert "Problem-solving (SARA)" in [i.label for i in q["knowledge_rank"].items]
    assert len(q["values_rank"].items) == 5
    assert (
        len(q["professionalisation"].items) == 3
        and q["professionalisation"].scale[0][1] == "Strongly disagree"
    )
    assert {"priority_areas", "least_important_areas", "influential_organisations"} <= set(q)
    assert {"la_engagement", "partner_engagement", "highest_qualification"} <= set(q)
    # Labels containing commas survive YAML flow mappings.
    assert (
        q["highest_qualification"].label("professional")
        == "Professional qualification (e.g. CIPFA, CIH, police)"
    )


def test_borda_and_mean_rank_three_respondents_by_hand(survey):
    k = "knowledge_rank."
    # Items in order: crime_analysis, problem_solving, community_engagement, partnership_working,
    # project_management, evaluation, legislation_policy (n = 7, Borda points = 7 - rank).
    ranks = {
        "R1": [1, 2, 3, 4, 5, 6, 7],
        "R2": [3, 1, 2, 4, 6, 7, 5],
        "R3": [2, 1, 4, 3, 7, 5, 6],
    }
    items = survey.question("knowledge_rank").item_ids
    rows = [
        {"respondent_id": r} | {k + i: v for i, v in zip(items, rs, strict=True)} for r, rs in ranks.items()
    ]
    df = parse_responses(_csv(survey, rows), survey)
    out = rank_summary(df, survey, "knowledge_rank").set_index("item")
    # problem_solving: ranks 2, 1, 1 -> Borda 5 + 6 + 6 = 17, mean 4/3, top three 3 times.
    assert out.loc["problem_solving", "borda"] == 17
    assert out.loc["problem_solving", "mean_rank"] == pytest.approx(4 / 3)
    # crime_analysis: ranks 1, 3, 2 -> Borda 6 + 4 + 5 = 15, mean 2.
    assert out.loc["crime_analysis", "borda"] == 15 and out.loc["crime_analysis", "mean_rank"] == 2.0
    # community_engagement: 3, 2, 4 -> 4 + 5 + 3 = 12, mean 3, top three twice.
    assert out.loc["community_engagement", "borda"] == 12 and out.loc["community_engagement", "top3"] == 2
    # partnership_working: 4, 4, 3 -> 3 + 3 + 4 = 10, top three once.
    assert out.loc["partnership_working", "borda"] == 10 and out.loc["partnership_working", "top3"] == 1
    # project_management 5, 6, 7 -> 2 + 1 + 0 = 3; evaluation 6, 7, 5 -> 1 + 0 + 2 = 3 (tie);
    # legislation_policy 7, 5, 6 -> 0 + 2 + 1 = 3 (tie), all with mean rank 6.
    assert out.loc[["project_management", "evaluation", "legislation_policy"], "borda"].tolist() == [3, 3, 3]
    assert (out.loc[["project_management", "evaluation", "legislation_policy"], "borda_position"] == 5).all()
    # Borda totals: 3 respondents x (6 + 5 + ... + 0) = 3 x 21 = 63.
    assert out["borda"].sum() == 63
    assert list(out.index[:4]) == [
        "problem_solving",
        "crime_analysis",
        "community_engagement",
        "partnership_working",
    ]
    assert (
        out.loc["problem_solving", "borda_position"] == 1
        and out.loc["problem_solving", "mean_rank_position"] == 1
    )


def test_partial_rankings_when_allowed():
    s = survey_from_dict(
        {
            "questions": [
                {
                    "id": "v",
                    "type": "rank",
                    "allow_partial": True,
                    "items": [
                        {"id": "a", "label": "A"},
                        {"id": "b", "label": "B"},
                        {"id": "c", "label": "C"},
                    ],
                }
            ]
        }
    )
    df = parse_responses("respondent_id,v.a,v.b,v.c\n1,1,,\n2,2,1,3\n3,,1,\n", s)
    out = rank_summary(df, s, "v").set_index("item")
    # a: ranks 1, 2 -> Borda (3-1) + (3-2) = 3, mean 1.5 over the 2 who ranked it.
    # b: ranks 1, 1 -> 2 + 2 = 4, mean 1. c: rank 3 -> 0, mean 3. Unranked earns 0.
    assert out["borda"].to_dict() == {"b": 4, "a": 3, "c": 0}
    assert out["mean_rank"].to_dict() == {"b": 1.0, "a": 1.5, "c": 3.0}
    assert out["n_ranked"].to_dict() == {"b": 2, "a": 2, "c": 1}


def test_priorities_and_choice_counts_by_hand(survey):
    rows = [
        {
            "respondent_id": "1",
            "priority_areas": "asb;domestic_abuse;young_people",
            "least_important_areas": "road_safety",
        },
        {
            "respondent_id": "2",
            "priority_areas": "asb;substance_misuse",
            "least_important_areas": "young_people;road_safety",
        },
        {
            "respondent_id": "3",
            "priority_areas": "asb",
            "least_important_areas": "hate_crime",
            "highest_qualification": "degree",
        },
    ]
    df = parse_responses(_csv(survey, rows), survey)
    pr = priorities(df, survey).set_index("item")
    # asb: 3 priority, 0 least -> net 3 (top). road_safety: 0 and 2 -> net -2 (bottom).
    assert pr.index[0] == "asb" and pr.loc["asb", "net"] == 3
    assert pr.index[-1] == "road_safety" and pr.loc["road_safety", "net"] == -2
    # young_people: chosen once each way -> net 0.
    assert pr.loc["young_people", ["priority_count", "least_count", "net"]].tolist() == [1, 1, 0]
    cc = choice_counts(df, survey, "priority_areas").set_index("item")
    assert cc.loc["asb", "count"] == 3 and cc.loc["asb", "share"] == 1.0
    q = choice_counts(df, survey, "highest_qualification").set_index("item")
    # 1 of the 1 respondent who answered this question.
    assert q.loc["degree", "count"] == 1 and q.loc["degree", "share"] == 1.0


def test_likert_summary_and_diverging_segments_by_hand(survey):
    rows = [
        {"respondent_id": str(i), "professionalisation.recognised_profession": v}
        for i, v in enumerate([1, 3, 4, 5, ""])
    ]
    df = parse_responses(_csv(survey, rows), survey)
    s = likert_summary(df, survey, "professionalisation").set_index("item")
    r = s.loc["recognised_profession"]
    # 4 answers (one blank): 25% each at codes 1, 3, 4, 5.
    assert r["n"] == 4
    assert [r[f"pct_{c}"] for c in range(1, 6)] == [25.0, 0.0, 25.0, 25.0, 25.0]
    assert (r["pct_negative"], r["pct_neutral"], r["pct_positive"]) == (25.0, 25.0, 50.0)
    assert r["mean"] == pytest.approx(13 / 4)
    seg = diverging_segments(s.reset_index().iloc[[0]], survey.question("professionalisation").scale)
    seg = seg.set_index("code")
    # Neutral 25% split across zero: -12.5..12.5; negatives further left: code 1 at -37.5..-12.5.
    assert seg.loc[3, "left"] == -12.5 and seg.loc[3, "width"] == 25.0
    assert seg.loc[1, "left"] == -37.5 and seg.loc[4, "left"] == 12.5 and seg.loc[5, "left"] == 37.5


def test_diverging_likert_svg(survey):
    df = read_responses(SYNTHETIC, survey)
    svg = diverging_likert_svg(df, survey, "partner_engagement")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # ColorBrewer PuOr (colour-blind safe): strongest negative orange, strongest positive purple.
    fills = set(re.findall(r"fill: ?(#[0-9a-f]{6})", svg))
    assert {"#e66101", "#5e3c99", "#bdbdbd"} <= fills
    assert svg == diverging_likert_svg(df, survey, "partner_engagement")


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (
            {"knowledge_rank.crime_analysis": 1, "knowledge_rank.problem_solving": 1},
            "knowledge_rank.problem_solving",
            "given twice",
        ),
        ({"values_rank.reducing_harm": 6}, "values_rank.reducing_harm", "outside 1-5"),
        ({"values_rank.reducing_harm": 1}, "values_rank.community_empowerment", "partial rankings"),
        ({"priority_areas": "asb;burglary"}, "priority_areas", "unknown choice 'burglary'"),
        ({"priority_areas": "asb;hate_crime;road_safety;reoffending"}, "priority_areas", "at most 3"),
        ({"priority_areas": "asb", "least_important_areas": "asb"}, "least_important_areas", "also chosen"),
        ({"la_engagement.housing": 7}, "la_engagement.housing", "must be one of"),
        ({"highest_qualification": "phd"}, "highest_qualification", "unknown answer"),
        ({"fte": "1.5"}, "fte", "a number from 0.1 to 1, not '1.5'"),
        ({"fte": "full"}, "fte", "not 'full'"),
        ({"post_title": "x" * 81}, "post_title", "81 characters, at most 80"),
        ({"role": "boss"}, "role", "unknown answer 'boss'"),
    ],
)
def test_validation_errors_name_line_and_column(survey, row, column, message):
    text = _csv(survey, [{"respondent_id": "ok"}, {"respondent_id": "bad"} | row])
    with pytest.raises(InputError) as exc:
        parse_responses(text, survey, "resp.csv")
    assert str(exc.value).startswith(f"resp.csv:3: column '{column}'")
    assert message in str(exc.value)


def test_header_and_respondent_errors(survey):
    with pytest.raises(InputError, match="resp.csv:1: column 'knowledge_rank.crime_analysis'"):
        parse_responses("respondent_id\n1\n", survey, "resp.csv")
    with pytest.raises(InputError, match="appears twice"):
        parse_responses(_csv(survey, [{"respondent_id": "a"}, {"respondent_id": "a"}]), survey, "resp.csv")


def test_synthetic_file_is_reproducible(survey):
    df = read_responses(SYNTHETIC, survey)
    assert len(df) == 60 and df["respondent_id"].is_unique
    pd.testing.assert_frame_equal(df, make_synthetic_responses(survey, n=60, seed=2007))
    assert not make_synthetic_responses(survey, n=60, seed=1).equals(df)
    # Every respondent ranked all 7 knowledge types with ranks 1..7.
    cols = [c for c in df.columns if c.startswith("knowledge_rank.")]
    assert (df[cols].sum(axis=1) == 28).all()
