"""SQL for the OData functions (string, date/time, math, geospatial) on SQLite and PostgreSQL.

:data:`FUNCTIONS` maps each function name to a small function ``(compiler, call) -> E``; see ``docs/query.md``
for what each function means.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from urbanos.query import ast
from urbanos.storage.compile.base import CompilerBase, Function
from urbanos.storage.compile.expr import E

# (start, length) of each field in the stored time text YYYY-MM-DDTHH:MM:SS.ffffffZ
_TIME_FIELDS = {"year": (1, 4), "month": (6, 2), "day": (9, 2), "hour": (12, 2), "minute": (15, 2), "second": (18, 2)}
# … in a date text YYYY-MM-DD and a time-of-day text HH:MM:SS.ffffff
_DATE_FIELDS = {"year": (1, 4), "month": (6, 2), "day": (9, 2)}
_TOD_FIELDS = {"hour": (1, 2), "minute": (4, 2), "second": (7, 2)}
# a non-negative number as INTEGER, capped so that the cast never overflows
_PG_INT = "CAST(LEAST(GREATEST(ROUND(CAST({{{0}}} AS NUMERIC)), 0), 2147483646) AS INTEGER)"
_ST = {
    "st_equals": "equals", "st_disjoint": "disjoint", "st_touches": "touches", "st_within": "within",
    "st_overlaps": "overlaps", "st_crosses": "crosses", "st_intersects": "intersects", "st_contains": "contains",
    "geo.intersects": "intersects",
}
_RELATE = re.compile(r"[TF*012]{9}")


def arg(c: CompilerBase, node: ast.Call, i: int, want: str) -> E:
    return c.as_type(c.compile(node.args[i]), want, node, node.name)


def _sql(pg: str, sqlite: str, wants: tuple[str, ...], type: str) -> Function:
    """A function that is one SQL expression over its arguments ``{0}``, ``{1}``… (each of the type in
    ``wants``): ``pg`` on PostgreSQL, ``sqlite`` on SQLite."""

    def fn(c: CompilerBase, node: ast.Call) -> E:
        return c.e(pg if c.pg else sqlite, *(arg(c, node, i, want) for i, want in enumerate(wants)), type=type)

    return fn


# -- strings ---------------------------------------------------------------------------------------
_TEXT2 = ("text", "text")
_STRINGS: dict[str, Function] = {
    "substringof": _sql("(strpos({1}, {0}) > 0)", "(instr({1}, {0}) > 0)", _TEXT2, "bool"),  # (sub, s)
    "contains": _sql("(strpos({0}, {1}) > 0)", "(instr({0}, {1}) > 0)", _TEXT2, "bool"),  # (s, sub)
    "startswith": _sql("starts_with({0}, {1})", "(substr({0}, 1, length({1})) = {1})", _TEXT2, "bool"),
    "endswith": _sql("(right({0}, length({1})) = {1})",
                     "(length({1}) <= length({0}) AND substr({0}, length({0}) - length({1}) + 1) = {1})", _TEXT2, "bool"),
    "length": _sql("char_length({0})", "length({0})", ("text",), "number"),
    "indexof": _sql("(strpos({0}, {1}) - 1)", "(instr({0}, {1}) - 1)", _TEXT2, "number"),
    "tolower": _sql("lower({0})", "lower({0})", ("text",), "text"),
    "toupper": _sql("upper({0})", "upper({0})", ("text",), "text"),
    "trim": _sql("trim({0})", "trim({0})", ("text",), "text"),
    "concat": _sql("({0} || {1})", "({0} || {1})", _TEXT2, "text"),
}


def _substring(c: CompilerBase, node: ast.Call) -> E:
    s, start = arg(c, node, 0, "text"), arg(c, node, 1, "number")
    if c.pg:
        if len(node.args) == 3:
            return c.e(f"substr({{0}}, {_PG_INT.format(1)} + 1, {_PG_INT.format(2)})", s, start, arg(c, node, 2, "number"),
                       type="text")
        return c.e(f"substr({{0}}, {_PG_INT.format(1)} + 1)", s, start, type="text")
    if len(node.args) == 3:
        return c.e("substr({0}, max({1}, 0) + 1, max({2}, 0))", s, start, arg(c, node, 2, "number"), type="text")
    return c.e("substr({0}, max({1}, 0) + 1)", s, start, type="text")


# -- dates and times -------------------------------------------------------------------------------
def _now(c: CompilerBase, node: ast.Call) -> E:
    return c.time_param(datetime.now(UTC))


def _mindatetime(c: CompilerBase, node: ast.Call) -> E:
    return c.time_param(datetime(1, 1, 1, tzinfo=UTC))


def _maxdatetime(c: CompilerBase, node: ast.Call) -> E:
    return c.time_param(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))


def _fold_time(c: CompilerBase, name: str, e: E) -> E | None:
    """Date/time functions of a constant: computed here, in UTC."""
    v = e.const
    if isinstance(v, datetime):
        v = v.astimezone(UTC)
    if not isinstance(v, (datetime, date, time)):
        return None
    if name == "date" and isinstance(v, datetime):
        d = c.param(v.date().isoformat(), "date")
        d.const = v.date()
        return d
    if name == "time" and isinstance(v, datetime):
        t = c.param(v.time().strftime("%H:%M:%S.%f"), "tod")
        t.const = v.time()
        return t
    if name == "fractionalseconds" and hasattr(v, "microsecond"):
        return c.param(v.microsecond / 1e6, "number")
    if name == "totaloffsetminutes" and isinstance(v, datetime):
        return c.param(0, "number")
    if hasattr(v, name):
        return c.param(int(getattr(v, name)), "number")
    return None


def _time_part(c: CompilerBase, node: ast.Call) -> E:
    """``year`` … ``second``, ``fractionalseconds``, ``date``, ``time`` and ``totaloffsetminutes`` of a time, an
    interval's start, a date or a time of day."""
    name = node.name
    e = c.compile(node.args[0])
    if e.type == "interval" and e.start is not None:
        e = e.start
    folded = _fold_time(c, name, e)
    if folded is not None:
        return folded
    real = "DOUBLE PRECISION" if c.pg else "REAL"
    if e.type == "date" and name in _DATE_FIELDS:
        off, n = _DATE_FIELDS[name]
        return c.e(f"CAST(substr({{0}}, {off}, {n}) AS INTEGER)", e, type="number")
    if e.type == "tod" and (name in _TOD_FIELDS or name == "fractionalseconds"):
        if name == "fractionalseconds":
            return c.e(f"CAST(substr({{0}}, 9, 7) AS {real})", e, type="number")
        off, n = _TOD_FIELDS[name]
        return c.e(f"CAST(substr({{0}}, {off}, {n}) AS INTEGER)", e, type="number")
    e = c.as_type(e, "time", node, name)
    if name in _TIME_FIELDS:
        off, n = _TIME_FIELDS[name]
        return c.e(f"CAST(substr({{0}}, {off}, {n}) AS INTEGER)", e, type="number")
    if name == "fractionalseconds":
        return c.e(f"CAST(substr({{0}}, 20, 7) AS {real})", e, type="number")
    if name == "date":
        return c.e("substr({0}, 1, 10)", e, type="date")
    if name == "time":
        return c.e("substr({0}, 12, 15)", e, type="tod")
    return c.e("CASE WHEN {0} IS NULL THEN NULL ELSE 0 END", e, type="number")


