"""Section "Priorities": a MoRiLE-style scoring matrix beside what residents said at PACT meetings.

The data-led ranking scores each crime type on harm, volume, trend, concentration, vulnerability,
community concern and capacity to influence (thresholds and weights in the open, in YAML). The
community-led ranking orders crime types by PACT votes. The two are shown side by side, with a
sentence wherever they disagree.

:func:`compute` scores and ranks (a :class:`Priorities`, no figures); :func:`present` registers the
figures and writes the section in the report language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from markupsafe import Markup

from diogel.analysis.harm import POLICEUK_CRIME_TYPES
from diogel.analysis.priorities import (
    CommunityConcern,
    SideBySide,
    community_concern,
    load_ratings,
    load_scoring,
    rank_side_by_side,
    score_priorities,
)
from diogel.report import charts
from diogel.report.context import AssessOptions, Context, Finding, SectionOutput
from diogel.report.figures import FigureRegistry, fmt_count, fmt_number, fmt_pct
from diogel.report.gather import AreaData
from diogel.report.i18n import T, Term, _, current, term
from diogel.report.sections import Section, register
from diogel.report.sections._common import finite

__all__ = ["Priorities", "build", "compute", "partner_ratings", "present"]

# Disagreements are 3+ places apart, or in one ranking's top 3 only (rank_side_by_side's defaults).
TOP, MIN_DIFFERENCE = 3, 3

# The packaged matrix's criterion labels and the PACT themes of the default mapping, for the
# catalogue (extraction only sees literals); a partnership's own labels and themes show as written.
_WORDS = (
    T("harm"), T("volume"), T("trend"), T("concentration"), T("vulnerability"), T("community concern"),
    T("capacity to influence"), T("asb"), T("anti-social behaviour"), T("antisocial behaviour"),
    T("anti social behaviour"), T("youths"), T("youth nuisance"), T("youths causing annoyance"),
    T("nuisance youths"), T("street drinking"), T("off-road bikes"), T("off road bikes"),
    T("nuisance motorbikes"), T("neighbour disputes"), T("drug dealing"), T("drugs"), T("drug use"),
    T("cannabis"), T("burglary"), T("break-ins"), T("vehicle crime"), T("car crime"),
    T("theft from vehicles"), T("shoplifting"), T("criminal damage"), T("vandalism"), T("graffiti"),
    T("arson"), T("violence"), T("assault"), T("domestic abuse"), T("sexual offences"), T("robbery"),
    T("mugging"), T("bike theft"), T("bicycle theft"), T("theft"), T("pickpocketing"), T("knife crime"),
    T("weapons"), T("public order"), T("speeding"), T("parking"), T("road safety"), T("dangerous driving"),
    T("dog fouling"), T("litter"), T("fly tipping"), T("fly-tipping"), T("begging"),
)  # fmt: skip


@dataclass(frozen=True)
class Priorities:
    """What the section shows, before any figure is registered.

    ``measures``: the matrix's inputs per crime type; ``scored``: :func:`score_priorities` of them;
    ``pact``: the PACT rows placed in the area (the place is the neighbourhood, else the LSOA), None
    when none are loaded; ``concern`` and ``side``: the community ranking and the two side by side.
    """

    scoring: Mapping[str, Any]
    scoring_name: str
    measures: pd.DataFrame
    scored: pd.DataFrame
    inputs: list[str]
    pact: pd.DataFrame | None
    concern: CommunityConcern | None
    side: SideBySide | None
    pact_summary: Mapping[str, float]

    @property
    def criteria(self) -> list[str]:
        return list(self.scoring["criteria"])

    @property
    def params(self) -> dict[str, Any]:
        return {"scoring": self.scoring_name, "criteria": self.scoring["criteria"]}


def partner_ratings(ctx: Context) -> dict[str, dict[str, int]]:
    """The MoRiLE ratings: the portal's, with the ``--ratings`` file's over them crime type by type."""
    return _ratings(ctx.data, ctx.options)


def _ratings(d: AreaData, options: AssessOptions) -> dict[str, dict[str, int]]:
    portal = (options.ratings_from_portal or {}).get(d.code, {})
    out = {ct: dict(r) for ct, r in portal.items()}
    if options.ratings:
        for ct, r in load_ratings(options.ratings).items():
            out.setdefault(ct, {}).update(r)
    return out


def _measures(
    d: AreaData,
    options: AssessOptions,
    results: Mapping[str, SectionOutput],
    concern: CommunityConcern | None,
) -> pd.DataFrame:
    """The matrix's measures per crime type, from the sections that computed them."""
    levels = results["levels"].values["rows"].set_index("crime_type")
    harm = results["harm"].values.get("harm_per_1000", {})
    conc = results["where"].values["concentration"].set_index("crime_type")
    annual = 12 / d.period.n_months
    ratings = _ratings(d, options)
    rows = []
    for t in POLICEUK_CRIME_TYPES:
        r = levels.loc[t]
        trend = r["percent_change"] if d.previous_available and not r["gap_in_comparison"] else None
        rows.append(
            {
                "crime_type": t,
                "css_harm_per_1000": harm.get(t) if harm.get(t) is not None else None,
                "rate_per_1000": r["rate_per_1000"] * annual,
                "trend_pct_change": trend if trend is not None and finite(trend) else None,
                "top10_share": conc["top10_share"].get(t) if t in conc.index else None,
                "vulnerability_rating": ratings.get(t, {}).get("vulnerability_rating"),
                "community_vote_share": (
                    float(concern.by_crime_type.set_index("crime_type")["share"].get(t, 0.0))
                    if concern
                    else None
                ),
                "capacity_rating": ratings.get(t, {}).get("capacity_rating"),
            }
        )
    return pd.DataFrame(rows).astype({c: "float64" for c in ("css_harm_per_1000", "rate_per_1000",
                                      "trend_pct_change", "top10_share", "vulnerability_rating",
                                      "community_vote_share", "capacity_rating")})  # fmt: skip


