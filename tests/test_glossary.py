"""One Welsh word for one English term, in the glossary and in the portal's catalogue.

``src/diogel/data/glossary.yaml`` is the terminology both the portal and the report follow. These
tests fail if an English term (or one of its data-key aliases, e.g. ``local_authority``) is given two
Welsh terms in the glossary, if a catalogue message equal to a glossary term (ignoring case) is
translated otherwise than the glossary says, or if the catalogue translates two spellings of one
message ("Records" / "records") differently.
"""

from __future__ import annotations

from collections import defaultdict
from importlib import resources
from pathlib import Path

import yaml
from babel.messages.pofile import read_po

GLOSSARY = Path(str(resources.files("diogel.data"))) / "glossary.yaml"
PO = Path(str(resources.files("diogel.portal"))) / "translations" / "cy" / "LC_MESSAGES" / "messages.po"


def glossary_terms() -> list[dict]:
    return yaml.safe_load(GLOSSARY.read_text(encoding="utf-8"))["terms"]


def catalogue_pairs() -> list[tuple[str, str]]:
    with PO.open("rb") as f:
        return [(m.id, m.string) for m in read_po(f, locale="cy") if m.id and isinstance(m.id, str)]


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def conflicts(terms: list[dict], pairs: list[tuple[str, str]]) -> dict[str, set[str]]:
    """English terms (case-folded) given more than one Welsh term (compared ignoring case) across
    the glossary (its terms and their aliases) and the catalogue messages equal to a glossary term,
    with every Welsh term each was given."""
    welsh: dict[str, set[str]] = defaultdict(set)
    for t in terms:
        for english in [t["en"], *t.get("aliases", [])]:
            welsh[_key(english)].add(_key(t["cy"]))
    for english, cy in pairs:
        if _key(english) in welsh:
            welsh[_key(english)].add(_key(cy))
    return {en: cy for en, cy in welsh.items() if len(cy) > 1}


def test_every_term_has_english_welsh_and_a_source() -> None:
    terms = glossary_terms()
    assert len(terms) >= 100
    for t in terms:
        assert {"en", "cy", "source", "kind"} <= set(t), t
        # Nothing else: an unquoted comma in a flow mapping splits a term into a stray key.
        assert set(t) <= {"en", "cy", "source", "kind", "aliases"}, f"quote the term: {t}"
        assert all(isinstance(t[k], str) and t[k].strip() for k in ("en", "cy", "source", "kind")), t
    kinds = {t["kind"] for t in terms}
    assert {"crime type", "dataset", "role", "area kind", "heading"} <= kinds


def test_the_fourteen_police_uk_categories_are_there() -> None:
    crime = {t["en"] for t in glossary_terms() if t["kind"] == "crime type"} - {"All crime and ASB"}
    from diogel.portal.i18n import translations

    assert len(crime) == 14
    # Each is in the portal's catalogue too (the dashboard shows them through _()).
    welsh = translations("cy")
    assert all(welsh.ugettext(c) != c for c in crime), [c for c in crime if welsh.ugettext(c) == c]


def test_one_welsh_term_for_each_english_term() -> None:
    pairs = catalogue_pairs()
    found = conflicts(glossary_terms(), pairs)
    assert not found, f"English terms translated two ways (glossary and catalogue): {found}"
    # The check bites on the real catalogue: many of its messages are glossary terms.
    keys = {_key(t["en"]) for t in glossary_terms()}
    assert sum(_key(english) in keys for english, _cy in pairs) >= 80


def test_the_catalogue_spells_one_message_one_way() -> None:
    """ "Records" and "records" (a heading and a word in a sentence) get the same Welsh, bar case."""
    welsh: dict[str, set[str]] = defaultdict(set)
    for english, cy in catalogue_pairs():
        welsh[_key(english)].add(_key(cy))
    assert sum(len(v) for v in welsh.values()) < len(catalogue_pairs())  # there are such pairs
    two = {en: cy for en, cy in welsh.items() if len(cy) > 1}
    assert not two, two


def test_the_conflict_check_finds_conflicts() -> None:
    terms = [
        {"en": "Ward", "cy": "Ward"},
        {"en": "local authority", "cy": "awdurdod lleol", "aliases": ["local_authority"]},
    ]
    assert conflicts(terms, [("ward", "ward"), ("local_authority", "Awdurdod lleol")]) == {}
    assert conflicts(terms, [("Ward", "Adran")]) == {"ward": {"ward", "adran"}}
    assert conflicts(terms, [("local_authority", "cyngor")]) == {
        "local_authority": {"awdurdod lleol", "cyngor"}
    }
    assert conflicts([*terms, {"en": "WARD", "cy": "wardiau"}], []) == {"ward": {"ward", "wardiau"}}


REPORT_PO = Path(str(resources.files("diogel.report"))) / "translations" / "cy" / "LC_MESSAGES" / "report.po"


def test_the_report_catalogue_follows_the_glossary() -> None:
    """The report's catalogue (headings such as "records", "crime type") uses the glossary's Welsh."""
    with REPORT_PO.open("rb") as f:
        pairs = [(m.id, m.string) for m in read_po(f, locale="cy") if m.id and isinstance(m.id, str)]
    found = conflicts(glossary_terms(), pairs)
    assert not found, f"report messages translated otherwise than the glossary: {found}"
    keys = {_key(t["en"]) for t in glossary_terms()}
    assert sum(_key(english) in keys for english, _cy in pairs) >= 2
