"""Section "Compared with similar areas": most similar peers from public variables, and the area's
rates against the peer-group mean with an interval and a rank.

Peers are chosen among all areas of the same level in the same nation (Welsh local authorities are
compared with Welsh local authorities) by Euclidean distance on transformed, standardised public
variables (:func:`diogel.analysis.peers.most_similar`). Rates are compared only with peers whose
force's police data cover the whole period; peers without data are named, never given a rate of 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from markupsafe import Markup

from diogel.analysis.peers import PeerComparison, compare_with_peers, most_similar
from diogel.errors import DiogelError
from diogel.report import charts
from diogel.report.context import AssessOptions, Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_number
from diogel.report.gather import AREA_LEVELS_PLURAL as AREA_PLURAL
from diogel.report.gather import AreaData
from diogel.report.i18n import Place, T, Term, _, current, place_name, term
from diogel.report.sections import Section, register
from diogel.report.sections._common import rate_unit

VARIABLES = {
    "population": ("residents", "log"),
    "density": ("residents per km2", "log"),
    "share_15_24": ("share of residents aged 15 to 24", "yeojohnson"),
    "wimd_income": ("mean income deprivation score", "yeojohnson"),
    "wimd_employment": ("mean employment deprivation score", "yeojohnson"),
    "wimd_education": ("mean education deprivation score", "yeojohnson"),
    "wimd_housing": ("mean housing deprivation score", "yeojohnson"),
}
INPUTS = ["population", "deprivation", "boundaries", "lookups"]
MEASURES = {
    "crime": ("count_crime", "All crime (excluding ASB)"),
    "violence": ("count_violence", "Violence and sexual offences"),
    "asb": ("count_asb", "Anti-social behaviour"),
}


_PEER_SENTENCES = {
    "above": "{name}'s rate of {rate} is above the 95% interval for the peer-group mean ({mean}; {lower} to {upper}) "
    "and ranks {rank} of {n} (1 = highest).",
    "within": "{name}'s rate of {rate} is within the 95% interval for the peer-group mean ({mean}; {lower} to {upper}) "
    "and ranks {rank} of {n} (1 = highest).",
    "below": "{name}'s rate of {rate} is below the 95% interval for the peer-group mean ({mean}; {lower} to {upper}) "
    "and ranks {rank} of {n} (1 = highest).",
}


def _peer_sentence(name: str, cmp) -> str:  # noqa: ANN001
    """compare_with_peers' plain-English sentence, in the report's language."""
    return _(_PEER_SENTENCES[cmp.position]).format(
        name=name, rate=f"{cmp.rate:,.1f}", mean=f"{cmp.group_mean:,.1f}", lower=f"{cmp.lower:,.1f}",
        upper=f"{cmp.upper:,.1f}", rank=cmp.rank, n=cmp.n_group,
    )  # fmt: skip


@dataclass(frozen=True)
class Peers:
    """The comparison set (``frame``, with each area's rates), the variables and weights the peers were
    chosen on, the peers (``table``; None when no area is comparable) and, when the area's and at
    least one peer's police data cover the period, each measure's comparison (key, label, result)."""

    frame: pd.DataFrame
    variables: list[str]
    weights: dict[str, float]
    k: int
    table: pd.DataFrame | None
    area_covered: bool
    comparisons: list[tuple[str, str, PeerComparison]]


def compute(d: AreaData, options: AssessOptions) -> Peers:
    """Choose the most similar areas and compare the area's rates with theirs, from the gathered data."""
    frame = d.comparators.copy()
    frame["density"] = frame["population"] / frame["area_km2"]
    frame["share_15_24"] = frame["aged_15_24"] / frame["population"]
    variables = [v for v in VARIABLES if v in frame.columns and frame[v].notna().all()]
    unknown = sorted(set(options.peer_weights or {}) - set(VARIABLES))
    if unknown:
        raise DiogelError(
            f"--peer-weight names unknown variable(s) {unknown}; the variables are {list(VARIABLES)}"
        )
    weights = {v: float(w) for v, w in (options.peer_weights or {}).items() if v in variables}
    k_default = 7 if d.nation == "W" else 15
    k = min(options.peers or k_default, len(frame) - 1)
    if k < 1 or d.code not in set(frame["code"]):
        return Peers(frame, variables, weights, k, None, False, [])
    peers = most_similar(frame, d.code, k=k, variables=variables,
                         transforms={v: VARIABLES[v][1] for v in variables}, weights=weights)  # fmt: skip
    for key, (col, _label) in MEASURES.items():
        frame[f"rate_{key}"] = np.where(frame["covered"], 1000 * frame[col] / frame["population"], np.nan)
    table = peers.merge(
        frame[["code", "force", "covered", "population", *[f"rate_{k_}" for k_ in MEASURES]]], on="code"
    )
    covered = table[table["covered"]]
    comparisons = []
    area_covered = bool(frame.loc[frame["code"] == d.code, "covered"].iloc[0])
    if len(covered) >= 1 and area_covered:
        for key, (_col, label) in MEASURES.items():
            rates = frame.set_index("code")[f"rate_{key}"]
            comparisons.append(
                (key, label, compare_with_peers(rates, list(covered["code"]), d.code, name=d.name))
            )
    return Peers(frame, variables, weights, k, table, area_covered, comparisons)


def _params(d: AreaData, p: Peers) -> dict[str, object]:
    variables, weights, k = p.variables, p.weights, p.k
    return {"variables": {v: VARIABLES[v][0] for v in variables}, "transforms": {v: VARIABLES[v][1] for v in variables},
            "k": k, "weights": {v: weights.get(v, 1.0) for v in variables},
            "distance": "Euclidean on standardised transformed variables, each times its weight",
            "comparison_set": f"all {d.level_words_plural} of the same nation with population data"}  # fmt: skip


def _comparison(ctx: Context, p: Peers, params: dict[str, object]) -> tuple[pd.DataFrame, Markup | None]:
    """The comparison table (each measure's reading in the report language) and the dot chart."""
    d, f, frame, unit, inputs = ctx.data, ctx.figures, p.frame, rate_unit(ctx.data.period), INPUTS
    rows, chart = [], None
    for key, label, cmp in p.comparisons:
        sentence = cmp.sentence if current() == "en" else _peer_sentence(d.display_name, cmp)
        rows.append({"measure": term(label), "rate": cmp.rate, "group_mean": cmp.group_mean, "lower": cmp.lower,
                     "upper": cmp.upper, "rank": cmp.rank, "n_group": cmp.n_group, "position": _(cmp.position),
                     "sentence": f"{term(label)}: {sentence}"})  # fmt: skip
        if key == "crime":
            group = cmp.group.rename(columns={"rate": "rate"}).merge(frame[["code", "name"]], on="code")
            group["name"] = [place_name(c, n) for c, n in zip(group["code"], group["name"], strict=True)]
            chart = charts.svg(
                charts.peer_chart(group, d.code, cmp.group_mean, cmp.lower, cmp.upper,
                                  _("{} {}: {} and its peers with data").format(term(label), unit, d.display_name),
                                  _("records {}").format(unit)),
                _("Dot chart of the area's rate against its peers"),
                "peers.peers",
            )  # fmt: skip
    comparisons = pd.DataFrame(rows)
    f.table("comparison", comparisons, label=T("The area's rates against its peer group"),
            inputs=inputs + ["police:comparators", "police:period"], parameters=params | {"ci": 0.95},
            columns={"measure": "what is counted", "rate": f"the area's rate {unit}",
                     "group_mean": "mean rate of the group (the area and its peers with data)",
                     "lower": "95% t interval for the group mean, lower", "upper": "95% t interval, upper",
                     "rank": "the area's rank in the group, 1 = highest rate", "n_group": "areas in the group",
                     "position": "above / within / below the interval", "sentence": "plain-English reading"},
            definition=T("compare_with_peers: mean -/+ t(0.975, n-1) x sd / sqrt(n) over the group."),
            csv="peer_comparison")  # fmt: skip
    return comparisons, chart


def _methods(p: Peers, params: dict[str, object]) -> list[tuple[str, Markup]]:
    weights = p.weights
    return [
        (
            _("Peers"),
            Markup(
                _(
                    "Most similar areas in the style of the Home Office most similar groups: public variables "
                    "(population, density, share aged 15 to 24, mean WIMD income, employment, education and housing "
                    "scores, population-weighted) are log or Yeo-Johnson transformed, standardised, multiplied by "
                    "their weights ({}) and compared by Euclidean distance. The area's rate is compared with the mean "
                    "of the group (the area and its peers with data) with a 95% t interval, and ranked within it."
                )
            ).format(
                _("all 1") if not weights else ", ".join(f"{v} {w:g}" for v, w in params["weights"].items())
            ),
        )
    ]


def present(ctx: Context, p: Peers) -> SectionOutput:
    """Register the figures and write the section from :func:`compute`'s result."""
    d, f, k, variables, inputs = ctx.data, ctx.figures, p.k, p.variables, INPUTS
    if p.table is None:
        return SectionOutput(
            html=Markup("<p class='missing'>{}</p>").format(_("There are no comparable areas loaded."))
        )
    params, table, unit = _params(d, p), p.table, rate_unit(d.period)
    f.table("peers", table, label=T("The {k} most similar {areas} to {name}", k=k, areas=Term(AREA_PLURAL[d.level]), name=Place(d.name)),
            inputs=inputs + ["police:comparators"], parameters=params,
            columns={"code": "area code", "name": "area name", "distance": "distance from the area (0 = identical)",
                     "rank": "1 = most similar", "force": "police force area", "covered": "its force's data cover the period",
                     "population": "residents", **{f"rate_{k_}": f"{lab.lower()} {unit} (blank without data)"
                                                   for k_, (_c, lab) in MEASURES.items()}},
            definition=T("most_similar over the comparison set; rates only for peers whose force's police.uk data are loaded."),
            csv="peers")  # fmt: skip
    covered, uncovered = table[table["covered"]], table[~table["covered"]]
    n_covered = f.number("peers_with_data", len(covered), label=T("Peers with police data for the period"),
                         inputs=["police:comparators"], parameters=params,
                         definition=T("Peers whose force's data are loaded for every month of the period."))  # fmt: skip
    comparisons, findings, chart, area_covered = [], [], None, p.area_covered
    if p.comparisons:
        comparisons, chart = _comparison(ctx, p, params)
        for i in range(len(comparisons)):
            findings.append(Finding(f.cell("peers.comparison", i, "sentence"), rank=40 + i))
    return SectionOutput(
        html=ctx.render(
            "sections/peers.html.j2",
            k=k,
            variables=[_(VARIABLES[v][0]) for v in variables],
            n_covered=n_covered,
            uncovered=[
                r | {"name": place_name(r["code"], r["name"])} for r in uncovered.to_dict(orient="records")
            ],
            comparisons=len(comparisons) > 0,
            area_covered=area_covered,
            chart=chart,
            unit=unit,
            # gettext in a template %-formats its message: "95%" is given from here instead.
            ci_low=_("95% CI low"),
            ci_high=_("95% CI high"),
            fmt_count=fmt_count,
            fmt_number=fmt_number,
        ),
        findings=findings,
        caveats=[
            Markup(
                _(
                    "Peer rates are compared only where the peer's force data are loaded for the whole period; the "
                    "peer group is otherwise smaller than chosen, and the interval wider."
                )
            )
        ],
        methods=_methods(p, params),
    )


def build(ctx: Context) -> SectionOutput:
    return present(ctx, compute(ctx.data, ctx.options))


register(
    Section(
        id="peers",
        title="Compared with similar areas",
        order=70,
        build=build,
        description="Most similar peers from public variables; rates against the peer-group mean.",
    )
)
