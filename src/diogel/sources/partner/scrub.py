"""Redact personal identifiers from partner free text, and recognise a value that is one as a whole.

A free-text field a schema marks ``scrub`` (see :mod:`diogel.sources.partner.schema`) is stored only after
:func:`scrub_text` has replaced every identifier it finds with a typed placeholder:

=====================  ==========================================================================
placeholder            found by
=====================  ==========================================================================
``<NHS_NUMBER>``       Presidio's ``NhsRecognizer`` (10 digits, spaced or not, modulus-11 check)
``<NI_NUMBER>``        Presidio's ``UkNinoRecognizer`` (HMRC's prefix rules)
``<PHONE_NUMBER>``     Presidio's ``PhoneRecognizer`` (libphonenumber, GB) and a UK dialling-pattern
                       recogniser (``+44``/``0044``/``0`` then 9-10 digits), which also catches
                       Ofcom's drama ranges that libphonenumber calls invalid
``<EMAIL_ADDRESS>``    Presidio's ``EmailRecognizer`` pattern (without its on-line suffix check)
``<POSTCODE>``         Presidio's ``UkPostcodeRecognizer`` (a full postcode; outward codes stay)
``<DATE_OF_BIRTH>``    Presidio's ``DateRecognizer`` and a day-month-year recogniser for month
                       names in English and Welsh (``12 March 1985``, ``3ydd Mawrth 1985``): any
                       date in free text is treated as a possible date of birth
``<PERSON>``           diogel's name lists (below): a title and a capitalised word (``Mrs Tregenna``),
                       a given name followed by one to three capitalised words
                       (``Siôn Abernethy``), or a capitalised word followed by a listed surname;
                       not when a place word follows (``Belle Vue Park``, ``General Rees Square``)
                       nor after a phrase-starting word (``The Lamb``)
=====================  ==========================================================================

Presidio's analyzer is driven without an NLP engine: its pattern recognisers are called directly with
``nlp_artifacts=None`` (no spaCy model is needed or loaded), and its anonymizer resolves overlapping
findings and writes the placeholders.

The name lists are real published lists (``diogel/data/names``, sources in the README there): every
given name registered for at least three babies in England and Wales in 2022-2024 and the top 100 in
Wales (ONS baby names), the top 100 at ten-year intervals 1904-2024 (ONS), and the first names and
surnames of the ONS reference tables, with diogel's list of common Welsh given names and surnames.
Matching folds case and diacritics (ONS records ``Sion`` for ``Siôn``).

:func:`whole_value_kind` answers, for one value in any column, whether the value as a whole is a
person's name, a date of birth or another identifier: the whole-value checks the ingest applies to
every stored text column.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable

import pandas as pd

from diogel import data
from diogel.sources.partner.identifiers import (
    is_email,
    is_full_postcode,
    is_uk_phone,
    is_valid_nhs_number,
    is_valid_ni_number,
)
from diogel.sources.partner.values import parse_datetimes

PLACEHOLDERS = {
    "UK_NHS": "<NHS_NUMBER>",
    "UK_NINO": "<NI_NUMBER>",
    "PHONE_NUMBER": "<PHONE_NUMBER>",
    "EMAIL_ADDRESS": "<EMAIL_ADDRESS>",
    "UK_POSTCODE": "<POSTCODE>",
    "DATE_TIME": "<DATE_OF_BIRTH>",
    "PERSON": "<PERSON>",
}
NAME_FILES_GIVEN = (
    "given_names_ons_england_wales_2022_2024.txt",
    "given_names_ons_wales_top100_2022_2024.txt",
    "given_names_ons_top100_1904_2024.txt",
    "given_names_ons_reference_tables.txt",
    "given_names_diogel_wales.txt",
)
NAME_FILES_SURNAME = ("surnames_ons_reference_tables.txt", "surnames_diogel_wales.txt")

_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Rev|Sir|Dame|Master|Mistar|Mrs\.|Meistr)"
# A capitalised word in English or Welsh spelling: Siôn, O'Neill, Ap-Rhys, McDonald.
_CAP = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿŵŷ]+(?:['’-][A-ZÀ-ÖØ-Þa-zß-öø-ÿŵŷ][a-zß-öø-ÿŵŷ]*)*"
_CAP_RE = re.compile(_CAP)
_TITLE_RE = re.compile(rf"\b{_TITLES}\.?\s+(?:[A-Z]\.?\s+)*{_CAP}")
# Words that follow a given name in a place, not a person: "Victoria Street", "Grace Park".
_PLACE_WORDS_TEXT = """
    lion crown swan oak anchor bell plough horse head stores express tap vaults dragon harp star
    supermarket takeaway kitchen restaurant cafe bistro grill diner bakery shop store garden palace
    street st road rd avenue ave lane close drive way crescent place court gardens terrace hill grove walk
    view rise square parade row mews park green fields field vale heights bridge station centre center
    hospital school college university church chapel hall house arms inn hotel tavern club bar pub
    lounge estate retail shopping market precinct quay dock wharf bay beach common wood woods
    stryd heol ffordd lon lôn cilgant maes parc ysgol capel eglwys tafarn gwesty
