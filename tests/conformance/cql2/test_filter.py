"""Part 3: CQL2 text and JSON on both back ends, bad input per parameter, and a fuzz of the filter path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ITEMS = "/ogcapi/collections/places/items"


def matched(client: Any, **params: Any) -> int:
    r = client.get(ITEMS, params=params)
    assert r.status_code == 200, r.text
    return int(r.json()["numberMatched"])


@pytest.mark.parametrize(("text", "expected"), [
    ("pop > 250", 4),
    ("pop >= 250 AND kind = 'b'", 4),
    ("kind = 'a' OR kind = 'c'", 12),
    ("NOT (kind = 'b')", 13),
    ("pop <> 10", 31),
    ("name LIKE 'Place 1%'", 10),
    ("name LIKE 'place 1%'", 0),
    ("CASEI(name) LIKE casei('place 1%')", 10),
    ("name LIKE 'Place _5'", 3),
    ("name NOT LIKE 'Place%'", 3),
    ("pop BETWEEN 100 AND 150", 6),
    ("kind IN ('c', 'd')", 3),
    ("kind NOT IN ('a', 'b')", 3),
    ("pop IS NULL", 1),
    ("pop IS NOT NULL", 32),
    ("active = TRUE AND kind = 'a'", 5),
    ("score * 4 = pop / 10", 30),
    ("pop > score", 31),
    ("observed > TIMESTAMP('2024-01-20T00:00:00Z')", 11),
    ("S_INTERSECTS(geometry, POLYGON((9.89 53.49, 9.951 53.49, 9.951 53.53, 9.89 53.53, 9.89 53.49)))", 6),
    ("S_INTERSECTS(geometry, BBOX(9.89, 53.49, 9.951, 53.53))", 6),
    ("S_WITHIN(geometry, BBOX(9.89, 53.49, 9.951, 53.53))", 6),
    ("S_DISJOINT(geometry, BBOX(9.89, 53.49, 9.951, 53.53))", 26),
    ("S_CONTAINS(geometry, POINT(9.9 53.5))", 1),
    ("S_EQUALS(geometry, POINT(179.5 -17))", 1),
    ("S_DWITHIN(geometry, POINT(9.9 53.5), 1500)", 2),
    ("T_AFTER(observed, TIMESTAMP('2024-01-28T00:00:00Z'))", 3),
    ("T_BEFORE(observed, DATE('2024-01-03'))", 2),
    ("T_INTERSECTS(observed, INTERVAL('2024-01-05T00:00:00Z', '2024-01-09T23:00:00Z'))", 5),
    ("T_DURING(observed, INTERVAL('2024-01-28T00:00:00Z', '..'))", 3),
    ("T_DISJOINT(observed, INTERVAL('..', '2024-01-28T00:00:00Z'))", 3),
    ("T_EQUALS(observed, TIMESTAMP('2024-01-02T12:00:00Z'))", 1),
])
def test_cql2_text(client: Any, places: Any, text: str, expected: int) -> None:
    assert matched(client, filter=text) == expected


def test_cql2_json_and_filter_crs(client: Any, places: Any) -> None:
    f = {"op": "and", "args": [
        {"op": ">", "args": [{"property": "pop"}, 100]},
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [9.89, 53.49, 10.2, 53.7]}]},
        {"op": "t_after", "args": [{"property": "observed"}, {"timestamp": "2024-01-15T00:00:00Z"}]},
    ]}
    assert matched(client, filter=json.dumps(f), **{"filter-lang": "cql2-json"}) == 16
    like = {"op": "like", "args": [{"property": "name"}, "Place 0%"]}
    assert matched(client, filter=json.dumps(like), **{"filter-lang": "cql2-json"}) == 10
    # the same box in EPSG:4326 (latitude first)
    text = "S_INTERSECTS(geometry, POLYGON((53.49 9.89, 53.49 9.951, 53.53 9.951, 53.53 9.89, 53.49 9.89)))"
    assert matched(client, filter=text, **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}) == 6


BAD = [
    {"limit": "0"}, {"limit": "-1"}, {"limit": "abc"}, {"limit": "1.5"}, {"offset": "-3"},
    {"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "0,10,1,5"}, {"bbox": "0,0,1,100"}, {"bbox": "1,2,3,4,5"},
    {"bbox": "nan,0,1,1"}, {"bbox": "0,0,1,1", "bbox-crs": "EPSG:99999"},
    {"datetime": "yesterday"}, {"datetime": "2024-13-01"}, {"datetime": "2024-02-01/2024-01-01"}, {"datetime": "/"},
    {"datetime": "P1D/P2D"}, {"datetime": "2024-01-01/P1X"},
    {"crs": "EPSG:4269"}, {"crs": "http://www.opengis.net/def/crs/EPSG/0/999999"},
    {"filter": "pop >"}, {"filter": "nosuch = 1"}, {"filter": "pop = 'x'"}, {"filter": "name > 3"},
    {"filter": "S_INTERSECTS(pop, POINT(1 2))"}, {"filter": "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))"},
    {"filter": "T_AFTER(name, TIMESTAMP('2024-01-01T00:00:00Z'))"}, {"filter": "{", "filter-lang": "cql2-json"},
    {"filter": '{"op": "nope", "args": []}', "filter-lang": "cql2-json"}, {"filter": "pop = 1", "filter-lang": "sql"},
    {"filter": "pop = 1", "filter-crs": "EPSG:1"}, {"filter": "A_CONTAINS(kind, ('a'))"},
    {"sortby": "nosuch"}, {"sortby": ""}, {"properties": "nosuch"}, {"f": "xml"}, {"skipGeometry": "maybe"},
    {"unknown_param": "1"}, {"pop": "many"}, {"active": "perhaps"},
]


@pytest.mark.parametrize("params", BAD, ids=[json.dumps(b) for b in BAD])
def test_bad_parameters_give_400_in_ogc_format(client: Any, places: Any, params: dict[str, str]) -> None:
    r = client.get(ITEMS, params=params)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) >= {"code", "description"} and body["code"] == "InvalidParameterValue"


def test_bad_crs_on_item_and_duplicate_params(client: Any, places: Any) -> None:
    assert client.get(f"{ITEMS}/1", params={"crs": "EPSG:1234"}).status_code == 400
    assert client.get(f"{ITEMS}?limit=1&limit=2").status_code == 400
    assert client.get("/ogcapi/collections/places?f=pdf").status_code == 400


_atoms = st.one_of(
    st.sampled_from(["pop", "name", "kind", "score", "active", "observed", "geometry", "nosuch", "id", "x"]),
    st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=False).map(repr),
    st.text(max_size=8).map(lambda s: "'" + s.replace("'", "''") + "'"),
    st.sampled_from(["TRUE", "NULL", "POINT(1 2)", "BBOX(0,0,1,1)", "TIMESTAMP('2024-01-01T00:00:00Z')", "DATE('2024-02-30')",
                     "INTERVAL('..','..')", "POLYGON((0 0,1 0,0 0))", "casei('A')", "(", ")", ","]),
)
_ops = st.sampled_from(["=", "<>", "<", ">=", "AND", "OR", "NOT", "LIKE", "IN", "BETWEEN", "IS NULL", "+", "/", "S_INTERSECTS",
                        "T_AFTER", "S_DWITHIN", "CASEI", "(", ")", ","])
_expr = st.lists(st.one_of(_atoms, _ops), min_size=1, max_size=9).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_expr)
def test_fuzz_cql2_text_never_500(client: Any, places: Any, text: str) -> None:
    r = client.get(ITEMS, params={"filter": text, "limit": 2})
    assert r.status_code in (200, 400), (text, r.text)
    if r.status_code == 400:
        assert r.json()["code"] == "InvalidParameterValue"


_json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                       st.text(max_size=5), st.sampled_from([{"property": "pop"}, {"property": "geometry"}, {"property": "zz"},
                                                             {"timestamp": "2024-01-01T00:00:00Z"}, {"bbox": [0, 0, 1, 1]},
                                                             {"type": "Point", "coordinates": [1, 2]}, {"interval": ["..", ".."]}]))
_json_expr = st.recursive(_json_leaf, lambda kids: st.one_of(
    st.builds(lambda op, args: {"op": op, "args": args},
              st.sampled_from(["and", "or", "not", "=", "<", "like", "in", "between", "isNull", "s_intersects", "t_after", "+", "casei"]),
              st.lists(kids, max_size=3)),
    st.lists(kids, max_size=3)), max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_json_expr)
def test_fuzz_cql2_json_never_500(client: Any, places: Any, tree: Any) -> None:
    r = client.get(ITEMS, params={"filter": json.dumps(tree), "filter-lang": "cql2-json", "limit": 2})
    assert r.status_code in (200, 400), (tree, r.text)
