"""The Cardiff Model view of an area and period out of the warehouse, small counts suppressed.

ED assaults come from the ``ed_assaults`` partner dataset; police-recorded violence is police.uk
"Violence and sexual offences" under the counting rules, in the same LSOAs and months. Every ED count,
share and rate is disclosure-controlled as described in :mod:`diogel.gather.partner`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from diogel.analysis.cardiff import VIOLENCE, CardiffView, cardiff_view, describe
from diogel.disclosure import suppress, suppress_long
from diogel.errors import DiogelError
from diogel.gather.partner_records import area_lsoas_of, disclosure_threshold, partner_records, safe_count
from diogel.warehouse.queries import counts

if TYPE_CHECKING:
    from diogel.warehouse.protocol import Warehouse

__all__ = ["gather_cardiff"]


def _police_violence(wh: Warehouse, area: str | None, start: str | None, end: str | None) -> pd.DataFrame:
    if not wh.has("police_street"):
        return pd.DataFrame(
            {
                "lsoa_code": pd.Series([], dtype=object),
                "month": pd.Series([], dtype="datetime64[ns]"),
                "count": pd.Series([], dtype="int64"),
            }
        )
    df = counts(wh, ["lsoa", "month", "crime_type"], area, start, end)
    df = df[df.crime_type == VIOLENCE].rename(columns={"lsoa": "lsoa_code"})
    df = df[df.lsoa_code.notna()]
    return df.assign(month=pd.to_datetime(df.month + "-01"))[["lsoa_code", "month", "count"]]


def _hide_single(frame: pd.DataFrame, key: str | list[str], column: str, k: int) -> pd.Series:
    """Mask of ``column`` (a column of counts whose total is published) after suppression."""
    keys = [key] if isinstance(key, str) else key
    label = frame[keys].astype(str).agg("|".join, axis=1) if len(keys) > 1 else frame[keys[0]].astype(str)
    out = suppress_long(pd.DataFrame({"_k": label, "_v": frame[column].to_numpy()}), "_k", None, "_v",
                        threshold=k)  # fmt: skip
    return pd.Series(out["suppressed"].to_numpy(dtype=bool), index=frame.index)


def _hide_answers(frame: pd.DataFrame, key: str | list[str], k: int) -> pd.DataFrame:
    """Suppression mask of the reported / not_reported / not_known columns as one 2-D table."""
    keys = [key] if isinstance(key, str) else key
    cols = ["reported", "not_reported", "not_known"]
    label = frame[keys].astype(str).agg("|".join, axis=1)
    table = pd.DataFrame(frame[cols].to_numpy(dtype=float), index=label, columns=cols)
    keep = table.sum(axis=1) > 0  # rows nobody is in add nothing and would only blur the lines
    mask = pd.DataFrame(False, index=table.index, columns=cols)
    if keep.any():
        mask.loc[keep] = suppress(table[keep], threshold=k, margins=False).suppressed.to_numpy()
    return mask.set_axis(frame.index)


def gather_cardiff(
    wh: Warehouse,
    area: str | None = None,
    start: str | None = None,
    end: str | None = None,
    threshold: int | None = None,
) -> CardiffView:
    """The Cardiff Model view (:func:`diogel.analysis.cardiff.cardiff_view`) for an area and period, safe to publish.

    ED assaults come from the ``ed_assaults`` dataset (in the area: those whose assault LSOA is in it);
    police-recorded violence is police.uk "Violence and sexual offences" under the counting rules, in the
    same LSOAs and months. Every ED count, share and rate is disclosure-controlled as described in the
    module docstring; ``view.rule`` is the footnote.
    """
    label, lsoas = area_lsoas_of(wh, area)
    ed = partner_records(wh, "ed_assaults", lsoas, start, end, details=True)
    if ed.empty:
        raise DiogelError("no ed_assaults records in the warehouse" + (f" for {label}" if label else ""))
    k = disclosure_threshold(ed, threshold)
    police = _police_violence(wh, area, start, end)
    if start is None or end is None:
        # The police comparison covers the months the ED data cover, no more.
        police = police[(police.month >= ed.month.min()) & (police.month <= ed.month.max())]
    view = cardiff_view(ed, police, start, end)
    return _suppress_view(view, k)


def _suppress_view(view: CardiffView, k: int) -> CardiffView:
    monthly = view.monthly.copy()
    hidden = _hide_single(monthly, "month", "ed_assaults", k)
    monthly["ed_assaults"] = monthly["ed_assaults"].astype("Int64").mask(hidden)
    monthly["ed_per_100_police"] = monthly["ed_per_100_police"].mask(hidden)

    by_lsoa = view.by_lsoa.copy()
    by_lsoa["ed_assaults"] = (
        by_lsoa["ed_assaults"].astype("Int64").mask(_hide_single(by_lsoa, "lsoa_code", "ed_assaults", k))
    )

    def answers(frame: pd.DataFrame, key: str | list[str], grid: bool) -> pd.DataFrame:
        frame = frame.copy()
        if grid:
            days = frame.pivot(index="day", columns="hour", values="ed_assaults")
            mask = suppress(days.astype(float), threshold=k, margins=False).suppressed
            hidden = np.array([mask.at[d, h] for d, h in zip(frame.day, frame.hour, strict=True)])
        else:
            hidden = _hide_single(frame, key, "ed_assaults", k).to_numpy()
        frame["ed_assaults"] = frame["ed_assaults"].astype("Int64").mask(hidden)
        if view.method == "recorded":
            mask = _hide_answers(frame.fillna({"ed_assaults": 0}), key, k)
            for c in ("reported", "not_reported", "not_known"):
                frame[c] = frame[c].astype("Int64").mask(mask[c])
            frame["share_not_reported"] = frame["share_not_reported"].mask(
                mask["reported"] | mask["not_reported"]
            )
        return frame

    by_type = answers(view.by_location_type, "location_type", grid=False)
    by_how = answers(view.by_hour_of_week, ["day", "hour"], grid=True)

    small = any(0 < v < k for v in (view.numerator, view.denominator - view.numerator))
    statement = describe(
        view.method,
        view.numerator,
        view.denominator,
        view.ed_total,
        view.police_total,
        view.share_not_reported,
        view.ci_lower,
        view.ci_upper,
        view.alpha,
        threshold=k,
    )
    nan = float("nan")
    return replace(
        view,
        monthly=monthly,
        by_lsoa=by_lsoa,
        by_location_type=by_type,
        by_hour_of_week=by_how,
        share_not_reported=nan if small else view.share_not_reported,
        ci_lower=nan if small else view.ci_lower,
        ci_upper=nan if small else view.ci_upper,
        numerator=None if small else view.numerator,
        denominator=safe_count(view.denominator, k),
        statement=statement,
        ed_total=safe_count(view.ed_total, k),
        ed_without_lsoa=safe_count(view.ed_without_lsoa, k),
        ed_without_time=safe_count(view.ed_without_time, k),
        rule=(
            f"Emergency department counts from 1 to {k - 1} are hidden, and further counts wherever a hidden "
            "count could be worked out from published totals; shares and rates built on a hidden count are "
            "hidden too. Police-recorded figures are published by police.uk and are shown in full."
        ),
    )