def compute(d: AreaData, options: AssessOptions, results: Mapping[str, SectionOutput]) -> Priorities:
    """Score the crime types and rank them both ways, from the gathered data and the levels, harm and
    where sections' results."""
    scoring = load_scoring(options.scoring)
    scoring_name = str(options.scoring) if options.scoring else "priorities_default.yaml (packaged)"
    has_pact = d.pact is not None and not d.pact.empty
    # A meeting's place is its neighbourhood, or its LSOA when the row names no neighbourhood.
    pact = (
        d.pact.assign(neighbourhood=d.pact["neighbourhood"].fillna(d.pact["lsoa_code"])) if has_pact else None
    )
    concern = (
        community_concern(pact[["meeting_date", "neighbourhood", "theme", "votes"]]) if has_pact else None
    )
    measures = _measures(d, options, results, concern)
    scored = score_priorities(measures, scoring, allow_missing=True)
    side = rank_side_by_side(scored, concern.by_crime_type) if concern is not None else None
    inputs = ["police:period", "lookups", "population", "harm-weights"] + (
        ["police:previous"] if d.previous_available else []
    )
    return Priorities(scoring, scoring_name, measures, scored, inputs, pact, concern, side, d.pact_summary)


# -- words -----------------------------------------------------------------------------------------------
def _label(label: str) -> str:
    """A criterion's label or a PACT theme in the report language (as written when not in the catalogue)."""
    return _(label)


def _themes(value: object) -> str:
    return ", ".join(_label(t) for t in str(value or "").split(", ")) if value else ""


def _rank(n: int) -> str:
    """A rank as the sentence reads it: "2nd" in English; the Welsh says "safle 2"."""
    if current() != "en":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def disagreement(crime_type: str, data_rank: int, community_rank: int) -> str:
    """Why the two rankings disagree on a crime type and what to do (the reading of
    :func:`rank_side_by_side`, in the report language); "" when they agree."""
    diff = community_rank - data_rank
    in_data_top, in_comm_top = data_rank <= TOP, community_rank <= TOP
    big_gap, top_mismatch = abs(diff) >= MIN_DIFFERENCE, in_data_top != in_comm_top
    if not (big_gap or top_mismatch):
        return ""
    why = [_("{} places apart").format(abs(diff))] if big_gap else []
    if top_mismatch:
        why.append(
            (_("in the data-led top {} only") if in_data_top else _("in the community top {} only")).format(
                TOP
            )
        )
    pointer = (
        _("the recorded data give it more weight than residents do; consider explaining the evidence at PACT meetings")
        if diff > 0
        else _("residents give it more weight than the recorded data do; check for under-reporting or harms the "
               "police data do not capture")
    )  # fmt: skip
    return _("{name} ranks {data_rank} on the data-led score but {community_rank} on PACT votes ({why}): {pointer}.").format(
        name=term(crime_type), data_rank=_rank(data_rank), community_rank=_rank(community_rank),
        why="; ".join(why), pointer=pointer,
    )  # fmt: skip


