"""Find personal data in a partner file before anything from it is stored.

Two kinds of evidence, each reported as a :class:`Finding`:

* the column NAME, in English or Welsh (``patient_name``, ``dob``, ``nhs_no``, ``tel``, ``email``,
  ``address``, ``postcode``; ``Enw``, ``Enw llawn``, ``Rhif GIG``, ``Dyddiad geni``, ``Cod post``,
  ``Rhif ffôn``, ``E-bost``, ``Cyfeiriad``), ignoring case, punctuation and diacritics;
* the column CONTENT, from a seeded sample of up to ``sample_size`` non-blank values: personal names
  ("Forename Surname" from the lists below, or "Title Name Surname"), dates of birth, NHS numbers that
  pass the modulus-11 check digit, National Insurance numbers in HMRC's format, UK telephone numbers,
  e-mail addresses, street addresses and full UK postcodes (outward codes such as ``NP20`` are allowed
  by the Regulations and are not reported).

A content finding needs at least ``min_share`` of the sampled values (default 0.2) and at least three
matching values, so that one stray value in a free-text column does not block a file, while a column
that is mostly personal data always does. :func:`check_allowed` then refuses the file unless the
schema gives a treatment for every column found.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from diogel.errors import DiogelError
from diogel.sources.partner.identifiers import (
    is_email,
    is_full_postcode,
    is_outward_code,
    is_uk_phone,
    is_valid_nhs_number,
    is_valid_ni_number,
)
from diogel.sources.partner.schema import Schema
from diogel.sources.partner.scrub import contains_personal, looks_like_name, whole_value_kind
from diogel.sources.partner.values import as_text, parse_datetimes

KIND_LABELS = {
    "personal_name": "personal names",
    "date_of_birth": "dates of birth",
    "nhs_number": "NHS numbers",
    "ni_number": "National Insurance numbers",
    "phone": "phone numbers",
    "email": "e-mail addresses",
    "address": "street addresses",
    "postcode": "full postcodes",
    "patient_identifier": "patient or client identifiers",
}

# Common forenames in England and Wales across generations (ONS baby-name and census lists), with
# Welsh names common in Gwent. Title case; matching case-folds.
_FORENAMES_TEXT = """
    Aaron Abigail Adam Adrian Aimee Alan Albert Alex Alexander Alfie Alice Alison Amanda Amelia Amy
    Andrea Andrew Angela Ann Anna Anne Anthony Archie Arthur Ava Barbara Barry Ben Benjamin Bethan
    Beverley Brian Bryn Callum Carl Carol Caroline Carys Catherine Cerys Charles Charlie Charlotte
    Chloe Christine Christopher Claire Colin Connor Craig Daniel Darren David Dafydd Dawn Dean
    Deborah Dennis Derek Dewi Diane Dylan Edward Eleanor Elin Elizabeth Ella Ellie Emily Emma Eric
    Ethan Evie Ffion Finley Florence Frances Freya Gail Gareth Gary Gavin George Geraint Gethin
    Gillian Glyn Gordon Grace Graham Gwen Gwyneth Hannah Harri Harriet Harry Harvey Hayley Heather
    Helen Hollie Holly Huw Ian Ieuan Iris Isaac Isabel Isabella Isla Ivy Jack Jacob Jacqueline Jade
    James Jamie Jane Janet Jason Jayden Jean Jennifer Jessica Joan Joanne Joe John Jonathan Joseph
    Joshua Joyce Judith Julie Karen Kate Katie Kayleigh Keith Kelly Kenneth Kevin Kieran Kim Kyle
    Laura Lauren Leah Lee Leo Leon Lewis Lily Linda Lisa Liam Logan Louise Lucy Luke Lynne Maisie
    Margaret Maria Mark Martin Mary Matthew Megan Melanie Michael Michelle Mohammed Mollie Muhammad
    Natalie Nathan Neil Nia Nicholas Nicola Noah Oliver Olivia Owain Owen Patricia Paul Pauline
    Peter Philip Poppy Rachel Rebecca Rhian Rhiannon Rhys Richard Robert Ryan Samantha Samuel Sandra
    Sara Sarah Scott Sharon Shaun Sian Simon Sophie Stephen Steven Stuart Susan Tegan Teresa Thomas
    Timothy Tom Tony Tracey Tyler Valerie Victoria Wayne William Yvonne Zoe Zara
