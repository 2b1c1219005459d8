"""Spatial support that capabilities use without knowing the back end.

Geometries are stored in WGS84 (SRID 4326) with their bounding box. On PostGIS
the column is ``geometry(Geometry, 4326)`` with a GiST index and predicates run
natively. On SQLite the column holds WKB, an R*Tree table holds the box
(maintained by triggers), and predicates first filter on the R*Tree, then test
the exact geometry with shapely through functions registered on every
connection.

Usage inside ``db.read``/``db.write``::

    sp = conn.spatial
    sql, params = sp.predicate("intersects", "places", "geom", shape)
    conn.fetchall(f"SELECT id, {sp.select('geom')} FROM places WHERE {sql}", params)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry

from urbanos.errors import BadRequest

if TYPE_CHECKING:
    from urbanos.storage.base import Connection

PREDICATES = ("intersects", "within", "contains", "disjoint", "touches", "overlaps", "crosses", "equals")


def to_wkb(geom: BaseGeometry) -> bytes:
    return bytes(shapely.to_wkb(geom, output_dimension=2))


def from_wkb(data: bytes | memoryview | None) -> BaseGeometry | None:
    if data is None:
        return None
    return shapely.from_wkb(bytes(data))


@lru_cache(maxsize=256)
def _prepared(data: bytes) -> BaseGeometry:
    g = shapely.from_wkb(data)
    shapely.prepare(g)
    return g


def _g(data: Any) -> BaseGeometry | None:
    if data is None:
        return None
    if isinstance(data, memoryview):
        data = bytes(data)
    try:
        return _prepared(data)
    except Exception:
        return None


def _pred(name: str):  # noqa: ANN202 - returns a sqlite function
    op = getattr(shapely, name)

    def fn(a: Any, b: Any) -> int | None:
        ga, gb = _g(a), _g(b)
        if ga is None or gb is None:
            return None
        return 1 if op(ga, gb) else 0

    return fn


def _bound(i: int):  # noqa: ANN202
    def fn(a: Any) -> float | None:
        g = _g(a)
        if g is None or g.is_empty:
            return None
        return float(g.bounds[i])

    return fn


def _distance(a: Any, b: Any) -> float | None:
    ga, gb = _g(a), _g(b)
    if ga is None or gb is None:
        return None
    return float(shapely.distance(ga, gb))


def _dwithin(a: Any, b: Any, d: float) -> int | None:
    dist = _distance(a, b)
    return None if dist is None else int(dist <= d)


def _length(a: Any) -> float | None:
    g = _g(a)
    return None if g is None else float(g.length)


def _area(a: Any) -> float | None:
    g = _g(a)
    return None if g is None else float(g.area)


def _relate(a: Any, b: Any, pattern: str) -> int | None:
    ga, gb = _g(a), _g(b)
    if ga is None or gb is None:
        return None
    try:
        return int(bool(shapely.relate_pattern(ga, gb, pattern)))
    except Exception:
        return None


def _astext(a: Any) -> str | None:
    g = _g(a)
    return None if g is None else g.wkt


def register_sqlite_functions(raw: Any) -> None:
    """Register the ``urb_*`` geometry functions on a sqlite3 connection."""
    for name in PREDICATES:
        raw.create_function(f"urb_{name}", 2, _pred(name), deterministic=True)
    for i, name in enumerate(("minx", "miny", "maxx", "maxy")):
        raw.create_function(f"urb_{name}", 1, _bound(i), deterministic=True)
    raw.create_function("urb_distance", 2, _distance, deterministic=True)
    raw.create_function("urb_dwithin", 3, _dwithin, deterministic=True)
    raw.create_function("urb_length", 1, _length, deterministic=True)
    raw.create_function("urb_area", 1, _area, deterministic=True)
    raw.create_function("urb_relate", 3, _relate, deterministic=True)
    raw.create_function("urb_astext", 1, _astext, deterministic=True)


class Spatial:
    """Back-end specific SQL for geometry columns and predicates."""

    name = "generic"

    def column_type(self) -> str:
        raise NotImplementedError

    def param(self) -> str:
        """Placeholder for a geometry parameter passed as WKB (see :func:`to_wkb`)."""
        raise NotImplementedError

    def select(self, expr: str) -> str:
        """Expression that reads a geometry column back as WKB bytes."""
        raise NotImplementedError

    def fn(self, name: str, *args: str) -> str:
        """A spatial function call: name is one of PREDICATES, distance, dwithin, length, area, relate."""
        raise NotImplementedError

    def add_geometry_column(self, conn: Connection, table: str, column: str = "geom", id_column: str = "id") -> None:
        raise NotImplementedError

    def drop_geometry_index(self, conn: Connection, table: str, column: str = "geom") -> None:
        raise NotImplementedError

    def predicate(
        self, op: str, table: str, column: str, geom: BaseGeometry, *, distance: float | None = None, id_column: str = "id"
    ) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def bbox(self, table: str, column: str, box: Sequence[float], id_column: str = "id") -> tuple[str, list[Any]]:
        """Rows whose box meets ``box`` = (minx, miny, maxx, maxy); index-only, no exact test."""
        raise NotImplementedError


def _check_op(op: str) -> None:
    if op not in PREDICATES and op != "dwithin":
        raise BadRequest(f"unknown spatial operator {op!r}")


class SQLiteSpatial(Spatial):
    name = "sqlite"

    def column_type(self) -> str:
        return "BLOB"

    def param(self) -> str:
        return "?"

    def select(self, expr: str) -> str:
        return expr

    def fn(self, name: str, *args: str) -> str:
        return f"urb_{name}({', '.join(args)})"

    @staticmethod
    def rtree(table: str, column: str) -> str:
        return f"{table}_{column}_rtree"

    def add_geometry_column(self, conn: Connection, table: str, column: str = "geom", id_column: str = "id") -> None:
        if column not in conn.columns(table):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} BLOB")
        rt = self.rtree(table, column)
        conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {rt} USING rtree(id, minx, maxx, miny, maxy)")
        box = f"urb_minx(NEW.{column}), urb_maxx(NEW.{column}), urb_miny(NEW.{column}), urb_maxy(NEW.{column})"
        conn.execute(
            f"CREATE TRIGGER IF NOT EXISTS {rt}_ins AFTER INSERT ON {table} WHEN NEW.{column} IS NOT NULL "
            f"BEGIN INSERT OR REPLACE INTO {rt} VALUES (NEW.{id_column}, {box}); END"
        )
        conn.execute(
            f"CREATE TRIGGER IF NOT EXISTS {rt}_upd AFTER UPDATE OF {column} ON {table} BEGIN "
            f"DELETE FROM {rt} WHERE id = OLD.{id_column}; "
            f"INSERT INTO {rt} SELECT NEW.{id_column}, {box} WHERE NEW.{column} IS NOT NULL; END"
        )
        conn.execute(
            f"CREATE TRIGGER IF NOT EXISTS {rt}_del AFTER DELETE ON {table} "
            f"BEGIN DELETE FROM {rt} WHERE id = OLD.{id_column}; END"
        )

    def drop_geometry_index(self, conn: Connection, table: str, column: str = "geom") -> None:
        rt = self.rtree(table, column)
        for suffix in ("ins", "upd", "del"):
            conn.execute(f"DROP TRIGGER IF EXISTS {rt}_{suffix}")
        conn.execute(f"DROP TABLE IF EXISTS {rt}")

    def predicate(
        self, op: str, table: str, column: str, geom: BaseGeometry, *, distance: float | None = None, id_column: str = "id"
    ) -> tuple[str, list[Any]]:
        _check_op(op)
        minx, miny, maxx, maxy = geom.bounds
        rt = self.rtree(table, column)
        wkb = to_wkb(geom)
        if op == "dwithin":
            d = float(distance or 0.0)
            pre = f"SELECT id FROM {rt} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?"
            return (
                f"{table}.{id_column} IN ({pre}) AND urb_dwithin({table}.{column}, ?, ?) = 1",
                [maxx + d, minx - d, maxy + d, miny - d, wkb, d],
            )
        if op == "disjoint":
            return f"urb_disjoint({table}.{column}, ?) = 1", [wkb]
        if op == "within":  # the stored geometry lies inside geom: its box inside geom's box
            pre = f"SELECT id FROM {rt} WHERE minx >= ? AND maxx <= ? AND miny >= ? AND maxy <= ?"
            box = [minx, maxx, miny, maxy]
        elif op == "contains":  # the stored geometry contains geom: its box contains geom's box
            pre = f"SELECT id FROM {rt} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?"
            box = [minx, maxx, miny, maxy]
        else:
            pre = f"SELECT id FROM {rt} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?"
            box = [maxx, minx, maxy, miny]
        return f"{table}.{id_column} IN ({pre}) AND urb_{op}({table}.{column}, ?) = 1", [*box, wkb]

    def bbox(self, table: str, column: str, box: Sequence[float], id_column: str = "id") -> tuple[str, list[Any]]:
        minx, miny, maxx, maxy = box
        rt = self.rtree(table, column)
        return (
            f"{table}.{id_column} IN (SELECT id FROM {rt} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)",
            [maxx, minx, maxy, miny],
        )


_PG_FN = {
    "intersects": "ST_Intersects",
    "within": "ST_Within",
    "contains": "ST_Contains",
    "disjoint": "ST_Disjoint",
    "touches": "ST_Touches",
    "overlaps": "ST_Overlaps",
    "crosses": "ST_Crosses",
    "equals": "ST_Equals",
    "distance": "ST_Distance",
    "dwithin": "ST_DWithin",
    "length": "ST_Length",
    "area": "ST_Area",
    "relate": "ST_Relate",
    "astext": "ST_AsText",
}


class PostGISSpatial(Spatial):
    name = "postgresql"

    def column_type(self) -> str:
        return "geometry(Geometry, 4326)"

    def param(self) -> str:
        return "ST_GeomFromWKB(?, 4326)"

    def select(self, expr: str) -> str:
        return f"ST_AsBinary({expr})"

    def fn(self, name: str, *args: str) -> str:
        return f"{_PG_FN[name]}({', '.join(args)})"

    def add_geometry_column(self, conn: Connection, table: str, column: str = "geom", id_column: str = "id") -> None:
        if column not in conn.columns(table):
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} geometry(Geometry, 4326)")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {table}_{column}_gist ON {table} USING GIST ({column})")

    def drop_geometry_index(self, conn: Connection, table: str, column: str = "geom") -> None:
        conn.execute(f"DROP INDEX IF EXISTS {table}_{column}_gist")

    def predicate(
        self, op: str, table: str, column: str, geom: BaseGeometry, *, distance: float | None = None, id_column: str = "id"
    ) -> tuple[str, list[Any]]:
        _check_op(op)
        wkb = to_wkb(geom)
        if op == "dwithin":
            return f"ST_DWithin({table}.{column}, ST_GeomFromWKB(?, 4326), ?)", [wkb, float(distance or 0.0)]
        return f"{_PG_FN[op]}({table}.{column}, ST_GeomFromWKB(?, 4326))", [wkb]

    def bbox(self, table: str, column: str, box: Sequence[float], id_column: str = "id") -> tuple[str, list[Any]]:
        minx, miny, maxx, maxy = box
        return f"{table}.{column} && ST_MakeEnvelope(?, ?, ?, ?, 4326)", [minx, miny, maxx, maxy]


__all__ = ["Spatial", "SQLiteSpatial", "PostGISSpatial", "PREDICATES", "to_wkb", "from_wkb", "register_sqlite_functions"]
