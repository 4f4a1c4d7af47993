"""The reference-data loaders on the real files in ../shared/data (see its README.md).

Population, deprivation (every published layout), boundaries (GeoJSON, GeoPackage, shapefile),
the geography lookups and the harm weights. Expectations are computed here from the raw files
with the csv module (or, for areas, with a geodesic calculation on the ellipsoid), independently
of the loaders, which read with Arrow and DuckDB and project to British National Grid.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections import Counter
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from conftest import shared
from diogel.warehouse.core import FileResult, Warehouse


def raw(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def load(wh: Warehouse, kind: str, path: Path, **options: object) -> FileResult:
    (res,) = wh.ingest(kind, path, options=options or None)
    assert res.status == "loaded", res.error
    assert res.rows_read == res.rows_valid + res.quarantined
    return res


def rows_of(wh: Warehouse, table: str, res: FileResult) -> pd.DataFrame:
    t = wh.table(table)
    return wh.execute(t.filter(t.file_id == res.file_id).order_by("line"))


def write_subset(src: Path, dest: Path, keep: slice | list[int]) -> list[dict[str, str]]:
    """Copy the header and some data lines of a real file, unchanged, to ``dest``."""
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    body = lines[1:][keep] if isinstance(keep, slice) else [lines[1:][i] for i in keep]
    dest.write_text(lines[0] + "".join(body), encoding="utf-8")
    return raw(dest)


# -- population ------------------------------------------------------------------------------------
AGES = [str(a) for a in range(90)] + ["90+"]


def test_population_wales_2019(duckdb_warehouse: Warehouse) -> None:
    path = shared("population", "population19_lsoa11_wales.csv")
    src = raw(path)
    res = load(duckdb_warehouse, "population", path)
    assert (res.rows_read, res.quarantined, res.loaded) == (1909, 0, 1909)
    df = rows_of(duckdb_warehouse, "population", res)
    assert len(df) == 1909 * 91
    assert df.lsoa_code.nunique() == 1909
    assert sorted(df.age.unique()) == list(range(91))  # 90 stands for 90 and over
    assert set(df.year) == {2019} and set(df.lsoa_vintage) == {2011}
    assert df.persons.sum() == sum(int(r["total_population"]) for r in src)

    # Youth (10-17) in one LSOA: the sum of its columns '10'..'17' in the raw file.
    code = "W01001440"
    (row,) = [r for r in src if r["lsoa11_code"] == code]
    youth = sum(int(row[str(a)]) for a in range(10, 18))
    one = df[df.lsoa_code == code]
    assert one[one.age.between(10, 17)].persons.sum() == youth
    assert one.set_index("age").persons.loc[90] == int(row["90+"])
    # And through the warehouse as an analyst would query it.
    t = duckdb_warehouse.table("population")
    q = t.filter(t.lsoa_code == code, t.age >= 10, t.age <= 17).persons.sum()
    assert duckdb_warehouse.execute(q) == youth


def test_population_total_mismatch_quarantined(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    src = raw(shared("population", "population19_lsoa11_wales.csv"))[:30]
    bad = dict(src[4])
    bad["total_population"] = str(int(bad["total_population"]) + 1)  # data row 5: physical line 6
    rows = [*src[:4], bad, *src[5:]]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(src[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path = tmp_path / "population19_lsoa11_wales_excerpt.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    (res,) = duckdb_warehouse.ingest("population", path)
    assert res.status == "loaded"
    assert (res.rows_read, res.rows_valid, res.quarantined) == (30, 29, 1)
    q = duckdb_warehouse.quarantine(res.file_id)
    assert q.line.tolist() == [6]
    assert q.column_name.tolist() == ["total"]
    assert bad["total_population"] in q.reason.iloc[0]
    assert str(sum(int(bad[a]) for a in AGES)) in q.reason.iloc[0]
    df = rows_of(duckdb_warehouse, "population", res)
    assert bad["lsoa11_code"] not in set(df.lsoa_code)
    assert len(df) == 29 * 91


def test_population_year_is_not_the_lsoa_vintage(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    # A file renamed without its year: "lsoa11" is the LSOA vintage, not the year of the estimate,
    # so the loader must ask for --year rather than label mid-2019 counts as 2011.
    path = tmp_path / "population_lsoa11_wales.csv"
    write_subset(shared("population", "population19_lsoa11_wales.csv"), path, slice(0, 10))
    (res,) = duckdb_warehouse.ingest("population", path)
    assert res.status == "refused", "year taken from the file name 'population_lsoa11_wales.csv'"
    assert "--year" in res.error and res.error.startswith(str(path))
    res = load(duckdb_warehouse, "population", path, year=2019)
    assert set(rows_of(duckdb_warehouse, "population", res).year) == {2019}


# -- deprivation -----------------------------------------------------------------------------------
# Published column -> (domain, measure), written out by hand for each layout.
WIMD_RANKS = {
    "WIMD 2019": ("overall", "rank"), "Income": ("income", "rank"), "Employment": ("employment", "rank"),
    "Health": ("health", "rank"), "Education": ("education", "rank"),
    "Access to Services": ("access_to_services", "rank"), "Housing": ("housing", "rank"),
    "Community Safety": ("crime", "rank"), "Physical Environment": ("environment", "rank"),
}  # fmt: skip
WIMD_DECILES = {
    "WIMD 2019 Overall Rank": ("overall", "rank"), "WIMD 2019 Overall Decile": ("overall", "decile"),
    "WIMD 2019 Overall Quintile": ("overall", "quintile"),
    "WIMD 2019 Overall Quartile": ("overall", "quartile"),
}  # fmt: skip
TIDY_DOMAINS = {
    "IMD": "overall", "Income": "income", "Employment": "employment", "Health": "health",
    "Education": "education", "Housing": "housing", "Access": "access_to_services", "Crime": "crime",
    "Environment": "environment", "Housing_and_Access": "barriers_to_housing_and_services",
    "Housing_and_Services": "barriers_to_housing_and_services",
}  # fmt: skip


def _tidy(header: list[str]) -> dict[str, tuple[str, str]]:
    out = {}
    for h in header[1:]:
        prefix, measure = h.rsplit("_", 1)
        out[h] = (TIDY_DOMAINS[prefix], measure)
    return out


def _expected(src: list[dict[str, str]], code_col: str, mapping: dict[str, tuple[str, str]]) -> dict:
    return {(r[code_col], *mapping[c]): float(r[c]) for r in src for c in mapping}


def _stored(df: pd.DataFrame) -> dict:
    return {(c, d, m): v for c, d, m, v in zip(df.lsoa_code, df.domain, df.measure, df.value, strict=True)}


@pytest.mark.parametrize(
    ("name", "code_col", "layout", "index", "vintage", "n_cols"),
    [
        ("wimd2019_ranks_by_lsoa11.csv", "LSOA Code", WIMD_RANKS, "WIMD 2019", 2011, 9),
        (
            "wimd2019_deciles_quintiles_quartiles_by_lsoa11.csv",
            "LSOA Code",
            WIMD_DECILES,
            "WIMD 2019",
            2011,
            4,
        ),
        ("imd2019_wales_lsoa11.csv", "lsoa11_code", None, "WIMD 2019", 2011, 27),
    ],
    ids=["wimd-ranks", "wimd-deciles", "imd2019-wales-scores"],
)
def test_deprivation_wales_layouts(
    duckdb_warehouse: Warehouse,
    name: str,
    code_col: str,
    layout: dict | None,
    index: str,
    vintage: int,
    n_cols: int,
) -> None:
    path = shared("deprivation", name)
    src = raw(path)
    mapping = layout if layout is not None else _tidy(list(src[0]))
    assert len(mapping) == n_cols
    res = load(duckdb_warehouse, "deprivation", path)
    assert (res.rows_read, res.quarantined) == (1909, 0)
    df = rows_of(duckdb_warehouse, "deprivation", res)
    assert len(df) == 1909 * n_cols
    assert set(df.index_name) == {index} and set(df.lsoa_vintage) == {vintage}
    assert _stored(df) == _expected(src, code_col, mapping)
    # Spot check, read off the raw file: W01000001 (Aberffraw & Rhosneigr 1) ranks 885th overall
    # and 914th on community safety, which IMD-style tables call "crime".
    got = _stored(df)
    assert got[("W01000001", "overall", "rank")] == 885.0
    if layout is not WIMD_DECILES:
        assert got[("W01000001", "crime", "rank")] == 914.0


@pytest.mark.parametrize(
    ("name", "index", "vintage", "n_cols"),
    [
        ("imd2019_england_lsoa11.csv", "IMD 2019", 2011, 16),
        ("imd2025_england_lsoa21.csv", "IMD 2025", 2021, 24),
    ],
)
def test_deprivation_england_layouts(
    duckdb_warehouse: Warehouse, tmp_path: Path, name: str, index: str, vintage: int, n_cols: int
) -> None:
    # The full English files are 33k LSOAs; 300 real rows from the start and the end are enough.
    src = write_subset(shared("deprivation", name), tmp_path / name, [*range(150), *range(-150, 0)])
    mapping = _tidy(list(src[0]))
    assert len(mapping) == n_cols
    res = load(duckdb_warehouse, "deprivation", tmp_path / name)
    assert (res.rows_read, res.quarantined) == (300, 0)
    df = rows_of(duckdb_warehouse, "deprivation", res)
    assert len(df) == 300 * n_cols
    assert set(df.index_name) == {index} and set(df.lsoa_vintage) == {vintage}
    assert _stored(df) == _expected(src, f"lsoa{str(vintage)[2:]}_code", mapping)
    assert set(df.domain) >= {"barriers_to_housing_and_services", "crime", "overall"}


def test_deprivation_year_is_not_the_lsoa_vintage(duckdb_warehouse: Warehouse, tmp_path: Path) -> None:
    # The WIMD rank table renamed without its year: its header says "WIMD 2019"; "lsoa11" in the
    # name is the LSOA vintage and must not make it "WIMD 2011".
    path = tmp_path / "wimd_ranks_lsoa11_wales.csv"
    write_subset(shared("deprivation", "wimd2019_ranks_by_lsoa11.csv"), path, slice(0, 20))
    (res,) = duckdb_warehouse.ingest("deprivation", path)
    if res.status == "refused":  # asking for --year is also acceptable
        assert "--year" in res.error
        return
    assert set(rows_of(duckdb_warehouse, "deprivation", res).index_name) == {"WIMD 2019"}


def test_deprivation_by_local_authority_is_refused(duckdb_warehouse: Warehouse) -> None:
    # imd2019_wales_ltla22.csv is by local authority, not LSOA: not a deprivation-by-LSOA file.
    path = shared("deprivation", "imd2019_wales_ltla22.csv")
    (res,) = duckdb_warehouse.ingest("deprivation", path)
    assert res.status == "refused"
    assert res.error.startswith(str(path)) and "\n" not in res.error
    assert duckdb_warehouse.status().empty


# -- boundaries ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gwent_lsoa21() -> gpd.GeoDataFrame:
    """Real LSOA 2021 polygons of Blaenau Gwent and Torfaen (WGS84), as published."""
    g = gpd.read_file(shared("geography", "lsoa21_boundaries.geojson"))
    sub = g[g.LSOA21NM.str.match(r"(Blaenau Gwent|Torfaen) ")][["LSOA21CD", "LSOA21NM", "geometry"]]
    return sub.sort_values("LSOA21CD").reset_index(drop=True)


def _geodesic_km2(geom: shapely.Geometry) -> float:
    from pyproj import Geod

    area, _ = Geod(ellps="GRS80").geometry_area_perimeter(geom)
    return abs(area) / 1e6


def test_boundaries_same_in_geojson_geopackage_shapefile(
    duckdb_warehouse: Warehouse, gwent_lsoa21: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    n = len(gwent_lsoa21)
    assert n > 80  # 47 + 60 LSOAs in 2021, give or take
    geojson = tmp_path / "gwent_lsoa21.geojson"
    gwent_lsoa21.to_file(geojson, driver="GeoJSON")
    bng = gwent_lsoa21.to_crs(27700)
    gpkg = tmp_path / "gwent_lsoa21.gpkg"
    bng.to_file(gpkg, driver="GPKG")
    shp = tmp_path / "gwent_lsoa21.shp"
    bng.to_file(shp)
    frames = {}
    for path in (geojson, gpkg, shp):
        res = load(duckdb_warehouse, "boundaries", path)
        assert (res.rows_read, res.quarantined) == (n, 0)
        frames[path.suffix] = rows_of(duckdb_warehouse, "lsoa_boundaries", res).set_index("lsoa_code")
    want_codes = gwent_lsoa21.LSOA21CD.tolist()
    # Independent area: geodesic on the GRS80 ellipsoid from the published WGS84 polygons. British
    # National Grid's scale error is under 0.1% in Wales, so the projected areas agree to 0.2%.
    geodesic = pd.Series([_geodesic_km2(g) for g in gwent_lsoa21.geometry], index=want_codes)
    for suffix, df in frames.items():
        assert df.index.tolist() == want_codes, suffix
        assert set(df.lsoa_vintage) == {2021}
        assert df.lsoa_name.tolist() == gwent_lsoa21.LSOA21NM.tolist()
        assert df.area_km2.to_numpy() == pytest.approx(frames[".geojson"].area_km2.to_numpy(), rel=1e-6)
        assert df.area_km2.to_numpy() == pytest.approx(geodesic.to_numpy(), rel=2e-3)
        # Stored geometry is WGS84 and each centroid lies in its own polygon's bounding box.
        geoms = shapely.from_wkb(df.geometry.tolist())
        # (a shapefile gives single-part polygons back as Polygon, so compare shapes, not types)
        assert (shapely.hausdorff_distance(geoms, gwent_lsoa21.geometry.values) < 1e-6).all()
        bounds = shapely.bounds(geoms)
        assert ((df.centroid_lon >= bounds[:, 0]) & (df.centroid_lon <= bounds[:, 2])).all()
        assert ((df.centroid_lat >= bounds[:, 1]) & (df.centroid_lat <= bounds[:, 3])).all()


@pytest.mark.parametrize("fmt", ["shapefile", "geopackage"])
def test_boundaries_without_crs_refused(
    duckdb_warehouse: Warehouse, gwent_lsoa21: gpd.GeoDataFrame, tmp_path: Path, fmt: str
) -> None:
    bng = gwent_lsoa21.head(5).to_crs(27700)
    bng = bng.set_crs(None, allow_override=True)
    path = tmp_path / ("no_crs.shp" if fmt == "shapefile" else "no_crs.gpkg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio warns that no CRS is written: the point
        bng.to_file(path, driver="ESRI Shapefile" if fmt == "shapefile" else "GPKG")
    assert not path.with_suffix(".prj").exists()
    (res,) = duckdb_warehouse.ingest("boundaries", path)
    assert res.status == "refused"
    assert res.error.startswith(str(path)) and "\n" not in res.error
    assert "coordinate reference system" in res.error
    assert duckdb_warehouse.status().empty


@pytest.mark.parametrize(
    ("name", "vintage", "n", "welsh"),
    [("lsoa11_boundaries.geojson", 2011, 2661, 1909), ("lsoa21_boundaries.geojson", 2021, 2696, 1917)],
)
def test_boundaries_real_geojson(
    duckdb_warehouse: Warehouse, name: str, vintage: int, n: int, welsh: int
) -> None:
    # Wales (1,909 LSOAs in 2011, 1,917 in 2021) and the English LSOAs along the border.
    res = load(duckdb_warehouse, "boundaries", shared("geography", name))
    assert (res.rows_read, res.quarantined, res.loaded) == (n, 0, n)
    df = rows_of(duckdb_warehouse, "lsoa_boundaries", res)
    assert set(df.lsoa_vintage) == {vintage}
    assert df.lsoa_code.str.startswith("W").sum() == welsh
    assert (df.area_km2 > 0).all()


# -- lookups ----------------------------------------------------------------------------------------
def test_lookup_lsoa11_lsoa21_change_codes(duckdb_warehouse: Warehouse) -> None:
    path = shared("geography", "lookup_lsoa11_lsoa21_ltla22.csv")
    src = raw(path)
    res = load(duckdb_warehouse, "lookup-lsoa11-lsoa21", path)
    assert (res.rows_read, res.quarantined) == (len(src), 0)
    df = rows_of(duckdb_warehouse, "lookup_lsoa11_lsoa21", res)
    assert Counter(df.change_code) == Counter(r["change_code"] for r in src)
    assert set(df.change_code) == {"U", "S", "M", "X"}
    pairs = set(zip(df.lsoa11_code, df.lsoa21_code, df.change_code, df.la_code, strict=True))
    assert pairs == {(r["lsoa11_code"], r["lsoa21_code"], r["change_code"], r["ltla22_code"]) for r in src}
    # Real Welsh cases read off the file: W01000383 was split in two; W01000069 and W01000079 merged.
    assert sorted(df[df.lsoa11_code == "W01000383"].lsoa21_code) == ["W01001971", "W01001972"]
    assert set(df[df.lsoa11_code == "W01000383"].change_code) == {"S"}
    merged = df[df.lsoa21_code == "W01002003"]
    assert {"W01000069", "W01000079"} <= set(merged.lsoa11_code) and set(merged.change_code) == {"M"}


@pytest.mark.parametrize(
    ("parts", "vintage", "la_year", "cols"),
    [
        (("geography", "lsoa11_to_ward19_lad19_EW.csv"), 2011, 2019, ("LSOA11CD", "WD19CD", "LAD19CD")),
        (
            ("geography", "lookup_lsoa21_ward24_ltla24.csv"),
            2021,
            2024,
            ("lsoa21_code", "ward24_code", "ltla24_code"),
        ),
    ],
    ids=["lsoa11-ward19-lad19", "lsoa21-ward24-ltla24"],
)
def test_lookup_lsoa_ward_la(
    duckdb_warehouse: Warehouse,
    parts: tuple[str, str],
    vintage: int,
    la_year: int,
    cols: tuple[str, str, str],
) -> None:
    path = shared(*parts)
    src = raw(path)
    res = load(duckdb_warehouse, "lookup-lsoa-ward-la", path)
    assert (res.rows_read, res.quarantined) == (len(src), 0)
    df = rows_of(duckdb_warehouse, "lookup_lsoa_ward_la", res)
    assert set(df.lsoa_vintage) == {vintage} and set(df.la_year) == {la_year}
    got = set(zip(df.lsoa_code, df.ward_code, df.la_code, strict=True))
    assert got == {(r[cols[0]], r[cols[1]], r[cols[2]]) for r in src}
    # W01001440 (Blaenau Gwent 001A) is in Blaenau Gwent whatever the year.
    assert set(df[df.lsoa_code == "W01001440"].la_code) == {"W06000019"}


@pytest.mark.parametrize(
    ("name", "year", "la_col", "csp_col"),
    [("lookup_ltla24_csp24_pfa24.csv", 2024, "ltla24_code", "csp24_code"), ("lad19_csp19_pfa19_EW.csv", 2019, "LAD19CD", "CSP19CD")],
)  # fmt: skip
def test_lookup_la_csp_force(
    duckdb_warehouse: Warehouse, name: str, year: int, la_col: str, csp_col: str
) -> None:
    path = shared("geography", name)
    src = raw(path)
    res = load(duckdb_warehouse, "lookup-la-csp-force", path)
    assert (res.rows_read, res.quarantined) == (len(src), 0)
    df = rows_of(duckdb_warehouse, "lookup_la_csp_force", res)
    assert set(df.year) == {year}
    assert set(zip(df.la_code, df.csp_code, strict=True)) == {(r[la_col], r[csp_col]) for r in src}
    # Cwm Taf (W14000023 in the file) covers Rhondda Cynon Taf and Merthyr Tydfil, in South Wales.
    cwm_taf = df[df.csp_code == "W14000023"]
    assert sorted(cwm_taf.la_code) == ["W06000016", "W06000024"]
    assert set(cwm_taf.csp_name) == {"Cwm Taf"} and set(cwm_taf.force_code) == {"W15000003"}
    welsh = df[df.la_code.str.startswith("W")]
    assert welsh.la_code.is_unique and welsh.csp_code.nunique() == len(welsh) - 1
    if year == 2024:
        # In England in 2024 an LA can sit in several CSPs: North Northamptonshire (E06000061) in four
        # (Corby, East Northamptonshire, Kettering, Wellingborough).
        assert (df.la_code == "E06000061").sum() == 4


# -- harm weights -----------------------------------------------------------------------------------
def test_harm_weights(duckdb_warehouse: Warehouse) -> None:
    path = shared("harm", "css_weights_policeuk.csv")
    src = raw(path)
    res = load(duckdb_warehouse, "harm-weights", path)
    assert (res.rows_read, res.quarantined) == (134, 0)
    df = rows_of(duckdb_warehouse, "harm_weights", res)
    assert len(df) == 134
    assert df.offence_code.tolist() == [r["ONS_SEVERITY_code"] for r in src]
    assert df.weight.tolist() == [float(r["ONS_SEVERITY_weight"]) for r in src]
    assert df.policeuk_category.tolist() == [r["POLICE_UK_CAT_MAP_category"] for r in src]
    assert "Anti-social Behaviour" not in set(df.policeuk_category)
    assert Counter(df.policeuk_category)["Violence and Sexual Offences"] == 56
    assert df.loc[df.offence_code == "56A", "weight"].tolist() == [pytest.approx(826.1900614)]
