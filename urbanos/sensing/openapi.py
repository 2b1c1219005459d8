"""The SensorThings API in OpenAPI 3.1: what ``/sta/v1.0`` and ``/sta/v1.1`` serve, built from the data model
(:mod:`urbanos.sensing.model`), so that the description and the API never disagree.

OpenAPI has no OData path syntax; an entity by id is the path template ``/sta/v1.1/Things({id})``, and a
navigation property one level down (``/sta/v1.1/Things({id})/Datastreams``) is described for every relation
(deeper paths such as ``Things(1)/Datastreams(2)/Observations`` are served too). The web layer merges this
fragment into ``/openapi.json``; component names here are local to the capability (the web layer prefixes them).
"""

from __future__ import annotations

from typing import Any

from urbanos.sensing.model import ENTITIES, SET_ORDER, VERSIONS, EntityType, Prop, Rel

TAG = "SensorThings"
_ERR = {"$ref": "#/components/responses/Error"}
_ANY: dict[str, Any] = {}
_KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "json": {"type": "object"},
    "geo": {"type": "object", "description": "A GeoJSON geometry or feature.", "required": ["type"],
            "properties": {"type": {"type": "string"}}},
    "time": {"type": "string", "description": "An ISO 8601 instant (UTC)."},
    "interval": {"type": "string", "description": "An ISO 8601 instant, or an interval start/end."},
    "result": _ANY,
}
_PROP_SCHEMAS: dict[str, dict[str, Any]] = {
    "unitOfMeasurement": {"type": "object", "properties": {
        "name": {"type": ["string", "null"]}, "symbol": {"type": ["string", "null"]}, "definition": {"type": ["string", "null"]}}},
    "unitOfMeasurements": {"type": "array", "items": {"type": "object"}},
    "multiObservationDataTypes": {"type": "array", "items": {"type": "string"}},
    "resultQuality": _ANY,
    "metadata": {"type": "string"},
}


