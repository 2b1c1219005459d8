"""File readers: formats, encodings, delimiters, types, geometry, CRS, bad rows (no database)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from shapely.geometry import shape

from tests.conftest import SQLITE_RUN_ONLY
from tests.features.import_samples import (
    BEZIRKE,
    COUNTS,
    SENSORS,
    STADTTEILE,
    source_features,
    write_gpkg,
    write_shapefile_zip,
    write_xlsx,
)
from urbanos.errors import ValidationFailed
from urbanos.features.importers.readers import detect_format, open_source

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end


def test_geojson_matches_source() -> None:
    src = open_source(str(STADTTEILE))
    rows = list(src.rows())
    feats = source_features(STADTTEILE)
    assert src.format == "geojson" and src.geometry_type == "MultiPolygon" and src.source_crs == "EPSG:4326"
    assert len(rows) == len(feats) == 104 and not src.errors
    assert {f.name: f.type for f in src.fields} == {"id": "string", "name": "string", "district_id": "string",
                                                   "district_name": "string", "bounding_box": "json"}
    for row, f in zip(rows, feats, strict=True):
        assert row.properties == f["properties"]
        assert row.geometry.equals_exact(shape(f["geometry"]), 1e-12)


def test_csv_types_geometry_and_counts() -> None:
    src = open_source(str(SENSORS))
    rows = list(src.rows())
    assert src.info["delimiter"] == "," and src.info["encoding"] == "utf-8"
    assert src.geometry_type == "Point" and src.info["geometry_columns"] == ["latitude", "longitude"]
    types = {f.name: f.type for f in src.fields}
    assert types["sensor_id"] == "integer" and types["latitude"] == "number" and types["installation_date"] == "date"
    assert types["sensor_description"] == "string"
    assert len(rows) == 77 == src.count and not src.errors
    first = rows[0]
    assert first.row == 2 and first.properties["sensor_id"] == 55
    assert first.geometry.x == pytest.approx(144.96134331) and first.geometry.y == pytest.approx(-37.80988941)


def test_big_csv_datetime_column() -> None:
    src = open_source(str(COUNTS))
    types = {f.name: f.type for f in src.fields}
    assert types["Date_Time"] == "datetime" and types["Hourly_Counts"] == "integer" and src.geometry_type is None
    assert src.count == 78755


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-8-sig", "utf-16"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_csv_encoding_and_delimiter_detected(tmp_path: Path, encoding: str, delimiter: str) -> None:
    lines = [["Straße", "Größe", "Öffnung", "lat", "lon"], ["Mönckebergstraße", "3,5" if delimiter != "," else "3.5",
             "ja", "53.55", "10.0"], ["Jungfernstieg", "12", "nein", "53.553", "9.993"]]
    text = "\r\n".join(delimiter.join(row) for row in lines) + "\r\n"
    p = tmp_path / "orte.csv"
    p.write_bytes(text.encode(encoding))
    src = open_source(str(p))
    rows = list(src.rows())
    assert src.info["delimiter"] == delimiter
    assert [f.name for f in src.fields] == ["Straße", "Größe", "Öffnung", "lat", "lon"]
    assert {f.name: f.type for f in src.fields}["Größe"] == "number"
    assert rows[0].properties["Straße"] == "Mönckebergstraße" and rows[0].properties["Größe"] == 3.5
    assert rows[1].geometry.x == pytest.approx(9.993)


def test_csv_wkt_column_and_crs_option(tmp_path: Path) -> None:
    p = tmp_path / "wkt.csv"
    p.write_text('name,wkt\na,"POINT (565000 5933000)"\nb,"LINESTRING (565000 5933000, 566000 5934000)"\nc,\n')
    src = open_source(str(p), {"crs": "EPSG:25832"})
    rows = list(src.rows())
    assert src.source_crs == "EPSG:25832" and src.geometry_type == "Geometry"
    assert [f.name for f in src.fields] == ["name"]
    assert rows[0].geometry.x == pytest.approx(9.9809, abs=1e-3) and rows[0].geometry.y == pytest.approx(53.5419, abs=1e-3)
    assert rows[2].geometry is None


def test_csv_bad_rows_reported_by_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("id,name,lat,lon\n1,a,53.5,10.0\n2,b,53.5\n3,c,north,10.1\n4,d,153.5,10.0\n\n5,e,53.6,10.2\n")
    src = open_source(str(p))
    rows = list(src.rows())
    assert [r.properties["id"] for r in rows] == [1, 5]
    assert [(e.row, e.reason.split(" ")[0]) for e in src.errors] == [(3, "expected"), (4, "column"), (5, "coordinates")]
    assert "'north' is not a number" in src.errors[1].reason


def test_csv_mostly_integers_keeps_type_and_reports_the_stray_value(tmp_path: Path) -> None:
    p = tmp_path / "n.csv"
    p.write_text("n\n" + "".join(f"{i}\n" for i in range(2000)) + "oops\n")
    src = open_source(str(p))
    rows = list(src.rows())
    assert src.fields[0].type == "integer" and len(rows) == 2000
    assert src.errors[0].row == 2002 and "is not an integer" in src.errors[0].reason


def test_leading_zero_codes_stay_text(tmp_path: Path) -> None:
    p = tmp_path / "codes.csv"
    p.write_text("code,plz\n0101,20095\n0102,20099\n")
    src = open_source(str(p))
    assert {f.name: f.type for f in src.fields} == {"code": "string", "plz": "integer"}
    assert next(src.rows()).properties["code"] == "0101"


@pytest.mark.parametrize("content,why", [
    (b"", "empty"), (b"\x00\x01\x02binary", "binary"), (b"PK\x03\x04 not really a zip", "format"),
])
def test_broken_files_are_refused_clearly(tmp_path: Path, content: bytes, why: str) -> None:
    p = tmp_path / ("broken.csv" if why != "format" else "broken.zip")
    p.write_bytes(content)
    with pytest.raises(ValidationFailed) as exc:
        open_source(str(p))
    assert why in exc.value.message or why in str(exc.value.detail)


@pytest.mark.parametrize("name,content", [
    ("x.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feature"'),
    ("x.geojson", b'{"type": "Point", "coordinates": [1, 2]}'),
    ("x.gpkg", b"SQLite format 3\x00" + b"\x00" * 200),
    ("x.xlsx", b"PK\x03\x04garbage"),
    ("x.shp.zip", b"PK\x05\x06" + b"\x00" * 18),
])
def test_broken_geodata_and_workbooks(tmp_path: Path, name: str, content: bytes) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(ValidationFailed) as exc:
        open_source(str(p))
    assert exc.value.message.startswith("cannot read the ")


def test_geojson_bad_features_are_rows(tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"a": 1}, "geometry": {"type": "Point", "coordinates": [10, 53]}},
        {"type": "Feature", "properties": {"a": 2}, "geometry": {"type": "Point", "coordinates": "x"}},
        {"type": "Nope"},
        {"type": "Feature", "properties": {"a": 4}, "geometry": None},
    ]}
    p = tmp_path / "f.geojson"
    p.write_text(json.dumps(doc))
    src = open_source(str(p))
    rows = list(src.rows())
    assert [r.properties["a"] for r in rows] == [1, 4]
    assert [e.row for e in src.errors] == [2, 3]


def test_geojson_legacy_crs_member_is_reprojected(tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
           "features": [{"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [565000, 5933000]}}]}
    p = tmp_path / "utm.geojson"
    p.write_text(json.dumps(doc))
    src = open_source(str(p))
    (row,) = list(src.rows())
    assert src.source_crs == "EPSG:25832"
    assert row.geometry.x == pytest.approx(9.9809, abs=1e-3)


@pytest.mark.parametrize("crs", [None, "EPSG:25832"])
def test_geopackage_and_shapefile_match_source(tmp_path: Path, crs: str | None) -> None:
    feats = source_features(BEZIRKE)
    for path in (write_gpkg(BEZIRKE, tmp_path / "b.gpkg", crs), write_shapefile_zip(BEZIRKE, tmp_path / "b.zip", crs)):
        src = open_source(str(path))
        rows = list(src.rows())
        assert src.source_crs == (crs or "EPSG:4326")
        assert len(rows) == 7 and not src.errors
        assert [r.properties["name"] for r in rows] == [f["properties"]["name"] for f in feats]
        for r, f in zip(rows, feats, strict=True):
            assert r.geometry.symmetric_difference(shape(f["geometry"])).area < 1e-9
    assert detect_format(str(tmp_path / "b.zip")) == "shapefile"


def test_xlsx_matches_csv(tmp_path: Path) -> None:
    path = write_xlsx(SENSORS, tmp_path / "s.xlsx")
    src = open_source(str(path))
    rows = list(src.rows())
    csv_rows = list(open_source(str(SENSORS)).rows())
    assert src.info["sheet"] == "sensors" and src.geometry_type == "Point"
    assert len(rows) == len(csv_rows) == 77 and not src.errors
    assert rows[0].row == 2
    types = {f.name: f.type for f in src.fields}
    assert types["sensor_id"] == "integer" and types["latitude"] == "number" and types["installation_date"] == "date"
    for a, b in zip(rows, csv_rows, strict=True):
        assert a.properties == b.properties
    assert isinstance(rows[0].properties["installation_date"], dt.date)


def test_geojson_properties_keep_json_types_and_mixed_kinds_become_text(tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"a": 1, "b": "x", "c": [1], "d": "2024-01-01", "e": 1.5, "f": True, "g": "7"},
         "geometry": None},
        {"type": "Feature", "properties": {"a": "two", "b": "5", "c": "s", "d": "2024-01-02", "e": 2, "f": False, "g": "8"},
         "geometry": None},
    ]}
    p = tmp_path / "mixed.geojson"
    p.write_text(json.dumps(doc))
    src = open_source(str(p))
    assert {f.name: f.type for f in src.fields} == {"a": "string", "b": "string", "c": "json", "d": "date", "e": "number",
                                                   "f": "boolean", "g": "string"}
    rows = list(src.rows())
    assert not src.errors and rows[0].properties["a"] == "1" and rows[1].properties["c"] == "s"
    assert rows[1].properties["g"] == "8" and rows[1].properties["e"] == 2.0


def test_a_column_named_geometry_without_wkt_stays_a_property(tmp_path: Path) -> None:
    """The name alone does not make a geometry column: its values must look like WKT."""
    path = tmp_path / "notes.csv"
    path.write_text("name,Geometry\nplot 1,round\nplot 2,square\n", encoding="utf-8")
    src = open_source(str(path))
    rows = list(src.rows())
    assert [f.name for f in src.fields] == ["name", "Geometry"] and src.geometry_type is None
    assert [r.properties["Geometry"] for r in rows] == ["round", "square"] and not src.errors


def test_csv_invalid_date_is_a_bad_row_not_a_text_column(tmp_path: Path) -> None:
    p = tmp_path / "dates.csv"
    p.write_text("name,opened,checked\na,2021-01-05,2021-01-05T10:00:00Z\nb,2021-13-45,2021-02-01T10:00:00Z\n"
                 "c,2021-03-07,2021-03-01T25:61:00Z\nd,2021-04-09,2021-04-01T10:00:00Z\n")
    src = open_source(str(p))
    rows = list(src.rows())
    assert {f.name: f.type for f in src.fields} == {"name": "string", "opened": "date", "checked": "datetime"}
    assert [r.properties["name"] for r in rows] == ["a", "d"]
    assert rows[0].properties["opened"] == dt.date(2021, 1, 5)
    assert [e.row for e in src.errors] == [3, 4]
    assert "'2021-13-45' is not a date" in src.errors[0].reason and "opened" in src.errors[0].reason
    assert "'2021-03-01T25:61:00Z' is not a date-time" in src.errors[1].reason


def test_date_shaped_codes_without_one_valid_date_stay_text(tmp_path: Path) -> None:
    p = tmp_path / "codes.csv"
    p.write_text("code\n2021-13-45\n2021-99-99\n")
    src = open_source(str(p))
    assert src.fields[0].type == "string" and len(list(src.rows())) == 2 and not src.errors