"""
FORENAMES = frozenset(_FORENAMES_TEXT.split())

# Common surnames in England and Wales (ONS / Welsh surname studies), Welsh patronymic surnames first.
_SURNAMES_TEXT = """
    Jones Williams Davies Evans Thomas Roberts Hughes Lewis Morgan Griffiths Edwards Price Rees
    Jenkins Powell Phillips Owen Lloyd James Morris Watkins Parry Pritchard Harris Howells Bevan
    Probert Prosser Pugh Vaughan Griffin Llewellyn Meredith Gwynne Bowen Beynon Gough Jenkin
    Rowlands Richards Humphreys Matthews Protheroe Smith Johnson Brown Taylor Wilson Walker Wright
    Robinson Thompson White Hall Green Wood Jackson Clarke Clark Turner Hill Cooper Ward Moore King
    Watson Baker Harrison Young Allen Mitchell Anderson Lee Bell Martin Carter Parker Collins Cook
    Shaw Kelly Murphy Bailey Marshall Simpson Ellis Adams Wilkinson Foster Chapman Mason Webb Rogers
    Hunt Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins Dixon
    Fletcher Pearson Graham Kennedy Gray Cox Dawson Hart Lane Wells Hudson Payne Reynolds Day Fox
    Burton Harvey Dean Gibson Ryan Cole Ford Grant West Hamilton Henderson Stewart Hunter Spencer
    Atkinson Pearce Walsh Patel Khan Ali Ahmed Hussain Begum Singh Kaur Shah Rahman Miah Sharma
    Chowdhury Nguyen Kowalski Nowak Andrews Armstrong Austin Bennett Berry Bishop Black Booth
    Bradley Brooks Burns Campbell Chambers Cunningham Curtis Elliott Ferguson Francis Gardner George
    Gordon Hayes Holland Houghton Howard Jordan Lawrence Lawson Marsh Mcdonald Miller Morrison
    Newman Nicholson Norris Oliver Osborne Page Perkins Porter Reid Riley Robertson Rose Saunders
    Scott Sharp Stone Sutton Swift Tucker Wallace Warren Watts Webster Wheeler Whitehead Wilkins
    Willis Woods
