"""Conclusions and recommendations from the assessment's findings, by explicit rules.

A rule (YAML, default ``recommendations_default.yaml`` beside this module) states when it fires, as
conditions on the assessment's figures, and what it concludes and recommends. Facts are the
figures by id (``levels.burglary.pct``) and, for table figures, their cells
(``priorities.matrix[Burglary].rank``: the row about ``Burglary``). A rule with
``for_each: crime_type`` is tried once per crime type, with ``{crime_type}`` and ``{slug}``
substituted in its references and texts. Every recommendation cites the figure ids its conditions
and text rest on.

Texts quote facts as ``{REF|FORMAT}`` with FORMAT one of ``count`` (1,234), ``pct`` (a value
already in percent: 12.3%), ``signed_pct`` (+12.3%), ``share`` (a fraction shown as a percent:
0.35 -> 35%), ``number`` (one decimal), ``rank`` (1st, 2nd) and ``text``.

The analyst's own input (YAML or Markdown, :func:`load_analyst_input`) replaces a generated
recommendation by its id or adds new ones, and fills the PESTELO and problem-analysis-triangle
headings; whatever the analyst writes is marked as the analyst's.

Functions are pure except the two loaders, which read files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from diogel.errors import DiogelError

__all__ = [
    "PESTELO",
    "TRIANGLE",
    "AnalystInput",
    "Recommendation",
    "Segment",
    "apply_rules",
    "figure_id",
    "load_analyst_input",
    "load_rules",
    "merge_analyst",
    "validate_rules",
]

PESTELO = ("Political", "Economic", "Social", "Technological", "Environmental", "Legal", "Organisational")
TRIANGLE = ("Victim", "Offender", "Location", "Guardian", "Handler", "Manager")
PRIORITIES = ("high", "medium", "low")
_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}
_FORMATS = ("count", "pct", "signed_pct", "share", "number", "rank", "text")
_PLACEHOLDER = re.compile(r"\{([^{}|]+)\|([a-z_]+)\}")


@dataclass(frozen=True)
class Segment:
    """A piece of a recommendation's text: plain words, or a quoted figure (``figure`` is its id)."""

    text: str
    figure: str | None = None
    ref: str | None = None


@dataclass(frozen=True)
class Recommendation:
    """One conclusion and what the partnership should do about it.

    ``id`` is the rule id, with ``:slug`` for a rule tried per crime type; ``source`` is
    ``"generated"`` (by a rule) or ``"analyst"``; ``figures`` are the figure ids it rests on.
    """

    id: str
    priority: str
    conclusion: tuple[Segment, ...]
    recommendation: tuple[Segment, ...]
    figures: tuple[str, ...]
    source: str = "generated"
    subject: str | None = None
    theme: str = ""
    replaces: str | None = None


@dataclass
class AnalystInput:
    """What the analyst wrote: recommendations (each replacing a generated id, or added), PESTELO
    and triangle notes by heading, and an optional overall conclusion."""

    recommendations: list[dict[str, Any]] = field(default_factory=list)
    pestelo: dict[str, str] = field(default_factory=dict)
    triangle: dict[str, str] = field(default_factory=dict)
    conclusion: str = ""
    source: str = ""
    rules: dict[str, Any] | None = None


def figure_id(ref: str) -> str:
    """The figure a fact reference belongs to: ``priorities.matrix[Burglary].rank`` -> ``priorities.matrix``."""
    return ref.split("[", 1)[0]


# -- rules ---------------------------------------------------------------------------------------
def load_rules(path: str | Path | None = None) -> dict[str, Any]:
    """Read and check a rules YAML (default: the packaged ``recommendations_default.yaml``)."""
    if path is None:
        text = resources.files("diogel.analysis").joinpath("recommendations_default.yaml").read_text("utf-8")
        source = "recommendations_default.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DiogelError(
                f"{path}: cannot read the recommendation rules ({exc.__class__.__name__})"
            ) from None
        source = str(path)
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise DiogelError(f"{source}{where}: not valid YAML") from None
    validate_rules(config, source)
    return config


