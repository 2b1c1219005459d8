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


def entity(e: EntityType, row: dict[str, Any], version: str, base: str, select: set[str] | None,
           extensions: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    link = self_link(base, version, e, row["id"])
    if select is None or "id" in select or "@iot.id" in select:
        out["@iot.id"] = row["id"]
    if select is None or "@iot.selfLink" in select or "selfLink" in select:
        out["@iot.selfLink"] = link
    for p in e.props_for(version):
        if select is None or p.name in select:
            v = prop_value(p, row)
            if p.kind == "json" and v is None and p.name == "properties" and select is None:
                continue
            out[p.name] = v
    for r in e.rels:
        if r.extension and r.extension not in extensions:
            continue
        if select is None or r.name in select:
            out[f"{r.name}@iot.navigationLink"] = f"{link}/{r.name}"
    return out


def entity_type(name: str) -> EntityType:
    return ENTITIES[name]


__all__ = ["columns", "column_names", "entity", "self_link", "prop_value", "load_json", "entity_type"]
