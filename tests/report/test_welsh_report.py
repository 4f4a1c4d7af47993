"""The strategic assessment in Welsh: ``diogel demo`` writes Newport's assessment as one bilingual
document (Welsh first), and ``diogel assess --language cy`` in Welsh only.

A section "is in Welsh" when no visible text node of its Welsh rendering (headings, sentences, table
headings and cells, chart labels and legends in the inline SVG) equals a text node of its English
rendering, names, codes and numbers aside. Sections whose text is not yet translated are listed in
``NOT_YET_WELSH`` and expected to fail (strict), so translating one makes the test say so.
"""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from diogel.cli import app
from diogel.report import i18n
from diogel.report.figures import resolve_figure
from diogel.report.sections import sections

# Sections whose sentences still come out in English (their text is not yet in the catalogue, or comes
# from text outside the report package: the analysis modules' sentences and method notes).
NOT_YET_WELSH: dict[str, str] = {}
_WORD = re.compile(r"[A-Za-z][a-z]{2,}")


class _Texts(HTMLParser):
    """Visible text nodes under each ``<section id=...>`` (SVG text included; <style> and <code>, which
    holds file names and commands, left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_section: dict[str, list[str]] = {}
        self.frame: list[str] = []
        self._section: str | None = None
        self._depth = 0
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self._section, self._depth = a["id"].removeprefix("en-"), 0
        if self._section is not None and tag == "section":
            self._depth += 1
        if tag in ("style", "script", "code"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "code"):
            self._skip -= 1
        if tag == "section" and self._section is not None:
            self._depth -= 1
            if self._depth == 0:
                self._section = None

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if not text or self._skip:
            return
        if self._section is None:
            self.frame.append(text)
        else:
            self.by_section.setdefault(self._section, []).append(text)


def texts(html: str) -> _Texts:
    parser = _Texts()
    parser.feed(html)
    return parser


def english_left(welsh: list[str], english: list[str], names: set[str]) -> list[str]:
    """Welsh text nodes that are also English text nodes and hold English words (not a name, code
    or number: a word of three letters or more that is not part of a place or file name)."""
    english_set = set(english)
    left = []
    for t in welsh:
        if t not in english_set or t in names:
            continue
        words = [w for w in _WORD.findall(t) if w not in names and w.casefold() not in _NOT_WORDS]
        if words:
            left.append(t)
    return left


# Words that are the same in both languages' reports: units, test names, software, codes.
_NOT_WORDS = {"diogel", "police", "json", "csv", "gpkg", "qgis", "laney", "poisson", "gini", "moran",
              "benjamini", "hochberg", "garwood", "sigma", "phi", "pearson", "pact", "lsoa", "lsoas", "ons",
              "svg", "utc", "sha", "mit", "getis", "ord", "esri", "morile", "irr", "file_id", "street"}  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("demo-cy") / "data"
    result = CliRunner().invoke(app, ["--data-dir", str(data_dir), "demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return data_dir / "assessment-newport"


@pytest.fixture(scope="module")
def halves(demo: Path) -> tuple[_Texts, _Texts]:
    page = (demo / "assessment.html").read_text(encoding="utf-8")
    assert page.count('<div class="language-part" lang="en-GB" id="english">') == 1
    welsh, english = page.split('<div class="language-part" lang="en-GB" id="english">')
    return texts(welsh), texts(english)


def place_names() -> set[str]:
    """Welsh and English names of the Welsh areas, and each word of them (names are the same text in
    both halves when they have no Welsh form: Blaenau Gwent, Torfaen's peers...)."""
    reference = Path(str(i18n.resources.files("diogel.data"))) / "reference" / "wales"
    with (reference / "names_cy.csv").open(encoding="utf-8") as f:
        places = {n for r in csv.DictReader(f) for n in (r["name_en"], r["name_cy"])}
    # The maps label Welsh wards by the names in the shipped ONS lookup, which has no Welsh-language
    # column: until it does, a Welsh ward's published name is its name in both halves. Whole names
    # only: the words of ward names ("Park", "West") would let English text through.
    wards = pd.read_csv(
        reference / "lookup_lsoa21_ward24_ltla24.csv.gz", usecols=["ward24_code", "ward24_name"]
    )
    ward_names = set(wards.loc[wards["ward24_code"].str.startswith("W"), "ward24_name"])
    return places | {w for p in places for w in p.split()} | ward_names


@pytest.fixture(scope="module")
def names() -> set[str]:
    return place_names()


def test_the_demo_writes_welsh_first_then_english(demo: Path) -> None:
    page = (demo / "assessment.html").read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="cy">')
    assert page.index("Asesiad strategol") < page.index('lang="en-GB" id="english"')
    assert "<h1>Casnewydd</h1>" in page and "<h1>Newport</h1>" in page
    # Joining the two halves adds no duplicate id: the English half's ids are prefixed (each chart's
    # own matplotlib ids, axes_1 and so on, repeat from chart to chart in either language already).
    welsh, english = page.split('<div class="language-part" lang="en-GB" id="english">')
    id_of = re.compile(r'\sid="([^"]+)"')
    assert not set(id_of.findall(welsh)) & set(id_of.findall(english))
    sections_ids = [i for i in id_of.findall(page) if i in {s.id for s in sections()} or i.startswith("en-")]
    assert {f"en-{s.id}" for s in sections()} <= set(sections_ids)
    assert page.count("<main") == 1


def test_the_pdf_says_it_is_welsh_and_is_tagged(demo: Path) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO((demo / "assessment.pdf").read_bytes()))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "cy"
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]


