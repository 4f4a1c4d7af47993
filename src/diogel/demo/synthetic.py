"""Synthetic partner data: every generator behind the shipped sample files and the demo's Gwent files.

**Every record is synthetic**, drawn from a seeded NumPy generator: no record describes a real person,
incident, attendance or premises. Two families, one module:

* the **samples** (``synthetic_*.csv``, seed 20250401, April 2023 to March 2025), placed at the main Gwent
  towns (:data:`diogel.demo.places.TOWNS`), one generator per shipped partner schema. Two carry personal
  data on purpose: ``ed_assaults_identifiable`` (names, dates of birth, NHS numbers from the 999 test
  range with a valid check digit, full postcodes: all treated by the ``ed_assaults`` schema) and
  ``hospital_admissions_identifiable`` (also phone numbers from Ofcom's drama ranges and example.com
  e-mail addresses, which the ``hospital_admissions`` schema does not declare, so it must be refused);
* the **demo** files (seed 20240701, July 2024 to June 2025), placed in the real Gwent 2021 LSOAs: ED
  assaults spread over LSOAs and months in proportion to the real police-recorded violence in the bundled
  archive (with the patient's "reported to the police?" answer), and fire incidents at points inside the
  LSOA polygons with a spring peak of grass fires, a bonfire-night peak and planted near repeats.

ED assaults are generated once (the ISTV minimum data set: :func:`_istv_columns` and
:func:`_method_and_place`), placed by town for the samples (:func:`ed_assaults`) and by LSOA for the
demo (:func:`ed_assaults_gwent`). Files, paths and loading are in :mod:`diogel.demo.files`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diogel.demo import draws
from diogel.demo.places import (
    FIRE_LA_WEIGHT,
    GWENT_OUTWARD,
    GWENT_STATIONS,
    PARKS,
    STREETS,
    TOWNS,
    VENUES,
    gwent_lsoas,
    gwent_polygons,
    jitter_inside,
    points_in,
    police_violence,
)

DEFAULT_SEED = 20250401
DEMO_SEED = 20240701
DEMO_START = pd.Timestamp("2024-07-01")
DEMO_END = pd.Timestamp("2025-06-30 23:59")


# ----------------------------------------------------------------------------------------------------
# ED assaults: the ISTV minimum data set, once

LOCATION_TYPES = (
    "Pub, bar or club",
    "Street or other public place",
    "Home",
    "Workplace",
    "School or college",
    "Park or open space",
    "Public transport",
    "Other",
    "Not known",
)
METHODS = (
    "Body (fist, feet, head)",
    "Bottle or glass",
    "Knife or other sharp object",
    "Blunt object",
    "Firearm",
    "Other",
    "Not known",
)
_METHOD_P = [0.68, 0.08, 0.07, 0.07, 0.005, 0.045, 0.05]
# P(the patient says the assault was reported to the police) by location type (the demo).
_REPORTED = dict(zip(LOCATION_TYPES, (0.40, 0.45, 0.28, 0.55, 0.35, 0.38, 0.50, 0.40, 0.33), strict=True))


def _method_and_place(
    rng: np.random.Generator, loc_type: np.ndarray, transport: tuple[str, str, str]
) -> tuple[np.ndarray, list[str]]:
    """The assault method and the free-text place of each assault (a street for every one, drawn first)."""
    method = rng.choice(list(METHODS), size=len(loc_type), p=_METHOD_P)
    desc = []
    for lt in loc_type:
        street = STREETS[rng.integers(len(STREETS))]
        if lt == "Pub, bar or club":
            desc.append(f"{VENUES[rng.integers(len(VENUES))]}, {street}")
        elif lt == "Street or other public place":
            desc.append(
                str(rng.choice([street, f"Outside the kebab shop, {street}", f"Taxi rank, {street}"]))
            )
        elif lt == "Park or open space":
            desc.append(PARKS[rng.integers(len(PARKS))])
        elif lt == "Public transport":
            desc.append(str(rng.choice(list(transport))))
        elif lt == "Home":
            desc.append("Home address")
        else:
            desc.append("" if rng.random() < 0.5 else "Not given")
    return method, desc


def _attendance_refs(rng: np.random.Generator, n: int) -> list[str]:
    return [f"GUH{v:07d}" for v in rng.choice(9_000_000, size=n, replace=False) + 1_000_000]


def _istv_columns(
    refs: list[str],
    arrival: pd.DatetimeIndex,
    when: pd.DatetimeIndex,
    time_known: np.ndarray,
    method: np.ndarray,
    loc_type: np.ndarray,
    desc: list[str],
) -> dict[str, object]:
    """The ISTV columns every ED extract shares, in the schema's order."""
    return {
        "attendance_ref": refs,
        "arrival_datetime": arrival.strftime("%Y-%m-%d %H:%M"),
        "assault_date": when.strftime("%Y-%m-%d"),
        "assault_time": np.where(time_known, when.strftime("%H:%M"), ""),
        "assault_method": method,
        "location_type": loc_type,
        "location_description": desc,
    }


