"""Render an expression tree back to OData text (for next links and tests).

``parse_filter(to_text(node)) == node`` for every tree the parser produces.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from urbanos.query import ast


def _duration(td: timedelta) -> str:
    sign = "-" if td < timedelta(0) else ""
    td = abs(td)
    secs = td.seconds + td.microseconds / 1e6
    s = f"{secs:.6f}".rstrip("0").rstrip(".") if td.microseconds else str(td.seconds)
    return f"{sign}P{td.days}DT{s}S"


def _literal(lit: ast.Literal) -> str:
    v: Any = lit.value
    k = lit.kind
    if k == ast.STRING:
        return "'" + str(v).replace("'", "''") + "'"
    if k == ast.BOOL:
        return "true" if v else "false"
    if k == ast.NULL:
        return "null"
    if k == ast.INT:
        return str(v)
    if k == ast.FLOAT:
        return repr(float(v))
    if k == ast.DATETIME and isinstance(v, datetime):
        return v.isoformat()
    if k == ast.DATE and isinstance(v, date):
        return v.isoformat()
    if k == ast.TIME and isinstance(v, time):
        return v.isoformat()
    if k == ast.DURATION and isinstance(v, timedelta):
        return f"duration'{_duration(v)}'"
    if k == ast.INTERVAL:
        return "/".join(".." if end is None else end.isoformat() for end in v)
    if k == ast.GEOMETRY:
        return f"geography'{v.wkt}'"
    raise ValueError(f"cannot render literal of kind {k!r}")


def _wrap(node: ast.Node) -> str:
    text = to_text(node)
    return f"({text})" if isinstance(node, (ast.BinOp, ast.Not, ast.Neg, ast.AnyRelated)) else text


def to_text(node: ast.Node) -> str:
    if isinstance(node, ast.Literal):
        return _literal(node)
    if isinstance(node, ast.Property):
        return "/".join(node.path)
    if isinstance(node, ast.BinOp):
        return f"{_wrap(node.left)} {node.op} {_wrap(node.right)}"
    if isinstance(node, ast.Not):
        return f"not ({to_text(node.operand)})"
    if isinstance(node, ast.Neg):
        return f"-({to_text(node.operand)})"
    if isinstance(node, ast.Call):
        return f"{node.name}({', '.join(to_text(a) for a in node.args)})"
    if isinstance(node, ast.AnyRelated):  # written as the condition it came from (its paths are whole)
        return to_text(node.predicate)
    raise ValueError(f"cannot render {type(node).__name__}")


def orderby_text(items: tuple[ast.OrderBy, ...]) -> str:
    return ",".join(f"{to_text(o.expr)} {'desc' if o.descending else 'asc'}" for o in items)


__all__ = ["to_text", "orderby_text"]
