"""`urbanos import` through the real command: counts and attributes match the source, bad rows, --strict,
broken files and atomic re-import, on the back end under test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import shape

from tests.features.import_samples import (
    BEZIRKE,
    SENSORS,
    STADTTEILE,
    source_features,
    write_gpkg,
    write_xlsx,
)
from urbanos.features import store


def urbanos_import(db_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    env["URBANOS_MQTT_PORT"] = "0"
    cmd = [sys.executable, "-m", "urbanos.cli.main", "import", *args, "--db", db_url, "--data-dir", str(data_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def _report(out: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def _meta(platform: Any, name: str) -> store.CollectionMeta | None:
    return platform.db.read_sync(lambda c: store.get_collection(c, name))


def _features(platform: Any, meta: store.CollectionMeta) -> list[store.FeatureRow]:
    return platform.db.read_sync(lambda c: list(store.iter_features(c, meta)))


def test_geojson_import_creates_dataset_and_collection(platform: Any, db_url: str, tmp_path: Path) -> None:
    r = urbanos_import(db_url, tmp_path / "data", str(STADTTEILE), "--dataset", "stadtteile", "--title", "Stadtteile",
                       "--org", "lgv", "--access-level", "registered")
    assert r.returncode == 0, r.stderr
    rep = _report(r.stdout)
    assert rep["rows"] == "104" and rep["bad_rows"] == "0" and rep["collection"] == "stadtteile"
    meta = _meta(platform, "stadtteile")
    assert meta is not None and meta.item_count == 104 and meta.geometry_type == "MultiPolygon"
    ds = platform.db.read_sync(lambda c: c.rows("SELECT id, title, owner_org, access_level FROM datasets WHERE name = ?",
                                                 ("stadtteile",)))
    assert ds == [{"id": meta.dataset_id, "title": "Stadtteile", "owner_org": "lgv", "access_level": "registered"}]
    dist = platform.db.read_sync(lambda c: c.rows("SELECT dataset_id, format, collection, datastore_active FROM catalog_resources"))
    assert dist == [{"dataset_id": meta.dataset_id, "format": "GEOJSON", "collection": "stadtteile", "datastore_active": 1}]
    rows = _features(platform, meta)
    for row, f in zip(rows, source_features(STADTTEILE), strict=True):
        assert row.properties == f["properties"]
        assert row.geometry.equals_exact(shape(f["geometry"]), 1e-9)


def test_csv_xlsx_gpkg_import_and_source_crs(platform: Any, db_url: str, tmp_path: Path) -> None:
    gpkg = write_gpkg(BEZIRKE, tmp_path / "bezirke.gpkg", "EPSG:25832")
    xlsx = write_xlsx(SENSORS, tmp_path / "sensors.xlsx")
    for path, name in ((SENSORS, "sensors"), (xlsx, "sensors-xlsx"), (gpkg, "bezirke")):
        r = urbanos_import(db_url, tmp_path / "data", str(path), "--dataset", name)
        assert r.returncode == 0, r.stderr
    a, b, g = _meta(platform, "sensors"), _meta(platform, "sensors-xlsx"), _meta(platform, "bezirke")
    assert a.item_count == b.item_count == 77 and a.geometry_type == b.geometry_type == "Point"
    assert [r.properties for r in _features(platform, a)] == [r.properties for r in _features(platform, b)]
    assert g.item_count == 7 and g.source_crs == "EPSG:25832"
    from shapely.ops import unary_union

    expected = unary_union([shape(f["geometry"]) for f in source_features(BEZIRKE)]).bounds
    assert g.bbox == pytest.approx(list(expected), abs=1e-6)


def test_bad_rows_loaded_by_default_refused_with_strict(platform: Any, db_url: str, tmp_path: Path) -> None:
    p = tmp_path / "orte.csv"
    p.write_bytes("name;lat;lon;datetime\nA;53,5;10,0;2024-01-01T10:00:00Z\nB;53,5\nC;53,6;10,1;2024-01-03T10:00:00Z\n"
                  .encode("cp1252"))
    strict = urbanos_import(db_url, tmp_path / "data", str(p), "--dataset", "orte", "--strict")
    assert strict.returncode == 2
    assert "import refused (--strict): 1 bad row(s); row 3: expected 4 fields, found 2" in strict.stderr
    assert _meta(platform, "orte") is None
    assert platform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM datasets WHERE name = 'orte'")) == 0
    ok = urbanos_import(db_url, tmp_path / "data", str(p), "--dataset", "orte")
    assert ok.returncode == 0, ok.stderr
    rep = _report(ok.stdout)
    assert rep["rows"] == "2" and rep["bad_rows"] == "1" and rep["time_field"] == "datetime"
    assert "row 3: expected 4 fields, found 2" in ok.stderr
    meta = _meta(platform, "orte")
    assert meta.time_field == "datetime" and meta.t_min.startswith("2024-01-01T10:00") and meta.t_max.startswith("2024-01-03")


def test_broken_file_keeps_the_old_table(platform: Any, db_url: str, tmp_path: Path) -> None:
    r = urbanos_import(db_url, tmp_path / "data", str(BEZIRKE), "--dataset", "bezirke")
    assert r.returncode == 0, r.stderr
    before = _meta(platform, "bezirke")
    broken = tmp_path / "bezirke.geojson"
    text = BEZIRKE.read_text()
    broken.write_text(text[: len(text) // 2])
    r = urbanos_import(db_url, tmp_path / "data", str(broken), "--dataset", "bezirke")
    assert r.returncode == 2 and "cannot read the GeoJSON file: not valid JSON" in r.stderr
    assert "Traceback" not in r.stderr
    after = _meta(platform, "bezirke")
    assert after.version == before.version and after.item_count == 7
    # a file whose every row is bad is refused as a whole
    allbad = tmp_path / "allbad.geojson"
    allbad.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                  "geometry": {"type": "Point", "coordinates": [999, 999]}}]}))
    r = urbanos_import(db_url, tmp_path / "data", str(allbad), "--dataset", "bezirke")
    assert r.returncode == 2 and "none of the rows could be read; row 1: coordinates outside WGS84" in r.stderr
    assert _meta(platform, "bezirke").version == before.version
    # a good file replaces the table in one step
    r = urbanos_import(db_url, tmp_path / "data", str(STADTTEILE), "--dataset", "bezirke")
    assert r.returncode == 0, r.stderr
    new = _meta(platform, "bezirke")
    assert new.version == before.version + 1 and new.item_count == 104 and new.dataset_id == before.dataset_id
    assert not platform.db.read_sync(lambda c: c.table_exists(before.table_name))


def test_unknown_time_field_and_unknown_format(db_url: str, tmp_path: Path) -> None:
    r = urbanos_import(db_url, tmp_path / "data", str(SENSORS), "--dataset", "s", "--time-field", "nope")
    assert r.returncode == 2 and "--time-field 'nope' is not a column" in r.stderr
    odd = tmp_path / "thing.zip"
    odd.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    r = urbanos_import(db_url, tmp_path / "data", str(odd), "--dataset", "s")
    assert r.returncode == 2 and "no importer can read" in r.stderr


@pytest.mark.live
def test_import_into_a_running_server_shows_up_without_restart(db_url: str, tmp_path: Path) -> None:
    import time

    import httpx

    from tests.conftest import start_server

    server = start_server(tmp_path / "live", db_url)
    try:
        assert httpx.get(f"{server.url}/ogcapi/collections/bezirke", timeout=10).status_code == 404
        r = urbanos_import(db_url, tmp_path / "live", str(BEZIRKE), "--dataset", "bezirke")
        assert r.returncode == 0, r.stderr
        deadline = time.monotonic() + 15
        status = 0
        while time.monotonic() < deadline:
            status = httpx.get(f"{server.url}/ogcapi/collections/bezirke/items?limit=100", timeout=10).status_code
            if status == 200:
                break
            time.sleep(0.3)
        assert status == 200
        items = httpx.get(f"{server.url}/ogcapi/collections/bezirke/items?limit=100", timeout=10).json()
        assert len(items["features"]) == 7
        assert httpx.get(f"{server.url}/download/bezirke.csv", timeout=10).text.count("\r\n") == 8
    finally:
        server.stop()


def test_progress_bar_reports_every_row(platform: Any, capsys: Any) -> None:
    from urbanos.features.importers.run import import_file

    report = import_file(platform, str(SENSORS), "sensors", {}, progress=True)
    assert report["rows"] == 77
    err = capsys.readouterr().err
    assert "importing pedestrian_sensor_locations.csv" in err and "77/77" in err
