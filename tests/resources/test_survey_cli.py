"""``diogel survey analyse``: the shipped synthetic responses and a small hand-worked file."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from diogel.cli import app
from diogel.resources.survey import load_questions, read_responses
from diogel.resources.survey_analysis import rank_summary

SYNTHETIC = Path(str(resources.files("diogel.resources") / "templates" / "synthetic_survey_responses.csv"))
POINTS = "Points (n - rank from each respondent)"
TOP3 = "Respondents ranking it in their top three"
runner = CliRunner()


def test_default_is_the_synthetic_file_and_says_so(tmp_path):
    r = runner.invoke(app, ["survey", "analyse", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert "SYNTHETIC" in r.output and "60 respondents" in r.output
    survey = load_questions()
    expected = rank_summary(read_responses(SYNTHETIC, survey), survey, "knowledge_rank")
    got = pd.read_csv(tmp_path / "rank_knowledge_rank.csv")
    assert got["Item id"].tolist() == expected["item"].tolist()
    assert got[POINTS].tolist() == expected["borda"].tolist()
    # Every respondent ranked all 7 items: Borda points per respondent are 6+5+...+0 = 21.
    assert got[POINTS].sum() == 60 * 21 and got[TOP3].sum() == 60 * 3
    for name in ("priorities.csv", "likert_la_engagement.svg", "choices_influential_organisations.csv",
                 "profile_role.csv", "profile_fte_by_role.csv", "figure_1.svg"):  # fmt: skip
        assert (tmp_path / name).exists()
    page = (tmp_path / "survey_report.html").read_text()
    # Figures: 2 rankings, priorities, influence, qualification, 3 Likert, 6 profile questions with choices.
    assert page.count("<svg") == 14 and "SYNTHETIC DATA" in page and "<script" not in page
    assert "Figure 1: Rank these types of knowledge" in page and "Figure 8: " in page
    # Readable labels only: no internal column names in any output.
    for f in [tmp_path / "survey_report.html", *tmp_path.glob("*.csv")]:
        text = f.read_text()
        for raw in ("n_ranked", "borda", "pct_1", "count_1", "priority_count", "mean_rank"):
            assert raw not in text, (f.name, raw)
    assert "n_ranked" not in r.output and "borda" not in r.output.casefold()
    assert "workforce profile" in r.output
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
    rank = pd.read_csv(tmp_path / "out" / "rank_knowledge_rank.csv").set_index("Item id")
    # n = 7 items, Borda = sum of (7 - rank): crime analysis 6 + 5 + 6 = 17; problem solving 5 + 6 + 4 = 15.
    assert rank.loc["crime_analysis", POINTS] == 17 and rank.loc["problem_solving", POINTS] == 15
    assert rank.loc["crime_analysis", "Mean rank (1 = most important)"] == pytest.approx(4 / 3)
    assert rank.loc["community_engagement", TOP3] == 3 and rank.loc["evaluation", TOP3] == 0
    assert rank.index[0] == "crime_analysis"
    pr = pd.read_csv(tmp_path / "out" / "priorities.csv").set_index("Item id")
    # ASB: priority 3 times, never least important (net +3); road safety 1 - 2 = -1.
    cols = ["Chosen as a top priority", "Chosen as least important", "Net (top priority - least important)"]
    assert pr.loc["asb", cols].tolist() == [3, 0, 3]
    assert pr.loc["road_safety", cols[2]] == -1 and pr.index[0] == "asb"
    lk = pd.read_csv(tmp_path / "out" / "likert_professionalisation.csv").set_index("Item id")
    # 5 and 4 agree, 1 disagrees: 2 of 3 answers positive, 1 of 3 negative; two items unanswered.
    row = lk.loc["recognised_profession"]
    assert (
        row["Answers"] == 3
        and row["% positive"] == pytest.approx(200 / 3)
        and row["% negative"] == pytest.approx(100 / 3)
        and row["Strongly agree (answers)"] == 1
        and row["Agree (%)"] == pytest.approx(100 / 3)
    )
    assert lk.loc["career_path", "Answers"] == 0
    assert "Anti-social behaviour (priority 3, least important 0, net +3)" in r.output


def test_workforce_profile_by_hand(tmp_path):
    rows = [
        {"respondent_id": "R1", "role": "manager", "post_title": "Community Safety Manager", "fte": 1.0,
         "funding_source": "core_la", "grade": "po_high", "time_in_post": "y6_10", "qualifications": "cs_degree;analysis",
         "training_needs": "evaluation;data_sharing"},
        {"respondent_id": "R2", "role": "analyst", "post_title": "partnership  analyst", "fte": 0.5,
         "funding_source": "wg_grant", "grade": "so", "time_in_post": "under_1", "qualifications": "analysis",
         "training_needs": "evaluation"},
        {"respondent_id": "R3", "role": "analyst", "post_title": "Partnership Analyst", "fte": 0.8,
         "funding_source": "wg_grant", "qualifications": "none"},
        {"respondent_id": "R4", "role": "coordinator", "funding_source": "mixed"},
    ]  # fmt: skip
    path = _write(tmp_path / "responses.csv", rows)
    r = runner.invoke(app, ["survey", "analyse", str(path), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    fte = pd.read_csv(out / "profile_fte.csv").iloc[0]
    # 1.0 + 0.5 + 0.8 = 2.3 FTE over 3 answers; mean 0.7667, median 0.8.
    assert fte["Respondents who answered"] == 3 and fte["Total FTE"] == pytest.approx(2.3)
    assert fte["Mean"] == pytest.approx(2.3 / 3) and fte["Median"] == pytest.approx(0.8)
    by_role = pd.read_csv(out / "profile_fte_by_role.csv").set_index("Item")
    assert by_role.loc["Analyst or researcher", ["Respondents", "Total FTE"]].tolist() == [
        2,
        pytest.approx(1.3),
    ]
    assert by_role.loc["Community safety coordinator or officer", "Total FTE"] == 0
    titles = pd.read_csv(out / "profile_post_title.csv")
    # Case and spacing folded: two Partnership Analysts, one manager.
    assert titles.values.tolist() == [["partnership analyst", 2], ["Community Safety Manager", 1]]
    quals = pd.read_csv(out / "profile_qualifications.csv").set_index("Item id")
    assert quals.loc["analysis", "Respondents"] == 2
    assert quals.loc["analysis", "Share of respondents who answered"] == pytest.approx(2 / 3)
    cross = pd.read_csv(out / "profile_role_by_funding_source.csv").set_index("Role")
    assert (
        cross.loc[
            "Analyst or researcher", "Welsh Government grant (e.g. Safer Communities Fund, substance misuse)"
        ]
        == 2
    )
    assert "full-time equivalent: 2.3 over 3 posts" in r.output


def test_a_bad_response_is_one_line_naming_file_row_and_column(tmp_path):
    path = _write(tmp_path / "bad.csv", [{"respondent_id": "R1", "knowledge_rank.crime_analysis": 9}])
    r = runner.invoke(app, ["survey", "analyse", str(path), "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert f"{path}:2: column 'knowledge_rank.crime_analysis': rank 9 is outside 1-7" in r.output.replace(
        "\n", ""
    )