"""
_PLACE_WORDS = frozenset(_PLACE_WORDS_TEXT.split())
# Capitalised words that start a phrase rather than a name: "The Lamb", "Outside Black's".
_STOP_WORDS_TEXT = """
    the a an and or of at in on by to from near outside inside opposite behind beside off via
    y yr ar yn ger wrth tu o i
"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|"
    "Ionawr|Chwefror|Mawrth|Ebrill|Mai|Mehefin|Gorffennaf|Awst|Medi|Hydref|Tachwedd|Rhagfyr"
)
_WORDY_DATE = (
    rf"\b\d{{1,2}}(?:st|nd|rd|th|af|ail|ydd|edd|fed|ed)?\s+(?:of\s+)?(?:{_MONTHS})\.?,?\s+\d{{2,4}}\b"
)
_SHORT_DATE = r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2}\b"
_UK_PHONE = r"(?<![\w+])(?:\+44\s?\(?0?\)?|0044\s?|0)[1235789](?:[\s-]?\d){8,9}\b"


def _fold(word: str) -> str:
    """Case- and diacritic-folded form used for list look-ups (``Siôn`` -> ``sion``)."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().replace("’", "'")


def _read_names(files: Iterable[str]) -> frozenset[str]:
    names: set[str] = set()
    for name in files:
        text = data.path("names", name).read_text(encoding="utf-8")
        names.update(_fold(line.strip()) for line in text.splitlines() if line.strip())
    return frozenset(names)


@functools.lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Folded given names from the shipped lists (English and Welsh)."""
    return _read_names(NAME_FILES_GIVEN)


@functools.lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    """Folded surnames from the shipped lists (English and Welsh)."""
    return _read_names(NAME_FILES_SURNAME)


# ----------------------------------------------------------------------------------------------------
# Recognisers


def _person_spans(text: str) -> list[tuple[int, int]]:
    """Spans of personal names in ``text`` by diogel's name lists (see the module docstring)."""
    given, family = given_names(), surnames()
    spans = [(m.start(), m.end()) for m in _TITLE_RE.finditer(text)]
    words = list(_CAP_RE.finditer(text))
    i = 0
    while i < len(words):
        # A run of capitalised words separated only by spaces.
        j = i
        while j + 1 < len(words) and text[words[j].end() : words[j + 1].start()] in (" ", "  "):
            j += 1
        run = words[i : j + 1]
        folded = [_fold(w.group()) for w in run]
        k = 0
        while k < len(run) - 1:
            window = folded[k + 1 : k + 4]
            # A name directly followed by a place word names the place: "Belle Vue Park", "General Rees
            # Square", "John Frost Square"; a place word ends the name that can precede it.
            cut = next((n for n, w in enumerate(window) if w in _PLACE_WORDS), len(window))
            place = cut < len(window)
            if folded[k] in _STOP_WORDS or folded[k] in _PLACE_WORDS:
                k += 1
                continue
            if folded[k] in given and cut:
                if not place:
                    spans.append((run[k].start(), run[k + cut].end()))
                k += cut + 1
                continue
            if folded[k + 1] in family and cut:
                if not (cut == 1 and place):
                    spans.append((run[k].start(), run[k + 1].end()))
                k += 2
                continue
            k += 1
        i = j + 1
    return spans


@functools.lru_cache(maxsize=1)
def _recognizers() -> tuple:
    """Presidio pattern recognisers for the identifiers above (built once; no NLP engine)."""
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import (
        DateRecognizer,
        EmailRecognizer,
        NhsRecognizer,
        PhoneRecognizer,
        UkNinoRecognizer,
        UkPostcodeRecognizer,
    )

    class OfflineEmailRecognizer(EmailRecognizer):
        # The stock validation looks the domain up in the public suffix list, which it downloads.
        def validate_result(self, pattern_text: str) -> bool:
            return bool(re.search(r"\.[A-Za-z]{2,}$", pattern_text))

    wordy_dates = PatternRecognizer(
        supported_entity="DATE_TIME",
        name="DayMonthYearRecognizer",
        patterns=[
            Pattern("day month year", _WORDY_DATE, 0.6),
            Pattern("dd-mm-yy", _SHORT_DATE, 0.4),
        ],
        global_regex_flags=re.IGNORECASE,
    )
    uk_phone = PatternRecognizer(
        supported_entity="PHONE_NUMBER",
        name="UkDiallingPatternRecognizer",
        patterns=[Pattern("uk dialling pattern", _UK_PHONE, 0.5)],
    )
    return (
        NhsRecognizer(),
        UkNinoRecognizer(),
        PhoneRecognizer(supported_regions=("GB",)),
        uk_phone,
        OfflineEmailRecognizer(),
        UkPostcodeRecognizer(),
        DateRecognizer(),
        wordy_dates,
    )