"""
SURNAMES = frozenset(_SURNAMES_TEXT.split())

_TITLES = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Rev|Sir|Dame|Master)"
_CAP = r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)*"
_TITLE_NAME_RE = re.compile(rf"\b{_TITLES}\.?\s+(?:[A-Z]\.?\s+|{_CAP}\s+)*{_CAP}\b")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'-]*")
_STREET_WORDS = (
    "street|st|road|rd|avenue|ave|lane|close|drive|way|crescent|place|court|gardens|terrace|hill|grove|"
    "walk|view|rise|square|parade|row|mews|park|green|fields|vale|heights"
)
_ADDRESS_RE = re.compile(
    rf"^(?:flat\s+\d+[a-z]?,?\s+)?\d+[a-z]?,?\s+(?:[a-z'-]+\s+){{1,4}}(?:{_STREET_WORDS})\b", re.I
)

# Column-name rules: (kind, regex on the snake_case name). Order matters: the first match wins.
# Welsh forms: e-bost, rhif GIG (Gwasanaeth Iechyd Gwladol), rhif yswiriant gwladol, dyddiad geni,
# rhif ffôn (symudol), cod post, cyfeiriad, enw (llawn, cyntaf), cyfenw.
_NAME_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"(^|_)(e_?mail|e_?bost)")),
    ("nhs_number", re.compile(r"(^|_)(nhs|gig)($|_)|nhs_?(no|num|number)|rhif_?gig")),
    (
        "ni_number",
        re.compile(r"(^|_)(ni_?(no|num|number)|nino|national_insurance|yswiriant_?gwladol)"),
    ),
    (
        "date_of_birth",
        re.compile(r"(^|_)(dob|d_o_b|birth_?date|date_of_birth|birthday|born|dyddiad_?geni|geni)($|_)"),
    ),
    (
        "phone",
        re.compile(
            r"(^|_)(phone|telephone|tel|tel_no|mobile|mob|contact_?(no|num|number)|ffon|rhif_?ffon|"
            r"ffon_?symudol|symudol)($|_)"
        ),
    ),
    ("postcode", re.compile(r"(^|_)(post_?code|postal_?code|zip_?code|pcd|cod_?post)($|_)")),
    (
        "address",
        re.compile(
            r"(^|_)(address|addr|address_line_?\d*|house_?(no|number|name)|street_address|cyfeiriad)($|_)"
        ),
    ),
    (
        "personal_name",
        re.compile(
            r"(^|_)(name|surname|forename|forenames|first_?name|last_?name|given_?name|family_?name|"
            r"full_?name|middle_?name|maiden_?name|initials|christian_?name|enw|enw_?llawn|enw_?cyntaf|"
            r"cyfenw|enwau)($|_)"
        ),
    ),
    (
        "patient_identifier",
        re.compile(
            r"(^|_)(mrn|hospital_?(no|num|number)|patient_?(id|no|number|ref)|client_?(id|no|number|ref)|"
            r"case_?note_?(no|number)|chi|unit_?(no|number))($|_)"
        ),
    ),
)
# A "name" column about a thing, not a person (premises_name, street_name, ...), is not personal by name.
_THING_WORDS_TEXT = """
    premises venue street road location place business company organisation organization site file
    station ward lsoa msoa area team crime offence offense product drug substance service trading
    hospital school authority council la lad district town city county region force beat sector unit
    department dept category type shop store club pub bar event operation
