"""CQL2 JSON (a decoded document) to the neutral tree of :mod:`urbanos.query.ast`.

The shape is checked here: which operators exist, their arity, what is a predicate and what a value, and every
literal (numbers, timestamps, dates, intervals, geometries). Whether a property exists and whether the types of
the two sides of an operator agree is the compiler's question, once the properties are known.

What each operator becomes:

=====================================  ===========================================================
CQL2                                   tree
=====================================  ===========================================================
``and``, ``or`` (two or more args)     ``BinOp("and"|"or")``, balanced (a long list stays shallow)
``not``                                ``Not``
``= <> < <= > >=``                     ``BinOp("eq" "ne" "lt" "le" "gt" "ge")``
``+ - * /``                            ``BinOp("add" "sub" "mul" "div")``
``like``                               ``Call("like", (value, pattern))``; the pattern is a string or
                                       ``Call("casei", (string,))``
``between``, ``in``, ``isNull``        ``Call("between", (v, lo, hi))``, ``Call("in", (v, *items))``,
                                       ``Call("isnull", (v,))``
``casei`` (and ``lower``, ``upper``)   ``Call("casei", (v,))``
``s_intersects`` … ``s_dwithin``       ``Call("s_intersects", (a, b))``, ``Call("s_dwithin", (a, b, metres))``
``t_after`` …                          ``Call("t_after", (property, interval))``: the property first (the
                                       relation is turned round when it was second); a timestamp is the
                                       interval (t, t), a date its first and last microsecond
=====================================  ===========================================================

Numbers are floats; ``{"timestamp": …}`` is a ``datetime`` literal, ``{"date": …}`` a ``date``,
``{"interval": […]}`` an interval (``None`` for an open end ``..``) and GeoJSON or ``{"bbox": …}`` a geometry in
WGS84 (the caller's ``to_storage``/``bbox_to_storage`` convert from the filter's CRS).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import shapely
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from urbanos.core import jsontext
from urbanos.core.time import parse_lenient
from urbanos.errors import BadRequest
from urbanos.query import ast

MAX_DEPTH = 40
CMP = {"=": "eq", "<>": "ne", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div"}
SPATIAL = frozenset({"s_intersects", "s_equals", "s_disjoint", "s_touches", "s_within", "s_overlaps", "s_crosses",
                     "s_contains", "s_dwithin"})
# the relation seen from the other side: T_BEFORE(literal, p) is T_AFTER(p, literal)
TEMPORAL_CONVERSE = {
    "before": "after", "after": "before", "meets": "metby", "metby": "meets", "overlaps": "overlappedby",
    "overlappedby": "overlaps", "starts": "startedby", "startedby": "starts", "begins": "begunby",
    "begunby": "begins", "during": "contains", "contains": "during", "finishes": "finishedby",
    "finishedby": "finishes", "ends": "endedby", "endedby": "ends", "equals": "equals", "intersects": "intersects",
    "disjoint": "disjoint",
}
DAY_END = timedelta(days=1) - timedelta(microseconds=1)

Reproject = Callable[[BaseGeometry], BaseGeometry]
ReprojectBox = Callable[[Sequence[float]], Sequence[float]]


def bad(message: str) -> BadRequest:
    return BadRequest(f"filter: {message}", code="InvalidParameterValue")


def show(node: Any) -> str:
    s = jsontext.dumps(node) if not isinstance(node, str) else repr(node)
    return s[:80]


class Reader:
    """One CQL2 JSON document to a tree; ``to_storage``/``bbox_to_storage`` convert geometry literals from the
    filter's CRS to WGS84 (None: they are WGS84 already)."""

    __slots__ = ("to_storage", "bbox_to_storage")

    def __init__(self, to_storage: Reproject | None = None, bbox_to_storage: ReprojectBox | None = None) -> None:
        self.to_storage = to_storage
        self.bbox_to_storage = bbox_to_storage

    # -- predicates -------------------------------------------------------------------------------
    def predicate(self, node: Any, depth: int = 0) -> ast.Node:
        if depth > MAX_DEPTH:
            raise bad("the expression is nested too deeply.")
        if isinstance(node, bool):
            return ast.Literal(node, ast.BOOL)
        if not isinstance(node, dict) or "op" not in node:
            if isinstance(node, dict) and "property" in node:
                return self.scalar(node, depth + 1)  # the compiler checks that it is a boolean
            raise bad(f"expected a predicate, got {show(node)}.")
        op, args = _op(node)
        if op in ("and", "or"):
            if len(args) < 2:
                raise bad(f"{op} needs at least two arguments.")
            return _balanced(op, [self.predicate(a, depth + 1) for a in args])
        if op == "not":
            _arity(op, args, 1)
            return ast.Not(self.predicate(args[0], depth + 1))
        if op in CMP:
            _arity(op, args, 2)
            return ast.BinOp(CMP[op], self.scalar(args[0], depth + 1), self.scalar(args[1], depth + 1))
        reader = _PREDICATES.get(op)
        if reader is not None:
            return reader(self, op, args, depth)
        if op in SPATIAL:
            return self.spatial(op, args)
        if op.startswith("t_"):
            return self.temporal(op, args)
        if op.startswith("a_"):
            raise bad(f"array operator {op!r} is not supported.")
        raise bad(f"unknown or unsupported operator {op!r}.")

    def like(self, op: str, args: list[Any], depth: int) -> ast.Node:
        _arity("like", args, 2)
        value = self.scalar(args[0], depth + 1)
        pat = args[1]
        casei = False
        if isinstance(pat, dict) and str(pat.get("op", "")).lower() in ("casei", "lower") and isinstance(pat.get("args"), list):
            casei = True
            if len(pat["args"]) != 1:
                raise bad("casei takes one argument.")
            pat = pat["args"][0]
        if not isinstance(pat, str):
            raise bad("like needs a string property and a string pattern.")
        pattern: ast.Node = ast.Literal(pat, ast.STRING)
        return ast.Call("like", (value, ast.Call("casei", (pattern,)) if casei else pattern))

    def between(self, op: str, args: list[Any], depth: int) -> ast.Node:
        _arity(op, args, 3)
        return ast.Call("between", tuple(self.scalar(x, depth + 1) for x in args))

    def in_list(self, op: str, args: list[Any], depth: int) -> ast.Node:
        _arity(op, args, 2)
        if not isinstance(args[1], list) or not args[1]:
            raise bad("in needs a non-empty list.")
        value = self.scalar(args[0], depth + 1)
        return ast.Call("in", (value, *(self.scalar(x, depth + 1) for x in args[1])))

    def isnull(self, op: str, args: list[Any], depth: int) -> ast.Node:
        _arity(op, args, 1)
        return ast.Call("isnull", (self.scalar(args[0], depth + 1),))

    # -- values -----------------------------------------------------------------------------------
    def scalar(self, node: Any, depth: int) -> ast.Node:
        if depth > MAX_DEPTH:
            raise bad("the expression is nested too deeply.")
        if isinstance(node, bool):
            return ast.Literal(node, ast.BOOL)
        if isinstance(node, int | float):
            return ast.Literal(_number(node), ast.FLOAT)
        if isinstance(node, str):
            return ast.Literal(node, ast.STRING)
        if not isinstance(node, dict):
            raise bad(f"unexpected value {show(node)}.")
        if "property" in node:
            return _property(node["property"])
        if "timestamp" in node:
            return ast.Literal(instant(node["timestamp"]), ast.DATETIME)
        if "date" in node:
            return ast.Literal(day(node["date"]), ast.DATE)
        if "op" in node:
            op, args = _op(node)
            if op in ("casei", "lower", "upper"):  # all three compare in lower case, as they always have
                _arity(op, args, 1)
                return ast.Call("casei", (self.scalar(args[0], depth + 1),))
            if op in ARITH:
                _arity(op, args, 2)
                return ast.BinOp(ARITH[op], self.scalar(args[0], depth + 1), self.scalar(args[1], depth + 1))
            raise bad(f"function or operator {op!r} is not supported here.")
        raise bad(f"unexpected value {show(node)}.")

    # -- spatial ----------------------------------------------------------------------------------
    def spatial(self, op: str, args: list[Any]) -> ast.Node:
        _arity(op, args, 3 if op == "s_dwithin" else 2)
        for x in args[:2]:
            if isinstance(x, dict) and "property" in x and not isinstance(x["property"], str):
                raise bad(f"{x['property']!r} is not a geometry property (use 'geometry').")
        operands: list[ast.Node] = []
        if op == "s_dwithin":
            try:
                distance = float(args[2])
            except (TypeError, ValueError, OverflowError):
                raise bad("s_dwithin needs a distance in metres.") from None
            if not math.isfinite(distance) or distance < 0:
                raise bad("s_dwithin needs a non-negative distance in metres.")
        for x in args[:2]:
            operands.append(ast.Property((x["property"],)) if isinstance(x, dict) and "property" in x
                            else ast.Literal(self.geometry(x), ast.GEOMETRY))
        if op == "s_dwithin":
            operands.append(ast.Literal(distance, ast.FLOAT))
        return ast.Call(op, tuple(operands))

    def geometry(self, node: Any) -> BaseGeometry:
        try:
            if isinstance(node, dict) and "bbox" in node:
                b = [float(x) for x in node["bbox"]]
                if len(b) == 6:
                    b = [b[0], b[1], b[3], b[4]]
                if len(b) != 4:
                    raise ValueError("a bbox has 4 or 6 numbers")
                return box(*(self.bbox_to_storage(b) if self.bbox_to_storage is not None else b))
            if isinstance(node, dict) and "type" in node:
                g = shapely.force_2d(shape(node))
                if not g.is_valid and g.geom_type in ("Polygon", "MultiPolygon"):
                    raise ValueError("the polygon is not valid")
                if not math.isfinite(float(shapely.get_coordinates(g).sum() if not g.is_empty else 0.0)):
                    raise ValueError("coordinates are not finite")
                return self.to_storage(g) if self.to_storage is not None else g
        except BadRequest:
            raise
        except Exception as exc:  # noqa: BLE001 - shapely raises many types for bad input
            raise bad(f"invalid geometry: {exc}") from None
        raise bad(f"expected a geometry, got {show(node)}.")

    # -- temporal ---------------------------------------------------------------------------------
    def temporal(self, op: str, args: list[Any]) -> ast.Node:
        _arity(op, args, 2)
        a, b = args
        rel = op[2:]
        if not (isinstance(a, dict) and "property" in a):
            a, b = b, a
            rel = TEMPORAL_CONVERSE.get(rel, rel)
        if not (isinstance(a, dict) and "property" in a):
            raise bad("temporal operators need a temporal property and a time literal.")
        prop = _property(a["property"])
        when = ast.Literal(span(b), ast.INTERVAL)
        if rel not in TEMPORAL_CONVERSE:
            raise bad(f"unknown temporal operator {op!r}.")
        return ast.Call(f"t_{rel}", (prop, when))


