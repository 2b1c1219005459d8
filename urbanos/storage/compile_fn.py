"""SQL for the OData functions (string, date/time, math, geospatial) on SQLite and PostgreSQL.

Used by :mod:`urbanos.storage.compile`; see ``docs/query.md`` for what each function means.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from urbanos.query import ast

if TYPE_CHECKING:
    from urbanos.storage.compile import Compiler, E

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


def _fold_time(c: Compiler, name: str, e: E) -> E | None:
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


def call(c: Compiler, node: ast.Call) -> E:
    name, args = node.name, node.args
    pg = c.pg

    def arg(i: int, want: str) -> E:
        return c.as_type(c.compile(args[i]), want, node, name)

    # -- strings -------------------------------------------------------------------------------
    if name in ("substringof", "contains"):
        sub, s = (arg(0, "text"), arg(1, "text")) if name == "substringof" else (arg(1, "text"), arg(0, "text"))
        return c.e("(strpos({0}, {1}) > 0)" if pg else "(instr({0}, {1}) > 0)", s, sub, type="bool")
    if name == "startswith":
        s, p = arg(0, "text"), arg(1, "text")
        return c.e("starts_with({0}, {1})" if pg else "(substr({0}, 1, length({1})) = {1})", s, p, type="bool")
    if name == "endswith":
        s, p = arg(0, "text"), arg(1, "text")
        if pg:
            return c.e("(right({0}, length({1})) = {1})", s, p, type="bool")
        return c.e("(length({1}) <= length({0}) AND substr({0}, length({0}) - length({1}) + 1) = {1})", s, p,
                   type="bool")
    if name == "length":
        return c.e("char_length({0})" if pg else "length({0})", arg(0, "text"), type="number")
    if name == "indexof":
        s, p = arg(0, "text"), arg(1, "text")
        return c.e("(strpos({0}, {1}) - 1)" if pg else "(instr({0}, {1}) - 1)", s, p, type="number")
    if name == "substring":
        s, start = arg(0, "text"), arg(1, "number")
        if pg:
            if len(args) == 3:
                return c.e(f"substr({{0}}, {_PG_INT.format(1)} + 1, {_PG_INT.format(2)})",
                           s, start, arg(2, "number"), type="text")
            return c.e(f"substr({{0}}, {_PG_INT.format(1)} + 1)", s, start, type="text")
        if len(args) == 3:
            return c.e("substr({0}, max({1}, 0) + 1, max({2}, 0))", s, start, arg(2, "number"), type="text")
        return c.e("substr({0}, max({1}, 0) + 1)", s, start, type="text")
    if name in ("tolower", "toupper", "trim"):
        fn = {"tolower": "lower", "toupper": "upper", "trim": "trim"}[name]
        return c.e(fn + "({0})", arg(0, "text"), type="text")
    if name == "concat":
        return c.e("({0} || {1})", arg(0, "text"), arg(1, "text"), type="text")

    # -- dates and times -----------------------------------------------------------------------
    if name == "now":
        return c.time_param(datetime.now(UTC))
    if name == "mindatetime":
        return c.time_param(datetime(1, 1, 1, tzinfo=UTC))
    if name == "maxdatetime":
        return c.time_param(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    if name in ("year", "month", "day", "hour", "minute", "second", "fractionalseconds", "date", "time",
                "totaloffsetminutes"):
        e = c.compile(args[0])
        if e.type == "interval" and e.start is not None:
            e = e.start
        folded = _fold_time(c, name, e)
        if folded is not None:
            return folded
        real = "DOUBLE PRECISION" if pg else "REAL"
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

    # -- time intervals (FROST extension) ------------------------------------------------------
    if name in ("before", "after"):
        return c.compare(ast.BinOp("lt" if name == "before" else "gt", args[0], args[1]))
    if name in ("meets", "during", "overlaps", "starts", "finishes"):
        (as_, ae), (bs, be) = _span(c, args[0], node), _span(c, args[1], node)
        if name == "meets":
            return c.e("({0} = {1})", ae, bs, type="bool")
        if name == "during":
            return c.e("({0} <= {1} AND {2} <= {3})", bs, as_, ae, be, type="bool")
        if name == "starts":
            return c.e("({0} = {1})", as_, bs, type="bool")
        if name == "finishes":
            return c.e("({0} = {1})", ae, be, type="bool")
        return c.e("(({0} < {1} AND {2} < {3}) OR {0} = {2})", as_, be, bs, ae, type="bool")

    # -- math ----------------------------------------------------------------------------------
    if name in ("round", "floor", "ceiling"):
        x = arg(0, "number")
        if pg:
            fn = {"round": "round(CAST({0} AS NUMERIC))", "floor": "floor({0})", "ceiling": "ceiling({0})"}[name]
            return c.e(fn, x, type="number", numeric=name == "round" or None)
        if name == "round":
            return c.e("round({0})", x, type="number")
        if name == "floor":
            return c.e("(CAST({0} AS INTEGER) - ({0} < CAST({0} AS INTEGER)))", x, type="number")
        return c.e("(CAST({0} AS INTEGER) + ({0} > CAST({0} AS INTEGER)))", x, type="number")

    # -- geospatial ----------------------------------------------------------------------------
    if name == "geo.distance":
        a, b = arg(0, "geometry"), arg(1, "geometry")
        return c.e(c.sp.fn("distance", "{0}", "{1}"), a, b, type="number")
    if name == "geo.length":
        return c.e(c.sp.fn("length", "{0}"), arg(0, "geometry"), type="number")
    if name in _ST or name == "st_relate":
        for i in (0, 1):
            g = c.compile(args[i])
            if g.type == "geometry" and getattr(g.const, "geom_type", "") == "GeometryCollection" and name not in (
                "st_intersects", "geo.intersects"
            ):
                raise c.bad(node, f"{name} does not accept a GEOMETRYCOLLECTION")
    if name in _ST:
        a, b = arg(0, "geometry"), arg(1, "geometry")
        return c.e(c.sp.fn(_ST[name], "{0}", "{1}"), a, b, type="bool")
    if name == "st_relate":
        a, b = arg(0, "geometry"), arg(1, "geometry")
        p = c.compile(args[2])
        if p.type != "text" or not isinstance(p.const, str) or not _relate_ok(p.const):
            raise c.bad(node, "st_relate needs a DE-9IM pattern of 9 characters from T F * 0 1 2, such as 'T********'")
        return c.e(c.sp.fn("relate", "{0}", "{1}", "{2}"), a, b, p, type="bool")
    raise c.bad(node, f"the function {name} is not supported")


def _span(c: Compiler, node: ast.Node, call_node: ast.Call) -> tuple[E, E]:
    """(start, end) of an interval, or (t, t) of an instant."""
    e = c.compile(node)
    if e.type == "interval" and e.start is not None and e.end is not None:
        return e.start, e.end
    t = c.as_type(e, "time", call_node, call_node.name)
    return t, t


def _relate_ok(pattern: str) -> bool:
    from urbanos.storage.compile import _RELATE

    return _RELATE.fullmatch(pattern) is not None


__all__ = ["call"]