def _istv_by_town(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """ED assaults at the towns (the samples), with the town and time kept for the callers."""
    when = draws.times(rng, n, night_weight=4.0)
    town = draws.towns(
        rng, n, np.array([t[4] for t in TOWNS]) * np.where(np.arange(len(TOWNS)) == 0, 2.0, 1.0)
    )
    loc_type = rng.choice(
        list(LOCATION_TYPES), size=n, p=[0.22, 0.33, 0.22, 0.06, 0.03, 0.05, 0.03, 0.03, 0.03]
    )
    method, desc = _method_and_place(
        rng, loc_type, ("Newport bus station", "Newport railway station", "On a bus")
    )
    arrival = when + pd.to_timedelta(rng.integers(20, 360, n), "m")
    time_known = rng.random(n) < 0.9
    refs = _attendance_refs(rng, n)
    columns = _istv_columns(refs, arrival, when, time_known, method, loc_type, desc)
    return pd.DataFrame({**columns, "_town": town, "_when": when})


def ed_assaults(seed: int = DEFAULT_SEED, n: int = 800) -> pd.DataFrame:
    """ISTV minimum data set as an emergency department would share it (age bands, outward codes)."""
    rng = draws.rng(seed + 1)
    core = _istv_by_town(rng, n)
    ages = draws.ages(rng, n, 29, 12, 12, 90)
    core["age_band"] = draws.age_band(ages)
    core["sex"] = rng.choice(["Male", "Female", "Not known"], size=n, p=[0.68, 0.31, 0.01])
    core["home_outward_postcode"] = [TOWNS[i][1] for i in core["_town"]]
    return core.drop(columns=["_town", "_when"])


def ed_assaults_identifiable(seed: int = DEFAULT_SEED, n: int = 300) -> pd.DataFrame:
    """An ED extract that wrongly includes names, dates of birth (dd/mm/yyyy), NHS numbers and full postcodes."""
    rng = draws.rng(seed + 2)
    core = _istv_by_town(rng, n)
    dob = draws.dobs(rng, pd.DatetimeIndex(core["_when"]), 14, 85)
    core["sex"] = rng.choice(["Male", "Female"], size=n, p=[0.7, 0.3])
    core["patient_name"] = draws.names(rng, n)
    core["date_of_birth"] = dob.strftime("%d/%m/%Y")
    core["nhs_number"] = draws.nhs_numbers(rng, n)
    core["home_postcode"] = draws.full_postcodes(rng, np.array([TOWNS[i][1] for i in core["_town"]]))
    return core.drop(columns=["_town", "_when"])


def _night_hour(rng: np.random.Generator, n: int, night: bool) -> np.ndarray:
    hours = np.arange(24)
    if night:
        w = np.where((hours >= 21) | (hours <= 3), 6.0, np.where((hours >= 17) & (hours <= 20), 2.0, 0.6))
    else:
        w = np.where((hours >= 16) & (hours <= 23), 2.5, np.where(hours <= 6, 0.7, 1.0))
    return rng.choice(24, size=n, p=w / w.sum())


def ed_assaults_gwent(seed: int = DEMO_SEED, n: int = 1200) -> pd.DataFrame:
    """ED assault attendances in Gwent LSOAs in proportion to police-recorded violence (the demo)."""
    # Over 80 lines: one draw after another, in the order that reproduces the shipped file byte for byte.
    rng = np.random.default_rng(seed)
    lsoas = gwent_lsoas()
    vso = police_violence()
    vso = vso[vso.lsoa_code.isin(set(lsoas.lsoa_code))]
    by_lsoa = vso.groupby("lsoa_code")["count"].sum().reindex(lsoas.lsoa_code, fill_value=0).astype(float)
    # Night-time-economy violence is more concentrated than violence overall, hence the power.
    w_lsoa = (by_lsoa + 1.0) ** 1.2
    lsoa = rng.choice(by_lsoa.index.to_numpy(), size=n, p=(w_lsoa / w_lsoa.sum()).to_numpy())
    by_month = vso.groupby("month")["count"].sum()
    month = rng.choice(by_month.index.to_numpy(), size=n, p=(by_month / by_month.sum()).to_numpy())

    centre = (by_lsoa.rank(pct=True) > 0.9).reindex(lsoa).to_numpy()  # the busiest tenth: town centres
    types = list(LOCATION_TYPES)
    p_centre = [0.32, 0.36, 0.12, 0.05, 0.02, 0.04, 0.04, 0.03, 0.02]
    p_other = [0.10, 0.28, 0.35, 0.06, 0.04, 0.07, 0.02, 0.05, 0.03]
    loc_type = np.where(centre, rng.choice(types, size=n, p=p_centre), rng.choice(types, size=n, p=p_other))
    night = np.isin(loc_type, ["Pub, bar or club", "Street or other public place"])

    start = pd.to_datetime(month + "-01")
    days_in = start.days_in_month.to_numpy()
    day = (rng.random(n) * days_in).astype(int)
    date = start + pd.to_timedelta(day, unit="D")
    # Half of night-time-economy assaults move to the nearest Friday or Saturday.
    to_weekend = night & (rng.random(n) < 0.5)
    shift = (4 - date.day_of_week.to_numpy()) % 7 + rng.integers(0, 2, size=n)
    shifted = date + pd.to_timedelta(np.where(to_weekend, shift, 0), unit="D")
    same_month = shifted.month == date.month
    date = pd.DatetimeIndex(np.where(same_month, shifted, date))
    hour = np.where(night, _night_hour(rng, n, True), _night_hour(rng, n, False))
    when = date + pd.to_timedelta(hour * 60 + rng.integers(0, 60, n), unit="m")
    order = np.argsort(when.to_numpy(), kind="stable")

    method, desc = _method_and_place(rng, loc_type, ("Bus station", "Railway station", "On a bus"))
    p_rep = np.array([_REPORTED[t] for t in loc_type])
    answer_known = rng.random(n) >= 0.12
    reported = np.where(answer_known, np.where(rng.random(n) < p_rep, "Yes", "No"), "Not known")
    la = lsoas.set_index("lsoa_code").la_code.reindex(lsoa).to_numpy()
    outward = [str(rng.choice(GWENT_OUTWARD[a])) for a in la]
    geocoded = rng.random(n) >= 0.08
    time_known = rng.random(n) < 0.88
    arrival = when + pd.to_timedelta(rng.integers(20, 360, n), "m")
    ages = draws.ages(rng, n, 29, 12, 12, 90)
    refs = _attendance_refs(rng, n)
    frame = pd.DataFrame(
        {
            **_istv_columns(refs, arrival, when, time_known, method, loc_type, desc),
            "assault_lsoa": np.where(geocoded, lsoa, ""),
            "reported_to_police": reported,
            "age_band": draws.age_band(ages),
            "sex": rng.choice(["Male", "Female", "Not known"], size=n, p=[0.7, 0.29, 0.01]),
            "home_outward_postcode": outward,
        }
    )
    return frame.iloc[order].reset_index(drop=True)


# ----------------------------------------------------------------------------------------------------
# Fire incidents, ambulance call-outs, hospital admissions, licensed premises, treatment


def fire_incidents(seed: int = DEFAULT_SEED, n: int = 600) -> pd.DataFrame:
    """Fire incidents with a spring peak of deliberate secondary fires and planted near repeats."""
    rng = draws.rng(seed)
    base = int(n * 0.8)
    kind = rng.choice(["Secondary fire", "Primary fire", "Chimney fire"], size=base, p=[0.65, 0.3, 0.05])
    when = draws.times(rng, base)
    # Grass fires peak in April and May: move a share of secondary fires into spring.
    spring = (kind == "Secondary fire") & (rng.random(base) < 0.3)
    year = np.where(rng.random(base) < 0.5, 2023, 2024)
    spring_day = pd.to_datetime([f"{y}-04-01" for y in year]) + pd.to_timedelta(
        rng.integers(0, 61, base), "D"
    )
    when = pd.DatetimeIndex(np.where(spring, spring_day + (when - when.normalize()), when))
    town = draws.towns(rng, base)
    x, y = draws.jitter(rng, town, 900)
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
    frame = frame[frame.when <= draws.END].sort_values("when", kind="stable").reset_index(drop=True)

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
            "station_area": [draws.town_name(i) for i in frame.town],
        }
    )


