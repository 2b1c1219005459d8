"""SQL for the CQL2 predicates and functions: LIKE, IN, BETWEEN, IS NULL, CASEI, the spatial S_* and the temporal
T_* operators (OGC 21-065 conformance classes advanced-comparison-operators, case-insensitive-comparison,
basic-spatial-functions(-plus), spatial-functions and temporal-functions).

:data:`PREDICATES` maps each name of the tree (``like``, ``in``, ``s_intersects``, ``t_after`` …) to a small
function ``(compiler, call) -> E``. Spatial predicates use the column's spatial index when the resolver names
one (:class:`~urbanos.storage.compile.expr.SpatialIndex`); temporal predicates compare the instant a property
stands for (:meth:`~urbanos.storage.compile.expr.Properties.instant`) with the literal's (start, end) as the
Allen relations of an instant [t, t] and that interval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from urbanos.core.geometry import MAX_BUFFER_METRES, geodesic_buffer
from urbanos.core.time import format_stored
from urbanos.query import ast
from urbanos.storage.compile.base import CompilerBase, Function
from urbanos.storage.compile.expr import Column, E

LOW, HIGH = "0000-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"  # the ends of an open interval
_INVERSE = {"within": "contains", "contains": "within"}


# -- comparisons -------------------------------------------------------------------------------------
def _between(c: CompilerBase, node: ast.Call) -> E:
    a, lo, hi = (c.compile(x) for x in node.args)
    c.compatible(node, "between", a, lo)
    c.compatible(node, "between", a, hi)
    return c.e("({0} BETWEEN {1} AND {2})", a, lo, hi, type="bool")


def _in(c: CompilerBase, node: ast.Call) -> E:
    a = c.compile(node.args[0])
    items = [c.compile(x) for x in node.args[1:]]
    for item in items:
        c.compatible(node, "in", a, item)
    sql = f"({a.sql} IN ({', '.join(i.sql for i in items)}))"
    return E(sql, (*a.params, *(p for i in items for p in i.params)), "bool")


def _isnull(c: CompilerBase, node: ast.Call) -> E:
    """``IS NULL`` of any value; a property is its geometry when it names one."""
    x = node.args[0]
    col = c.props.geometry(x.path) if isinstance(x, ast.Property) else None
    e = c.column(col, x) if col is not None else c.compile(x)
    return c.e("({0} IS NULL)", e, type="bool", nullable=False)


def _casei(c: CompilerBase, node: ast.Call) -> E:
    a = c.compile(node.args[0])
    if a.type != "text":
        raise c.bad(node, "casei needs a string")
    return c.e("LOWER({0})", a, type="text")


def _like(c: CompilerBase, node: ast.Call) -> E:
    """A CQL2 pattern (``%`` and ``_``, ``\\`` escapes): case-sensitive unless either side is CASEI."""
    value, pattern = node.args
    a = c.compile(value)
    casei = isinstance(pattern, ast.Call) and pattern.name == "casei"
    lit = pattern.args[0] if isinstance(pattern, ast.Call) else pattern
    if a.type != "text" or not isinstance(lit, ast.Literal) or not isinstance(lit.value, str):
        raise c.bad(node, "like needs a string property and a string pattern")
    if casei or (isinstance(value, ast.Call) and value.name == "casei"):
        return c.e("(LOWER({0}) LIKE LOWER(CAST({1} AS TEXT)) ESCAPE '\\')", a, c.param(lit.value, "text"), type="bool")
    if c.pg:
        return c.e("({0} LIKE {1} ESCAPE '\\')", a, c.param(lit.value, "text"), type="bool")
    return c.e("({0} GLOB {1})", a, c.param(_glob(lit.value), "text"), type="bool")


def _glob(pattern: str) -> str:
    """A CQL2 LIKE pattern (% _ with backslash escapes) as a case-sensitive SQLite GLOB."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(f"[{nxt}]" if nxt in "*?[" else nxt)
            i += 2
            continue
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


# -- spatial -----------------------------------------------------------------------------------------
def _operand(c: CompilerBase, node: ast.Call, x: ast.Node) -> Column | BaseGeometry:
    if isinstance(x, ast.Property):
        col = c.props.geometry(x.path)
        if col is None:
            raise c.bad(node, f"{'/'.join(x.path)!r} is not a geometry property (use 'geometry')")
        return col
    if isinstance(x, ast.Literal) and x.kind == ast.GEOMETRY:
        return x.value  # type: ignore[no-any-return]
    raise c.bad(node, f"{node.name} compares two geometries")


def _spatial(c: CompilerBase, node: ast.Call) -> E:
    """``s_intersects(a, b)`` … ``s_dwithin(a, b, metres)``: a geometry property against a literal (through the
    index when the resolver names one), two literals (decided here) or a property against itself."""
    name = node.name[2:]
    a, b = _operand(c, node, node.args[0]), _operand(c, node, node.args[1])
    distance = float(node.args[2].value) if name == "dwithin" and isinstance(node.args[2], ast.Literal) else 0.0
    if isinstance(a, Column) and isinstance(b, Column):
        if a.sql != b.sql:
            raise c.bad(node, f"{node.name} of two geometry properties is not supported")
        if name in ("intersects", "equals", "within", "contains", "dwithin"):
            return c.e("({0} IS NOT NULL)", c.column(a, node), type="bool", nullable=False)
        return _constant(False)
    if not isinstance(a, Column) and not isinstance(b, Column):
        if name == "dwithin":
            ok = bool(_buffer(c, node, a, distance).intersects(b))
        else:
            ok = bool(getattr(shapely, name)(a, b))
        return _constant(ok)
    if isinstance(b, Column):
        a, b, name = b, a, _INVERSE.get(name, name)
    assert isinstance(a, Column) and isinstance(b, BaseGeometry)
    if name == "dwithin":
        b, name = _buffer(c, node, b, distance), "intersects"
    if a.index is not None:
        sql, params = c.sp.predicate(name, a.index.table, a.index.column, b, id_column=a.index.key)
        return E(f"({sql})", tuple(params), "bool")
    return c.e(c.sp.fn(name, "{0}", "{1}"), c.column(a, node), c.param(b, "geometry"), type="bool")


def _constant(value: bool) -> E:
    return E("(1 = 1)" if value else "(1 = 0)", (), "bool", nullable=False)


def _buffer(c: CompilerBase, node: ast.Call, geom: BaseGeometry, metres: float) -> BaseGeometry:
    try:
        return geodesic_buffer(geom, metres)
    except ValueError:
        raise c.bad(node, f"s_dwithin distances above {MAX_BUFFER_METRES / 1000:.0f} km are not supported") from None


# -- temporal ----------------------------------------------------------------------------------------
def _temporal(c: CompilerBase, node: ast.Call) -> E:
    """``t_after(property, interval)`` …: the property's instant p against [s, e]."""
    prop, when = node.args
    if not isinstance(prop, ast.Property) or not isinstance(when, ast.Literal) or when.kind != ast.INTERVAL:
        raise c.bad(node, "temporal operators need a temporal property and a time literal")
    col = c.props.instant(prop.path)
    if col.type not in ("time", "date"):
        raise c.bad(node, f"{'/'.join(prop.path)!r} is not a temporal property")
    start, end = when.value
    s = LOW if start is None else format_stored(start)
    e = HIGH if end is None else format_stored(end)
    relation = _RELATIONS[node.name[2:]]
    sql, params = relation(col.sql, s, e)
    return E(f"({sql})", tuple(params), "bool")


_Relation = Callable[[str, str, str], tuple[str, list[Any]]]


def _never(p: str, s: str, e: str) -> tuple[str, list[Any]]:
    """Relations an instant cannot have with an interval (it has no inner part)."""
    return "1=0", []


_RELATIONS: dict[str, _Relation] = {
    "before": lambda p, s, e: (f"{p} < ?", [s]),
    "after": lambda p, s, e: (f"{p} > ?", [e]),
    "meets": lambda p, s, e: (f"{p} = ?", [s]),
    "metby": lambda p, s, e: (f"{p} = ?", [e]),
    "overlaps": _never, "overlappedby": _never, "startedby": _never, "begunby": _never,
    "finishedby": _never, "endedby": _never,
    "starts": lambda p, s, e: (f"({p} = ? AND {p} < ?)", [s, e]),
    "begins": lambda p, s, e: (f"({p} = ? AND {p} < ?)", [s, e]),
    "during": lambda p, s, e: (f"({p} > ? AND {p} < ?)", [s, e]),
    "contains": lambda p, s, e: (f"({p} = ? AND {p} = ?)", [s, e]) if s == e else ("1=0", []),
    "finishes": lambda p, s, e: (f"({p} > ? AND {p} = ?)", [s, e]),
    "ends": lambda p, s, e: (f"({p} > ? AND {p} = ?)", [s, e]),
    "equals": lambda p, s, e: (f"({p} = ? AND {p} = ?)", [s, e]),
    "intersects": lambda p, s, e: (f"({p} >= ? AND {p} <= ?)", [s, e]),
    "disjoint": lambda p, s, e: (f"({p} < ? OR {p} > ?)", [s, e]),
}

PREDICATES: dict[str, Function] = {
    "like": _like, "in": _in, "between": _between, "isnull": _isnull, "casei": _casei,
    **{f"s_{name}": _spatial for name in ("intersects", "equals", "disjoint", "touches", "within", "overlaps",
                                          "crosses", "contains", "dwithin")},
    **{f"t_{name}": _temporal for name in _RELATIONS},
}

__all__ = ["PREDICATES", "LOW", "HIGH"]
