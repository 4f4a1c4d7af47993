"""Synthetic partner files for demos and tests, placed in Gwent.

Every file is generated here from a seeded random generator (nothing is real: no record describes a real
person, incident or premises) and written to ``samples/synthetic_*.csv`` beside this module. Regenerate
with::

    python -m diogel.sources.partner.samples

Places are the main Gwent towns with approximate British National Grid centres and their real outward
postcodes; inward codes, names, dates of birth and NHS numbers are invented. NHS numbers are drawn from
the 999 range, which NHS England reserves for testing, and carry a valid modulus-11 check digit; phone
numbers are from Ofcom's ranges reserved for drama (01632 960xxx, 07700 900xxx) and e-mail addresses use
the reserved domain example.com.

Two files carry personal data on purpose: ``synthetic_ed_assaults_identifiable.csv`` (names, dates of
birth, NHS numbers, full postcodes: all have treatments in the ``ed_assaults`` schema, so it is cleansed)
and ``synthetic_hospital_admissions_identifiable.csv`` (also phone numbers and e-mail addresses, which
the ``hospital_admissions`` schema does not declare, so the file must be refused).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from diogel.sources.partner.depersonalise import age_band_labels
from diogel.sources.partner.detect import FORENAMES, SURNAMES, nhs_check_digit

DEFAULT_SEED = 20250401
START = pd.Timestamp("2023-04-01")
END = pd.Timestamp("2025-03-31 23:59")

# (town, outward code, BNG easting, BNG northing, relative weight of activity, local authority code)
TOWNS: tuple[tuple[str, str, int, int, float, str], ...] = (
    ("Newport city centre", "NP20", 331200, 188100, 6.0, "NCC"),
    ("Newport east", "NP19", 333500, 188000, 4.0, "NCC"),
    ("Rogerstone", "NP10", 327000, 188500, 1.5, "NCC"),
    ("Caerleon", "NP18", 334000, 190800, 1.0, "NCC"),
    ("Cwmbran", "NP44", 329500, 195000, 3.0, "TCBC"),
    ("Pontypool", "NP4", 328300, 200400, 2.0, "TCBC"),
    ("Blackwood", "NP12", 317200, 197500, 1.5, "CCBC"),
    ("Caerphilly", "CF83", 315500, 187000, 2.0, "CCBC"),
    ("Risca", "NP11", 323500, 191300, 1.0, "CCBC"),
    ("Ebbw Vale", "NP23", 317000, 208500, 1.5, "BGCBC"),
    ("Tredegar", "NP22", 314300, 209000, 1.0, "BGCBC"),
    ("Abertillery", "NP13", 321500, 204000, 1.0, "BGCBC"),
    ("Abergavenny", "NP7", 330000, 214200, 1.0, "MCC"),
    ("Chepstow", "NP16", 353500, 193800, 0.8, "MCC"),
    ("Monmouth", "NP25", 350800, 212900, 0.6, "MCC"),
    ("Caldicot", "NP26", 348200, 188500, 0.8, "MCC"),
)
STREETS = (
    "High Street",
    "Commercial Street",
    "Cambrian Road",
    "Skinner Street",
    "Bridge Street",
    "Stow Hill",
    "Caerleon Road",
    "Chepstow Road",
    "Church Road",
    "Station Road",
    "Market Street",
    "Bethcar Street",
    "Gwent Square",
    "General Rees Square",
    "Osborne Road",
    "Broad Street",
    "Castle Street",
    "Bryn Road",
)
VENUES = (
    "The Red Lion",
    "The Kings Arms",
    "The Castle",
    "The Old Market",
    "The Railway",
    "The Black Horse",
    "The Carpenters Arms",
    "Club Neon",
    "The Cellar Bar",
    "The Tredegar Arms",
    "The Coach and Horses",
    "The Six Bells",
    "The Lamb",
    "The Queens Head",
    "The Greyhound",
)
PARKS = (
    "Belle Vue Park",
    "Tredegar Park",
    "Pontypool Park",
    "Bailey Park",
    "Festival Park",
    "the riverside path",
)
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _town_name(i: int) -> str:
    return TOWNS[i][0].replace(" city centre", "").replace(" east", "")


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _towns(rng: np.random.Generator, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    w = np.array([t[4] for t in TOWNS]) if weights is None else weights
    return rng.choice(len(TOWNS), size=n, p=w / w.sum())


def _times(rng: np.random.Generator, n: int, night_weight: float = 1.0) -> pd.DatetimeIndex:
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


def _full_postcodes(rng: np.random.Generator, outward: np.ndarray) -> list[str]:
    letters = np.array(list(_INWARD_LETTERS))
    digit = rng.integers(1, 10, size=len(outward))
    a = rng.choice(letters, size=len(outward))
    b = rng.choice(letters, size=len(outward))
    return [f"{o} {d}{x}{y}" for o, d, x, y in zip(outward, digit, a, b, strict=True)]


def _names(rng: np.random.Generator, n: int) -> list[str]:
    fore = sorted(FORENAMES)
    sur = sorted(SURNAMES)
    return [
        f"{fore[i]} {sur[j]}"
        for i, j in zip(rng.integers(0, len(fore), n), rng.integers(0, len(sur), n), strict=True)
    ]


def _nhs_numbers(rng: np.random.Generator, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        body = "999" + "".join(str(d) for d in rng.integers(0, 10, size=6))
        check = nhs_check_digit(body)
        if check is not None:
            digits = body + str(check)
            out.append(f"{digits[:3]} {digits[3:6]} {digits[6:]}")
    return out


def _dobs(rng: np.random.Generator, on: pd.DatetimeIndex, min_age: int, max_age: int) -> pd.DatetimeIndex:
    age_days = rng.integers(min_age * 366, max_age * 365, size=len(on))
    return pd.DatetimeIndex(on.normalize() - pd.to_timedelta(age_days, unit="D"))


def _ages(rng: np.random.Generator, n: int, mean: float, sd: float, lo: int, hi: int) -> np.ndarray:
    return np.clip(np.round(rng.normal(mean, sd, size=n)), lo, hi).astype(int)


def _age_band(ages: np.ndarray) -> list[str]:
    bands = np.array([0, 10, 18, 25, 35, 45, 55, 65, 75])
    labels = age_band_labels(bands.tolist())
    return [labels[i] for i in np.searchsorted(bands, ages, side="right") - 1]


def _jitter(rng: np.random.Generator, town_idx: np.ndarray, sd: float) -> tuple[np.ndarray, np.ndarray]:
    ex = np.array([TOWNS[i][2] for i in town_idx]) + rng.normal(0, sd, size=len(town_idx))
    ny = np.array([TOWNS[i][3] for i in town_idx]) + rng.normal(0, sd, size=len(town_idx))
    return np.round(ex), np.round(ny)


# ----------------------------------------------------------------------------------------------------
# One generator per schema


def fire_incidents(seed: int = DEFAULT_SEED, n: int = 600) -> pd.DataFrame:
    """Fire incidents with a spring peak of deliberate secondary fires and planted near repeats."""
    rng = _rng(seed)
    base = int(n * 0.8)
    kind = rng.choice(["Secondary fire", "Primary fire", "Chimney fire"], size=base, p=[0.65, 0.3, 0.05])
    when = _times(rng, base)
    # Grass fires peak in April and May: move a share of secondary fires into spring.
    spring = (kind == "Secondary fire") & (rng.random(base) < 0.3)
    year = np.where(rng.random(base) < 0.5, 2023, 2024)
    spring_day = pd.to_datetime([f"{y}-04-01" for y in year]) + pd.to_timedelta(
        rng.integers(0, 61, base), "D"
    )
    when = pd.DatetimeIndex(np.where(spring, spring_day + (when - when.normalize()), when))
    town = _towns(rng, base)
    x, y = _jitter(rng, town, 900)
    frame = pd.DataFrame({"when": when, "kind": kind, "town": town, "x": x, "y": y})
    deliberate_p = np.select([kind == "Secondary fire", kind == "Primary fire"], [0.75, 0.3], 0.02)
    frame["motive"] = np.where(rng.random(base) < deliberate_p, "Deliberate", "Accidental")
    frame.loc[rng.random(base) < 0.05, "motive"] = "Not known"

    # Near repeats: follow-up deliberate fires within 0-6 days and about 0-150 m of a deliberate one.
    seeds = frame[(frame.motive == "Deliberate") & (frame.kind == "Secondary fire")]
    follow = seeds.sample(n=n - base, replace=True, random_state=seed % 2**32)
    follow = follow.assign(
        when=follow.when
        + pd.to_timedelta(rng.integers(0, 7, len(follow)), "D")
        + pd.to_timedelta(rng.integers(-180, 180, len(follow)), "m"),
        x=np.round(follow.x + rng.uniform(-75, 75, len(follow))),
        y=np.round(follow.y + rng.uniform(-75, 75, len(follow))),
    )
    frame = pd.concat([frame, follow], ignore_index=True)
    frame = frame[frame.when <= END].sort_values("when", kind="stable").reset_index(drop=True)

    secondary = [
        "Grassland, woodland and crops",
        "Refuse and refuse containers",
        "Other outdoor",
        "Derelict building",
    ]
    primary = ["Dwelling", "Other building", "Road vehicle"]
    prop = np.where(
        frame.kind == "Secondary fire",
        rng.choice(secondary, size=len(frame), p=[0.45, 0.4, 0.1, 0.05]),
        np.where(
            frame.kind == "Primary fire",
            rng.choice(primary, size=len(frame), p=[0.45, 0.2, 0.35]),
            "Dwelling",
        ),
    )
    years = frame.when.dt.year.to_numpy()
    return pd.DataFrame(
        {
            "incident_ref": [
                f"SWF-{yr}-{i:06d}" for i, yr in zip(rng.permutation(len(frame)) + 1000, years, strict=True)
            ],
            "call_datetime": frame.when.dt.strftime("%Y-%m-%d %H:%M"),
            "incident_type": frame.kind,
            "motive": frame.motive,
            "property_type": prop,
            "easting": frame.x.astype(int),
            "northing": frame.y.astype(int),
            "station_area": [_town_name(i) for i in frame.town],
        }
    )


def _istv_core(rng: np.random.Generator, n: int) -> pd.DataFrame:
    when = _times(rng, n, night_weight=4.0)
    town = _towns(rng, n, np.array([t[4] for t in TOWNS]) * np.where(np.arange(len(TOWNS)) == 0, 2.0, 1.0))
    loc_types = [
        "Pub, bar or club",
        "Street or other public place",
        "Home",
        "Workplace",
        "School or college",
        "Park or open space",
        "Public transport",
        "Other",
        "Not known",
    ]
    loc_type = rng.choice(loc_types, size=n, p=[0.22, 0.33, 0.22, 0.06, 0.03, 0.05, 0.03, 0.03, 0.03])
    methods = [
        "Body (fist, feet, head)",
        "Bottle or glass",
        "Knife or other sharp object",
        "Blunt object",
        "Firearm",
        "Other",
        "Not known",
    ]
    method = rng.choice(methods, size=n, p=[0.68, 0.08, 0.07, 0.07, 0.005, 0.045, 0.05])
    desc = []
    for lt in loc_type:
        street = STREETS[rng.integers(len(STREETS))]
        if lt == "Pub, bar or club":
            desc.append(f"{VENUES[rng.integers(len(VENUES))]}, {street}")
        elif lt == "Street or other public place":
            desc.append(
                rng.choice([f"{street}", f"Outside the kebab shop, {street}", f"Taxi rank, {street}"])
            )
        elif lt == "Park or open space":
            desc.append(PARKS[rng.integers(len(PARKS))])
        elif lt == "Public transport":
            desc.append(rng.choice(["Newport bus station", "Newport railway station", "On a bus"]))
        elif lt == "Home":
            desc.append("Home address")
        else:
            desc.append("" if rng.random() < 0.5 else "Not given")
    arrival = when + pd.to_timedelta(rng.integers(20, 360, n), "m")
    time_known = rng.random(n) < 0.9
    return pd.DataFrame(
        {
            "attendance_ref": [
                f"GUH{v:07d}" for v in rng.choice(9_000_000, size=n, replace=False) + 1_000_000
            ],
            "arrival_datetime": arrival.strftime("%Y-%m-%d %H:%M"),
            "assault_date": when.strftime("%Y-%m-%d"),
            "assault_time": np.where(time_known, when.strftime("%H:%M"), ""),
            "assault_method": method,
            "location_type": loc_type,
            "location_description": desc,
            "_town": town,
            "_when": when,
        }
    )


def ed_assaults(seed: int = DEFAULT_SEED, n: int = 800) -> pd.DataFrame:
    """ISTV minimum data set as an emergency department would share it (age bands, outward codes)."""
    rng = _rng(seed + 1)
    core = _istv_core(rng, n)
    ages = _ages(rng, n, 29, 12, 12, 90)
    core["age_band"] = _age_band(ages)
    core["sex"] = rng.choice(["Male", "Female", "Not known"], size=n, p=[0.68, 0.31, 0.01])
    core["home_outward_postcode"] = [TOWNS[i][1] for i in core["_town"]]
    return core.drop(columns=["_town", "_when"])


def ed_assaults_identifiable(seed: int = DEFAULT_SEED, n: int = 300) -> pd.DataFrame:
    """An ED extract that wrongly includes names, dates of birth (dd/mm/yyyy), NHS numbers and full postcodes."""
    rng = _rng(seed + 2)
    core = _istv_core(rng, n)
    dob = _dobs(rng, pd.DatetimeIndex(core["_when"]), 14, 85)
    core["sex"] = rng.choice(["Male", "Female"], size=n, p=[0.7, 0.3])
    core["patient_name"] = _names(rng, n)
    core["date_of_birth"] = dob.strftime("%d/%m/%Y")
    core["nhs_number"] = _nhs_numbers(rng, n)
    core["home_postcode"] = _full_postcodes(rng, np.array([TOWNS[i][1] for i in core["_town"]]))
    return core.drop(columns=["_town", "_when"])


def ambulance_callouts(seed: int = DEFAULT_SEED, n: int = 800) -> pd.DataFrame:
    """Ambulance incidents with full incident postcodes (coarsened on ingest)."""
    rng = _rng(seed + 3)
    cats = ["Assault", "Alcohol related", "Overdose or poisoning", "Self harm", "Mental health", "Other"]
    cat = rng.choice(cats, size=n, p=[0.25, 0.3, 0.15, 0.1, 0.12, 0.08])
    when = _times(rng, n, night_weight=2.5)
    town = _towns(rng, n)
    alcohol = np.where(cat == "Alcohol related", True, rng.random(n) < 0.35)
    frame = pd.DataFrame(
        {
            "callout_ref": [
                f"WAS{v:08d}" for v in rng.choice(90_000_000, size=n, replace=False) + 10_000_000
            ],
            "call_datetime": when.strftime("%d/%m/%Y %H:%M"),
            "category": cat,
            "response_category": rng.choice(["1", "2", "3", "4", "5"], size=n, p=[0.05, 0.45, 0.3, 0.1, 0.1]),
            "alcohol_involved": np.where(alcohol, "Yes", "No"),
            "conveyed": np.where(rng.random(n) < 0.62, "Yes", "No"),
            "incident_postcode": _full_postcodes(rng, np.array([TOWNS[i][1] for i in town])),
        }
    )
    return frame.sort_values(
        "call_datetime", key=lambda s: pd.to_datetime(s, format="%d/%m/%Y %H:%M"), kind="stable"
    ).reset_index(drop=True)


_ASSAULT_CODES = ("X99", "Y04", "Y00", "X95", "Y08", "Y09", "X85", "Y01")
_ALCOHOL_CODES = ("F10.0", "F10.2", "F10.3", "F10.4", "T51.0", "Y90", "Y91")
_DRUG_CODES = ("F11.2", "F12.0", "F13.1", "F14.0", "F15.2", "F16.0", "F18.1", "F19.2")


def hospital_admissions(seed: int = DEFAULT_SEED, n: int = 600) -> pd.DataFrame:
    """Admissions for assault (X85-Y09) and alcohol/drugs (F10-F19, T51, Y90, Y91) by outward postcode."""
    rng = _rng(seed + 4)
    return _admissions(rng, n).drop(columns=["_when"])


def _admissions(rng: np.random.Generator, n: int) -> pd.DataFrame:
    reason = rng.choice(["Assault", "Alcohol", "Drugs"], size=n, p=[0.3, 0.5, 0.2])
    code = [
        rng.choice(_ASSAULT_CODES)
        if r == "Assault"
        else rng.choice(_ALCOHOL_CODES if r == "Alcohol" else _DRUG_CODES)
        for r in reason
    ]
    when = _times(rng, n).normalize()
    town = _towns(rng, n)
    ages = np.where(reason == "Assault", _ages(rng, n, 30, 12, 14, 90), _ages(rng, n, 48, 14, 16, 92))
    return pd.DataFrame(
        {
            "admission_ref": [
                f"ABU{v:08d}" for v in rng.choice(90_000_000, size=n, replace=False) + 10_000_000
            ],
            "admission_date": when.strftime("%Y-%m-%d"),
            "admission_reason": reason,
            "diagnosis_code": code,
            "outward_postcode": [TOWNS[i][1] for i in town],
            "age_band": _age_band(ages),
            "sex": rng.choice(["Male", "Female"], size=n, p=[0.62, 0.38]),
            "_when": when,
        }
    )


def hospital_admissions_identifiable(seed: int = DEFAULT_SEED, n: int = 200) -> pd.DataFrame:
    """Admissions with patient identifiers AND undeclared phone and e-mail columns: must be refused."""
    rng = _rng(seed + 5)
    frame = _admissions(rng, n)
    names = _names(rng, n)
    frame["patient_name"] = names
    frame["nhs_number"] = [v.replace(" ", "") for v in _nhs_numbers(rng, n)]
    frame["date_of_birth"] = _dobs(rng, pd.DatetimeIndex(frame["_when"]), 16, 90).strftime("%Y-%m-%d")
    frame["patient_postcode"] = _full_postcodes(rng, frame["outward_postcode"].to_numpy())
    mobile = rng.random(n) < 0.6
    frame["contact_phone"] = np.where(
        mobile,
        [f"07700 900{v:03d}" for v in rng.integers(0, 1000, n)],
        [f"01632 960{v:03d}" for v in rng.integers(0, 1000, n)],
    )
    frame["email"] = [f"{nm.lower().replace(' ', '.')}{i}@example.com" for i, nm in enumerate(names)]
    return frame.drop(columns=["_when"])


def licensed_premises(seed: int = DEFAULT_SEED, n: int = 150) -> pd.DataFrame:
    """A licensing register: public premises details plus the (personal) designated premises supervisor."""
    rng = _rng(seed + 6)
    cats = [
        "Pub or bar",
        "Nightclub",
        "Restaurant",
        "Off-licence or shop",
        "Supermarket",
        "Hotel",
        "Members club",
        "Takeaway",
    ]
    cat = rng.choice(cats, size=n, p=[0.3, 0.04, 0.18, 0.2, 0.05, 0.05, 0.08, 0.1])
    town = _towns(rng, n)
    x, y = _jitter(rng, town, 400)
    adjectives = ["Red", "Black", "White", "Royal", "Old", "New", "Golden", "Green"]
    nouns = ["Lion", "Horse", "Swan", "Oak", "Bell", "Anchor", "Crown", "Dragon", "Harp", "Star"]
    names = []
    for c in cat:
        a, b = adjectives[rng.integers(len(adjectives))], nouns[rng.integers(len(nouns))]
        names.append(
            {
                "Pub or bar": f"The {a} {b}",
                "Nightclub": f"Club {b}",
                "Restaurant": f"{b} Kitchen",
                "Off-licence or shop": f"{b} Stores",
                "Supermarket": f"{a} Supermarket",
                "Hotel": f"The {b} Hotel",
                "Members club": f"{TOWNS[int(rng.integers(len(TOWNS)))][0].split()[0]} Social Club",
                "Takeaway": f"{a} {b} Takeaway",
            }[c]
        )
    sales = np.select(
        [
            np.isin(cat, ["Pub or bar", "Nightclub", "Members club", "Hotel"]),
            np.isin(cat, ["Off-licence or shop", "Supermarket"]),
            cat == "Takeaway",
        ],
        ["On and off sales", "Off sales", "None"],
        "On sales",
    )
    closing = np.select(
        [
            cat == "Nightclub",
            np.isin(cat, ["Pub or bar", "Takeaway"]),
            np.isin(cat, ["Off-licence or shop", "Supermarket"]),
        ],
        ["03:00", "00:30", "23:00"],
        "23:30",
    )
    la = [TOWNS[i][5] for i in town]
    granted = pd.Timestamp("2005-11-24") + pd.to_timedelta(rng.integers(0, 7000, n), "D")
    return pd.DataFrame(
        {
            "licence_number": [f"{code}/PL/{i + 1:04d}" for i, code in enumerate(la)],
            "premises_name": names,
            "premises_address": [
                f"{rng.integers(1, 200)} {STREETS[rng.integers(len(STREETS))]}, {_town_name(i)}" for i in town
            ],
            "premises_postcode": _full_postcodes(rng, np.array([TOWNS[i][1] for i in town])),
            "licence_type": np.where(cat == "Members club", "Club premises certificate", "Premises licence"),
            "premises_category": cat,
            "alcohol_sales": sales,
            "latest_closing_time": closing,
            "late_night_refreshment": np.where(np.isin(cat, ["Takeaway", "Nightclub"]), "Yes", "No"),
            "capacity": np.where(
                np.isin(cat, ["Pub or bar", "Nightclub", "Members club", "Hotel"]),
                rng.integers(40, 900, n),
                0,
            ).astype(str),
            "granted_date": np.minimum(granted, pd.Timestamp("2025-03-31")).strftime("%Y-%m-%d"),
            "easting": x.astype(int),
            "northing": y.astype(int),
            "dps_name": _names(rng, n),
        }
    ).assign(capacity=lambda f: f.capacity.where(f.capacity != "0", ""))


def substance_treatment(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Counts of adults in treatment by quarter, outward postcode and substance (many below 5)."""
    rng = _rng(seed + 7)
    quarters = [
        f"{y}-Q{q}"
        for y, q in [(2023, 2), (2023, 3), (2023, 4), (2024, 1), (2024, 2), (2024, 3), (2024, 4), (2025, 1)]
    ]
    subs = {"Opiates": 9.0, "Non-opiates only": 2.5, "Non-opiates and alcohol": 2.0, "Alcohol only": 6.0}
    rows = []
    for q in quarters:
        for town in TOWNS:
            for s, mean in subs.items():
                lam = mean * town[4] / 2
                in_t = int(rng.poisson(lam))
                new = int(rng.binomial(in_t, 0.25))
                done = int(rng.binomial(in_t, 0.12))
                rows.append((q, town[1], s, in_t, new, done))
    return pd.DataFrame(
        rows,
        columns=[
            "quarter",
            "outward_postcode",
            "substance",
            "in_treatment",
            "new_presentations",
            "successful_completions",
        ],
    )