def validate_rules(config: Any, source: str = "rules") -> None:
    """Check a rules document; raise DiogelError naming the file and rule at the first problem."""
    if not isinstance(config, Mapping) or not isinstance(config.get("rules"), list):
        raise DiogelError(f"{source}: needs a 'rules' list")
    seen: set[str] = set()
    for i, rule in enumerate(config["rules"], 1):
        name = rule.get("id") if isinstance(rule, Mapping) else None
        where = f"{source}: rule {i} ({name or 'no id'})"
        if not isinstance(rule, Mapping) or not isinstance(name, str) or not name:
            raise DiogelError(f"{where}: needs an 'id'")
        if name in seen:
            raise DiogelError(f"{where}: the id is used twice")
        seen.add(name)
        for key in ("when", "conclusion", "recommendation", "priority"):
            if key not in rule:
                raise DiogelError(f"{where}: needs '{key}'")
        if rule["priority"] not in PRIORITIES:
            raise DiogelError(f"{where}: priority must be one of {', '.join(PRIORITIES)}")
        if rule.get("for_each") not in (None, "crime_type"):
            raise DiogelError(f"{where}: for_each can only be 'crime_type'")
        if not isinstance(rule["when"], list) or not rule["when"]:
            raise DiogelError(f"{where}: 'when' must be a list of [reference, operator, value]")
        for cond in rule["when"]:
            if not (isinstance(cond, list) and len(cond) == 3 and isinstance(cond[0], str)):
                raise DiogelError(f"{where}: condition {cond!r} is not [reference, operator, value]")
            if cond[1] not in _OPS:
                raise DiogelError(f"{where}: operator {cond[1]!r} is not one of {' '.join(_OPS)}")
        for key in ("conclusion", "recommendation"):
            for _, fmt in _PLACEHOLDER.findall(str(rule[key])):
                if fmt not in _FORMATS:
                    raise DiogelError(f"{where}: format {fmt!r} in {key} is not one of {', '.join(_FORMATS)}")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _format(value: Any, fmt: str) -> str:
    if fmt == "text" or isinstance(value, str):
        return str(value)
    v = float(value)
    if fmt == "count":
        return f"{v:,.0f}"
    if fmt == "pct":
        return f"{v:.1f}%"
    if fmt == "signed_pct":
        return f"{v:+.1f}%"
    if fmt == "share":
        return f"{100 * v:.0f}%"
    if fmt == "rank":
        n = int(round(v))
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    return f"{v:,.1f}"


def _substitute(text: str, subject: tuple[str, str] | None) -> str:
    if subject is None:
        return text
    return text.replace("{crime_type}", subject[0]).replace("{slug}", subject[1])


def _segments(template: str, facts: Mapping[str, Any]) -> tuple[tuple[Segment, ...], list[str]] | None:
    """Split a text into words and quoted facts; None when a quoted fact is missing."""
    out: list[Segment] = []
    refs: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        ref, fmt = m.group(1).strip(), m.group(2)
        value = facts.get(ref)
        if _missing(value):
            return None
        if m.start() > pos:
            out.append(Segment(template[pos : m.start()]))
        out.append(Segment(_format(value, fmt), figure_id(ref), ref))
        refs.append(ref)
        pos = m.end()
    if pos < len(template):
        out.append(Segment(template[pos:]))
    return tuple(out), refs


def _holds(cond: Sequence[Any], facts: Mapping[str, Any], subject: tuple[str, str] | None) -> bool | None:
    """True or False; None when the fact is missing (the rule cannot be judged)."""
    ref, op, target = _substitute(cond[0], subject), cond[1], cond[2]
    value = facts.get(ref)
    if _missing(value):
        return None
    if isinstance(target, str) and target.startswith("$"):
        target = facts.get(_substitute(target[1:], subject))
        if _missing(target):
            return None
    try:
        return bool(_OPS[op](value, target))
    except TypeError:
        return False


