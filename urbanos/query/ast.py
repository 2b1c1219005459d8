"""A neutral expression tree for query languages (OData ``$filter``, CQL2 text and JSON).

Parsers in ``urbanos.query`` (``odata``, ``cql2``) turn text into these nodes; ``urbanos.storage.compile``
turns nodes into SQL for a back end. No I/O happens here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Literal kinds
STRING, INT, FLOAT, BOOL, NULL = "string", "int", "float", "bool", "null"
DATETIME, DATE, TIME, DURATION, INTERVAL, GEOMETRY = "datetime", "date", "time", "duration", "interval", "geometry"


@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Literal(Node):
    """A constant. ``value`` is a Python value: str, int, float, bool, None, an aware
    ``datetime``, ``date``, ``time``, ``timedelta``, a ``(start, end)`` tuple of aware
    datetimes for intervals (``None`` for an open end: CQL2 ``'..'``), or a shapely geometry
    (kind ``geometry``, WGS84)."""

    value: Any
    kind: str


@dataclass(frozen=True)
class Property(Node):
    """A property path, e.g. ``("result",)``, ``("Datastream", "Thing", "name")``, ``("properties", "a")``."""

    path: tuple[str, ...]


@dataclass(frozen=True)
class BinOp(Node):
    """``op`` is one of eq ne gt ge lt le and or add sub mul div mod (CQL2's ``= <> < <= > >= + - * /``
    and its n-ary ``and``/``or`` use the same names)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True)
class Call(Node):
    """A function call; ``name`` is lower case: OData functions (``substringof``, ``geo.intersects``,
    ``st_within`` …) and the CQL2 predicates and functions (``like``, ``in``, ``between``, ``isnull``,
    ``casei``, ``s_intersects`` … ``s_dwithin``, ``t_after`` …); ``docs/query.md`` lists them."""

    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class AnyRelated(Node):
    """True when at least one entity reached by the to-many navigation ``path`` satisfies ``predicate`` (an SQL
    ``EXISTS``). Inside ``predicate``, property paths that begin with ``path`` name that related entity; other
    paths name the entity itself. No parser produces it: a caller that knows which navigation properties lead to
    many entities puts it around the conditions that reach through them (SensorThings ``Datastreams/name eq 'x'``)."""

    path: tuple[str, ...]
    predicate: Node


@dataclass(frozen=True)
class OrderBy:
    expr: Node
    descending: bool = False


@dataclass(frozen=True)
class Expand:
    """``path`` is the navigation path (``("Datastreams",)`` or ``("Datastream", "Thing")``)."""

    path: tuple[str, ...]
    options: QueryOptions


@dataclass(frozen=True)
class QueryOptions:
    filter: Node | None = None
    orderby: tuple[OrderBy, ...] = ()
    select: tuple[tuple[str, ...], ...] | None = None  # None: all properties
    expand: tuple[Expand, ...] = ()
    top: int | None = None
    skip: int = 0
    count: bool | None = None
    result_format: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


__all__ = [
    "Node", "Literal", "Property", "BinOp", "Not", "Neg", "Call", "AnyRelated", "OrderBy", "Expand", "QueryOptions",
    "STRING", "INT", "FLOAT", "BOOL", "NULL", "DATETIME", "DATE", "TIME", "DURATION", "INTERVAL", "GEOMETRY",
]
