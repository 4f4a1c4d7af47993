"""Read models of the area: its LSOAs, wards (the PACT neighbourhoods) and residents by age."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from diogel.portal.read.attendance import AGE_BANDS


@dataclass
class AreaInfo:
    code: str
    name: str
    level: str


class Geography:
    """The areas the portal shows, their LSOAs, wards and residents (a part of
    :class:`~diogel.portal.views.WarehouseViews`, read through its cache)."""

    def membership(self) -> pd.DataFrame:
        from diogel.warehouse.geography import lsoa_membership

        return self.cached(("membership",), lambda: self.wh.execute(lsoa_membership(self.wh)))

    def areas(self) -> list[AreaInfo]:
        """Community safety partnerships with recorded crime, most crime first (the portal's areas)."""

        def compute() -> list[AreaInfo]:
            from diogel.warehouse.queries import counts

            if not self.wh.has("police_street"):
                return []
            c = counts(self.wh, ["csp"])
            c = c[c.csp.notna()].sort_values("count", ascending=False)
            m = self.membership().drop_duplicates("csp_code").set_index("csp_code")
            return [AreaInfo(code, str(m.loc[code, "csp_name"]), "csp") for code in c.csp if code in m.index]

        return self.cached(("areas",), compute)

    def area(self, code: str) -> AreaInfo:
        for a in self.areas():
            if a.code == code:
                return a
        raise KeyError(code)

    def lsoas21(self, area_code: str) -> pd.DataFrame:
        """The area's 2021 LSOAs with their 2024 ward: lsoa_code, ward_code, ward_name."""

        def compute() -> pd.DataFrame:
            m = self.membership()
            m = m[(m.csp_code == area_code) & (m.lsoa_vintage == 2021)]
            return (
                m[["lsoa_code", "ward_code", "ward_name"]].drop_duplicates("lsoa_code").reset_index(drop=True)
            )

        # Cached: every dashboard, meeting and public page asks, and filtering the all-Wales
        # membership each time cost more than the rest of the page.
        return self.cached(("lsoas21", area_code), compute)

    def welsh_wards(self) -> tuple[dict[str, str], dict[str, str]]:
        """Welsh ward names where the warehouse's ward lookup has them (``ward_name_cy``): by ward code,
        and by the English name where that name is one ward's (for tables keyed by ward name)."""

        def compute() -> tuple[dict[str, str], dict[str, str]]:
            m = self.membership()
            if "ward_name_cy" not in m.columns:
                return {}, {}
            w = m.dropna(subset=["ward_code", "ward_name_cy"]).drop_duplicates("ward_code")
            by_code = dict(zip(w["ward_code"].astype(str), w["ward_name_cy"].astype(str), strict=True))
            named = m.dropna(subset=["ward_name"]).drop_duplicates("ward_code")
            once = named[~named["ward_name"].duplicated(keep=False)]
            by_name = {
                str(n): by_code[str(c)]
                for n, c in zip(once["ward_name"], once["ward_code"], strict=True)
                if str(c) in by_code
            }
            return by_code, by_name

        return self.cached(("welsh_wards",), compute)

    def neighbourhoods(self, area_code: str) -> list[tuple[str, str]]:
        """Wards of the area (PACT neighbourhoods), by name."""

        def compute() -> list[tuple[str, str]]:
            w = self.lsoas21(area_code)[["ward_code", "ward_name"]].drop_duplicates().sort_values("ward_name")
            return list(w.itertuples(index=False, name=None))

        return list(self.cached(("neighbourhoods", area_code), compute))

    # -- population -----------------------------------------------------------------------------------
    def population_by_age(self, area_code: str) -> pd.DataFrame:
        """Latest mid-year population of the area's 2021 LSOAs by single year of age.

        The population estimates are on 2011 LSOAs; they are moved to 2021 LSOAs with
        :func:`diogel.warehouse.geography.harmonise` (apportioned by the 2011 population where an
        LSOA split), so they line up with 2024 wards.
        """

        def compute() -> pd.DataFrame:
            from diogel.warehouse.counting import counted
            from diogel.warehouse.geography import harmonise

            targets = set(self.lsoas21(area_code).lsoa_code)
            lookup = self.wh.execute(counted(self.wh, "lookup-lsoa11-lsoa21"))
            lookup = lookup[lookup.lsoa21_code.isin(targets)][["lsoa11_code", "lsoa21_code", "change_code"]]
            sources = set(lookup.lsoa11_code) | targets
            p = counted(self.wh, "population")
            year = self.wh.execute(p.year.max())
            p = p.filter((p.year == year) & p.lsoa_code.isin(list(sources)))
            pop = self.wh.execute(p.select("lsoa_code", "age", "persons"))
            pop = pop.groupby(["lsoa_code", "age"], as_index=False)["persons"].sum()
            out = harmonise(pop, 2021, lookup, value_columns=["persons"], by=["age"])
            out = out[out.lsoa_code.isin(targets)]
            out.attrs["year"] = int(year) if year is not None else None
            return out[["lsoa_code", "age", "persons"]].reset_index(drop=True)

        return self.cached(("population", area_code), compute)

    def ward_age_profile(self, area_code: str, ward_code: str) -> pd.Series:
        """Residents of a ward in each PACT age band."""
        lsoas = self.lsoas21(area_code)
        codes = set(lsoas.loc[lsoas.ward_code == ward_code, "lsoa_code"])
        pop = self.population_by_age(area_code)
        pop = pop[pop.lsoa_code.isin(codes)]
        out = {}
        for label, lo, hi in AGE_BANDS:
            sel = (pop.age >= lo) & ((pop.age <= hi) if hi is not None else True)
            out[label] = float(pop.loc[sel, "persons"].sum())
        return pd.Series(out)
