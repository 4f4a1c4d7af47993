"""Section "Harm": Crime Severity Score style harm by crime type and by LSOA, always beside the counts.

harm = sum over types of count x weight, with one weight per police.uk type (the mean of the ONS CSS
weights of the Home Office offences it groups, each weighted by its national recorded-crime volume);
harm per 1,000 = 1000 x harm / residents. The shares of harm under the median, mean, smallest and
largest offence weight are shown beside it, so a reader sees how much rests on that choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from markupsafe import Markup
from matplotlib.figure import Figure

from diogel.analysis.harm import (
    HarmWeights,
    harm_by_area,
    harm_by_type,
    harm_shares_by_method,
    policeuk_weights_from_css,
)
from diogel.report import charts
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import fmt_count, fmt_number, fmt_pct, fmt_signed_pct
from diogel.report.gather import AreaData
from diogel.report.i18n import T, Term, _, term
from diogel.report.sections import Section, register
from diogel.report.sections._common import area_population, finite, rate_unit, slug, type_counts
from diogel.sources.harm_weights import OFFENCE_VOLUMES_SOURCE, OFFENCE_VOLUMES_YEAR, offence_volumes

METHOD = "volume_weighted_mean"
INPUTS = ["police:period", "lookups", "population", "harm-weights"]
ALTERNATIVES = {"median": "median", "mean": "unweighted mean", "min": "smallest", "max": "largest"}


@dataclass(frozen=True)
class Harm:
    """Harm by crime type (``by_type``, with the sensitivity columns), by LSOA (``lsoas``), the weights
    used, and the total harm of the period and (None when not loaded) of the previous one."""

    weights: HarmWeights
    by_type: pd.DataFrame
    lsoas: pd.DataFrame
    total_harm: float
    previous_harm: float | None


def compute(d: AreaData) -> Harm | None:
    """Crime Severity Score harm from the gathered data; None when no weights are loaded."""
    if d.harm_weights.empty:
        return None
    volumes = offence_volumes()
    weights = policeuk_weights_from_css(d.harm_weights, method=METHOD, volumes=volumes)
    counts = type_counts(d, d.period).assign(area=d.code)
    by_type = harm_by_type(counts, weights, area_population(d), by=("area",)).drop(columns=["area"])
    total_count, total_harm = by_type["count"].sum(), by_type["harm"].sum()
    by_type["share_count"] = by_type["count"] / total_count if total_count else None
    by_type["share_harm"] = by_type["harm"] / total_harm if total_harm else None
    by_type = by_type.sort_values("harm", ascending=False, na_position="last", ignore_index=True)
    by_type = by_type.merge(weights.weights[["crime_type", "n_offences"]], on="crime_type", how="left")
    # Sensitivity: the same counts under the other ways of collapsing offence weights to a type.
    shares = harm_shares_by_method(counts, d.harm_weights, volumes, methods=[METHOD, *ALTERNATIVES])
    shares = shares.set_index("crime_type")
    for m in ALTERNATIVES:
        by_type[f"weight_{m}"] = by_type["crime_type"].map(shares[f"weight_{m}"])
        by_type[f"share_harm_{m}"] = by_type["crime_type"].map(shares[f"share_harm_{m}"])
    previous_harm = None
    if d.previous_available:
        before = harm_by_type(type_counts(d, d.previous).assign(area=d.code), weights, by=("area",))
        previous_harm = float(before["harm"].sum())
    # Harm per 1,000 by LSOA: where the most serious crime falls, next to where most records are.
    c = d.period_crimes()
    per_lsoa = harm_by_area(
        c[["lsoa_code", "crime_type", "count"]],
        weights,
        d.population[["lsoa_code", "population"]],
        by=("lsoa_code",),
    )
    lsoas = d.lsoas[["lsoa_code", "lsoa_name"]].merge(per_lsoa, on="lsoa_code", how="left")
    lsoas[["count", "count_unweighted", "harm"]] = lsoas[["count", "count_unweighted", "harm"]].fillna(0.0)
    pop = d.population.set_index("lsoa_code")["population"]
    lsoas["population"] = lsoas["lsoa_code"].map(pop)
    lsoas["rate_per_1000"] = 1000 * lsoas["count"] / lsoas["population"]
    lsoas["harm_per_1000"] = 1000 * lsoas["harm"] / lsoas["population"]
    return Harm(weights, by_type, lsoas, float(total_harm), previous_harm)


def _unit(d: AreaData) -> T:
    """The rate unit as a figure label's value (given in English and Welsh in figures.json)."""
    if d.period.n_months == 12:
        return T("per 1,000 residents a year")
    return T("per 1,000 residents over {n} months", n=d.period.n_months)


