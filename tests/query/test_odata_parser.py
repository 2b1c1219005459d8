"""OData $filter / $orderby / $select / $expand parsing: spec examples, precedence, literals, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from tests.conftest import SQLITE_RUN_ONLY
from urbanos.errors import BadRequest, NotImplementedFeature
from urbanos.query import ast
from urbanos.query.ast import BinOp, Call, Literal, Not, OrderBy, Property
from urbanos.query.odata import parse_expand, parse_filter, parse_orderby, parse_query, parse_select, to_text

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

# Request examples of OGC 18-088 (SensorThings API 1.1), its built-in function table and OData 4 filters
SPEC_FILTERS = [
    "result lt 10.00",
    "result le 5 and FeatureOfInterest/id eq '1'",
    "result gt 20 or result le 3.5",
    "not startswith(description,'test')",
    "(result sub 5) gt 10",
    "result add 5 eq 10",
    "result sub 5 eq 0",
    "result mul 2 eq 10",
    "result div 2 eq 5",
    "result mod 2 eq 0",
    "name eq 'CO2'",
    "name ne 'CO2'",
    "Datastream/id eq 1",
    "Thing/Datastreams/ObservedProperty/name eq 'Temperature'",
    "substringof('Sensor Things',description)",
    "endswith(description,'Things')",
    "startswith(description,'Sensor')",
    "length(description) eq 13",
    "indexof(description,'Sensor') eq 1",
    "substring(description,1) eq 'ensor Things'",
    "substring(description,2,4) eq 'nsor'",
    "tolower(description) eq 'sensor things'",
    "toupper(description) eq 'SENSOR THINGS'",
    "trim(description) eq 'Sensor Things'",
    "concat(concat(unitOfMeasurement/symbol,', '), unitOfMeasurement/name) eq 'degree, Celsius'",
    "year(resultTime) eq 2015",
    "month(resultTime) eq 12",
    "day(resultTime) eq 8",
    "hour(resultTime) eq 1",
    "minute(resultTime) eq 0",
    "second(resultTime) eq 0",
    "fractionalseconds(resultTime) eq 0",
    "date(resultTime) ne date(validTime)",
    "time(resultTime) le validTime",
    "totaloffsetminutes(resultTime) eq 60",
    "resultTime ge now()",
    "resultTime eq mindatetime()",
    "resultTime eq maxdatetime()",
    "round(result) eq 32",
    "floor(result) eq 32",
    "ceiling(result) eq 33",
    "geo.distance(location, geography'POINT(-122, 43)') gt 1",
    "geo.length(location) lt 2",
    "geo.intersects(location, geography'POLYGON ((30 10, 10 20, 20 40, 40 40, 30 10))')",
    "st_equals(location, geography'POINT(-122 43)')",
    "st_disjoint(location, geography'POLYGON ((30 10, 10 20, 20 40, 40 40, 30 10))')",
    "st_touches(location, geography'LINESTRING(30 10, 10 30, 40 40)')",
    "st_within(location, geography'POLYGON ((30 10, 10 20, 20 40, 40 40, 30 10))')",
    "st_overlaps(location, geography'POLYGON ((30 10, 10 20, 20 40, 40 40, 30 10))')",
    "st_crosses(location, geography'LINESTRING(30 10, 10 30, 40 40)')",
    "st_intersects(location, geography'LINESTRING(30 10, 10 30, 40 40)')",
    "st_contains(location, geography'POINT(-122 43)')",
    "st_relate(location, geography'POLYGON ((30 10, 10 20, 20 40, 40 40, 30 10))', 'T********')",
    "st_within(HistoricalLocations/Location/location, geography'POLYGON((7.5 51.5, 7.5 53.5, 8.5 53.5, 8.5 51.5, 7.5 51.5))')",
    "phenomenonTime gt now() sub duration'P1D'",
    "phenomenonTime ge 2022-12-23T13:21:31+01:00",
    "phenomenonTime gt 2014-12-31T23:00:00Z and phenomenonTime lt 2015-12-31T23:00:00.000Z",
    "phenomenonTime eq 2014-03-01T13:00:00Z/2015-05-11T15:30:00Z",
    "name eq 'Hylke''s Thing'",
    "ObservedProperty/@iot.id eq 1",
    "properties/owner eq 'John Doe'",
    "result gt Datastream/properties/max add 0",
    "result eq true",
    "resultQuality eq null",
    "-result lt -5.5e-3",
    "result eq 1E10",
    "contains(name, 'temperature')",
]


@pytest.mark.parametrize("text", SPEC_FILTERS)
def test_spec_examples_parse_and_round_trip(text: str) -> None:
    node = parse_filter(text)
    again = parse_filter(to_text(node))
    assert again == node
    assert parse_filter(to_text(again)) == again


def test_precedence() -> None:
    assert parse_filter("a eq 1 or b eq 2 and c eq 3") == BinOp(
        "or",
        BinOp("eq", Property(("a",)), Literal(1, "int")),
        BinOp("and", BinOp("eq", Property(("b",)), Literal(2, "int")), BinOp("eq", Property(("c",)), Literal(3, "int"))),
    )
    assert parse_filter("a add 2 mul 3 eq 7") == BinOp(
        "eq", BinOp("add", Property(("a",)), BinOp("mul", Literal(2, "int"), Literal(3, "int"))), Literal(7, "int")
    )
    assert parse_filter("a sub 1 sub 2 eq 0").left == BinOp(  # type: ignore[attr-defined]
        "sub", BinOp("sub", Property(("a",)), Literal(1, "int")), Literal(2, "int")
    )
    # relational binds tighter than equality
    assert parse_filter("a lt 1 eq true") == BinOp("eq", BinOp("lt", Property(("a",)), Literal(1, "int")), Literal(True, "bool"))
    assert parse_filter("x eq a lt 1") == BinOp("eq", Property(("x",)), BinOp("lt", Property(("a",)), Literal(1, "int")))
    # not applies to the comparison that follows
    assert parse_filter("not a eq 1 and b") == BinOp("and", Not(BinOp("eq", Property(("a",)), Literal(1, "int"))), Property(("b",)))
    assert parse_filter("not not a") == Not(Not(Property(("a",))))
    assert parse_filter("(a eq 1 or b eq 2) and c").op == "and"  # type: ignore[attr-defined]
    # keywords are case-insensitive; property names keep their case
    assert parse_filter("Name EQ 'x' AND Other") == BinOp("and", BinOp("eq", Property(("Name",)), Literal("x", "string")),
                                                          Property(("Other",)))


def lit(text: str) -> ast.Literal:
    node = parse_filter(f"x eq {text}")
    assert isinstance(node, BinOp) and isinstance(node.right, Literal)
    return node.right


def test_literals() -> None:
    assert lit("'it''s'") == Literal("it's", "string")
    assert lit("''") == Literal("", "string")
    assert lit("42") == Literal(42, "int")
    assert lit("-42") == Literal(-42, "int")
    assert lit("4.5") == Literal(4.5, "float")
    assert lit("1.5E+3") == Literal(1500.0, "float")
    assert lit("2e-2") == Literal(0.02, "float")
    assert lit("99999999999999999999").kind == "float"
    assert lit("true") == Literal(True, "bool")
    assert lit("false") == Literal(False, "bool")
    assert lit("null") == Literal(None, "null")
    dt = lit("2016-01-02T03:04:05.123456789Z")
    assert dt.kind == "datetime" and dt.value == datetime(2016, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    off = lit("2016-01-02T03:04:05+02:00").value
    assert off.utcoffset() == timedelta(hours=2) and off == datetime(2016, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert lit("2016-01-02T03:04Z").value == datetime(2016, 1, 2, 3, 4, tzinfo=UTC)
    naive = lit("2016-01-02T03:04:05").value
    assert naive.tzinfo is not None and naive == datetime(2016, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert lit("2016-01-02T03:04:05-0130").value.utcoffset() == -timedelta(hours=1, minutes=30)
    assert lit("2016-01-02") == Literal(date(2016, 1, 2), "date")
    assert lit("13:45:00.5") == Literal(time(13, 45, 0, 500000), "time")
    assert lit("13:45") == Literal(time(13, 45), "time")
    assert lit("duration'P1DT2H3M4.5S'") == Literal(timedelta(days=1, hours=2, minutes=3, seconds=4.5), "duration")
    assert lit("duration'PT0.25S'").value == timedelta(milliseconds=250)
    assert lit("duration'-P2W'").value == -timedelta(weeks=2)
    iv = lit("2016-01-01T00:00:00Z/2016-01-02T00:00:00+01:00")
    assert iv.kind == "interval" and iv.value[1] - iv.value[0] == timedelta(hours=23)
    assert lit("2016-01-01T00:00:00Z/P1D").value[1] == datetime(2016, 1, 2, tzinfo=UTC)
    g = lit("geography'POINT(1 2)'")
    assert g.kind == "geometry" and (g.value.x, g.value.y) == (1, 2)
    assert lit("geometry'SRID=4326;LINESTRING(0 0, 1 1)'").value.length == pytest.approx(2**0.5)
    assert lit("datetime'2016-01-01T00:00:00Z'").kind == "datetime"
    assert lit("datetimeoffset'2016-01-01T00:00:00+05:00'").value.utcoffset() == timedelta(hours=5)
    assert isinstance(lit("2016-01-02T03:04:05Z").value.tzinfo, timezone)


def test_paths_and_calls() -> None:
    assert parse_filter("Datastream/Thing/name eq 'a'").left == Property(("Datastream", "Thing", "name"))  # type: ignore[attr-defined]
    assert parse_filter("properties/a/b").__eq__(Property(("properties", "a", "b")))
    assert parse_filter("@iot.id eq 1").left == Property(("@iot.id",))  # type: ignore[attr-defined]
    assert parse_filter("now() gt x").left == Call("now", ())  # type: ignore[attr-defined]
    assert parse_filter("GEO.DISTANCE(a, b) gt 1").left.name == "geo.distance"  # type: ignore[attr-defined]
    assert parse_filter("substring(a, 1, 2) eq 'x'").left.args[2] == Literal(2, "int")  # type: ignore[attr-defined]


ERRORS = [
    ("", 1, "expected an expression"),
    ("a eq", 5, "expected a value"),
    ("a eq 1)", 7, "expected an operator"),
    ("(a eq 1", 8, "')'"),
    ("a eq 'x", 6, "not closed"),
    ("a eq 1 and", 11, "expected a value"),
    ("foo(1)", 1, "unknown function"),
    ("substring(a)", 1, "2 or 3 arguments"),
    ("now(1)", 1, "takes 0 arguments"),
    ("length(a, b)", 1, "takes 1 argument"),
    ("st_relate(a, b)", 1, "takes 3 arguments"),
    ("a eq 2016-13-01", 6, "not a valid literal"),
    ("a eq 25:00:00", 6, "not a valid literal"),
    ("a eq 12abc", 6, "not a number"),
    ("a eq duration'P1Y'", 6, "not a valid literal"),
    ("a eq geography'POINT(x y)'", 6, "not a valid literal"),
    ("a eq geography'SRID=3857;POINT(1 2)'", 6, "not a valid literal"),
    ("a eq 2016-01-02T00:00:00Z/2016-01-01T00:00:00Z", 6, "ends before it starts"),
    ("a # 1", 3, "unexpected character"),
    ("a/'x' eq 1", 3, "property name after '/'"),
    ("geo.distance eq 1", 1, "needs '('"),
    ("eq eq 1", 1, "expected a value"),
    ("a eq 1 2", 8, "expected an operator"),
    ("f(", 1, "unknown function"),
    ("length(", 8, "expected a value"),
    ("length(a", 9, "',' or ')'"),
    ("a eq 1e999", 6, "out of range"),
    ("(" * 60 + "a" + ")" * 60, 52, "nested"),
]


@pytest.mark.parametrize(("text", "pos", "words"), ERRORS, ids=[e[0][:30] for e in ERRORS])
def test_errors_name_position_and_expectation(text: str, pos: int, words: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_filter(text)
    assert f"at position {pos}:" in info.value.message
    assert words in info.value.message
    assert info.value.message.startswith("$filter")
    assert info.value.status == 400


def test_orderby() -> None:
    assert parse_orderby("phenomenonTime desc") == (OrderBy(Property(("phenomenonTime",)), True),)
    assert parse_orderby("a, b asc ,c DESC") == (
        OrderBy(Property(("a",))), OrderBy(Property(("b",))), OrderBy(Property(("c",)), True))
    assert parse_orderby("geo.distance(location, geography'POINT(1 2)') asc")[0].expr.name == "geo.distance"  # type: ignore[attr-defined]
    assert parse_orderby("length(name) add 1 desc")[0].descending
    for bad in ("", "a,", ",a", "a desc desc", "a up", "a desc b"):
        with pytest.raises(BadRequest, match=r"\$orderby: at position"):
            parse_orderby(bad)


def test_select() -> None:
    assert parse_select("name, description") == (("name",), ("description",))
    assert parse_select("@iot.id,properties/owner,Thing/name") == (("@iot.id",), ("properties", "owner"), ("Thing", "name"))
    assert parse_select("*") is None
    assert parse_select("a,a") == (("a",),)
    for bad in ("", "a,,b", "a b", "a/", "1a", "a;b"):
        with pytest.raises(BadRequest, match=r"\$select: at position"):
            parse_select(bad)


def test_expand_nested() -> None:
    items = parse_expand(
        "Datastreams($top=1;$orderby=phenomenonTime desc;$expand=Observations($select=result;$filter=result eq 'a;b)'))"
        ",Locations, Datastreams/Sensor ( $select=name )", max_top=50, default_top=10,
    )
    assert [e.path for e in items] == [("Datastreams",), ("Locations",), ("Datastreams", "Sensor")]
    ds = items[0].options
    assert ds.top == 1 and ds.orderby == (OrderBy(Property(("phenomenonTime",)), True),)
    obs = ds.expand[0]
    assert obs.path == ("Observations",)
    assert obs.options.select == (("result",),)
    assert obs.options.filter == BinOp("eq", Property(("result",)), Literal("a;b)", "string"))
    assert obs.options.top == 10
    assert items[1].options.top == 10
    assert items[2].options.select == (("name",),)
    q = parse_expand("Datastreams($count=true;$skip=2;$top=500)", max_top=50)
    assert q[0].options.count is True and q[0].options.skip == 2 and q[0].options.top == 50


@pytest.mark.parametrize("bad", [
    "", "Datastreams(", "Datastreams($top=x)", "Datastreams($top=1;$top=2)", "Datastreams($skiptoken=a)",
    "Datastreams(top=1)", "Datastreams)", "Datastreams($filter=a eq)", "Datastreams,", "Datastreams/",
    "Datastreams($filter=name eq 'x)", "Datastreams($count=yes)", "Datastreams x",
])
def test_expand_errors(bad: str) -> None:
    with pytest.raises(BadRequest):
        parse_expand(bad)


def test_expand_error_names_nested_option() -> None:
    with pytest.raises(BadRequest) as info:
        parse_expand("Datastreams($expand=Observations($filter=result eq))")
    assert info.value.message.startswith("$expand(Datastreams)/$expand(Observations)/$filter: at position 10")


def test_parse_query() -> None:
    q = parse_query({"$filter": "result gt 5", "$top": "20", "$skip": "40", "$count": "true",
                     "$orderby": "id", "$select": "id,result", "$resultFormat": "dataArray", "other": "x"})
    assert q.filter == BinOp("gt", Property(("result",)), Literal(5, "int"))
    assert (q.top, q.skip, q.count, q.result_format) == (20, 40, True, "dataArray")
    assert q.select == (("id",), ("result",))
    assert q.extra == {"other": "x"}
    d = parse_query({})
    assert (d.top, d.skip, d.count, d.filter, d.select, d.expand) == (100, 0, None, None, None, ())
    assert parse_query({}, default_top=None).top is None
    assert parse_query({"$top": "99999"}, max_top=1000).top == 1000
    assert parse_query({}, max_top=10, default_top=100).top == 10
    assert parse_query({"$top": "0"}).top == 0
    assert parse_query({"$count": "false"}).count is False
    assert parse_query({"$resultformat": "GeoJSON"}).result_format == "GeoJSON"
    assert parse_query({"$skiptoken": "abc"}).extra == {"$skiptoken": "abc"}


@pytest.mark.parametrize("params", [
    {"$top": "-1"}, {"$top": "1.5"}, {"$top": ""}, {"$top": "abc"}, {"$skip": "-3"}, {"$skip": "9" * 30},
    {"$count": "True"}, {"$count": "1"}, {"$count": ""},
    {"$filter": "a eq"}, {"$orderby": "a sideways"}, {"$select": ","}, {"$expand": "("},
    {"$resultFormat": "a b"}, {"$top": "١"}, {"$top": "1", "$TOP": "2"},
])
def test_parse_query_bad(params: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        parse_query(params)


@pytest.mark.parametrize("params", [{"$format": "json"}, {"$bogus": "1"}, {"$apply": "groupby((name))"},
                                    {"$expand": "Datastreams($apply=groupby((name)))"}])
def test_unsupported_options_are_not_implemented(params: dict[str, str]) -> None:
    with pytest.raises(NotImplementedFeature) as info:
        parse_query(params)
    assert info.value.status == 501 and "supported: $count, $expand, $filter" in info.value.message


def test_round_trip_of_option_values() -> None:
    text = "Datastream/Thing/name eq 'x' and (result add 1.5) mul 2 gt -3 or not substringof('a', name)"
    node = parse_filter(text)
    assert parse_filter(to_text(node)) == node


def test_client_style_queries() -> None:
    # as QGIS builds it
    q = parse_query({"$expand": "Locations($orderby=id desc;$top=3;$expand=Datastreams($top=101))",
                     "$filter": "geo.intersects(location, geography'POLYGON((1 1, 2 1, 2 2, 1 2, 1 1))')"})
    loc = q.expand[0]
    assert loc.options.orderby == (OrderBy(Property(("id",)), True),) and loc.options.top == 3
    assert loc.options.expand[0].options.top == 101
    # STA 1.0 style nested paths, and option names in any case
    q = parse_query({"$EXPAND": "Datastreams/Observations,Locations", "$Top": "2", "$resultformat": "dataArray"})
    assert [e.path for e in q.expand] == [("Datastreams", "Observations"), ("Locations",)]
    assert q.top == 2 and q.result_format == "dataArray"
    assert parse_filter("a eq GEOGRAPHY'POINT(1 2)'").right.kind == "geometry"  # type: ignore[attr-defined]
