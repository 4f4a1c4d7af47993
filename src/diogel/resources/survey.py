"""The community safety workforce survey as a reusable instrument: questions, validated responses,
rankings, priorities and diverging Likert charts.

The questions live in ``survey_questions.yaml`` (or any file of the same shape); responses are one
row per respondent (see the YAML header for the columns each question type uses).

Ranking statistics for a rank question with ``n`` items:

- mean rank: mean of the ranks the item received (1 = most important), over respondents who
  ranked it; lower is better.
- Borda count: each respondent gives an item ``n - rank`` points (rank 1 earns ``n - 1``, rank
  ``n`` earns 0; an unranked item earns 0); the item's score is the sum over respondents.
- top three: the number of respondents who ranked the item 1, 2 or 3.

The workforce profile (questions marked ``section: profile``: role, post title, grade, FTE,
funding source of the post, time in post, qualifications, training needs) is summarised by
:func:`workforce_profile`. Everything written out (CSV headers, HTML, charts) uses readable labels
(:data:`READABLE`), never the internal column names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from diogel.errors import InputError

TYPES = ("rank", "multi_choice", "likert", "single_choice", "number", "text")


@dataclass(frozen=True)
class Item:
    id: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    items: tuple[Item, ...]
    scale: tuple[tuple[int, str], ...] = ()
    max_choices: int | None = None
    allow_partial: bool = False
    exclusive_with: str | None = None
    section: str = ""
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    examples: tuple[Any, ...] = ()

    @property
    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]

    def label(self, item_id: str) -> str:
        return {i.id: i.label for i in self.items}[item_id]

    @property
    def columns(self) -> list[str]:
        if self.type in ("rank", "likert"):
            return [f"{self.id}.{i.id}" for i in self.items]
        return [self.id]


@dataclass(frozen=True)
class Survey:
    title: str
    questions: tuple[Question, ...]
    version: int = 1

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(f"no question {qid!r} in the survey")

    @property
    def columns(self) -> list[str]:
        return ["respondent_id"] + [c for q in self.questions for c in q.columns]


def survey_from_dict(data: Mapping[str, Any], where: str = "<survey>") -> Survey:
    """Build and check a :class:`Survey` from the parsed YAML mapping."""
    scales = {
        name: tuple((int(lv["code"]), str(lv["label"])) for lv in levels)
        for name, levels in (data.get("scales") or {}).items()
    }
    questions = []
    seen: set[str] = set()
    for q in data.get("questions") or []:
        qid, qtype = str(q.get("id", "")), q.get("type")
        if not qid or qid in seen:
            raise ValueError(f"{where}: question id missing or repeated: {qid!r}")
        seen.add(qid)
        if qtype not in TYPES:
            raise ValueError(f"{where}: question {qid}: unknown type {qtype!r}")
        items = tuple(Item(str(i["id"]), str(i["label"])) for i in q.get("items") or [])
        if qtype == "number" and not (
            isinstance(q.get("min"), int | float)
            and isinstance(q.get("max"), int | float)
            and q["min"] < q["max"]
        ):
            raise ValueError(f"{where}: question {qid}: a number question needs min < max")
        if qtype in ("number", "text"):
            pass
        elif not items or len({i.id for i in items}) != len(items):
            raise ValueError(f"{where}: question {qid}: items missing or repeated")
        scale: tuple[tuple[int, str], ...] = ()
        if qtype == "likert":
            if q.get("scale") not in scales:
                raise ValueError(f"{where}: question {qid}: unknown scale {q.get('scale')!r}")
            scale = scales[q["scale"]]
        questions.append(
            Question(
                id=qid,
                type=qtype,
                text=" ".join(str(q.get("text", "")).split()),
                items=items,
                scale=scale,
                max_choices=int(q["max_choices"]) if q.get("max_choices") is not None else None,
                allow_partial=bool(q.get("allow_partial", False)),
                exclusive_with=q.get("exclusive_with"),
                section=str(q.get("section", "")),
                minimum=float(q["min"]) if q.get("min") is not None else None,
                maximum=float(q["max"]) if q.get("max") is not None else None,
                max_length=int(q["max_length"]) if q.get("max_length") is not None else None,
                examples=tuple(q.get("examples") or ()),
            )
        )
    order = [q.id for q in questions]
    for q in questions:
        if q.exclusive_with is not None:
            other = q.exclusive_with
            if (
                q.type != "multi_choice"
                or other not in order
                or questions[order.index(other)].type != "multi_choice"
            ):
                raise ValueError(f"{where}: question {q.id}: exclusive_with needs two multi-choice questions")
            if order.index(other) > order.index(q.id):
                raise ValueError(f"{where}: question {q.id}: exclusive_with must name an earlier question")
    return Survey(
        title=str(data.get("title", "")), questions=tuple(questions), version=int(data.get("version", 1))
    )


def load_questions(path: str | Path | None = None) -> Survey:
    """Load the survey instrument (default: the bundled ``survey_questions.yaml``)."""
    if path is None:
        text = (resources.files("diogel.resources") / "survey_questions.yaml").read_text(encoding="utf-8")
        where = "survey_questions.yaml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        where = str(path)
    return survey_from_dict(yaml.safe_load(text), where)


# ---------------------------------------------------------------------------------------------
# Responses


def read_responses(path: str | Path, survey: Survey) -> pd.DataFrame:
    """Read and validate a responses CSV; errors name the file, line and column."""
    p = Path(path)
    if not p.exists():
        raise InputError(str(p), "file not found")
    with p.open(newline="", encoding="utf-8-sig") as fh:
        return parse_responses(fh.read(), survey, str(p))


def parse_responses(text: str, survey: Survey, source: str = "<responses>") -> pd.DataFrame:
    """Validate responses given as CSV text.

    Returns one row per respondent: ``respondent_id``, rank and Likert columns as nullable integers,
    multi-choice columns as ``;``-joined item ids in the order given, single-choice columns as the
    item id (missing answers are ``<NA>``); any extra columns are kept as text.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError(source, "empty file") from None
    for col in survey.columns:
        if col not in header:
            raise InputError(source, "missing column", line=1, column=col)
    dup = [h for h in header if header.count(h) > 1]
    if dup:
        raise InputError(source, "column appears twice", line=1, column=dup[0])
    records: list[dict[str, Any]] = []
    ids: set[str] = set()
    for row in reader:
        line = reader.line_num
        if not any(v.strip() for v in row):
            continue
        if len(row) > len(header):
            raise InputError(source, f"{len(row)} values but {len(header)} columns", line=line)
        cells = dict(zip(header, [v.strip() for v in row] + [""] * (len(header) - len(row)), strict=True))
        rid = cells["respondent_id"]
        if not rid:
            raise InputError(source, "value is required", line, "respondent_id")
        if rid in ids:
            raise InputError(source, f"respondent {rid!r} appears twice", line, "respondent_id")
        ids.add(rid)
        rec: dict[str, Any] = dict(cells)
        for q in survey.questions:
            rec.update(_parse_question(q, cells, source, line))
            if q.exclusive_with and rec[q.id] and rec[q.exclusive_with]:
                both = set(rec[q.id].split(";")) & set(rec[q.exclusive_with].split(";"))
                if both:
                    raise InputError(
                        source, f"{sorted(both)[0]!r} is also chosen in {q.exclusive_with}", line, q.id
                    )
        records.append(rec)
    df = pd.DataFrame(records, columns=header)
    return _typed(df, survey)


