"""Section "Where": small-area rates, hot spots, clusters, concentration, emerging hot spots and change.

* rates per LSOA smoothed by global Empirical Bayes (Marshall 1991), so small populations do not
  produce extreme rates by chance;
* Getis-Ord Gi* on counts (binary queen contiguity with the LSOA itself, transform "B"), binned at
  99/95/90% by the Benjamini-Hochberg adjusted two-sided conditional-permutation p-values (9,999
  permutations by default, fixed seed); the analytic z is kept as a column;
* local Moran's I for rates (esda ``Moran_Local_Rate``, Assuncao-Reis EB standardisation), permutation
  p-values with the FDR adjustment;
* concentration: share of records in the top 5% and 10% of LSOAs, and the Gini coefficient;
* emerging hot spots: ESRI's Emerging Hot Spot Analysis (space-time Gi* on the LSOA x month cube,
  FDR over the bins, Mann-Kendall on each LSOA's z-series, ESRI's classes);
* Andresen's spatial point pattern test of the previous period against this one, beside the range of
  S expected with no change, and per-LSOA exact tests with FDR, when the previous period is loaded.

:func:`small_areas` computes every statistic (a pure function of the gathered data, the number of
permutations and the seed); :func:`build` registers the figures, draws the maps and writes the text.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from markupsafe import Markup

from diogel.analysis.concentration import concentration
from diogel.analysis.emerging import emerging_hot_spots
from diogel.analysis.hotspots import contiguity_weights, gi_star, local_moran_rate
from diogel.analysis.smoothing import EBResult, empirical_bayes_rates
from diogel.analysis.spatial_change import PatternChange, monthly_dispersion, pattern_change
from diogel.report import charts
from diogel.report.context import Context, Finding, SectionOutput
from diogel.report.figures import FigureRegistry, fmt_count, fmt_number, fmt_pct
from diogel.report.gather import ASB, AreaData, Period
from diogel.report.i18n import Place, T, Text, _, term
from diogel.report.sections import Section, register
from diogel.report.sections._common import ALL, lsoa_counts, rate_unit, slug

N_TYPE_MAPS = 3
SPPT = {"sample_share": 0.85, "n_resamples": 200, "confidence": 0.95}
EMERGING = {
    "time_lag": 1,
    "alpha": 0.05,
    "share": 0.9,
    "fdr": "Benjamini-Hochberg over all LSOA-month bins",
    "cube": "Pearson residuals from LSOA and month main effects",
    "permutations": 999,
    "p": "normal p of the conditional-permutation z (whole LSOA series permuted)",
}
N_NULL = 199
WORRYING = ["New hot spot", "Consecutive hot spot", "Intensifying hot spot", "Persistent hot spot"]
INPUTS = ["police:period", "lookups", "population", "boundaries"]


def _gi(values: pd.Series, w, permutations: int, seed: int) -> pd.DataFrame:  # noqa: ANN001
    """Gi* bins, or every LSOA "Not significant" when the values do not vary (Gi* is then undefined)."""
    if np.allclose(values.to_numpy(), values.iloc[0]):
        return pd.DataFrame(
            {
                "value": values.to_numpy(),
                "z": 0.0,
                "p": 1.0,
                "p_sim": np.nan,
                "q": 1.0,
                "bin": "Not significant",
            },
            index=pd.Index(values.index, name="area"),
        )
    return gi_star(values, w, permutations=permutations, seed=seed)


def _monthly_cube(data: AreaData, period: Period) -> pd.DataFrame:
    """Records per LSOA (rows, in boundary order) and month of ``period`` (columns, in time order)."""
    c = data.period_crimes("period" if period is data.period else "previous")
    codes = data.lsoas["lsoa_code"]
    c = c.assign(count=c["count"].astype(float))  # an integer column cannot hold the 0.0 filled in
    cube = c.pivot_table(index="lsoa_code", columns="month", values="count", aggfunc="sum", fill_value=0.0)
    return cube.reindex(index=codes, columns=list(period.months), fill_value=0.0)


class LsoaName(Text):
    """An LSOA's name in either language: ONS names an LSOA after its local authority and a number
    ("Newport 014B"), and in Welsh after the authority's Welsh name ("Casnewydd 014B")."""

    def __new__(cls, name: str) -> LsoaName:
        self = str.__new__(cls, str(name))
        self.msgid, self.values = str(self), {}
        return self

    def in_(self, lang: str) -> str:
        authority, _space, number = self.rpartition(" ")
        return f"{Place(authority).in_(lang)} {number}" if authority else str(self)


def lsoa_name(name: str) -> str:
    """An LSOA's name in the report's language (see :class:`LsoaName`)."""
    return LsoaName(name).here()


