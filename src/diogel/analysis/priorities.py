"""Candidate priorities: a transparent MoRiLE-style scoring matrix, and community concern.

Each crime type is scored 1..5 on seven criteria (harm, volume, trend, concentration,
vulnerability, community concern, capacity to influence) by thresholds and weights stated in a
YAML file (default: ``priorities_default.yaml`` beside this module). Every score comes with a
reason string, so a strategic group can see why a type ranks where it does and change the
thresholds in the open.

Community concern comes from PACT (Partners and Communities Together) meeting priorities: votes
per theme mapped to police.uk crime types.

Functions are pure except :func:`load_scoring`, which reads a YAML file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

__all__ = [
    "DEFAULT_THEME_TO_CRIME_TYPE",
    "CommunityConcern",
    "SideBySide",
    "community_concern",
    "load_ratings",
    "load_scoring",
    "rank_side_by_side",
    "score_priorities",
    "validate_scoring",
]

_METHODS = ("thresholds", "quintile", "rating")


def load_scoring(path: str | Path | None = None) -> dict[str, Any]:
    """Read and check a scoring matrix YAML (default: the packaged ``priorities_default.yaml``).

    The file has ``scale: {min, max}`` and ``criteria: {key: {label, measure, method, weight,
    describe, thresholds?}}``; see the default file for the meaning of each method. Raises
    ValueError naming the file and criterion when something is wrong.
    """
    if path is None:
        text = resources.files("diogel.analysis").joinpath("priorities_default.yaml").read_text("utf-8")
        source = "priorities_default.yaml"
    else:
        text = Path(path).read_text(encoding="utf-8")
        source = str(path)
    config = yaml.safe_load(text)
    validate_scoring(config, source)
    return config


def validate_scoring(config: Mapping[str, Any], source: str = "scoring") -> None:
    """Check a scoring matrix; raise ValueError with the first problem found."""
    if not isinstance(config, Mapping) or "criteria" not in config or "scale" not in config:
        raise ValueError(f"{source}: needs 'scale' and 'criteria' sections")
    lo, hi = config["scale"].get("min"), config["scale"].get("max")
    if lo is None or hi is None or hi <= lo:
        raise ValueError(f"{source}: scale needs min < max, got {lo}..{hi}")
    if lo != 1 or hi != 5:
        # The reason strings and the quintile method are written for 1..5.
        raise ValueError(f"{source}: only the 1..5 scale is supported, got {lo}..{hi}")
    for key, c in config["criteria"].items():
        for field_ in ("measure", "method", "weight"):
            if field_ not in c:
                raise ValueError(f"{source}: criterion {key!r} has no {field_!r}")
        if c["method"] not in _METHODS:
            raise ValueError(f"{source}: criterion {key!r} method {c['method']!r} is not one of {_METHODS}")
        if not isinstance(c["weight"], int | float) or c["weight"] < 0:
            raise ValueError(f"{source}: criterion {key!r} weight must be a number >= 0")
        if c["method"] == "thresholds":
            t = c.get("thresholds")
            if (
                not isinstance(t, list)
                or len(t) != hi - lo
                or any(b <= a for a, b in zip(t, t[1:], strict=False))
            ):
                raise ValueError(
                    f"{source}: criterion {key!r} needs {hi - lo} strictly ascending thresholds, got {t}"
                )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


_QUINTILE_WORDS = {
    5: "in the top quintile",
    4: "in the second-highest quintile",
    3: "in the middle quintile",
    2: "in the second-lowest quintile",
    1: "in the bottom quintile",
}


def _fmt_threshold(v: float) -> str:
    return f"{v:,g}"


def _score_criterion(
    key: str, c: Mapping[str, Any], values: pd.Series, notes: pd.Series | None
) -> tuple[pd.Series, pd.Series]:
    label = c.get("label", key)
    describe = c.get("describe", "{value}")
    method = c["method"]
    scores = pd.Series(np.nan, index=values.index)
    reasons = pd.Series("", index=values.index, dtype=object)
    present = values.dropna()
    n_present = len(present)
    for idx, v in values.items():
        if pd.isna(v):
            scores[idx] = 0
            reasons[idx] = f"{label} 0/5: no value supplied for {c['measure']}, scored 0"
            continue
        text = describe.format(value=v)
        if method == "thresholds":
            t = list(c["thresholds"])
            s = 1 + sum(v >= x for x in t)
            if s == 1:
                band = f"below {_fmt_threshold(t[0])}"
            elif s == len(t) + 1:
                band = f"at least {_fmt_threshold(t[-1])}"
            else:
                band = f"at least {_fmt_threshold(t[s - 2])} and below {_fmt_threshold(t[s - 1])}"
            reason = f"{label} {s}/5: {text} is {band}"
        elif method == "quintile":
            lower = int((present < v).sum())
            s = min(5, 1 + math.floor(5 * lower / n_present))
            reason = f"{label} {s}/5: {text} is {_QUINTILE_WORDS[s]} of the {n_present} types scored"
        else:  # rating
            if v != round(v) or not 1 <= v <= 5:
                raise ValueError(f"{c['measure']} must be a whole number 1..5 (a rating), got {v} for {idx}")
            s = int(v)
            reason = f"{label} {s}/5: {text}"
            if notes is not None and isinstance(notes.get(idx), str) and notes.get(idx).strip():
                reason += f" ({notes[idx].strip()})"
        scores[idx] = s
        reasons[idx] = reason
    return scores.astype(int), reasons


def score_priorities(
    measures: pd.DataFrame, scoring: Mapping[str, Any] | None = None, allow_missing: bool = False
) -> pd.DataFrame:
    """Score and rank crime types as candidate priorities.

    Each criterion c gives a score s_c in 1..5 by its method (see ``priorities_default.yaml``);
    total = sum_c weight_c * s_c; max_total = 5 * sum_c weight_c; ``total_pct`` = 100 * total /
    max_total. Ranked by total (highest first); ties share a rank (``min``) and are listed by the
    weighted harm-and-vulnerability scores first, then by name, so the order is stable.

    Parameters
    ----------
    measures : one row per ``crime_type`` with a column for every criterion's ``measure``
        (default matrix: css_harm_per_1000, rate_per_1000, trend_pct_change, top10_share,
        vulnerability_rating, community_vote_share, capacity_rating) and optional
        ``<measure>_note`` columns for ratings.
    scoring : a matrix from :func:`load_scoring` (default: the packaged default).
    allow_missing : if False (default) a missing measure value is an error; if True it scores 0
        and the reason says so (so a missing value lowers, never raises, the total).

    Returns
    -------
    DataFrame sorted by rank: ``rank``, ``crime_type``, ``total``, ``max_total``, ``total_pct``,
    ``score_<criterion>`` and ``reason_<criterion>`` for each criterion, ``reasons`` (all the
    reason strings joined with "; ") and ``missing`` (the labels of the criteria that had no value
    and scored 0, joined with ", "; "" when every input was supplied).
    """
    scoring = scoring if scoring is not None else load_scoring()
    validate_scoring(scoring)
    criteria = scoring["criteria"]
    if "crime_type" not in measures.columns:
        raise ValueError("measures needs a crime_type column")
    if measures["crime_type"].duplicated().any():
        raise ValueError("measures has more than one row per crime_type")
    needed = [c["measure"] for c in criteria.values()]
    missing_cols = [m for m in needed if m not in measures.columns]
    if missing_cols:
        raise ValueError(f"measures is missing column(s) {missing_cols}; it has {list(measures.columns)}")
    frame = measures.set_index("crime_type")
    if not allow_missing:
        gaps = frame[needed].isna()
        if gaps.any().any():
            ct, col = next((r, c) for r in gaps.index for c in needed if gaps.loc[r, c])
            raise ValueError(
                f"missing value for {col} ({ct}); supply it or pass allow_missing=True to score it 0"
            )

    out = pd.DataFrame(index=frame.index)
    total = pd.Series(0.0, index=frame.index)
    for key, c in criteria.items():
        note_col = f"{c['measure']}_note"
        notes = frame[note_col] if note_col in frame.columns else None
        scores, reasons = _score_criterion(key, c, frame[c["measure"]].astype(float), notes)
        out[f"score_{key}"] = scores
        out[f"reason_{key}"] = reasons
        total += float(c["weight"]) * scores
    max_total = 5.0 * sum(float(c["weight"]) for c in criteria.values())
    out["missing"] = [
        ", ".join(c.get("label", k) for k, c in criteria.items() if pd.isna(frame.at[ct, c["measure"]]))
        for ct in frame.index
    ]
    out.insert(0, "total", total)
    out.insert(1, "max_total", max_total)
    out.insert(2, "total_pct", 100.0 * total / max_total if max_total else np.nan)
    out["reasons"] = out[[f"reason_{k}" for k in criteria]].agg("; ".join, axis=1)

    tiebreak = pd.Series(0.0, index=frame.index)
    for key in ("harm", "vulnerability"):
        if key in criteria:
            tiebreak += float(criteria[key]["weight"]) * out[f"score_{key}"]
    out = out.assign(_tb=tiebreak).reset_index()
    out = out.sort_values(["total", "_tb", "crime_type"], ascending=[False, False, True], kind="mergesort")
    out.insert(0, "rank", out["total"].rank(ascending=False, method="min").astype(int))
    return out.drop(columns="_tb").reset_index(drop=True)


def load_ratings(path: str | Path) -> dict[str, dict[str, int]]:
    """Read the partnership's MoRiLE ratings (whole numbers 1..5) from YAML::

        ratings:
          Burglary: {vulnerability: 4, capacity: 3}
          Drugs: {vulnerability: 5}            # capacity not rated: the matrix says so

    Returns {crime type: {"vulnerability_rating": v, "capacity_rating": c}} with only the ratings
    given. Raises ValueError (one line naming the file) on an unknown crime type or a bad rating.
    """
    from diogel.analysis.harm import POLICEUK_CRIME_TYPES

    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{p}: cannot read the ratings ({exc.__class__.__name__})") from None
    items = doc.get("ratings") if isinstance(doc, dict) else None
    if not isinstance(items, dict):
        raise ValueError(f"{p}: expected a 'ratings:' mapping of crime type to vulnerability and capacity")
    out: dict[str, dict[str, int]] = {}
    for ct, given in items.items():
        if ct not in POLICEUK_CRIME_TYPES:
            raise ValueError(f"{p}: {str(ct)[:60]!r} is not a police.uk crime type")
        if not isinstance(given, dict) or set(given) - {"vulnerability", "capacity"}:
            raise ValueError(f"{p}: {ct}: give vulnerability and/or capacity, each a whole number 1..5")
        for key, value in given.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
                raise ValueError(f"{p}: {ct}: {key} must be a whole number 1..5, not {value!r}")
            out.setdefault(ct, {})[f"{key}_rating"] = value
    return out


# ---------------------------------------------------------------------------------------------
# Community concern (PACT)
# ---------------------------------------------------------------------------------------------

#: Default mapping of PACT themes (lower case) to police.uk crime types; None = a real concern
#: that is not a police.uk crime type (roads, parking, environmental). Knife crime maps to
#: Possession of weapons, the only police.uk category that names weapons (knife assaults are
#: recorded as violence); nuisance vehicles and street drinking are police.uk anti-social
#: behaviour.
DEFAULT_THEME_TO_CRIME_TYPE: dict[str, str | None] = {
    "asb": "Anti-social behaviour",
    "anti-social behaviour": "Anti-social behaviour",
    "antisocial behaviour": "Anti-social behaviour",
    "anti social behaviour": "Anti-social behaviour",
    "youths": "Anti-social behaviour",
    "youth nuisance": "Anti-social behaviour",
    "youths causing annoyance": "Anti-social behaviour",
    "nuisance youths": "Anti-social behaviour",
    "street drinking": "Anti-social behaviour",
    "off-road bikes": "Anti-social behaviour",
    "off road bikes": "Anti-social behaviour",
    "nuisance motorbikes": "Anti-social behaviour",
    "neighbour disputes": "Anti-social behaviour",
    "drug dealing": "Drugs",
    "drugs": "Drugs",
    "drug use": "Drugs",
    "cannabis": "Drugs",
    "burglary": "Burglary",
    "break-ins": "Burglary",
    "vehicle crime": "Vehicle crime",
    "car crime": "Vehicle crime",
    "theft from vehicles": "Vehicle crime",
    "shoplifting": "Shoplifting",
    "criminal damage": "Criminal damage and arson",
    "vandalism": "Criminal damage and arson",
    "graffiti": "Criminal damage and arson",
    "arson": "Criminal damage and arson",
    "violence": "Violence and sexual offences",
    "assault": "Violence and sexual offences",
    "domestic abuse": "Violence and sexual offences",
    "sexual offences": "Violence and sexual offences",
    "robbery": "Robbery",
    "mugging": "Robbery",
    "bike theft": "Bicycle theft",
    "bicycle theft": "Bicycle theft",
    "theft": "Other theft",
    "pickpocketing": "Theft from the person",
    "knife crime": "Possession of weapons",
    "weapons": "Possession of weapons",
    "public order": "Public order",
    "speeding": None,
    "parking": None,
    "road safety": None,
    "dangerous driving": None,
    "dog fouling": None,
    "litter": None,
    "fly tipping": None,
    "fly-tipping": None,
}


@dataclass(frozen=True)
class CommunityConcern:
    """PACT votes summarised.

    Attributes
    ----------
    by_crime_type : ``crime_type``, ``votes``, ``share`` (votes / all votes in the input, including
        themes that are not crimes), ``meetings`` (distinct meeting date and place where the type
        was raised), ``themes`` (the themes counted, joined with ", "); most votes first.
    not_crime : themes mapped to no crime type (e.g. speeding), with ``theme`` and ``votes``.
    unknown : themes not in the mapping, with ``theme`` and ``votes``; add them to the mapping.
    total_votes : all votes in the input.
    """

    by_crime_type: pd.DataFrame
    not_crime: pd.DataFrame
    unknown: pd.DataFrame
    total_votes: float


def community_concern(
    pact: pd.DataFrame, theme_to_crime_type: Mapping[str, str | None] | None = None
) -> CommunityConcern:
    """Votes per police.uk crime type from PACT meeting priorities.

    ``pact`` has ``meeting_date``, ``neighbourhood`` or ``lsoa_code`` (the place), ``theme`` and
    ``votes``. Themes are matched case-insensitively after trimming spaces; the default mapping
    is :data:`DEFAULT_THEME_TO_CRIME_TYPE`. A theme mapped to None is recorded in ``not_crime``;
    a theme not in the mapping is recorded in ``unknown`` (never silently dropped). The community
    vote share used by :func:`score_priorities` is ``share`` = votes / total_votes.
    """
    place = "neighbourhood" if "neighbourhood" in pact.columns else "lsoa_code"
    needed = ["meeting_date", place, "theme", "votes"]
    missing = [c for c in needed if c not in pact.columns]
    if missing:
        raise ValueError(f"pact is missing column(s) {missing}; it has {list(pact.columns)}")
    if pact["votes"].isna().any() or (pact["votes"] < 0).any():
        raise ValueError("pact has missing or negative votes")
    mapping = {
        str(k).strip().lower(): v for k, v in (theme_to_crime_type or DEFAULT_THEME_TO_CRIME_TYPE).items()
    }

    df = pact[needed].copy()
    df["theme_key"] = df["theme"].astype(str).str.strip().str.lower()
    known = df["theme_key"].isin(list(mapping))
    df["crime_type"] = df["theme_key"].map(lambda t: mapping.get(t))
    total = float(df["votes"].sum())

    crimes = df[known & df["crime_type"].notna()]
    if crimes.empty:
        by_type = pd.DataFrame(columns=["crime_type", "votes", "share", "meetings", "themes"])
    else:
        grouped = crimes.groupby("crime_type")
        by_type = pd.DataFrame(
            {
                "votes": grouped["votes"].sum(),
                "meetings": grouped.apply(
                    lambda g: len(g[["meeting_date", place]].drop_duplicates()), include_groups=False
                ),
                "themes": grouped["theme_key"].agg(lambda s: ", ".join(sorted(set(s)))),
            }
        ).reset_index()
        by_type["share"] = by_type["votes"] / total if total else np.nan
        by_type = by_type[["crime_type", "votes", "share", "meetings", "themes"]]
        by_type = by_type.sort_values(["votes", "crime_type"], ascending=[False, True]).reset_index(drop=True)

    def _by_theme(rows: pd.DataFrame) -> pd.DataFrame:
        return (
            rows.groupby("theme_key")["votes"]
            .sum()
            .rename_axis("theme")
            .reset_index()
            .sort_values(["votes", "theme"], ascending=[False, True])
            .reset_index(drop=True)
        )

    return CommunityConcern(
        by_crime_type=by_type,
        not_crime=_by_theme(df[known & df["crime_type"].isna()]),
        unknown=_by_theme(df[~known]),
        total_votes=total,
    )


# ---------------------------------------------------------------------------------------------
# Data-led and community-led side by side
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideBySide:
    """Both rankings and where they disagree.

    ``table``: one row per crime type, ``crime_type``, ``data_rank``, ``community_rank``,
    ``rank_difference`` (community_rank - data_rank; positive = the data rank it higher),
    ``disagree`` (bool), ``sentence`` (empty when they agree), ordered by data rank.
    ``disagreements``: the rows of ``table`` with ``disagree``.
    ``unscored``: crime types with community votes but no data-led score.
    """

    table: pd.DataFrame
    disagreements: pd.DataFrame
    unscored: list[str]


def _ranks(frame: pd.DataFrame, name: str, value_col: str) -> pd.Series:
    if "crime_type" not in frame.columns:
        raise ValueError(f"{name} needs a crime_type column")
    indexed = frame.set_index("crime_type")
    if "rank" in indexed.columns:
        return indexed["rank"].astype(int)
    if value_col not in indexed.columns:
        raise ValueError(f"{name} needs a rank or {value_col} column")
    return indexed[value_col].rank(ascending=False, method="min").astype(int)


def rank_side_by_side(
    data_led: pd.DataFrame, community_led: pd.DataFrame, top: int = 3, min_difference: int = 3
) -> SideBySide:
    """Compare the data-led ranking with the community-led (PACT) ranking.

    ``data_led``: the output of :func:`score_priorities` (``crime_type``, ``rank``; or ``total``).
    ``community_led``: :attr:`CommunityConcern.by_crime_type` (``crime_type``, ``votes``) or any
    frame with ``crime_type`` and ``rank``. The community ranking is by votes, highest first, over
    the data-led crime types; a type with no votes counts as 0 votes (ties share the best rank).

    A crime type is a disagreement when |community_rank - data_rank| >= ``min_difference``
    (default 3), or it is in the top ``top`` (default 3) of one ranking but not the other.
    """
    data_rank = _ranks(data_led, "data_led", "total")
    types = list(data_rank.sort_values(kind="mergesort").index)
    if "rank" in community_led.columns:
        comm = community_led.set_index("crime_type")["rank"].astype(int)
        unscored = sorted(set(comm.index) - set(types))
        community_rank = comm.reindex(types)
        if community_rank.isna().any():
            raise ValueError(
                f"community_led has no rank for {community_rank[community_rank.isna()].index.tolist()}"
            )
        community_rank = community_rank.astype(int)
    else:
        if "votes" not in community_led.columns:
            raise ValueError("community_led needs a rank or votes column")
        votes = community_led.groupby("crime_type")["votes"].sum()
        unscored = sorted(set(votes.index) - set(types))
        votes = votes.reindex(types, fill_value=0)
        community_rank = votes.rank(ascending=False, method="min").astype(int)

    rows = []
    for ct in types:
        dr, cr = int(data_rank[ct]), int(community_rank[ct])
        diff = cr - dr
        in_data_top, in_comm_top = dr <= top, cr <= top
        big_gap = abs(diff) >= min_difference
        top_mismatch = in_data_top != in_comm_top
        disagree = big_gap or top_mismatch
        sentence = ""
        if disagree:
            why = []
            if big_gap:
                why.append(f"{abs(diff)} places apart")
            if top_mismatch:
                which = "data-led" if in_data_top else "community"
                why.append(f"in the {which} top {top} only")
            if diff > 0:
                pointer = (
                    "the recorded data give it more weight than residents do; "
                    "consider explaining the evidence at PACT meetings"
                )
            else:
                pointer = (
                    "residents give it more weight than the recorded data do; "
                    "check for under-reporting or harms the police data do not capture"
                )
            sentence = (
                f"{ct} ranks {_ordinal(dr)} on the data-led score but {_ordinal(cr)} on PACT votes "
                f"({'; '.join(why)}): {pointer}."
            )
        rows.append(
            {
                "crime_type": ct,
                "data_rank": dr,
                "community_rank": cr,
                "rank_difference": diff,
                "disagree": disagree,
                "sentence": sentence,
            }
        )
    table = pd.DataFrame(rows)
    return SideBySide(
        table=table, disagreements=table[table["disagree"]].reset_index(drop=True), unscored=unscored
    )
