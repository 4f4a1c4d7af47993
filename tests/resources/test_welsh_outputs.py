"""``diogel options`` and ``diogel funding`` in Welsh: every visible word of their outputs is Welsh.

The outputs are written twice through the command line on one real warehouse (the all-Wales
reference data and a year of Gwent's police.uk files), once with ``--language en`` and once with
``--language cy``. A Welsh output "is in Welsh" when none of its visible text nodes (the options
page's headings, sentences, table headings and cells, its notes, the maps' titles and legends in
the inline SVG; the funding notes files and the charts' titles, axes and legends) equals a text node
of the English output while holding an English word: names, codes and numbers aside. The numbers
and the data files (CSV) are the same in both languages.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from typer.testing import CliRunner
from wales_warehouse import with_police

from diogel.cli import app
from diogel.report import i18n

runner = CliRunner()
RESOURCES = Path(str(i18n.resources.files("diogel.resources")))
_WORD = re.compile(r"[A-Za-z][a-z]{2,}")
# Words the same in both languages: software, methods, units, data names and the formulas' names.
NOT_WORDS = {"diogel", "police", "spopt", "max", "queen", "wei", "rey", "knaap", "csv", "svg", "json",
             "scf", "smaf", "needs", "fte", "share_a", "share_b", "crime_harm", "dejavu", "sans"}  # fmt: skip


class Texts(HTMLParser):
    """Visible text nodes of an HTML page or SVG (style, script, code and SVG metadata left out)."""

    SKIP = ("style", "script", "code", "metadata", "title")

    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in self.SKIP

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in self.SKIP

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skip:
            self.nodes.append(text)


def texts(markup: str) -> list[str]:
    parser = Texts()
    parser.feed(markup)
    return parser.nodes


def english_left(welsh: list[str], english: list[str], names: set[str]) -> list[str]:
    """Welsh text nodes that are also English text nodes and hold an English word (not a name or code)."""
    same = set(welsh) & set(english)
    left = []
    for t in sorted(same):
        rest = t
        for name in sorted(names, key=len, reverse=True):
            rest = rest.replace(name, " ")
        if [w for w in _WORD.findall(rest) if w.casefold() not in NOT_WORDS]:
            left.append(t)
    return left


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each language's options report, allocation and comparison (damped) of one warehouse."""
    wh = with_police(tmp_path_factory, "welsh-outputs")
    out = {"warehouse": wh}
    for lang in ("en", "cy"):
        folder = tmp_path_factory.mktemp(f"out-{lang}")
        for args in (
            ["options", "--no-pdf", "--out", str(folder / "options")],
            ["funding", "allocate", "scf", "--out", str(folder / "allocate")],
            ["funding", "compare", "scf", "--floor", "-0.05", "--out", str(folder / "compare")],
        ):
            result = runner.invoke(app, ["--data-dir", str(wh), *args, "--language", lang])
            assert result.exit_code == 0, result.output + repr(result.exception)
        out[lang] = folder
    return out


def _names(outputs: dict[str, Path]) -> set[str]:
    """Area, partnership and force names (English and Welsh), which a Welsh page may share with an
    English one."""
    names: set[str] = set()
    en = outputs["en"] / "options"
    groups = pd.read_csv(en / "options_groups.csv")
    for col in ("area_names", "forces"):
        names |= {n for cell in groups[col].dropna() for n in str(cell).split(", ")}
    names |= set(pd.read_csv(en / "options_partnerships.csv")["partnership"])
    names |= set(pd.read_csv(next((outputs["en"] / "allocate").glob("*_allocation.csv")))["area_name"])
    names |= {i18n.Place(n).in_("cy") for n in list(names)}
    return names | {"police.uk", "LSOA", "ONS", "WIMD", "Gwent Police", "Cwm Taf"}


