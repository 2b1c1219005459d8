"""Real clients against a live ``urbanos serve``: OWSLib and GDAL's OAPIF driver (ogrinfo, ogr2ogr).

Counts and attributes are compared with the source files of the demo collections. A collection written by
another process (an import) shows up in the running server without a restart.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_DATA, start_server
from urbanos.features import store

HAMBURG = TEST_DATA / "hamburg"
SENSORS = TEST_DATA / "melbourne" / "pedestrian_sensor_locations.csv"


def _platform(settings: Any) -> Any:
    from urbanos.platform import Platform
    from urbanos.plugins import load_components

    p = Platform.build(settings, load_components())
    p.open()
    return p


@pytest.fixture
def server(tmp_path: Path, make_settings: Any, db_url: str) -> Iterator[Any]:
    settings = make_settings(data_dir=str(tmp_path / "live"))
    p = _platform(settings)
    try:
        from urbanos.features.demo import load_demo

        load_demo(p)
    finally:
        p.close()
    srv = start_server(tmp_path / "live", db_url)
    srv.extra["settings"] = settings
    try:
        yield srv
    finally:
        srv.stop()


def _source_features(name: str) -> list[dict[str, Any]]:
    return json.loads((HAMBURG / name).read_text())["features"]  # type: ignore[no-any-return]


def test_owslib_reads_collections_and_features(server: Any) -> None:
    from owslib.ogcapi.features import Features

    api = Features(server.url + "/ogcapi")
    ids = {c["id"] for c in api.collections()["collections"]}
    assert {"hamburg-stadtteile", "hamburg-bezirke", "pedestrian-sensors"} <= ids
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    src = _source_features("hamburg_bezirke.geojson")
    items = api.collection_items("hamburg-bezirke", limit=100)
    assert items["numberMatched"] == len(src) == items["numberReturned"]
    assert sorted(f["properties"]["name"] for f in items["features"]) == sorted(f["properties"]["name"] for f in src)
    q = api.collection_queryables("pedestrian-sensors")
    assert "sensor_id" in q["properties"]
    one = api.collection_item("pedestrian-sensors", "1")
    with SENSORS.open(encoding="utf-8") as fh:
        first = next(csv.DictReader(fh))
    assert one["properties"]["sensor_name"] == first["sensor_name"]
    assert one["geometry"]["coordinates"] == pytest.approx([float(first["longitude"]), float(first["latitude"])])


def _gdal() -> str:
    exe = shutil.which("ogrinfo")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("ogrinfo is required in CI (apt-get install gdal-bin)")
        pytest.skip("ogrinfo is not installed")
    return exe


def _run(cmd: list[str]) -> str:
    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF"}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_gdal_ogrinfo_and_ogr2ogr(server: Any, tmp_path: Path) -> None:
    _gdal()
    url = f"OAPIF:{server.url}/ogcapi"
    listing = _run(["ogrinfo", "-ro", url])
    for name in ("hamburg-stadtteile", "hamburg-bezirke", "pedestrian-sensors"):
        assert name in listing
    src = _source_features("hamburg_stadtteile.geojson")
    summary = _run(["ogrinfo", "-ro", "-so", url, "hamburg-stadtteile"])
    assert f"Feature Count: {len(src)}" in summary
    assert "district_name: String" in summary
    # one feature by id: GDAL appends /items/{fid} to the collection's items link
    one = _run(["ogrinfo", "-ro", url, "pedestrian-sensors", "-fid", "3"])
    assert "OGRFeature(pedestrian-sensors):3" in one and "sensor_name (String) = RMIT14_T" in one
    out = tmp_path / "sensors.geojson"
    _run(["ogr2ogr", "-f", "GeoJSON", str(out), url, "pedestrian-sensors"])
    got = json.loads(out.read_text())["features"]
    with SENSORS.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(got) == len(rows)
    assert sorted(f["properties"]["sensor_name"] for f in got) == sorted(r["sensor_name"] for r in rows)
    assert sorted(int(f["properties"]["sensor_id"]) for f in got) == sorted(int(r["sensor_id"]) for r in rows)
    out2 = tmp_path / "bezirke.gpkg"
    _run(["ogr2ogr", "-f", "GPKG", str(out2), url, "hamburg-bezirke", "-where", "name = 'Altona'"])
    check = _run(["ogrinfo", "-ro", "-so", str(out2), "hamburg-bezirke"])
    assert "Feature Count: 1" in check


def test_collection_written_by_another_process_shows_up(server: Any) -> None:
    from shapely.geometry import Point

    p = _platform(server.extra["settings"])
    try:
        p.db.write_sync(lambda c: store.replace_collection(
            c, "late-arrival", [{"name": "n", "type": "integer"}], [({"n": 1}, Point(10, 53))]))
    finally:
        p.close()
    deadline = time.monotonic() + 15
    ids: set[str] = set()
    while time.monotonic() < deadline:
        ids = {c["id"] for c in httpx.get(server.url + "/ogcapi/collections").json()["collections"]}
        if "late-arrival" in ids:
            break
        time.sleep(0.5)
    assert "late-arrival" in ids
    assert httpx.get(server.url + "/ogcapi/collections/late-arrival/items").json()["numberMatched"] == 1


def test_html_collection_page_shows_the_map(server: Any) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page()
            page.route("https://tile.openstreetmap.org/**", lambda r: r.abort())  # no network in tests
            page.goto(server.url + "/ogcapi/collections/hamburg-stadtteile?f=html")
            page.wait_for_selector("#map[data-features]", timeout=20000)
            assert page.get_attribute("#map", "data-features") == str(len(_source_features("hamburg_stadtteile.geojson")))
            assert page.locator("#map path.leaflet-interactive").count() >= 104
            page.goto(server.url + "/ogcapi/collections/pedestrian-sensors/items?f=html&limit=100")
            page.wait_for_selector("#map[data-features]", timeout=20000)
            assert page.get_attribute("#map", "data-features") == "77"
        finally:
            browser.close()
