"""Demo collections: Hamburg's Stadtteile and Bezirke, and Melbourne's pedestrian sensor locations.

The files ship gzipped in ``demo_data/``:

* ``hamburg_*.geojson.gz``: Freie und Hansestadt Hamburg, Landesbetrieb Geoinformation und Vermessung (LGV),
  Datenlizenz Deutschland – Namensnennung – Version 2.0 (dl-de/by-2-0).
* ``pedestrian_sensor_locations.csv.gz``: City of Melbourne, Creative Commons Attribution 4.0 (CC BY 4.0).

Each collection is described in the catalogue as a distribution of its dataset (when the catalogue is installed);
the datasets' own metadata (publisher, description, licence) is the catalogue's demo.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from shapely.geometry import Point, shape

from urbanos.features import store
from urbanos.features.importers.run import attach_distribution, ensure_dataset
from urbanos.storage import Connection

if TYPE_CHECKING:
    from urbanos.platform import Platform

DATA = Path(__file__).resolve().parent / "demo_data"
HH_ATTR = "Freie und Hansestadt Hamburg, LGV"
HH_LICENSE = {"license": "dl-de/by-2-0", "license_url": "https://www.govdata.de/dl-de/by-2-0",
              "license_title": "Datenlizenz Deutschland – Namensnennung – Version 2.0", "attribution": HH_ATTR}
MEL_LICENSE = {"license": "CC-BY-4.0", "license_url": "https://creativecommons.org/licenses/by/4.0/",
               "license_title": "Creative Commons Attribution 4.0", "attribution": "City of Melbourne"}


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


def _loaded(platform: Platform, name: str) -> bool:
    return platform.db.read_sync(lambda c: store.get_collection(c, name)) is not None


def load_demo(platform: Platform) -> list[str]:
    """Create the demo collections that are missing (idempotent); returns the names loaded now."""
    loaded: list[str] = []
    specs = [
        ("hamburg-bezirke", "Hamburg: Bezirke", "The seven districts (Bezirke, boroughs) of Hamburg.", "hamburg_bezirke.geojson.gz",
         [{"name": "id", "type": "string"}, {"name": "name", "type": "string"}]),
        ("hamburg-stadtteile", "Hamburg: Stadtteile", "The quarters (Stadtteile) of Hamburg with their borough.",
         "hamburg_stadtteile.geojson.gz",
         [{"name": "id", "type": "string"}, {"name": "name", "type": "string"}, {"name": "district_id", "type": "string"},
          {"name": "district_name", "type": "string"}]),
    ]
    for name, title, desc, fname, fields in specs:
        if _loaded(platform, name):
            continue
        doc = _geojson(fname)
        keys = [f["name"] for f in fields]

        def tx(c: Connection, name: str = name, title: str = title, desc: str = desc, doc: Any = doc, fields: Any = fields,
               keys: list[str] = keys) -> None:
            ds = ensure_dataset(c, name, title=title)
            store.replace_collection(c, name, fields, hamburg_rows(doc, keys), source_crs="EPSG:4326", dataset_id=ds,
                                     title=title, description=f"{desc} Source: {HH_ATTR}, dl-de/by-2-0.", extras=HH_LICENSE)

        platform.db.write_sync(tx)
        loaded.append(name)
    if not _loaded(platform, "pedestrian-sensors"):
        def tx2(c: Connection) -> None:
            ds = ensure_dataset(c, "pedestrian-sensors", title="Melbourne: pedestrian counting sensors")
            store.replace_collection(
                c, "pedestrian-sensors", SENSOR_FIELDS, sensor_rows(), source_crs="EPSG:4326", dataset_id=ds,
                time_field="installation_date", title="Melbourne: pedestrian counting sensors",
                description="Locations of the pedestrian counting sensors. Source: City of Melbourne, CC BY 4.0.",
                extras=MEL_LICENSE)

        platform.db.write_sync(tx2)
        loaded.append("pedestrian-sensors")
    for name in ("hamburg-bezirke", "hamburg-stadtteile", "pedestrian-sensors"):
        attach_distribution(platform, name, "geojson", f"{name}.geojson")  # once; a no-op without the catalogue
    return loaded


__all__ = ["load_demo", "sensor_rows", "hamburg_rows", "SENSOR_FIELDS"]