"""
_THING_WORDS = frozenset(_THING_WORDS_TEXT.split())
# Postcode columns that by name hold only outward codes or coarser.
_COARSE_POSTCODE = re.compile(r"outward|district|sector|area|prefix|lsoa")
# Suffixes of the columns apply_treatments writes; their names echo the raw field but their values do not.
_TREATED_SUFFIX = re.compile(r"_(pseudonym|age_band|outward|lsoa_code)$")


@dataclass(frozen=True)
class Finding:
    """Evidence that ``column`` holds personal data of ``kind`` (a key of :data:`KIND_LABELS`).

    ``share_of_values`` is the share of sampled non-blank values that matched (None when the finding
    rests on the column name alone).
    """

    column: str
    kind: str
    evidence: str
    share_of_values: float | None = None

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


class PersonalDataError(DiogelError):
    """A file holds personal data that its schema does not say how to treat."""

    def __init__(self, message: str, findings: list[Finding]):
        self.findings = findings
        super().__init__(message)


# ----------------------------------------------------------------------------------------------------
# Single-value checks


def looks_like_personal_name(value: object) -> bool:
    """ "Title Name" anywhere, or two to four words whose first is a common forename and last a surname,
    or a "Forename Surname" pair inside longer text, or (by the shipped name lists, see
    :func:`diogel.sources.partner.scrub.looks_like_name`) a whole value that is a name."""
    text = str(value).strip()
    if _TITLE_NAME_RE.search(text) or looks_like_name(text):
        return True
    words = [w.title() for w in _WORD_RE.findall(text)]
    if 2 <= len(words) <= 4 and words[0] in FORENAMES and words[-1] in SURNAMES:
        return True
    # A possessive ("Tom Rose's house") must still be seen as the name it is.
    raw = [re.sub(r"'s$", "", w) for w in _WORD_RE.findall(text)]
    for a, b in zip(raw, raw[1:], strict=False):
        if a[:1].isupper() and b[:1].isupper() and a.title() in FORENAMES and b.title() in SURNAMES:
            return True
    return False


def looks_like_address(value: object) -> bool:
    return bool(_ADDRESS_RE.match(str(value).strip()))


# ----------------------------------------------------------------------------------------------------
# Whole frame


def snake(name: str) -> str:
    """Column name in snake_case: ``PatientName`` / ``Patient Name`` -> ``patient_name``.

    Diacritics are dropped first, so ``Rhif ffôn`` -> ``rhif_ffon``.
    """
    decomposed = unicodedata.normalize("NFKD", str(name))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", plain)
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


def header_label(column: object) -> str:
    """How messages name a column: its header in quotes, unless the header itself looks personal (a file
    without a header row has data in its first line), when it is withheld."""
    text = str(column)
    if looks_personal_value(text):
        return "(a column whose header looks like personal data)"
    return repr(text)


def looks_personal_value(value: str) -> bool:
    """True for a value that is, or contains, a name, date of birth or identifier (see :mod:`.scrub`).

    Cheap checks first; Presidio's recognisers only for text that has digits, an @ or capitals.
    """

    text = str(value).strip()
    if not text:
        return False
    if whole_value_kind(text, identifiers=False) is not None or looks_like_personal_name(text):
        return True
    if any(
        check(text)
        for check in (is_valid_nhs_number, is_valid_ni_number, is_uk_phone, is_email, is_full_postcode)
    ):
        return True
    if re.search(r"\d{5,}|@|\d.*\d", text):
        return contains_personal(text)
    return False


def kind_by_name(column: str) -> str | None:
    s = snake(column)
    if _TREATED_SUFFIX.search(s):
        return None
    for kind, rx in _NAME_RULES:
        if rx.search(s):
            if kind == "personal_name" and _THING_WORDS.intersection(s.split("_")):
                return None
            return kind
    return None


def detect_personal_data(
    frame: pd.DataFrame,
    schema: Schema | None = None,
    sample_size: int = 1000,
    min_share: float = 0.2,
    today: dt.date | None = None,
    seed: int = 0,
) -> list[Finding]:
    """Columns of ``frame`` that look personal, by name and by a seeded sample of their values.

    Parameters
    ----------
    frame : the file as read (strings or typed values).
    schema : optional; a schema field whose location kind is ``outward_postcode`` is not reported for
        postcodes by name when its values are outward codes (the usual case).
    sample_size : non-blank values sampled per column (all of them when fewer).
    min_share : share of sampled values that must match for a content finding (and at least 3 values).
    today : reference date for ages implied by dates of birth (default: the current date).

    Returns
    -------
    list of Finding, in column order; a column can have several (e.g. by name and by content).
    """
    today = today or dt.date.today()
    rng = np.random.default_rng(seed)
    findings: list[Finding] = []
    for column in frame.columns:
        col = frame[column].reset_index(drop=True)
        if len(col) > 3 * sample_size:
            # Draw candidates first so a large file costs the same as a small one.
            col = col.iloc[np.sort(rng.choice(len(col), size=3 * sample_size, replace=False))]
        text = as_text(col).dropna()
        if len(text) > sample_size:
            text = text.iloc[np.sort(rng.choice(len(text), size=sample_size, replace=False))]
        n = len(text)
        by_name = kind_by_name(str(column))
        content: list[Finding] = []
        if n:
            content = _content_findings(str(column), col.loc[text.index], text, min_share, today)
        content_kinds = {f.kind for f in content}
        if by_name is not None and by_name not in content_kinds:
            if by_name == "postcode" and _postcode_name_is_coarse(str(column), text, schema):
                by_name = None
            if by_name is not None:
                findings.append(
                    Finding(
                        str(column),
                        by_name,
                        f"the column name '{column}' suggests {KIND_LABELS[by_name]}",
                        None,
                    )
                )
        findings.extend(content)
    return findings


def _postcode_name_is_coarse(column: str, text: pd.Series, schema: Schema | None) -> bool:
    # Called only when no sampled value is a full postcode.
    if _COARSE_POSTCODE.search(snake(column)):
        return True
    if len(text) and all(is_outward_code(v) for v in text):
        return True
    loc = schema.location if schema is not None else None
    return loc is not None and loc.kind == "outward_postcode" and loc.field == column


def _content_findings(
    column: str, raw: pd.Series, text: pd.Series, min_share: float, today: dt.date
) -> list[Finding]:
    n = len(text)
    values = text.tolist()
    out: list[Finding] = []

    def add(kind: str, hits: int, what: str) -> None:
        share = hits / n
        if hits >= 3 and share >= min_share:
            out.append(Finding(column, kind, f"{hits} of {n} sampled values {what}", round(share, 4)))

    add("nhs_number", sum(is_valid_nhs_number(v) for v in values), "are valid NHS numbers (modulus-11 check)")
    add("ni_number", sum(is_valid_ni_number(v) for v in values), "are National Insurance numbers")
    add("phone", sum(is_uk_phone(v) for v in values), "are UK phone numbers")
    add("email", sum(is_email(v) for v in values), "are e-mail addresses")
    add("postcode", sum(is_full_postcode(v) for v in values), "are full postcodes")
    add("address", sum(looks_like_address(v) for v in values), "look like street addresses")
    add("personal_name", sum(looks_like_personal_name(v) for v in values), "look like personal names")
    dob = _dob_finding(column, raw, text, today)
    if dob is not None:
        out.append(dob)
    return out


def _dob_finding(column: str, raw: pd.Series, text: pd.Series, today: dt.date) -> Finding | None:
    # Only text or datetime columns can hold dates; numbers such as counts must not parse as dates.
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_datetime64_any_dtype(raw):
        return None
    looks_datey = text.str.contains(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", regex=True)
    if looks_datey.mean() < 0.8 and not pd.api.types.is_datetime64_any_dtype(raw):
        return None
    parsed = parse_datetimes(raw)
    ok = parsed.notna()
    if ok.mean() < 0.8:
        return None
    ages = (pd.Timestamp(today) - parsed[ok]).dt.days / 365.25
    in_range = ((ages >= 0) & (ages <= 110)).mean()
    if in_range < 0.95:
        return None
    named = kind_by_name(column) == "date_of_birth"
    median_age = float(ages.median())
    spread = float(ages.quantile(0.75) - ages.quantile(0.25))
    n = len(text)
    if named:
        return Finding(
            column,
            "date_of_birth",
            f"the column name '{column}' suggests dates of birth and {int(ok.sum())} of {n} sampled values "
            f"are dates implying ages 0-110 (median {median_age:.0f})",
            round(float(ok.mean()), 4),
        )
    # Unnamed: event dates cluster in recent years; birth dates spread over decades of adult ages.
    if median_age >= 16 and spread >= 15:
        return Finding(
            column,
            "date_of_birth",
            f"{int(ok.sum())} of {n} sampled values are dates implying ages 0-110, spread like dates of birth "
            f"(median age {median_age:.0f}, interquartile range {spread:.0f} years)",
            round(float(ok.mean()), 4),
        )
    return None


def check_allowed(findings: list[Finding], schema: Schema | None) -> None:
    """Refuse personal data the schema does not treat.

    Raises
    ------
    PersonalDataError
        unless every column in ``findings`` has a ``treatment`` in ``schema``; the message names each
        column with what it looks like and says how to fix it.
    """
    treated = set(schema.treatments) if schema is not None else set()
    untreated: dict[str, list[str]] = {}
    for f in findings:
        if f.column not in treated:
            labels = untreated.setdefault(f.column, [])
            if f.label not in labels:
                labels.append(f.label)
    if not untreated:
        return
    parts = ", ".join(f"{header_label(col)} ({', '.join(labels)})" for col, labels in untreated.items())
    where = f"schema {schema.name}: " if schema is not None else ""
    if len(untreated) == 1:
        msg = f"{where}column {parts} looks personal; add a treatment for it in the schema or remove it"
    else:
        msg = f"{where}columns {parts} look personal; add a treatment for each in the schema or remove them"
    raise PersonalDataError(msg, [f for f in findings if f.column in untreated])