def _prop_schema(p: Prop) -> dict[str, Any]:
    return dict(_PROP_SCHEMAS.get(p.name, _KIND_SCHEMAS[p.kind]))


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of a property as served: any member may be null (an unset optional property)."""
    if "type" not in schema:
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def _rels(e: EntityType, version: str) -> list[Rel]:
    return [r for r in e.rels if not (version == "v1.0" and r.extension) and (version != "v1.0" or r.target != "MultiDatastream")]


def _sets(version: str) -> list[str]:
    return [s for s in SET_ORDER if not (version == "v1.0" and s == "MultiDatastreams")]


def _link_schema() -> dict[str, Any]:
    return {"type": "object", "description": "An entity to create with this one, or a link to an existing one "
            "({\"@iot.id\": id}).", "properties": {"@iot.id": {"type": "integer", "minimum": 1}}}


def _entity_schema(e: EntityType, version: str, mode: str) -> dict[str, Any]:
    """The JSON Schema of ``e`` in a request: ``create`` (POST and PUT: required properties required), ``patch``
    (nothing required), or ``read`` (the answer: every member optional, as ``$select`` may leave it out)."""
    props: dict[str, Any] = {}
    for p in e.props_for(version):
        props[p.name] = _nullable(_prop_schema(p)) if mode == "read" else _prop_schema(p)
    if mode == "read":
        props["@iot.id"] = {"type": "integer"}
        props["@iot.selfLink"] = {"type": "string", "format": "uri"}
        return {"type": "object", "properties": props}
    for r in _rels(e, version):
        props[r.name] = {"type": "array", "items": _link_schema()} if r.many else _link_schema()
    schema: dict[str, Any] = {"type": "object", "properties": props}
    required = [p.name for p in e.props_for(version) if p.required]
    if mode == "create" and required:
        schema["required"] = required
    return schema


def _schemas() -> dict[str, Any]:
    out: dict[str, Any] = {
        "Error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "integer"}, "type": {"type": "string"}, "message": {"type": "string"}}},
    }
    for version in VERSIONS:
        v = version.replace(".", "")
        for s in _sets(version):
            e = ENTITIES[_entity_of(s)]
            out[f"{e.name}_{v}"] = _entity_schema(e, version, "read")
            out[f"{e.name}_{v}_create"] = _entity_schema(e, version, "create")
            out[f"{e.name}_{v}_patch"] = _entity_schema(e, version, "patch")
            out[f"{e.name}s_{v}"] = {"type": "object", "properties": {
                "value": {"type": "array", "items": {"$ref": f"#/components/schemas/{e.name}_{v}"}},
                "@iot.count": {"type": "integer", "minimum": 0}, "@iot.nextLink": {"type": "string", "format": "uri"}}}
    return out


def _entity_of(set_name: str) -> str:
    return next(e.name for e in ENTITIES.values() if e.set_name == set_name)


def _q(name: str, schema: dict[str, Any], desc: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": desc, "schema": schema}


def _parameters(max_top: int, default_top: int) -> dict[str, Any]:
    return {
        "id": {"name": "id", "in": "path", "required": True, "description": "The entity id (an integer).",
               "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}},
        "filter": _q("$filter", {"type": "string"}, "An OData filter expression, e.g. result gt 20."),
        "expand": _q("$expand", {"type": "string"}, "Navigation properties to include, with nested options, e.g. "
                     "Datastreams($top=1;$expand=Observations)."),
        "select": _q("$select", {"type": "string"}, "The properties to return, comma separated."),
        "orderby": _q("$orderby", {"type": "string"}, "Sort keys, each with asc or desc, comma separated."),
        "top": _q("$top", {"type": "integer", "minimum": 0, "maximum": max_top, "default": default_top},
                  "Page size."),
        "skip": _q("$skip", {"type": "integer", "minimum": 0}, "Entities to skip."),
        "count": _q("$count", {"type": "boolean"}, "Include @iot.count, the number of entities that match."),
        "resultFormat": _q("$resultFormat", {"type": "string", "enum": ["dataArray", "GeoJSON", "CSV"]},
                           "Another format of the answer (dataArray: Observations only)."),
    }


def _refs(*names: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{n}"} for n in names]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _body(ref: str, *, patch: bool = False) -> dict[str, Any]:
    content = _json({"$ref": ref})
    if patch:
        content["application/merge-patch+json"] = {"schema": {"$ref": ref}}
        content["application/json-patch+json"] = {"schema": {"type": "array", "items": {
            "type": "object", "required": ["op", "path"], "properties": {
                "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
                "path": {"type": "string"}, "from": {"type": "string"}, "value": {}}}}}
    return {"required": True, "content": content}


def _errors(*codes: int) -> dict[str, Any]:
    out = {str(c): _ERR for c in codes}
    out["4XX"] = _ERR
    return out


def _collection_get(e: EntityType, v: str, summary: str, op: str) -> dict[str, Any]:
    formats = {**_json({"$ref": f"#/components/schemas/{e.name}s_{v}"}),
               "application/geo+json": {"schema": {"type": "object"}}, "text/csv": {"schema": {"type": "string"}}}
    return {"operationId": op, "summary": summary, "tags": [TAG],
            "parameters": _refs("filter", "expand", "select", "orderby", "top", "skip", "count", "resultFormat"),
            "responses": {"200": {"description": "A page of entities", "content": formats}, **_errors(400, 404)}}


def _create(e: EntityType, v: str, summary: str, op: str, *, under: bool = False) -> dict[str, Any]:
    ref = f"#/components/schemas/{e.name}_{v}_{'patch' if under else 'create'}"
    return {"operationId": op, "summary": summary, "tags": [TAG], "security": [{"bearer": []}],
            "requestBody": _body(ref),
            "responses": {"201": {"description": "Created; Location names the new entity",
                                  "content": _json({"$ref": f"#/components/schemas/{e.name}_{v}"})},
                          **_errors(400, 401, 403, 404, 415)}}


def _entity_ops(e: EntityType, v: str, prefix: str) -> dict[str, Any]:
    one = {"$ref": f"#/components/schemas/{e.name}_{v}"}
    sec: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "parameters": _refs("id"),
        "get": {"operationId": f"{prefix}_get", "summary": f"One {e.name}", "tags": [TAG],
                "parameters": _refs("expand", "select"),
                "responses": {"200": {"description": f"The {e.name}", "content": _json(one)}, **_errors(400, 404)}},
        "patch": {"operationId": f"{prefix}_patch", "summary": f"Change some properties of a {e.name}", "tags": [TAG],
                  "security": sec, "requestBody": _body(f"#/components/schemas/{e.name}_{v}_patch", patch=True),
                  "responses": {"200": {"description": "The changed entity", "content": _json(one)},
                                **_errors(400, 401, 403, 404, 415)}},
        "put": {"operationId": f"{prefix}_put", "summary": f"Replace a {e.name}", "tags": [TAG], "security": sec,
                "requestBody": _body(f"#/components/schemas/{e.name}_{v}_create"),
                "responses": {"200": {"description": "The replaced entity", "content": _json(one)},
                              **_errors(400, 401, 403, 404, 415)}},
        "delete": {"operationId": f"{prefix}_delete", "summary": f"Delete a {e.name}", "tags": [TAG], "security": sec,
                   "responses": {"200": {"description": "Deleted"}, **_errors(401, 403, 404)}},
    }


def _property_ops(e: EntityType, version: str, prefix: str) -> dict[str, Any]:
    names = [p.name for p in e.props_for(version)]
    param = {"name": "property", "in": "path", "required": True, "description": "A property of the entity.",
             "schema": {"type": "string", "enum": names}}
    return {
        "/{property}": {"parameters": [*_refs("id"), param], "get": {
            "operationId": f"{prefix}_property", "summary": f"One property of a {e.name}", "tags": [TAG],
            "responses": {"200": {"description": "{property: value}", "content": _json({"type": "object"})},
                          **_errors(400, 404)}}},
        "/{property}/$value": {"parameters": [*_refs("id"), param], "get": {
            "operationId": f"{prefix}_property_value", "summary": f"The raw value of a property of a {e.name}",
            "tags": [TAG], "responses": {"200": {"description": "The value", "content": {"text/plain": {
                "schema": {"type": "string"}}}}, "204": {"description": "The value is null"}, **_errors(400, 404)}}},
    }


def _ref_ops(rel: Rel, op: str) -> dict[str, Any]:
    sec: list[dict[str, list[str]]] = [{"bearer": []}]
    refs = {"type": "object", "properties": {"value": {"type": "array", "items": {"type": "object", "properties": {
        "@iot.selfLink": {"type": "string"}}}}, "@iot.selfLink": {"type": "string"}}}
    item: dict[str, Any] = {"parameters": _refs("id"), "get": {
        "operationId": f"{op}_ref", "summary": f"The links to {rel.name}", "tags": [TAG],
        "parameters": _refs("filter", "orderby", "top", "skip", "count") if rel.many else [],
        "responses": {"200": {"description": "The references", "content": _json(refs)}, **_errors(400, 404)}}}
    if rel.many:
        item["post"] = {"operationId": f"{op}_ref_post", "summary": f"Link an existing {rel.target}", "tags": [TAG],
                        "security": sec, "requestBody": {"required": True, "content": _json({
                            "type": "object", "required": ["@iot.id"], "properties": {
                                "@iot.id": {"type": "integer", "minimum": 1}}})},
                        "responses": {"204": {"description": "Linked"}, **_errors(400, 401, 403, 404, 415)}}
    return item


def _navigation(e: EntityType, version: str, base: str, prefix: str) -> dict[str, Any]:
    v = version.replace(".", "")
    out: dict[str, Any] = {}
    for rel in _rels(e, version):
        target = ENTITIES[rel.target]
        op = f"{prefix}_{rel.name}"
        if rel.many:
            item: dict[str, Any] = {"parameters": _refs("id"),
                                    "get": _collection_get(target, v, f"The {rel.name} of a {e.name}", op)}
            item["post"] = _create(target, v, f"Create a {rel.target} linked to this {e.name}", f"{op}_post", under=True)
        else:
            one = {"$ref": f"#/components/schemas/{target.name}_{v}"}
            item = {"parameters": _refs("id"), "get": {
                "operationId": op, "summary": f"The {rel.name} of a {e.name}", "tags": [TAG],
                "parameters": _refs("expand", "select"),
                "responses": {"200": {"description": f"The {rel.name}", "content": _json(one)}, **_errors(400, 404)}}}
        out[f"{base}/{rel.name}"] = item
        out[f"{base}/{rel.name}/$ref"] = _ref_ops(rel, op)
    return out


def _set_paths(version: str, set_name: str) -> dict[str, Any]:
    e = ENTITIES[_entity_of(set_name)]
    v = version.replace(".", "")
    root = f"/sta/{version}/{set_name}"
    prefix = f"sta_{v}_{set_name}"
    paths: dict[str, Any] = {root: {
        "get": _collection_get(e, v, f"The {set_name}", f"{prefix}_list"),
        "post": _create(e, v, f"Create a {e.name} (with related entities inline)", f"{prefix}_create"),
    }}
    one = f"{root}({{id}})"
    paths[one] = _entity_ops(e, v, prefix)
    paths.update({one + k: item for k, item in _property_ops(e, version, prefix).items()})
    paths.update(_navigation(e, version, one, prefix))
    return paths


def _service_paths(version: str, max_batch: int) -> dict[str, Any]:
    v = version.replace(".", "")
    base = f"/sta/{version}"
    sec: list[dict[str, list[str]]] = [{"bearer": []}]
    batch_json = {"type": "object", "required": ["requests"], "properties": {"requests": {
        "type": "array", "maxItems": max_batch, "items": {"type": "object", "required": ["method", "url"], "properties": {
            "id": {"type": "string"}, "atomicityGroup": {"type": "string"},
            "method": {"type": "string", "enum": ["get", "post", "patch", "put", "delete"]},
            "url": {"type": "string"}, "headers": {"type": "object"}, "body": {}}}}}}
    data_array = {"type": "array", "items": {"type": "object", "required": ["components", "dataArray"], "properties": {
        "Datastream": {"type": "object", "properties": {"@iot.id": {"type": "integer"}}},
        "MultiDatastream": {"type": "object", "properties": {"@iot.id": {"type": "integer"}}},
        "components": {"type": "array", "items": {"type": "string"}},
        "dataArray": {"type": "array", "items": {"type": "array"}}}}}
    return {
        base: {"get": {"operationId": f"sta_{v}_root", "summary": "The entity sets (and, in v1.1, the server settings)",
                       "tags": [TAG], "responses": {"200": {"description": "The service root", "content": _json({
                           "type": "object", "required": ["value"], "properties": {"value": {"type": "array", "items": {
                               "type": "object", "properties": {"name": {"type": "string"}, "url": {"type": "string"}}}},
                               "serverSettings": {"type": "object"}}})}, **_errors(404)}}},
        f"{base}/$batch": {"post": {
            "operationId": f"sta_{v}_batch", "summary": "Several requests in one (JSON or multipart/mixed batch)",
            "tags": [TAG], "requestBody": {"required": True, "content": {
                "application/json": {"schema": batch_json}, "multipart/mixed": {"schema": {"type": "string"}}}},
            "responses": {"200": {"description": "The answers, in the request's format", "content": {
                "application/json": {"schema": {"type": "object", "properties": {"responses": {"type": "array"}}}},
                "multipart/mixed": {"schema": {"type": "string"}}}}, **_errors(400, 415)}}},
        f"{base}/CreateObservations": {"post": {
            "operationId": f"sta_{v}_create_observations", "summary": "Create many Observations (dataArray)",
            "tags": [TAG], "security": sec, "requestBody": {"required": True, "content": _json(data_array)},
            "responses": {"201": {"description": "The selfLink of each Observation created, or an error text",
                                  "content": _json({"type": "array", "items": {"type": "string"}})},
                          **_errors(400, 401, 403, 404, 415)}}},
    }


def openapi_fragment(max_top: int, default_top: int, max_batch: int) -> dict[str, Any]:
    """The paths and components of the SensorThings API, both versions."""
    paths: dict[str, Any] = {}
    for version in VERSIONS:
        paths.update(_service_paths(version, max_batch))
        for set_name in _sets(version):
            paths.update(_set_paths(version, set_name))
    return {
        "tags": [{"name": TAG, "description": "OGC SensorThings API v1.1 (and v1.0) with the MultiDatastream and "
                                              "dataArray extensions; errors are {code, type, message}."}],
        "paths": paths,
        "components": {
            "parameters": _parameters(max_top, default_top),
            "schemas": _schemas(),
            "responses": {"Error": {"description": "A SensorThings error", "content": _json(
                {"$ref": "#/components/schemas/Error"})}},
        },
    }


__all__ = ["openapi_fragment", "TAG"]
