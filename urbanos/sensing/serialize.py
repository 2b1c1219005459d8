"""Rows to SensorThings JSON: @iot.id, absolute @iot.selfLink, navigation links, $select."""

from __future__ import annotations

from typing import Any

import orjson

from urbanos.sensing.model import ENTITIES, EntityType
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
                tuple(props), tuple(navs), select is None)
        if len(_PLANS) < 512:
            _PLANS[key] = plan
    return plan


def entity(e: EntityType, row: dict[str, Any], version: str, base: str, select: set[str] | None,
           extensions: frozenset[str]) -> dict[str, Any]:
    return entities(e, [row], version, base, select, extensions)[0]


def entities(e: EntityType, rows: list[dict[str, Any]], version: str, base: str, select: set[str] | None,
             extensions: frozenset[str]) -> list[dict[str, Any]]:
    with_id, with_link, props, navs, everything = _plan(e, version, select, extensions)
    prefix = f"{base}/sta/{version}/{e.set_name}("
    nav_suffix = [(f"{n}@iot.navigationLink", f"/{n}") for n in navs]
    result = []
    for row in rows:
        out: dict[str, Any] = {}
        link = f"{prefix}{row['id']})"
        if with_id:
            out["@iot.id"] = row["id"]
        if with_link:
            out["@iot.selfLink"] = link
        for name, kind, col, cs, ce in props:
            if kind == "text":
                out[name] = row[col]
            elif kind == "interval":
                out[name] = render_interval(row[cs], row[ce])
            elif kind == "time":
                out[name] = render(row[col])
            else:
                v = row[col]
                if v is None:
                    if everything and name == "properties":
                        continue
                elif isinstance(v, str | bytes):
                    v = load_json(v)
                out[name] = v
        for key, suffix in nav_suffix:
            out[key] = link + suffix
        result.append(out)
    return result


def entity_type(name: str) -> EntityType:
    return ENTITIES[name]


__all__ = ["columns", "column_names", "entity", "entities", "self_link", "prop_value", "load_json", "entity_type"]