def fire_incidents_gwent(seed: int = DEMO_SEED, n: int = 1100, repeats: int = 250) -> pd.DataFrame:
    """Fire incidents at points inside Gwent LSOAs, with seasonal peaks and planted near repeats."""
    rng = np.random.default_rng(seed + 1)
    lsoas = gwent_lsoas()
    # LSOA effects make hotspots; the authority weight puts most of them in the valleys.
    effect = rng.lognormal(0.0, 0.8, len(lsoas)) * lsoas.la_code.map(FIRE_LA_WEIGHT).to_numpy()
    lsoa = rng.choice(lsoas.lsoa_code.to_numpy(), size=n, p=effect / effect.sum())
    kind = rng.choice(["Secondary fire", "Primary fire", "Chimney fire"], size=n, p=[0.65, 0.3, 0.05])
    days = (DEMO_END.normalize() - DEMO_START).days + 1
    day = rng.integers(0, days, n)
    # Grass fires peak in March to May; refuse fires around bonfire night.
    spring = (kind == "Secondary fire") & (rng.random(n) < 0.35)
    day = np.where(spring, (pd.Timestamp("2025-03-01") - DEMO_START).days + rng.integers(0, 92, n), day)
    bonfire = (kind == "Secondary fire") & ~spring & (rng.random(n) < 0.06)
    day = np.where(bonfire, (pd.Timestamp("2024-11-01") - DEMO_START).days + rng.integers(0, 8, n), day)
    hours = np.arange(24)
    hw = np.where((hours >= 15) & (hours <= 22), 3.0, np.where(hours <= 6, 0.5, 1.0))
    hour = rng.choice(24, size=n, p=hw / hw.sum())
    when = DEMO_START + pd.to_timedelta(day, "D") + pd.to_timedelta(hour * 60 + rng.integers(0, 60, n), "m")
    polygons = gwent_polygons(pd.Series(lsoa))
    x, y = points_in(rng, polygons, lsoa)
    deliberate_p = np.select([kind == "Secondary fire", kind == "Primary fire"], [0.75, 0.3], 0.02)
    motive = np.where(rng.random(n) < deliberate_p, "Deliberate", "Accidental")
    motive = np.where(rng.random(n) < 0.04, "Not known", motive)
    frame = pd.DataFrame({"when": when, "kind": kind, "motive": motive, "lsoa": lsoa, "x": x, "y": y})

    seeds = frame[(frame.motive == "Deliberate") & (frame.kind == "Secondary fire")]
    follow = seeds.iloc[rng.integers(0, len(seeds), repeats)].copy()
    follow["when"] = (
        follow.when
        + pd.to_timedelta(rng.integers(0, 7, repeats), "D")
        + pd.to_timedelta(rng.integers(-180, 180, repeats), "m")
    )
    follow["x"], follow["y"] = jitter_inside(rng, polygons, follow, 75.0)
    frame = pd.concat([frame, follow], ignore_index=True)
    frame = frame[(frame.when >= DEMO_START) & (frame.when <= DEMO_END)].sort_values("when", kind="stable")
    frame = frame.reset_index(drop=True)

    secondary = [
        "Grassland, woodland and crops",
        "Refuse and refuse containers",
        "Other outdoor",
        "Derelict building",
    ]
    primary = ["Dwelling", "Other building", "Road vehicle"]
    m = len(frame)
    prop = np.where(
        frame.kind == "Secondary fire",
        rng.choice(secondary, size=m, p=[0.5, 0.35, 0.1, 0.05]),
        np.where(frame.kind == "Primary fire", rng.choice(primary, size=m, p=[0.45, 0.2, 0.35]), "Dwelling"),
    )
    nov = frame.when.between("2024-11-01", "2024-11-08 23:59") & (frame.kind == "Secondary fire")
    prop = np.where(nov & (rng.random(m) < 0.7), "Refuse and refuse containers", prop)
    la = lsoas.set_index("lsoa_code").la_code.reindex(frame.lsoa).to_numpy()
    years = frame.when.dt.year.to_numpy()
    return pd.DataFrame(
        {
            "incident_ref": [
                f"SWF-{yr}-{i:06d}" for i, yr in zip(rng.permutation(m) + 20000, years, strict=True)
            ],
            "call_datetime": frame.when.dt.strftime("%Y-%m-%d %H:%M"),
            "incident_type": frame.kind,
            "motive": frame.motive,
            "property_type": prop,
            "easting": np.round(frame.x).astype(int),
            "northing": np.round(frame.y).astype(int),
            "station_area": [str(rng.choice(GWENT_STATIONS[a])) for a in la],
        }
    )


