"""``ORDER BY`` bodies, and constants written inline into SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from urbanos.query import ast
from urbanos.storage.base import split_quoted
from urbanos.storage.compile.compiler import Compiler, too_complex
from urbanos.storage.compile.expr import NOCONST, Properties, Resolver, Target


def inline(sql: str, params: Sequence[Any], conn: Target) -> str:
    """Replace ``?`` placeholders (outside quotes) by SQL literals. Used for ORDER BY fragments."""
    pg = getattr(getattr(conn, "dialect", conn), "name", "") == "postgresql"
    it = iter(params)
    parts = split_quoted(sql)
    parts[0::2] = ["".join(_sql_literal(next(it), pg) if ch == "?" else ch for ch in p) if "?" in p else p
                   for p in parts[0::2]]
    return "".join(parts)


def _sql_literal(v: Any, pg: bool) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return ("TRUE" if v else "FALSE") if pg else ("1" if v else "0")
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        h = bytes(v).hex()
        return f"'\\x{h}'::bytea" if pg else f"X'{h}'"
    if pg:  # hex, so that no quote, percent sign or question mark reaches the driver
        return f"convert_from('\\x{str(v).encode().hex()}'::bytea, 'UTF8')"
    return "'" + str(v).replace("'", "''") + "'"


def compile_orderby_params(
    orderby: Sequence[ast.OrderBy], resolve: Resolver | Properties, conn: Target = None, *, where: str = "$orderby"
) -> tuple[str, list[Any]]:
    """``ORDER BY`` body with parameters: ascending puts nulls first, descending puts them last."""
    c = Compiler(resolve, conn, where)
    parts: list[str] = []
    params: list[Any] = []
    for item in orderby:
        try:
            e = c.compile(item.expr)
        except RecursionError:
            raise too_complex(where) from None
        if e.type == "interval" and e.start is not None:
            e = e.start
        elif e.type == "json":
            e = c.json_value(e)
        elif e.type in ("geometry", "duration"):
            raise c.bad(item.expr, f"cannot order by a {e.type} value")
        if e.const is not NOCONST or e.type == "null":
            continue  # a constant does not change the order (and a bare number would name a column)
        direction = "DESC" if item.descending else "ASC"
        nulls = ""
        if c.pg and e.nullable:
            nulls = " NULLS LAST" if item.descending else " NULLS FIRST"
        parts.append(f"{e.sql} {direction}{nulls}")
        params.extend(e.params)
    return (", ".join(parts) if parts else "(1 = 1)"), params


def compile_orderby(orderby: Sequence[ast.OrderBy], resolve: Resolver | Properties, conn: Target = None, *,
                    where: str = "$orderby") -> str:
    """``ORDER BY`` body with constants written inline (no parameters)."""
    sql, params = compile_orderby_params(orderby, resolve, conn, where=where)
    return inline(sql, params, conn) if params else sql


__all__ = ["inline", "compile_orderby", "compile_orderby_params"]
