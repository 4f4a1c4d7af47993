"""The partner gatherer: partner data out of the warehouse for an area and a period, disclosure-controlled.

Partner records stay inside the warehouse boundary: :func:`partner_records` (record level) is for
analysis code running beside the warehouse, never for publication. What may leave, in a report, a
portal page or a CSV, comes from :func:`gather_partner` (counts by LSOA and month, totals, the recent
trend) and :func:`gather_cardiff` (the Cardiff Model view); both suppress small counts with
:mod:`diogel.disclosure` before returning:

* primary suppression: an ED, fire, ambulance... count from 1 to ``threshold - 1`` is hidden
  (``threshold`` is the largest ``disclosure_threshold`` of the schemas the rows were loaded under, 5 in
  every shipped schema; a caller may raise it, never lower it); zeros are shown;
* secondary suppression in every table, so that no hidden count can be recovered from the row and
  column totals (which are published alongside: month totals, LSOA totals);
* every share or rate built on a hidden count is hidden too; counts in sentences are written
  "fewer than 5".

Police-recorded figures (police.uk) are public and are not suppressed.

Areas are by LSOA membership (:func:`diogel.warehouse.geography.area_lsoas`): a record belongs to an
area when its LSOA does. Records without an LSOA (not geocoded, or located only by an outward postcode)
belong to no area; they count only when no area is asked for, as the row :data:`NOT_PLACED`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from diogel.analysis.cardiff import CardiffView
from diogel.analysis.partner_trends import NOT_PLACED, monthly_counts, recent_trend
from diogel.disclosure import suppress_long
from diogel.errors import DiogelError
from diogel.gather.cardiff import gather_cardiff
from diogel.gather.partner_records import (
    area_lsoas_cached,
    area_lsoas_of,
    disclosure_threshold,
    partner_datasets,
    partner_records,
    partner_sources,
    safe_count,
)

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

__all__ = [
    "NOT_PLACED",
    "PartnerBundle",
    "PartnerDataset",
    "PartnerHotspots",
    "PartnerNearRepeats",
    "PartnerSummary",
    "gather_cardiff",
    "gather_hotspots",
    "gather_near_repeats",
    "gather_partner",
    "gather_partner_bundle",
    "partner_datasets",
    "partner_records",
    "partner_sources",
    "schema_title",
]


@dataclass
class PartnerSummary:
    """One dataset's counts for an area and period, safe to publish.

    Counts hidden by disclosure control are ``pd.NA``; ``suppression`` says "primary" (small) or
    "secondary" (hidden to protect another). ``rule`` is the footnote to print under any of them.
    """

    dataset: str
    area: str | None
    start: str
    end: str
    threshold: int
    total: int | None
    not_placed: int | None
    by_month: pd.DataFrame
    by_lsoa: pd.DataFrame
    by_lsoa_month: pd.DataFrame
    trend: pd.DataFrame
    rule: str
    notes: list[str] = field(default_factory=list)


def gather_partner(
    wh: Warehouse,
    dataset: str,
    area: str | None = None,
    start: str | None = None,
    end: str | None = None,
    threshold: int | None = None,
    trend_months: int = 6,
    lsoa_months: bool = True,
) -> PartnerSummary:
    """Counts of one partner dataset by LSOA and month for an area and period, with small counts suppressed.

    Parameters
    ----------
    wh : the warehouse.
    dataset : a schema name, e.g. ``fire_incidents``.
    area : an LA, CSP, force, ward or LSOA code or name (by LSOA membership); None for all records.
    start, end : first and last month (``YYYY-MM``); default the dataset's first and last month.
    threshold : raise the disclosure threshold above the schemas' (it is never lowered).
    trend_months : the trend compares the last ``trend_months`` months with the ones before
        (given only when the period has at least twice as many months).
    lsoa_months : also build ``by_lsoa_month`` (LSOA x month, the slowest table to protect); when False
        it is an empty frame.

    Returns
    -------
    PartnerSummary
    """
    label, lsoas = area_lsoas_of(wh, area)
    records = partner_records(wh, dataset, lsoas, start, end)
    if records.empty:
        raise DiogelError(
            f"no {dataset} records in the warehouse" + (f" for {label}" if label else "")
            + (f" from {start or 'the start'} to {end or 'the end'}" if start or end else "")
        )  # fmt: skip
    k = disclosure_threshold(records, threshold)
    lo = pd.Timestamp(start + "-01") if start else records["month"].min()
    hi = pd.Timestamp(end + "-01") if end else records["month"].max()
    records = records.assign(lsoa_code=records["lsoa_code"].where(records["lsoa_code"].notna(), NOT_PLACED))

    by_month = monthly_counts(records, lo, hi, by=())
    month_table = suppress_long(by_month.assign(month=by_month.month.dt.strftime("%Y-%m")), "month", None,
                                "count", threshold=k)  # fmt: skip
    lsoa = records.groupby("lsoa_code", as_index=False)["count"].sum()
    lsoa_table = suppress_long(lsoa, "lsoa_code", None, "count", threshold=k)
    long_table = pd.DataFrame(columns=["lsoa_code", "month", "count", "suppressed", "suppression"])
    if lsoa_months:
        long = monthly_counts(records.assign(dataset=dataset), lo, hi, by=("lsoa_code",))
        long = long.assign(month=long.month.dt.strftime("%Y-%m"))
        long_table = suppress_long(long, "lsoa_code", "month", "count", threshold=k)

    trend = _published_trend(by_month, trend_months, k)
    total = int(records["count"].sum())
    not_placed = int(records.loc[records.lsoa_code == NOT_PLACED, "count"].sum()) if lsoas is None else 0
    return PartnerSummary(
        dataset=dataset,
        area=label,
        start=f"{lo:%Y-%m}",
        end=f"{hi:%Y-%m}",
        threshold=k,
        total=safe_count(total, k),
        not_placed=safe_count(not_placed, k),
        by_month=month_table,
        by_lsoa=lsoa_table.sort_values("lsoa_code", kind="stable").reset_index(drop=True),
        by_lsoa_month=long_table,
        trend=trend,
        rule=(
            f"Counts from 1 to {k - 1} are hidden (primary suppression); zeros are shown. Further counts are "
            "hidden wherever a hidden count could otherwise be worked out from the totals published beside "
            "it (secondary suppression)."
        ),
        notes=_notes(records, dataset, lsoas is not None),
    )


def _published_trend(by_month: pd.DataFrame, trend_months: int, k: int) -> pd.DataFrame:
    """The recent trend (empty under ``2 * trend_months`` months), its figures hidden where either
    period's count is from 1 to ``k - 1``."""
    trend = pd.DataFrame()
    n_months = len(by_month)
    if n_months >= 2 * trend_months:
        trend = recent_trend(by_month, months=trend_months, by=())
        hidden = trend[["current", "previous"]].apply(lambda s: s.map(lambda v: 0 < v < k)).any(axis=1)
        stats_cols = ["current", "previous", "change", "percent_change", "rate_ratio", "ci_lower",
                      "ci_upper", "p_value"]  # fmt: skip
        trend[stats_cols] = trend[stats_cols].astype("Float64").mask(hidden)
        trend["direction"] = trend["direction"].mask(hidden, "not published (small counts)")
    return trend


