"""Section "Priorities": a MoRiLE-style scoring matrix beside what residents said at PACT meetings.

The data-led ranking scores each crime type on harm, volume, trend, concentration, vulnerability,
community concern and capacity to influence (thresholds and weights in the open, in YAML). The
community-led ranking orders crime types by PACT votes. The two are shown side by side, with a
sentence wherever they disagree.
"""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from diogel.analysis.harm import POLICEUK_CRIME_TYPES
from diogel.analysis.priorities import (
    community_concern,
    load_ratings,
    load_scoring,
    rank_side_by_side,
    score_priorities,
)
from diogel.report import charts
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_number, fmt_pct
from diogel.report.sections import Section, register
from diogel.report.sections._common import finite


def partner_ratings(ctx: Context) -> dict[str, dict[str, int]]:
    """The MoRiLE ratings: the portal's, with the ``--ratings`` file's over them crime type by type."""
    portal = (ctx.options.ratings_from_portal or {}).get(ctx.data.code, {})
    out = {ct: dict(r) for ct, r in portal.items()}
    if ctx.options.ratings:
        for ct, r in load_ratings(ctx.options.ratings).items():
            out.setdefault(ct, {}).update(r)
    return out


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
        Markup("{} (all {} crime types)").format(label, n) if len(types) == n
        else Markup("{} ({})").format(label, ", ".join(types))
        for label, types in gaps.items()
    ]  # fmt: skip
    return Markup("Inputs missing from the priority matrix, scored 0: {}.").format(Markup("; ").join(parts))


def _measures(ctx: Context, concern) -> pd.DataFrame:  # noqa: ANN001
    """The matrix's measures per crime type, from the sections that computed them."""
    d = ctx.data
    levels = ctx.results["levels"].values["rows"].set_index("crime_type")
    harm = ctx.results["harm"].values.get("harm_per_1000", {})
    conc = ctx.results["where"].values["concentration"].set_index("crime_type")
    annual = 12 / d.period.n_months
    ratings = partner_ratings(ctx)
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