def apply_rules(
    facts: Mapping[str, Any], rules: Mapping[str, Any], crime_types: Mapping[str, str]
) -> tuple[list[Recommendation], list[tuple[str, list[str]]]]:
    """Fire every rule whose conditions all hold on ``facts``.

    Parameters
    ----------
    facts : figure id (or ``table[row].column``) -> value.
    rules : a checked rules document (:func:`load_rules`).
    crime_types : crime type -> its figure-id slug, in report order, for ``for_each: crime_type``.

    Returns
    -------
    The recommendations, ordered by priority (high first), then rule order, then crime type
    order; and the rules that could not be judged because a fact was missing, as
    ``(id, missing references)``. A condition on a missing fact never fires a rule.
    Conditions compare a fact with a value, or with another fact written ``$reference``. A rule's
    ``order_by: reference`` (``descending: true`` to reverse) orders its own recommendations.
    """
    fired: list[tuple[int, int, int, Recommendation]] = []
    unjudged: list[tuple[str, list[str]]] = []
    subjects: list[tuple[str, str] | None] = []
    for order, rule in enumerate(rules["rules"]):
        subjects = list(crime_types.items()) if rule.get("for_each") == "crime_type" else [None]
        for k, subject in enumerate(subjects):
            rid = rule["id"] if subject is None else f"{rule['id']}:{subject[1]}"
            results = [_holds(c, facts, subject) for c in rule["when"]]
            if any(r is False for r in results):
                continue
            missing = [
                _substitute(c[0], subject) for c, r in zip(rule["when"], results, strict=True) if r is None
            ]
            if missing:
                unjudged.append((rid, missing))
                continue
            conclusion = _segments(_substitute(str(rule["conclusion"]), subject), facts)
            action = _segments(_substitute(str(rule["recommendation"]), subject), facts)
            if conclusion is None or action is None:
                unjudged.append((rid, ["a fact quoted in the text"]))
                continue
            cited = [figure_id(_substitute(c[0], subject)) for c in rule["when"]]
            cited += [figure_id(r) for r in conclusion[1] + action[1]]
            cited += [_substitute(str(x), subject) for x in rule.get("cite", [])]
            rec = Recommendation(
                id=rid,
                priority=rule["priority"],
                conclusion=conclusion[0],
                recommendation=action[0],
                figures=tuple(dict.fromkeys(cited)),
                subject=subject[0] if subject else None,
                theme=str(rule.get("theme", "")),
            )
            key: Any = (False, 0, k)
            if rule.get("order_by"):
                v = facts.get(_substitute(str(rule["order_by"]), subject))
                key = (_missing(v), 0 if _missing(v) else (-v if rule.get("descending") else v), k)
            fired.append((PRIORITIES.index(rule["priority"]), order, key, rec))
    fired.sort(key=lambda t: t[:3])
    return [r for *_, r in fired], unjudged


