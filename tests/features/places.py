"""A small point collection with a time field, for OGC API Features tests (the ``places`` and ``fx`` fixtures of
tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point, Polygon

from urbanos.core.time import now_stored
from urbanos.features import store

FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "kind", "type": "string"},
    {"name": "pop", "type": "integer"},
    {"name": "score", "type": "number"},
    {"name": "active", "type": "boolean"},
    {"name": "observed", "type": "datetime"},
]


def point_rows() -> list[tuple[dict[str, Any], Any]]:
    rows = []
    for i in range(30):
        rows.append((
            {"name": f"Place {i:02d}", "kind": "a" if i % 3 == 0 else "b", "pop": i * 10, "score": i / 4,
             "active": i % 2 == 0, "observed": f"2024-01-{1 + i:02d}T12:00:00Z"},
            Point(9.9 + i * 0.01, 53.5 + i * 0.005),
        ))
    # two points on either side of the antimeridian and one without geometry
    rows.append(({"name": "East of 180", "kind": "c", "pop": 1, "score": 0.0, "active": True, "observed": None}, Point(179.5, -17.0)))
    rows.append(({"name": "West of 180", "kind": "c", "pop": 2, "score": 0.0, "active": True, "observed": None}, Point(-179.5, -17.0)))
    rows.append(({"name": "Nowhere", "kind": "d", "pop": None, "score": None, "active": None, "observed": None}, None))
    return rows


def add_dataset(platform: Any, name: str, level: str = "open", org: str | None = None) -> int:
    now = now_stored()
    return int(platform.db.write_sync(lambda c: c.insert("datasets", {
        "name": name, "title": name, "owner_org": org, "access_level": level, "created_at": now, "modified_at": now})))


def add_points(platform: Any, name: str = "places", dataset_id: int | None = None) -> store.CollectionMeta:
    return platform.db.write_sync(lambda c: store.replace_collection(
        c, name, FIELDS, point_rows(), time_field="observed", dataset_id=dataset_id, title="Places",
        source_crs="EPSG:25832"))


def add_polygon(platform: Any, name: str = "areas") -> store.CollectionMeta:
    rows = [({"name": "square"}, Polygon([(10, 53), (10.1, 53), (10.1, 53.1), (10, 53.1)]))]
    return platform.db.write_sync(lambda c: store.replace_collection(c, name, [{"name": "name", "type": "string"}], rows))


class Helpers:
    add_dataset = staticmethod(add_dataset)
    add_points = staticmethod(add_points)
    add_polygon = staticmethod(add_polygon)