def _params(d: AreaData) -> dict[str, object]:
    return {"weight_method": METHOD, "period": d.period.label, "population_year": d.population_year,
            "offence_volumes": OFFENCE_VOLUMES_SOURCE}  # fmt: skip


def _register_by_type(ctx: Context, h: Harm) -> dict[str, Markup]:
    """The harm table by crime type, the totals and the top type's shares; their spans and the
    sensitivity sentence."""
    d, f, by_type, total_harm = ctx.data, ctx.figures, h.by_type, h.total_harm
    inputs, params = INPUTS, _params(d)
    f.table("by_type", by_type, label=T("Counts and harm by crime type, {period}", period=d.period.label), inputs=inputs, parameters=params,
            columns={"crime_type": "police.uk crime type", "count": "records",
                     "weight": f"CSS weight used: mean of its offences' weights, each weighted by national recorded volume ({OFFENCE_VOLUMES_YEAR})",
                     "harm": "count x weight", "population": "residents", "rate_per_1000": "records per 1,000 residents",
                     "harm_per_1000": "1000 x harm / residents", "share_count": "count / all records",
                     "share_harm": "harm / all harm", "n_offences": "Home Office offences averaged into the weight",
                     **{f"weight_{m}": f"alternative weight: the {w} of its offences' weights" for m, w in ALTERNATIVES.items()},
                     **{f"share_harm_{m}": f"share of harm with the {w} weights" for m, w in ALTERNATIVES.items()}},
            definition=T("Crime Severity Score style harm: count x the type's weight; anti-social behaviour has no weight."),
            csv="harm_by_crime_type")  # fmt: skip
    total = f.number("total", total_harm, label=T("Total harm"), fmt=lambda v: fmt_number(v, 0), inputs=inputs, parameters=params,
                     definition=T("Sum over crime types of count x CSS weight (days of custody equivalent)."))  # fmt: skip
    per_1000 = f.number("per_1000", 1000 * total_harm / area_population(d)["population"].iloc[0], fmt=fmt_number,
                        label=T("Harm {unit}", unit=_unit(d)), inputs=inputs, parameters=params,
                        definition=T("1000 x total harm / residents."))  # fmt: skip
    top = by_type.iloc[0]
    top_share = f.number("top_share_harm", top["share_harm"], fmt=fmt_pct, label=T("{name}: share of harm", name=Term(top["crime_type"])),
                         inputs=inputs, parameters=params, definition=T("harm of the type / total harm."))  # fmt: skip
    top_count_share = f.number("top_share_count", top["share_count"], fmt=fmt_pct,
                               label=T("{name}: share of records", name=Term(top["crime_type"])), inputs=inputs, parameters=params,
                               definition=T("records of the type / all records."))  # fmt: skip
    sens = {
        m: f.number(f"top_share_harm_{m}", by_type.loc[0, f"share_harm_{m}"], fmt=fmt_pct,
                    label=T("{name}: share of harm with the {w} offence weights", name=Term(top["crime_type"]), w=T(w)), inputs=inputs,
                    parameters=params | {"weight_method": m},
                    definition=T("As top_share_harm with each type weighted by the {w} of its offences' CSS weights.", w=T(w)))
        for m, w in ALTERNATIVES.items()
    }  # fmt: skip
    sensitivity = Markup(_("the share of harm from {} is {} with the volume-weighted weights used here; it would be {}")).format(
        term(top["crime_type"]), top_share,
        Markup(", ").join(Markup(_("{} with the {} weights")).format(sens[m], _(w)) for m, w in ALTERNATIVES.items()),
    ) + Markup(".")  # fmt: skip
    return {"total": total, "per_1000": per_1000, "top_share": top_share, "top_count_share": top_count_share,
            "sensitivity": sensitivity}  # fmt: skip


