"""Publishing the strategic assessment to the public, and which areas the public pages list.

"Publish to the public" writes ``public.html`` beside a registered assessment: the report with
every part that rests on partner data the information sharing agreement does not publish taken out
and replaced by a line saying what was taken out and why. police.uk figures stay: police.uk
already publishes them, counts of 1 to 4 included, so hiding them would protect nobody.
The public page of the assessment's area then shows it, with the list of what was suppressed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from diogel.portal import isa
from diogel.portal.i18n import gettext as _
from diogel.portal.models import PublishedAssessment

__all__ = ["PUBLIC_FILE", "Suppressed", "public_areas", "public_version"]

PUBLIC_FILE = "public.html"

#: Elements removed when they quote a suppressed figure: a sentence, a list item, a table, a chart.
_BLOCKS = ("li", "p", "table", "figure")


@dataclass(frozen=True)
class Suppressed:
    """One part taken out of the public version: what, and the reason."""

    what: str
    why: str


def _strip_blocks(document: str, prefix: str) -> tuple[str, int]:
    """Remove every innermost li/p/table/figure element quoting a figure whose id starts ``prefix``."""
    removed = 0
    for tag in _BLOCKS:
        pattern = re.compile(
            rf"<{tag}\b[^>]*>(?:(?!<{tag}\b)(?!</{tag}>).)*?data-figure=\"{re.escape(prefix)}[^\"]*\""
            rf"(?:(?!</{tag}>).)*?</{tag}>",
            re.S,
        )
        document, n = pattern.subn("", document)
        removed += n
    return document, removed


def public_version(document: str, sections: dict[str, str]) -> tuple[str, list[Suppressed]]:
    """The report with each section in ``sections`` (section id -> reason) replaced by a notice, and
    every sentence, table or chart elsewhere that quotes one of its figures removed.

    Returns (the public HTML, what was suppressed and why), in the order of ``sections``.
    """
    notes: list[Suppressed] = []
    for sid, why in sections.items():
        body = re.compile(
            rf'(<section id="{re.escape(sid)}" class="section">\s*<h2[^>]*>.*?</h2>)(.*?)(</section>)', re.S
        )
        m = body.search(document)
        if m:
            title = re.sub(r"<[^>]+>", "", m.group(1)).strip()
            notice = f'<p class="missing suppressed">{_("Not published: %(why)s", why=why)}</p>'
            document = document[: m.start(2)] + notice + document[m.end(2) :]
            notes.append(Suppressed(title, why))
        document, n = _strip_blocks(document, f"{sid}.")
        if n:
            notes.append(
                Suppressed(_("%(n)d sentences, tables or charts elsewhere quoting those figures", n=n), why)
            )
    banner = (
        '<p class="missing suppressed">'
        + _(
            "Public version. police.uk figures are shown in full: police.uk already publishes them. Parts based on "
            "partners' data are taken out where the information sharing agreement does not publish that data."
        )
        + "</p>"
    )
    document = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + banner, document, count=1)
    return document, notes


def suppressed_sections(s: Session, datasets: list[str]) -> dict[str, str]:
    """Report sections to take out of the public version, with the reason the agreement gives."""
    private = [d for d in datasets if d.startswith("partner:") and isa.level_for(s, None, d) != "public"]
    if not private:
        return {}
    names = ", ".join(d.split(":", 1)[1] for d in private)
    return {
        "partner": _(
            "partner data (%(names)s) that the information sharing agreement does not publish", names=names
        )
    }


def assessment_area(row: PublishedAssessment) -> str | None:
    """The area code an assessment is of, from its figures.json (None if unreadable)."""
    try:
        doc = json.loads((Path(row.directory) / "figures.json").read_text(encoding="utf-8"))
        return str(doc["area"]["code"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def public_assessment(s: Session, area_code: str) -> tuple[PublishedAssessment, list[dict]] | None:
    """The latest assessment of the area published to the public, and what its public version leaves out."""
    rows = s.execute(select(PublishedAssessment).order_by(PublishedAssessment.id.desc())).scalars()
    for row in rows:
        if (
            row.public_at is not None
            and row.public_area == area_code
            and (Path(row.directory) / PUBLIC_FILE).exists()
        ):
            notes = json.loads(row.public_notes or "[]")
            return row, notes
    return None


def public_areas(portal, configured: tuple[str, ...] | None) -> list:  # noqa: ANN001
    """The areas the public pages list: those configured (``diogel serve --public-area``), else every
    area all of whose police forces' street files are loaded (not an area with a few cross-border records)."""
    areas = portal.views.areas()
    if configured:
        return [a for a in areas if a.code in set(configured)]

    def compute() -> set[str]:
        from diogel.gather.targets import covered_areas

        return covered_areas(portal.views.wh, "csp")

    covered = portal.views.cached(("covered_areas",), compute)
    return [a for a in areas if a.code in covered]
