"""The compiler, put together: the core (:mod:`.base`), comparisons, arithmetic and the function tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from urbanos.errors import BadRequest
from urbanos.query import ast
from urbanos.storage.compile.arith import Arithmetic
from urbanos.storage.compile.base import ODATA, Function
from urbanos.storage.compile.compare import Comparisons
from urbanos.storage.compile.expr import E, Properties, Resolver, Rules, Target
from urbanos.storage.compile.functions import FUNCTIONS
from urbanos.storage.compile.predicates import PREDICATES


class Compiler(Comparisons, Arithmetic):
    """``Compiler(resolve, conn, where="$filter", rules=ODATA).compile(node) -> E``."""

    functions: ClassVar[Mapping[str, Function]] = {**FUNCTIONS, **PREDICATES}


def too_complex(where: str) -> BadRequest:
    return BadRequest(f"{where}: the expression is too deeply nested; simplify it (fewer terms or less nesting).")


def compile_filter(node: ast.Node, resolve: Resolver | Properties, conn: Target, *, where: str = "$filter",
                   rules: Rules = ODATA) -> tuple[str, list[Any]]:
    """SQL for a boolean expression and its ``?`` parameters. ``conn`` is a Connection (or Database/Dialect)."""
    c = Compiler(resolve, conn, where, rules)
    try:
        e = c.compile(node)
    except RecursionError:
        raise too_complex(where) from None
    e = c.as_type(e, "bool", node, where)
    return e.sql, list(e.params)


def compile_expression(node: ast.Node, resolve: Resolver | Properties, conn: Target, *, where: str = "$filter",
                       rules: Rules = ODATA) -> E:
    """Any expression (for $orderby, computed columns…): returns the :class:`E` with sql, params and type."""
    try:
        return Compiler(resolve, conn, where, rules).compile(node)
    except RecursionError:
        raise too_complex(where) from None


__all__ = ["Compiler", "compile_filter", "compile_expression", "too_complex"]