def find_identifiers(text: str) -> list:
    """Presidio ``RecognizerResult`` objects for every identifier in ``text`` (names included)."""
    from presidio_analyzer import RecognizerResult

    results = []
    for recognizer in _recognizers():
        found = recognizer.analyze(text, entities=recognizer.supported_entities, nlp_artifacts=None)
        # A NI number's digits also look like a phone number to a lenient matcher; the NI number wins.
        results.extend(r for r in found or [] if r.score > 0)
    results.extend(RecognizerResult("PERSON", a, b, 0.85) for a, b in _person_spans(text))
    return results


@functools.lru_cache(maxsize=1)
def _anonymizer():  # noqa: ANN202
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()


def scrub_text(text: str) -> str:
    """``text`` with every identifier replaced by its typed placeholder (see the module docstring)."""
    from presidio_anonymizer.entities import OperatorConfig

    found = find_identifiers(text)
    if not found:
        return text
    operators = {k: OperatorConfig("replace", {"new_value": v}) for k, v in PLACEHOLDERS.items()}
    return _anonymizer().anonymize(text=text, analyzer_results=found, operators=operators).text


# ----------------------------------------------------------------------------------------------------
# Whole values

_NAME_SHAPE = re.compile(rf"^(?:{_TITLES}\.?\s+)?{_CAP}(?:\s+{_CAP}){{1,3}}$")
_DATE_SHAPES = (
    re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"),
    re.compile(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$"),
    re.compile(rf"^{_WORDY_DATE}$", re.IGNORECASE),
)


def looks_like_name(value: str) -> bool:
    """True when the whole value is a person's name: two to four capitalised words (after an optional
    title) of which the first is a listed given name or the last a listed surname, and none a place word.
    """
    text = value.strip()
    if not _NAME_SHAPE.match(text):
        return False
    words = [_fold(w) for w in _CAP_RE.findall(text)]
    if _TITLE_RE.match(text):
        return True
    if any(w in _PLACE_WORDS for w in words) or words[0] in _STOP_WORDS:
        return False
    return words[0] in given_names() or words[-1] in surnames()


def looks_like_date_of_birth(value: str, today: dt.date | None = None) -> bool:
    """True when the whole value is a calendar date in the past 110 years (any of the usual forms)."""
    text = value.strip()
    if not any(rx.match(text) for rx in _DATE_SHAPES):
        return False
    parsed = parse_datetimes(pd.Series([text])).iloc[0]
    if pd.isna(parsed):
        parsed = pd.to_datetime(text, dayfirst=True, errors="coerce")
    if pd.isna(parsed):
        return bool(_DATE_SHAPES[2].match(text))  # a Welsh month name pandas cannot read
    today = today or dt.date.today()
    age = (pd.Timestamp(today) - parsed).days / 365.25
    return 0 <= age <= 110


def whole_value_kind(value: str, identifiers: bool = True) -> str | None:
    """The placeholder for a value that as a whole is personal, else None.

    Names and dates of birth always; with ``identifiers``, also NHS and NI numbers, phone numbers,
    e-mail addresses and full postcodes (a column whose schema pattern admits only such a value, e.g. a
    public premises postcode, passes ``identifiers=False``).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    if looks_like_name(value):
        return PLACEHOLDERS["PERSON"]
    if looks_like_date_of_birth(value):
        return PLACEHOLDERS["DATE_TIME"]
    if identifiers:
        checks = (
            (is_valid_nhs_number, "UK_NHS"),
            (is_valid_ni_number, "UK_NINO"),
            (is_uk_phone, "PHONE_NUMBER"),
            (is_email, "EMAIL_ADDRESS"),
            (is_full_postcode, "UK_POSTCODE"),
        )
        for check, entity in checks:
            if check(value):
                return PLACEHOLDERS[entity]
    return None


def contains_personal(value: str) -> bool:
    """True when ``value`` holds any identifier or name anywhere in it (or is one as a whole)."""
    return bool(find_identifiers(value)) or whole_value_kind(value) is not None
