"""The drivers section's readings in Welsh are phrased from the model's fields and quote the numbers the
English reading (written by :func:`diogel.analysis.drivers.reading_goes_with`) quotes."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from diogel.analysis.drivers import reading_goes_with
from diogel.report.i18n import language
from diogel.report.sections.drivers import reading_words


@pytest.mark.parametrize(
    ("irr", "lower", "upper"), [(1.41, 1.30, 1.53), (0.80, 0.70, 0.91), (1.05, 0.96, 1.15)]
)
def test_the_welsh_reading_quotes_the_english_numbers(irr: float, lower: float, upper: float) -> None:
    row = pd.Series({"label": "income deprivation score", "crime_type": "Violence and sexual offences",
                     "irr": irr, "irr_lower": lower, "irr_upper": upper})  # fmt: skip
    english = reading_goes_with("income deprivation score", irr, lower, upper, "violence and sexual offences")
    with language("en"):
        assert reading_words(row) == english
    with language("cy"):
        welsh = reading_words(row)
    assert "sgôr amddifadedd incwm" in welsh and "trais a throseddau rhywiol" in welsh
    assert ("yn fwy o gofnodion" in welsh) == (irr >= 1) and ("yn llai o gofnodion" in welsh) == (irr < 1)
    assert re.findall(r"\d+%", welsh) == re.findall(r"\d+%", english)