def _notes(records: pd.DataFrame, dataset: str, by_area: bool) -> list[str]:
    notes = []
    if by_area:
        notes.append(f"{dataset} records without an LSOA are not in any area and are left out.")
    if (records["time_resolution"] == "quarter").any():
        notes.append(
            f"{dataset} is dated by quarter: each quarter's count is in its first month, and the other two "
            "months show zero."
        )
    return notes


@dataclass
class PartnerHotspots:
    """Where one dataset's records fall among an area's LSOAs, safe to publish.

    ``by_lsoa`` has one row per LSOA of the area: ``lsoa_code``, ``count`` (NA where hidden),
    ``suppression`` ("primary", "secondary" or ""), ``population``, ``rate_per_1000`` (NA wherever the
    count is hidden) and ``gi_bin`` (the Getis-Ord Gi* hot or cold spot class, computed inside the
    warehouse boundary from the exact counts; a class is not a count and is always shown). ``placed``
    is the number of records in those LSOAs (None when it would itself be small); ``rule`` the footnote.
    """

    dataset: str
    by_lsoa: pd.DataFrame
    placed: int | None
    threshold: int
    rule: str
    gi_varies: bool


def gather_hotspots(
    wh: Warehouse,
    dataset: str,
    units: pd.DataFrame,
    start: str,
    end: str,
    weights=None,  # noqa: ANN001
    permutations: int = 999,
    seed: int = 12345,
    threshold: int | None = None,
) -> PartnerHotspots:
    """Records of ``dataset`` per LSOA of an area, with rates and Gi* hot spots, small counts suppressed.

    Parameters
    ----------
    wh : the warehouse.
    dataset : a schema name.
    units : the area's LSOAs: ``lsoa_code`` and ``population`` (residents).
    start, end : first and last month, ``YYYY-MM``.
    weights : libpysal contiguity weights over ``units.lsoa_code`` for Gi*
        (:func:`diogel.analysis.hotspots.contiguity_weights`); None skips Gi* (every class "not tested").
    permutations, seed : for the Gi* conditional permutations.
    threshold : raise the disclosure threshold above the schema's (never lowered).

    Returns
    -------
    PartnerHotspots
    """
    from diogel.analysis.hotspots import gi_star
    from diogel.disclosure import suppress_rates

    codes = list(units["lsoa_code"])
    records = partner_records(wh, dataset, codes, start, end)
    k = disclosure_threshold(records, threshold)
    counts = records.groupby("lsoa_code")["count"].sum().reindex(codes, fill_value=0).astype("int64")
    gi_varies = bool(weights is not None and counts.nunique() > 1)
    if gi_varies:
        gi = gi_star(counts.astype(float), weights, permutations=permutations, seed=seed)
        bins = gi["bin"].reindex(codes).to_numpy()
    else:
        bins = np.full(len(codes), "Not significant" if weights is not None else "not tested", dtype=object)
    table = suppress_long(pd.DataFrame({"lsoa_code": codes, "count": counts.to_numpy()}), "lsoa_code", None,
                          "count", threshold=k)  # fmt: skip
    pop = units.set_index("lsoa_code")["population"].reindex(codes).astype(float).to_numpy()
    raw_rate = pd.Series(1000 * counts.to_numpy() / np.where(pop > 0, pop, np.nan), index=codes)
    rate = suppress_rates(raw_rate, pd.Series(table["suppressed"].to_numpy(), index=codes))
    by_lsoa = pd.DataFrame(
        {
            "lsoa_code": codes,
            "count": table["count"].to_numpy(),
            "suppression": table["suppression"].to_numpy(),
            "population": pop,
            "rate_per_1000": rate.to_numpy(),
            "gi_bin": bins,
        }
    )
    return PartnerHotspots(
        dataset=dataset,
        by_lsoa=by_lsoa,
        placed=safe_count(int(counts.sum()), k),
        threshold=k,
        rule=(
            f"Counts from 1 to {k - 1} are hidden (primary suppression); zeros are shown. Further counts are "
            "hidden wherever a hidden count could otherwise be worked out from the area total (secondary "
            "suppression). Rates built on a hidden count are hidden. Hot and cold spot classes come from the "
            "exact counts inside the warehouse and reveal no count."
        ),
        gi_varies=gi_varies,
    )


