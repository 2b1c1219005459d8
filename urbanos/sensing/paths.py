"""Resource paths: ``Things(1)/Datastreams``, ``Observations(5)/Datastream/Thing``, ``Things(1)/name/$value``,
``Things/$ref`` … parsed into steps and resolved (with existence and visibility checks) to a target."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from urbanos.core.ids import parse_id as parse_ascii_id
from urbanos.errors import BadRequest, NotFound
from urbanos.sensing.access import visibility
from urbanos.sensing.model import BY_SET, ENTITIES, EntityType, Rel

if TYPE_CHECKING:
    from urbanos.governance import Gate, Identity
    from urbanos.storage import Connection

_SEG = re.compile(r"^([A-Za-z]+)(?:\((.*)\))?$")


@dataclass
class Step:
    name: str
    id: int | None


@dataclass
class Target:
    """What a path addresses: entity ``e`` restricted by ``cond`` (over alias ``a``), possibly one entity."""

    e: EntityType
    cond: str
    params: list[Any]
    single: bool
    id: int | None = None
    parent: tuple[EntityType, int, Rel] | None = None  # for creating at a navigation path
    prop: str | None = None  # a property addressed (Things(1)/name)
    value: bool = False  # .../$value
    ref: bool = False  # .../$ref


def parse_id(raw: str) -> int:
    s = raw.strip()
    if len(s) >= 2 and s[0] == s[-1] == "'":
        s = s[1:-1]
    v = parse_ascii_id(s)
    if v is None:
        raise BadRequest(f"{raw!r} is not a valid id; ids are integers (ASCII digits).")
    return v


def parse_path(path: str) -> tuple[list[Step], list[str]]:
    parts = [p for p in path.strip("/").split("/") if p != ""]
    steps: list[Step] = []
    tail: list[str] = []
    for i, part in enumerate(parts):
        if part.startswith("$") or tail:
            tail = parts[i:]
            break
        m = _SEG.match(part)
        if not m:
            raise NotFound(f"{part!r} is not an entity set, navigation property or property.")
        steps.append(Step(m.group(1), parse_id(m.group(2)) if m.group(2) is not None else None))
    return steps, tail


Reach = Callable[[EntityType, str], "tuple[str, list[Any]] | None"]
"""Which rows of an entity type a path may pass through, as SQL over an alias (None: every row). Reads pass
through the rows the caller may see (:func:`visibility`); writes also through the rows it may change
(``Ownership.reach``)."""


def _fetch_one(conn: Connection, e: EntityType, id_: int, cond: str, cond_params: list[Any], gate: Gate, identity: Identity,
               cols: str = "a.id", reach: Reach | None = None) -> tuple[Any, ...]:
    """The row the path addresses so far: ``cond`` (over alias ``a``, naming the id and how the path reached it,
    such as ``a.thing_id = ? AND a.id = ?``), within the caller's reach; 404 otherwise."""
    vis = reach(e, "a") if reach is not None else visibility(e, "a", gate, identity, bounded=True)  # one row
    sql = f"SELECT {cols} FROM {e.table} a WHERE {cond}"
    params: list[Any] = list(cond_params)
    if vis:
        sql += f" AND {vis[0]}"
        params += vis[1]
    row = conn.fetchone(sql, params)
    if row is None:
        raise NotFound(f"{e.name} {id_} does not exist.")
    return row


def resolve_path(conn: Connection, steps: list[Step], tail: list[str], gate: Gate, identity: Identity,
                 extensions: frozenset[str], reach: Reach | None = None) -> Target:
    if not steps:
        raise NotFound("No entity set given.")
    first = steps[0]
    e = BY_SET.get(first.name)
    if e is None or (e.extension and e.extension not in extensions):
        raise NotFound(f"{first.name!r} is not an entity set.")
    cur_e, cur_id, single = e, first.id, first.id is not None
    cond, params = ("a.id = ?", [first.id]) if single else ("1=1", [])
    parent: tuple[EntityType, int, Rel] | None = None
    rest = list(steps[1:])
    prop: str | None = None
    while rest:
        st = rest.pop(0)
        if not single:
            raise BadRequest(f"{st.name!r} cannot follow a collection; address one entity first.")
        assert cur_id is not None
        rel = cur_e.rel_map.get(st.name)
        if rel is None or (rel.extension and rel.extension not in extensions):
            if st.name in cur_e.prop_map or st.name == "id":
                if st.id is not None or rest:
                    raise BadRequest(f"{st.name!r} is a property; nothing may follow it but $value.")
                _fetch_one(conn, cur_e, cur_id, cond, params, gate, identity, reach=reach)
                prop = st.name
                break
            raise NotFound(f"{st.name!r} is not a property or navigation property of {cur_e.name}.")
        tgt = ENTITIES[rel.target]
        if rel.kind == "own":
            row = _fetch_one(conn, cur_e, cur_id, cond, params, gate, identity, f"a.{rel.fk}", reach)
            if row[0] is None:
                raise NotFound(f"{cur_e.name} {cur_id} has no {rel.name}.")
            if st.id is not None and st.id != row[0]:
                raise NotFound(f"{tgt.name} {st.id} is not the {rel.name} of {cur_e.name} {cur_id}.")
            cur_e, cur_id, single = tgt, int(row[0]), True
            cond, params = "a.id = ?", [cur_id]
            parent = None
        else:
            _fetch_one(conn, cur_e, cur_id, cond, params, gate, identity, reach=reach)
            parent = (cur_e, cur_id, rel)
            if rel.kind == "rev":
                cond, params = f"a.{rel.fk} = ?", [cur_id]
            else:
                cond, params = f"a.id IN (SELECT {rel.dst} FROM {rel.table} WHERE {rel.src} = ?)", [cur_id]
            cur_e = tgt
            if st.id is not None:
                cond, params = f"{cond} AND a.id = ?", [*params, st.id]
                cur_id, single = st.id, True
            else:
                cur_id, single = None, False
    t = Target(cur_e, cond, params, single, cur_id, parent, prop)
    for i, word in enumerate(tail):
        if word == "$value" and prop is not None and i == 0 and len(tail) == 1:
            t.value = True
        elif word == "$ref" and prop is None and i == len(tail) - 1:
            t.ref = True
        else:
            raise BadRequest(f"{word!r} is not allowed here.")
    return t


__all__ = ["Step", "Target", "parse_path", "resolve_path", "parse_id"]