def _missing_inputs(scored: pd.DataFrame) -> Markup | None:
    """One sentence naming the inputs the matrix had no value for (scored 0), or None."""
    gaps: dict[str, list[str]] = {}
    for r in scored.itertuples():
        for label in filter(None, (x.strip() for x in r.missing.split(","))):
            gaps.setdefault(label, []).append(r.crime_type)
    if not gaps:
        return None
    n = len(scored)
    parts = [
        Markup(_("{} (all {} crime types)")).format(_label(label), n) if len(types) == n
        else Markup("{} ({})").format(_label(label), ", ".join(term(t) for t in types))
        for label, types in gaps.items()
    ]  # fmt: skip
    return Markup(_("Inputs missing from the priority matrix, scored 0: {}.")).format(
        Markup("; ").join(parts)
    )


# -- figures ---------------------------------------------------------------------------------------------
MATRIX_COLUMNS = {
    "rank": "data-led rank (1 = highest priority)", "crime_type": "crime type", "total": "sum of weight x score",
    "max_total": "highest possible total", "total_pct": "100 x total / max_total",
    "reasons": "why each score was given", "missing": "criteria with no value (scored 0)",
    "css_harm_per_1000": "harm per 1,000 residents", "rate_per_1000": "records per 1,000 residents a year",
    "trend_pct_change": "% change on the previous period (blank when not loaded or a gap)",
    "top10_share": "share of the type's records in the top 10% of LSOAs",
    "vulnerability_rating": "partner rating 1..5 (blank: not supplied)",
    "community_vote_share": "share of PACT votes", "capacity_rating": "partner rating 1..5 (blank: not supplied)",
}  # fmt: skip
PACT_INPUTS = ["pact", "lookups"]


def _matrix(f: FigureRegistry, p: Priorities) -> Finding:
    """The matrix table and the top three's scores; the finding naming them."""
    criteria, scoring, scored = p.criteria, p.scoring, p.scored
    matrix_cols = ["rank", "crime_type", "total", "max_total", "total_pct", *[f"score_{c}" for c in criteria],
                   "reasons", "missing"]  # fmt: skip
    columns = dict(MATRIX_COLUMNS)
    for c in criteria:
        columns[f"score_{c}"] = f"{scoring['criteria'][c].get('label', c)} score (0 = no value supplied)"
    columns = {k: columns[k] for k in [*matrix_cols[:5], *[f"score_{c}" for c in criteria], "reasons", "missing",
                                       *list(MATRIX_COLUMNS)[7:]]}  # fmt: skip
    f.table("matrix", scored[matrix_cols].merge(p.measures, on="crime_type"),
            label=T("Data-led priority scores (MoRiLE-style matrix)"),
            inputs=p.inputs + (PACT_INPUTS if p.concern is not None else []), parameters=p.params, columns=columns,
            definition=T("score_priorities with the scoring matrix below; measures with no value score 0 and say so."),
            csv="priorities_matrix")  # fmt: skip
    top = scored.head(3)
    top_spans = [f.number(f"data_top_{i + 1}", float(r["total"]), fmt=lambda v: fmt_number(v, 0),
                          label=T("Data-led score of {name}", name=Term(r["crime_type"])), inputs=p.inputs,
                          parameters=p.params, definition=T("Total of weight x score for the crime type."))
                 for i, (_i, r) in enumerate(top.iterrows())]  # fmt: skip
    max_span = f.number("max_total", float(scored["max_total"].iloc[0]), fmt=lambda v: fmt_number(v, 0),
                        label=T("Highest possible score"), inputs=[], parameters=p.params,
                        definition=T("5 x the sum of the criteria weights."))  # fmt: skip
    names = [term(t) for t in top["crime_type"]]
    return Finding(Markup(_("Data-led priorities (scores out of {}): 1. {} ({}), 2. {} ({}), 3. {} ({}).")).format(
        max_span, names[0], top_spans[0], names[1], top_spans[1], names[2], top_spans[2]), rank=50)  # fmt: skip


