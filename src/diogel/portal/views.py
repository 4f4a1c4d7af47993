"""What the portal reads from the warehouse: dashboards, record and aggregate views, public tables.

Every figure comes from the warehouse through the counting rules (:mod:`diogel.warehouse.counting`)
and the analysis modules; nothing here re-implements a statistic. Results (the read models) are
cached per area and warehouse version, so fifty people opening the dashboard at once cost one
computation.

The portal does not keep the warehouse open (see :mod:`diogel.warehouse.access`): on the default
embedded DuckDB file each computation opens it read-only, reads, and closes it, and an upload opens
it read-write for as long as the ingest takes, so ``diogel ingest``, ``status`` and ``assess`` run
beside ``diogel serve``. The version moves when the file's change stamp moves (a commit by any
process, checked on every request at the cost of two ``stat`` calls), so the portal shows new data
as soon as an ingest commits; on PostgreSQL and Spark (one connection for the process) it is the
highest ingest sequence number, re-read every ``recheck_seconds``. While another process writes
(the file is locked), a page is answered from the read models computed before, if there are any,
and otherwise :class:`~diogel.warehouse.backends.WarehouseBusy` after a short wait (a 503 page).

A lock serialises the uses of the warehouse within the process, because an embedded DuckDB
connection must not be used by two threads at once and the file must not be open read-only and
read-write in one process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from diogel.analysis.representation import compare_profile
from diogel.errors import DiogelError
from diogel.portal.i18n import N_

POLICE = "police-street"

#: PACT attendee age bands (what neighbourhood officers record on the sign-in sheet).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under 18", 0, 17),
    ("18-24", 18, 24),
    ("25-34", 25, 34),
    ("35-44", 35, 44),
    ("45-54", 45, 54),
    ("55-64", 55, 64),
    ("65-74", 65, 74),
    ("75+", 75, None),
)
SEXES = ("female", "male", "other")
ETHNICITIES = ("white", "mixed", "asian", "black", "arab", "other")


@dataclass(frozen=True)
class Dataset:
    """A dataset the information sharing agreement talks about and how to ingest it."""

    name: str
    title: str
    source_kind: str
    options: dict[str, Any] = field(default_factory=dict)


def datasets() -> dict[str, Dataset]:
    """police.uk street-level crime always; partner datasets (``partner:<schema>``) once the warehouse
    has the ``partner`` source kind (``Warehouse.ingest("partner", path, options={"schema": ...})``)."""
    from diogel.sources.registry import kinds

    out = {POLICE: Dataset(POLICE, N_("police.uk street-level crime and ASB"), POLICE)}
    if "partner" in kinds():
        from diogel.sources.partner import load_schema, shipped_schemas

        for name in shipped_schemas():
            out[f"partner:{name}"] = Dataset(
                f"partner:{name}", load_schema(name).title, "partner", {"schema": name}
            )
    return out


# --------------------------------------------------------------------------------------------------
# Results


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


@dataclass
class AreaInfo:
    code: str
    name: str
    level: str


# --------------------------------------------------------------------------------------------------


#: After finding the warehouse locked by a writer, how long pages are answered from the read models
#: computed before without trying the file again.
BUSY_BACKOFF_SECONDS = 2.0


class WarehouseViews:
    """The portal's read (and upload) access to one warehouse.

    ``warehouse`` is an :class:`~diogel.warehouse.access.Access` (``ShortLived`` for an embedded
    DuckDB file, ``Held`` otherwise) or an open :class:`~diogel.warehouse.core.Warehouse` to use
    throughout (tests lend one). ``max_entries`` bounds the read-model cache (least recently used
    entries go first).
    """

    def __init__(self, warehouse, recheck_seconds: float = 30.0, max_entries: int = 256):  # noqa: ANN001
        from diogel.warehouse.access import Access, Held

        self.access: Access = warehouse if isinstance(warehouse, Access) else Held(warehouse)
        self.lock = threading.RLock()
        self.recheck_seconds = recheck_seconds
        self.max_entries = max_entries
        self._open = None  # the warehouse open in the thread holding the lock, if any
        self._signature: Any = None
        self._signature_lock = threading.Lock()
        self._generation = 0
        self._version: int | None = None
        self._checked = 0.0
        self._busy_until = 0.0  # after finding a writer, answer from older read models until then
        # key -> (version it was computed at, value); kept past a version change so that a page can
        # still be answered while another process holds the warehouse for writing.
        self._cache: OrderedDict[tuple, tuple[int, Any]] = OrderedDict()

    # -- the warehouse connection --------------------------------------------------------------------
    @property
    def wh(self):  # noqa: ANN201
        """The warehouse open for the current computation (inside :meth:`reading`)."""
        if self._open is None:
            from diogel.warehouse.access import Held

            if isinstance(self.access, Held):
                return self.access.warehouse
            raise RuntimeError("WarehouseViews.wh used outside 'with views.reading()'")
        return self._open

    @contextlib.contextmanager
    def reading(self, wait: float | None = None) -> Iterator[Any]:
        """The warehouse, open read-only for the duration (re-entrant: nested uses share it).

        ``wait``: seconds to wait for another process that is writing (None: the access's default).
        """
        with self.lock:
            if self._open is not None:
                yield self._open
                return
            with self.access.reading(wait) as wh:
                self._open = wh
                try:
                    yield wh
                finally:
                    self._open = None

    # -- versioning and cache ----------------------------------------------------------------------
    def version(self) -> int:
        """A number that moves on whenever the warehouse may have changed."""
        signature = self.access.signature()
        if signature is not None:
            if signature != self._signature:
                # Not self.lock: a page whose read model is cached must not wait for a computation.
                with self._signature_lock:
                    if signature != self._signature:
                        self._signature = signature
                        self._generation += 1
            return self._generation
        now = time.monotonic()
        if self._version is None or now - self._checked > self.recheck_seconds:
            with self.reading() as wh:
                t = wh.table("source_file")
                v = wh.execute(t.seq.max())
                self._version = self._generation + (0 if v is None or pd.isna(v) else int(v))
                self._checked = now
        return self._version

    def invalidate(self) -> None:
        with self.lock:
            self._version = None
            self._generation += 1
            self._cache.clear()

    def cached(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per warehouse version, with the warehouse open for it.

        If another process holds the warehouse for writing, the value computed at an earlier
        version is returned at once (the page is a few moments behind, never an error), and for
        :data:`BUSY_BACKOFF_SECONDS` no request tries the file again; without an earlier value the
        read waits (:data:`~diogel.warehouse.access.READ_WAIT_SECONDS`), then
        :class:`~diogel.warehouse.backends.WarehouseBusy` propagates.
        """
        from diogel.warehouse.backends import WarehouseBusy

        version = self.version()
        hit = self._cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        with self.lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
            if hit is not None and time.monotonic() < self._busy_until:
                return hit[1]
            try:
                # With an older value to fall back on, a writer is not waited for.
                with self.reading(wait=0.0 if hit is not None else None):
                    value = compute()
            except WarehouseBusy:
                self._busy_until = time.monotonic() + BUSY_BACKOFF_SECONDS
                if hit is None:
                    raise
                return hit[1]
            self._cache[key] = (version, value)
            self._cache.move_to_end(key)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return value

    # -- geography ----------------------------------------------------------------------------------
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

    # -- counts ----------------------------------------------------------------------------------------
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

    # -- dashboard --------------------------------------------------------------------------------------
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
            lsoa = self._lsoa_frame(area_code, months[-12:])
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

        lsoa = self._lsoa_frame(area_code, last12)
        hot = self._hotspots(area_code, lsoa)
        svg = choropleth_svg(self._geometry(area_code), lsoa.set_index("lsoa_code"), hot)
        hotspots = (
            hot[hot.bin.str.startswith("Hot spot")]
            .sort_values("z", ascending=False)
            .head(10)
            .reset_index()
            .rename(columns={"area": "lsoa_code"})
            .merge(lsoa[["lsoa_code", "ward_name", "count", "rate_per_1000"]], on="lsoa_code", how="left")
        )
        return Dashboard(
            area_code=area.code,
            area_name=area.name,
            months=months,
            window=words,
            trends=trends,
            map_svg=svg,
            hotspots=hotspots[["lsoa_code", "ward_name", "count", "rate_per_1000", "z", "bin"]].to_dict(
                "records"
            ),
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

    def _lsoa_frame(self, area_code: str, months: list[str]) -> pd.DataFrame:
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

    # -- levels of access to police.uk data ----------------------------------------------------------
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

    # -- ingest --------------------------------------------------------------------------------------
    def ingest(self, dataset: Dataset, path: str, supplier: str | None = None) -> list:
        """Ingest an uploaded file through the warehouse's own validation and de-personalisation.

        ``supplier`` (the uploading agency) keys a partner file's slices, so two agencies' files of
        one dataset never replace each other, and an agency's later file of the same months is
        guarded like ``diogel ingest partner --supplier``. The warehouse is opened read-write for
        the ingest alone (waiting, if the command line is using it, up to ``DIOGEL_LOCK_WAIT``
        seconds, then :class:`~diogel.warehouse.backends.WarehouseBusy`)."""
        options = dict(dataset.options)
        if supplier and dataset.source_kind == "partner":
            options["supplier"] = supplier
        with self.lock, self.access.writing() as wh:
            results = wh.ingest(dataset.source_kind, path, options=options or None)
        if any(r.status == "loaded" for r in results):
            self.invalidate()  # a refused or repeated file changes nothing, so the cache stays
        return results

    def quarantine(self, file_ids: list[str]) -> pd.DataFrame:
        if not file_ids:
            return pd.DataFrame(columns=["file_name", "line", "column_name", "reason", "raw"])
        with self.reading():
            t = self.wh.table("quarantine")
            t = t.filter(t.file_id.isin(file_ids)).order_by(["file_name", "line"])
            return self.wh.execute(t.select("file_name", "line", "column_name", "reason", "raw"))


# --------------------------------------------------------------------------------------------------
# The map


#: Five sequential classes (ColorBrewer YlOrRd), light to dark: readable in greyscale print too.
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")


def choropleth_svg(  # noqa: ANN001
    gdf, values: pd.DataFrame, hot: pd.DataFrame, width: int = 640, labelledby: str = "map-words"
) -> str:
    """An inline SVG map of LSOAs shaded by rate per 1,000 (quintiles), hot spots outlined; its
    accessible name is the page's element ``labelledby`` (the map in words, in the page's language).

    Coordinates are longitude/latitude scaled by cos(latitude) (an equirectangular projection is
    exact enough over one county), simplified to about 20 m so the page stays small.
    """
    if gdf is None or len(gdf) == 0:
        return ""
    from xml.sax.saxutils import escape

    geoms = gdf.geometry.simplify(0.0002, preserve_topology=True)
    minx, miny, maxx, maxy = gdf.total_bounds
    k = math.cos(math.radians((miny + maxy) / 2))
    w_units, h_units = (maxx - minx) * k, (maxy - miny)
    scale = width / w_units if w_units else 1.0
    height = int(round(h_units * scale))
    rates = values["rate_per_1000"].reindex(gdf.lsoa_code)
    finite = rates.dropna()
    cuts = np.quantile(finite, [0.2, 0.4, 0.6, 0.8]) if len(finite) >= 5 else np.array([])
    hot_set = set(hot.index[hot.bin.astype(str).str.startswith("Hot spot")]) if len(hot) else set()

    def ring(coords) -> str:  # noqa: ANN001
        pts = [f"{(x - minx) * k * scale:.1f},{(maxy - y) * scale:.1f}" for x, y in coords]
        return "M" + "L".join(pts) + "Z"

    def path(geom) -> str:  # noqa: ANN001
        polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
        return "".join(ring(p.exterior.coords) + "".join(ring(i.coords) for i in p.interiors) for p in polys)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="choropleth" aria-labelledby="{labelledby}">'
    ]
    outlines = []
    for code, name, geom in zip(gdf.lsoa_code, gdf.lsoa_name, geoms, strict=True):
        r = rates.get(code)
        if r is None or pd.isna(r):
            fill = "#dddddd"
            label = "no population"
        else:
            fill = PALETTE[int(np.searchsorted(cuts, r, side="right"))] if len(cuts) else PALETTE[2]
            label = f"{r:,.1f} per 1,000"
        title = escape(f"{name} ({code}): {label}" + (" - hot spot" if code in hot_set else ""))
        d = path(geom)
        parts.append(
            f'<path d="{d}" fill="{fill}" stroke="#666" stroke-width="0.4" data-lsoa="{code}"><title>{title}</title></path>'
        )
        if code in hot_set:
            outlines.append(f'<path d="{d}" fill="none" stroke="#000" stroke-width="2" class="hotspot"/>')
    parts.extend(outlines)
    parts.append("</svg>")
    return "".join(parts)


def legend(values: pd.Series) -> list[tuple[str, str]]:
    finite = values.dropna()
    if len(finite) < 5:
        return []
    cuts = np.quantile(finite, [0.2, 0.4, 0.6, 0.8])
    edges = [finite.min(), *cuts, finite.max()]
    return [(PALETTE[i], f"{edges[i]:,.0f}-{edges[i + 1]:,.0f}") for i in range(5)]


# --------------------------------------------------------------------------------------------------
# PACT representativeness


@dataclass
class Representation:
    """How a meeting's attendees compare with the neighbourhood's residents, by age band."""

    bands: list[dict[str, Any]]  # band, attendees, attendee_share, resident_share, ratio
    recorded: int
    simulations: int
    dissimilarity: float  # half the sum of |share differences|: the share who would have to change band
    p_value: float
    unrepresentative: bool
    note: str


def representation(
    attendees: dict[str, int], residents: pd.Series, simulations: int = 20000, seed: int = 20240701
) -> Representation | None:
    """Compare recorded attendee ages with residents aged the same.

    The test statistic is Pearson's chi-square of the attendee counts against the residents'
    shares; its p-value is estimated by simulating ``simulations`` meetings of the same size drawn
    at random from the residents (multinomial), because a meeting of a dozen people is far too small
    for the chi-square approximation. A meeting is flagged unrepresentative when p < 0.05 and the
    dissimilarity index is at least 0.25. Only adults are compared: PACT meetings are adult forums,
    and counting children among the residents would flag every meeting; under-18 attendees are
    shown on the meeting but not tested.
    """
    compared = [b for b, lo, _ in AGE_BANDS if lo >= 18]
    residents = residents.reindex(compared).fillna(0)
    c = compare_profile({b: attendees.get(b, 0) or 0 for b in compared},
                        {b: float(residents[b]) for b in compared}, simulations=simulations, seed=seed)  # fmt: skip
    if c is None:
        return None
    n, p, dissim, flagged = c.recorded, c.p_value, c.dissimilarity, c.unrepresentative
    bands = [
        {
            "band": r["group"],
            "attendees": r["attendees"],
            "attendee_share": r["attendee_share"],
            "resident_share": r["resident_share"],
            "ratio": r["attendee_share"] / r["resident_share"] if r["resident_share"] > 0 else float("nan"),
        }
        for r in c.groups
    ]
    return Representation(
        bands=bands,
        recorded=n,
        simulations=simulations,
        dissimilarity=dissim,
        p_value=p,
        unrepresentative=flagged,
        note=(
            f"{n} adult attendees with a recorded age compared with residents of the same ages; "
            f"p = {p:.3f} by {simulations:,} simulated meetings; dissimilarity {dissim:.0%}."
        ),
    )


def parse_month(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(value, "%Y-%m").strftime("%Y-%m")
    except ValueError:
        raise DiogelError(f"a month must be YYYY-MM, not {value!r}") from None
