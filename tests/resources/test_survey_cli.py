"""``diogel survey analyse``: the shipped synthetic responses and a small hand-worked file."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from diogel.cli import app
from diogel.resources.survey import load_questions, rank_summary, read_responses

SYNTHETIC = Path(str(resources.files("diogel.resources") / "templates" / "synthetic_survey_responses.csv"))
runner = CliRunner()


def test_default_is_the_synthetic_file_and_says_so(tmp_path):
    r = runner.invoke(app, ["survey", "analyse", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "SYNTHETIC" in r.output and "60 respondents" in r.output
    survey = load_questions()
    expected = rank_summary(read_responses(SYNTHETIC, survey), survey, "knowledge_rank")
    got = pd.read_csv(tmp_path / "rank_knowledge_rank.csv")
    assert got["item"].tolist() == expected["item"].tolist()
    assert got["borda"].tolist() == expected["borda"].tolist()
    # Every respondent ranked all 7 items: Borda points per respondent are 6+5+...+0 = 21.
    assert got["borda"].sum() == 60 * 21 and got["top3"].sum() == 60 * 3
    for name in ("priorities.csv", "likert_la_engagement.svg", "choices_influential_organisations.csv"):
        assert (tmp_path / name).exists()
    page = (tmp_path / "survey_report.html").read_text()
    assert page.count("<svg") == 3 and "SYNTHETIC DATA" in page and "<script" not in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def _write(path: Path, rows: list[dict]) -> Path:
    survey = load_questions()
    pd.DataFrame(rows).reindex(columns=survey.columns).to_csv(path, index=False)
    return path


def test_hand_worked_rankings_priorities_and_likert(tmp_path):
    k = ["crime_analysis", "problem_solving", "community_engagement", "partnership_working",
         "project_management", "evaluation", "legislation_policy"]  # fmt: skip
    ranks = [[1, 2, 3, 4, 5, 6, 7], [2, 1, 3, 4, 5, 6, 7], [1, 3, 2, 4, 5, 7, 6]]
    rows = []
    for i, rr in enumerate(ranks):
        row = {
            "respondent_id": f"R{i}",
            **{f"knowledge_rank.{item}": r for item, r in zip(k, rr, strict=True)},
        }
        row["priority_areas"] = ["asb;hate_crime", "asb", "asb;road_safety"][i]
        row["least_important_areas"] = ["road_safety", "road_safety", ""][i]
        row["professionalisation.recognised_profession"] = [5, 4, 1][i]
        rows.append(row)
    path = _write(tmp_path / "responses.csv", rows)
    r = runner.invoke(app, ["survey", "analyse", str(path), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "SYNTHETIC" not in r.output
    rank = pd.read_csv(tmp_path / "out" / "rank_knowledge_rank.csv").set_index("item")
    # n = 7 items, Borda = sum of (7 - rank): crime analysis 6 + 5 + 6 = 17; problem solving 5 + 6 + 4 = 15.
    assert rank.loc["crime_analysis", "borda"] == 17 and rank.loc["problem_solving", "borda"] == 15
    assert rank.loc["crime_analysis", "mean_rank"] == pytest.approx(4 / 3)
    assert rank.loc["community_engagement", "top3"] == 3 and rank.loc["evaluation", "top3"] == 0
    assert rank.index[0] == "crime_analysis"
    pr = pd.read_csv(tmp_path / "out" / "priorities.csv").set_index("item")
    # ASB: priority 3 times, never least important (net +3); road safety 1 - 2 = -1.
    assert pr.loc["asb", ["priority_count", "least_count", "net"]].tolist() == [3, 0, 3]
    assert pr.loc["road_safety", "net"] == -1 and pr.index[0] == "asb"
    lk = pd.read_csv(tmp_path / "out" / "likert_professionalisation.csv").set_index("item")
    # 5 and 4 agree, 1 disagrees: 2 of 3 answers positive, 1 of 3 negative; two items unanswered.
    row = lk.loc["recognised_profession"]
    assert (
        row["n"] == 3
        and row["pct_positive"] == pytest.approx(200 / 3)
        and row["pct_negative"] == pytest.approx(100 / 3)
    )
    assert lk.loc["career_path", "n"] == 0
    assert "Anti-social behaviour (priority 3, least important 0, net +3)" in r.output


def test_a_bad_response_is_one_line_naming_file_row_and_column(tmp_path):
    path = _write(tmp_path / "bad.csv", [{"respondent_id": "R1", "knowledge_rank.crime_analysis": 9}])
    r = runner.invoke(app, ["survey", "analyse", str(path), "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert f"{path}:2: column 'knowledge_rank.crime_analysis': rank 9 is outside 1-7" in r.output.replace(
        "\n", ""
    )