def test_the_options_report_is_all_welsh(outputs: dict[str, Path]) -> None:
    en = (outputs["en"] / "options" / "options_report.html").read_text(encoding="utf-8")
    cy = (outputs["cy"] / "options" / "options_report.html").read_text(encoding="utf-8")
    assert cy.startswith('<!DOCTYPE html>\n<html lang="cy">')
    welsh, english = texts(cy), texts(en)
    assert len(welsh) > 200 and len(english) == len(welsh)
    assert not english_left(welsh, english, _names(outputs))
    # The notes (from the indicators and the options), the vintage table and the maps are Welsh too.
    for words in ("fersiwn data: poblogaeth SYG canol", "DATA SYNTHETIG: ni roddwyd cyfriflyfr",
                  "uno: rhanbarthau max-p spopt", "troseddau a gofnodwyd: troseddau lefel stryd police.uk",
                  "amcangyfrifon poblogaeth canol", "ffin grŵp", "Casnewydd"):  # fmt: skip
        assert words in cy, words
    # Same options, same numbers: the data files do not depend on the language.
    for name in (
        "options_summary.csv",
        "options_partnerships.csv",
        "options_groups.csv",
        "options_group_members.csv",
    ):
        assert (outputs["en"] / "options" / name).read_bytes() == (
            outputs["cy"] / "options" / name
        ).read_bytes()


def test_the_funding_notes_and_charts_are_all_welsh(outputs: dict[str, Path]) -> None:
    names = _names(outputs)
    files = sorted(p.name for p in (outputs["en"] / "allocate").iterdir())
    files += sorted(f"../compare/{p.name}" for p in (outputs["en"] / "compare").iterdir())
    checked = 0
    for name in files:
        en_path, cy_path = outputs["en"] / "allocate" / name, outputs["cy"] / "allocate" / name
        if name.endswith(".csv"):  # data: the same file in both languages
            assert en_path.read_bytes() == cy_path.read_bytes(), name
            continue
        if name.endswith("_notes.txt"):
            english = en_path.read_text(encoding="utf-8").splitlines()
            welsh = cy_path.read_text(encoding="utf-8").splitlines()
        elif name.endswith(".svg"):
            english, welsh = texts(en_path.read_text("utf-8")), texts(cy_path.read_text("utf-8"))
        else:
            continue
        assert len(welsh) == len(english) > 2, name
        assert not english_left(welsh, english, names), name
        checked += 1
    assert checked == 5  # allocation notes and chart; comparison notes, chart and damped chart
    notes = (next((outputs["cy"] / "compare").glob("*_notes.txt"))).read_text("utf-8")
    assert "ystadegau wedi’u rhewi" in notes and "lleddfu: nid oes unrhyw ardal yn colli mwy na 5%" in notes
    chart = (next((outputs["cy"] / "allocate").glob("*.svg"))).read_text("utf-8")
    assert "fesul elfen" in chart and "Casnewydd" in chart


def test_options_in_both_languages_is_one_document_welsh_first(outputs, tmp_path: Path) -> None:
    result = runner.invoke(app, ["--data-dir", str(outputs["warehouse"]), "options", "--no-pdf", "--out", str(tmp_path), "--language", "both"])  # fmt: skip
    assert result.exit_code == 0, result.output + repr(result.exception)
    page = (tmp_path / "options_report.html").read_text(encoding="utf-8")
    welsh, english = page.split('<div class="language-part" lang="en-GB" id="english">')
    assert welsh.startswith('<!DOCTYPE html>\n<html lang="cy">') and "Y tri opsiwn ochr yn ochr" in welsh
    assert "The three options side by side" in english and "The three options" not in welsh
    # The English half's maps are drawn in English, and no id is used twice.
    assert "group boundary" in english and "ffin grŵp" not in english
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    # The data files are the English run's.
    en = outputs["en"] / "options" / "options_summary.csv"
    assert (tmp_path / "options_summary.csv").read_bytes() == en.read_bytes()