def _community(f: FigureRegistry, p: Priorities) -> tuple[dict[str, Markup], list[Finding], pd.DataFrame]:
    """The PACT tables and numbers; the findings on residents' concerns and on disagreements; the
    side-by-side table with its readings in the report language."""
    assert p.concern is not None and p.side is not None and p.pact is not None
    concern, by_type = p.concern, p.concern.by_crime_type
    f.table("community", by_type, label=T("Community concern: PACT votes by crime type"), inputs=PACT_INPUTS,
            parameters={"theme_mapping": "DEFAULT_THEME_TO_CRIME_TYPE"}, csv="pact_by_crime_type",
            columns={"crime_type": "police.uk crime type", "votes": "votes for themes mapped to it",
                     "share": "votes / all votes (including themes that are not crimes)",
                     "meetings": "meetings (date and place) where it was raised", "themes": "themes counted"},
            definition=T("community_concern over the PACT rows placed in the area in the period."))  # fmt: skip
    not_crime = concern.not_crime.assign(kind=_("not a police.uk crime type"))
    unknown = concern.unknown.assign(kind=_("theme not in the mapping"))
    f.table("other_themes", pd.concat([not_crime, unknown], ignore_index=True), label=T("PACT themes that are not crime types"),
            inputs=PACT_INPUTS, columns={"theme": "theme as minuted (lower case)", "votes": "votes", "kind": "why it is listed here"},
            definition=T("Concerns residents raised that police.uk data cannot measure, and themes to add to the mapping."),
            csv="pact_other_themes")  # fmt: skip
    side = p.side.table.copy()
    side["sentence"] = [disagreement(r.crime_type, r.data_rank, r.community_rank) for r in side.itertuples()]
    f.table("side_by_side", side, label=T("Data-led and community-led rankings side by side"),
            inputs=p.inputs + PACT_INPUTS, parameters={"top": TOP, "min_difference": MIN_DIFFERENCE},
            columns={"crime_type": "crime type", "data_rank": "data-led rank", "community_rank": "rank by PACT votes",
                     "rank_difference": "community rank - data rank", "disagree": "3+ places apart, or top 3 in one only",
                     "sentence": "plain-English reading"},
            definition=T("rank_side_by_side of the matrix and the PACT votes."), csv="priorities_side_by_side")  # fmt: skip
    spans = {
        "meetings": f.number("pact_meetings", len(p.pact[["meeting_date", "neighbourhood"]].drop_duplicates()),
                             label=T("PACT meetings in the area in the period"), inputs=PACT_INPUTS,
                             definition=T("Distinct (meeting date, place) in the PACT rows placed in the area; the place is the neighbourhood, else the LSOA.")),
        "votes": f.number("pact_votes", concern.total_votes, label=T("PACT votes in the area in the period"),
                          inputs=PACT_INPUTS, definition=T("Sum of votes of the PACT rows placed in the area.")),
        "not_crime_share": f.number("pact_not_crime_share", concern.not_crime["votes"].sum() / concern.total_votes if concern.total_votes else None,
                                    fmt=fmt_pct, label=T("Share of PACT votes for concerns that are not crime types"),
                                    inputs=PACT_INPUTS, definition=T("votes for themes mapped to no crime type / all votes.")),
    }  # fmt: skip
    findings = []
    top_c = by_type.head(1)
    if not top_c.empty:
        ct = top_c.iloc[0]["crime_type"]
        share = f.number("community_top_share", float(top_c.iloc[0]["share"]), fmt=fmt_pct, inputs=PACT_INPUTS,
                         label=T("Share of PACT votes for {name}", name=Term(ct)),
                         definition=T("votes / all votes."))  # fmt: skip
        findings.append(Finding(Markup(_("Residents' top concern at PACT meetings was {} ({} of {} votes at {} meetings); {} of votes were for concerns police data do not measure (such as speeding and parking).")).format(
            term(ct.lower()), share, spans["votes"], spans["meetings"], spans["not_crime_share"]), rank=51))  # fmt: skip
    for i in side.index[side["disagree"]][:4]:
        findings.append(Finding(f.cell("priorities.side_by_side", int(i), "sentence"), rank=52))
    return spans, findings, side


PLACEMENT_LABELS = {
    "rows": T("PACT rows"),
    "votes": T("PACT votes"),
    "rows_in_area": T("PACT rows in area"),
    "rows_elsewhere": T("PACT rows elsewhere"),
    "rows_unplaced": T("PACT rows unplaced"),
    "votes_unplaced": T("PACT votes unplaced"),
}