def _register_change(ctx: Context, h: Harm) -> Markup | None:
    """The previous period's total harm and the change; None without the previous period."""
    if h.previous_harm is None:
        return None
    f, inputs, params = ctx.figures, INPUTS, _params(ctx.data)
    total_harm, prev_harm = h.total_harm, h.previous_harm
    pct = 100 * (total_harm - prev_harm) / prev_harm if prev_harm else None
    f.number("previous_total", prev_harm, label=T("Total harm in the previous period"), fmt=lambda v: fmt_number(v, 0),
             inputs=["police:previous", "lookups", "harm-weights"], parameters=params,
             definition=T("As total harm, for the previous period of equal length."))  # fmt: skip
    change_span = f.number("pct_change", pct, label=T("% change in total harm"), fmt=fmt_signed_pct,
                           inputs=inputs + ["police:previous"], parameters=params,
                           definition=T("100 x (harm - previous harm) / previous harm (same weights)."))  # fmt: skip
    return change_span


def _by_lsoa(ctx: Context, h: Harm) -> tuple[Figure, str]:
    """The LSOA harm table and map (GeoPackage too); the map's figure and the GeoPackage's path."""
    d, f, lsoas = ctx.data, ctx.figures, h.lsoas
    inputs, params, unit = INPUTS, _params(d), rate_unit(d.period)
    gdf = d.boundaries[["lsoa_code", "geometry"]].merge(lsoas, on="lsoa_code")
    gpkg = ctx.write_map("harm_by_lsoa", gdf)
    f.table("by_lsoa", lsoas, kind="map", label=T("Harm per 1,000 residents by LSOA"), inputs=inputs + ["boundaries"],
            parameters=params, files=[gpkg], csv="harm_by_lsoa",
            columns={"lsoa_code": "LSOA 2021 code", "lsoa_name": "LSOA name", "count": "records",
                     "count_unweighted": "records with no weight (ASB)", "harm": "sum of count x weight",
                     "population": "residents", "rate_per_1000": "records per 1,000 residents",
                     "harm_per_1000": "1000 x harm / residents"},
            definition=T("Harm by LSOA; crude (not smoothed): LSOAs with few residents, such as town centres, have high "
            "rates."))  # fmt: skip
    fig_map, _bins = charts.choropleth(gdf, "harm_per_1000", _("Harm {} by LSOA").format(unit), _("harm per 1,000"),
                                       outline=d.boundaries.dissolve())  # fmt: skip
    return fig_map, gpkg


def _methods() -> list[tuple[str, Markup]]:
    return [
        (
            _("Harm"),
            Markup(
                _(
                    "Each police.uk crime type is given one Crime Severity Score weight: the mean of the ONS "
                    "weights (days of custody equivalent) of the Home Office offences a third-party join maps to "
                    "it, each offence weighted by its national recorded volume ({}; bundled as "
                    "diogel/data/harm/offence_volumes_ew_2017_18.csv), so a type's weight is that of its average "
                    "recorded crime. An unweighted median would give violence and sexual offences the weight of a "
                    "serious assault although most of its records are common assault and harassment. The same rule "
                    "raises drugs well above its median: trafficking in controlled drugs (about 513 days) is about "
                    "a fifth of recorded drug offences by volume and the possession offences (2 to 9 days) the "
                    "rest, so the mean is about 103 days where the median of its four offence weights (8.6) "
                    "leaves trafficking out. Harm = count "
                    "x weight; harm per 1,000 = 1,000 x harm / residents. The shares of harm under the median, "
                    "unweighted mean, smallest and largest offence weight are shown beside it as a sensitivity "
                    "check. The mapping is approximate, so harm is always shown beside the counts."
                )
            ).format(_(OFFENCE_VOLUMES_SOURCE)),
        )
    ]