@pytest.mark.parametrize("command", ["allocate", "compare"])
def test_funding_in_both_languages_writes_welsh_then_english(outputs, tmp_path: Path, command: str) -> None:
    """``funding ... --language both``: the data files once (the same as either language's), the notes
    as one file with the Welsh run's notes then the English run's, and every chart in each language
    (``.cy.svg``/``.en.svg``, the same words as the Welsh and English runs' charts)."""
    args = ["allocate", "scf"] if command == "allocate" else ["compare", "scf", "--floor", "-0.05"]
    result = runner.invoke(app, ["--data-dir", str(outputs["warehouse"]), "funding", *args, "--out", str(tmp_path), "--language", "both"])  # fmt: skip
    assert result.exit_code == 0, result.output + repr(result.exception)
    en_dir, cy_dir = outputs["en"] / command, outputs["cy"] / command
    one = sorted(p.name for p in en_dir.iterdir())
    charts = [n for n in one if n.endswith((".svg", ".png"))]
    expected = sorted({*[n for n in one if n not in charts],
                       *[n[:-4] + tag + n[-4:] for n in charts for tag in (".cy", ".en")]})  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    for name in one:
        if name.endswith(".csv"):
            assert (tmp_path / name).read_bytes() == (en_dir / name).read_bytes(), name
    notes = next(n for n in one if n.endswith("_notes.txt"))
    welsh = (cy_dir / notes).read_text("utf-8")
    english = (en_dir / notes).read_text("utf-8")
    assert (tmp_path / notes).read_text("utf-8") == f"Cymraeg\n{welsh}\nEnglish\n{english}"
    for name in (n for n in charts if n.endswith(".svg")):
        for tag, folder in ((".cy", cy_dir), (".en", en_dir)):
            both = texts((tmp_path / (name[:-4] + tag + ".svg")).read_text("utf-8"))
            assert both == texts((folder / name).read_text("utf-8")), (name, tag)


def test_a_formula_file_gives_its_own_welsh_title(outputs, tmp_path: Path) -> None:
    """A formula's ``title_cy`` (the packaged needs formula has one) is the title of its Welsh notes and
    is recorded in figures.json; a formula without one (scf) keeps its English title in the Welsh notes."""
    import json

    first_lines = {}
    for lang in ("cy", "en"):
        result = runner.invoke(app, ["--data-dir", str(outputs["warehouse"]), "funding", "allocate", "needs", "--out", str(tmp_path / lang), "--language", lang])  # fmt: skip
        assert result.exit_code == 0, result.output + repr(result.exception)
        first_lines[lang] = next((tmp_path / lang).glob("*_notes.txt")).read_text("utf-8").splitlines()[0]
    assert first_lines["cy"].startswith(
        "fformiwla: Dyraniad diogelwch cymunedol ar sail angen (opsiwn i, enghreifftiol); uned: "
    )
    assert first_lines["en"].startswith(
        "formula: Needs-based community safety allocation (option i, illustrative); unit: "
    )
    figures = json.loads(next((tmp_path / "cy").glob("*_figures.json")).read_text("utf-8"))
    assert "Dyraniad diogelwch cymunedol ar sail angen" in json.dumps(figures, ensure_ascii=False)
    scf = next((outputs["cy"] / "allocate").glob("*_notes.txt")).read_text("utf-8").splitlines()[0]
    assert scf.startswith("fformiwla: Safer Communities Fund (Welsh Assembly Government); uned: ")


def test_every_message_of_the_resources_outputs_has_welsh() -> None:
    """Every message the options and funding outputs give through ``_()`` or ``T()`` is in the report's
    Welsh catalogue, so none falls back to English."""
    po = i18n.CATALOGUES / "cy" / "LC_MESSAGES" / "report.po"
    catalogue = {m.id: m.string for m in read_po(io.BytesIO(po.read_bytes())) if m.id}
    keywords = {"_": None, "T": None}
    found: set[str] = set()
    for name in ("options_report", "options_maps", "options", "funding", "funding_output", "indicators",
                 "vintage", "charts"):  # fmt: skip
        found |= {m[1] for m in extract_from_file("python", RESOURCES / f"{name}.py", keywords=keywords)}
    assert len(found) > 120
    assert not sorted(m for m in found if not catalogue.get(m))