# -- time intervals (FROST extension) ----------------------------------------------------------------
def _span(c: CompilerBase, node: ast.Node, call_node: ast.Call) -> tuple[E, E]:
    """(start, end) of an interval, or (t, t) of an instant."""
    e = c.compile(node)
    if e.type == "interval" and e.start is not None and e.end is not None:
        return e.start, e.end
    t = c.as_type(e, "time", call_node, call_node.name)
    return t, t


def _before_after(c: CompilerBase, node: ast.Call) -> E:
    return c.compare(ast.BinOp("lt" if node.name == "before" else "gt", node.args[0], node.args[1]))


_RELATIONS = {  # template, then the parts it takes from (a.start, a.end, b.start, b.end)
    "meets": ("({0} = {1})", (1, 2)), "during": ("({0} <= {1} AND {2} <= {3})", (2, 0, 1, 3)),
    "starts": ("({0} = {1})", (0, 2)), "finishes": ("({0} = {1})", (1, 3)),
    "overlaps": ("(({0} < {1} AND {2} < {3}) OR {0} = {2})", (0, 3, 2, 1)),
}


def _relation(c: CompilerBase, node: ast.Call) -> E:
    (as_, ae), (bs, be) = _span(c, node.args[0], node), _span(c, node.args[1], node)
    template, picks = _RELATIONS[node.name]
    ends = (as_, ae, bs, be)
    return c.e(template, *(ends[i] for i in picks), type="bool")


