"""Spatial predicates give the same answers on SQLite (R*Tree + shapely) and PostGIS."""

from __future__ import annotations

from typing import Any

import pytest
from shapely.geometry import LineString, Point, Polygon, box

from urbanos.storage import Migration, open_database, upgrade
from urbanos.storage.spatial import from_wkb, to_wkb

SHAPES = {
    "p_in": Point(1, 1),
    "p_out": Point(5, 5),
    "line": LineString([(0, 0), (3, 3)]),
    "square": box(0.5, 0.5, 1.5, 1.5),
    "big": box(-10, -10, 10, 10),
    "far": Polygon([(100, 50), (101, 50), (101, 51), (100, 51)]),
}
QUERY = box(0, 0, 2, 2)


def _schema(c: Any) -> None:
    c.execute(f"CREATE TABLE places (id {c.dialect.pk}, name TEXT NOT NULL)")
    c.spatial.add_geometry_column(c, "places", "geom")


@pytest.fixture
def db(settings: Any) -> Any:
    database = open_database(settings)
    database.open()
    upgrade(database, [Migration("test", 1, "places", _schema)])

    def fill(c: Any) -> None:
        sp = c.spatial
        for name, g in SHAPES.items():
            c.execute(f"INSERT INTO places (name, geom) VALUES (?, {sp.param()})", (name, to_wkb(g)))

    database.write_sync(fill)
    yield database
    database.close()


def _names(db: Any, op: str, geom: Any, **kw: Any) -> set[str]:
    def q(c: Any) -> set[str]:
        sql, params = c.spatial.predicate(op, "places", "geom", geom, **kw)
        return {r[0] for r in c.fetchall(f"SELECT name FROM places WHERE {sql}", params)}

    return db.read_sync(q)


def test_intersects(db: Any) -> None:
    assert _names(db, "intersects", QUERY) == {"p_in", "line", "square", "big"}


def test_within(db: Any) -> None:
    assert _names(db, "within", QUERY) == {"p_in", "square"}


def test_contains(db: Any) -> None:
    assert _names(db, "contains", Point(1, 1)) == {"p_in", "line", "square", "big"}
    assert _names(db, "contains", box(0.6, 0.6, 1.4, 1.4)) == {"square", "big"}


def test_dwithin(db: Any) -> None:
    assert _names(db, "dwithin", Point(5.5, 5.5), distance=1.0) == {"p_out", "big"}


def test_bbox_is_index_only_prefilter(db: Any) -> None:
    def q(c: Any) -> set[str]:
        sql, params = c.spatial.bbox("places", "geom", (99.5, 49.5, 100.5, 50.5))
        return {r[0] for r in c.fetchall(f"SELECT name FROM places WHERE {sql}", params)}

    assert db.read_sync(q) == {"far"}


def test_geometry_round_trip_and_functions(db: Any) -> None:
    def q(c: Any) -> tuple[Any, float]:
        sp = c.spatial
        g = c.fetchval(f"SELECT {sp.select('geom')} FROM places WHERE name = 'line'")
        d = c.fetchval(f"SELECT {sp.fn('distance', 'geom', sp.param())} FROM places WHERE name = 'p_in'", (to_wkb(Point(4, 5)),))
        return g, d

    g, d = db.read_sync(q)
    assert from_wkb(g).equals(SHAPES["line"])
    assert d == pytest.approx(5.0)


def test_updates_and_deletes_keep_the_index(db: Any) -> None:
    def move(c: Any) -> None:
        c.execute(f"UPDATE places SET geom = {c.spatial.param()} WHERE name = 'far'", (to_wkb(Point(1.2, 1.2)),))
        c.execute("DELETE FROM places WHERE name = 'p_in'")

    db.write_sync(move)
    assert _names(db, "within", QUERY) == {"square", "far"}