_PREDICATES: dict[str, Callable[[Reader, str, list[Any], int], ast.Node]] = {
    "like": Reader.like, "between": Reader.between, "in": Reader.in_list, "isnull": Reader.isnull,
}


def _op(node: dict[str, Any]) -> tuple[str, list[Any]]:
    op = str(node["op"]).lower()
    args = node.get("args")
    if not isinstance(args, list):
        raise bad(f"operator {op!r} needs an args array.")
    return op, args


def _arity(op: str, args: list[Any], n: int) -> None:
    if len(args) != n:
        raise bad(f"{op} takes {n} argument{'s' if n > 1 else ''}, got {len(args)}.")


def _balanced(op: str, parts: list[ast.Node]) -> ast.Node:
    """``a op b op c …`` as a tree of depth log2(n): SQLite refuses expressions nested 1,000 deep."""
    while len(parts) > 1:
        paired: list[ast.Node] = [ast.BinOp(op, parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            paired.append(parts[-1])
        parts = paired
    return parts[0]


def _property(name: Any) -> ast.Property:
    if not isinstance(name, str):
        raise bad("a property name must be a string.")
    return ast.Property((name,))


def _number(node: int | float) -> float:
    try:
        value = float(node)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value) or abs(value) > 1e300:
        raise bad(f"{node!r} is not a usable number.")
    return value


def instant(v: Any) -> datetime:
    try:
        return parse_lenient(str(v))
    except (ValueError, TypeError, OverflowError):
        raise bad(f"{v!r} is not an RFC 3339 timestamp.") from None


def day(v: Any) -> date:
    try:
        return parse_lenient(str(v)).date()
    except (ValueError, TypeError, OverflowError):
        raise bad(f"{v!r} is not a date.") from None


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def span(node: Any) -> tuple[datetime | None, datetime | None]:
    """(start, end) of a timestamp (an instant), a date (its first and last microsecond) or an interval (None for
    an open end)."""
    if isinstance(node, dict) and "timestamp" in node:
        v = instant(node["timestamp"])
        return v, v
    if isinstance(node, dict) and "date" in node:
        d = _midnight(day(node["date"]))
        return d, _day_end(d)
    if isinstance(node, dict) and "interval" in node:
        iv = node["interval"]
        if not isinstance(iv, list) or len(iv) != 2:
            raise bad("an interval has two ends.")
        ends: list[datetime | None] = []
        for i, e in enumerate(iv):
            if isinstance(e, dict):
                ends.append(span(e)[i])
            elif e in ("..", "", None):
                ends.append(None)
            elif isinstance(e, str) and len(e) == 10:
                d = _midnight(day(e))
                ends.append(d if i == 0 else _day_end(d))
            else:
                ends.append(instant(e))
        start, end = ends
        if start is not None and end is not None and start > end:
            raise bad("the interval ends before it starts.")
        return start, end
    raise bad(f"expected a timestamp, date or interval, got {show(node)}.")


def _day_end(d: datetime) -> datetime:
    try:
        return d + DAY_END
    except OverflowError:
        raise bad(f"{d.date().isoformat()!r} is not a date.") from None


__all__ = ["Reader", "MAX_DEPTH", "bad", "span", "instant", "day"]