@pytest.mark.parametrize("section", [s.id for s in sections()])
def test_every_section_is_in_welsh(section: str, halves: tuple[_Texts, _Texts], names: set[str]) -> None:
    if section in NOT_YET_WELSH:
        pytest.xfail(NOT_YET_WELSH[section])
    welsh, english = halves
    assert welsh.by_section.get(section), f"no Welsh text in section {section}"
    left = english_left(welsh.by_section[section], english.by_section[section], names)
    assert not left, f"{len(left)} English text nodes in the Welsh {section}: {left[:8]}"


def test_the_cover_contents_and_footer_are_in_welsh(halves: tuple[_Texts, _Texts], names: set[str]) -> None:
    welsh, english = halves
    left = english_left(welsh.frame, english.frame, names)
    assert not left, left[:8]
    assert "Cynnwys" in welsh.frame and "Contents" in english.frame


def test_the_check_finds_english(names: set[str]) -> None:
    """The comparison bites: an English sentence left in the Welsh half is found; names are not."""
    english = ["Levels and trends", "Newport", "W06000022", "2,345", "Blaenau Gwent"]
    assert english_left(["Lefelau a thueddiadau", "Levels and trends"], english, names) == [
        "Levels and trends"
    ]
    assert english_left(["Newport", "W06000022", "2,345", "Blaenau Gwent"], english, names) == []


def test_figures_json_gives_every_figure_in_welsh(demo: Path) -> None:
    document = json.loads((demo / "figures.json").read_text(encoding="utf-8"))
    # A definition several figures share is written once, with its Welsh (shared_definitions).
    assert all(d["text_cy"] for d in document.get("shared_definitions") or [])
    figures = [resolve_figure(document, f) for f in document["figures"]]
    assert all(f["label_cy"] and f["definition_cy"] for f in figures)
    levels = [f for f in figures if f["section"] == "levels"]
    assert levels and all(f["label_cy"] != f["label"] for f in levels), [
        f["label"] for f in levels if f["label_cy"] == f["label"]
    ][:5]
    robbery = next(f for f in figures if f["id"] == "levels.robbery.count")
    assert robbery["label_cy"] == "Lladrad: cofnodion" and robbery["label"] == "Robbery: records"


def test_the_catalogue_translates_every_message_of_the_report() -> None:
    """Every message of the report package and of the reports that share its catalogue (options for
    change, the funding charts) has a Welsh translation; section titles and descriptions too."""
    from babel.messages.extract import extract_from_file

    with (i18n.CATALOGUES / "cy" / "LC_MESSAGES" / "report.po").open("rb") as f:
        catalogue = {m.id: m.string for m in read_po(f) if m.id}
    assert not [k for k, v in catalogue.items() if not v]
    source = Path(str(i18n.resources.files("diogel.report")))
    resources_dir = source.parent / "resources"
    keywords = {"_": None, "T": None, "gettext": None, "ngettext": (1, 2)}
    jinja = {"extensions": "jinja2.ext.i18n", "trimmed": "true", "newstyle_gettext": "true"}
    found = {m[2] for m in extract_from_dir(source, [("**.py", "python"), ("**/templates/**.j2", "jinja2")],
                                             {"**/templates/**.j2": jinja}, keywords=keywords)}  # fmt: skip
    found |= {
        m[1] for m in extract_from_file("python", resources_dir / "options_report.py", keywords=keywords)
    }
    found |= {m[1] for m in extract_from_file("python", resources_dir / "charts.py", keywords=keywords)}
    found |= {m[1] for m in extract_from_file("jinja2", resources_dir / "templates" / "options_report.html",
                                              keywords=keywords, options=jinja)}  # fmt: skip
    assert len(found) > 300
    assert not sorted(found - set(catalogue))[:10]
    # Section titles and descriptions are shown through the catalogue too.
    shown = {s.title for s in sections()} | {s.description for s in sections() if s.description}
    assert not sorted(shown - set(catalogue))


def test_place_names_in_welsh() -> None:
    with i18n.language("cy"):
        assert i18n.place_name("W06000022", "Newport") == "Casnewydd"
        assert i18n.place_name("W06000015", "Cardiff") == "Caerdydd"
        assert i18n.place_name("W06000016", "Rhondda Cynon Taf") == "Rhondda Cynon Taf"
        assert i18n.place_name("E06000001", "Hartlepool") == "Hartlepool"
        assert i18n.span_words(
            *[__import__("datetime").date(2024, 7, 1), __import__("datetime").date(2025, 6, 1)]
        ) == ("Gorffennaf 2024 i Fehefin 2025")
    assert i18n.place_name("W06000022", "Newport") == "Newport"


def test_the_recommendation_rules_are_in_welsh_and_quote_the_same_figures() -> None:
    """Each packaged rule's theme, conclusion and recommendation has a Welsh translation in the report
    catalogue that quotes exactly the facts the English quotes (only the words change)."""
    import yaml

    from diogel.analysis import recommendations

    with (i18n.CATALOGUES / "cy" / "LC_MESSAGES" / "report.po").open("rb") as f:
        catalogue = {m.id: m.string for m in read_po(f) if m.id}
    rules = yaml.safe_load(
        i18n.resources.files(recommendations.__package__)
        .joinpath("recommendations_default.yaml")
        .read_text("utf-8")
    )["rules"]
    facts = re.compile(r"\{([^{}|]*(?:\{[^{}]*\}[^{}|]*)*)\|")
    for rule in rules:
        for key in ("theme", "conclusion", "recommendation"):
            english = " ".join(str(rule[key]).split())
            welsh = catalogue.get(english)
            assert welsh and welsh != english, (rule["id"], key)
            assert sorted(facts.findall(welsh)) == sorted(facts.findall(english)), (rule["id"], key)
