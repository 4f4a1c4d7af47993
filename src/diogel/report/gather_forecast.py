"""What ``diogel forecast`` reads: one area's counts, boundaries and deprivation, nothing national.

:func:`diogel.report.gather.gather` reads everything a strategic assessment needs, including the
force's monthly counts and the comparator areas, and evaluates the counting rules over every
police.uk row of the warehouse once per process; on a national warehouse that is most of the cost
of a forecast for one CSP. A forecast needs only the area's records, so here the counting rules are
applied to the area's rows alone (:func:`diogel.warehouse.counting.counted_in_lsoas`: the same rows,
ranking only the Crime IDs the area holds), and the months loaded are read from the registry of
files in force, not from counted rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from diogel.errors import DiogelError
from diogel.gather.police import Period, membership_frame, partnership_area, same_force
from diogel.gather.reference import deprivation_by_lsoa, lookup_1121, lsoa_boundaries, population_by_lsoa
from diogel.warehouse.counting import counted_in_lsoas, in_force
from diogel.warehouse.geography import harmonise

__all__ = ["ForecastArea", "gather_forecast"]


@dataclass
class ForecastArea:
    """One area's inputs to a forecast (the fields of :class:`~diogel.report.gather.AreaData` it uses)."""

    code: str
    name: str
    reporters: list[str]
    months_loaded: list[pd.Timestamp]
    crimes: pd.DataFrame  # lsoa_code (2021), month, crime_type, reported_by, count
    boundaries: gpd.GeoDataFrame
    deprivation: pd.DataFrame


def _area(wh, area: str) -> tuple[str, str, pd.DataFrame, list[str]]:  # noqa: ANN001
    """(code, name, the area's 2021 LSOA rows, every LSOA code of the area in either vintage)."""
    level, code, name = partnership_area(wh, area, "a forecast")
    membership = membership_frame(wh)
    in_area = membership[membership[f"{level}_code"] == code]
    if in_area[in_area["lsoa_vintage"] == 2021].empty:
        raise DiogelError(
            f"{name} ({code}) has no 2021 LSOAs in the loaded lookups: load an LSOA21 -> ward -> LA lookup"
        )
    return code, name, in_area, sorted(in_area["lsoa_code"].unique())


def gather_forecast(wh, area: str, end: pd.Timestamp, progress=None) -> ForecastArea:  # noqa: ANN001
    """Read the area's police.uk counts up to ``end`` (2021 LSOAs), its boundaries and deprivation.

    The same counts, reporters and months as :func:`~diogel.report.gather.gather` for a period
    ending at ``end``, and the same errors when the area, its records or its boundaries are missing.
    """
    say = progress or (lambda _s: None)
    say("finding the area")
    code, name, in_area, area_codes = _area(wh, area)
    nation = code[0]
    forces = sorted({str(f) for f in in_area["force_name"].dropna().unique()})
    unit_codes = set(in_area.loc[in_area["lsoa_vintage"] == 2021, "lsoa_code"])
    lookup, _ = lookup_1121(wh)

    say("counting police.uk records")
    end = pd.Timestamp(end)
    t = counted_in_lsoas(wh, "police-street", area_codes, end.date())
    rows = wh.execute(
        t.group_by(["lsoa_code", "month", "crime_type", "reported_by"]).aggregate(count=t.count())
    )
    if rows.empty:
        raise DiogelError(
            f"no police.uk records in {name} ({code}) up to {end:%Y-%m}: ingest the police.uk street files "
            "of the force that covers it"
        )
    rows["month"] = pd.to_datetime(rows["month"])
    slices = wh.execute(in_force(wh, "police-street").select("slice_key"))["slice_key"]
    by_force = slices.str.rsplit("|", n=1, expand=True).set_axis(["force", "month"], axis=1)
    loaded_by = sorted(by_force["force"].unique())
    reporters = [r for r in loaded_by if any(same_force(r, f) for f in forces)]
    if forces and not reporters:
        raise DiogelError(
            f"the warehouse has no police.uk data from {' or '.join(forces)}, the force that covers "
            f"{name}: ingest its street files"
        )
    if not reporters:
        reporters = [str(rows.groupby("reported_by")["count"].sum().idxmax())]
    months = pd.to_datetime(by_force.loc[by_force["force"].isin(reporters), "month"] + "-01")
    months_loaded = sorted(m for m in set(months) if m <= end)

    keys = ["month", "crime_type", "reported_by"]
    old = rows[~rows["lsoa_code"].isin(unit_codes)]
    counts = rows[rows["lsoa_code"].isin(unit_codes)]
    if len(old):
        h = harmonise(old, 2021, lookup, value_columns=["count"], by=keys)
        counts = pd.concat([counts, h[h["lsoa_code"].isin(unit_codes)].drop(columns="apportioned")])
    counts = counts.groupby(["lsoa_code", *keys], as_index=False, dropna=False)["count"].sum()

    say("reading deprivation and boundaries")
    population, *_ = population_by_lsoa(wh, nation, Period(end, end))
    deprivation, *_ = deprivation_by_lsoa(wh, nation, population, lookup, unit_codes)
    boundaries, *_ = lsoa_boundaries(wh, unit_codes, nation)
    if len(boundaries) < len(unit_codes):
        missing = sorted(unit_codes - set(boundaries["lsoa_code"]))
        raise DiogelError(
            f"no 2021 boundaries for {len(missing)} LSOA(s) of {name}, e.g. {missing[0]}: ingest LSOA 2021 boundaries"
        )
    return ForecastArea(
        code=code,
        name=name,
        reporters=reporters,
        months_loaded=[pd.Timestamp(m) for m in months_loaded],
        crimes=counts.sort_values(["lsoa_code", "month", "crime_type"]).reset_index(drop=True),
        boundaries=boundaries,
        deprivation=deprivation,
    )
