"""Targets and performance in the portal: the targets page, and the progress the dashboard and the
scrutiny pack show.

Targets are stored in the ``partnership_target`` table; progress is never stored: it is computed by
:func:`diogel.analysis.targets.target_progress` on :func:`diogel.gather.targets.target_inputs`, the
same function and inputs the report's "Performance against targets" section uses, so the
dashboard, the scrutiny pack and the report show the same figure for the same target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from diogel.analysis.targets import make_target, target_progress
from diogel.errors import DiogelError
from diogel.portal import audit
from diogel.portal.i18n import gettext as _
from diogel.portal.models import MorileRating, PartnershipTarget, User, utcnow
from diogel.portal.services import PortalError
from diogel.portal.store import as_target

if TYPE_CHECKING:
    from diogel.portal.state import Portal

__all__ = ["progress_rows", "ratings_in", "save_ratings", "save_target", "targets_in"]


def targets_in(s: Session, area_code: str) -> list[PartnershipTarget]:
    q = select(PartnershipTarget).where(PartnershipTarget.area_code == area_code)
    return list(s.execute(q.order_by(PartnershipTarget.id)).scalars())


def _number(value: str, what: str) -> float | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise PortalError(_("%(what)s must be a number", what=what)) from None


def save_target(s: Session, user: User, area_code: str, data: dict[str, str]) -> PartnershipTarget:
    """Record a target from the form's words: priority, measure, baseline_start and baseline_end
    (YYYY-MM), change (percent) or level, deadline (YYYY-MM). Checked by the analysis's own rules."""
    priority = (data.get("priority") or "").strip()
    if not priority:
        raise PortalError(_("a target needs the priority it belongs to"))
    change = _number(data.get("change", ""), _("the target change"))
    level = _number(data.get("level", ""), _("the target level"))
    baseline = f"{(data.get('baseline_start') or '').strip()}..{(data.get('baseline_end') or '').strip()}"
    try:
        t = make_target("new", priority[:200], data.get("measure") or "", area_code, baseline,
                        (data.get("deadline") or "").strip(), change, level, where=_("target"))  # fmt: skip
    except DiogelError as exc:
        raise PortalError(str(exc)) from None
    row = PartnershipTarget(
        area_code=area_code, priority=t.priority, measure=t.measure, baseline_start=t.baseline_start.date(),
        baseline_end=t.baseline_end.date(), change=t.change, level=t.level, deadline=t.deadline.date(),
        created_by=user.id,
    )  # fmt: skip
    s.add(row)
    s.flush()
    audit.append(s, user.username, "target.create", f"target/{row.id}",
                 {"priority": row.priority, "measure": row.measure, "change": row.change, "level": row.level})  # fmt: skip
    return row


def progress_rows(portal: Portal, s: Session, area_code: str) -> list[dict[str, Any]]:
    """Every target of the area with its progress (one dict per target, the analysis's columns)."""
    from diogel.gather.targets import target_inputs

    targets = [as_target(r) for r in targets_in(s, area_code)]
    if not targets:
        return []
    inputs = portal.views.cached(
        ("target_inputs", area_code), lambda: target_inputs(portal.views.wh, area_code)
    )
    frame = target_progress(targets, inputs.monthly, inputs.peers, inputs.loaded)
    return frame.astype(object).where(pd.notna(frame), None).to_dict("records")


# --------------------------------------------------------------------------------------------------
# MoRiLE ratings: the partner judgements of the priority matrix


def ratings_in(s: Session, area_code: str) -> dict[str, MorileRating]:
    q = select(MorileRating).where(MorileRating.area_code == area_code)
    return {r.crime_type: r for r in s.execute(q).scalars()}


def _rating(value: str, what: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if text not in {"1", "2", "3", "4", "5"}:
        raise PortalError(_("%(what)s must be a whole number from 1 to 5", what=what))
    return int(text)


def save_ratings(s: Session, user: User, area_code: str, form: dict[str, str]) -> int:
    """Record the vulnerability and capacity ratings the form gives (``vulnerability_<i>`` and
    ``capacity_<i>`` for the i-th police.uk crime type; blank: not rated). Returns how many changed."""
    from diogel.analysis.harm import POLICEUK_CRIME_TYPES

    current = ratings_in(s, area_code)
    changed = 0
    for i, ct in enumerate(POLICEUK_CRIME_TYPES):
        v = _rating(form.get(f"vulnerability_{i}", ""), _("the vulnerability rating of %(type)s", type=_(ct)))
        c = _rating(form.get(f"capacity_{i}", ""), _("the capacity rating of %(type)s", type=_(ct)))
        row = current.get(ct)
        if row is None and v is None and c is None:
            continue
        if row is not None and (row.vulnerability, row.capacity) == (v, c):
            continue
        if row is None:
            row = MorileRating(area_code=area_code, crime_type=ct, updated_by=user.id)
            s.add(row)
        row.vulnerability, row.capacity, row.updated_by, row.updated_at = v, c, user.id, utcnow()
        changed += 1
        audit.append(
            s, user.username, "rating.save", f"rating/{area_code}/{ct}", {"vulnerability": v, "capacity": c}
        )
    s.flush()
    return changed
