"""Fuzz the compiler against the real back end: well-typed random filters and mutations of valid ones
either run without a database error or are refused with a 4xx error before reaching the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.storage.test_compile import CASES, open_items_db, resolve
from urbanos.errors import BadRequest, NotImplementedFeature
from urbanos.query import ast
from urbanos.query.odata import parse_filter, parse_orderby, to_text
from urbanos.storage.compile import compile_filter, compile_orderby


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Any:
    yield from open_items_db(tmp_path_factory)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

P = ast.Property
NUM_LEAF = st.one_of(
    st.sampled_from([P(("n",)), P(("id",)), P(("properties", "a")), P(("properties", "nested", "v"))]),
    st.integers(-(2**63) + 1, 2**63 - 1).map(lambda i: ast.Literal(i, "int")),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: ast.Literal(f, "float")),
)
TEXT_LEAF = st.one_of(
    st.sampled_from([P(("name",)), P(("properties", "s")), P(("properties", "a"))]),
    st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=8).map(lambda s: ast.Literal(s, "string")),
)
TIME_LEAF = st.one_of(
    st.sampled_from([P(("t",)), P(("phenomenonTime",)), ast.Call("now", ()), ast.Call("mindatetime", ()),
                     ast.Call("maxdatetime", ())]),
    st.datetimes(timezones=st.just(None)).map(lambda d: ast.Literal(d.replace(tzinfo=__import__("datetime").UTC),
                                                                      "datetime")),
)
GEO_LEAF = st.one_of(
    st.just(P(("geom",))),
    st.sampled_from(["POINT(1 1)", "LINESTRING(0 0, 5 5)", "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))"]).map(
        lambda w: parse_filter(f"x eq geography'{w}'").right),  # type: ignore[attr-defined]
)


def num(depth: int) -> st.SearchStrategy[ast.Node]:
    if depth <= 0:
        return NUM_LEAF
    sub = num(depth - 1)
    return st.one_of(
        NUM_LEAF,
        st.tuples(st.sampled_from(["add", "sub", "mul", "div", "mod"]), sub, sub).map(lambda t: ast.BinOp(*t)),
        sub.map(ast.Neg),
        st.tuples(st.sampled_from(["round", "floor", "ceiling"]), sub).map(lambda t: ast.Call(t[0], (t[1],))),
        st.tuples(st.sampled_from(["length"]), text(depth - 1)).map(lambda t: ast.Call(t[0], (t[1],))),
        st.tuples(text(depth - 1), text(depth - 1)).map(lambda t: ast.Call("indexof", t)),
        st.tuples(st.sampled_from(["year", "month", "day", "hour", "minute", "second", "fractionalseconds",
                                   "totaloffsetminutes"]), TIME_LEAF).map(lambda t: ast.Call(t[0], (t[1],))),
        st.tuples(GEO_LEAF, GEO_LEAF).map(lambda t: ast.Call("geo.distance", t)),
        GEO_LEAF.map(lambda g: ast.Call("geo.length", (g,))),
    )


def text(depth: int) -> st.SearchStrategy[ast.Node]:
    if depth <= 0:
        return TEXT_LEAF
    sub = text(depth - 1)
    return st.one_of(
        TEXT_LEAF,
        st.tuples(st.sampled_from(["tolower", "toupper", "trim"]), sub).map(lambda t: ast.Call(t[0], (t[1],))),
        st.tuples(sub, sub).map(lambda t: ast.Call("concat", t)),
        st.tuples(sub, num(depth - 1)).map(lambda t: ast.Call("substring", t)),
        st.tuples(sub, num(depth - 1), num(depth - 1)).map(lambda t: ast.Call("substring", t)),
    )


def time_(depth: int) -> st.SearchStrategy[ast.Node]:
    dur = st.timedeltas(min_value=timedelta(days=-400000), max_value=timedelta(days=400000)).map(
        lambda d: ast.Literal(d, "duration"))
    return st.one_of(TIME_LEAF, st.tuples(st.sampled_from(["add", "sub"]), TIME_LEAF, dur).map(lambda t: ast.BinOp(*t)))


def boolean(depth: int) -> st.SearchStrategy[ast.Node]:
    ops = st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"])
    leaf = st.one_of(
        st.tuples(ops, num(depth), num(depth)).map(lambda t: ast.BinOp(*t)),
        st.tuples(ops, text(depth), text(depth)).map(lambda t: ast.BinOp(*t)),
        st.tuples(ops, time_(depth), time_(depth)).map(lambda t: ast.BinOp(*t)),
        st.tuples(ops, time_(depth), time_(depth), st.timedeltas(), st.sampled_from(["mul", "div"]), num(0)).map(
            lambda t: ast.BinOp(t[0], ast.BinOp(t[4], ast.BinOp("sub", t[1], t[2]), t[5]),
                                ast.Literal(t[3], "duration"))),
        st.tuples(st.sampled_from(["substringof", "startswith", "endswith", "contains"]), text(depth), text(depth)).map(
            lambda t: ast.Call(t[0], (t[1], t[2]))),
        st.tuples(st.sampled_from(["geo.intersects", "st_equals", "st_disjoint", "st_touches", "st_within",
                                   "st_overlaps", "st_crosses", "st_intersects", "st_contains"]), GEO_LEAF, GEO_LEAF).map(
            lambda t: ast.Call(t[0], (t[1], t[2]))),
        st.sampled_from([P(("flag",)), P(("properties", "b"))]),
    )
    if depth <= 0:
        return leaf
    sub = boolean(depth - 1)
    return st.one_of(leaf, st.tuples(st.sampled_from(["and", "or"]), sub, sub).map(lambda t: ast.BinOp(*t)),
                     sub.map(ast.Not))


def run(db: Any, node: ast.Node) -> None:
    try:
        sql, params = db.read_sync(lambda c: compile_filter(node, resolve, c))
    except (BadRequest, NotImplementedFeature):
        return
    db.read_sync(lambda c: c.fetchall(f"SELECT i.id FROM items i WHERE {sql}", params))


@FUZZ
@given(boolean(2))
def test_typed_random_filters_run(db: Any, node: ast.Node) -> None:
    run(db, node)
    assert parse_filter(to_text(node)) == node


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text_ = draw(st.sampled_from([c[0] for c in CASES]))
    pieces = ["1", "-1", "0", "99999999999999999999", "1e308", "'x'", "null", "true", " add ", " mul ", " div ",
              " eq ", " and ", " not ", "n", "name", "t", "phenomenonTime", "properties/a", "2016-01-01T00:00:00Z",
              "duration'P1D'", "(", ")", ",", "geography'POINT(1 1)'"]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text_)))
        j = draw(st.integers(i, min(len(text_), i + 6)))
        text_ = text_[:i] + draw(st.sampled_from(pieces)) + text_[j:]
    return text_


@FUZZ
@given(mutated())
def test_mutated_filters_run(db: Any, text_: str) -> None:
    try:
        node = parse_filter(text_)
    except BadRequest:
        return
    run(db, node)


@FUZZ
@given(st.lists(st.tuples(st.one_of(num(1), text(1), time_(1)), st.booleans()), min_size=1, max_size=3))
def test_random_orderby_runs(db: Any, items: list[tuple[ast.Node, bool]]) -> None:
    ob = tuple(ast.OrderBy(e, d) for e, d in items)
    try:
        order = db.read_sync(lambda c: compile_orderby(ob, resolve, c))
    except (BadRequest, NotImplementedFeature):
        return
    rows = db.read_sync(lambda c: c.fetchall(f"SELECT i.id FROM items i ORDER BY {order}"))
    assert len(rows) == 4
    assert parse_orderby(",".join(f"{to_text(e)} {'desc' if d else 'asc'}" for e, d in items)) == ob
