"""Sentences made outside the portal, in Welsh: the disclosure rule of :func:`diogel.disclosure.suppress`
and the quarantine reasons of the police.uk reader, produced here by the real code (a real table, a
real police.uk file with broken lines), then put into words by :mod:`diogel.portal.phrases`."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from conftest import POLICE
from diogel.disclosure import suppress
from diogel.portal import i18n, phrases

TABLE = pd.DataFrame([[1, 10, 20], [30, 2, 40], [50, 60, 70]], index=list("abc"), columns=list("xyz"))


@pytest.fixture
def welsh():
    token = i18n.set_language("cy")
    yield
    i18n._current.reset(token)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"secondary": False},
        {"threshold": 2},
        {"threshold": 1},
        {"suppress_zero": True},
        {"margins": False},
    ],
)
def test_every_shape_of_the_rule_sentence_is_put_into_welsh(welsh, options: dict) -> None:  # noqa: ANN001
    rule = suppress(TABLE, **options).rule
    words = phrases.rule_words(rule)
    assert words != rule, rule  # recognised, not passed through
    assert "suppress" not in words and "cuddio" in words, words
    # The same numbers, in the same order.
    assert re.findall(r"\d+", words) == re.findall(r"\d+", rule.replace("(published elsewhere)", ""))


def test_the_rule_in_english_keeps_its_numbers_and_an_unknown_sentence_passes_through() -> None:
    rule = suppress(TABLE).rule
    words = phrases.rule_words(rule)
    assert "Counts from 1 to 4 are suppressed (primary suppression)." in words
    assert re.findall(r"\d+", words) == re.findall(r"\d+", rule)
    assert phrases.rule_words("Something else entirely.") == "Something else entirely."


def test_quarantine_reasons_of_a_real_file_are_put_into_welsh(welsh) -> None:
    from diogel.sources import policeuk_street

    lines = (POLICE / "2024-06-gwent-street.csv").read_bytes().splitlines(keepends=True)
    body = lines[1:11]
    body[0] = body[0].replace(b",2024-06,", b",2024-13,", 1)
    body[1] = (
        body[1]
        .replace(b",Anti-social behaviour,", b",Mischief,", 1)
        .replace(b",Criminal damage and arson,", b",Mischief,", 1)
    )
    body[2] = re.sub(rb",-3\.\d+,", b",abc,", body[2], count=1)
    body[3] = re.sub(rb",W01\d{6},", b",X01000001,", body[3], count=1)
    body[4] = b"only,three,fields\n"
    parsed = policeuk_street.read("2024-06-gwent-street.csv", lines[0] + b"".join(body))
    reasons = list(parsed.quarantined.reason)
    assert len(reasons) == 5, reasons
    for reason in reasons:
        words = phrases.reason_words(reason)
        assert words != reason, f"not recognised: {reason!r}"
        # The file's own values and column names are quoted unchanged.
        for quoted in re.findall(r"'([^']*)'", reason):
            assert quoted in words, (reason, words)
    assert phrases.reason_words("a reason of a new shape") == "a reason of a new shape"


def test_morile_reasons_of_the_packaged_matrix_are_put_into_welsh(welsh) -> None:
    """Real reasons from ``score_priorities`` with the packaged matrix: every criterion's sentence
    (quintile, threshold bands, ratings with a partner's note, a missing value) is rebuilt in Welsh
    with its numbers."""
    from diogel.analysis.priorities import score_priorities

    measures = pd.DataFrame(
        {
            "crime_type": ["Shoplifting", "Burglary", "Drugs", "Robbery", "Public order"],
            "css_harm_per_1000": [12.5, 40.1, 3.2, 25.0, 8.8],
            "rate_per_1000": [9.1, 0.4, 2.5, 12.0, 5.0],
            "trend_pct_change": [31.0, -12.0, 0.0, 5.5, 12.0],
            "top10_share": [0.55, 0.1, 0.3, 0.25, 0.45],
            "vulnerability_rating": [2, 4, 3, 5, None],
            "vulnerability_rating_note": ["repeat victims; small shops", "", "", "", ""],
            "community_vote_share": [0.25, 0.01, 0.05, 0.0, 0.12],
            "capacity_rating": [3, 2, 4, 1, 5],
        }
    )
    out = score_priorities(measures, allow_missing=True)
    for reasons in out.reasons:
        words = phrases.morile_words(reasons)
        assert "per 1,000 residents" not in words and "quintile" not in words, words
        assert "fesul 1,000 o drigolion" in words
        # Every number survives (as it came: 1,234.5 is written alike in Welsh).
        for n in re.findall(r"\d[\d,.]*\d|\d", reasons):
            assert n in words, (n, reasons, words)
    assert "repeat victims; small shops" in phrases.morile_words(
        out.reasons.iloc[list(out.crime_type).index("Shoplifting")]
    )
    assert phrases.morile_words("another matrix 3/5: its own words") == "another matrix 3/5: its own words"


def test_the_map_tooltips_are_put_into_welsh(welsh) -> None:
    """The tooltips exactly as :func:`choropleth_svg` writes them (a real polygon, rates and a hot spot)."""
    import geopandas as gpd
    from shapely.geometry import Polygon

    from diogel.portal.views import choropleth_svg

    square = Polygon([(-3.0, 51.5), (-2.99, 51.5), (-2.99, 51.51), (-3.0, 51.51)])
    gdf = gpd.GeoDataFrame(
        {"lsoa_code": ["W01001600", "W01001601"], "lsoa_name": ["Newport 001A", "Newport 001B"]},
        geometry=[square, square.buffer(0.001)],
        crs="EPSG:4326",
    )
    values = pd.DataFrame({"rate_per_1000": [12.34, None]}, index=["W01001600", "W01001601"])
    hot = pd.DataFrame({"bin": ["Hot spot 99%"]}, index=["W01001600"])
    svg = choropleth_svg(gdf, values, hot)
    words = phrases.map_titles(svg)
    assert "Newport 001A (W01001600): 12.3 fesul 1,000 - man problemus" in words, words
    assert "Newport 001B (W01001601): dim poblogaeth" in words
    assert "per 1,000" not in words and "hot spot" not in words


@pytest.mark.parametrize(
    "data",
    [
        b"",  # empty
        b"%PDF-1.4 not a csv",  # another kind of file
        b"a,b,c\n1,2,3\n",  # wrong header: missing and unexpected columns
        b"Crime ID,Month\n1,2\n",  # wrong header: missing columns
    ],
)
def test_why_an_uploaded_file_was_refused_is_put_into_welsh(welsh, data: bytes) -> None:  # noqa: ANN001
    """The refusal exactly as the police.uk reader gives it for a real bad file (``<file>[:line][: column
    'c']: <reason>``, as an upload's result holds it), rebuilt in Welsh with the file's names unchanged."""
    from diogel.errors import InputError
    from diogel.sources import policeuk_street

    with pytest.raises(InputError) as refused:
        policeuk_street.read("upload.csv", data)
    text = str(refused.value)
    words = phrases.refusal_words(text)
    assert words != text, f"not recognised: {text!r}"
    assert words.startswith("upload.csv"), words
    for quoted in re.findall(r"'([^']*)'", text):  # the file's own column names, as they came
        assert quoted in words, (text, words)
    for english in ("the file is", "not a CSV", "wrong header", "missing", "unexpected", "column '"):
        assert english not in words, (english, words)


def test_a_refusal_of_an_unknown_shape_passes_through(welsh) -> None:  # noqa: ANN001
    assert (
        phrases.refusal_words("upload.csv: a reason of a new shape") == "upload.csv: a reason of a new shape"
    )
    assert phrases.refusal_words("") == ""
