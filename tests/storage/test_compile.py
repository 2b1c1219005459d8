"""The filter compiler runs against real tables on the back end under test, row by row."""

from __future__ import annotations

from typing import Any

import pytest
import shapely

from urbanos.errors import BadRequest
from urbanos.query.odata import parse_filter, parse_orderby
from urbanos.storage import Migration, open_database, upgrade
from urbanos.storage.compile import Column, compile_filter, compile_orderby, compile_orderby_params
from urbanos.storage.spatial import to_wkb

ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "Alpha", "n": 1.5, "flag": True, "t": "2016-01-01T00:00:00.000000Z",
     "ps": "2016-01-01T00:00:00.000000Z", "pe": "2016-01-01T01:00:00.000000Z",
     "props": {"a": 5, "s": "x", "b": True, "nested": {"v": 10}}, "geom": "POINT (1 1)"},
    {"id": 2, "name": "beta", "n": -2.5, "flag": False, "t": "2016-01-02T12:30:45.250000Z",
     "ps": "2016-01-01T01:00:00.000000Z", "pe": "2016-01-01T01:00:00.000000Z",
     "props": {"a": "text", "s": "y"}, "geom": "LINESTRING (0 0, 3 4)"},
    {"id": 3, "name": "O'Neil", "n": None, "flag": None, "t": None,
     "ps": "2016-01-01T01:00:00.000000Z", "pe": "2016-01-01T02:00:00.000000Z",
     "props": {"a": 7.5, "b": False}, "geom": "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"},
    {"id": 4, "name": "gamma ray", "n": 10.0, "flag": True, "t": "2017-06-15T08:00:00.000000Z",
     "ps": "2016-01-01T00:00:00.000000Z", "pe": "2016-01-02T00:00:00.000000Z",
     "props": None, "geom": None},
]


def _schema(c: Any) -> None:
    d = c.dialect
    booltype = "BOOLEAN" if d.name == "postgresql" else "INTEGER"
    c.execute(
        f"CREATE TABLE items (id {d.pk}, name TEXT, n DOUBLE PRECISION, flag {booltype}, t TEXT, "
        f"ps TEXT NOT NULL, pe TEXT NOT NULL, props {d.json_type})"
    )
    c.spatial.add_geometry_column(c, "items", "geom")
    for r in ROWS:
        c.execute(
            f"INSERT INTO items (id, name, n, flag, t, ps, pe, props, geom) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
            f"{c.spatial.param()})",
            (r["id"], r["name"], r["n"], r["flag"], r["t"], r["ps"], r["pe"], d.json_param(r["props"]),
             None if r["geom"] is None else to_wkb(shapely.from_wkt(r["geom"]))),
        )


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from open_items_db(tmp_path_factory)


