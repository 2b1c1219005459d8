"""Imports through CKAN resource_create uploads on a live server, read back with ckanapi and downloads."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, start_server
from tests.features.import_samples import SENSORS, STADTTEILE, source_features, write_xlsx

pytestmark = pytest.mark.live


def _wait(fn: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
            time.sleep(0.2)
    raise AssertionError(f"not ready after {timeout}s: {last!r}")


def test_uploads_become_datastore_tables_and_collections(tmp_path: Path, db_url: str) -> None:
    import ckanapi

    server = start_server(tmp_path / "live", db_url)
    try:
        ckan = ckanapi.RemoteCKAN(server.url, apikey=ADMIN_TOKEN)
        ckan.action.organization_create(name="lgv")
        ckan.action.package_create(name="stadtteile", title="Stadtteile", owner_org="lgv")
        with open(STADTTEILE, "rb") as fh:
            res = ckan.action.resource_create(package_id="stadtteile", name="Stadtteile", format="GeoJSON", upload=fh)
        rid = res["id"]
        found = _wait(lambda: ckan.action.datastore_search(resource_id=rid, limit=200))
        src = source_features(STADTTEILE)
        assert found["total"] == len(src) == 104
        assert [r["name"] for r in found["records"]] == [f["properties"]["name"] for f in src]
        assert ckan.action.resource_show(id=rid)["datastore_active"] is True
        geo = httpx.get(f"{server.url}/download/stadtteile.geojson", timeout=30).json()
        assert len(geo["features"]) == 104 and geo["features"][3]["properties"] == src[3]["properties"]

        # a second resource of the same dataset gets a collection of its own; XLSX works too
        xlsx = write_xlsx(SENSORS, tmp_path / "sensors.xlsx")
        with open(xlsx, "rb") as fh:
            rid2 = ckan.action.resource_create(package_id="stadtteile", name="Sensors", format="XLSX", upload=fh)["id"]
        second = _wait(lambda: ckan.action.datastore_search(resource_id=rid2, limit=1))
        assert second["total"] == 77
        second_name = ckan.action.resource_show(id=rid2)["collection"]
        assert second_name.startswith("stadtteile-")

        # a broken upload is stored as a file, reported in the log, and makes no table
        bad = tmp_path / "broken.csv"
        bad.write_text("name,lat,lon\nA,53.5\nB\n")
        with open(bad, "rb") as fh:
            rid3 = ckan.action.resource_create(package_id="stadtteile", name="Broken", format="CSV", upload=fh)["id"]
        _wait(lambda: "import of uploaded resource" in server.log.read_text() or (_ for _ in ()).throw(AssertionError()))
        assert rid3 in server.log.read_text()
        with pytest.raises(ckanapi.NotFound):
            ckan.action.datastore_search(resource_id=rid3)
        assert ckan.action.datastore_search(resource_id=rid, limit=1)["total"] == 104

        # deleting the resource drops its table
        ckan.action.resource_delete(id=rid2)
        _wait(lambda: httpx.get(f"{server.url}/download/{second_name}.csv", timeout=10).status_code == 404
              or (_ for _ in ()).throw(AssertionError()))
    finally:
        server.stop()


def test_url_resources_are_fetched_when_enabled(tmp_path: Path, db_url: str) -> None:
    import functools
    import http.server
    import shutil
    import threading

    import ckanapi

    from tests.conftest import free_port

    files = tmp_path / "www"
    files.mkdir()
    shutil.copy(SENSORS, files / "sensors.csv")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(files))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = start_server(tmp_path / "live", db_url, env={"URBANOS_DATASTORE_FETCH_URLS": "true",
                                                           "URBANOS_DATASTORE_FETCH_PRIVATE": "true"})
    try:
        ckan = ckanapi.RemoteCKAN(server.url, apikey=ADMIN_TOKEN)
        ckan.action.organization_create(name="melbourne")
        ckan.action.package_create(name="sensors", title="Sensors", owner_org="melbourne")
        url = f"http://127.0.0.1:{httpd.server_address[1]}/sensors.csv"
        rid = ckan.action.resource_create(package_id="sensors", name="Sensors", format="CSV", url=url)["id"]
        found = _wait(lambda: ckan.action.datastore_search(resource_id=rid, limit=1))
        assert found["total"] == 77
        missing = ckan.action.resource_create(package_id="sensors", name="Gone", format="CSV", url=url.replace("sensors", "gone"))
        _wait(lambda: missing["id"] in server.log.read_text() or (_ for _ in ()).throw(AssertionError()))
        assert "HTTP 404" in server.log.read_text()
    finally:
        server.stop()
        httpd.shutdown()


def test_private_addresses_are_not_fetched_by_default(platform: Any) -> None:
    from urbanos.errors import ValidationFailed
    from urbanos.features.importers.fetch import fetch_url

    for url, why in (("http://127.0.0.1:9/x.csv", "not a public address"), ("ftp://example.org/x.csv", "only http"),
                     ("http://169.254.169.254/latest", "not a public address")):
        with pytest.raises(ValidationFailed) as exc:
            fetch_url(platform, url, "r1", max_bytes=1000, allow_private=False)
        assert why in exc.value.message