@dataclass
class PartnerNearRepeats:
    """The Knox test and incident labels of one dataset in an area, safe to publish.

    ``table`` has one row per distance band x time band: ``distance_band``, ``time_band``,
    ``knox_ratio`` and ``p_value`` (pair counts are not in it: a cell with few pairs would describe
    few incidents; ``summary`` quotes the near cell's pairs only when there are at least ``threshold``). ``labels`` counts incidents by label (originator, repeat, near repeat, isolated),
    suppressed like any count. ``summary`` is the plain-English reading; ``band_note`` says what the
    bands contain.
    """

    dataset: str
    n_incidents: int | None
    table: pd.DataFrame
    labels: pd.DataFrame
    summary: str
    band_note: str
    near_distance_m: int
    near_days: int
    near_ratio: float
    near_p: float
    permutations: int
    seed: int | None
    grid_cell_m: float | None
    threshold: int
    rule: str


def gather_near_repeats(
    wh: Warehouse,
    dataset: str,
    lsoas: Sequence[str],
    start: str,
    end: str,
    permutations: int = 999,
    seed: int | None = 12345,
    threshold: int | None = None,
    min_incidents: int = 20,
) -> PartnerNearRepeats | None:
    """Knox near-repeat test of ``dataset`` in ``lsoas`` over the months asked for, when it can be run.

    Only for records with exact dates (``time_resolution`` date or datetime) and a grid cell
    (coordinates coarsened on the way in); distances are Manhattan between the cells' centres.

    Returns
    -------
    PartnerNearRepeats, or None when the dataset has fewer than ``min_incidents`` such records.
    """
    from diogel.analysis.near_repeat import LABELS, knox_test, label_incidents

    records = partner_records(wh, dataset, list(lsoas), start, end)
    exact = records[
        records["time_resolution"].isin(["date", "datetime"])
        & records["easting"].notna()
        & records["northing"].notna()
        & records["event_date"].notna()
    ]
    if len(exact) < min_incidents:
        return None
    k = disclosure_threshold(records, threshold)
    frame = pd.DataFrame(
        {
            "x": exact["easting"].astype(float),
            "y": exact["northing"].astype(float),
            "date": exact["event_date"],
        }
    ).reset_index(drop=True)
    knox = knox_test(frame, permutations=permutations, seed=seed)
    labels = label_incidents(frame)
    counts = labels.value_counts().reindex(list(LABELS), fill_value=0)
    label_table = suppress_long(pd.DataFrame({"label": list(LABELS), "count": counts.to_numpy().astype("int64")}),
                                "label", None, "count", threshold=k)  # fmt: skip
    table = knox.to_frame()[["distance_band", "time_band", "knox_ratio", "p_value"]]
    summary = knox.summary
    if 0 < knox.near_observed < k:
        # The summary quotes the pairs in the near cell; a handful of pairs describes a handful of incidents.
        summary = (
            f"Within {knox.near_distance_m} m and {knox.near_days} days of an incident, further incidents were "
            f"{knox.near_ratio:.1f} times as frequent as expected by chance (p = {knox.near_p:.3g}); the number of "
            "pairs is too small to publish."
        )
    cells = exact["grid_cell_m"].dropna()
    return PartnerNearRepeats(
        dataset=dataset,
        n_incidents=safe_count(len(exact), k),
        table=table,
        labels=label_table,
        summary=summary,
        band_note=knox.band_note,
        near_distance_m=knox.near_distance_m,
        near_days=knox.near_days,
        near_ratio=knox.near_ratio,
        near_p=knox.near_p,
        permutations=knox.permutations,
        seed=knox.seed,
        grid_cell_m=float(cells.max()) if len(cells) else None,
        threshold=k,
        rule=f"Incident counts from 1 to {k - 1} are hidden, and a further count wherever a hidden one could be "
        "worked out from the total; pairs are counted in the summary only when there are at least "
        f"{k} of them, and not at all in the table of bands.",
    )


