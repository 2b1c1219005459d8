"""$filter and $orderby expressions: the shared SQL compiler (``urbanos.storage.compile``) over the sensing resolver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.errors import BadRequest
from urbanos.query.ast import Node
from urbanos.sensing.access import visible_to
from urbanos.sensing.model import EntityType
from urbanos.sensing.resolve import resolve
from urbanos.storage.compile import Column, Compiler, Resolver, inline
from urbanos.storage.compile import compile_filter as compile_sql_filter

if TYPE_CHECKING:
    from urbanos.sensing.query import Ctx
    from urbanos.storage import Connection


def _resolver(e: EntityType, a: str, ctx: Ctx) -> Resolver:
    visible = visible_to(ctx)

    def res(path: tuple[str, ...]) -> Column:
        col = resolve(e, a, tuple(path), ctx.dialect, visible)
        return Column(sql=col.sql, type=col.type, start=col.start, end=col.end, json_path=col.json_path,
                      nullable=col.nullable)

    return res


def compile_filter(e: EntityType, a: str, node: Node, ctx: Ctx, conn: Connection) -> tuple[str, list[Any]]:
    where, params = compile_sql_filter(node, _resolver(e, a, ctx), conn)
    return where, list(params)


def compile_value(e: EntityType, a: str, node: Node, ctx: Ctx) -> tuple[str, list[Any]]:
    """An $orderby expression as SQL with its constants inline (no parameters)."""
    c = Compiler(_resolver(e, a, ctx), ctx.dialect, "$orderby")
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
    return inline(ex.sql, ex.params, ctx.dialect), []


__all__ = ["compile_filter", "compile_value"]
