"""$filter: the shared SQL compiler (``urbanos.storage.compile``) over the sensing resolver."""

from __future__ import annotations

from typing import Any

from urbanos.errors import BadRequest, NotImplementedFeature
from urbanos.query.ast import Node
from urbanos.sensing.access import visible_to
from urbanos.sensing.model import EntityType
from urbanos.sensing.resolve import resolve


def _resolver(e: EntityType, a: str, ctx: Any, compiler: Any) -> Any:
    column_cls = compiler.Column
    visible = visible_to(ctx)

    def res(path: tuple[str, ...]) -> Any:
        col = resolve(e, a, tuple(path), ctx.dialect, visible)
        return column_cls(sql=col.sql, type=col.type, start=col.start, end=col.end, json_path=col.json_path,
                          nullable=col.nullable)

    return res


def _need(compiler: Any, what: str) -> None:
    if compiler is None or not hasattr(compiler, "compile_filter"):
        raise NotImplementedFeature(f"{what} needs the SQL compiler, which is not installed.")


def compile_filter(e: EntityType, a: str, node: Node, ctx: Any, conn: Any, compiler: Any) -> tuple[str, list[Any]]:
    _need(compiler, "$filter")
    sql, params = compiler.compile_filter(node, _resolver(e, a, ctx, compiler), conn)
    return sql, list(params)


def compile_value(e: EntityType, a: str, node: Node, ctx: Any, compiler: Any) -> tuple[str, list[Any]]:
    _need(compiler, "$orderby")
    c = compiler.Compiler(_resolver(e, a, ctx, compiler), ctx.dialect, "$orderby")
    try:
        ex = c.compile(node)
    except RecursionError:
        raise BadRequest("$orderby: the expression is too deeply nested; simplify it.") from None
    if ex.type == "interval" and ex.start is not None:
        ex = ex.start
    elif ex.type == "json":
        ex = c.json_value(ex)
    elif ex.type in ("geometry", "duration", "null"):
        raise c.bad(node, f"cannot order by a {ex.type} value")
    return compiler.inline(ex.sql, ex.params, ctx.dialect), []


__all__ = ["compile_filter", "compile_value"]
