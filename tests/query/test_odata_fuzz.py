"""Hypothesis fuzzing: any text gives a tree or a BadRequest, trees survive a round trip through text,
and the compiler answers every parsed tree with SQL or a 4xx error."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SQLITE_RUN_ONLY
from tests.query.test_odata_parser import SPEC_FILTERS
from urbanos.errors import BadRequest, NotImplementedFeature
from urbanos.query import ast
from urbanos.query.odata import (
    FUNCTIONS,
    parse_expand,
    parse_filter,
    parse_orderby,
    parse_query,
    parse_select,
    to_text,
)
from urbanos.query.odata.parser import KEYWORDS
from urbanos.storage.compile import Column, compile_filter, compile_orderby

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALPHABET = st.sampled_from(list("abz019 ()',/-.:;=$@TZPD+eE") + ["eq", " and ", " not ", "geography'", "duration'", "''"])


def _parses_or_bad_request(fn: Any, *args: Any, **kw: Any) -> Any:
    """The parse, or None for a 400 (bad input) or a 501 (an option that is not supported)."""
    try:
        return fn(*args, **kw)
    except BadRequest as exc:
        assert exc.status == 400 and exc.message
        return None
    except NotImplementedFeature as exc:
        assert exc.status == 501 and "is not supported" in exc.message
        return None


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    node = _parses_or_bad_request(parse_filter, text)
    assert node is None or isinstance(node, ast.Node)
    _parses_or_bad_request(parse_orderby, text)
    _parses_or_bad_request(parse_select, text)
    _parses_or_bad_request(parse_expand, text)


@FUZZ
@given(st.lists(ALPHABET, max_size=60).map("".join))
def test_token_soup(text: str) -> None:
    _parses_or_bad_request(parse_filter, text)
    _parses_or_bad_request(parse_expand, "Datastreams(" + text)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SPEC_FILTERS))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i, min(len(text), i + 8)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "duplicate", "swap"]))
        piece = draw(st.lists(ALPHABET, min_size=1, max_size=3).map("".join))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "insert":
            text = text[:i] + piece + text[i:]
        elif kind == "replace":
            text = text[:i] + piece + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[j:] + text[:j]
    return text


def resolve(path: tuple[str, ...]) -> Column:
    head = path[0]
    if head in ("properties", "result", "parameters"):
        return Column("t.doc", "json", json_path=path[1:])
    if len(path) > 1 and head not in ("Datastream", "Thing", "FeatureOfInterest", "HistoricalLocations", "Location"):
        raise BadRequest(f"{'/'.join(path)} is not a property")
    last = path[-1]
    kinds = {
        "id": "id", "@iot.id": "id", "name": "text", "description": "text", "phenomenonTime": "interval",
        "resultTime": "time", "validTime": "interval", "location": "geometry", "active": "bool", "n": "number",
    }
    t = kinds.get(last, "text")
    if t == "interval":
        return Column("t.ps", "interval", start="t.ps", end="t.pe")
    return Column(f"t.{last.strip('@').replace('.', '_')}", t)


class _Dialect:
    def __init__(self, name: str) -> None:
        self.name = name


def _compiles(node: ast.Node) -> None:
    for name in ("sqlite", "postgresql"):
        try:
            sql, params = compile_filter(node, resolve, _Dialect(name))
        except (BadRequest, NotImplementedFeature):
            continue
        assert isinstance(sql, str) and sql.count("?") >= len(params) - sql.count("'")


@FUZZ
@given(mutated())
def test_mutations_of_valid_expressions(text: str) -> None:
    node = _parses_or_bad_request(parse_filter, text)
    if node is not None:
        assert parse_filter(to_text(node)) == node
        _compiles(node)
    _parses_or_bad_request(parse_query, {"$filter": text, "$orderby": text})


@FUZZ
@given(st.dictionaries(
    st.sampled_from(["$filter", "$orderby", "$select", "$expand", "$top", "$skip", "$count", "$resultFormat",
                     "$Top", "$unknown", "plain", "$skiptoken"]),
    st.one_of(st.text(max_size=40), mutated(), st.integers(-5, 10**20).map(str),
              st.sampled_from(["true", "false", "Datastreams($top=1;$expand=Observations($select=result))"])),
    max_size=5,
))
def test_parse_query_never_crashes(params: dict[str, str]) -> None:
    q = _parses_or_bad_request(parse_query, params, max_top=1000)
    if q is not None:
        assert q.top is None or 0 <= q.top <= 1000
        assert q.skip >= 0


# -- generated trees round-trip through text ----------------------------------------------------------
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s.lower() not in KEYWORDS | {"true", "false", "null"} and s.lower() not in FUNCTIONS
)
TZ = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))
DATETIMES = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=TZ)
LITERALS = st.one_of(
    st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=10).map(lambda s: ast.Literal(s, ast.STRING)),
    st.integers(-(2**63) + 1, 2**63 - 1).map(lambda i: ast.Literal(i, ast.INT)),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: ast.Literal(f, ast.FLOAT)),
    st.booleans().map(lambda b: ast.Literal(b, ast.BOOL)),
    st.just(ast.Literal(None, ast.NULL)),
    DATETIMES.map(lambda d: ast.Literal(d, ast.DATETIME)),
    st.dates(min_value=date(1, 1, 1)).map(lambda d: ast.Literal(d, ast.DATE)),
    st.times().map(lambda t: ast.Literal(t, ast.TIME)),
    st.timedeltas(min_value=timedelta(days=-9999), max_value=timedelta(days=9999)).map(
        lambda d: ast.Literal(d, ast.DURATION)),
    st.tuples(DATETIMES, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=300))).map(
        lambda p: ast.Literal((p[0], p[0] + p[1]), ast.INTERVAL)),
    st.tuples(st.integers(-180, 180), st.integers(-90, 90)).map(
        lambda p: ast.Literal(shapely.Point(*p), ast.GEOMETRY)),
)
LEAVES = st.one_of(LITERALS, st.lists(NAMES, min_size=1, max_size=3).map(lambda p: ast.Property(tuple(p))))


def _extend(children: st.SearchStrategy[ast.Node]) -> st.SearchStrategy[ast.Node]:
    ops = ["eq", "ne", "gt", "ge", "lt", "le", "and", "or", "add", "sub", "mul", "div", "mod"]
    calls = st.sampled_from(sorted(FUNCTIONS)).flatmap(
        lambda name: st.lists(children, min_size=FUNCTIONS[name][0], max_size=FUNCTIONS[name][1]).map(
            lambda args: ast.Call(name, tuple(args))))
    return st.one_of(
        st.tuples(st.sampled_from(ops), children, children).map(lambda t: ast.BinOp(*t)),
        children.map(ast.Not),
        children.map(ast.Neg),
        calls,
    )


TREES = st.recursive(LEAVES, _extend, max_leaves=12)


@FUZZ
@given(TREES)
def test_trees_round_trip(node: ast.Node) -> None:
    text = to_text(node)
    assert parse_filter(text) == node
    _compiles(node)


@FUZZ
@given(st.lists(st.tuples(TREES, st.booleans()), min_size=1, max_size=3))
def test_orderby_round_trip(items: list[tuple[ast.Node, bool]]) -> None:
    ob = tuple(ast.OrderBy(e, d) for e, d in items)
    text = ",".join(f"{to_text(o.expr)} {'desc' if o.descending else 'asc'}" for o in ob)
    assert parse_orderby(text) == ob
    for name in ("sqlite", "postgresql"):
        try:
            assert isinstance(compile_orderby(ob, resolve, _Dialect(name)), str)
        except (BadRequest, NotImplementedFeature):
            pass


def test_known_instants_stay_aware() -> None:
    node = parse_filter("x eq 2016-01-01T00:00:00Z")
    assert isinstance(node, ast.BinOp) and node.right == ast.Literal(datetime(2016, 1, 1, tzinfo=UTC), ast.DATETIME)
    assert time(1) != time(2)
