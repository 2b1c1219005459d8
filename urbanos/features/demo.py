"""Demo collections: Hamburg's Stadtteile and Bezirke, and Melbourne's pedestrian sensor locations.

The files ship gzipped in ``demo_data/``:

* ``hamburg_*.geojson.gz``: Freie und Hansestadt Hamburg, Landesbetrieb Geoinformation und Vermessung (LGV),
  Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0).
* ``pedestrian_sensor_locations.csv.gz``: City of Melbourne, Creative Commons Attribution 4.0 (CC BY 4.0).
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from shapely.geometry import Point, shape

from urbanos.features import store
from urbanos.storage import Connection

DATA = Path(__file__).resolve().parent / "demo_data"
HH_ATTR = "Freie und Hansestadt Hamburg, LGV"
HH_LICENSE = {"license": "dl-de/by-2-0", "license_url": "https://www.govdata.de/dl-de/by-2-0",
              "license_title": "Datenlizenz Deutschland – Namensnennung – Version 2.0", "attribution": HH_ATTR}
MEL_LICENSE = {"license": "CC-BY-4.0", "license_url": "https://creativecommons.org/licenses/by/4.0/",
               "license_title": "Creative Commons Attribution 4.0", "attribution": "City of Melbourne"}


MELBOURNE_ORG = {"name": "city-of-melbourne", "title": "City of Melbourne",
                 "description": "Open data of the City of Melbourne, Australia."}
SENSORS_DATASET: dict[str, Any] = {
    "owner_org": "city-of-melbourne",
    "notes": "Locations of the sensors of the City of Melbourne's Pedestrian Counting System: id, name and description "
             "of each sensor, installation date, status, the two directions it counts and its position (WGS84). The "
             "hourly counts of these sensors are the dataset melbourne-pedestrian-counts. Source: City of Melbourne, "
             "Pedestrian Counting System – Sensor Locations, licensed under CC BY 4.0.",
    "license_id": "CC-BY-4.0", "tags": ["pedestrians", "sensors", "locations", "melbourne"], "theme": ["TRAN", "mobility"],
    "spatial_text": "Melbourne CBD, Victoria, Australia", "contact_name": "City of Melbourne Open Data Team",
    "contact_email": "opendata@melbourne.vic.gov.au", "maintainer": "City of Melbourne Open Data Team",
    "steward": "Pedestrian counting programme", "frequency": "IRREG",
    "owner": "City of Melbourne", "publisher": "City of Melbourne",
    "rights": "CC BY 4.0 – attribute the City of Melbourne", "access_level": "open",
}


def _geojson(name: str) -> dict[str, Any]:
    with gzip.open(DATA / name, "rb") as fh:
        return orjson.loads(fh.read())  # type: ignore[no-any-return]


def hamburg_rows(doc: dict[str, Any], keys: list[str]) -> Iterator[tuple[dict[str, Any], Any]]:
    for f in doc["features"]:
        props = f.get("properties") or {}
        yield {k: props.get(k) for k in keys}, shape(f["geometry"]) if f.get("geometry") else None


SENSOR_FIELDS = [
    {"name": "sensor_id", "type": "integer"}, {"name": "sensor_description", "type": "string"},
    {"name": "sensor_name", "type": "string"}, {"name": "installation_date", "type": "date"},
    {"name": "status", "type": "string"}, {"name": "note", "type": "string"},
    {"name": "direction_1", "type": "string"}, {"name": "direction_2", "type": "string"},
    {"name": "latitude", "type": "number"}, {"name": "longitude", "type": "number"},
]


def sensor_rows() -> Iterator[tuple[dict[str, Any], Any]]:
    with gzip.open(DATA / "pedestrian_sensor_locations.csv.gz", "rb") as fh:
        text = fh.read().decode("utf-8-sig")
    for r in csv.DictReader(io.StringIO(text)):
        props: dict[str, Any] = {f["name"]: r.get(f["name"]) for f in SENSOR_FIELDS}
        try:
            geom = Point(float(r["longitude"]), float(r["latitude"]))
        except (TypeError, ValueError):
            geom = None
        yield props, geom


def _dataset(c: Connection, name: str, title: str) -> int:
    row = c.fetchone("SELECT id FROM datasets WHERE name = ?", (name,))
    if row is not None:
        return int(row[0])
    now = store.now_iso()
    return int(c.insert("datasets", {"name": name, "title": title, "access_level": "open", "created_at": now, "modified_at": now}))


def load_demo(platform: Any) -> list[str]:
    """Create the demo collections that are missing (idempotent); returns the names loaded now."""
    loaded: list[str] = []
    specs = [
        ("hamburg-bezirke", "Hamburg: Bezirke", "The seven boroughs (Bezirke) of Hamburg.", "hamburg_bezirke.geojson.gz",
         [{"name": "id", "type": "string"}, {"name": "name", "type": "string"}]),
        ("hamburg-stadtteile", "Hamburg: Stadtteile", "The quarters (Stadtteile) of Hamburg with their borough.",
         "hamburg_stadtteile.geojson.gz",
         [{"name": "id", "type": "string"}, {"name": "name", "type": "string"}, {"name": "district_id", "type": "string"},
          {"name": "district_name", "type": "string"}]),
    ]
    for name, title, desc, fname, fields in specs:
        if platform.db.read_sync(lambda c, n=name: store.get_collection(c, n)) is not None:
            continue
        doc = _geojson(fname)
        keys = [f["name"] for f in fields]

        def tx(c: Connection, name: str = name, title: str = title, desc: str = desc, doc: Any = doc, fields: Any = fields,
               keys: list[str] = keys) -> None:
            ds = _dataset(c, name, title)
            store.replace_collection(c, name, fields, hamburg_rows(doc, keys), source_crs="EPSG:4326", dataset_id=ds,
                                     title=title, description=f"{desc} Source: {HH_ATTR}, dl-de/by-2-0.", extras=HH_LICENSE)

        platform.db.write_sync(tx)
        loaded.append(name)
    if platform.db.read_sync(lambda c: store.get_collection(c, "pedestrian-sensors")) is None:
        def tx2(c: Connection) -> None:
            ds = _dataset(c, "pedestrian-sensors", "Melbourne: pedestrian counting sensors")
            store.replace_collection(
                c, "pedestrian-sensors", SENSOR_FIELDS, sensor_rows(), source_crs="EPSG:4326", dataset_id=ds,
                time_field="installation_date", title="Melbourne: pedestrian counting sensors",
                description="Locations of the pedestrian counting sensors. Source: City of Melbourne, CC BY 4.0.",
                extras=MEL_LICENSE)

        platform.db.write_sync(tx2)
        loaded.append("pedestrian-sensors")
    from urbanos.features.importers.run import attach_distribution

    for name in ("hamburg-bezirke", "hamburg-stadtteile", "pedestrian-sensors"):
        attach_distribution(platform, name, "geojson", f"{name}.geojson")  # once; a no-op without the catalogue
    describe_sensors(platform)
    return loaded


def describe_sensors(platform: Any) -> None:
    """Give the pedestrian-sensors dataset its publisher, description, licence and coverage in the catalogue (once,
    while it has no organisation), through the catalogue's service when it is installed."""
    import asyncio

    from urbanos.governance.gate import ADMIN

    catalog = platform.services.get("catalog")
    if catalog is None or not hasattr(catalog, "package_patch"):
        return

    def state(c: Connection) -> tuple[bool, bool, list[float] | None]:
        row = c.fetchone("SELECT owner_org FROM datasets WHERE name = ?", ("pedestrian-sensors",))
        org = c.table_exists("organizations") and c.fetchone(
            "SELECT 1 FROM organizations WHERE name = ?", (MELBOURNE_ORG["name"],)) is not None
        meta = store.get_collection(c, "pedestrian-sensors")
        return row is not None and row[0] is None, bool(org), meta.bbox if meta is not None else None

    async def describe(org_exists: bool, bbox: list[float] | None) -> None:
        if not org_exists:
            await catalog.organization_create(ADMIN, dict(MELBOURNE_ORG))
        data = {"id": "pedestrian-sensors", **SENSORS_DATASET}
        if bbox:
            x0, y0, x1, y1 = bbox
            data["spatial"] = {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
        await catalog.package_patch(ADMIN, data)

    try:
        missing, org_exists, bbox = platform.db.read_sync(state)
        if missing:
            asyncio.run(describe(org_exists, bbox))
    except Exception as exc:  # noqa: BLE001 - the description is a convenience, the demo data stands
        logging.getLogger("urbanos.features").warning("could not describe the pedestrian-sensors dataset: %s",
                                                      getattr(exc, "message", exc))


__all__ = ["load_demo", "describe_sensors", "sensor_rows", "hamburg_rows", "SENSOR_FIELDS"]
