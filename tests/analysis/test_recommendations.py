"""The recommendation rules: which fire on hand-made facts, what they cite, and the analyst's input."""

from __future__ import annotations

from pathlib import Path

import pytest

from diogel.analysis.harm import POLICEUK_CRIME_TYPES
from diogel.analysis.recommendations import (
    apply_rules,
    load_analyst_input,
    load_rules,
    merge_analyst,
    validate_rules,
)
from diogel.errors import DiogelError

RULES = {
    "rules": [
        {
            "id": "rise",
            "for_each": "crime_type",
            "theme": "Rising",
            "when": [["levels.{slug}.pct", ">=", 10], ["levels.{slug}.p", "<", 0.05]],
            "conclusion": "{crime_type} rose {levels.{slug}.pct|signed_pct} to {levels.{slug}.count|count}.",
            "recommendation": "Profile {crime_type}.",
            "priority": "medium",
        },
        {
            "id": "top",
            "for_each": "crime_type",
            "when": [["priorities.matrix[{crime_type}].rank", "<=", 1]],
            "conclusion": "{crime_type} ranks {priorities.matrix[{crime_type}].rank|rank}.",
            "recommendation": "Adopt it.",
            "priority": "high",
            "cite": ["harm.by_type"],
        },
        {
            "id": "hidden",
            "when": [["partner.violence.share_not_reported", ">=", "$limits.share"]],
            "conclusion": "{partner.violence.share_not_reported|share} not reported.",
            "recommendation": "Share ED data.",
            "priority": "low",
        },
    ]
}
TYPES = {"Burglary": "burglary", "Shoplifting": "shoplifting", "Drugs": "drugs"}


def test_rules_fire_on_the_facts_that_meet_them_and_cite_them():
    facts = {
        # Burglary: +12.0%, p = 0.01 -> fires. Shoplifting: +25%, p = 0.2 -> not. Drugs: p missing.
        "levels.burglary.pct": 12.04, "levels.burglary.p": 0.01, "levels.burglary.count": 1234.0,
        "levels.shoplifting.pct": 25.0, "levels.shoplifting.p": 0.2, "levels.shoplifting.count": 90.0,
        "levels.drugs.pct": 40.0, "levels.drugs.p": None,
        "priorities.matrix[Shoplifting].rank": 1, "priorities.matrix[Burglary].rank": 2,
        "partner.violence.share_not_reported": 0.6, "limits.share": 0.5,
    }  # fmt: skip
    recs, unjudged = apply_rules(facts, RULES, TYPES)
    # high first, then medium, then low.
    assert [r.id for r in recs] == ["top:shoplifting", "rise:burglary", "hidden"]
    top, rise, hidden = recs
    assert "".join(s.text for s in rise.conclusion) == "Burglary rose +12.0% to 1,234."
    assert rise.figures == ("levels.burglary.pct", "levels.burglary.p", "levels.burglary.count")
    assert "".join(s.text for s in top.conclusion) == "Shoplifting ranks 1st."
    assert top.figures == ("priorities.matrix", "harm.by_type")
    assert [s.figure for s in top.conclusion if s.figure] == ["priorities.matrix"]
    assert "".join(s.text for s in hidden.conclusion) == "60% not reported."
    assert hidden.figures == ("partner.violence.share_not_reported",)
    # Drugs' p-value is missing: not judged (and said), never fired. Burglary/Drugs have no matrix row.
    assert ("rise:drugs", ["levels.drugs.p"]) in unjudged
    assert all(r.source == "generated" for r in recs)


def test_a_fact_at_the_threshold_fires_and_just_below_does_not():
    rule = {"rules": [dict(RULES["rules"][0], when=[["levels.{slug}.pct", ">=", 10]])]}
    at = {"levels.burglary.pct": 10.0, "levels.burglary.count": 5.0}
    assert [r.id for r in apply_rules(at, rule, TYPES)[0]] == ["rise:burglary"]
    assert apply_rules(at | {"levels.burglary.pct": 9.99}, rule, TYPES)[0] == []
    # A fact the text quotes is missing: the rule is not judged rather than printed with a gap.
    recs, unjudged = apply_rules({"levels.burglary.pct": 10.0}, rule, TYPES)
    assert recs == [] and unjudged[0] == ("rise:burglary", ["a fact quoted in the text"])


def test_the_packaged_rules_are_valid_and_fire_on_a_rise():
    rules = load_rules()
    facts = {"levels.burglary.pct": 15.0, "levels.burglary.p": 0.001, "levels.burglary.count": 300.0,
             "levels.burglary.previous": 261.0, "levels.by_type[Burglary].gap_in_comparison": False}  # fmt: skip
    types = {t: t.lower().replace(" ", "_") for t in POLICEUK_CRIME_TYPES}
    recs, _ = apply_rules(facts, rules, types)
    rise = next(r for r in recs if r.id == "significant_rise:burglary")
    assert "from 261 to 300 records (+15.0%" in "".join(s.text for s in rise.conclusion)
    assert rise.priority == "high" and "levels.by_type" in rise.figures
    # A supply gap in either year: the same numbers are not read as a rise.
    gap = apply_rules(facts | {"levels.by_type[Burglary].gap_in_comparison": True}, rules, types)[0]
    assert not any(r.id == "significant_rise:burglary" for r in gap)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({}, "needs a 'rules' list"),
        (
            {
                "rules": [
                    {
                        "id": "a",
                        "when": [["x", "~", 1]],
                        "conclusion": "",
                        "recommendation": "",
                        "priority": "high",
                    }
                ]
            },
            "operator '~'",
        ),  # fmt: skip
        (
            {
                "rules": [
                    {
                        "id": "a",
                        "when": [["x", "<", 1]],
                        "conclusion": "{x|pounds}",
                        "recommendation": "",
                        "priority": "high",
                    }
                ]
            },
            "format 'pounds'",
        ),  # fmt: skip
        (
            {
                "rules": [
                    {
                        "id": "a",
                        "when": [["x", "<", 1]],
                        "conclusion": "",
                        "recommendation": "",
                        "priority": "urgent",
                    }
                ]
            },
            "priority must be one of",
        ),  # fmt: skip
    ],
)
def test_a_bad_rules_file_names_the_problem(rules, message):
    with pytest.raises(DiogelError, match=message):
        validate_rules(rules, "mine.yaml")