# ----------------------------------------------------------------------------------------------------
# The bundle the report's partner section is a pure function of


@dataclass(frozen=True)
class PartnerDataset:
    """One partner dataset as the report shows it, every count already suppressed."""

    dataset: str
    title: str
    sources: tuple[dict[str, str], ...]
    summary: PartnerSummary
    hotspots: PartnerHotspots
    near_repeats: PartnerNearRepeats | None


@dataclass(frozen=True)
class PartnerBundle:
    """Everything about partner data for one area and period, read from the warehouse once.

    ``loaded``: every dataset in the warehouse; ``present``: those with records in the area's LSOAs
    and months (``datasets`` has one entry for each, in the same order); ``titles``: the schema title
    of every loaded dataset; ``violence``: the Cardiff Model view when ED assaults are present.
    """

    loaded: tuple[str, ...]
    present: tuple[str, ...]
    titles: dict[str, str]
    datasets: tuple[PartnerDataset, ...] = ()
    violence: CardiffView | None = None


def schema_title(dataset: str) -> str:
    """The title of a dataset from its shipped schema (the name in words when there is none)."""
    from diogel.sources.partner.schema import load_schema

    try:
        return load_schema(dataset).title
    except DiogelError:
        return dataset.replace("_", " ")


def gather_partner_bundle(
    wh: Warehouse,
    area: str,
    start: str,
    end: str,
    population: pd.DataFrame,
    boundaries: pd.DataFrame,
    permutations: int = 999,
    seed: int = 12345,
    trend_months: int = 6,
) -> PartnerBundle:
    """Read every partner dataset of ``area`` from ``start`` to ``end`` (``YYYY-MM``) for the report.

    Parameters
    ----------
    wh : the warehouse.
    area : the area's code (its LSOAs by membership).
    population : the area's LSOAs, ``lsoa_code`` and ``population`` (for rates).
    boundaries : the area's LSOA polygons, ``lsoa_code`` and ``geometry`` (queen contiguity for Gi*).
    permutations, seed : for Gi* and the Knox test.
    trend_months : the trend compares the last ``trend_months`` months with the ones before.

    Returns
    -------
    PartnerBundle
        Per dataset: :func:`gather_partner`, :func:`gather_hotspots` and :func:`gather_near_repeats` at
        the dataset's disclosure threshold, and the files behind its records; with ED assaults present,
        :func:`gather_cardiff` at the ED threshold.
    """
    from diogel.analysis.hotspots import contiguity_weights

    loaded, _ = partner_datasets(wh)
    titles = {ds: schema_title(ds) for ds in loaded}
    if not loaded:
        return PartnerBundle((), (), titles)
    lsoas = area_lsoas_cached(wh, area)
    _, present = partner_datasets(wh, lsoas, start, end)
    if not present:
        return PartnerBundle(tuple(loaded), (), titles)
    weights = contiguity_weights(boundaries[["lsoa_code", "geometry"]])
    units = population[["lsoa_code", "population"]]
    datasets = []
    for ds in present:
        refs = tuple(partner_sources(wh, ds, lsoas, start, end))
        s = gather_partner(
            wh, ds, area=area, start=start, end=end, trend_months=trend_months, lsoa_months=False
        )
        k = s.threshold
        hot = gather_hotspots(wh, ds, units, start, end, weights=weights, permutations=permutations, seed=seed,
                              threshold=k)  # fmt: skip
        near = gather_near_repeats(
            wh, ds, lsoas, start, end, permutations=permutations, seed=seed, threshold=k
        )
        datasets.append(PartnerDataset(ds, titles.get(ds) or schema_title(ds), refs, s, hot, near))
    ed = next((x for x in datasets if x.dataset == "ed_assaults"), None)
    violence = (
        gather_cardiff(wh, area=area, start=start, end=end, threshold=ed.summary.threshold)
        if ed is not None
        else None
    )
    return PartnerBundle(tuple(loaded), tuple(present), titles, tuple(datasets), violence)