def _placement(f: FigureRegistry, summary: Mapping[str, float]) -> dict[str, Markup]:
    """How many PACT rows of the period were placed in the area, elsewhere, or nowhere."""
    if not summary.get("rows"):
        return {}
    return {k: f.number(f"placement_{k}", v, label=PLACEMENT_LABELS.get(k) or f"PACT {k.replace('_', ' ')}",
                        inputs=["pact", "lookups"],
                        definition=T("PACT rows with meeting dates in the period, placed by LSOA code or by a "
                                     "neighbourhood named like a ward, local authority or CSP."))
            for k, v in summary.items()}  # fmt: skip


def _slope(side: pd.DataFrame) -> Markup:
    """The two rankings as a slope chart, its words in the report language."""
    fig = charts.rank_slope(side, _("Data-led and community rankings"))
    if current() != "en":
        # rank_slope writes the crime types and its axis in English; the Welsh chart names them in Welsh.
        ax = fig.axes[0]
        ax.set_xticks([0, 1], [_("data-led rank"), _("PACT (community) rank")])
        labels = {}
        for r in side.itertuples():
            labels[f"{r.crime_type} ({r.data_rank})"] = f"{term(r.crime_type)} ({r.data_rank})"
            labels[f"({r.community_rank}) {r.crime_type}"] = f"({r.community_rank}) {term(r.crime_type)}"
        for text in ax.texts:
            text.set_text(labels.get(text.get_text(), text.get_text()))
    return charts.svg(fig, _("Slope chart of the two rankings"), "priorities.side_by_side")


def _caveats(p: Priorities) -> list[Markup]:
    labels = {label.strip() for m in p.scored["missing"] for label in m.split(",")}
    caveats = []
    if any("vulnerability" in x or "capacity" in x for x in labels):
        caveats.append(Markup(_(
            "The vulnerability and capacity-to-influence criteria are partner judgements that this report "
            "cannot make: they score 0 until the partnership supplies its ratings, which can change the order."
        )))  # fmt: skip
    if p.concern is None:
        caveats.append(
            Markup(
                _(
                    "No PACT priorities are loaded for this area and period, so community concern is not scored."
                )
            )
        )
    return caveats


def present(ctx: Context, p: Priorities) -> SectionOutput:
    """Register the figures and write the section from :func:`compute`'s result."""
    f = ctx.figures
    findings = [_matrix(f, p)]
    pact_spans: dict[str, Markup] = {}
    side = None
    if p.concern is not None:
        pact_spans, more, side = _community(f, p)
        findings += more
    pact_counts = _placement(f, p.pact_summary)
    slope = _slope(side) if side is not None else None
    missing = _missing_inputs(p.scored)
    if missing is not None:
        findings.append(Finding(missing, rank=52))
    body = ctx.render("sections/priorities.html.j2", has_pact=p.concern is not None, criteria=p.scoring["criteria"],
                      scoring_name=p.scoring_name, pact=pact_spans, pact_counts=pact_counts, slope=slope,
                      side=side is not None, themes=_themes, fmt_count=fmt_count, fmt_number=fmt_number,
                      fmt_pct=fmt_pct)  # fmt: skip
    warning = Markup("<p class='warning'>{}</p>").format(missing) if missing else Markup("")
    method = _(
        "A MoRiLE-style matrix scores each crime type 1 to 5 on each criterion by stated thresholds or "
        "quintiles; the total is the weighted sum. Community concern is the share of PACT votes for "
        "themes mapped to the crime type. The community ranking orders crime types by votes; a type "
        "whose two ranks are 3 or more places apart, or that is in one top 3 only, is a disagreement."
    )
    return SectionOutput(html=warning + body, findings=findings, caveats=_caveats(p),
                         methods=[(_("Priorities"), Markup(method))])  # fmt: skip


def build(ctx: Context) -> SectionOutput:
    return present(ctx, compute(ctx.data, ctx.options, ctx.results))


register(
    Section(
        id="priorities",
        title="Priorities: data-led and community-led",
        order=80,
        build=build,
        needs=("levels", "harm", "where"),
        description="A MoRiLE-style scoring matrix beside PACT community priorities, and where they disagree.",
    )
)
