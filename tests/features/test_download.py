"""Downloads: every format matches the collection, access levels through the gate, usage events."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from shapely import wkt
from shapely.geometry import shape

from tests.features.import_samples import SENSORS, STADTTEILE, source_features
from urbanos.features.importers.run import import_file


def _load(platform: Any, path: Path, name: str, **opts: Any) -> dict[str, Any]:
    return import_file(platform, str(path), name, opts, progress=False)


@pytest.fixture
def loaded(platform: Any) -> Any:
    _load(platform, STADTTEILE, "stadtteile")
    _load(platform, SENSORS, "sensors")
    return platform


@pytest.mark.parametrize("url", ["/ogcapi/collections/stadtteile/download?format=geojson", "/download/stadtteile.geojson"])
def test_geojson_download_matches_source(loaded: Any, client: Any, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-disposition"] == 'attachment; filename="stadtteile.geojson"'
    doc = r.json()
    src = source_features(STADTTEILE)
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == len(src) == 104
    for got, want in zip(doc["features"], src, strict=True):
        assert got["properties"] == want["properties"]
        assert shape(got["geometry"]).equals_exact(shape(want["geometry"]), 1e-9)
    assert [f["id"] for f in doc["features"]] == list(range(1, 105))


def test_csv_download_matches_source(loaded: Any, client: Any) -> None:
    r = client.get("/download/sensors.csv")
    assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
    got = list(csv.DictReader(io.StringIO(r.text)))
    with open(SENSORS, newline="", encoding="utf-8") as fh:
        want = list(csv.DictReader(fh))
    assert len(got) == len(want) == 77
    for g, w in zip(got, want, strict=True):
        assert g["sensor_id"] == w["sensor_id"] and g["sensor_description"] == w["sensor_description"]
        assert float(g["latitude"]) == float(w["latitude"]) and g["note"] == w["note"]
        assert g["installation_date"] == w["installation_date"].replace("/", "-")
        pt = wkt.loads(g["geometry"])
        assert (pt.x, pt.y) == (float(w["longitude"]), float(w["latitude"]))
    poly = client.get("/download/stadtteile.csv").text
    rows = list(csv.DictReader(io.StringIO(poly)))
    assert len(rows) == 104 and json.loads(rows[0]["bounding_box"]) == source_features(STADTTEILE)[0]["properties"]["bounding_box"]


def test_parquet_download_is_geoparquet(loaded: Any, client: Any) -> None:
    import pyarrow.parquet as pq
    import shapely

    r = client.get("/ogcapi/collections/stadtteile/download?format=parquet")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(r.content))
    assert table.num_rows == 104
    geo = json.loads(table.schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["columns"]["geometry"]["encoding"] == "WKB"
    assert geo["columns"]["geometry"]["geometry_types"] == ["MultiPolygon"]
    src = source_features(STADTTEILE)
    assert table.column("name").to_pylist() == [f["properties"]["name"] for f in src]
    g0 = shapely.from_wkb(table.column("geometry")[0].as_py())
    assert g0.equals_exact(shape(src[0]["geometry"]), 1e-9)
    sensors = pq.read_table(io.BytesIO(client.get("/download/sensors.parquet").content))
    assert str(sensors.schema.field("sensor_id").type) == "int64"
    assert str(sensors.schema.field("installation_date").type) == "date32[day]"


def test_xlsx_download(loaded: Any, client: Any) -> None:
    import openpyxl

    r = client.get("/download/sensors.xlsx")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("sensor_id", "sensor_description", "sensor_name") and rows[0][-1] == "geometry"
    assert len(rows) == 78 and rows[1][0] == 55 and rows[1][1] == "Elizabeth St-La Trobe St (East)"


@pytest.mark.parametrize("url,status", [
    ("/download/nope.csv", 404), ("/download/sensors.exe", 400), ("/download/sensors", 404),
    ("/ogcapi/collections/sensors/download?format=pdf", 400), ("/ogcapi/collections/nope/download", 404),
])
def test_bad_requests(loaded: Any, client: Any, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status


def _token(platform: Any, role: str, org: str | None = None, name: str = "") -> dict[str, str]:
    from urbanos.governance.tokens import create_token

    secret = platform.db.write_sync(lambda c: create_token(c, role, org, name))
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("level", ["open", "registered", "internal", "confidential"])
def test_access_levels(platform: Any, client: Any, admin_headers: dict[str, str], level: str) -> None:
    _load(platform, SENSORS, "s", access_level=level, org="city")
    reader = _token(platform, "reader", name="app-x")
    insider = _token(platform, "reader", org="city")
    anon = client.get("/download/s.csv")
    as_reader = client.get("/download/s.csv", headers=reader)
    as_insider = client.get("/download/s.csv", headers=insider)
    as_admin = client.get("/download/s.csv", headers=admin_headers)
    expect = {"open": (200, 200, 200), "registered": (401, 200, 200), "internal": (401, 403, 200),
              "confidential": (401, 403, 403)}[level]
    assert (anon.status_code, as_reader.status_code, as_insider.status_code) == expect
    assert as_admin.status_code == 200 and as_admin.text.count("\r\n") == 78
    if expect[0] == 401:
        assert "Bearer" in anon.headers["www-authenticate"] and "sensor_id" not in anon.text
    ogc = client.get("/ogcapi/collections/s/download?format=geojson")
    assert ogc.status_code == expect[0]


def test_usage_events_and_audit(platform: Any, client: Any) -> None:
    _load(platform, SENSORS, "s", access_level="registered")
    seen: list[Any] = []
    observed: list[tuple[str, str]] = []
    platform.bus.subscribe(seen.append, topic="usage")
    platform.gate.add_observer(lambda ident, ds, action: observed.append((ds.name, action)))
    headers = _token(platform, "reader", name="dashboard-app")
    assert client.get("/download/s.parquet", headers=headers).status_code == 200
    ev = [e for e in seen if e.data.get("api") == "download"]
    assert len(ev) == 1
    assert ev[0].dataset_id is not None and ev[0].data["action"] == "parquet" and ev[0].data["collection"] == "s"
    assert ev[0].data["application"] == "dashboard-app"
    assert not any("ip" in k or "addr" in k for k in ev[0].data)
    assert observed == [("s", "download s as parquet")]


def test_transform_applies_to_downloads(platform: Any, client: Any, admin_headers: dict[str, str]) -> None:
    _load(platform, SENSORS, "s", access_level="registered")

    def redact(identity: Any, ds: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "properties": {**r["properties"], "sensor_name": "***"}} for r in rows]

    platform.gate.add_transform(redact)
    text = client.get("/download/s.csv", headers=admin_headers).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 77 and {r["sensor_name"] for r in rows} == {"***"}
