"""The dashboard's read model: headline trends, the map of rates, hot spots, next quarter's forecast
and candidate priorities, cached per area (the priorities also per PACT epoch)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from diogel.portal.read.maps import choropleth_svg


@dataclass
class Trend:
    label: str
    current: int
    previous: int
    percent_change: float
    p_value: float
    significant: bool
    series: list[int]


@dataclass
class Dashboard:
    area_code: str
    area_name: str
    months: list[str]
    window: str  # what the trend compares, in words
    trends: list[Trend]
    map_svg: str
    hotspots: list[dict[str, Any]]
    priorities: list[dict[str, Any]]
    lsoa_count: int
    total_12m: int
    computed_at: str


class Dashboards:
    """The dashboard of an area (a part of :class:`~diogel.portal.views.WarehouseViews`, read through its cache)."""

    def dashboard(
        self,
        area_code: str,
        pact: Callable[[], pd.DataFrame | None] | pd.DataFrame | None = None,
        pact_stamp: Any = None,
    ) -> Dashboard:
        """The area dashboard. The map, trends and hot spots depend on the warehouse only; the
        priorities also on PACT votes, so they are cached under ``pact_stamp`` separately and a new
        meeting re-scores them without redrawing the map. ``pact`` may be a function giving the
        votes, so they are read only when the priorities are scored again, not on every visit."""
        base = self.cached(("dashboard", area_code), lambda: self._dashboard(area_code))

        def score() -> list[dict[str, Any]]:
            months, current, previous, _ = self.windows(area_code)
            lsoa = self.lsoa_frame(area_code, months[-12:])
            votes = pact() if callable(pact) else pact
            return self._priorities(area_code, self.monthly(area_code), lsoa, current, previous, votes)

        priorities = self.cached(("priorities", area_code, pact_stamp), score)
        return dataclasses.replace(base, priorities=priorities)

    def _dashboard(self, area_code: str) -> Dashboard:
        from diogel.analysis.trends import compare_monthly_family

        area = self.area(area_code)
        monthly = self.monthly(area_code)
        months, current, previous, words = self.windows(area_code)
        last12 = months[-12:]
        trends: list[Trend] = []
        by_type = monthly.groupby(["crime_type", "month"])["count"].sum().unstack(fill_value=0)
        by_type = by_type.reindex(columns=months, fill_value=0)
        rows = [("All crime and ASB", by_type.sum(axis=0))] + [
            (ct, by_type.loc[ct]) for ct in by_type.sum(axis=1).sort_values(ascending=False).index
        ]
        # The report's test: quasi-Poisson on paired months, Benjamini-Hochberg across the rows.
        family = (
            compare_monthly_family({lb: (sr[current], sr[previous]) for lb, sr in rows}) if previous else None
        )
        for label, series in rows:
            cur = int(series[current].sum())
            prev = int(series[previous].sum()) if previous else 0
            if previous and cur + prev > 0:
                cmp = family.loc[label]
                pct, p, sig = float(cmp.percent_change), float(cmp.p_value), bool(cmp.significant)
            else:
                pct, p, sig = float("nan"), float("nan"), False
            trends.append(Trend(label, cur, prev, pct, p, sig, [int(v) for v in series.tolist()]))

        lsoa = self.lsoa_frame(area_code, last12)
        hot = self._hotspots(area_code, lsoa)
        svg = choropleth_svg(self._geometry(area_code), lsoa.set_index("lsoa_code"), hot)
        hotspots = (
            hot[hot.bin.str.startswith("Hot spot")]
            .sort_values("z", ascending=False)
            .head(10)
            .reset_index()
            .rename(columns={"area": "lsoa_code"})
            .merge(
                lsoa[["lsoa_code", "ward_code", "ward_name", "count", "rate_per_1000"]],
                on="lsoa_code",
                how="left",
            )
        )
        return Dashboard(
            area_code=area.code,
            area_name=area.name,
            months=months,
            window=words,
            trends=trends,
            map_svg=svg,
            hotspots=hotspots[
                ["lsoa_code", "ward_code", "ward_name", "count", "rate_per_1000", "z", "bin"]
            ].to_dict("records"),
            priorities=[],
            lsoa_count=len(lsoa),
            total_12m=int(monthly[monthly.month.isin(last12)]["count"].sum()),
            computed_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )

    def where_next(self, area_code: str):  # noqa: ANN201
        """Next quarter's hot-spot forecast with its evaluation (:mod:`diogel.portal.where_next`),
        computed once per warehouse version, so an ingest redraws it."""

        def compute():  # noqa: ANN202
            from diogel.portal.where_next import compute as forecast
            from diogel.warehouse.counting import counted

            lookup = self.wh.execute(counted(self.wh, "lookup-lsoa11-lsoa21"))
            lookup = lookup[["lsoa11_code", "lsoa21_code", "change_code"]]
            return forecast(
                self.monthly(area_code), lookup, self._geometry(area_code), self.lsoas21(area_code)
            )

        return self.cached(("where_next", area_code), compute)

    def _geometry(self, area_code: str):  # noqa: ANN202
        def compute():  # noqa: ANN202
            import geopandas as gpd
            import shapely

            codes = list(self.lsoas21(area_code).lsoa_code)
            b = self.wh.table("lsoa_boundaries")
            b = b.filter((b.lsoa_vintage == 2021) & b.lsoa_code.isin(codes))
            df = self.wh.execute(b.select("lsoa_code", "lsoa_name", "geometry"))
            df = df.drop_duplicates("lsoa_code")
            geom = shapely.from_wkb(df.geometry.map(bytes).tolist())
            return gpd.GeoDataFrame(df.drop(columns="geometry"), geometry=geom, crs="EPSG:4326")

        return self.cached(("geometry", area_code), compute)

    def _hotspots(self, area_code: str, lsoa: pd.DataFrame) -> pd.DataFrame:
        from diogel.analysis.hotspots import contiguity_weights, gi_star

        gdf = self._geometry(area_code)
        gdf = gdf[gdf.lsoa_code.isin(lsoa.lsoa_code)].reset_index(drop=True)
        if len(gdf) < 3:
            return pd.DataFrame(
                columns=["value", "z", "p", "p_sim", "q", "bin"], index=pd.Index([], name="area")
            )
        w = contiguity_weights(gdf, "lsoa_code")
        # Gi* on rates would let small populations dominate; counts are what a patrol plan targets.
        values = lsoa.set_index("lsoa_code")["count"].reindex(gdf.lsoa_code).fillna(0).astype(float)
        if np.allclose(values, values.iloc[0]):
            return pd.DataFrame(
                columns=["value", "z", "p", "p_sim", "q", "bin"], index=pd.Index([], name="area")
            )
        return gi_star(values, w)  # the report's bins: permutation p-values, FDR

    def _priorities(
        self,
        area_code: str,
        monthly: pd.DataFrame,
        lsoa: pd.DataFrame,
        current: list[str],
        previous: list[str],
        pact: pd.DataFrame | None,
    ) -> list[dict[str, Any]]:
        from diogel.analysis.concentration import top_share
        from diogel.analysis.priorities import community_concern, score_priorities

        population = float(lsoa.population.sum())
        cur = monthly[monthly.month.isin(current)]
        prev = monthly[monthly.month.isin(previous)]
        years = len(current) / 12.0
        weights = self._harm_weights()
        shares = pd.Series(dtype=float)
        if pact is not None and not pact.empty:
            shares = community_concern(pact).by_crime_type.set_index("crime_type")["share"]
        rows = []
        lsoa_codes = list(lsoa.lsoa_code)
        for ct, part in cur.groupby("crime_type"):
            n = float(part["count"].sum())
            p = float(prev.loc[prev.crime_type == ct, "count"].sum()) if previous else float("nan")
            per_lsoa = part.groupby("lsoa_code")["count"].sum().reindex(lsoa_codes, fill_value=0)
            rows.append(
                {
                    "crime_type": ct,
                    "rate_per_1000": 1000.0 * n / population / years if population else float("nan"),
                    "trend_pct_change": 100.0 * (n - p) / p if p and p > 0 else float("nan"),
                    "top10_share": top_share(per_lsoa.to_numpy(), 0.10)[1]
                    if per_lsoa.sum()
                    else float("nan"),
                    "css_harm_per_1000": (
                        1000.0 * n * weights.get(ct, float("nan")) / population / years
                        if population
                        else float("nan")
                    ),
                    "community_vote_share": float(shares.get(ct, 0.0)),
                    # Partner judgements (vulnerability, capacity to influence) are not in the
                    # warehouse; score_priorities scores them 0 and says so in the reasons.
                    "vulnerability_rating": float("nan"),
                    "capacity_rating": float("nan"),
                }
            )
        if not rows:
            return []
        measures = pd.DataFrame(rows)
        # Anti-social behaviour has no CSS weight; scoring it 0 on harm would be a statement that it
        # causes no harm, so the harm criterion is left missing (scored 0 with that reason).
        scored = score_priorities(measures, allow_missing=True)
        return (
            scored[["rank", "crime_type", "total", "max_total", "total_pct", "reasons"]]
            .head(10)
            .to_dict("records")
        )

    def _harm_weights(self) -> dict[str, float]:
        """Median ONS Crime Severity Score weight per police.uk crime type (the harm module's default
        method), from the harm weights table in the warehouse."""

        def compute() -> dict[str, float]:
            from diogel.analysis.harm import policeuk_type
            from diogel.warehouse.counting import counted

            if not self.wh.has("harm_weights"):
                return {}
            hw = self.wh.execute(
                counted(self.wh, "harm-weights").select("policeuk_category", "offence_code", "weight")
            )
            hw["crime_type"] = hw.policeuk_category.map(policeuk_type)
            hw = hw.dropna(subset=["crime_type", "weight"]).drop_duplicates(["crime_type", "offence_code"])
            return hw.groupby("crime_type")["weight"].median().to_dict()

        return self.cached(("harm",), compute)
