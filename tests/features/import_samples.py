"""Fixture files for import and download tests, generated at test time from the real open data the suite carries."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from tests.conftest import TEST_DATA

HAMBURG = TEST_DATA / "hamburg"
MELBOURNE = TEST_DATA / "melbourne"
BEZIRKE = HAMBURG / "hamburg_bezirke.geojson"
STADTTEILE = HAMBURG / "hamburg_stadtteile.geojson"
SENSORS = MELBOURNE / "pedestrian_sensor_locations.csv"
COUNTS = MELBOURNE / "pedestrian_hourly_counts_2016-01_2017-04.csv"


def source_features(path: Path) -> list[dict]:
    return json.loads(path.read_text())["features"]


def write_gpkg(src: Path, dest: Path, crs: str | None = None) -> Path:
    """The GeoJSON as a GeoPackage (optionally reprojected to ``crs``), through GDAL."""
    import pyogrio.raw

    meta, _, geom, fields = pyogrio.raw.read(str(src))
    names = list(meta["fields"])
    keep = [i for i, n in enumerate(names) if n != "bounding_box"]
    if crs:
        import shapely
        from pyproj import Transformer

        tf = Transformer.from_crs("OGC:CRS84", crs, always_xy=True)
        geoms = shapely.from_wkb(geom)
        geoms = [shapely.transform(g, lambda xy: _np_xy(tf, xy)) for g in geoms]
        geom = shapely.to_wkb(geoms)
    pyogrio.raw.write(str(dest), geom, [fields[i] for i in keep], [names[i] for i in keep], driver="GPKG",
                      geometry_type=meta["geometry_type"], crs=crs or "EPSG:4326")
    return dest


def _np_xy(tf, xy):  # noqa: ANN001, ANN202
    import numpy as np

    x, y = tf.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def write_shapefile_zip(src: Path, dest: Path, crs: str | None = None) -> Path:
    """The GeoJSON as a zipped Shapefile (with .prj and .cpg)."""
    import pyogrio.raw

    work = dest.parent / (dest.stem + "_shp")
    work.mkdir(exist_ok=True)
    gpkg = write_gpkg(src, work / "tmp.gpkg", crs)
    meta, _, geom, fields = pyogrio.raw.read(str(gpkg))
    shp = work / "layer.shp"
    pyogrio.raw.write(str(shp), geom, fields, list(meta["fields"]), driver="ESRI Shapefile",
                      geometry_type=meta["geometry_type"], crs=meta["crs"], encoding="UTF-8")
    with zipfile.ZipFile(dest, "w") as z:
        for p in work.glob("layer.*"):
            z.write(p, p.name)
    return dest


def write_xlsx(src_csv: Path, dest: Path) -> Path:
    """The CSV as a workbook, with numbers as numbers."""
    import csv

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "sensors"
    with open(src_csv, newline="", encoding="utf-8") as fh:
        for i, row in enumerate(csv.reader(fh)):
            if i == 0:
                ws.append(row)
                continue
            out = []
            for v in row:
                try:
                    out.append(int(v))
                except ValueError:
                    try:
                        out.append(float(v))
                    except ValueError:
                        out.append(v or None)
            ws.append(out)
    wb.save(dest)
    return dest
