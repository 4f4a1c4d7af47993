"""The Cardiff Model view: emergency department assaults beside police-recorded violence.

The Cardiff Model for Violence Prevention shares anonymised emergency department (ED) data on assault
injuries with the police and the partnership because much violence that ends in hospital never reaches
police records. This module puts the two side by side and measures that gap.

Inputs (pure frames):

* ``ed``: one row per ED assault attendance, with ``event_date`` (date of the assault), ``event_time``
  ("HH:MM", missing when not known), ``month``, ``lsoa_code`` (place of the assault, missing when not
  geocoded), ``location_type`` and, when the department records it, ``reported_to_police``
  ("Yes" / "No" / "Not known");
* ``police``: police.uk "Violence and sexual offences" counted as diogel counts crimes, with
  ``lsoa_code``, ``month`` and ``count`` (a ``crime_type`` column, if present, is filtered to that type).

How the share of ED assaults unknown to the police is measured, in order of preference:

1. **Recorded** (``method = "recorded"``), when ``reported_to_police`` has at least one Yes or No:
   share = No / (Yes + No), the patient's own answer at attendance; "Not known" and blanks are left out
   of the share and counted separately. The 95% interval is the exact (Clopper-Pearson) binomial one.
2. **Lower bound** (``method = "lower_bound"``), when the field is absent or never answered: police.uk
   has no link to ED records, no time of day and no location type, so the only defensible estimate is
   a bound. For each LSOA and month, ``max(0, ED assaults - police-recorded violence)`` ED assaults
   cannot all be among the police records of that LSOA and month; their sum over the total of ED
   assaults with an LSOA is the share that, at least, was not recorded by the police. This assumes
   every assault reported to the police is recorded as violence in the LSOA and month where it
   happened; because police-recorded violence includes much that never needs hospital care, the bound
   is usually far below the true share. No share by location type or hour of week can be estimated
   this way (the police data have neither), so those tables carry counts only.

Nothing here suppresses small counts; :func:`diogel.gather.cardiff.gather_cardiff` does that
before anything leaves the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

VIOLENCE = "Violence and sexual offences"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ANSWERS = {"yes": "reported", "no": "not_reported"}
__all__ = ["DAYS", "VIOLENCE", "CardiffView", "cardiff_view", "describe"]


@dataclass
class CardiffView:
    """ED assaults beside police-recorded violence, and the share of ED assaults not reported to the police.

    Attributes
    ----------
    monthly : ``month``, ``ed_assaults``, ``police_violence``, ``ed_per_100_police``.
    by_lsoa : ``lsoa_code``, ``ed_assaults``, ``police_violence`` (ED assaults without an LSOA are
        not in it; see ``ed_without_lsoa``).
    by_location_type : ``location_type``, ``ed_assaults``, ``reported``, ``not_reported``,
        ``not_known``, ``share_not_reported`` (recorded method only; NA otherwise).
    by_hour_of_week : one row per day and hour (168 rows, zeros included): ``day``, ``hour``,
        ``ed_assaults``, ``reported``, ``not_reported``, ``not_known``, ``share_not_reported``. Assaults
        without a time of day are not in it (see ``ed_without_time``).
    share_not_reported, ci_lower, ci_upper : the headline share (0-1) and its 95% interval (NaN for
        the lower bound, which has no sampling interval).
    numerator, denominator : not reported / answered (recorded), or excess / ED assaults with an LSOA
        (lower bound).
    method : ``"recorded"`` or ``"lower_bound"`` (see the module docstring).
    statement : the headline in plain English, saying how it was measured.
    rule : the disclosure-control footnote, set when the view has been suppressed for publication.
    """

    monthly: pd.DataFrame
    by_lsoa: pd.DataFrame
    by_location_type: pd.DataFrame
    by_hour_of_week: pd.DataFrame
    share_not_reported: float
    ci_lower: float
    ci_upper: float
    numerator: int
    denominator: int
    method: str
    statement: str
    ed_total: int
    ed_without_lsoa: int
    ed_without_time: int
    police_total: int
    alpha: float = 0.05
    rule: str = ""


def _months(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["month"]).dt.to_period("M").dt.to_timestamp()


def _answer_columns(frame: pd.DataFrame, key: list[str], recorded: bool) -> pd.DataFrame:
    """ED assaults per ``key`` with reported / not_reported / not_known counts and the share."""
    answers = frame["_answer"]
    out = frame.groupby(key, dropna=False).size().rename("ed_assaults").to_frame()
    for col in ("reported", "not_reported", "not_known"):
        out[col] = (answers == col).groupby([frame[k] for k in key], dropna=False).sum()
    out = out.fillna(0).astype("int64")
    if recorded:
        answered = out["reported"] + out["not_reported"]
        out["share_not_reported"] = (out["not_reported"] / answered.where(answered > 0)).astype("Float64")
    else:
        for col in ("reported", "not_reported", "not_known"):
            out[col] = pd.array([pd.NA] * len(out), dtype="Int64")
        out["share_not_reported"] = pd.array([pd.NA] * len(out), dtype="Float64")
    return out


def _prepared(
    ed: pd.DataFrame, police: pd.DataFrame, start: str | pd.Timestamp | None, end: str | pd.Timestamp | None
) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """Both frames checked, cut to violence and to the months asked for; each ED assault's answer
    (reported, not_reported, not_known) in ``_answer``; whether any answer was recorded."""
    for name, frame, cols in (
        ("ed", ed, ("event_date", "event_time", "month", "lsoa_code", "location_type")),
        ("police", police, ("lsoa_code", "month", "count")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} is missing column(s) {missing}; it has {list(frame.columns)}")
    ed = ed.copy()
    police = police.copy()
    if "crime_type" in police.columns:
        police = police[police["crime_type"] == VIOLENCE]
    ed["month"] = _months(ed)
    police["month"] = _months(police)
    if start is not None:
        lo = pd.Timestamp(start).to_period("M").to_timestamp()
        ed, police = ed[ed.month >= lo], police[police.month >= lo]
    if end is not None:
        hi = pd.Timestamp(end).to_period("M").to_timestamp()
        ed, police = ed[ed.month <= hi], police[police.month <= hi]
    police["count"] = pd.to_numeric(police["count"]).astype("int64")

    raw = ed["reported_to_police"] if "reported_to_police" in ed.columns else pd.Series(pd.NA, index=ed.index)
    key = raw.map(lambda v: str(v).strip().casefold() if isinstance(v, str) else "")
    ed["_answer"] = key.map(ANSWERS).fillna("not_known")
    recorded = bool((ed["_answer"] != "not_known").any())
    ed["location_type"] = ed["location_type"].where(ed["location_type"].notna(), "Not known")

    return ed, police, recorded


def _monthly(ed: pd.DataFrame, police: pd.DataFrame) -> pd.DataFrame:
    """ED assaults and police-recorded violence per month, and ED assaults per 100 police records."""
    months = sorted(set(ed.month) | set(police.month))
    monthly = pd.DataFrame({"month": months})
    monthly["ed_assaults"] = monthly.month.map(ed.groupby("month").size()).fillna(0).astype("int64")
    monthly["police_violence"] = (
        monthly.month.map(police.groupby("month")["count"].sum()).fillna(0).astype("int64")
    )
    monthly["ed_per_100_police"] = (
        100 * monthly.ed_assaults / monthly.police_violence.where(monthly.police_violence > 0)
    ).astype("Float64")

    return monthly


def _by_lsoa(placed: pd.DataFrame, police: pd.DataFrame) -> pd.DataFrame:
    """ED assaults placed in an LSOA beside police-recorded violence there, most ED assaults first."""
    return (
        pd.DataFrame(placed.groupby("lsoa_code").size().rename("ed_assaults"))
        .join(police.groupby("lsoa_code")["count"].sum().rename("police_violence"), how="outer")
        .fillna(0)
        .astype("int64")
        .reset_index()
        .sort_values(["ed_assaults", "lsoa_code"], ascending=[False, True], kind="stable")
        .reset_index(drop=True)
    )


def _by_hour_of_week(ed: pd.DataFrame, recorded: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ED assaults (and answers) in each of the 7 x 24 hours of the week; also the assaults with a day
    and an hour."""
    hours = ed["event_time"].map(
        lambda v: int(str(v)[:2]) if isinstance(v, str) and len(v) >= 2 and str(v)[:2].isdigit() else -1
    )
    timed = ed[(hours >= 0).to_numpy() & pd.to_datetime(ed["event_date"]).notna().to_numpy()].copy()
    timed["day"] = pd.to_datetime(timed["event_date"]).dt.day_of_week.map(dict(enumerate(DAYS)))
    timed["hour"] = hours[timed.index].astype(int)
    grid = pd.MultiIndex.from_product([DAYS, range(24)], names=["day", "hour"])
    by_how = _answer_columns(timed, ["day", "hour"], recorded).reindex(grid)
    # Cells nobody was assaulted in are zeros, not unknowns; answers stay NA without the field.
    for col in ("ed_assaults", "reported", "not_reported", "not_known") if recorded else ("ed_assaults",):
        by_how[col] = by_how[col].fillna(0).astype("int64")
    by_how = by_how.reset_index()

    return by_how, timed