def ambulance_callouts(seed: int = DEFAULT_SEED, n: int = 800) -> pd.DataFrame:
    """Ambulance incidents with full incident postcodes (coarsened on ingest)."""
    rng = draws.rng(seed + 3)
    cats = ["Assault", "Alcohol related", "Overdose or poisoning", "Self harm", "Mental health", "Other"]
    cat = rng.choice(cats, size=n, p=[0.25, 0.3, 0.15, 0.1, 0.12, 0.08])
    when = draws.times(rng, n, night_weight=2.5)
    town = draws.towns(rng, n)
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
            "incident_postcode": draws.full_postcodes(rng, np.array([TOWNS[i][1] for i in town])),
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
    rng = draws.rng(seed + 4)
    return _admissions(rng, n).drop(columns=["_when"])


def _admissions(rng: np.random.Generator, n: int) -> pd.DataFrame:
    reason = rng.choice(["Assault", "Alcohol", "Drugs"], size=n, p=[0.3, 0.5, 0.2])
    code = [
        rng.choice(_ASSAULT_CODES)
        if r == "Assault"
        else rng.choice(_ALCOHOL_CODES if r == "Alcohol" else _DRUG_CODES)
        for r in reason
    ]
    when = draws.times(rng, n).normalize()
    town = draws.towns(rng, n)
    ages = np.where(
        reason == "Assault", draws.ages(rng, n, 30, 12, 14, 90), draws.ages(rng, n, 48, 14, 16, 92)
    )
    return pd.DataFrame(
        {
            "admission_ref": [
                f"ABU{v:08d}" for v in rng.choice(90_000_000, size=n, replace=False) + 10_000_000
            ],
            "admission_date": when.strftime("%Y-%m-%d"),
            "admission_reason": reason,
            "diagnosis_code": code,
            "outward_postcode": [TOWNS[i][1] for i in town],
            "age_band": draws.age_band(ages),
            "sex": rng.choice(["Male", "Female"], size=n, p=[0.62, 0.38]),
            "_when": when,
        }
    )


