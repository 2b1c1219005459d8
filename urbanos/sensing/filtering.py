"""$filter and $orderby expressions: the shared SQL compiler (``urbanos.storage.compile``) over the sensing resolver.

A ``$filter`` condition may reach through to-many navigation properties (``Things?$filter=Datastreams/name eq 'x'``,
``Datastreams/Observations/result gt 10``, ``geo.intersects(Locations/location, …)``): it is true when at least one
related entity the caller may read satisfies it (an ``EXISTS`` subquery per navigation step)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from urbanos.errors import BadRequest
from urbanos.query.ast import AnyRelated, BinOp, Call, Neg, Node, Not, Property
from urbanos.sensing.access import visible_to
from urbanos.sensing.model import ENTITIES, EntityType
from urbanos.sensing.resolve import navigate, resolve
from urbanos.storage.compile import Column, Compiler, Properties, Related, Resolver, inline
from urbanos.storage.compile import compile_filter as compile_sql_filter
from urbanos.storage.compile.compiler import too_complex

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


class StaProperties(Properties):
    """The properties of alias ``a`` of ``e`` and, for conditions through to-many navigation properties, the
    entities those lead to (each under an alias of its own: ``r0``, ``r1`` … of one filter)."""

    def __init__(self, e: EntityType, a: str, ctx: Ctx, aliases: Iterator[int]) -> None:
        super().__init__(_resolver(e, a, ctx))
        self.e, self.a, self.ctx, self.aliases = e, a, ctx, aliases

    def related(self, path: tuple[str, ...]) -> Related:
        nav = navigate(self.e, self.a, path, self.ctx.dialect, f"r{next(self.aliases)}", visible_to(self.ctx))
        return Related(nav.source, nav.where, StaProperties(nav.e, nav.alias, self.ctx, self.aliases))


def _many_prefix(e: EntityType, path: tuple[str, ...], bound: frozenset[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The shortest prefix of ``path`` that ends in a to-many navigation property and is not ``bound`` yet."""
    cur = e
    for i, name in enumerate(path[:-1]):
        rel = cur.rel_map.get(name)
        if rel is None:
            return None
        if rel.many and path[: i + 1] not in bound:
            return path[: i + 1]
        cur = ENTITIES[rel.target]
    return None


def _first_many(e: EntityType, node: Node, bound: frozenset[tuple[str, ...]]) -> tuple[str, ...] | None:
    if isinstance(node, Property):
        return _many_prefix(e, node.path, bound)
    children: tuple[Node, ...] = ()
    if isinstance(node, BinOp):
        children = (node.left, node.right)
    elif isinstance(node, Not | Neg):
        children = (node.operand,)
    elif isinstance(node, Call):
        children = node.args
    for child in children:
        found = _first_many(e, child, bound)
        if found is not None:
            return found
    return None


def any_related(e: EntityType, node: Node, bound: frozenset[tuple[str, ...]] = frozenset()) -> Node:
    """``node`` with each condition that reaches through a to-many navigation property (``Datastreams/name eq
    'x'``) put inside :class:`AnyRelated`: true when one related entity satisfies it, as FROST-Server answers.
    ``and``, ``or`` and ``not`` stay outside (``not Datastreams/name eq 'x'``: none of them is named x)."""
    if not bound and isinstance(node, BinOp) and node.op in ("and", "or"):
        return BinOp(node.op, any_related(e, node.left), any_related(e, node.right))
    if not bound and isinstance(node, Not):
        return Not(any_related(e, node.operand))
    prefix = _first_many(e, node, bound)
    if prefix is None:
        return node
    return AnyRelated(prefix, any_related(e, node, bound | {prefix}))


def compile_filter(e: EntityType, a: str, node: Node, ctx: Ctx, conn: Connection) -> tuple[str, list[Any]]:
    props = StaProperties(e, a, ctx, itertools.count())
    try:
        node = any_related(e, node)
    except RecursionError:
        raise too_complex("$filter") from None
    where, params = compile_sql_filter(node, props, conn)
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


__all__ = ["compile_filter", "compile_value", "any_related", "StaProperties"]