def _share_not_reported(
    ed: pd.DataFrame, placed: pd.DataFrame, police: pd.DataFrame, recorded: bool, alpha: float
) -> tuple[float, float, float, int, int, str]:
    """Share of ED assaults not reported to the police, its exact interval, numerator, denominator
    and method: from the recorded answers, else a lower bound from ED assaults beyond police records
    in each LSOA and month."""
    if recorded:
        num = int((ed["_answer"] == "not_reported").sum())
        den = int(ed["_answer"].isin(["reported", "not_reported"]).sum())
        share = num / den
        ci = stats.binomtest(num, den).proportion_ci(1 - alpha, method="exact")
        lo_ci, hi_ci = float(ci.low), float(ci.high)
        method = "recorded"
    else:
        cells = placed.groupby(["lsoa_code", "month"]).size().rename("ed").to_frame()
        cells = cells.join(police.groupby(["lsoa_code", "month"])["count"].sum().rename("police"), how="left")
        cells["police"] = cells["police"].fillna(0)
        num = int(np.maximum(cells["ed"] - cells["police"], 0).sum())
        den = int(cells["ed"].sum())
        share = num / den if den else float("nan")
        lo_ci = hi_ci = float("nan")
        method = "lower_bound"
    return share, lo_ci, hi_ci, num, den, method


