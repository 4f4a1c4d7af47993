"""The "Where next" section says why it uses its method in the report's language, from the same
summary rows the analysis chose from: in English word for word the analysis module's reason, in
Welsh with the same numbers. LSOA names follow the Welsh authority name."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from diogel.analysis.forecast_eval import BASELINE, choose
from diogel.analysis.forecast_run import ForecastResult
from diogel.report.i18n import language
from diogel.report.sections.where import lsoa_name
from diogel.report.sections.where_next import verdict, verdict_words


def summary(rows: list[tuple[str, float, float, float, int]]) -> pd.DataFrame:
    """Summary rows at 1%, 5% and 10% of the area: (method, mean PAI, PAI ratio, Wilcoxon p, origins better)."""
    out = []
    for coverage in (0.01, 0.05, 0.10):
        for method, pai, ratio, p, better in rows:
            # Only the 5% rows decide; the others differ so a wrong coverage would show.
            scale = 1.0 if coverage == 0.05 else 0.5
            out.append({"method": method, "coverage": coverage, "origins": 6, "pai_mean": pai * scale,
                        "pai_ratio": ratio, "pai_better": better, "wilcoxon_p": p})  # fmt: skip
    return pd.DataFrame(out)


def result(s: pd.DataFrame) -> ForecastResult:
    empty = pd.DataFrame()
    return ForecastResult([], 3, pd.Timestamp("2025-06-01"), empty, s, choose(s), empty)


CASES = {
    "beats": [(BASELINE, 4.0, 1.0, float("nan"), 0), ("count_model_negbin", 5.0, 1.25, 0.016, 6)],
    "does not beat": [
        (BASELINE, 11.12, 1.0, float("nan"), 0),
        ("count_model_negbin", 11.14, 1.002, 0.406, 2),
    ],
    "only the naive map": [(BASELINE, 3.0, 1.0, float("nan"), 0)],
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_english_verdict_is_the_analysis_reason(case: str) -> None:
    r = result(summary(CASES[case]))
    with language("en"):
        assert str(verdict_words(verdict(r))) == r.choice.reason + "."


@pytest.mark.parametrize("case", list(CASES))
def test_the_welsh_verdict_quotes_the_same_numbers(case: str) -> None:
    r = result(summary(CASES[case]))
    with language("en"):
        english = str(verdict_words(verdict(r)))
    with language("cy"):
        welsh = str(verdict_words(verdict(r)))
    assert welsh != english and "naïf" in welsh
    numbers = re.compile(r"[+-]?\d+(?:\.\d+)?%?")
    assert sorted(numbers.findall(welsh)) == sorted(numbers.findall(english))


def test_no_verdict_without_a_choice() -> None:
    empty = pd.DataFrame()
    r = ForecastResult([], 3, pd.Timestamp("2025-06-01"), empty, empty, None, empty)
    assert verdict(r) is None and str(verdict_words(None)) == ""


def test_lsoa_names_follow_the_welsh_authority_name() -> None:
    with language("cy"):
        assert lsoa_name("Newport 014B") == "Casnewydd 014B"
        assert lsoa_name("Rhondda Cynon Taf 001A") == "Rhondda Cynon Taf 001A"
        assert lsoa_name("Hartlepool 001A") == "Hartlepool 001A"
    with language("en"):
        assert lsoa_name("Newport 014B") == "Newport 014B"
