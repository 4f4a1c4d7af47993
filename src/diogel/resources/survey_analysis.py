"""Analyses of the workforce survey's responses: rankings, choice counts, priorities, Likert
summaries and the workforce profile (see :mod:`diogel.resources.survey` for the statistics' formulas).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from diogel.resources.survey import Question, Survey

# ---------------------------------------------------------------------------------------------
# Analyses


def _check_type(q: Question, *types: str) -> None:
    if q.type not in types:
        raise ValueError(f"question {q.id} is {q.type}, not {' or '.join(types)}")


def rank_summary(responses: pd.DataFrame, survey: Survey, question: str) -> pd.DataFrame:
    """Mean rank, Borda count and top-three count for each item of a rank question.

    Borda points are ``n - rank`` (n = number of items); unranked items earn 0. Returns ``item``,
    ``label``, ``n_ranked``, ``mean_rank``, ``borda``, ``top3``, ``borda_position`` and
    ``mean_rank_position`` (1 = first; ties share the lower position), ordered by Borda count
    (then mean rank, then item order).
    """
    q = survey.question(question)
    _check_type(q, "rank")
    n = len(q.items)
    rows = []
    for order, item in enumerate(q.items):
        r = responses[f"{q.id}.{item.id}"].dropna().astype(int)
        rows.append(
            {
                "item": item.id,
                "label": item.label,
                "n_ranked": int(r.size),
                "mean_rank": float(r.mean()) if r.size else float("nan"),
                "borda": int((n - r).sum()),
                "top3": int((r <= 3).sum()),
                "_order": order,
            }
        )
    df = pd.DataFrame(rows)
    df["borda_position"] = df["borda"].rank(ascending=False, method="min").astype(int)
    df["mean_rank_position"] = df["mean_rank"].rank(ascending=True, method="min").astype("Int64")
    df = df.sort_values(["borda", "mean_rank", "_order"], ascending=[False, True, True])
    return df.drop(columns="_order").reset_index(drop=True)


def choice_counts(responses: pd.DataFrame, survey: Survey, question: str) -> pd.DataFrame:
    """How often each item was chosen in a multi- or single-choice question.

    ``share`` is count / respondents who answered the question. Ordered by count, then item order.
    """
    q = survey.question(question)
    _check_type(q, "multi_choice", "single_choice")
    answered = responses[q.id].dropna()
    chosen = answered.str.split(";").explode()
    counts = chosen.value_counts()
    df = pd.DataFrame(
        {
            "item": q.item_ids,
            "label": [i.label for i in q.items],
            "count": [int(counts.get(i, 0)) for i in q.item_ids],
            "_order": range(len(q.items)),
        }
    )
    df["share"] = df["count"] / len(answered) if len(answered) else float("nan")
    df = df.sort_values(["count", "_order"], ascending=[False, True])
    return df.drop(columns="_order").reset_index(drop=True)


def priorities(
    responses: pd.DataFrame,
    survey: Survey,
    top: str = "priority_areas",
    least: str = "least_important_areas",
) -> pd.DataFrame:
    """Top and lowest priorities: times each area was chosen as a priority and as least important.

    ``net`` = priority count - least-important count. Ordered by ``net`` (highest priority first),
    then by priority count.
    """
    a = choice_counts(responses, survey, top).set_index("item")
    b = choice_counts(responses, survey, least).set_index("item")
    q = survey.question(top)
    df = pd.DataFrame(
        {
            "item": q.item_ids,
            "label": [i.label for i in q.items],
            "priority_count": [int(a["count"].get(i, 0)) for i in q.item_ids],
            "least_count": [int(b["count"].get(i, 0)) for i in q.item_ids],
        }
    )
    df["net"] = df["priority_count"] - df["least_count"]
    return df.sort_values(["net", "priority_count"], ascending=False, kind="stable").reset_index(drop=True)


def likert_summary(responses: pd.DataFrame, survey: Survey, question: str) -> pd.DataFrame:
    """Counts and percentages of each scale level for each item of a Likert question.

    Returns ``item``, ``label``, ``n`` (answers), ``count_<code>`` and ``pct_<code>`` for every scale
    code, ``pct_negative`` (codes below the midpoint), ``pct_neutral`` (the midpoint, odd scales
    only), ``pct_positive`` and ``mean`` (of the codes). Percentages are of answers, not respondents.
    """
    q = survey.question(question)
    _check_type(q, "likert")
    codes = [c for c, _ in q.scale]
    mid = (min(codes) + max(codes)) / 2
    rows = []
    for item in q.items:
        s = responses[f"{q.id}.{item.id}"].dropna().astype(int)
        n = int(s.size)
        row: dict[str, Any] = {"item": item.id, "label": item.label, "n": n}
        for c in codes:
            row[f"count_{c}"] = int((s == c).sum())
        for c in codes:
            row[f"pct_{c}"] = 100 * row[f"count_{c}"] / n if n else float("nan")
        row["pct_negative"] = 100 * float((s < mid).sum()) / n if n else float("nan")
        row["pct_neutral"] = 100 * float((s == mid).sum()) / n if n else float("nan")
        row["pct_positive"] = 100 * float((s > mid).sum()) / n if n else float("nan")
        row["mean"] = float(s.mean()) if n else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def diverging_segments(summary: pd.DataFrame, scale: Sequence[tuple[int, str]]) -> pd.DataFrame:
    """Bar segments for a diverging Likert chart: ``item``, ``code``, ``left``, ``width``.

    Negative levels extend left of zero (the most negative furthest out), positive levels right,
    and the neutral midpoint (odd scales) is split half each side of zero.
    """
    codes = [c for c, _ in scale]
    mid = (min(codes) + max(codes)) / 2
    rows = []
    for _, r in summary.iterrows():
        neutral = r[f"pct_{int(mid)}"] if mid in codes else 0.0
        x = -neutral / 2
        for c in sorted((c for c in codes if c < mid), reverse=True):
            x -= r[f"pct_{c}"]
        # Walk left to right from the far negative end.
        for c in codes:
            w = r[f"pct_{c}"]
            rows.append({"item": r["item"], "code": c, "left": x, "width": w})
            x += w
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Workforce profile


def workforce_profile(responses: pd.DataFrame, survey: Survey) -> dict[str, pd.DataFrame]:
    """Profile tables of the questions marked ``section: profile``.

    Returns, by name: one :func:`choice_counts` table per single- or multi-choice profile question;
    ``post_title`` (each title as given, case and spacing folded, with how many gave it);
    ``fte`` (respondents who answered, total, mean and median FTE); ``fte_by_role`` and
    ``fte_by_funding_source`` (respondents and total FTE per answer, when those questions exist);
    ``role_by_funding_source`` (respondents per role and main funding source).
    """
    prof = [q for q in survey.questions if q.section == "profile"]
    out: dict[str, pd.DataFrame] = {}
    for q in prof:
        if q.type in ("single_choice", "multi_choice"):
            out[q.id] = choice_counts(responses, survey, q.id)
        elif q.type == "text":
            v = responses[q.id].dropna().str.strip()
            key = v.str.casefold()
            first = v.groupby(key).first()
            counts = key.value_counts()
            df = pd.DataFrame({"label": first.reindex(counts.index).to_numpy(), "count": counts.to_numpy()})
            out[q.id] = df.sort_values(["count", "label"], ascending=[False, True]).reset_index(drop=True)
        elif q.type == "number":
            v = responses[q.id].dropna().astype(float)
            out[q.id] = pd.DataFrame({"answered": [int(v.size)], "total": [float(v.sum())],
                                      "mean": [float(v.mean()) if v.size else float("nan")],
                                      "median": [float(v.median()) if v.size else float("nan")]})  # fmt: skip
    ids = {q.id: q for q in prof}
    if "fte" in ids and ids["fte"].type == "number":
        for by in ("role", "funding_source"):
            if by in ids and ids[by].type == "single_choice":
                q = ids[by]
                g = responses[[by, "fte"]].dropna(subset=[by])
                rows = [{"label": item.label, "respondents": int((g[by] == item.id).sum()),
                         "total": float(g.loc[g[by] == item.id, "fte"].dropna().astype(float).sum())}
                        for item in q.items]  # fmt: skip
                out[f"fte_by_{by}"] = pd.DataFrame(rows)
    if "role" in ids and "funding_source" in ids:
        r, f = ids["role"], ids["funding_source"]
        g = responses[["role", "funding_source"]].dropna()
        tab = pd.crosstab(g["role"], g["funding_source"]).reindex(
            index=r.item_ids, columns=f.item_ids, fill_value=0
        )
        tab.index = [r.label(i) for i in tab.index]
        tab.columns = [f.label(i) for i in tab.columns]
        out["role_by_funding_source"] = tab.rename_axis("role").reset_index()
    return out