def cardiff_view(
    ed: pd.DataFrame,
    police: pd.DataFrame,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    alpha: float = 0.05,
) -> CardiffView:
    """ED assaults and police-recorded violence side by side, with the share not reported to the police.

    Parameters
    ----------
    ed, police : see the module docstring.
    start, end : first and last month to include (default: all of both frames).
    alpha : 1 - the confidence level of the interval for the recorded share.

    Returns
    -------
    CardiffView
    """
    ed, police, recorded = _prepared(ed, police, start, end)
    monthly = _monthly(ed, police)
    placed = ed[ed["lsoa_code"].notna()]
    by_lsoa = _by_lsoa(placed, police)
    by_type = _answer_columns(ed, ["location_type"], recorded).reset_index()
    by_type = by_type.sort_values(["ed_assaults", "location_type"], ascending=[False, True], kind="stable")

    by_how, timed = _by_hour_of_week(ed, recorded)
    police_total = int(police["count"].sum())
    share, lo_ci, hi_ci, num, den, method = _share_not_reported(ed, placed, police, recorded, alpha)
    statement = describe(method, num, den, len(ed), police_total, share, lo_ci, hi_ci, alpha)
    return CardiffView(
        monthly=monthly,
        by_lsoa=by_lsoa,
        by_location_type=by_type.reset_index(drop=True),
        by_hour_of_week=by_how,
        share_not_reported=share,
        ci_lower=lo_ci,
        ci_upper=hi_ci,
        numerator=num,
        denominator=den,
        method=method,
        statement=statement,
        ed_total=len(ed),
        ed_without_lsoa=int(ed["lsoa_code"].isna().sum()),
        ed_without_time=len(ed) - len(timed),
        police_total=police_total,
        alpha=alpha,
    )


def describe(
    method: str,
    numerator: int,
    denominator: int,
    ed_total: int,
    police_total: int,
    share: float,
    ci_lower: float,
    ci_upper: float,
    alpha: float = 0.05,
    threshold: int | None = None,
) -> str:
    """The headline of a :class:`CardiffView` in plain English, saying how the share was measured.

    With ``threshold``, ED counts from 1 to ``threshold - 1`` are written "fewer than <threshold>" and a
    share built on such a count is not given, so the sentence can be published.
    """

    def n(v: int) -> str:
        return f"fewer than {threshold}" if threshold and 0 < v < threshold else f"{v:,}"

    small = bool(threshold) and any(0 < v < threshold for v in (numerator, denominator - numerator))
    if method == "recorded":
        unknown = ed_total - denominator
        head = (
            f"Of {n(denominator)} emergency department assault attendances where the patient said whether "
            "the assault had been reported to the police, "
        )
        if small:
            head += "too few had or had not been reported to publish the share"
        else:
            head += (
                f"{share:.0%} ({numerator:,}) had not been ({100 * (1 - alpha):.0f}% interval {ci_lower:.0%} "
                f"to {ci_upper:.0%})"
            )
        return (
            f"{head}; for {n(unknown)} more the answer was not known. In the same places and months the "
            f"police recorded {police_total:,} violence and sexual offences."
        )
    if not denominator:
        return (
            "The ED data do not say whether assaults were reported to the police and no ED assault has a "
            "known LSOA, so the share not reported to the police cannot be estimated."
        )
    bound = "too few to publish" if small else f"{share:.0%} ({numerator:,})"
    return (
        "The ED data do not say whether assaults were reported to the police, so only a lower bound is "
        f"possible: of {n(denominator)} ED assault attendances with a known LSOA, at least {bound} cannot be "
        "among police-recorded violence and sexual offences in the same LSOA and month, assuming every "
        "assault reported to the police is recorded there. The true share is usually much higher; no share "
        "by location type or hour can be estimated from police.uk data."
    )
