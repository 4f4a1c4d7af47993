"""LSOA boundaries: GeoJSON, GeoPackage or shapefile, in any coordinate reference system.

Stored as WKB in WGS84 (EPSG:4326) so every engine can hold them, with the area in km2 and the
centroid computed in British National Grid (EPSG:27700), where distances and areas are metres.
Maps are drawn and contiguity weights built from these rows.
"""

from __future__ import annotations

import io
import re

import geopandas as gpd
import pyarrow as pa
import shapely

from diogel.errors import InputError
from diogel.sources.registry import ParsedFile, Quarantined, SourceKind, register

SCHEMA = pa.schema(
    [
        pa.field("lsoa_code", pa.string()),
        pa.field("lsoa_name", pa.string()),
        pa.field("lsoa_vintage", pa.int32()),
        pa.field("area_km2", pa.float64()),
        pa.field("centroid_lon", pa.float64()),
        pa.field("centroid_lat", pa.float64()),
        pa.field("geometry", pa.binary()),
        pa.field("line", pa.int64()),
        pa.field("slice_key", pa.string()),
    ]
)

_CODE = re.compile(r"lsoa[ _]?(11|21|2011|2021)?[ _]?(cd|code)", re.IGNORECASE)
_NAME = re.compile(r"lsoa[ _]?(11|21|2011|2021)?[ _]?(nm|name)", re.IGNORECASE)


def read(path: str, data: bytes, options: dict | None = None) -> ParsedFile:
    try:
        source = path if path.lower().endswith(".shp") else io.BytesIO(data)
        gdf = gpd.read_file(source)
    except Exception as exc:  # pyogrio's message says what GDAL could not read
        raise InputError(
            path, f"not a readable GeoJSON, GeoPackage or shapefile: {exc}".splitlines()[0]
        ) from None
    if gdf.crs is None:
        raise InputError(
            path, "the file has no coordinate reference system: add one (e.g. EPSG:27700) and retry"
        )
    code = next((c for c in gdf.columns if _CODE.fullmatch(c)), None)
    if code is None:
        raise InputError(path, f"no LSOA code column (found: {', '.join(map(str, gdf.columns))})", line=1)
    name = next((c for c in gdf.columns if _NAME.fullmatch(c)), None)
    m = _CODE.fullmatch(code)
    if options and options.get("lsoa_vintage"):
        vintage = int(options["lsoa_vintage"])
    elif m and m.group(1):
        vintage = 2000 + int(m.group(1)[-2:])
    else:
        raise InputError(path, "cannot tell the LSOA vintage from the columns: pass --vintage 2011 or 2021")
    quarantined = Quarantined()
    feature = range(1, len(gdf) + 1)
    codes = gdf[code].astype("string").str.strip()
    ok = []
    for i, (c, geom) in enumerate(zip(codes, gdf.geometry, strict=True)):
        if c is None or not re.fullmatch(r"[EW]01\d{6}", str(c)):
            quarantined.add(feature[i], code, f"{code}: {c!r} is not an LSOA code", str(c))
        elif geom is None or geom.is_empty:
            quarantined.add(feature[i], "geometry", "geometry: the feature has no geometry", str(c))
        else:
            ok.append(i)
    good = gdf.iloc[ok]
    wgs = good.to_crs(4326)
    bng = good.to_crs(27700)
    centroids = gpd.GeoSeries(bng.geometry.centroid, crs=27700).to_crs(4326)
    lines = [feature[i] for i in ok]
    rows = pa.table(
        {
            "lsoa_code": codes.iloc[ok].tolist(),
            "lsoa_name": (good[name].astype("string").tolist() if name else [None] * len(ok)),
            "lsoa_vintage": [vintage] * len(ok),
            "area_km2": (bng.geometry.area / 1e6).tolist(),
            "centroid_lon": centroids.x.tolist(),
            "centroid_lat": centroids.y.tolist(),
            "geometry": shapely.to_wkb(wgs.geometry.values).tolist(),
            "line": lines,
            "slice_key": [f"{vintage}|{c}" for c in codes.iloc[ok]],
        },
        schema=SCHEMA,
    )
    return ParsedFile(rows, quarantined, len(gdf))


KIND = register(
    SourceKind(
        name="boundaries",
        table="lsoa_boundaries",
        schema=SCHEMA,
        read=read,
        patterns=("*.geojson", "*.gpkg", "*.shp", "*.json"),
        description="LSOA boundaries (GeoJSON, GeoPackage or shapefile; any CRS)",
        binary=True,
    )
)
