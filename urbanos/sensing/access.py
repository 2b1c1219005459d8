"""Which rows of each entity type a caller may see (through ``gate.dataset_filter``).

Things, Datastreams and MultiDatastreams carry a ``dataset_id``. Everything hanging off them
follows: Observations through their (Multi)Datastream, HistoricalLocations through their Thing,
Locations, Sensors, ObservedProperties and FeaturesOfInterest are visible when they are not yet
tied to anything, or tied to at least one visible owner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from urbanos.sensing.model import EntityType
from urbanos.sensing.resolve import Visible

if TYPE_CHECKING:
    from urbanos.governance import Gate, Identity
    from urbanos.governance.visibility import Filter, Visibility
    from urbanos.sensing.query import Ctx
    from urbanos.storage import Connection, Dialect


RULES = frozenset({"Thing", "Datastream", "MultiDatastream", "Observation", "HistoricalLocation", "Location", "Sensor",
                   "ObservedProperty", "FeatureOfInterest"})
"""The entity types whose rows follow the datasets (every one)."""


def visibility(e: EntityType, a: str, gate: Gate, identity: Identity, bounded: bool = False,
               c: Connection | None = None, view: Visibility | None = None,
               parent: tuple[str, Any] | None = None) -> tuple[str, list[Any]] | None:
    """SQL (and params) restricting alias ``a`` of ``e`` to visible rows; None when nothing is hidden.

    ``bounded``: the query already keeps few rows (one entity, one Datastream's Observations): then the
    Observation test probes each row's Datastream by primary key, whose cost follows the rows read. Otherwise
    (whole entity sets, counts) it tests the Observation's Datastream against a list built once per statement.

    ``c``: the read the SQL goes into. With it, the rule is written with the datasets the caller may not (or may)
    read, from the gate's cache (``view``, read from ``c`` when not given), and is nothing at all when the caller
    may read every dataset: the statement then has the admin's shape. Whole sets of Observations are kept by
    ``datastream_id NOT IN (the hidden Datastreams)``, a test no index serves, so that the plan stays the admin's
    (a scan in the requested order, never every visible Observation read and sorted). Without ``c``, the rule is
    written on the tables.

    ``parent``: ``("datastream_id", id)`` or ``("multi_datastream_id", id)`` when the statement already keeps the
    Observations of that one (Multi)Datastream: then the rule tests that (Multi)Datastream once per statement
    instead of each row's."""
    if identity.is_admin:
        return None
    rule = _rule if parent is None or e.name != "Observation" else (
        lambda _e, _a, _b, f: _parent_rule(parent, f))

    def full_filter(col: str) -> Filter:
        sql, params = gate.dataset_filter(identity, col)
        return sql, list(params)

    def full() -> Filter:
        written = rule(e, a, bounded, full_filter)
        assert written is not None
        return written

    if c is None or e.name not in RULES:
        return rule(e, a, bounded, full_filter)
    if view is None:
        view = gate.visibility(c, identity)
    if view is None or not view.listable:
        return full()
    fast = None if view.everything else (
        _observations(a, view) if e.name == "Observation" and not bounded and parent is None
        else rule(e, a, bounded, view.filter))
    return gate.guard(c, view, fast, full)


def _parent_rule(parent: tuple[str, Any], f: Callable[[str], Filter]) -> Filter:
    """Observations of one (Multi)Datastream: visible when it is (a test that names no column of the row, so the
    database runs it once per statement)."""
    col, pid = parent
    table = "sta_datastreams" if col == "datastream_id" else "sta_multi_datastreams"
    s, p = f("vp.dataset_id")
    return f"EXISTS (SELECT 1 FROM {table} vp WHERE vp.id = ? AND {s})", [pid, *p]


def _observations(a: str, view: Visibility) -> Filter:
    """Observations of a whole set: not of a hidden Datastream or MultiDatastream (and of one of them)."""
    s1, p1 = view.hidden_filter("vd.dataset_id")
    s2, p2 = view.hidden_filter("vm.dataset_id")
    return (f"(COALESCE({a}.datastream_id, {a}.multi_datastream_id) IS NOT NULL"
            f" AND ({a}.datastream_id IS NULL OR {a}.datastream_id NOT IN"
            f" (SELECT vd.id FROM sta_datastreams vd WHERE {s1}))"
            f" AND ({a}.multi_datastream_id IS NULL OR {a}.multi_datastream_id NOT IN"
            f" (SELECT vm.id FROM sta_multi_datastreams vm WHERE {s2})))", p1 + p2)


def _rule(e: EntityType, a: str, bounded: bool, f: Callable[[str], Filter]) -> Filter | None:
    """The visibility rule of ``e`` with ``f(column)``, the filter of a dataset id column."""
    n = e.name
    if n in ("Thing", "Datastream", "MultiDatastream"):
        return f(f"{a}.dataset_id")
    if n == "Observation":
        s1, p1 = f("vd.dataset_id")
        s2, p2 = f("vm.dataset_id")
        if bounded:
            return (f"(EXISTS (SELECT 1 FROM sta_datastreams vd WHERE vd.id = {a}.datastream_id AND {s1})"
                    f" OR EXISTS (SELECT 1 FROM sta_multi_datastreams vm WHERE vm.id = {a}.multi_datastream_id"
                    f" AND {s2}))", p1 + p2)
        return (f"({a}.datastream_id IN (SELECT vd.id FROM sta_datastreams vd WHERE {s1})"
                f" OR {a}.multi_datastream_id IN (SELECT vm.id FROM sta_multi_datastreams vm WHERE {s2}))", p1 + p2)
    if n == "HistoricalLocation":
        s, p = f("vt.dataset_id")
        return f"{a}.thing_id IN (SELECT vt.id FROM sta_things vt WHERE {s})", p
    if n == "Location":
        s, p = f("vt.dataset_id")
        return (f"(NOT EXISTS (SELECT 1 FROM sta_thing_locations vl WHERE vl.location_id = {a}.id)"
                f" OR EXISTS (SELECT 1 FROM sta_thing_locations vl JOIN sta_things vt ON vt.id = vl.thing_id"
                f" WHERE vl.location_id = {a}.id AND {s}))", p)
    if n == "Sensor":
        s1, p1 = f("vd.dataset_id")
        s2, p2 = f("vm.dataset_id")
        return (f"((NOT EXISTS (SELECT 1 FROM sta_datastreams vd WHERE vd.sensor_id = {a}.id)"
                f" AND NOT EXISTS (SELECT 1 FROM sta_multi_datastreams vm WHERE vm.sensor_id = {a}.id))"
                f" OR EXISTS (SELECT 1 FROM sta_datastreams vd WHERE vd.sensor_id = {a}.id AND {s1})"
                f" OR EXISTS (SELECT 1 FROM sta_multi_datastreams vm WHERE vm.sensor_id = {a}.id AND {s2}))", p1 + p2)
    if n == "ObservedProperty":
        s1, p1 = f("vd.dataset_id")
        s2, p2 = f("vm.dataset_id")
        return (f"((NOT EXISTS (SELECT 1 FROM sta_datastreams vd WHERE vd.observed_property_id = {a}.id)"
                f" AND NOT EXISTS (SELECT 1 FROM sta_mds_properties vp WHERE vp.observed_property_id = {a}.id))"
                f" OR EXISTS (SELECT 1 FROM sta_datastreams vd WHERE vd.observed_property_id = {a}.id AND {s1})"
                f" OR EXISTS (SELECT 1 FROM sta_mds_properties vp JOIN sta_multi_datastreams vm"
                f" ON vm.id = vp.multi_datastream_id WHERE vp.observed_property_id = {a}.id AND {s2}))", p1 + p2)
    if n == "FeatureOfInterest":
        s1, p1 = f("vd.dataset_id")
        s2, p2 = f("vm.dataset_id")
        return (f"(NOT EXISTS (SELECT 1 FROM sta_observations vo WHERE vo.feature_id = {a}.id)"
                f" OR EXISTS (SELECT 1 FROM sta_observations vo WHERE vo.feature_id = {a}.id AND"
                f" (vo.datastream_id IN (SELECT vd.id FROM sta_datastreams vd WHERE {s1})"
                f" OR vo.multi_datastream_id IN (SELECT vm.id FROM sta_multi_datastreams vm WHERE {s2}))))", p1 + p2)
    return None


def visibility_literal(e: EntityType, a: str, gate: Gate, identity: Identity, dialect: Dialect) -> str | None:
    """:func:`visibility` of one row (``bounded``) with its parameters written into the SQL as literals, for
    expressions that carry no parameters (navigation paths in ``$filter`` and ``$orderby``); None when nothing is
    hidden."""
    vis = visibility(e, a, gate, identity, bounded=True)
    if vis is None:
        return None
    sql, params = vis
    pg = getattr(dialect, "name", "") == "postgresql"
    out: list[str] = []
    it = iter(params)
    quoted = False
    for ch in sql:
        if ch == "'":
            quoted = not quoted
        if ch == "?" and not quoted:
            out.append(_literal(next(it), pg))
        else:
            out.append(ch)
    return "".join(out)


def visible_to(ctx: Ctx) -> Visible:
    """The caller's read rule (``ctx``: a query context with ``gate``, ``identity`` and ``dialect``) for the targets
    of navigation paths in ``$filter`` and ``$orderby`` (see :func:`urbanos.sensing.resolve.resolve`)."""
    return lambda t, b: visibility_literal(t, b, ctx.gate, ctx.identity, ctx.dialect)


def _literal(v: Any, pg: bool) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if not isinstance(v, str):
        raise TypeError(f"no SQL literal for {type(v).__name__}")
    # hex, so that no quote, percent sign, question mark or NUL reaches the driver
    if pg:
        return f"convert_from('\\x{v.encode().hex()}'::bytea, 'UTF8')"
    return f"CAST(X'{v.encode().hex()}' AS TEXT)"


__all__ = ["RULES", "visibility", "visibility_literal", "visible_to"]
