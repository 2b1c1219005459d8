"""Rows to SensorThings JSON: @iot.id, absolute @iot.selfLink, navigation links, $select."""

from __future__ import annotations

from typing import Any

import orjson

from urbanos.sensing.model import DATASET_KEY, DATASET_OWNERS, ENTITIES, EntityType
from urbanos.sensing.timefmt import render, render_interval


def columns(e: EntityType, alias: str) -> list[str]:
    """The SELECT list for an entity (id, properties, own foreign keys)."""
    cols = [f"{alias}.id"]
    for p in e.props:
        if p.kind == "interval":
            cols += [f"{alias}.{p.column}_start", f"{alias}.{p.column}_end"]
        else:
            cols.append(f"{alias}.{p.column}")
    for r in e.rels:
        if r.kind == "own":
            cols.append(f"{alias}.{r.fk}")
    if e.name in ("Thing", "Datastream", "MultiDatastream"):
        cols.append(f"{alias}.dataset_id")
    return cols


def column_names(e: EntityType) -> list[str]:
    return [c.split(".", 1)[1] for c in columns(e, "x")]


def load_json(v: Any) -> Any:
    if v is None or not isinstance(v, str | bytes):
        return v
    try:
        return orjson.loads(v)
    except orjson.JSONDecodeError:
        return v


def prop_value(p: Any, row: dict[str, Any]) -> Any:
    k = p.kind
    if k == "interval":
        return render_interval(row[p.column + "_start"], row[p.column + "_end"])
    v = row[p.column]
    if k == "time":
        return render(v)
    if k in ("json", "geo", "result"):
        return load_json(v)
    return v


def self_link(base: str, version: str, e: EntityType, id_: Any) -> str:
    return f"{base}/sta/{version}/{e.set_name}({id_})"


_PLANS: dict[tuple[str, str, frozenset[str] | None, frozenset[str]], tuple[Any, ...]] = {}


def _plan(e: EntityType, version: str, select: set[str] | None, extensions: frozenset[str]) -> tuple[Any, ...]:
    key = (e.name, version, frozenset(select) if select is not None else None, extensions)
    plan = _PLANS.get(key)
    if plan is None:
        props = [(p.name, p.kind, p.column, p.column + "_start", p.column + "_end") for p in e.props_for(version)
                 if select is None or p.name in select]
        navs = [r.name for r in e.rels if not (r.extension and r.extension not in extensions)
                and (select is None or r.name in select)]
        plan = (select is None or "id" in select or "@iot.id" in select,
                select is None or "@iot.selfLink" in select or "selfLink" in select,
                tuple(props), tuple(navs), select is None, e.name in DATASET_OWNERS)
        if len(_PLANS) < 512:
            _PLANS[key] = plan
    return plan


def entity(e: EntityType, row: dict[str, Any], version: str, base: str, select: set[str] | None,
           extensions: frozenset[str]) -> dict[str, Any]:
    return entities(e, [row], version, base, select, extensions)[0]


def entities(e: EntityType, rows: list[dict[str, Any]], version: str, base: str, select: set[str] | None,
             extensions: frozenset[str]) -> list[dict[str, Any]]:
    build = _builder(_plan(e, version, select, extensions))
    return build(rows, f"{base}/sta/{version}/{e.set_name}(")


_BUILDERS: dict[tuple[Any, ...], Any] = {}


def _builder(plan: tuple[Any, ...]) -> Any:
    """A function ``build(rows, link_prefix)`` for one serialisation plan, generated once and cached.

    The plan (which keys, in which order, and how each is rendered) is fixed per entity type, version
    and $select, so the per-row work is a single dict display with the keys as constants: no kind
    tests, no per-key branching and no nav-link suffix concatenation loops per row.
    """
    fn = _BUILDERS.get(plan)
    if fn is not None:
        return fn
    with_id, with_link, props, navs, everything, has_dataset = plan
    items: list[str] = []
    after: list[str] = []
    if with_id:
        items.append('"@iot.id": i')
    if with_link:
        items.append('"@iot.selfLink": link')
    for name, kind, col, cs, ce in props:
        key = repr(name)
        if kind == "text":
            items.append(f"{key}: row[{col!r}]")
        elif kind == "interval":  # render_interval, with the common cases inline
            items.append(f"{key}: None if (s := row[{cs!r}]) is None else render(s) if (t := row[{ce!r}]) is None"
                         " else f'{render(s)}/{render(t)}'")
        elif kind == "time":
            items.append(f"{key}: None if (s := row[{col!r}]) is None else render(s)")
        else:
            if has_dataset and name == "properties":  # the dataset link shows as properties["urbanos:dataset"]
                items.append(f"{key}: with_dataset(row[{col!r}], row.get('_ds_name'))")
            else:
                items.append(f"{key}: None if (v := row[{col!r}]) is None else load_json(v)")
            if everything and name == "properties":  # an unset ``properties`` is left out of the full form
                after.append(f"    if out[{key}] is None:\n      del out[{key}]")
    for n in navs:
        items.append(f'"{n}@iot.navigationLink": link + "/{n}"')
    body = ["def build(rows, prefix):", "  result = []", "  append = result.append", "  for row in rows:",
            "    i = row['id']", "    link = f'{prefix}{i})'" if with_link or navs else "",
            "    out = {" + ", ".join(items) + "}", *after, "    append(out)", "  return result"]
    scope: dict[str, Any] = {"render": render, "load_json": load_json, "with_dataset": with_dataset}
    # the source is built from the entity model's own names (quoted with !r), never from a request
    exec(compile("\n".join(line for line in body if line), "<sta serializer>", "exec"), scope)  # nosec B102
    fn = scope["build"]
    if len(_BUILDERS) < 512:
        _BUILDERS[plan] = fn
    return fn


def with_dataset(stored: Any, dataset_name: str | None) -> Any:
    """``properties`` of a Thing, Datastream or MultiDatastream, with the name of its dataset under
    ``urbanos:dataset`` when it belongs to one."""
    props = None if stored is None else load_json(stored)
    if dataset_name is None:
        return props
    return {**(props if isinstance(props, dict) else {}), DATASET_KEY: dataset_name}


def entity_type(name: str) -> EntityType:
    return ENTITIES[name]


_OBS_DEFAULTS: dict[str, Any] = {c: None for c in column_names(ENTITIES["Observation"])}


def observation_json(vals: dict[str, Any], version: str, base: str, extensions: frozenset[str]) -> dict[str, Any]:
    """A created Observation as GET serves it, from the column values just written (``Writer.last_row``: no second
    read). Columns the write left out are NULL."""
    return entity(ENTITIES["Observation"], {**_OBS_DEFAULTS, **vals}, version, base, None, extensions)


__all__ = ["columns", "column_names", "entity", "entities", "self_link", "prop_value", "load_json", "entity_type", "with_dataset",
           "observation_json"]
