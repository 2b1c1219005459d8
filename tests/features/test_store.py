"""The feature store API: replace, query, Part 4 writes, streaming, events."""

from __future__ import annotations

from typing import Any

import pytest
from shapely.geometry import Point, Polygon

from urbanos.errors import NotFound, ValidationFailed
from urbanos.features import store

FIELDS = [{"name": "name", "type": "string"}, {"name": "n", "type": "integer"}, {"name": "when", "type": "datetime"}]


def _rows(k: int) -> list[tuple[dict[str, Any], Any]]:
    return [({"name": f"p{i}", "n": i, "when": f"2024-01-{1 + i % 28:02d}T00:00:00Z"}, Point(10 + i * 0.01, 53)) for i in range(k)]


def test_replace_query_and_switch(platform: Any) -> None:
    db = platform.db
    meta = db.write_sync(lambda c: store.replace_collection(c, "pts", FIELDS, _rows(25), time_field="when", title="Points"))
    assert meta.item_count == 25 and meta.geometry_type == "Point" and meta.version == 1
    assert meta.bbox == pytest.approx([10, 53, 10.24, 53])
    assert meta.t_min == "2024-01-01T00:00:00.000000Z"
    rows = db.read_sync(lambda c: store.query(c, meta, order=[("c1", False)], limit=3))
    assert [r.properties["n"] for r in rows] == [24, 23, 22]
    assert rows[0].geometry.equals(Point(10.24, 53))
    col = meta.field("n").column
    assert db.read_sync(lambda c: store.count(c, meta, f"{col} >= ?", [20])) == 5
    old_table = meta.table_name
    meta2 = db.write_sync(lambda c: store.replace_collection(c, "pts", FIELDS, _rows(3)))
    assert meta2.version == 2 and meta2.item_count == 3
    assert not db.read_sync(lambda c: c.table_exists(old_table))
    assert len(list(db.read_sync(lambda c: list(store.iter_features(c, "pts", batch=2))))) == 3


def test_bad_row_keeps_old_version(platform: Any) -> None:
    db = platform.db
    db.write_sync(lambda c: store.replace_collection(c, "pts", FIELDS, _rows(5)))
    bad = [*_rows(3), ({"name": "x", "n": "not a number"}, None)]
    with pytest.raises(ValidationFailed, match="row 4"):
        db.write_sync(lambda c: store.replace_collection(c, "pts", FIELDS, bad))
    meta = db.read_sync(lambda c: store.get_collection(c, "pts"))
    assert meta.item_count == 5 and meta.version == 1
    assert db.read_sync(lambda c: store.count(c, meta)) == 5


def test_part4_writes(platform: Any) -> None:
    db = platform.db
    db.write_sync(lambda c: store.replace_collection(c, "pts", FIELDS, _rows(2), time_field="when"))
    fids = db.write_sync(lambda c: store.insert_features(c, "pts", [({"name": "new", "n": 7}, Polygon([(0, 0), (1, 0), (1, 1)]))]))
    assert fids == [3]
    meta = db.read_sync(lambda c: store.get_collection(c, "pts"))
    assert meta.item_count == 3 and meta.geometry_type == "Geometry" and meta.bbox[0] == 0
    db.write_sync(lambda c: store.patch_feature(c, "pts", 3, {"n": 8}))
    f = db.read_sync(lambda c: store.get_feature(c, meta, 3))
    assert f.properties == {"name": "new", "n": 8, "when": None}
    db.write_sync(lambda c: store.replace_feature(c, "pts", 3, {"name": "r"}, None))
    f = db.read_sync(lambda c: store.get_feature(c, meta, 3))
    assert f.properties["n"] is None and f.geometry is None
    db.write_sync(lambda c: store.delete_feature(c, "pts", 3))
    with pytest.raises(NotFound):
        db.write_sync(lambda c: store.delete_feature(c, "pts", 3))
    assert db.read_sync(lambda c: store.get_collection(c, "pts")).item_count == 2
    assert db.write_sync(lambda c: store.drop_collection(c, "pts"))
    assert db.read_sync(lambda c: store.get_collection(c, "pts")) is None


def test_invalid_names_and_types(platform: Any) -> None:
    with pytest.raises(ValidationFailed):
        platform.db.write_sync(lambda c: store.replace_collection(c, "bad name;", FIELDS, []))
    with pytest.raises(ValidationFailed):
        platform.db.write_sync(lambda c: store.replace_collection(c, "x", [{"name": "a", "type": "blob"}], []))