# -- the analyst's input ---------------------------------------------------------------------------
def load_analyst_input(path: str | Path) -> AnalystInput:
    """Read the analyst's recommendations and notes from YAML (``.yaml``/``.yml``) or Markdown.

    YAML::

        recommendations:
          - replaces: top_priority:burglary      # a generated id; omit to add a new one
            text: Burglary stays a priority ...
            figures: [levels.burglary.count]     # optional
            priority: high                       # optional (default medium)
        pestelo: {Political: ..., Economic: ...}
        triangle: {Victim: ..., Offender: ..., Location: ...}
        conclusion: One paragraph of overall conclusion.
        rules: [...]                             # optional: replaces the packaged rules

    Markdown: a ``# Recommendations`` heading whose list items are recommendations (an item
    starting ``[generated-id]`` replaces that one), ``# PESTELO`` and ``# Problem analysis
    triangle`` headings whose ``##`` subheadings are the factors, and ``# Conclusion``.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DiogelError(
            f"{p}: cannot read the analyst's recommendations ({exc.__class__.__name__})"
        ) from None
    if p.suffix.lower() in (".yaml", ".yml"):
        return _analyst_yaml(text, str(p))
    if p.suffix.lower() in (".md", ".markdown", ".txt"):
        return _analyst_markdown(text, str(p))
    raise DiogelError(f"{p}: the analyst's recommendations must be YAML (.yaml) or Markdown (.md)")


def _heading(name: str, allowed: Sequence[str], source: str, line: int) -> str:
    for a in allowed:
        if name.strip().casefold() == a.casefold():
            return a
    raise DiogelError(
        f"{source}:{line}: unknown heading {name.strip()!r}; expected one of {', '.join(allowed)}"
    )


def _analyst_yaml(text: str, source: str) -> AnalystInput:
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DiogelError(f"{source}{f':{mark.line + 1}' if mark else ''}: not valid YAML") from None
    if not isinstance(doc, Mapping):
        raise DiogelError(f"{source}: expected keys recommendations, pestelo, triangle, conclusion")
    unknown = set(doc) - {"recommendations", "pestelo", "triangle", "conclusion", "rules"}
    if unknown:
        raise DiogelError(f"{source}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    recs = []
    for i, r in enumerate(doc.get("recommendations") or [], 1):
        if isinstance(r, str):
            r = {"text": r}
        if not isinstance(r, Mapping) or not str(r.get("text") or "").strip():
            raise DiogelError(f"{source}: recommendation {i} needs 'text'")
        priority = r.get("priority")
        if priority is not None and priority not in PRIORITIES:
            raise DiogelError(
                f"{source}: recommendation {i}: priority must be one of {', '.join(PRIORITIES)}"
            )
        recs.append({"replaces": r.get("replaces"), "text": str(r["text"]).strip(),
                     "figures": [str(f) for f in r.get("figures") or []], "priority": priority})  # fmt: skip
    pestelo = {_heading(k, PESTELO, source, 0): str(v).strip() for k, v in (doc.get("pestelo") or {}).items()}
    triangle = {
        _heading(k, TRIANGLE, source, 0): str(v).strip() for k, v in (doc.get("triangle") or {}).items()
    }
    rules = None
    if doc.get("rules") is not None:
        rules = {"rules": doc["rules"]}
        validate_rules(rules, source)
    return AnalystInput(recs, pestelo, triangle, str(doc.get("conclusion") or "").strip(), source, rules)


def _analyst_markdown(text: str, source: str) -> AnalystInput:
    out = AnalystInput(source=source)
    part, sub, buf = None, None, []

    def flush() -> None:
        body = "\n".join(buf).strip()
        if part == "pestelo" and sub and body:
            out.pestelo[sub] = body
        elif part == "triangle" and sub and body:
            out.triangle[sub] = body
        elif part == "conclusion" and body:
            out.conclusion = body
        buf.clear()

    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# "):
            flush()
            name = line[2:].strip().casefold()
            part = {"recommendations": "recs", "pestelo": "pestelo", "problem analysis triangle": "triangle",
                    "conclusion": "conclusion", "conclusions": "conclusion"}.get(name)  # fmt: skip
            if part is None:
                raise DiogelError(
                    f"{source}:{n}: unknown heading {line[2:].strip()!r}; expected Recommendations, "
                    "PESTELO, Problem analysis triangle or Conclusion"
                )
            sub = None
        elif line.startswith("## ") and part in ("pestelo", "triangle"):
            flush()
            sub = _heading(line[3:], PESTELO if part == "pestelo" else TRIANGLE, source, n)
        elif part == "recs" and re.match(r"^\s*[-*]\s+", line):
            item = re.sub(r"^\s*[-*]\s+", "", line).strip()
            m = re.match(r"^\[([^\]]+)\]\s*(.*)$", item)
            replaces, body = (m.group(1).strip(), m.group(2).strip()) if m else (None, item)
            if body:
                out.recommendations.append(
                    {"replaces": replaces, "text": body, "figures": [], "priority": None}
                )
        elif part == "recs" and line.strip() and out.recommendations:
            out.recommendations[-1]["text"] += " " + line.strip()  # a wrapped list item
        elif part is None and line.strip():
            raise DiogelError(f"{source}:{n}: text before the first '# ' heading")
        else:
            buf.append(line)
    flush()
    return out


def merge_analyst(generated: Sequence[Recommendation], analyst: AnalystInput | None) -> list[Recommendation]:
    """The generated recommendations with the analyst's replacing those they name, then the analyst's new ones.

    A replacement keeps the generated one's id, conclusion, priority and cited figures (plus any the
    analyst names) unless the analyst gives a priority; an addition without one is medium; a
    replacement naming an id no rule produced is kept as an addition (``replaces`` still says which).
    """
    if analyst is None:
        return list(generated)
    by_id = {r.id: i for i, r in enumerate(generated)}
    out = list(generated)
    added: list[Recommendation] = []
    for n, a in enumerate(analyst.recommendations, 1):
        seg = (Segment(a["text"]),)
        target = a.get("replaces")
        if target in by_id:
            old = out[by_id[target]]
            out[by_id[target]] = replace(old, recommendation=seg, source="analyst", replaces=target,
                                         figures=tuple(dict.fromkeys([*old.figures, *a["figures"]])),
                                         priority=a.get("priority") or old.priority)  # fmt: skip
        else:
            added.append(Recommendation(id=f"analyst:{n}", priority=a.get("priority") or "medium", conclusion=(),
                                        recommendation=seg, figures=tuple(a["figures"]), source="analyst",
                                        replaces=target))  # fmt: skip
    return out + added