GENERATORS = {
    "synthetic_fire_incidents": fire_incidents,
    "synthetic_ed_assaults": ed_assaults,
    "synthetic_ed_assaults_identifiable": ed_assaults_identifiable,
    "synthetic_ambulance_callouts": ambulance_callouts,
    "synthetic_hospital_admissions": hospital_admissions,
    "synthetic_hospital_admissions_identifiable": hospital_admissions_identifiable,
    "synthetic_licensed_premises": licensed_premises,
    "synthetic_substance_treatment": substance_treatment,
}
#: Which shipped schema each sample file is for.
SAMPLE_SCHEMAS = {
    "synthetic_fire_incidents": "fire_incidents",
    "synthetic_ed_assaults": "ed_assaults",
    "synthetic_ed_assaults_identifiable": "ed_assaults",
    "synthetic_ambulance_callouts": "ambulance_callouts",
    "synthetic_hospital_admissions": "hospital_admissions",
    "synthetic_hospital_admissions_identifiable": "hospital_admissions",
    "synthetic_licensed_premises": "licensed_premises",
    "synthetic_substance_treatment": "substance_treatment",
}


def build_samples(seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Every sample file as a frame of strings, keyed by file stem (no I/O)."""
    out = {}
    for name, gen in GENERATORS.items():
        frame = gen(seed)
        out[name] = frame.astype(str).replace({"nan": "", "<NA>": "", "NaT": ""})
    return out


def write_samples(folder: str | Path | None = None, seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write every sample to ``folder`` (default: the package's ``samples/``) as UTF-8 CSV."""
    target = (
        Path(folder)
        if folder is not None
        else Path(str(resources.files("diogel.sources.partner"))) / "samples"
    )
    target.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in build_samples(seed).items():
        path = target / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        paths[name] = path
    return paths


def sample_names() -> list[str]:
    return sorted(GENERATORS)


def sample_path(name: str) -> Path:
    """Path of a shipped sample: ``"fire_incidents"``, ``"synthetic_fire_incidents"`` or with ``.csv``."""
    stem = name[:-4] if name.endswith(".csv") else name
    if not stem.startswith("synthetic_"):
        stem = f"synthetic_{stem}"
    if stem not in GENERATORS:
        raise KeyError(f"no sample {name!r}; samples: {', '.join(sample_names())}")
    return Path(str(resources.files("diogel.sources.partner"))) / "samples" / f"{stem}.csv"


def read_sample(name: str) -> pd.DataFrame:
    """A shipped sample read as strings (so NHS numbers and codes keep their leading digits)."""
    return pd.read_csv(sample_path(name), dtype=str, keep_default_na=False, na_values=[""])


if __name__ == "__main__":
    for stem, p in write_samples().items():
        print(f"{stem}: {p}")
