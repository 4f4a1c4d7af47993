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
:func:`~diogel.resources.survey_analysis.workforce_profile`. Everything written out (CSV headers, HTML, charts) uses readable labels
(:data:`~diogel.resources.survey_report.READABLE`), never the internal column names.

This module is the instrument (questions, responses, synthetic responses); the analyses are
:mod:`diogel.resources.survey_analysis` and the written output :mod:`diogel.resources.survey_report`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
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