def hospital_admissions_identifiable(seed: int = DEFAULT_SEED, n: int = 200) -> pd.DataFrame:
    """Admissions with patient identifiers AND undeclared phone and e-mail columns: must be refused."""
    rng = draws.rng(seed + 5)
    frame = _admissions(rng, n)
    names = draws.names(rng, n)
    frame["patient_name"] = names
    frame["nhs_number"] = [v.replace(" ", "") for v in draws.nhs_numbers(rng, n)]
    frame["date_of_birth"] = draws.dobs(rng, pd.DatetimeIndex(frame["_when"]), 16, 90).strftime("%Y-%m-%d")
    frame["patient_postcode"] = draws.full_postcodes(rng, frame["outward_postcode"].to_numpy())
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
    rng = draws.rng(seed + 6)
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
    town = draws.towns(rng, n)
    x, y = draws.jitter(rng, town, 400)
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
                f"{rng.integers(1, 200)} {STREETS[rng.integers(len(STREETS))]}, {draws.town_name(i)}"
                for i in town
            ],
            "premises_postcode": draws.full_postcodes(rng, np.array([TOWNS[i][1] for i in town])),
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
            "dps_name": draws.names(rng, n),
        }
    ).assign(capacity=lambda f: f.capacity.where(f.capacity != "0", ""))


def substance_treatment(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Counts of adults in treatment by quarter, outward postcode and substance (many below 5)."""
    rng = draws.rng(seed + 7)
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
