"""Where the synthetic partner data are placed: invented Gwent names and the real frame they are drawn in.

Invented: street, venue and park names, and the towns' approximate British National Grid centres (their
outward postcodes are real). Real: the Gwent 2021 LSOAs and their polygons from the bundled lookup and
boundaries, and police.uk "Violence and sexual offences" in the bundled Gwent archive, which the demo's
ED assaults follow so that the Cardiff Model view compares like with like.
"""

from __future__ import annotations

import gzip
import io
import zipfile

import numpy as np
import pandas as pd

from diogel.warehouse.reference import demo_police_archive

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

GWENT_LAS = {
    "W06000018": "Caerphilly",
    "W06000019": "Blaenau Gwent",
    "W06000020": "Torfaen",
    "W06000021": "Monmouthshire",
    "W06000022": "Newport",
}
# Real outward codes of each authority's main towns (home postcodes are given only as outward codes).
GWENT_OUTWARD = {
    "W06000018": ("CF83", "NP11", "NP12", "NP24"),
    "W06000019": ("NP13", "NP22", "NP23"),
    "W06000020": ("NP4", "NP44"),
    "W06000021": ("NP7", "NP16", "NP25", "NP26"),
    "W06000022": ("NP10", "NP18", "NP19", "NP20"),
}
GWENT_STATIONS = {
    "W06000018": ("Caerphilly", "Bargoed", "Risca", "Ystrad Mynach"),
    "W06000019": ("Ebbw Vale", "Tredegar", "Abertillery", "Brynmawr"),
    "W06000020": ("Cwmbran", "Pontypool"),
    "W06000021": ("Abergavenny", "Chepstow", "Monmouth", "Caldicot"),
    "W06000022": ("Malpas", "Duffryn", "Maindee"),
}
# Relative rate of fires per LSOA by authority: deliberate grass fires are a valleys problem.
FIRE_LA_WEIGHT = {"W06000019": 1.6, "W06000018": 1.3, "W06000020": 1.2, "W06000022": 1.0, "W06000021": 0.4}


def gwent_lsoas() -> pd.DataFrame:
    """Gwent's 2021 LSOAs from the bundled lookup: ``lsoa_code``, ``lsoa_name``, ``la_code``, ``la_name``."""
    from diogel import data

    lk = pd.read_csv(data.path("reference", "wales", "lookup_lsoa21_ward24_ltla24.csv.gz"), dtype=str)
    g = lk[lk.ltla24_code.isin(GWENT_LAS)].drop_duplicates("lsoa21_code")
    out = g.rename(
        columns={"lsoa21_code": "lsoa_code", "lsoa21_name": "lsoa_name", "ltla24_code": "la_code"}
    )[["lsoa_code", "lsoa_name", "la_code"]]
    out["la_name"] = out.la_code.map(GWENT_LAS)
    return out.sort_values("lsoa_code").reset_index(drop=True)


def gwent_polygons(codes: pd.Series):  # noqa: ANN202
    import geopandas as gpd

    from diogel import data

    raw = gzip.decompress(data.path("reference", "wales", "lsoa21_boundaries.geojson.gz").read_bytes())
    gdf = gpd.read_file(io.BytesIO(raw))
    gdf = gdf[gdf.LSOA21CD.isin(set(codes))].to_crs("EPSG:27700")
    return gdf.set_index("LSOA21CD")


def police_violence() -> pd.DataFrame:
    """Real police.uk violence and sexual offences in the bundled Gwent archive: ``lsoa_code``, ``month``, ``count``.

    Counted as diogel counts them: one row per distinct Crime ID (its earliest month). Only the samples'
    months (2024-07..2025-06) count, so the samples stay the same whatever else the archive holds.
    """
    frames = []
    with zipfile.ZipFile(demo_police_archive()) as zf:
        for name in sorted(zf.namelist()):
            if name.endswith("-street.csv"):
                frames.append(pd.read_csv(zf.open(name), dtype=str, keep_default_na=False))
    df = pd.concat(frames, ignore_index=True)
    df = df[df["Month"].between("2024-07", "2025-06")]
    v = df[df["Crime type"] == "Violence and sexual offences"].sort_values("Month", kind="stable")
    v = v.drop_duplicates("Crime ID")
    return (
        v.groupby(["LSOA code", "Month"]).size().rename("count").reset_index()
        .rename(columns={"LSOA code": "lsoa_code", "Month": "month"})
    )  # fmt: skip


def points_in(rng: np.random.Generator, polygons, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """One uniform random point inside the polygon of each code (rejection sampling in its bounds)."""
    import shapely

    xs = np.empty(len(codes))
    ys = np.empty(len(codes))
    geoms = polygons.geometry
    for i, code in enumerate(codes):
        geom = geoms.loc[code]
        minx, miny, maxx, maxy = geom.bounds
        while True:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(geom, x, y):
                xs[i], ys[i] = x, y
                break
    return xs, ys


def jitter_inside(rng: np.random.Generator, polygons, frame: pd.DataFrame, half: float):  # noqa: ANN001, ANN202
    """Points within ``half`` metres (each axis) of ``frame.x, frame.y`` and inside the same LSOA."""
    import shapely

    xs, ys = [], []
    for code, x0, y0 in zip(frame.lsoa, frame.x, frame.y, strict=True):
        geom = polygons.geometry.loc[code]
        while True:
            x, y = x0 + rng.uniform(-half, half), y0 + rng.uniform(-half, half)
            if shapely.contains_xy(geom, x, y):
                break
        xs.append(x)
        ys.append(y)
    return np.array(xs), np.array(ys)
