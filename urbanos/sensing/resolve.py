"""Property paths to SQL: what ``$filter`` and ``$orderby`` refer to.

``resolve(e, alias, path, dialect, visible)`` returns a :class:`Col` with the SQL expression and its type
(text, number, bool, time, interval, json, geometry). Paths may walk single-valued navigation
properties (``Datastream/Thing/name``) and into JSON (``properties/owner/name``). A navigation step reads its
target only when the caller may read that entity: ``visible(entity type, alias)`` gives the SQL condition (without
parameters) that reading the target needs, as for GET of the target itself; the step is NULL otherwise.
``properties/urbanos:dataset`` of a Thing, Datastream or MultiDatastream is the name of its catalogue
dataset (a column, not JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from urbanos.errors import BadRequest
from urbanos.sensing.model import DATASET_KEY, DATASET_OWNERS, ENTITIES, EntityType

if TYPE_CHECKING:
    from urbanos.storage import Dialect


@dataclass(frozen=True)
class Col:
    sql: str
    type: str  # text | number | bool | time | interval | json | geometry | id
    start: str = ""  # interval: start expression
    end: str = ""  # interval: end expression
    nullable: bool = True
    json_path: tuple[str, ...] = ()


Visible = Callable[[EntityType, str], "str | None"]
"""The SQL condition (no parameters) under which the caller may read the row ``alias`` of an entity type; None when
every row is readable."""


def resolve(e: EntityType, a: str, path: tuple[str, ...], dialect: Dialect, visible: Visible | None = None,
            depth: int = 0) -> Col:
    if not path:
        raise BadRequest("An empty property path.")
    head = path[0]
    if head in ("id", "@iot.id"):
        if len(path) > 1:
            raise BadRequest(f"{'/'.join(path)!r}: id has no sub-properties.")
        return Col(f"{a}.id", "id", nullable=False)
    prop = e.prop_map.get(head)
    if prop is not None:
        k = prop.kind
        if head == "properties" and path[1:] == (DATASET_KEY,) and e.name in DATASET_OWNERS:
            # the dataset link is a column, shown as properties["urbanos:dataset"]: compare the dataset's name
            return Col(f"(SELECT dn.name FROM datasets dn WHERE dn.id = {a}.dataset_id)", "text")
        if k == "json" or k == "result":
            col = f"{a}.{prop.column}"
            if k == "result" and dialect.name == "postgresql":
                col = f"CAST({col} AS JSONB)"
            return Col(col, "json", json_path=path[1:])
        if len(path) > 1:
            raise BadRequest(f"{'/'.join(path)!r}: {head} has no sub-properties.")
        if k == "text":
            return Col(f"{a}.{prop.column}", "text", nullable=not prop.required)
        if k == "time":
            return Col(f"{a}.{prop.column}", "time", nullable=not prop.required)
        if k == "interval":
            s, en = f"{a}.{prop.column}_start", f"{a}.{prop.column}_end"
            nn = e.name == "Observation" and prop.name == "phenomenonTime"
            return Col(s, "interval", start=s, end=f"COALESCE({en}, {s})", nullable=not nn)
        if k == "geo":
            if prop.name == "observedArea":
                raise BadRequest("observedArea cannot be used in expressions.")
            return Col(f"{a}.geom", "geometry")
    rel = e.rel_map.get(head)
    if rel is not None and rel.kind == "own" and len(path) > 1:
        if depth > 4:
            raise BadRequest("The property path is too deep.")
        t = ENTITIES[rel.target]
        b = f"n{depth}"
        inner = resolve(t, b, path[1:], dialect, visible, depth + 1)
        # An Observation's (Multi)Datastream is readable whenever the Observation is (it follows it)
        cond = None if visible is None or (e.name == "Observation" and t.name in ("Datastream", "MultiDatastream")) \
            else visible(t, b)
        where = f"{b}.id = {a}.{rel.fk}" + (f" AND {cond}" if cond else "")

        def sub(expr: str) -> str:
            return f"(SELECT {expr} FROM {t.table} {b} WHERE {where})"

        return Col(sub(inner.sql), inner.type, start=sub(inner.start) if inner.start else "",
                   end=sub(inner.end) if inner.end else "", json_path=inner.json_path)
    if rel is not None and rel.many and len(path) > 1:
        raise BadRequest(f"{'/'.join(path)!r}: {head} leads to many {rel.target} entities; only a $filter condition "
                         f"can reach through it (true when one of them satisfies it), e.g. $filter={head}/id eq 1.")
    raise BadRequest(f"{'/'.join(path)!r} is not a property of {e.name}.")


@dataclass(frozen=True)
class Nav:
    """The rows a to-many navigation path leads to: ``FROM {source} WHERE {where}`` (correlated with the outer row,
    only rows the caller may read), the target type and its alias."""

    source: str
    where: str
    e: EntityType
    alias: str


# A related entity that is readable whenever its parent is (it follows the parent's dataset)
_FOLLOWS = {("Datastream", "Observation"), ("MultiDatastream", "Observation"), ("Thing", "HistoricalLocation")}


def navigate(e: EntityType, a: str, path: tuple[str, ...], dialect: Dialect, alias: str,
             visible: Visible | None = None) -> Nav:
    """The entities ``path`` leads to from row ``a`` of ``e``: single-valued steps, then one to-many step
    (``Datastreams``, ``Datastream/Thing/Locations``). ``alias`` names the target rows (and ``{alias}l`` a link
    table's rows)."""
    *steps, last = path
    owner, key = e, f"{a}.id"
    if steps:  # the id of the entity the single-valued steps reach (NULL when it is not readable)
        owner_col = resolve(e, a, (*steps, "id"), dialect, visible)
        key = owner_col.sql
        for name in steps:
            owner = ENTITIES[owner.rel_map[name].target]
    rel = owner.rel_map.get(last)
    if rel is None or not rel.many:
        raise BadRequest(f"{'/'.join(path)!r} is not a navigation property of {e.name} leading to many entities.")
    t = ENTITIES[rel.target]
    if rel.kind == "rev":
        source, where = f"{t.table} {alias}", f"{alias}.{rel.fk} = {key}"
    else:
        source = f"{rel.table} {alias}l JOIN {t.table} {alias} ON {alias}.id = {alias}l.{rel.dst}"
        where = f"{alias}l.{rel.src} = {key}"
    cond = None if visible is None or (owner.name, t.name) in _FOLLOWS else visible(t, alias)
    return Nav(source, where + (f" AND {cond}" if cond else ""), t, alias)


__all__ = ["Col", "Nav", "resolve", "navigate"]
