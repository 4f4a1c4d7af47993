"""Figures below the LSOA level, made safe to publish: every such count the portal shows (pages and
API alike) comes through :func:`diogel.disclosure.suppress` here or in the suppressed ward table,
with the package's one threshold, so a page and its API route always hide the same cells.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from diogel.disclosure import suppress

#: The trend row that is the total of all the others.
ALL_CRIME = "All crime and ASB"


def area_trends(views, code: str) -> tuple[list[dict[str, Any]], str]:  # noqa: ANN001
    """The area's recorded counts by crime type in the headline window and the window before (as
    the dashboard's trends), with small numbers suppressed.

    The table (crime types x [now, before], with the all-crime row and a row total as margins) is
    suppressed as one table: a count of 1 to 4 is hidden (primary), and so is whatever would let
    it be worked out from the totals (secondary). A percentage change and its significance
    (:func:`diogel.analysis.trends.compare_periods`) are given only when both counts are shown.
    Returns (rows: label, current, previous, percent_change, significant, each count None where
    suppressed, all crime first; the rule sentence).
    """

    def compute() -> tuple[list[dict[str, Any]], str]:
        from diogel.analysis.trends import compare_periods

        _months, current, previous, _words = views.windows(code)
        monthly = views.monthly(code)
        if not current:
            return [], ""
        now = monthly[monthly.month.isin(current)].groupby("crime_type")["count"].sum()
        before = monthly[monthly.month.isin(previous)].groupby("crime_type")["count"].sum()
        frame = pd.DataFrame({"current": now, "previous": before}).fillna(0).astype(int)
        frame = frame.sort_values("current", ascending=False)
        frame.loc["Total"] = frame.sum(axis=0)
        frame["Total"] = frame["current"] + frame["previous"]
        result = suppress(frame, margins=True)
        shown = result.table
        rows = []
        for key in ["Total", *[k for k in shown.index if k != "Total"]]:
            cur, prev = shown.at[key, "current"], shown.at[key, "previous"]
            cur = None if pd.isna(cur) else int(cur)
            prev = None if pd.isna(prev) else int(prev)
            pct, significant = None, False
            if cur is not None and prev is not None and previous and cur + prev > 0:
                cmp = compare_periods(cur, prev)
                pct = None if cmp.percent_change != cmp.percent_change else float(cmp.percent_change)
                significant = bool(cmp.significant)
            rows.append({
                "label": ALL_CRIME if key == "Total" else key, "current": cur, "previous": prev,
                "percent_change": pct, "significant": significant,
            })  # fmt: skip
        return rows, result.rule

    return views.cached(("published_trends", code), compute)


def trend_counts(rows: list[dict[str, Any]]) -> dict[str, tuple[int | None, int | None]]:
    """{crime type: (now, before)} from :func:`area_trends`, as the priorities' progress reads them."""
    return {r["label"]: (r["current"], r["previous"]) for r in rows}