# -- compute ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmallAreas:
    """Every statistic the section shows, per 2021 LSOA of the area.

    Attributes
    ----------
    areas : the LSOAs (``lsoa_code``, ``lsoa_name``, geometry), in boundary order.
    outline : the area's outline, or its local authorities' when a CSP spans several.
    lsoa : one row per LSOA: counts, rates, Gi*, local Moran, emerging class and, when the previous
        period is loaded, the pattern-change test (the columns of the "lsoa" figure).
    eb : the Empirical Bayes smoothing (its prior mean is the area rate).
    change : the spatial pattern test against the previous period; None when it is not loaded.
    concentration : one row per crime type (all records first) of the top-5%/10% shares and Gini.
    type_names : the crime types mapped one by one (ASB first, then the largest).
    by_type : counts, Gi* z and bins of each of ``type_names`` per LSOA.
    """

    areas: gpd.GeoDataFrame
    outline: gpd.GeoDataFrame
    lsoa: pd.DataFrame
    eb: EBResult
    change: PatternChange | None
    concentration: pd.DataFrame
    type_names: list[str]
    by_type: pd.DataFrame


def _emerging(data: AreaData, w, codes: pd.Series, seed: int, permutations: int) -> pd.DataFrame:  # noqa: ANN001
    cube = _monthly_cube(data, data.period)
    if cube.to_numpy().std() > 0:
        # Residuals and permuted series: the calibration table shows ESRI's normal p-values on counts class
        # busy LSOAs in every no-change data set; these are at the nominal rate.
        emerging, _cube = emerging_hot_spots(cube, w, time_lag=EMERGING["time_lag"], alpha=EMERGING["alpha"],
                                             share=EMERGING["share"], residuals=True, seed=seed,
                                             permutations=min(permutations, EMERGING["permutations"]))  # fmt: skip
        return emerging
    return pd.DataFrame({"lsoa_code": codes, "pattern": "No pattern detected", "n_hot": 0, "n_cold": 0,
                         "trend": "no trend"})  # fmt: skip


def _change(data: AreaData, counts: pd.Series, areas: list[str], seed: int) -> PatternChange:
    before = lsoa_counts(data, data.previous)
    # The test resamples whole records: records of a 2011 LSOA shared between the 2021 LSOAs it
    # split into are rounded to whole records, as for the driver models.
    # Over-dispersion of LSOA counts beyond Poisson, from the month-to-month variation within each
    # period (so a change between the periods does not inflate it).
    # A one-month period has no month-to-month variation to measure: phi = 1 (Poisson) then.
    phis = [
        monthly_dispersion(_monthly_cube(data, p)) for p in (data.previous, data.period) if p.n_months >= 2
    ]
    phi = float(np.mean(phis)) if phis else 1.0
    return pattern_change(
        before.round().rename("count").rename_axis("lsoa_code").reset_index(),
        counts.round().rename("count").rename_axis("lsoa_code").reset_index(),
        areas=areas, dispersion=phi, n_null=N_NULL, alpha=0.05, seed=seed, **SPPT,
    )  # fmt: skip


