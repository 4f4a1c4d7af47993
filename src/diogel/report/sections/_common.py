"""Small helpers the section modules share: names, frames of the area, wording."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from diogel.analysis.harm import POLICEUK_CRIME_TYPES
from diogel.report.gather import ASB, AreaData, Period
from diogel.report.i18n import _

ALL = "All records"
CRIME = "All crime (excluding ASB)"


def slug(text: str) -> str:
    """A figure-id-safe name: "Violence and sexual offences" -> "violence_and_sexual_offences"."""
    return re.sub(r"[^a-z0-9]+", "_", text.casefold()).strip("_")


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def area_population(data: AreaData) -> pd.DataFrame:
    """One row, ``area`` and ``population``: the residents of the area (sum over its 2021 LSOAs)."""
    return pd.DataFrame({"area": [data.code], "population": [float(data.population["population"].sum())]})


def type_counts(data: AreaData, period: Period) -> pd.DataFrame:
    """Records per police.uk crime type in the area over ``period``; every type present, 0 if none."""
    c = data.crimes
    c = c[(c["month"] >= period.start) & (c["month"] <= period.end)]
    by = c.groupby("crime_type")["count"].sum()
    return pd.DataFrame(
        {
            "crime_type": list(POLICEUK_CRIME_TYPES),
            "count": [float(by.get(t, 0.0)) for t in POLICEUK_CRIME_TYPES],
        }
    )


def lsoa_counts(data: AreaData, period: Period, crime_type: str | None = None) -> pd.Series:
    """Records per 2021 LSOA of the area over ``period`` (all types, ASB included, unless one is given)."""
    c = data.crimes
    c = c[(c["month"] >= period.start) & (c["month"] <= period.end)]
    if crime_type == CRIME:
        c = c[c["crime_type"] != ASB]
    elif crime_type not in (None, ALL):
        c = c[c["crime_type"] == crime_type]
    return (
        c.groupby("lsoa_code")["count"].sum().reindex(data.lsoas["lsoa_code"], fill_value=0.0).astype(float)
    )


def period_words(period: Period) -> str:
    return period.words


def rate_unit(period: Period) -> str:
    """What a rate over the period is per: a year when the period is 12 months."""
    if period.n_months == 12:
        return _("per 1,000 residents a year")
    return _("per 1,000 residents over {} months").format(period.n_months)


def finite(value: float) -> bool:
    return value is not None and not pd.isna(value) and bool(np.isfinite(value))