def test_analyst_markdown_replaces_adds_and_fills_headings(tmp_path: Path):
    md = tmp_path / "analyst.md"
    md.write_text(
        "# Recommendations\n"
        "- [rise:burglary] Burglary: fund target hardening in the two wards\n"
        "  named in the profile.\n"
        "- Review the night-time economy plan with licensing.\n\n"
        "# PESTELO\n## Political\nA new PCC plan from April.\n\n"
        "# Problem analysis triangle\n## offender\nA small group of prolific offenders (police briefing).\n\n"
        "# Conclusion\nThe partnership should focus on violence.\n",
        encoding="utf-8",
    )
    a = load_analyst_input(md)
    assert a.pestelo == {"Political": "A new PCC plan from April."}
    assert a.triangle == {"Offender": "A small group of prolific offenders (police briefing)."}
    assert a.conclusion == "The partnership should focus on violence."
    facts = {"levels.burglary.pct": 12.0, "levels.burglary.p": 0.01, "levels.burglary.count": 1234.0}
    generated, _ = apply_rules(facts, RULES, TYPES)
    merged = merge_analyst(generated, a)
    assert [(r.id, r.source) for r in merged] == [("rise:burglary", "analyst"), ("analyst:2", "analyst")]
    replaced = merged[0]
    assert replaced.recommendation[0].text == (
        "Burglary: fund target hardening in the two wards named in the profile."
    )
    # The generated conclusion and its figures stay: the analyst changed what to do, not the evidence.
    assert "".join(s.text for s in replaced.conclusion) == "Burglary rose +12.0% to 1,234."
    assert replaced.figures == generated[0].figures and replaced.replaces == "rise:burglary"


def test_analyst_yaml_with_own_rules(tmp_path: Path):
    y = tmp_path / "analyst.yaml"
    y.write_text(
        "recommendations:\n  - text: Add a youth diversion post.\n    figures: [levels.drugs.count]\n"
        "    priority: high\n"
        "triangle: {Location: Newport city centre}\n"
        "rules:\n  - id: any\n    when: [[x, '>', 0]]\n    conclusion: 'x is {x|count}'\n"
        "    recommendation: act\n    priority: low\n",
        encoding="utf-8",
    )
    a = load_analyst_input(y)
    assert a.rules is not None and a.triangle == {"Location": "Newport city centre"}
    recs, _ = apply_rules({"x": 3}, a.rules, {})
    merged = merge_analyst(recs, a)
    assert [(r.id, r.priority, r.figures) for r in merged] == [
        ("any", "low", ("x",)),
        ("analyst:1", "high", ("levels.drugs.count",)),
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.md", "Some text\n# Recommendations\n", r"a.md:1: text before"),
        ("a.md", "# Ideas\n", r"a.md:1: unknown heading 'Ideas'"),
        ("a.md", "# PESTELO\n## Cultural\nx\n", r"a.md:2: unknown heading 'Cultural'"),
        ("a.yaml", "recommendations: [{priority: high}]\n", "recommendation 1 needs 'text'"),
        ("a.yaml", "recomendations: []\n", "unknown key"),
        ("a.docx", "x", "must be YAML"),
    ],
)
def test_bad_analyst_input_is_one_line_naming_the_place(tmp_path: Path, name, text, message):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DiogelError, match=message):
        load_analyst_input(p)


def test_order_by_and_a_replacement_keeps_its_priority(tmp_path: Path):
    rules = {"rules": [dict(RULES["rules"][1], when=[["priorities.matrix[{crime_type}].rank", "<=", 3]],
                            order_by="priorities.matrix[{crime_type}].rank")]}  # fmt: skip
    facts = {"priorities.matrix[Burglary].rank": 3, "priorities.matrix[Shoplifting].rank": 1,
             "priorities.matrix[Drugs].rank": 2}  # fmt: skip
    recs, _ = apply_rules(facts, rules, TYPES)
    # Crime types come Burglary, Shoplifting, Drugs; ordered by rank they are Shoplifting, Drugs, Burglary.
    assert [r.id for r in recs] == ["top:shoplifting", "top:drugs", "top:burglary"]
    md = tmp_path / "a.md"
    md.write_text("# Recommendations\n- [top:drugs] Our own words.\n", encoding="utf-8")
    merged = merge_analyst(recs, load_analyst_input(md))
    drugs = merged[1]
    assert (drugs.id, drugs.source, drugs.priority) == ("top:drugs", "analyst", "high")
    assert drugs.recommendation[0].text == "Our own words."
