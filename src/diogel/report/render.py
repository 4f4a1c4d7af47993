"""Rendering: the sections into one self-contained HTML file, and the same HTML into a PDF.

The HTML carries its CSS and every chart and map inline (SVG), names no font file and no URL, so it
opens offline and is the same document wherever it is mailed. The PDF is WeasyPrint's rendering of
that HTML with the print stylesheet (A4, page numbers).

Each chart is drawn once, by matplotlib, into SVG; the PDF prints the very same SVG text. For
WeasyPrint it is handed over as an image (``<img src="data:image/svg+xml;base64,...">``) rather
than inline: inline, every path and glyph of every chart is an element of the HTML document, so
WeasyPrint computes a CSS style for each of them (two thirds of the page's elements) before
drawing; as an image its own SVG renderer draws it, still as vectors.
"""

from __future__ import annotations

import base64
import re
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

from diogel.report import i18n
from diogel.report.figures import fmt_count, fmt_number, fmt_p, fmt_pct, fmt_signed_pct
from diogel.report.gc_policy import collector_paused

__all__ = ["environment", "print_html", "render_report", "write_pdf"]


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("diogel.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # One catalogue for sections and templates: the language is i18n's context variable, so the
    # environment is the same for every language.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["term"] = i18n.term
    env.filters["place"] = i18n.place
    env.globals.update(
        term=i18n.term,
        place=i18n.place,
        here=i18n.here,
        month_year=i18n.month_year,
        fmt_count=fmt_count,
        fmt_number=fmt_number,
        fmt_number0=lambda v: fmt_number(v, 0),
        fmt_number2=lambda v: fmt_number(v, 2),
        fmt_pct=fmt_pct,
        fmt_p=fmt_p,
        fmt_signed_pct=fmt_signed_pct,
    )
    return env


def render_report(env: jinja2.Environment, **values: object) -> str:
    css = "\n".join(
        resources.files("diogel.report").joinpath("templates", n).read_text("utf-8")
        for n in ("report.css", "layout.css")
    )
    return env.get_template("report.html.j2").render(css=Markup(css), **values)


_ID = re.compile(r"""(\b(?:id|for|aria-labelledby|aria-describedby)=["'])([^"']+)(["'])""")
_LOCAL_REF = re.compile(r"""((?:href|xlink:href)=["']#|url\(#)([^"')]+)""")
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S)


def bilingual(welsh: str, english: str) -> str:
    """One document: the Welsh report, then the English one (the Welsh Language Standards ask that
    Welsh is not treated less favourably; where both are in one document, Welsh comes first).

    The English half's ids (section anchors, chart ids) are prefixed ``en-`` so no id is used twice,
    and the half is marked ``lang="en-GB"`` so a screen reader and the tagged PDF read it in English.
    """
    body = _BODY.search(english)
    if body is None:
        raise ValueError("the English report has no <body>")
    part = _ID.sub(
        lambda m: m.group(1) + " ".join("en-" + i for i in m.group(2).split()) + m.group(3), body.group(1)
    )
    part = _LOCAL_REF.sub(lambda m: m.group(1) + "en-" + m.group(2), part)
    # One banner, one main and one footer landmark per page: the English half's are plain blocks.
    for tag in ("header", "main", "footer"):
        part = re.sub(rf"<{tag}\b", f'<div class="{tag}"', part).replace(f"</{tag}>", "</div>")
    part = part.replace('aria-label="Contents"', 'aria-label="Contents (English)"')
    english_half = f'<div class="language-part" lang="en-GB" id="english">\n{part}\n</div>\n'
    return welsh.replace("</body>", english_half + "</body>", 1)


_INLINE_SVG = re.compile(r"<svg\b([^>]*)>(.*?)</svg>", re.S)
_SVG_NS = ' xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def _svg_as_image(match: re.Match) -> str:
    attrs, body = match.group(1), match.group(2)
    title = re.search(r"<title>(.*?)</title>", body, re.S)
    # The SVG was inlined without namespaces (HTML does not need them); a standalone SVG does.
    standalone = f"<svg{_SVG_NS}{attrs}>{body}</svg>".encode()
    alt = title.group(1) if title else ""
    return (
        f'<img class="chart" alt="{alt}" '
        f'src="data:image/svg+xml;base64,{base64.b64encode(standalone).decode("ascii")}">'
    )


def print_html(html: str) -> str:
    """The HTML as WeasyPrint prints it: each inline chart SVG handed over as an SVG image."""
    return _INLINE_SVG.sub(_svg_as_image, html)


PDF_OPTIONS = {"pdf_variant": "pdf/ua-1"}


def write_pdf(html: str, path: Path) -> int:
    """Write the PDF of the report's HTML; return its number of pages."""
    import logging

    from weasyprint import HTML

    # WeasyPrint logs every CSS property it does not support (e.g. overflow-x) as a warning.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    # Tagged PDF (PDF/UA-1): headings, tables and figures with their alternative text reach a
    # screen reader, and the document language is the <html lang> (/Lang (cy) for a Welsh report).
    with collector_paused():  # WeasyPrint's objects live until the PDF is written (see gc_policy)
        document = HTML(string=print_html(html), base_url=str(path.parent)).render(**PDF_OPTIONS)
        document.write_pdf(path, **PDF_OPTIONS)
        return len(document.pages)


def external_references(html: str) -> list[str]:
    """Every http(s) address, protocol-relative URL or non-fragment src/href in ``html`` (should be none)."""
    found = re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)]*", html)
    found += [m for m in re.findall(r"""(?:src|href)\s*=\s*["']([^"'#][^"']*)["']""", html)]
    return found
