"""The national minimum standards: the six hallmarks of effective partnerships, a year's
self-assessment against them and the comparison year on year."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from diogel.portal import audit
from diogel.portal.errors import PortalError
from diogel.portal.i18n import N_
from diogel.portal.i18n import gettext as _
from diogel.portal.models import RAG, HallmarkRating, StandardsAssessment, User, utcnow

#: The six hallmarks of effective partnerships, with the criteria a partnership assesses itself
#: against (summarised from the Home Office hallmarks and the national minimum standards for CSPs).
#: Marked with N_ for the catalogue and translated where shown; stored and compared in English.
HALLMARKS: list[tuple[str, str, list[str]]] = [
    (
        "leadership",
        N_("Empowered and effective leadership"),
        [
            N_("A strategy group of the responsible authorities meets and decides"),
            N_("Each responsible authority is represented by someone able to commit its resources"),
            N_("The partnership plan sets out the priorities and how they will be delivered"),
            N_("Roles of the chair and members are agreed and reviewed"),
        ],
    ),
    (
        "intelligence",
        N_("Intelligence-led business processes"),
        [
            N_("A strategic assessment is prepared each year from partners' data"),
            N_("An information sharing agreement is in place with designated liaison officers"),
            N_("Performance against the priorities is monitored at each strategy group"),
            N_("Partners' depersonalised data is shared under the 2007 Regulations"),
        ],
    ),
    (
        "delivery",
        N_("Effective and responsive delivery structures"),
        [
            N_("Delivery groups are aligned with the priorities"),
            N_("Resources are pooled or aligned to the priorities"),
            N_("Persistent problems are tackled with a problem-solving method"),
            N_("Delivery structures are reviewed against outcomes"),
        ],
    ),
    (
        "communities",
        N_("Engaged communities"),
        [
            N_("Communities' views on priorities are sought (e.g. PACT meetings)"),
            N_("Face-to-face meetings with the public are held"),
            N_("Groups under-represented at meetings are reached in other ways"),
            N_("Communities are told what was done about what they raised"),
        ],
    ),
    (
        "accountability",
        N_("Visible and constructive accountability"),
        [
            N_("A summary of the partnership plan is published"),
            N_("The crime and disorder scrutiny committee reviews the partnership at least once a year"),
            N_("Performance is reported to the public"),
            N_("Decisions and actions are recorded and followed up"),
        ],
    ),
    (
        "skills",
        N_("Appropriate skills and knowledge"),
        [
            N_("Partners' skills and knowledge needs are assessed"),
            N_("Training is available to members and staff"),
            N_("There is enough analytical capacity for the strategic assessment"),
            N_("Good practice is shared with other partnerships"),
        ],
    ),
]
HALLMARK_KEYS = [k for k, _, _ in HALLMARKS]


def save_standards(
    s: Session, user: User, area_code: str, year: int, ratings: dict[str, dict[str, Any]]
) -> StandardsAssessment:
    """Store (or replace) a year's self-assessment: for each hallmark a RAG rating, the criteria met,
    evidence links (http(s) URLs or portal paths, one a line) and actions."""
    if not 2000 <= year <= dt.date.today().year + 1:
        raise PortalError(_("the year of a self-assessment must be between 2000 and next year"))
    missing = [k for k in HALLMARK_KEYS if (ratings.get(k) or {}).get("rag") not in RAG]
    if missing:
        raise PortalError(
            _(
                "give a red, amber or green rating for every hallmark (missing: %(missing)s)",
                missing=", ".join(missing),
            )
        )
    row = s.execute(
        select(StandardsAssessment).where(
            StandardsAssessment.area_code == area_code, StandardsAssessment.year == year
        )
    ).scalar_one_or_none()
    if row is None:
        row = StandardsAssessment(area_code=area_code, year=year, updated_by=user.id)
        s.add(row)
    row.updated_by = user.id
    row.updated_at = utcnow()
    row.ratings.clear()
    s.flush()
    criteria = {k: c for k, _, c in HALLMARKS}
    for key in HALLMARK_KEYS:
        r = ratings[key]
        met = [c for c in (r.get("criteria_met") or []) if c in criteria[key]]
        links = [ln.strip() for ln in str(r.get("evidence") or "").splitlines() if ln.strip()]
        for ln in links:
            if not re.match(r"^(https?://|/)\S+$", ln):
                raise PortalError(
                    _("evidence must be links (http(s):// or a portal path), one a line: %(link)r", link=ln)
                )
        row.ratings.append(
            HallmarkRating(
                hallmark=key,
                rag=r["rag"],
                criteria_met="\n".join(met),
                evidence="\n".join(links),
                actions=str(r.get("actions") or "").strip(),
            )
        )
    s.flush()
    audit.append(
        s,
        user.username,
        "standards.save",
        f"{area_code}/{year}",
        {k: ratings[k]["rag"] for k in HALLMARK_KEYS},
    )
    return row


def standards_comparison(s: Session, area_code: str) -> dict[str, Any]:
    rows = (
        s.execute(
            select(StandardsAssessment)
            .where(StandardsAssessment.area_code == area_code)
            .order_by(StandardsAssessment.year)
        )
        .scalars()
        .all()
    )
    years = [r.year for r in rows]
    table = []
    score = {"red": 0, "amber": 1, "green": 2}
    for key, title, criteria in HALLMARKS:
        cells = []
        for r in rows:
            rating = next((x for x in r.ratings if x.hallmark == key), None)
            cells.append(
                None
                if rating is None
                else {
                    "rag": rating.rag,
                    "criteria_met": [c for c in rating.criteria_met.splitlines() if c],
                    "evidence": [e for e in rating.evidence.splitlines() if e],
                    "actions": rating.actions,
                }
            )
        change = ""
        if len(cells) >= 2 and cells[-1] and cells[-2]:
            d = score[cells[-1]["rag"]] - score[cells[-2]["rag"]]
            change = "improved" if d > 0 else ("worse" if d < 0 else "same")
        table.append({"key": key, "title": title, "criteria": criteria, "cells": cells, "change": change})
    return {"years": years, "hallmarks": table}
