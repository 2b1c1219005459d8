"""$filter: the shared SQL compiler (``urbanos.storage.compile``) over the sensing resolver."""

from __future__ import annotations

from typing import Any

from urbanos.errors import NotImplementedFeature
from urbanos.query.ast import Node
from urbanos.sensing.model import EntityType
from urbanos.sensing.resolve import resolve


def _resolver(e: EntityType, a: str, ctx: Any, compiler: Any) -> Any:
    column_cls = getattr(compiler, "Column", None)

    def res(path: tuple[str, ...]) -> Any:
        col = resolve(e, a, tuple(path), ctx.dialect)
        if column_cls is None:
            return col
        return to_column(col, column_cls)

    return res


def to_column(col: Any, column_cls: Any) -> Any:
    t = {"id": "number", "text": "text", "number": "number", "time": "time", "interval": "interval",
         "json": "json", "geometry": "geometry", "bool": "bool"}[col.type]
    fields = getattr(column_cls, "__dataclass_fields__", {})
    kw: dict[str, Any] = {}
    if "sql" in fields:
        kw["sql"] = col.sql
    if "type" in fields:
        kw["type"] = t
    if "start" in fields and col.type == "interval":
        kw["start"] = col.start
    if "end" in fields and col.type == "interval":
        kw["end"] = col.end
    if "text" in fields and col.type == "number" and col.start:
        kw["text"] = col.start
    if "nullable" in fields:
        kw["nullable"] = col.nullable
    return column_cls(**kw)


def compile_filter(e: EntityType, a: str, node: Node, ctx: Any, conn: Any, compiler: Any) -> tuple[str, list[Any]]:
    if compiler is None or not hasattr(compiler, "compile_filter"):
        raise NotImplementedFeature("$filter needs the SQL compiler, which is not installed.")
    sql, params = compiler.compile_filter(node, _resolver(e, a, ctx, compiler), dialect=ctx.dialect,
                                          spatial=conn.spatial)
    return sql, list(params)


def compile_value(e: EntityType, a: str, node: Node, ctx: Any, compiler: Any) -> tuple[str, list[Any]]:
    if compiler is None or not hasattr(compiler, "compile_expr"):
        raise NotImplementedFeature("$orderby expressions need the SQL compiler, which is not installed.")
    sql, params = compiler.compile_expr(node, _resolver(e, a, ctx, compiler), dialect=ctx.dialect)
    return sql, list(params)


__all__ = ["compile_filter", "compile_value", "to_column"]
