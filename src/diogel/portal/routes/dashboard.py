"""The dashboard: headline trends, the map of rates with hot spots, next quarter's forecast and the
candidate priorities of an area (LSOA-level access to police.uk data). One handler answers the page
(``/dashboard``) and the JSON (``/api/dashboard``)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from diogel.portal import isa, performance
from diogel.portal.deps import area_for, dashboard_level, get_db, portal_of
from diogel.portal.formats import JSONBytes, frame_records, json_bytes, requested_format
from diogel.portal.i18n import gettext as _
from diogel.portal.models import User
from diogel.portal.pact import pact_frame
from diogel.portal.pages import render, render_fragment
from diogel.portal.read.maps import legend
from diogel.portal.state import Portal

router = APIRouter()


def dashboard_data(s: Session, portal: Portal, area: str, epoch: int | None = None):  # noqa: ANN201
    """The area's dashboard with priorities scored on the PACT votes as of ``epoch`` (default: now).

    The votes are read only when the priorities must be scored again (a new meeting moves the
    epoch on), not on every visit to the dashboard."""
    stamp = ("pact", portal.pact_epoch if epoch is None else epoch)
    return portal.views.dashboard(area, lambda: pact_frame(s, portal, area), stamp)


def dashboard_json(d) -> bytes:  # noqa: ANN001
    """The dashboard's figures as the API gives them (NaN as null)."""
    return json_bytes({
        "area_code": d.area_code,
        "area_name": d.area_name,
        "window": d.window,
        "months": d.months,
        "total_12m": d.total_12m,
        "trends": [
            {**t.__dict__, "percent_change": None if t.percent_change != t.percent_change else t.percent_change,
             "p_value": None if t.p_value != t.p_value else t.p_value}
            for t in d.trends
        ],
        "hotspots": frame_records(pd.DataFrame(d.hotspots)),
        "priorities": d.priorities,
    })  # fmt: skip


def dashboard(
    request: Request,
    area: str | None = None,
    user: User = Depends(dashboard_level),
    s: Session = Depends(get_db),
) -> Response:
    """Headline trends, hot spots and candidate priorities for an area (LSOA level)."""
    portal = portal_of(request)
    code = area_for(portal, area)
    # One reading of the epoch for the figures and the cache key, so a meeting recorded meanwhile
    # cannot file old priorities under the new epoch.
    epoch = portal.pact_epoch
    if requested_format(request) == "json":
        # The same bytes for everyone allowed to see them (the permission check is the dependency's),
        # cached with the dashboard: encoding the figures again on every call cost more than reading them.
        return JSONBytes(
            portal.views.cached(
                ("dashboard_json", code, epoch),
                lambda: dashboard_json(dashboard_data(s, portal, code, epoch)),
            )
        )
    d = dashboard_data(s, portal, code, epoch)
    lang = getattr(request.state, "lang", "en")

    def body() -> str:
        rates = (
            portal.views.lsoa_frame(code, d.months[-12:]).set_index("lsoa_code")["rate_per_1000"]
            if d.months
            else pd.Series(dtype=float)
        )
        return render_fragment(
            request, "dashboard_body.html", d=d, legend=legend(rates), areas=portal.views.areas(),
            sparkline=sparkline, window=portal.views.window_bounds(code), wn=portal.views.where_next(code),
            map_words=map_in_words(rates, d.hotspots),
        )  # fmt: skip

    # The figures are the same for everyone allowed here: render them once per area, PACT epoch,
    # language and catalogue folder (the cache moves on with the warehouse version).
    key = ("dashboard_html", code, epoch, lang, str(portal.config.translations))
    return render(
        request,
        "dashboard.html",
        d=d,
        body=portal.views.cached(key, body),
        record_level=isa.level_for(s, user, "police-street") == "record",
        targets=performance.progress_rows(portal, s, code),
    )


router.add_api_route("/dashboard", dashboard, methods=["GET"], include_in_schema=False)
router.add_api_route(
    "/api/dashboard",
    dashboard,
    methods=["GET"],
    response_model=dict[str, Any],
    tags=["api"],
    name="api_dashboard",
)


def sparkline(values: list[int], label: str = "", width: int = 120, height: int = 24) -> str:
    """A tiny inline SVG line of monthly counts (markup built from numbers only); ``label``, the
    counts in words, is its text alternative (an image with a name), else it is hidden from screen
    readers as decoration."""
    from markupsafe import escape

    if not values:
        return ""
    hi = max(values) or 1
    step = width / max(1, len(values) - 1)
    pts = " ".join(f"{i * step:.1f},{height - 2 - (v / hi) * (height - 4):.1f}" for i, v in enumerate(values))
    named = f'role="img" aria-label="{escape(label)}"' if label else 'aria-hidden="true"'
    return (
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" {named}>'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{pts}"/></svg>'
    )


def map_in_words(rates: pd.Series, hotspots: list[dict[str, Any]], n: int = 3) -> str:
    """The dashboard map as a sentence (its text alternative): the range of rates, the LSOAs with
    the highest, and how many are hot spots, in the request's language."""
    from diogel.portal import i18n

    rates = rates.dropna()
    if rates.empty:
        return _("No LSOA has a rate to map.")
    top = rates.sort_values(ascending=False).head(n)
    words = _(
        "Rates per 1,000 residents run from %(low)s to %(high)s across %(lsoas)s LSOAs; the highest"
        " are in %(top)s.",
        low=i18n.number(rates.min(), 1),
        high=i18n.number(rates.max(), 1),
        lsoas=i18n.number(len(rates)),
        top=", ".join(f"{code} ({i18n.number(v, 1)})" for code, v in top.items()),
    )
    hot = sum(str(h.get("bin", "")).startswith("Hot spot") for h in hotspots)
    return words + " " + _("Hot spots outlined: %(hot)s (listed under Hot spots).", hot=i18n.number(hot))