def open_items_db(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A database of the back end under test holding the ``items`` table (closed and dropped afterwards)."""
    import os
    import secrets

    from urbanos.plugins import settings_registry
    from urbanos.settings import load

    pg = os.environ.get("URBANOS_TEST_DB", "")
    tmp = tmp_path_factory.mktemp("compile")
    schema = None
    if pg.startswith("postgres"):
        from urllib.parse import quote

        import psycopg

        schema = "t_" + secrets.token_hex(6)
        with psycopg.connect(pg, autocommit=True) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            c.execute(f"CREATE SCHEMA {schema}")
        url = f"{pg}{'&' if '?' in pg else '?'}options={quote(f'-csearch_path={schema},public')}"
    else:
        url = f"sqlite:///{tmp / 'c.db'}"
    settings = load(settings_registry(), env={}, overrides={"data_dir": str(tmp / "data"), "db": url})
    database = open_database(settings)
    database.open()
    upgrade(database, [Migration("test", 1, "items", _schema)])
    yield database
    database.close()
    if schema:
        import psycopg

        with psycopg.connect(pg, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def resolve(path: tuple[str, ...]) -> Column:
    head = path[0]
    if len(path) > 1 and head != "properties":
        raise BadRequest(f"{'/'.join(path)} is not a property")
    if head == "id":
        return Column("i.id", "id", nullable=False)
    if head == "name":
        return Column("i.name", "text")
    if head == "n":
        return Column("i.n", "number")
    if head == "flag":
        return Column("i.flag", "bool")
    if head == "t":
        return Column("i.t", "time")
    if head == "phenomenonTime":
        return Column("i.ps", "interval", start="i.ps", end="i.pe", nullable=False)
    if head == "properties":
        return Column("i.props", "json", json_path=path[1:])
    if head == "geom":
        return Column("i.geom", "geometry")
    raise BadRequest(f"{'/'.join(path)} is not a property")


def ids(db: Any, text: str) -> list[int]:
    sql, params = db.read_sync(lambda c: compile_filter(parse_filter(text), resolve, c))
    rows = db.read_sync(lambda c: c.fetchall(f"SELECT i.id FROM items i WHERE {sql} ORDER BY i.id", params))
    return [r[0] for r in rows]


CASES = [
    # comparison and logic
    ("name eq 'Alpha'", [1]),
    ("name eq 'O''Neil'", [3]),
    ("name ne 'Alpha'", [2, 3, 4]),
    ("n gt 1.5", [4]),
    ("n ge 1.5", [1, 4]),
    ("n lt 0", [2]),
    ("n le -2.5", [2]),
    ("n ne 1.5", [2, 3, 4]),
    ("n eq null", [3]),
    ("n ne null", [1, 2, 4]),
    ("null eq n", [3]),
    ("id eq '2'", [2]),
    ("id gt 1 and id lt 4", [2, 3]),
    ("id eq 1 or id eq 4", [1, 4]),
    ("not (id eq 1)", [2, 3, 4]),
    ("not n gt 0", [2, 3]),
    ("flag eq true", [1, 4]),
    ("flag eq false", [2]),
    ("flag", [1, 4]),
    ("not flag", [2, 3]),
    ("name gt 'a'", [2, 4]),
    # arithmetic
    ("n add 1 eq 2.5", [1]),
    ("n sub 1 eq 9", [4]),
    ("n mul 2 eq -5", [2]),
    ("n div 2 eq 5", [4]),
    ("n div 0 eq 1", []),
    ("id mod 2 eq 0", [2, 4]),
    ("n mod 0 eq 1", []),
    ("n mod 2 eq 1.5", [1]),
    ("n mod 2 eq -0.5", [2]),
    ("id div 2 eq 1.5", [3]),
    ("n mul 1e300 mul 1e300 gt 0", [1, 4]),
    ("id add 9223372036854775807 gt 0", [1, 2, 3, 4]),
    ("-n eq 2.5", [2]),
    ("(id add 1) mul 2 eq 6", [2]),
    ("id add 30000 gt 30001 add 1", [3, 4]),
    # strings
    ("substringof('lph', name)", [1]),
    ("contains(name, 'ray')", [4]),
    ("startswith(name, 'gam')", [4]),
    ("startswith(name, 'Gam')", []),
    ("endswith(name, 'ta')", [2]),
    ("endswith(name, '')", [1, 2, 3, 4]),
    ("endswith(name, 'a very long suffix')", []),
    ("length(name) eq 5", [1]),
    ("indexof(name, 'a') eq 1", [4]),
    ("indexof(name, 'zz') eq -1", [1, 2, 3, 4]),
    ("substring(name, 1) eq 'lpha'", [1]),
    ("substring(name, 1, 2) eq 'et'", [2]),
    ("substring(name, 6, 100) eq 'ray'", [4]),
    ("substring(name, 2, -1) eq ''", [1, 2, 3, 4]),
    ("substring(name, 99999999999, 99999999999) eq ''", [1, 2, 3, 4]),
    ("substring(name, 1.2, 2.2) eq 'lp'", [1]),
    ("tolower(name) eq 'alpha'", [1]),
    ("toupper(name) eq 'BETA'", [2]),
    ("trim(concat(' ', name)) eq 'beta'", [2]),
    ("concat(name, '!') eq 'beta!'", [2]),
    # dates and times
    ("t gt 2016-01-01T00:00:00Z", [2, 4]),
    ("t eq 2016-01-01T01:00:00+01:00", [1]),
    ("t ge 2016-01-02", [2, 4]),
    ("year(t) eq 2017", [4]),
    ("month(t) eq 6", [4]),
    ("day(t) eq 2", [2]),
    ("hour(t) eq 12", [2]),
    ("minute(t) eq 30", [2]),
    ("second(t) eq 45", [2]),
    ("fractionalseconds(t) eq 0.25", [2]),
    ("date(t) eq 2016-01-02", [2]),
    ("time(t) eq 08:00:00", [4]),
    ("time(t) gt 12:00", [2]),
    ("totaloffsetminutes(t) eq 0", [1, 2, 4]),
    ("t lt now()", [1, 2, 4]),
    ("t gt now() sub duration'P36500D'", [1, 2, 4]),
    ("t gt mindatetime() and t lt maxdatetime()", [1, 2, 4]),
    ("t add duration'P1D' eq 2016-01-02T00:00:00Z", [1]),
    ("t sub duration'PT30M' eq 2016-01-02T12:00:45.25Z", [2]),
    ("t add duration'PT12H' mul 2 eq 2016-01-02T00:00:00Z", [1]),
    ("t sub 2 mul duration'PT15M' eq 2016-01-02T12:00:45.25Z", [2]),
    ("t add duration'P2D' div 2 eq 2016-01-02T00:00:00Z", [1]),
    ("t sub phenomenonTime gt duration'PT1H'", [2, 4]),
    ("t sub phenomenonTime eq duration'PT0S'", [1]),
    ("t sub phenomenonTime eq null", [3]),
    ("(t sub phenomenonTime) mul 2 lt duration'P3D'", [1, 2]),
    ("-(t sub phenomenonTime) lt duration'-P1D'", [2, 4]),
    ("t sub phenomenonTime add duration'P1D' gt duration'P2D'", [2, 4]),
    ("t sub 2016-01-01T00:00:00Z lt duration'P2D'", [1, 2]),
    ("2016-01-03T00:00:00Z sub 2016-01-01T00:00:00Z eq duration'P2D'", [1, 2, 3, 4]),
    ("year(2016-05-01T00:00:00Z) eq 2016", [1, 2, 3, 4]),
    # intervals (FROST semantics)
    ("phenomenonTime lt 2016-01-01T01:00:00Z", [1]),
    ("phenomenonTime le 2016-01-01T01:00:00Z", [1, 2]),
    ("phenomenonTime eq 2016-01-01T01:00:00Z", [2]),
    ("phenomenonTime ne 2016-01-01T01:00:00Z", [1, 3, 4]),
    ("phenomenonTime ge 2016-01-01T01:00:00Z", [2, 3]),
    ("phenomenonTime gt 2016-01-01T01:00:00Z", []),
    ("phenomenonTime gt 2016-01-01T00:30:00Z", [2, 3]),
    ("2016-01-01T01:00:00Z gt phenomenonTime", [1]),
    ("2016-01-01T00:30:00Z lt phenomenonTime", [2, 3]),
    ("phenomenonTime eq 2016-01-01T00:00:00Z/2016-01-02T00:00:00Z", [4]),
    ("phenomenonTime lt 2016-01-01T01:00:00Z/2016-01-01T03:00:00Z", [1]),
    ("phenomenonTime gt 2015-12-31T00:00:00Z/2016-01-01T00:00:00Z", [1, 2, 3, 4]),
    ("phenomenonTime gt 2015-12-31T00:00:00Z/2016-01-01T00:00:01Z", [2, 3]),
    ("phenomenonTime ge 2015-12-31T00:00:00Z/2016-01-01T00:00:00Z", [1, 2, 3, 4]),
    ("phenomenonTime le 2016-01-01T02:00:00Z/P1D", [1, 2, 3]),
    ("phenomenonTime lt t", [2, 4]),
    ("phenomenonTime ge t", [1]),
    ("year(phenomenonTime) eq 2016", [1, 2, 3, 4]),
    ("overlaps(phenomenonTime, 2016-01-01T00:30:00Z/2016-01-01T01:30:00Z)", [1, 2, 3, 4]),
    ("overlaps(phenomenonTime, 2016-01-01T01:00:00Z)", [2, 3, 4]),
    ("overlaps(phenomenonTime, 2016-01-01T02:00:00Z/2016-01-01T03:00:00Z)", [4]),
    ("before(phenomenonTime, 2016-01-01T01:00:00Z)", [1]),
    ("after(phenomenonTime, 2016-01-01T00:30:00Z)", [2, 3]),
    ("meets(phenomenonTime, 2016-01-01T01:00:00Z/2016-01-01T05:00:00Z)", [1, 2]),
    ("during(phenomenonTime, 2016-01-01T00:00:00Z/2016-01-01T02:00:00Z)", [1, 2, 3]),
    ("starts(phenomenonTime, 2016-01-01T00:00:00Z/P1D)", [1, 4]),
    ("finishes(phenomenonTime, 2016-01-01T02:00:00Z)", [3]),
    ("overlaps(t, 2016-01-01T00:00:00Z/P1D)", [1]),
    ("hour(phenomenonTime) eq 1", [2, 3]),
    # JSON properties
    ("properties/a eq 5", [1]),
    ("properties/a gt 6", [3]),
    ("properties/a eq 'text'", [2]),
    ("properties/a lt 100", [1, 3]),
    ("properties/s eq 'x'", [1]),
    ("properties/b eq true", [1]),
    ("properties/b eq false", [3]),
    ("properties/b", [1]),
    ("properties/nested/v eq 10", [1]),
    ("properties/nested/v add 1 eq 11", [1]),
    ("properties/missing eq null", [1, 2, 3, 4]),
    ("properties/s eq null", [3, 4]),
    ("properties/s ne null", [1, 2]),
    ("properties/a eq properties/a", [1, 2, 3]),
    ("startswith(properties/s, 'x')", [1]),
    ("round(properties/a) eq 8", [3]),
    # math
    ("round(n) eq 2", [1]),
    ("round(n) eq -3", [2]),
    ("floor(n) eq 1", [1]),
    ("floor(n) eq -3", [2]),
    ("ceiling(n) eq 2", [1]),
    ("ceiling(n) eq -2", [2]),
    ("ceiling(n) eq 10", [4]),
    # geospatial
    ("st_intersects(geom, geography'POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))')", [1, 2, 3]),
    ("geo.intersects(geom, geography'POINT(1 1)')", [1, 3]),
    ("st_within(geom, geography'POLYGON((0 0, 5 0, 5 5, 0 5, 0 0))')", [1, 2]),
    ("st_contains(geom, geography'POINT(5 5)')", [3]),
    ("st_disjoint(geom, geography'POINT(9 9)')", [1, 2]),
    ("st_equals(geom, geography'POINT(1 1)')", [1]),
    ("st_touches(geom, geography'POINT(0 0)')", [2, 3]),
    ("st_crosses(geom, geography'LINESTRING(-1 1, 1 1)')", [2, 3]),
    ("st_overlaps(geom, geography'POLYGON((5 5, 15 5, 15 15, 5 15, 5 5))')", [3]),
    ("st_relate(geom, geography'POINT(1 1)', 'T********')", [1, 3]),
    ("geo.distance(geom, geography'POINT(1 1)') eq 0", [1, 3]),
    ("geo.distance(geom, geography'POINT(4 1)') lt 2.5", [3]),
    ("geo.distance(geom, geography'POINT(4 1)') lt 2.7", [2, 3]),
    ("geo.length(geom) eq 5", [2]),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_filter_rows(db: Any, text: str, expected: list[int]) -> None:
    assert ids(db, text) == expected


BAD = [
    "unknown eq 1",
    "name eq 5",
    "name add 1 eq 2",
    "n eq 'abc'",
    "geom eq 1",
    "name",
    "n gt null",
    "startswith(n, 'a')",
    "year(name) eq 1",
    "st_relate(geom, geography'POINT(1 1)', 'bad')",
    "st_within(name, geography'POINT(1 1)')",
    "flag and n",
    "phenomenonTime eq 'x'",
    "overlaps(phenomenonTime, 5)",
    "t add duration'P1D' div 0 eq t",
    "t add 2 div duration'P1D' eq t",
    "t add duration'P1D' mul 'x' eq t",
    "t sub phenomenonTime gt 5",
    "duration'P1D' sub t eq t",
    "t add duration'P99999999D' eq t",
    "st_relate(geom, geography'GEOMETRYCOLLECTION(POINT(1 1))', 'T********')",
]


@pytest.mark.parametrize("text", BAD)
def test_bad_filters_are_bad_requests(db: Any, text: str) -> None:
    with pytest.raises(BadRequest):
        db.read_sync(lambda c: compile_filter(parse_filter(text), resolve, c))


ORDER = [
    ("n asc", [3, 2, 1, 4]),
    ("n desc", [4, 1, 2, 3]),
    ("t asc, id desc", [3, 1, 2, 4]),
    ("t desc", [4, 2, 1, 3]),
    ("phenomenonTime desc, id", [2, 3, 1, 4]),
    ("length(name) desc, id", [4, 3, 1, 2]),
    ("geo.distance(geom, geography'POINT(10 10)'), id", [4, 3, 2, 1]),
    ("flag desc, id", [1, 4, 2, 3]),
    ("name", [1, 3, 2, 4]),
]


@pytest.mark.parametrize(("text", "expected"), ORDER, ids=[o[0] for o in ORDER])
def test_orderby(db: Any, text: str, expected: list[int]) -> None:
    order = db.read_sync(lambda c: compile_orderby(parse_orderby(text), resolve, c))
    rows = db.read_sync(lambda c: c.fetchall(f"SELECT i.id FROM items i ORDER BY {order}"))
    assert [r[0] for r in rows] == expected
    sql, params = db.read_sync(lambda c: compile_orderby_params(parse_orderby(text), resolve, c))
    rows = db.read_sync(lambda c: c.fetchall(f"SELECT i.id FROM items i ORDER BY {sql}", params))
    assert [r[0] for r in rows] == expected


def test_orderby_not_null_column_has_no_nulls_clause(db: Any) -> None:
    order = db.read_sync(lambda c: compile_orderby(parse_orderby("id desc"), resolve, c))
    assert order == "i.id DESC"


def test_orderby_json_and_geometry(db: Any) -> None:
    order = db.read_sync(lambda c: compile_orderby(parse_orderby("properties/nested/v desc, id"), resolve, c))
    rows = db.read_sync(lambda c: c.fetchall(f"SELECT i.id FROM items i ORDER BY {order}"))
    assert [r[0] for r in rows][0] == 1
    with pytest.raises(BadRequest):
        db.read_sync(lambda c: compile_orderby(parse_orderby("geom"), resolve, c))


def test_text_that_drivers_refuse_is_a_bad_request(db: Any) -> None:
    from urbanos.query import ast

    for value in ("a\x00b", "\ud800"):
        node = ast.BinOp("eq", ast.Property(("name",)), ast.Literal(value, "string"))
        with pytest.raises(BadRequest):
            db.read_sync(lambda c, n=node: compile_filter(n, resolve, c))
    with pytest.raises(BadRequest, match="NUL"):
        parse_filter("name eq 'a\x00'")


def test_orderby_inlines_awkward_strings(db: Any) -> None:
    text = "concat(name, '%?''\\\\ \n') desc, id"
    order = db.read_sync(lambda c: compile_orderby(parse_orderby(text), resolve, c))
    rows = db.read_sync(lambda c: c.fetchall(f"SELECT i.id, i.name FROM items i ORDER BY {order}"))
    assert [r[0] for r in rows] == [4, 2, 3, 1]
    assert compile_orderby(parse_orderby("1, 'x', null"), resolve) == "(1 = 1)"


def test_values_beyond_the_drivers_range_are_handled(db: Any) -> None:
    from datetime import datetime, timedelta, timezone

    from urbanos.query import ast

    big = ast.BinOp("lt", ast.Property(("id",)), ast.Literal(2**70, "int"))
    sql, params = db.read_sync(lambda c: compile_filter(big, resolve, c))
    assert db.read_sync(lambda c: c.fetchall(f"SELECT i.id FROM items i WHERE {sql}", params)) != []
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    node = ast.BinOp("gt", ast.Property(("t",)), ast.Literal(early, "datetime"))
    with pytest.raises(BadRequest):
        db.read_sync(lambda c: compile_filter(node, resolve, c))
