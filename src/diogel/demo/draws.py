"""Random draws shared by the synthetic generators: times, towns, names, NHS numbers, postcodes, ages.

Names come from the detector's own name lists; NHS numbers from the 999 range NHS England reserves for
testing, with a valid modulus-11 check digit; inward postcodes are invented.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diogel.demo.places import TOWNS
from diogel.sources.partner.depersonalise import age_band_labels
from diogel.sources.partner.detect import FORENAMES, SURNAMES
from diogel.sources.partner.identifiers import nhs_check_digit

#: The samples' period.
START = pd.Timestamp("2023-04-01")
END = pd.Timestamp("2025-03-31 23:59")
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def town_name(i: int) -> str:
    return TOWNS[i][0].replace(" city centre", "").replace(" east", "")


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def towns(rng: np.random.Generator, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    w = np.array([t[4] for t in TOWNS]) if weights is None else weights
    return rng.choice(len(TOWNS), size=n, p=w / w.sum())


def times(rng: np.random.Generator, n: int, night_weight: float = 1.0) -> pd.DatetimeIndex:
    """Random timestamps in the sample period; ``night_weight`` > 1 favours Friday/Saturday nights."""
    days = (END.normalize() - START).days + 1
    day = rng.integers(0, days, size=n)
    dates = START + pd.to_timedelta(day, unit="D")
    hours = np.arange(24)
    evening = np.where((hours >= 20) | (hours <= 3), night_weight, 1.0)
    hour = rng.choice(24, size=n, p=evening / evening.sum())
    if night_weight > 1:
        # Move a share of events to the weekend, as the night-time economy does.
        weekend = rng.random(n) < 0.35
        shift = (4 - dates.day_of_week.to_numpy()) % 7 + rng.integers(0, 2, size=n)
        day = np.where(weekend, np.minimum(day + shift, days - 1), day)
        dates = START + pd.to_timedelta(day, unit="D")
    minutes = rng.integers(0, 60, size=n)
    return pd.DatetimeIndex(dates + pd.to_timedelta(hour * 60 + minutes, unit="m"))


def full_postcodes(rng: np.random.Generator, outward: np.ndarray) -> list[str]:
    letters = np.array(list(_INWARD_LETTERS))
    digit = rng.integers(1, 10, size=len(outward))
    a = rng.choice(letters, size=len(outward))
    b = rng.choice(letters, size=len(outward))
    return [f"{o} {d}{x}{y}" for o, d, x, y in zip(outward, digit, a, b, strict=True)]


def names(rng: np.random.Generator, n: int) -> list[str]:
    fore = sorted(FORENAMES)
    sur = sorted(SURNAMES)
    return [
        f"{fore[i]} {sur[j]}"
        for i, j in zip(rng.integers(0, len(fore), n), rng.integers(0, len(sur), n), strict=True)
    ]


def nhs_numbers(rng: np.random.Generator, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        body = "999" + "".join(str(d) for d in rng.integers(0, 10, size=6))
        check = nhs_check_digit(body)
        if check is not None:
            digits = body + str(check)
            out.append(f"{digits[:3]} {digits[3:6]} {digits[6:]}")
    return out


def dobs(rng: np.random.Generator, on: pd.DatetimeIndex, min_age: int, max_age: int) -> pd.DatetimeIndex:
    age_days = rng.integers(min_age * 366, max_age * 365, size=len(on))
    return pd.DatetimeIndex(on.normalize() - pd.to_timedelta(age_days, unit="D"))


def ages(rng: np.random.Generator, n: int, mean: float, sd: float, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.round(rng.normal(mean, sd, size=n)), lo, hi).astype(int)


def age_band(ages: np.ndarray) -> list[str]:
    bands = np.array([0, 10, 18, 25, 35, 45, 55, 65, 75])
    labels = age_band_labels(bands.tolist())
    return [labels[i] for i in np.searchsorted(bands, ages, side="right") - 1]


def jitter(rng: np.random.Generator, town_idx: np.ndarray, sd: float) -> tuple[np.ndarray, np.ndarray]:
    ex = np.array([TOWNS[i][2] for i in town_idx]) + rng.normal(0, sd, size=len(town_idx))
    ny = np.array([TOWNS[i][3] for i in town_idx]) + rng.normal(0, sd, size=len(town_idx))
    return np.round(ex), np.round(ny)
