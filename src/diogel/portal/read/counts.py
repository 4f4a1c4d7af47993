"""Read models of recorded crime at each level of the agreement: monthly counts by LSOA, the trend
windows, records, counts by LSOA and the suppressed ward table."""

from __future__ import annotations

import pandas as pd


class Counts:
    """police.uk counts of an area (a part of :class:`~diogel.portal.views.WarehouseViews`, read through its cache)."""

    def monthly(self, area_code: str) -> pd.DataFrame:
        """Counts by LSOA, month and crime type in the area (police.uk, counting rules)."""

        def compute() -> pd.DataFrame:
            from diogel.warehouse.queries import counts

            df = counts(self.wh, ["lsoa", "month", "crime_type"], area=area_code)
            return df.rename(columns={"lsoa": "lsoa_code"})

        return self.cached(("monthly", area_code), compute)

    def window_bounds(self, area_code: str) -> tuple[str, str, str, str] | None:
        """(first, last month now; first, last month before) of the headline trends, for a page to
        put in words in its own language; None when there is no earlier window."""
        _, current, previous, _ = self.windows(area_code)
        return (current[0], current[-1], previous[0], previous[-1]) if previous else None

    def windows(self, area_code: str) -> tuple[list[str], list[str], list[str], str]:
        """(all months, current window, previous window, description) for headline trends."""
        months = sorted(self.monthly(area_code).month.unique())
        if not months:
            return [], [], [], ""
        span = 12 if len(months) >= 24 else max(1, len(months) // 2)
        current, previous = months[-span:], months[-2 * span : -span]
        words = f"{current[0]} to {current[-1]} against {previous[0]} to {previous[-1]}" if previous else ""
        return months, current, previous, words

    def lsoa_frame(self, area_code: str, months: list[str]) -> pd.DataFrame:
        """Per 2021 LSOA of the area: count over ``months`` (2011 codes moved to 2021), population, rate."""
        return self.cached(
            ("lsoa", area_code, tuple(months)), lambda: self._lsoa_frame_compute(area_code, months)
        )

    def _lsoa_frame_compute(self, area_code: str, months: list[str]) -> pd.DataFrame:
        from diogel.warehouse.counting import counted
        from diogel.warehouse.geography import harmonise

        monthly = self.monthly(area_code)
        c = monthly[monthly.month.isin(months)].groupby("lsoa_code", as_index=False)["count"].sum()
        lookup = self.wh.execute(counted(self.wh, "lookup-lsoa11-lsoa21"))
        c = harmonise(c, 2021, lookup[["lsoa11_code", "lsoa21_code", "change_code"]], value_columns=["count"])
        lsoas = self.lsoas21(area_code)
        pop = self.population_by_age(area_code).groupby("lsoa_code", as_index=False)["persons"].sum()
        out = lsoas.merge(c[["lsoa_code", "count"]], on="lsoa_code", how="left").merge(
            pop.rename(columns={"persons": "population"}), on="lsoa_code", how="left"
        )
        out["count"] = out["count"].fillna(0).round().astype(int)
        out["rate_per_1000"] = 1000.0 * out["count"] / out["population"].where(out["population"] > 0)
        return out

    def records(
        self,
        area_code: str,
        month: str | None = None,
        crime_type: str | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> tuple[pd.DataFrame, int]:
        """Record-level rows (one per crime or ASB incident) in the area: (page, total rows)."""
        from diogel.warehouse.counting import crimes

        codes = list(self.membership().query("csp_code == @area_code").lsoa_code.unique())
        with self.reading():
            t = crimes(self.wh)
            t = t.filter(t.lsoa_code.isin(codes))
            if month:
                t = t.filter(t.month.strftime("%Y-%m") == month)
            if crime_type:
                t = t.filter(t.crime_type == crime_type)
            total = int(self.wh.execute(t.count()))
            page = t.select(
                month=t.month.strftime("%Y-%m"),
                crime_type=t.crime_type,
                lsoa_code=t.lsoa_code,
                location=t.location,
                last_outcome=t.last_outcome,
                crime_id=t.crime_id,
            ).order_by(["month", "lsoa_code", "crime_type", "crime_id"])
            rows = self.wh.execute(page.limit(limit, offset=offset))
            # ASB has no crime ID: give templates and JSON a None, not a float NaN.
            return rows.astype(object).where(rows.notna(), None), total

    def lsoa_counts(self, area_code: str) -> pd.DataFrame:
        """Counts by LSOA (as recorded) and crime type over the last 12 months: no suppression."""
        months = self.windows(area_code)[0][-12:]
        m = self.monthly(area_code)
        out = m[m.month.isin(months)].groupby(["lsoa_code", "crime_type"], as_index=False)["count"].sum()
        return out.sort_values(["lsoa_code", "crime_type"]).reset_index(drop=True)

    def ward_table(self, area_code: str) -> tuple[pd.DataFrame, str, list[str]]:
        """Counts by ward and crime type over the last 12 months with small-number suppression.

        Returns (table with a Total row and column, NA where suppressed; the rule sentence; months).
        """

        def compute() -> tuple[pd.DataFrame, str, list[str]]:
            from diogel.disclosure import suppress

            months = self.windows(area_code)[0][-12:]
            m = self.monthly(area_code)
            m = m[m.month.isin(months)]
            wards = self.membership()[["lsoa_code", "ward_name"]].drop_duplicates("lsoa_code")
            m = m.merge(wards, on="lsoa_code", how="left")
            m["ward_name"] = m["ward_name"].fillna("(no ward)")
            wide = m.pivot_table(
                index="ward_name", columns="crime_type", values="count", aggfunc="sum", fill_value=0
            )
            wide["Total"] = wide.sum(axis=1)
            wide.loc["Total"] = wide.sum(axis=0)
            result = suppress(wide.astype(int), margins=True)  # the package threshold (diogel.disclosure)
            return result.table, result.rule, months

        return self.cached(("wards", area_code), compute)