# -- math --------------------------------------------------------------------------------------------
def _rounding(c: CompilerBase, node: ast.Call) -> E:
    name, x = node.name, arg(c, node, 0, "number")
    if c.pg:
        fn = {"round": "round(CAST({0} AS NUMERIC))", "floor": "floor({0})", "ceiling": "ceiling({0})"}[name]
        return c.e(fn, x, type="number", numeric=name == "round" or None)
    if name == "round":
        return c.e("round({0})", x, type="number")
    if name == "floor":
        return c.e("(CAST({0} AS INTEGER) - ({0} < CAST({0} AS INTEGER)))", x, type="number")
    return c.e("(CAST({0} AS INTEGER) + ({0} > CAST({0} AS INTEGER)))", x, type="number")


# -- geospatial --------------------------------------------------------------------------------------
def _distance(c: CompilerBase, node: ast.Call) -> E:
    a, b = arg(c, node, 0, "geometry"), arg(c, node, 1, "geometry")
    return c.e(c.sp.fn("distance", "{0}", "{1}"), a, b, type="number")


def _geo_length(c: CompilerBase, node: ast.Call) -> E:
    return c.e(c.sp.fn("length", "{0}"), arg(c, node, 0, "geometry"), type="number")


def _no_collection(c: CompilerBase, node: ast.Call) -> None:
    """PostGIS refuses a GEOMETRYCOLLECTION in every predicate but intersects."""
    if node.name in ("st_intersects", "geo.intersects"):
        return
    for i in (0, 1):
        g = c.compile(node.args[i])
        if g.type == "geometry" and getattr(g.const, "geom_type", "") == "GeometryCollection":
            raise c.bad(node, f"{node.name} does not accept a GEOMETRYCOLLECTION")


def _st(c: CompilerBase, node: ast.Call) -> E:
    _no_collection(c, node)
    a, b = arg(c, node, 0, "geometry"), arg(c, node, 1, "geometry")
    return c.e(c.sp.fn(_ST[node.name], "{0}", "{1}"), a, b, type="bool")


def _st_relate(c: CompilerBase, node: ast.Call) -> E:
    _no_collection(c, node)
    a, b = arg(c, node, 0, "geometry"), arg(c, node, 1, "geometry")
    p = c.compile(node.args[2])
    if p.type != "text" or not isinstance(p.const, str) or _RELATE.fullmatch(p.const) is None:
        raise c.bad(node, "st_relate needs a DE-9IM pattern of 9 characters from T F * 0 1 2, such as 'T********'")
    return c.e(c.sp.fn("relate", "{0}", "{1}", "{2}"), a, b, p, type="bool")


FUNCTIONS: dict[str, Function] = {
    **_STRINGS, "substring": _substring,
    "now": _now, "mindatetime": _mindatetime, "maxdatetime": _maxdatetime,
    **{name: _time_part for name in ("year", "month", "day", "hour", "minute", "second", "fractionalseconds", "date",
                                     "time", "totaloffsetminutes")},
    "before": _before_after, "after": _before_after,
    **{name: _relation for name in _RELATIONS},
    "round": _rounding, "floor": _rounding, "ceiling": _rounding,
    "geo.distance": _distance, "geo.length": _geo_length,
    **{name: _st for name in _ST}, "st_relate": _st_relate,
}

__all__ = ["FUNCTIONS", "arg"]