def _typed(df: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    for q in survey.questions:
        for c in q.columns:
            if q.type in ("rank", "likert"):
                df[c] = pd.array(df[c].tolist(), dtype="Int64")
            elif q.type == "number":
                df[c] = pd.array(df[c].tolist(), dtype="Float64")
            else:
                df[c] = df[c].astype("string")
    return df


def _parse_question(q: Question, cells: Mapping[str, str], source: str, line: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if q.type == "rank":
        n = len(q.items)
        used: dict[int, str] = {}
        for col in q.columns:
            v = cells[col]
            if v == "":
                out[col] = None
                continue
            try:
                r = int(v)
            except ValueError:
                raise InputError(source, f"rank must be a whole number 1-{n}, not {v!r}", line, col) from None
            if not 1 <= r <= n:
                raise InputError(source, f"rank {r} is outside 1-{n}", line, col)
            if r in used:
                raise InputError(source, f"rank {r} given twice (also in {used[r]})", line, col)
            used[r] = col
            out[col] = r
        if used and len(used) < n and not q.allow_partial:
            blank = next(c for c in q.columns if out[c] is None)
            raise InputError(
                source, f"rank every item of {q.id} or none (partial rankings not allowed)", line, blank
            )
    elif q.type == "likert":
        codes = {c for c, _ in q.scale}
        for col in q.columns:
            v = cells[col]
            if v == "":
                out[col] = None
                continue
            try:
                code = int(v)
            except ValueError:
                code = None
            if code not in codes:
                raise InputError(source, f"answer must be one of {sorted(codes)}, not {v!r}", line, col)
            out[col] = code
    elif q.type == "multi_choice":
        v = cells[q.id]
        chosen = [x.strip() for x in v.split(";") if x.strip()] if v else []
        for x in chosen:
            if x not in q.item_ids:
                raise InputError(source, f"unknown choice {x!r}", line, q.id)
        if len(set(chosen)) != len(chosen):
            raise InputError(source, "a choice is repeated", line, q.id)
        if q.max_choices is not None and len(chosen) > q.max_choices:
            raise InputError(source, f"{len(chosen)} choices, at most {q.max_choices} allowed", line, q.id)
        out[q.id] = ";".join(chosen) if chosen else None
    elif q.type == "number":
        v = cells[q.id]
        if v == "":
            out[q.id] = None
        else:
            try:
                x = float(v)
            except ValueError:
                x = float("nan")
            if not (q.minimum <= x <= q.maximum):
                raise InputError(source, f"answer must be a number from {q.minimum:g} to {q.maximum:g}, not {v!r}",
                                 line, q.id)  # fmt: skip
            out[q.id] = x
    elif q.type == "text":
        v = " ".join(cells[q.id].split())
        if q.max_length is not None and len(v) > q.max_length:
            raise InputError(source, f"{len(v)} characters, at most {q.max_length} allowed", line, q.id)
        out[q.id] = v or None
    else:
        v = cells[q.id]
        if v and v not in q.item_ids:
            raise InputError(source, f"unknown answer {v!r}", line, q.id)
        out[q.id] = v or None
    return out


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


def _palette(k: int) -> list[str]:
    """ColorBrewer PuOr (colour-blind safe) with a grey midpoint; orange = negative, purple = positive."""
    fixed = {
        2: ["#e66101", "#5e3c99"],
        3: ["#e66101", "#bdbdbd", "#5e3c99"],
        4: ["#e66101", "#fdb863", "#b2abd2", "#5e3c99"],
        5: ["#e66101", "#fdb863", "#bdbdbd", "#b2abd2", "#5e3c99"],
        6: ["#b35806", "#f1a340", "#fee0b6", "#d8daeb", "#998ec3", "#542788"],
        7: ["#b35806", "#f1a340", "#fee0b6", "#bdbdbd", "#d8daeb", "#998ec3", "#542788"],
    }
    if k not in fixed:
        raise ValueError(f"diverging palette defined for 2-7 levels, not {k}")
    return fixed[k]


def diverging_likert_svg(responses: pd.DataFrame, survey: Survey, question: str, title: str = "") -> str:
    """Diverging stacked bars of a Likert question, as an SVG string.

    Disagreement/low engagement to the left of zero, agreement/high engagement to the right, the
    neutral level split across zero (see :func:`diverging_segments`); items ordered by
    ``pct_positive - pct_negative``. Colours: ColorBrewer PuOr, colour-blind safe.
    """
    from matplotlib.figure import Figure

    from diogel.resources.charts import figure_svg as _svg

    q = survey.question(question)
    summary = likert_summary(responses, survey, question)
    summary = summary.assign(_net=summary["pct_positive"] - summary["pct_negative"]).sort_values("_net")
    segs = diverging_segments(summary, q.scale)
    colours = dict(zip([c for c, _ in q.scale], _palette(len(q.scale)), strict=True))
    labels = dict(zip(summary["item"], summary["label"], strict=True))
    order = list(summary["item"])
    fig = Figure(figsize=(8, 0.4 * len(order) + 1.6))
    ax = fig.subplots()
    for code, label in q.scale:
        s = segs[segs["code"] == code].set_index("item").reindex(order)
        ax.barh(
            [_wrap(labels[i]) for i in order],
            s["width"],
            left=s["left"],
            color=colours[code],
            edgecolor="white",
            linewidth=0.5,
            label=label,
        )
    ax.axvline(0, color="black", linewidth=0.8)
    lim = max(50.0, float((segs["left"] + segs["width"]).abs().max()), float(segs["left"].abs().max()))
    ax.set_xlim(-lim, lim)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{abs(t):.0f}%" for t in ticks])
    ax.set_title(title or q.text, fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(q.scale), fontsize=7, frameon=False)
    ax.spines[["top", "right", "left"]].set_visible(False)
    return _svg(fig)


def _wrap(text: str, width: int = 40) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


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


# ---------------------------------------------------------------------------------------------
# Readable output

READABLE = {
    "item": "Item id",
    "label": "Item",
    "n_ranked": "Respondents who ranked it",
    "mean_rank": "Mean rank (1 = most important)",
    "borda": "Points (n - rank from each respondent)",
    "top3": "Respondents ranking it in their top three",
    "borda_position": "Position by points",
    "mean_rank_position": "Position by mean rank",
    "count": "Respondents",
    "share": "Share of respondents who answered",
    "priority_count": "Chosen as a top priority",
    "least_count": "Chosen as least important",
    "net": "Net (top priority - least important)",
    "n": "Answers",
    "pct_negative": "% negative",
    "pct_neutral": "% neutral",
    "pct_positive": "% positive",
    "mean": "Mean",
    "answered": "Respondents who answered",
    "total": "Total FTE",
    "median": "Median",
    "respondents": "Respondents",
    "role": "Role",
}


def readable(df: pd.DataFrame, scale: Sequence[tuple[int, str]] = ()) -> pd.DataFrame:
    """The same table with readable column headings (Likert levels named by their scale labels)."""
    names = dict(READABLE)
    for code, label in scale:
        names[f"count_{code}"] = f"{label} (answers)"
        names[f"pct_{code}"] = f"{label} (%)"
    return df.rename(columns=names)


def bar_svg(labels: Sequence[str], values: Sequence[float], title: str, xlabel: str) -> str:
    """Horizontal bars, largest at the top, as an SVG string."""
    from matplotlib.figure import Figure

    from diogel.resources.charts import figure_svg as _svg

    order = list(range(len(labels)))[::-1]
    fig = Figure(figsize=(8, 0.35 * len(labels) + 1.4))
    ax = fig.subplots()
    ax.barh([_wrap(str(labels[i])) for i in order], [values[i] for i in order], color="#5e3c99")
    ax.set_title(_wrap(title, 90), fontsize=10)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _figures(a: SurveyAnalysis) -> list[tuple[str, str]]:
    """The survey's figures, numbered in the order of the seed report: rankings, priorities,
    influence, engagement and professionalisation (Likert), qualifications, then the profile."""
    figs: list[tuple[str, str]] = []
    for qid, df in a.rankings.items():
        figs.append((a.survey.question(qid).text, bar_svg(df["label"], df["borda"], a.survey.question(qid).text,
                                                          READABLE["borda"])))  # fmt: skip
    if a.priorities is not None:
        p = a.priorities
        figs.append(("Top and lowest priorities", bar_svg(p["label"], p["net"], "Top and lowest priorities",
                                                          READABLE["net"])))  # fmt: skip
    for qid, df in a.choices.items():
        if qid in ("priority_areas", "least_important_areas") and a.priorities is not None:
            continue
        text = a.survey.question(qid).text
        figs.append((text, bar_svg(df["label"], df["count"], text, "Respondents choosing it")))
    for qid in a.likert:
        figs.append((a.survey.question(qid).text, a.charts[qid]))
    for qid, df in a.profile.items():
        if qid in {q.id for q in a.survey.questions if q.type in ("single_choice", "multi_choice")}:
            text = a.survey.question(qid).text
            figs.append((text, bar_svg(df["label"], df["count"], text, "Respondents")))
    return [(f"Figure {i}: {title}", svg) for i, (title, svg) in enumerate(figs, 1)]


# ---------------------------------------------------------------------------------------------
# Synthetic responses


def make_synthetic_responses(survey: Survey, n: int = 60, seed: int = 2007) -> pd.DataFrame:
    """SYNTHETIC responses for demonstrations and tests (not survey data).

    Each respondent's ranking sorts item scores ``mu_item + N(0, 1)``; choices are drawn without
    replacement with fixed, unequal probabilities; Likert answers from item-specific distributions;
    about 3% of Likert answers are left blank. Deterministic for a given ``seed``.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, list[Any]] = {"respondent_id": [f"S{i + 1:03d}" for i in range(n)]}
    for qi, q in enumerate(survey.questions):
        k = len(q.items)
        # Fixed, unequal item tendencies so the synthetic data has something to find.
        tendency = np.cos(np.arange(k) * (1.3 + 0.1 * qi)) * 1.2
        if q.type == "rank":
            scores = tendency + rng.normal(0.0, 1.0, size=(n, k))
            ranks = (-scores).argsort(axis=1).argsort(axis=1) + 1
            for j, item in enumerate(q.items):
                out[f"{q.id}.{item.id}"] = ranks[:, j].tolist()
        elif q.type == "multi_choice":
            w = np.exp(tendency)
            m = min(q.max_choices or 3, k)
            answers = []
            for r in range(n):
                allowed = np.ones(k, dtype=bool)
                if q.exclusive_with:
                    taken = set(out[q.exclusive_with][r].split(";"))
                    allowed = np.array([i not in taken for i in q.item_ids])
                p = np.where(allowed, w, 0.0)
                picks = rng.choice(k, size=min(m, int(allowed.sum())), replace=False, p=p / p.sum())
                answers.append(";".join(q.item_ids[j] for j in picks))
            out[q.id] = answers
        elif q.type in ("number", "text"):
            picks = rng.choice(len(q.examples), size=n)
            out[q.id] = [q.examples[j] for j in picks]
        elif q.type == "single_choice":
            p = np.exp(tendency)
            p = p / p.sum()
            out[q.id] = [q.item_ids[j] for j in rng.choice(k, size=n, p=p)]
        else:
            codes = np.array([c for c, _ in q.scale])
            centre = (codes.min() + codes.max()) / 2
            for j, item in enumerate(q.items):
                mean = centre + 0.8 * tendency[j]
                vals = np.clip(np.rint(rng.normal(mean, 1.0, size=n)), codes.min(), codes.max()).astype(int)
                blank = rng.random(n) < 0.03
                out[f"{q.id}.{item.id}"] = [None if b else int(v) for v, b in zip(vals, blank, strict=True)]
    df = _typed(pd.DataFrame(out), survey)
    return df[survey.columns]


# ---------------------------------------------------------------------------------------------
# The whole analysis, for the command line and reports


@dataclass
class SurveyAnalysis:
    """Every analysis of a set of responses: one table per question, Likert charts as SVG.

    ``rankings``: :func:`rank_summary` per rank question; ``choices``: :func:`choice_counts` per
    multi- and single-choice question; ``priorities``: :func:`priorities` when the survey has the
    ``priority_areas`` and ``least_important_areas`` questions; ``likert``: :func:`likert_summary`
    per Likert question; ``charts``: :func:`diverging_likert_svg` per Likert question.
    """

    survey: Survey
    n_respondents: int
    source: str
    synthetic: bool
    rankings: dict[str, pd.DataFrame]
    choices: dict[str, pd.DataFrame]
    priorities: pd.DataFrame | None
    likert: dict[str, pd.DataFrame]
    charts: dict[str, str]
    profile: dict[str, pd.DataFrame] = field(default_factory=dict)


def analyse(
    responses: pd.DataFrame, survey: Survey, source: str = "", synthetic: bool = False
) -> SurveyAnalysis:
    """Run every analysis the instrument supports on validated ``responses``."""
    rankings = {q.id: rank_summary(responses, survey, q.id) for q in survey.questions if q.type == "rank"}
    choices = {
        q.id: choice_counts(responses, survey, q.id)
        for q in survey.questions
        if q.type in ("multi_choice", "single_choice") and q.section != "profile"
    }
    ids = {q.id: q.type for q in survey.questions}
    prio = (
        priorities(responses, survey)
        if ids.get("priority_areas") == "multi_choice" and ids.get("least_important_areas") == "multi_choice"
        else None
    )
    likert = {q.id: likert_summary(responses, survey, q.id) for q in survey.questions if q.type == "likert"}
    charts = {qid: diverging_likert_svg(responses, survey, qid) for qid in likert}
    profile = workforce_profile(responses, survey)
    return SurveyAnalysis(
        survey, len(responses), source, synthetic, rankings, choices, prio, likert, charts, profile
    )


def _html_table(df: pd.DataFrame) -> str:
    import html

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for v in r:
            if isinstance(v, float):
                v = "" if np.isnan(v) else f"{v:,.2f}"
            cells.append(f"<td>{html.escape(str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _profile_title(a: SurveyAnalysis, name: str) -> str:
    fixed = {"fte_by_role": "Full-time equivalent by role", "fte_by_funding_source": "Full-time equivalent by "
             "main funding source of the post", "role_by_funding_source": "Respondents by role and main funding "
             "source of the post"}  # fmt: skip
    if name in fixed:
        return fixed[name]
    return a.survey.question(name).text


def render_html(a: SurveyAnalysis) -> str:
    """One self-contained HTML page (inline CSS and SVG, nothing fetched): numbered figures, the
    tables behind them and the workforce profile, all with readable headings."""
    import html

    from diogel.resources.charts import svg_for_html

    parts = [
        "<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>",
        f"<title>{html.escape(a.survey.title)}</title><style>",
        "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:10pt;max-width:60em;margin:1.5em auto;"
        "padding:0 1em;color:#1a1a1a}table{border-collapse:collapse;margin:.5em 0;font-size:9pt}"
        "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}thead th{background:#eef2f6}"
        ".synthetic{border:2px solid #D55E00;background:#fff3e8;padding:.5em .8em;font-weight:bold}"
        "svg{max-width:100%;height:auto}h2{border-bottom:1px solid #bbb}figure{margin:1em 0}",
        "</style></head><body>",
        f"<h1>{html.escape(a.survey.title)}</h1>",
    ]
    if a.synthetic:
        parts.append(
            "<p class='synthetic'>SYNTHETIC DATA: these responses are invented (generated by "
            "diogel.resources.survey.make_synthetic_responses); they are not survey data.</p>"
        )
    parts.append(f"<p>{a.n_respondents} respondents; responses: {html.escape(a.source)}.</p>")
    parts.append("<h2>Figures</h2>")
    for i, (title, svg) in enumerate(_figures(a), 1):
        parts.append(
            f"<figure>{svg_for_html(svg, f'figure-{i}')}<figcaption>{html.escape(title)}</figcaption></figure>"
        )
    if a.profile:
        parts.append("<h2>Workforce profile</h2>")
        for name, df in a.profile.items():
            parts += [
                f"<h3>{html.escape(_profile_title(a, name))}</h3>",
                _html_table(readable(df.drop(columns="item", errors="ignore"))),
            ]
    parts.append("<h2>Tables</h2>")
    for qid, df in a.rankings.items():
        q = a.survey.question(qid)
        parts += [f"<h3>{html.escape(q.text)}</h3>", "<p>Ordered by points: each respondent gives an item n - rank "
                  "points (n items); mean rank 1 = most important.</p>", _html_table(readable(df.drop(columns="item")))]  # fmt: skip
    if a.priorities is not None:
        parts += [
            "<h3>Top and lowest priorities</h3>",
            _html_table(readable(a.priorities.drop(columns="item"))),
        ]
    for qid, df in a.choices.items():
        if qid in ("priority_areas", "least_important_areas") and a.priorities is not None:
            continue
        parts += [
            f"<h3>{html.escape(a.survey.question(qid).text)}</h3>",
            _html_table(readable(df.drop(columns="item"))),
        ]
    for qid, df in a.likert.items():
        q = a.survey.question(qid)
        parts += [f"<h3>{html.escape(q.text)}</h3>", _html_table(readable(df.drop(columns="item"), q.scale))]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_analysis(a: SurveyAnalysis, out_dir: str | Path) -> list[Path]:
    """Write one CSV per table (readable headings), one SVG per figure and ``survey_report.html`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []

    def csv_out(name: str, df: pd.DataFrame) -> None:
        p = out / name
        df.to_csv(p, index=False, lineterminator="\n", float_format="%.6f")
        paths.append(p)

    for qid, df in a.rankings.items():
        csv_out(f"rank_{qid}.csv", readable(df))
    if a.priorities is not None:
        csv_out("priorities.csv", readable(a.priorities))
    for qid, df in a.choices.items():
        csv_out(f"choices_{qid}.csv", readable(df))
    for qid, df in a.likert.items():
        csv_out(f"likert_{qid}.csv", readable(df, a.survey.question(qid).scale))
        p = out / f"likert_{qid}.svg"
        p.write_text(a.charts[qid], encoding="utf-8")
        paths.append(p)
    for name, df in a.profile.items():
        csv_out(f"profile_{name}.csv", readable(df))
    for i, (_, svg) in enumerate(_figures(a), 1):
        p = out / f"figure_{i}.svg"
        p.write_text(svg, encoding="utf-8")
        paths.append(p)
    p = out / "survey_report.html"
    p.write_text(render_html(a), encoding="utf-8")
    paths.append(p)
    return paths
