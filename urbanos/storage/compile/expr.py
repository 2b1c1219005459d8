"""What the compiler works with: the caller's :class:`Column` answers, compiled expressions (:class:`E`) and the
:class:`Rules` of a query language."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeAlias

from urbanos.query import ast
from urbanos.storage.base import Connection, Database, Dialect

NOCONST: Any = object()  # E.const of an expression whose value is only known to the database
_SLOT = re.compile(r"\{([0-9])\}")


@dataclass(frozen=True)
class SpatialIndex:
    """Where a geometry column's spatial index is: ``conn.spatial.predicate(op, table, column, shape,
    id_column=key)`` then filters by the index before the exact test."""

    table: str
    column: str = "geom"
    key: str = "id"


@dataclass(frozen=True)
class Column:
    """What a property path means in SQL (returned by the caller's resolver)."""

    sql: str
    type: str  # text | number | id | bool | time | date | interval | json | geometry
    start: str = ""  # interval: start expression
    end: str = ""  # interval: end expression (may be the same as start)
    json_path: tuple[str, ...] = ()  # json: keys inside the document ``sql``
    nullable: bool = True
    index: SpatialIndex | None = None  # geometry: the spatial index that CQL2's S_* predicates may use


Resolver = Callable[[tuple[str, ...]], Column]
Target: TypeAlias = Connection | Database | Dialect | None
"""What SQL is compiled for: a connection (its dialect and spatial helper), a database or a dialect (None: SQLite)."""


class Properties:
    """What property paths mean, by the part a property plays. :meth:`column` answers for values (the plain
    resolver function); a property is also asked for as the operand of a spatial predicate or of ``IS NULL``
    (:meth:`geometry`: its geometry column, or None) and of a temporal predicate (:meth:`instant`: the time it
    stands for). A subclass answers differently where the query language says so (CQL2's ``datetime`` means the
    collection's time only in temporal predicates)."""

    def __init__(self, resolve: Resolver | None = None) -> None:
        self._resolve = resolve

    def __call__(self, path: tuple[str, ...]) -> Column:
        return self.column(path)

    def column(self, path: tuple[str, ...]) -> Column:
        if self._resolve is None:
            raise NotImplementedError
        return self._resolve(path)

    def geometry(self, path: tuple[str, ...]) -> Column | None:
        col = self.column(path)
        return col if col.type == "geometry" else None

    def instant(self, path: tuple[str, ...]) -> Column:
        return self.column(path)

    def related(self, path: tuple[str, ...]) -> Related:
        """The entities a to-many navigation ``path`` leads to (for :class:`urbanos.query.ast.AnyRelated`); a
        BadRequest when ``path`` is none. The plain resolver knows no navigation."""
        raise NotImplementedError


@dataclass(frozen=True)
class Related:
    """Rows related to the row being filtered, for ``EXISTS (SELECT 1 FROM {source} WHERE {where} AND …)``:
    ``source`` names the tables with their aliases, ``where`` (SQL without parameters) ties them to the outer row
    and keeps only the rows the caller may read, ``props`` answers for the related row's properties."""

    source: str
    where: str
    props: Properties


class Scoped(Properties):
    """Inside an ``EXISTS`` over the entities of navigation ``prefix``: paths that begin with ``prefix`` belong to
    the related row (``inner``), every other path to the row outside (``outer``)."""

    def __init__(self, outer: Properties, prefix: tuple[str, ...], inner: Properties) -> None:
        super().__init__()
        self.outer, self.prefix, self.inner = outer, prefix, inner

    def _split(self, path: tuple[str, ...]) -> tuple[Properties, tuple[str, ...]]:
        n = len(self.prefix)
        if len(path) > n and path[:n] == self.prefix:
            return self.inner, path[n:]
        return self.outer, path

    def column(self, path: tuple[str, ...]) -> Column:
        props, rest = self._split(path)
        return props.column(rest)

    def geometry(self, path: tuple[str, ...]) -> Column | None:
        props, rest = self._split(path)
        return props.geometry(rest)

    def instant(self, path: tuple[str, ...]) -> Column:
        props, rest = self._split(path)
        return props.instant(rest)

    def related(self, path: tuple[str, ...]) -> Related:
        props, rest = self._split(path)
        return props.related(rest)


@dataclass(frozen=True)
class Rules:
    """Where query languages give the same tree different meanings.

    - ``ne_includes_null``: OData ``a ne b`` is true when exactly one side is null (IS DISTINCT FROM); CQL2
      ``a <> b`` is unknown then, like every other comparison with null.
    - ``coerce``: OData compares a numeric string with a number (``id eq '1'``), a JSON value with anything and a
      date with a time (as its midnight); CQL2 compares values of one type only (a date and a timestamp as their
      text, which orders them by time).
    - ``decimal``: OData arithmetic is decimal (NUMERIC on PostgreSQL, REAL division on SQLite) and knows
      durations; CQL2's ``+ - * /`` are the SQL operators on numbers (``/`` by zero gives null).
    - ``show``: renders a node in error messages (None: messages name no expression).
    """

    ne_includes_null: bool = True
    coerce: bool = True
    decimal: bool = True
    show: Callable[[ast.Node], str] | None = None


@dataclass(slots=True)
class E:
    """A compiled expression: SQL text, its ``?`` parameters in order, and its type."""

    sql: str
    params: tuple[Any, ...]
    type: str  # text number bool time interval json geometry null date tod duration
    start: E | None = None
    end: E | None = None
    path: tuple[str, ...] = ()
    const: Any = field(default=NOCONST)
    nullable: bool = True
    numeric: bool = False  # PostgreSQL: the SQL value is NUMERIC (may exceed the float8 range)


@lru_cache(maxsize=1024)
def _compiled(template: str) -> tuple[str, tuple[int, ...]]:
    """``template`` as a ``str.format`` string (other braces doubled), and its slots' numbers in order."""
    split = _SLOT.split(template)
    texts = [t.replace("{", "{{").replace("}", "}}") for t in split[0::2]]
    slots = tuple(int(i) for i in split[1::2])
    out = [texts[0]]
    for k, i in enumerate(slots):
        out.append(f"{{{i}}}")
        out.append(texts[k + 1])
    return "".join(out), slots


def fmt(template: str, *parts: E) -> tuple[str, tuple[Any, ...]]:
    """Fill ``{0}``, ``{1}``… in ``template`` with the parts' SQL, collecting parameters in order."""
    text, slots = _compiled(template)
    sql = text.format(*[p.sql for p in parts])
    if len(slots) == 1:
        return sql, parts[slots[0]].params
    params: list[Any] = []
    for i in slots:
        params.extend(parts[i].params)
    return sql, tuple(params)


__all__ = ["Column", "SpatialIndex", "Resolver", "Properties", "Related", "Scoped", "Rules", "E", "NOCONST", "fmt"]