def build(ctx: Context) -> SectionOutput:
    d, f = ctx.data, ctx.figures
    scoring = load_scoring(ctx.options.scoring)
    scoring_name = str(ctx.options.scoring) if ctx.options.scoring else "priorities_default.yaml (packaged)"
    has_pact = d.pact is not None and not d.pact.empty
    # A meeting's place is its neighbourhood, or its LSOA when the row names no neighbourhood.
    pact = (
        d.pact.assign(neighbourhood=d.pact["neighbourhood"].fillna(d.pact["lsoa_code"])) if has_pact else None
    )
    concern = (
        community_concern(pact[["meeting_date", "neighbourhood", "theme", "votes"]]) if has_pact else None
    )
    measures = _measures(ctx, concern)
    scored = score_priorities(measures, scoring, allow_missing=True)
    criteria = list(scoring["criteria"])
    inputs = ["police:period", "lookups", "population", "harm-weights"] + (
        ["police:previous"] if d.previous_available else []
    )
    pact_inputs = ["pact", "lookups"]
    params = {"scoring": scoring_name, "criteria": scoring["criteria"]}
    matrix_cols = [
        "rank",
        "crime_type",
        "total",
        "max_total",
        "total_pct",
        *[f"score_{c}" for c in criteria],
        "reasons",
        "missing",
    ]
    matrix = scored[matrix_cols].merge(measures, on="crime_type")
    f.table("matrix", matrix, label="Data-led priority scores (MoRiLE-style matrix)",
            inputs=inputs + (pact_inputs if has_pact else []), parameters=params,
            columns={"rank": "data-led rank (1 = highest priority)", "crime_type": "crime type",
                     "total": "sum of weight x score", "max_total": "highest possible total",
                     "total_pct": "100 x total / max_total",
                     **{f"score_{c}": f"{scoring['criteria'][c].get('label', c)} score (0 = no value supplied)" for c in criteria},
                     "reasons": "why each score was given", "missing": "criteria with no value (scored 0)",
                     "css_harm_per_1000": "harm per 1,000 residents", "rate_per_1000": "records per 1,000 residents a year",
                     "trend_pct_change": "% change on the previous period (blank when not loaded or a gap)",
                     "top10_share": "share of the type's records in the top 10% of LSOAs",
                     "vulnerability_rating": "partner rating 1..5 (blank: not supplied)",
                     "community_vote_share": "share of PACT votes", "capacity_rating": "partner rating 1..5 (blank: not supplied)"},
            definition="score_priorities with the scoring matrix below; measures with no value score 0 and say so.",
            csv="priorities_matrix")  # fmt: skip
    findings: list[Finding] = []
    top = scored.head(3)
    top_spans = [f.number(f"data_top_{i + 1}", float(r["total"]), fmt=lambda v: fmt_number(v, 0),
                          label=f"Data-led score of {r['crime_type']}", inputs=inputs, parameters=params,
                          definition="Total of weight x score for the crime type.")
                 for i, (_, r) in enumerate(top.iterrows())]  # fmt: skip
    max_span = f.number(
        "max_total",
        float(scored["max_total"].iloc[0]),
        fmt=lambda v: fmt_number(v, 0),
        label="Highest possible score",
        inputs=[],
        parameters=params,
        definition="5 x the sum of the criteria weights.",
    )
    findings.append(
        Finding(Markup("Data-led priorities (scores out of {}): 1. {} ({}), 2. {} ({}), 3. {} ({}).").format(max_span,
            top.iloc[0]["crime_type"], top_spans[0], top.iloc[1]["crime_type"], top_spans[1],
            top.iloc[2]["crime_type"], top_spans[2]), rank=50)
    )  # fmt: skip
    pact_spans: dict[str, Markup] = {}
    side_table = None
    if concern is not None:
        by_type = concern.by_crime_type
        f.table("community", by_type, label="Community concern: PACT votes by crime type", inputs=pact_inputs,
                parameters={"theme_mapping": "DEFAULT_THEME_TO_CRIME_TYPE"}, csv="pact_by_crime_type",
                columns={"crime_type": "police.uk crime type", "votes": "votes for themes mapped to it",
                         "share": "votes / all votes (including themes that are not crimes)",
                         "meetings": "meetings (date and place) where it was raised", "themes": "themes counted"},
                definition="community_concern over the PACT rows placed in the area in the period.")  # fmt: skip
        not_crime = concern.not_crime.assign(kind="not a police.uk crime type")
        unknown = concern.unknown.assign(kind="theme not in the mapping")
        f.table("other_themes", pd.concat([not_crime, unknown], ignore_index=True), label="PACT themes that are not crime types",
                inputs=pact_inputs, columns={"theme": "theme as minuted (lower case)", "votes": "votes", "kind": "why it is listed here"},
                definition="Concerns residents raised that police.uk data cannot measure, and themes to add to the mapping.",
                csv="pact_other_themes")  # fmt: skip
        side = rank_side_by_side(scored, by_type)
        side_table = side.table
        f.table("side_by_side", side.table, label="Data-led and community-led rankings side by side",
                inputs=inputs + pact_inputs, parameters={"top": 3, "min_difference": 3},
                columns={"crime_type": "crime type", "data_rank": "data-led rank", "community_rank": "rank by PACT votes",
                         "rank_difference": "community rank - data rank", "disagree": "3+ places apart, or top 3 in one only",
                         "sentence": "plain-English reading"},
                definition="rank_side_by_side of the matrix and the PACT votes.", csv="priorities_side_by_side")  # fmt: skip
        pact_spans = {
            "meetings": f.number("pact_meetings", len(pact[["meeting_date", "neighbourhood"]].drop_duplicates()),
                                 label="PACT meetings in the area in the period", inputs=pact_inputs,
                                 definition="Distinct (meeting date, place) in the PACT rows placed in the area; the place is the neighbourhood, else the LSOA."),
            "votes": f.number("pact_votes", concern.total_votes, label="PACT votes in the area in the period",
                              inputs=pact_inputs, definition="Sum of votes of the PACT rows placed in the area."),
            "not_crime_share": f.number("pact_not_crime_share", concern.not_crime["votes"].sum() / concern.total_votes if concern.total_votes else None,
                                        fmt=fmt_pct, label="Share of PACT votes for concerns that are not crime types",
                                        inputs=pact_inputs, definition="votes for themes mapped to no crime type / all votes."),
        }  # fmt: skip
        top_c = by_type.head(1)
        if not top_c.empty:
            share = f.number("community_top_share", float(top_c.iloc[0]["share"]), fmt=fmt_pct, inputs=pact_inputs,
                             label=f"Share of PACT votes for {top_c.iloc[0]['crime_type']}",
                             definition="votes / all votes.")  # fmt: skip
            findings.append(Finding(Markup("Residents' top concern at PACT meetings was {} ({} of {} votes at {} meetings); {} of votes were for concerns police data do not measure (such as speeding and parking).").format(
                top_c.iloc[0]["crime_type"].lower(), share, pact_spans["votes"], pact_spans["meetings"], pact_spans["not_crime_share"]), rank=51))  # fmt: skip
        for i in side.table.index[side.table["disagree"]][:4]:
            findings.append(Finding(f.cell("priorities.side_by_side", int(i), "sentence"), rank=52))
    summary = d.pact_summary
    pact_counts = {k: f.number(f"placement_{k}", v, label=f"PACT {k.replace('_', ' ')}", inputs=["pact", "lookups"],
                               definition="PACT rows with meeting dates in the period, placed by LSOA code or by a "
                               "neighbourhood named like a ward, local authority or CSP.")
                   for k, v in summary.items()} if summary.get("rows") else {}  # fmt: skip
    slope = (
        charts.svg(
            charts.rank_slope(side_table, "Data-led and community rankings"),
            "Slope chart of the two rankings",
            "priorities.side_by_side",
        )
        if side_table is not None
        else None
    )
    missing = _missing_inputs(scored)
    if missing is not None:
        findings.append(Finding(missing, rank=52))
    return SectionOutput(
        html=Markup("").join(
            [
                Markup("<p class='warning'>{}</p>").format(missing) if missing else Markup(""),
                ctx.render(
                    "sections/priorities.html.j2",
                    has_pact=has_pact,
                    criteria=scoring["criteria"],
                    scoring_name=scoring_name,
                    pact=pact_spans,
                    pact_counts=pact_counts,
                    slope=slope,
                    side=side_table is not None,
                    fmt_count=fmt_count,
                    fmt_number=fmt_number,
                    fmt_pct=fmt_pct,
                ),
            ]
        ),
        findings=findings,
        caveats=(
            [
                Markup(
                    "The vulnerability and capacity-to-influence criteria are partner judgements that this report "
                    "cannot make: they score 0 until the partnership supplies its ratings, which can change the order."
                )
            ]
            if missing is not None and ("vulnerability" in missing or "capacity" in missing)
            else []
        )
        + (
            []
            if has_pact
            else [
                Markup(
                    "No PACT priorities are loaded for this area and period, so community concern is not scored."
                )
            ]
        ),
        methods=[
            (
                "Priorities",
                Markup(
                    "A MoRiLE-style matrix scores each crime type 1 to 5 on each criterion by stated thresholds or "
                    "quintiles; the total is the weighted sum. Community concern is the share of PACT votes for "
                    "themes mapped to the crime type. The community ranking orders crime types by votes; a type "
                    "whose two ranks are 3 or more places apart, or that is in one top 3 only, is a disagreement."
                ),
            )
        ],
    )


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