def _lsoa_frame(gdf: gpd.GeoDataFrame, counts: pd.Series, pop: pd.Series, eb: EBResult, gi: pd.DataFrame,
                lisa: pd.DataFrame, emerging: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    lsoa = pd.DataFrame({
        "lsoa_code": gdf["lsoa_code"].to_numpy(), "lsoa_name": gdf["lsoa_name"].to_numpy(),
        "count": counts.to_numpy(), "population": pop.to_numpy(),
        "raw_rate": eb.rates["raw_rate"].to_numpy(), "eb_rate": eb.rates["eb_rate"].to_numpy(),
        "shrinkage": eb.rates["shrinkage"].to_numpy(), "gi_z": gi["z"].to_numpy(), "gi_p_sim": gi["p_sim"].to_numpy(),
        "gi_q": gi["q"].to_numpy(), "gi_bin": gi["bin"].to_numpy(), "lisa_I": lisa["I"].to_numpy(),
        "lisa_p_sim": lisa["p_sim"].to_numpy(), "lisa_cluster": lisa["cluster"].to_numpy(),
    })  # fmt: skip
    lsoa = lsoa.merge(
        emerging[["lsoa_code", "pattern", "n_hot", "n_cold", "trend"]], on="lsoa_code", how="left"
    )
    return lsoa.rename(columns={"pattern": "emerging_pattern", "n_hot": "months_hot", "n_cold": "months_cold",
                                "trend": "gi_trend"})  # fmt: skip


def _concentration(data: AreaData, volume: pd.Series) -> pd.DataFrame:
    rows = []
    for name in [ALL, *volume.index]:
        v = lsoa_counts(data, data.period, name)
        if v.sum() <= 0:
            continue
        c = concentration(v.to_numpy(), fractions=(0.05, 0.10))
        rows.append({"crime_type": name, "records": c.total, "lsoas": c.n_areas,
                     "top5_lsoas": int(c.shares["n_top_areas"].iloc[0]), "top5_share": c.shares["share"].iloc[0],
                     "top10_lsoas": int(c.shares["n_top_areas"].iloc[1]), "top10_share": c.shares["share"].iloc[1],
                     "gini": c.gini})  # fmt: skip
    return pd.DataFrame(rows)


def small_areas(data: AreaData, permutations: int, seed: int) -> SmallAreas:
    """Rates, hot spots, clusters, emerging classes, pattern change and concentration of the area's LSOAs."""
    gdf = data.boundaries[["lsoa_code", "lsoa_name", "geometry"]].copy()
    outline = gdf.dissolve()
    if data.level == "csp" and data.lsoas["la_code"].nunique() > 1:
        outline = gdf.merge(data.lsoas[["lsoa_code", "la_code"]], on="lsoa_code").dissolve("la_code")
    w = contiguity_weights(gdf)
    pop = data.population.set_index("lsoa_code")["population"].reindex(gdf["lsoa_code"])
    counts = lsoa_counts(data, data.period)
    eb = empirical_bayes_rates(counts, pop)
    gi = _gi(counts, w, permutations, seed)
    lisa = local_moran_rate(counts, pop, w, permutations=permutations, seed=seed)
    emerging = _emerging(data, w, gdf["lsoa_code"], seed, permutations)
    lsoa = _lsoa_frame(gdf, counts, pop, eb, gi, lisa, emerging)
    change = None
    if data.previous_available:
        change = _change(data, counts, list(gdf["lsoa_code"]), seed)
        lsoa = lsoa.merge(change.areas[["lsoa_code", "base_count", "change", "p_exact", "q", "exact_change"]].rename(
            columns={"base_count": "previous_count", "change": "sppt_change", "p_exact": "change_p",
                     "q": "change_q", "exact_change": "pattern_change"}), on="lsoa_code", how="left")  # fmt: skip
    volume = data.period_crimes().groupby("crime_type")["count"].sum().sort_values(ascending=False)
    conc = _concentration(data, volume)
    type_names = [t for t in volume.index if t != ASB][: N_TYPE_MAPS - 1]
    if ASB in volume.index:
        type_names = [ASB, *type_names]
    by_type = pd.DataFrame({"lsoa_code": gdf["lsoa_code"].to_numpy()})
    for t in type_names:
        v = lsoa_counts(data, data.period, t)
        tg = _gi(v, w, permutations, seed)
        by_type[f"count_{slug(t)}"] = v.to_numpy()
        by_type[f"gi_z_{slug(t)}"] = tg["z"].to_numpy()
        by_type[f"gi_bin_{slug(t)}"] = tg["bin"].to_numpy()
    return SmallAreas(gdf, outline, lsoa, eb, change, conc, type_names, by_type)


# -- present ---------------------------------------------------------------------------------------
def _gi_parameters(o) -> dict:  # noqa: ANN001
    return {"statistic": "Getis-Ord Gi* (esda.G_Local, star=True, transform B)", "weights": "queen contiguity, islands joined to nearest",
            "permutations": o.permutations, "seed": o.seed, "alternative": "two-sided (gi_p_sim)",
            "fdr": "Benjamini-Hochberg", "p_source": "conditional-permutation p (gi_p_sim)" if o.permutations else "analytic z",
            "bins": "99/95/90% by q <= 0.01/0.05/0.10"}  # fmt: skip


def _lisa_parameters(o) -> dict:  # noqa: ANN001
    return {"statistic": "esda.Moran_Local_Rate (adjusted, EB standardised)", "permutations": o.permutations,
            "seed": o.seed, "alpha": 0.05, "p": "two-sided pseudo p-value, Benjamini-Hochberg adjusted"}  # fmt: skip


LSOA_COLUMNS = {
    "lsoa_code": "LSOA 2021 code", "lsoa_name": "LSOA name", "count": "records (all types) in the period",
    "population": "residents", "raw_rate": "1000 x count / residents",
    "eb_rate": "global Empirical Bayes rate per 1,000 (Marshall 1991)", "shrinkage": "weight on the LSOA's own rate (C_i)",
    "gi_z": "Gi* z-score on counts", "gi_p_sim": "Gi* two-sided permutation pseudo p-value",
    "gi_q": "Benjamini-Hochberg adjusted permutation p-value", "gi_bin": "hot/cold spot bin",
    "lisa_I": "local Moran's I for rates", "lisa_p_sim": "local Moran pseudo p-value",
    "lisa_cluster": "HH/LL/HL/LH cluster at FDR q <= 0.05, else not significant",
    "emerging_pattern": "ESRI emerging hot spot class (space-time Gi*, FDR)", "months_hot": "months with a significant hot Gi*",
    "months_cold": "months with a significant cold space-time Gi*", "gi_trend": "Mann-Kendall trend of the space-time Gi* z-scores",
    "previous_count": "records in the previous period", "sppt_change": "Andresen SPPT: similar / higher / lower in this period",
    "change_p": "exact conditional binomial p-value of a change in share (dispersion-adjusted)",
    "change_q": "Benjamini-Hochberg adjusted change_p",
    "pattern_change": "higher / lower share this period by the exact test at q < 0.05, else similar",
}  # fmt: skip


def _unit_text(period: Period) -> Text:
    """:func:`rate_unit` as a figure label's value, given in either language."""
    if period.n_months == 12:
        return T("per 1,000 residents a year")
    return T("per 1,000 residents over {n} months", n=period.n_months)


def _lsoa_table(ctx: Context, sa: SmallAreas, g: gpd.GeoDataFrame) -> str:
    """Register the one-row-per-LSOA table every map is drawn from; write its GeoPackage."""
    o, lsoa = ctx.options, sa.lsoa
    gpkg = ctx.write_map("lsoa_analysis", g)
    ctx.figures.table("lsoa", lsoa, kind="map", label=T("LSOAs of {name}: rates, hot spots, clusters and patterns", name=Place(ctx.data.name)),
                      columns={k: v for k, v in LSOA_COLUMNS.items() if k in lsoa.columns}, inputs=INPUTS,
                      parameters={"gi": _gi_parameters(o), "local_moran": _lisa_parameters(o), "emerging": EMERGING,
                                  "sppt": SPPT | {"seed": o.seed, "null_simulations": N_NULL} if sa.change else None},
                      definition=T("One row per 2021 LSOA; every map in this section is drawn from these rows."),
                      files=[gpkg], csv="lsoa_analysis")  # fmt: skip
    return gpkg


def _hot_spot_figures(f: FigureRegistry, sa: SmallAreas, o, unit: Text) -> dict[str, Markup]:  # noqa: ANN001
    """Hot and cold spots, high-rate clusters, the area rate and the highest smoothed rate."""
    lsoa, gi_params = sa.lsoa, _gi_parameters(o)
    hot = lsoa["gi_bin"].isin(["Hot spot 99%", "Hot spot 95%"])
    top = lsoa.sort_values("eb_rate", ascending=False).iloc[0]
    return {
        "n_hot": f.number("hot_lsoas", int(hot.sum()), label=T("LSOAs that are hot spots at 95% or more"), inputs=INPUTS,
                          parameters=gi_params, definition=T("LSOAs with Gi* z > 0 and FDR-adjusted q <= 0.05.")),
        "hot_share": f.number("hot_share", lsoa.loc[hot, "count"].sum() / lsoa["count"].sum() if lsoa["count"].sum() else None,
                              label=T("Share of records in those hot spots"), fmt=fmt_pct, inputs=INPUTS, parameters=gi_params,
                              definition=T("records in the 95%+ hot-spot LSOAs / all records in the area.")),
        "n_cold": f.number("cold_lsoas", int(lsoa["gi_bin"].isin(["Cold spot 99%", "Cold spot 95%"]).sum()),
                           label=T("LSOAs that are cold spots at 95% or more"), inputs=INPUTS, parameters=gi_params,
                           definition=T("LSOAs with Gi* z < 0 and FDR-adjusted q <= 0.05.")),
        "n_hh": f.number("hh_lsoas", int((lsoa["lisa_cluster"] == "HH").sum()), label=T("High-rate clusters (HH)"),
                         inputs=INPUTS, parameters=_lisa_parameters(o),
                         definition=T("LSOAs with a high rate among high-rate neighbours (local Moran's I for rates, FDR q <= 0.05).")),
        "eb_mean": f.number("eb_prior", sa.eb.prior_mean, label=T("Area rate {unit} (EB prior mean)", unit=unit), fmt=fmt_number,
                            inputs=INPUTS, definition=T("b = sum(counts) / sum(residents) x 1000.")),
        "top_rate": f.number("top_eb_rate", top["eb_rate"], label=T("Highest smoothed rate ({lsoa})", lsoa=LsoaName(top["lsoa_name"])),
                             fmt=fmt_number, inputs=INPUTS, definition=T("The largest Empirical Bayes rate per 1,000 of any LSOA.")),
        "top_lsoa": lsoa_name(top["lsoa_name"]),
    }  # fmt: skip


def _concentration_figures(f: FigureRegistry, sa: SmallAreas) -> dict[str, Markup]:
    """The concentration table and the shares of records in the top 5% and 10% of LSOAs."""
    f.table("concentration", sa.concentration, label=T("Concentration: share of records in the top 5% and 10% of LSOAs"),
            columns={"crime_type": "crime type", "records": "records", "lsoas": "LSOAs (N, including those with none)",
                     "top5_lsoas": "ceil(0.05 N)", "top5_share": "share of records in those LSOAs",
                     "top10_lsoas": "ceil(0.10 N)", "top10_share": "share of records in those LSOAs",
                     "gini": "Gini coefficient across LSOAs (0 even, (N-1)/N all in one)"},
            definition=T("top_share and gini of diogel.analysis.concentration over the LSOAs of the area."),
            inputs=["police:period", "lookups"], csv="concentration")  # fmt: skip
    all_conc = sa.concentration.iloc[0]
    return {
        "top5": f.number("top5_share", all_conc["top5_share"], label=T("Share of records in the top 5% of LSOAs"), fmt=fmt_pct,
                         inputs=["police:period", "lookups"], definition=T("sum of the ceil(0.05 N) largest LSOA counts / all records.")),
        "top5_n": f.number("top5_lsoas", all_conc["top5_lsoas"], label=T("LSOAs in the top 5%"), inputs=["lookups"],
                           definition=T("ceil(0.05 x number of LSOAs).")),
        "top10": f.number("top10_share", all_conc["top10_share"], label=T("Share of records in the top 10% of LSOAs"),
                          fmt=fmt_pct, inputs=["police:period", "lookups"],
                          definition=T("sum of the ceil(0.10 N) largest LSOA counts / all records.")),
    }  # fmt: skip


def _emerging_figures(f: FigureRegistry, sa: SmallAreas, n_months: int) -> dict[str, Markup]:
    """LSOAs in each worrying emerging hot-spot class."""
    patterns = sa.lsoa["emerging_pattern"].value_counts()
    return {
        p: f.number(f"emerging_{slug(p)}", int(patterns.get(p, 0)), label=T("LSOAs classed '{pattern}'", pattern=T(p)), inputs=INPUTS,
                    parameters=EMERGING | {"months": n_months},
                    definition=T("LSOAs classed '{pattern}' by ESRI's Emerging Hot Spot Analysis (emerging_hot_spots).", pattern=T(p)))
        for p in WORRYING
    }  # fmt: skip


def _type_hot_spots(ctx: Context, sa: SmallAreas) -> str:
    """Register the hot spots of the largest crime types; write their GeoPackage."""
    names = sa.type_names
    type_gpkg = ctx.write_map("hotspots_by_type", sa.areas.merge(sa.by_type, on="lsoa_code"))
    ctx.figures.table("hotspots_by_type", sa.by_type, kind="map", label=T("Gi* hot spots of the largest crime types"),
                      columns={"lsoa_code": "LSOA 2021 code",
                               **{f"count_{slug(t)}": f"records of {t.lower()}" for t in names},
                               **{f"gi_z_{slug(t)}": f"Gi* z of {t.lower()}" for t in names},
                               **{f"gi_bin_{slug(t)}": f"hot/cold spot bin of {t.lower()}" for t in names}},
                      definition=T("Gi* on counts of one crime type, as for all records."), inputs=INPUTS,
                      parameters=_gi_parameters(ctx.options), files=[type_gpkg], csv="hotspots_by_type")  # fmt: skip
    return type_gpkg


def _maps(sa: SmallAreas, g: gpd.GeoDataFrame, unit: str) -> dict[str, Markup]:
    """Every map of the section, in the report's language."""
    outline = sa.outline
    eb_fig, _bins = charts.choropleth(
        g, "eb_rate", _("Smoothed rate {}").format(unit), _("records per 1,000"), outline=outline
    )
    maps = {
        "rates": charts.svg(eb_fig, _("Map of Empirical Bayes smoothed rates by LSOA"), "where.lsoa"),
        "gi": charts.svg(charts.categorical_map(g, "gi_bin", charts.GI_COLOURS, _("Hot and cold spots (Gi*), all records"),
                                                "Gi* bin (LSOAs)", outline=outline), _("Map of Gi* hot and cold spots"), "where.lsoa"),
        "lisa": charts.svg(charts.categorical_map(g, "lisa_cluster", charts.LISA_COLOURS, _("Clusters of high and low rates (local Moran's I)"),
                                                  "cluster (LSOAs)", words=charts.LISA_WORDS, outline=outline),
                           _("Map of local Moran's I clusters of rates"), "where.lsoa"),
        "emerging": charts.svg(charts.categorical_map(g, "emerging_pattern", charts.EMERGING_COLOURS, _("Emerging hot spots (monthly Gi*)"),
                                                      "pattern (LSOAs)", outline=outline), _("Map of emerging hot spot patterns"), "where.lsoa"),
        "types": charts.svg(charts.map_panels(sa.areas.merge(sa.by_type, on="lsoa_code"),
                                              [(f"gi_bin_{slug(t)}", term(t)) for t in sa.type_names], charts.GI_COLOURS, "Gi* bin"),
                            _("Maps of Gi* hot spots by crime type"), "where.hotspots_by_type"),
    }  # fmt: skip
    if sa.change is not None:
        maps["change"] = charts.svg(
            charts.categorical_map(g, "pattern_change", charts.CHANGE_COLOURS, _("Change in the pattern (Andresen SPPT)"),
                                   "this period against the previous (LSOAs)", outline=outline),
            _("Map of the spatial point pattern test"), "where.lsoa",
        )  # fmt: skip
    return maps


def _sppt_figures(f: FigureRegistry, change: PatternChange, d: AreaData, seed: int) -> dict[str, Markup]:
    """Andresen's S beside its no-change range, and the LSOAs the exact tests found changed."""
    params = SPPT | {"seed": seed, "base": d.previous.label, "test": d.period.label, "null_simulations": N_NULL,
                     "dispersion": round(change.dispersion, 3)}  # fmt: skip
    prev_inputs = INPUTS + ["police:previous"]
    two = lambda v: fmt_number(v, 2)  # noqa: E731
    spans = {
        "S": f.number("sppt_S", change.sppt.S, label=T("Andresen's S index"), fmt=two, inputs=prev_inputs, parameters=params,
                      definition=T("Share of LSOAs whose share of the previous period's records lies inside the 95% resampling interval of this period's share (1 = the same pattern).")),
        "S_robust": f.number("sppt_S_robust", change.sppt.S_robust, label=T("Robust S index"), fmt=two, inputs=prev_inputs,
                             parameters=params, definition=T("S over LSOAs with at least one record in either period.")),
        "S_expected": f.number("sppt_S_expected", change.S_expected, label=T("S expected with no change"), fmt=two,
                               inputs=prev_inputs, parameters=params, definition=T("Mean S of the same test when each LSOA's records of both periods are split between them at random "
                               "({n} times, beta-binomial with the period's share and the LSOA counts' over-dispersion phi).", n=N_NULL)),
        "S_low": f.number("sppt_S_low", change.S_low, label=T("S with no change: 2.5% point"), fmt=two, inputs=prev_inputs,
                          parameters=params, definition=T("2.5% quantile of the S of the same test when each LSOA's records of both periods are split between them at "
                          "random ({n} times, beta-binomial with the period's share and the LSOA counts' over-dispersion phi).", n=N_NULL)),
        "S_high": f.number("sppt_S_high", change.S_high, label=T("S with no change: 97.5% point"), fmt=two, inputs=prev_inputs,
                           parameters=params, definition=T("97.5% quantile of the S of the same test when each LSOA's records of both periods are split between them at "
                           "random ({n} times, beta-binomial with the period's share and the LSOA counts' over-dispersion phi).", n=N_NULL)),
        "higher": f.number("sppt_higher", change.n_higher, label=T("LSOAs with a higher share this period (exact test)"),
                           inputs=prev_inputs, parameters=params,
                           definition=T("LSOAs whose share of records rose by the dispersion-adjusted exact conditional binomial test, Benjamini-Hochberg q < 0.05.")),
        "lower": f.number("sppt_lower", change.n_lower, label=T("LSOAs with a lower share this period (exact test)"),
                          inputs=prev_inputs, parameters=params,
                          definition=T("LSOAs whose share of records fell by the dispersion-adjusted exact conditional binomial test, Benjamini-Hochberg q < 0.05.")),
    }  # fmt: skip
    # Only an S below its no-change range may be read as the pattern having moved.
    spans["verdict"] = (
        Markup(_("S is below that range: the pattern moved more than chance explains.")) if change.moved
        else Markup(_("S is not below that range: no evidence of a change in the pattern beyond chance."))
    )  # fmt: skip
    return spans


def _findings(sa: SmallAreas, fig: dict[str, Markup], sppt: dict[str, Markup] | None) -> list[Finding]:
    findings = [
        Finding(Markup(_("{} LSOAs are hot spots of recorded crime and ASB at 95% confidence or more, holding {} of all records.")).format(fig["n_hot"], fig["hot_share"]), rank=20),
        Finding(Markup(_("Crime is concentrated: the top 5% of LSOAs ({} LSOAs) hold {} of records, the top 10% hold {}.")).format(fig["top5_n"], fig["top5"], fig["top10"]), rank=21),
    ]  # fmt: skip
    # The emerging classes and S stay in the section; the summary counts the per-LSOA exact tests.
    if sppt and sa.change.n_changed:
        findings.append(
            Finding(Markup(_("Spatial pattern: exact tests find {} LSOAs with a higher share of records than in the previous period and {} with a lower share.")).format(
                sppt["higher"], sppt["lower"]), rank=23)
        )  # fmt: skip
    return findings


def _caveats() -> list[Markup]:
    return [
        Markup(
            _(
                "Hot spots and clusters are computed within the area only: LSOAs on its edge have fewer "
                "neighbours, so their statistics rest on less information (an edge effect)."
            )
        ),
        Markup(
            _(
                "Rates per resident are high where few people live but many visit (town centres, retail parks); "
                "hot spots are computed on counts, rates are smoothed, and both should be read together."
            )
        ),
        Markup(
            _(
                "Emerging hot-spot classes are computed on each LSOA's records relative to its own usual level: they "
                "show where a neighbourhood rose or fell together, not where it is simply busy (the Gi* hot spots "
                "show that)."
            )
        ),
    ]


def _method_notes(permutations: int) -> list[tuple[str, Markup]]:
    return [
        (
            _("Small-area rates"),
            Markup(
                _(
                    "Global Empirical Bayes (Marshall 1991): each LSOA's rate is shrunk towards the area rate, C_i = a / (a + b / n_i), more where the population is small."
                )
            ),
        ),
        (
            _("Hot spots"),
            Markup(
                _(
                    "Getis-Ord Gi* on LSOA counts with binary queen contiguity including the LSOA itself (esda G_Local, transform 'B', which equals the textbook formula); LSOAs with no contiguous neighbour are joined to the nearest. Significance comes from conditional randomisation, not from the normal approximation, because police.uk counts are skewed: each LSOA keeps its own count and its neighbours' counts are replaced by counts drawn without replacement from the other LSOAs, {} times with a fixed seed (the same draws esda makes for that seed; one permutation set shared by all LSOAs, as in esda). The two-sided pseudo p-value is esda's calculate_significance(alternative='two-sided'); the p-values are adjusted by Benjamini-Hochberg across the LSOAs and binned at q &le; 0.01/0.05/0.10 (99/95/90%). The smallest possible pseudo p-value is 3/(R+1), so 9,999 permutations let the adjusted threshold be reached on a few hundred LSOAs. The analytic z-score is kept as a column to show the strength of clustering. Calibration: on synthetic null data with the over-dispersion of real Gwent LSOA counts, the share of null areas with any hot or cold spot is in the calibration table below."
                )
            ).format(permutations),
        ),
        (
            _("Clusters of rates"),
            Markup(
                _(
                    "Local Moran's I for rates (esda Moran_Local_Rate) with Assuncao-Reis Empirical Bayes standardisation and row-standardised weights; two-sided pseudo p-values from the same conditional randomisation as Gi*, Benjamini-Hochberg adjusted, clusters at q &le; 0.05."
                )
            ),
        ),
        (
            _("Concentration"),
            Markup(
                _(
                    "The share of records in the ceil(5% x N) and ceil(10% x N) LSOAs with most records, N counting LSOAs with none; and the Gini coefficient."
                )
            ),
        ),
        (
            _("Emerging hot spots"),
            Markup(
                _(
                    "After ESRI's Emerging Hot Spot Analysis (ESRI, <em>How Emerging Hot Spot Analysis works</em>, ArcGIS Pro documentation, Space Time Pattern Mining toolbox): a space-time Getis-Ord Gi* on the LSOA x month cube, in which a bin's neighbours are the LSOA itself and its queen-contiguous LSOAs in the same month and the previous {} month(s) (ESRI's neighbourhood time step); the bins' p-values are adjusted together by Benjamini-Hochberg (ESRI applies the false discovery rate correction), a bin is hot or cold when q &lt; 0.05; the Mann-Kendall test of each LSOA's z-series gives the trend. Two departures from ESRI, both because its normal p-values on counts class every busy LSOA as a hot spot through its own months, with no cluster and no change (the calibration table: every no-change data set at real Gwent LSOA levels): the cube holds each LSOA-month's Pearson residual from the LSOA's own level and the month's overall level, (y - e) / sqrt(e) with e = LSOA total x month total / grand total; and a bin's significance comes from conditional randomisation, the LSOA keeping its own series and its neighbours' whole series replaced by other LSOAs' series ({} times), as the normal p-value of the bin's z against those draws. A hot spot here is therefore a neighbourhood with more records than its own usual level, at the same time. Classes, as ESRI defines them (hot versions; cold spots mirror them): new (hot in the final month, never before); consecutive (one uninterrupted run of at least two hot months ending in the final month, never hot before it, under 90% of months hot); intensifying, persistent, diminishing (hot in at least 90% of months including the final one, with a significant increasing, no, or a significant decreasing trend in z); sporadic (hot in the final month, on and off before, under 90% hot, never cold); oscillating (hot in the final month, cold in some earlier month, under 90% hot); historical (not hot in the final month, hot in at least 90% of months); otherwise no pattern detected."
                )
            ).format(EMERGING["time_lag"], min(permutations, EMERGING["permutations"])),
        ),
        (
            _("Spatial change"),
            Markup(
                _(
                    "Andresen's spatial point pattern test: this period's records are resampled (85%, 200 times, with replacement); an LSOA is similar when its share of the previous period's records lies within the 95% interval of its resampled share, and S is the share of similar LSOAs. S is never read on its own: {} times, each LSOA's records of both periods are split between the periods at random (given its records in both, its records this period are beta-binomial with the period's overall share and variance phi times the binomial's, phi the over-dispersion of the LSOA counts estimated from the month-to-month Pearson statistic within each period; phi = 1 is binomial) and the test re-run, giving the S expected with no change and its 95% range; the report says the pattern moved only when S is in the lowest 2.5% of those (Monte Carlo p of a low S at most 0.025). Splitting each LSOA's own records keeps the test exact under the model whatever the LSOAs' rates (the calibration table gives its false-positive rate). Which LSOAs changed comes from exact conditional binomial tests (given an LSOA's records in both periods, its records this period are binomial with the period's overall share), on counts divided by phi, Benjamini-Hochberg adjusted, q &lt; 0.05. Records of a 2011 LSOA shared between the 2021 LSOAs it split into are rounded to whole records for these tests."
                )
            ).format(N_NULL),
        ),
        (
            _("Calibration of the spatial tests"),
            Markup(
                _(
                    "The false-positive rates and powers of the hot-spot bins, the pattern-change test and the emerging hot-spot classes in the calibration table (calibration/space.csv, made by benchmarks/calibrate_space.py) come from synthetic data fitted to the real Gwent police.uk counts of 2023-07 to 2025-06 on the 374 Gwent LSOAs: counts are gamma-Poisson with variance phi times the mean (phi about 1.8, the month-to-month over-dispersion of real LSOA counts). Nulls: for Gi*, the real yearly LSOA counts shuffled over the map (no spatial structure); for the pattern change, both years drawn from the same LSOA shares and the real monthly totals; for emerging hot spots, a 12-month cube with every LSOA at its real mean level (shuffled over the map, or in its real place) times the real seasonality, with no change. A false positive is a data set with any finding (any LSOA binned at 95%+, S below its no-change range, any LSOA changed, any LSOA classed). Power: a new hot spot of five contiguous LSOAs with its mean raised. Under the same nulls the analytic Gi* p-values flag hot spots in nearly every data set, and ESRI's emerging classes on counts class LSOAs in every data set, which is why the bins use permutation p-values and the emerging classes residuals. With 374 LSOAs the Gi* bins have almost no power for a new hot spot of five LSOAs (the smallest pseudo p-value, 3/(R+1), must be reached by several LSOAs for the false discovery rate threshold to be crossed); a hot spot shown is real, but the absence of one says little."
                )
            ),
        ),
    ]


def build(ctx: Context) -> SectionOutput:
    d, f, o = ctx.data, ctx.figures, ctx.options
    sa = small_areas(d, o.permutations, o.seed)
    unit = rate_unit(d.period)
    g = sa.areas.merge(sa.lsoa.drop(columns=["lsoa_name"]), on="lsoa_code")
    gpkg = _lsoa_table(ctx, sa, g)
    fig = _hot_spot_figures(f, sa, o, _unit_text(d.period)) | _concentration_figures(f, sa)
    emerging = _emerging_figures(f, sa, d.period.n_months)
    type_gpkg = _type_hot_spots(ctx, sa)
    maps = _maps(sa, g, unit)
    sppt = _sppt_figures(f, sa.change, d, o.seed) if sa.change is not None else None
    html = ctx.render(
        "sections/where.html.j2",
        maps=maps,
        unit=unit,
        **fig,
        emerging=emerging,
        sppt=sppt,
        type_names=sa.type_names,
        permutations=o.permutations,
        top5_heading=_("top 5% share"),
        top10_heading=_("top 10% share"),
        gpkg=[gpkg, type_gpkg],
        fmt_count=fmt_count,
        fmt_number=fmt_number,
        fmt_pct=fmt_pct,
    )
    return SectionOutput(
        html=html,
        findings=_findings(sa, fig, sppt),
        caveats=_caveats(),
        methods=_method_notes(o.permutations),
        values={"lsoa": sa.lsoa, "concentration": sa.concentration},
    )


register(
    Section(
        id="where",
        title="Where: small areas",
        order=50,
        build=build,
        description="Smoothed rates, hot spots, clusters, concentration, emerging hot spots and spatial change.",
    )
)