def present(ctx: Context, h: Harm | None) -> SectionOutput:
    """Register the figures and write the section from :func:`compute`'s result."""
    d = ctx.data
    if h is None:
        return SectionOutput(
            html=Markup(
                _(
                    "<p class='missing'>No Crime Severity Score weights are loaded, so harm cannot be shown: ingest "
                    "them (<code>diogel init --reference wales</code> loads them).</p>"
                )
            ),
            values={"harm_per_1000": {}},
        )
    by_type, unit = h.by_type, rate_unit(d.period)
    spans = _register_by_type(ctx, h)
    change_span = _register_change(ctx, h)
    fig_map, gpkg = _by_lsoa(ctx, h)
    top = by_type.iloc[0]
    total, per_1000, top_share, top_count_share = (
        spans[k] for k in ("total", "per_1000", "top_share", "top_count_share")
    )
    bars = charts.paired_bars(by_type[by_type["weight"].notna()].assign(crime_type=lambda x: x["crime_type"].map(term)),
                              "crime_type", "share_count", "share_harm",
                              _("share of records"), _("share of harm"), _("Records and harm by crime type"))  # fmt: skip
    findings = [
        Finding(
            Markup(
                _(
                    "Harm: {} ({} {}); {} accounts for {} of harm but {} of records (volume-weighted offence weights; "
                    "{} to {} under other weightings)."
                )
            ).format(
                total,
                per_1000,
                unit,
                term(top["crime_type"]),
                top_share,
                top_count_share,
                fmt_pct(min(by_type.loc[0, f"share_harm_{m}"] for m in ALTERNATIVES)),
                fmt_pct(max(by_type.loc[0, f"share_harm_{m}"] for m in ALTERNATIVES)),
            ),
            rank=6,
        )
    ]
    if change_span is not None:
        findings.append(
            Finding(Markup(_("Total harm changed by {} on the previous period.")).format(change_span), rank=7)
        )
    return SectionOutput(
        html=ctx.render(
            "sections/harm.html.j2",
            note=_(h.weights.note),
            sensitivity=spans["sensitivity"],
            volumes_source=_(OFFENCE_VOLUMES_SOURCE),
            unit=unit,
            total=total,
            per_1000=per_1000,
            change=change_span,
            chart=charts.svg(bars, _("Share of records and share of harm by crime type"), "harm.by_type"),
            harm_map=charts.svg(fig_map, _("Map of harm per 1,000 residents by LSOA"), "harm.by_lsoa"),
            gpkg=gpkg,
            fmt_count=fmt_count,
            fmt_number=fmt_number,
            fmt_pct=fmt_pct,
        ),
        findings=findings,
        caveats=[Markup(_(h.weights.note))],
        methods=_methods(),
        values={
            "harm_per_1000": {
                r["crime_type"]: (r["harm_per_1000"] if finite(r["harm_per_1000"]) else None)
                for _i, r in by_type.iterrows()
            },
            "by_type": by_type,
            "slugs": {t: slug(t) for t in by_type["crime_type"]},
        },
    )


def build(ctx: Context) -> SectionOutput:
    return present(ctx, compute(ctx.data))


register(
    Section(
        id="harm",
        title="Harm",
        order=40,
        build=build,
        description="Crime Severity Score style harm by crime type and LSOA, beside the counts.",
    )
)

__all__ = ["build", "pd"]
