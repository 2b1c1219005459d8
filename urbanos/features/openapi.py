"""The features capability's part of ``/openapi.json``: OGC API Features (the definition ``/ogcapi/api`` serves)
and the downloads (``/download/{collection}.{csv,geojson,parquet,xlsx}`` and ``/ogcapi/collections/{id}/download``)."""

from __future__ import annotations

from typing import Any

from urbanos.features.downloads.encoders import FORMATS
from urbanos.features.ogcapi.openapi import PLATFORM_TAG, platform_part

_PROBLEM = {"description": "An error (problem details)", "content": {"application/problem+json": {"schema": {
    "type": "object", "required": ["status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "errors": {"type": "object"}}}}}}


def _file(fmt: str) -> dict[str, Any]:
    media = FORMATS[fmt][0].split(";")[0]
    return {media: {"schema": {"type": "string", "format": "binary"} if fmt in ("parquet", "xlsx") else {"type": "string"}}}


def _downloads() -> dict[str, Any]:
    name = {"name": "collection", "in": "path", "required": True, "description": "The collection id.",
            "schema": {"type": "string", "pattern": "^[^/]+$"}}
    paths: dict[str, Any] = {}
    for fmt in FORMATS:
        paths[f"/download/{{collection}}.{fmt}"] = {"get": {
            "operationId": f"download_{fmt}", "summary": f"All features of a collection as {fmt} (streamed)",
            "tags": ["Downloads"], "parameters": [name],
            "responses": {"200": {"description": "The file (Content-Disposition names it)", "content": _file(fmt)},
                          "404": {"$ref": "#/components/responses/Problem"},
                          "4XX": {"$ref": "#/components/responses/Problem"}}}}
    formats = list(FORMATS)
    paths["/ogcapi/collections/{collectionId}/download"] = {"get": {
        "operationId": "downloadCollection", "summary": "All features of a collection as a file", "tags": [PLATFORM_TAG],
        "parameters": [{"$ref": "#/components/parameters/collectionId"},
                       {"name": "format", "in": "query", "required": False, "description": "The file format.",
                        "schema": {"type": "string", "enum": formats, "default": "csv"}}],
        "responses": {"200": {"description": "The file (Content-Disposition names it)",
                              "content": {k: v for fmt in formats for k, v in _file(fmt).items()}},
                      "404": {"$ref": "#/components/responses/Error"}, "4XX": {"$ref": "#/components/responses/Error"}}}}
    return paths


_S: dict[str, Any] = {"type": "string"}
_RID = {"resource_id": {**_S, "description": "The resource whose DataStore table is meant."}}
_JSONISH = {"description": "JSON, or JSON text in a query parameter"}
_FIELDS = {"type": "array", "items": {"type": "object", "required": ["id"], "properties": {
    "id": _S, "type": {"type": "string", "enum": ["text", "int", "float", "numeric", "bool", "timestamp", "date", "json"]},
    "info": {"type": "object"}}}}
_RECORDS = {"type": "array", "items": {"type": "object"}}
DATASTORE_PARAMS: dict[str, tuple[dict[str, Any], tuple[str, ...], bool]] = {
    "datastore_search": ({**_RID, "q": _JSONISH, "filters": _JSONISH, "fields": _JSONISH, "sort": _S,
                          "limit": {"type": "integer", "minimum": 0}, "offset": {"type": "integer", "minimum": 0},
                          "distinct": {"type": "boolean"}, "include_total": {"type": "boolean"},
                          "records_format": {"type": "string", "enum": ["objects", "lists", "csv", "tsv"]}},
                         ("resource_id",), False),
    "datastore_search_sql": ({"sql": {**_S, "description": "One read-only SELECT (setting datastore_sql_enabled)."}},
                             ("sql",), False),
    "datastore_info": (_RID, ("resource_id",), False),
    "datastore_create": ({**_RID, "resource": {"type": "object", "description": "A resource to create with the table"},
                          "fields": _FIELDS, "records": _RECORDS, "primary_key": _JSONISH, "force": {"type": "boolean"}},
                         (), True),
    "datastore_upsert": ({**_RID, "records": _RECORDS, "method": {"type": "string", "enum": ["upsert", "insert", "update"]},
                          "force": {"type": "boolean"}}, ("resource_id",), True),
    "datastore_delete": ({**_RID, "filters": _JSONISH, "force": {"type": "boolean"}}, ("resource_id",), True),
}
"""The parameters of each DataStore action (members of the JSON body; query parameters of the read actions)."""


def _query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return schema if "type" in schema and schema["type"] != "array" else {**_S, **schema, "type": "string"}


def _datastore(names: list[str]) -> dict[str, Any]:
    """The DataStore actions of the CKAN Action API (served by the catalogue), one path each."""
    err = {"$ref": "#/components/responses/CkanError"}
    ok = {"200": {"description": "CKAN's envelope with the action's result", "content": {"application/json": {
        "schema": {"type": "object", "required": ["success"], "properties": {"success": {"const": True},
                                                                                "result": {}, "help": _S}}}}},
          "400": err, "403": err, "404": err, "409": err, "4XX": err}
    paths: dict[str, Any] = {}
    for name in names:
        props, required, write = DATASTORE_PARAMS.get(name, ({}, (), True))
        body: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            body["required"] = list(required)
        item: dict[str, Any] = {"post": {
            "operationId": f"ckan_{name}", "summary": f"DataStore action {name}", "tags": ["CKAN Action API"],
            "security": [{"bearer": []}, {}], "requestBody": {"required": True, "content": {"application/json": {
                "schema": body}}}, "responses": ok}}
        if not write:
            item["get"] = {"operationId": f"ckan_{name}_get", "summary": f"DataStore action {name} (query parameters)",
                           "tags": ["CKAN Action API"], "security": [{"bearer": []}, {}], "responses": ok,
                           "parameters": [{"name": k, "in": "query", "required": k in required,
                                           "schema": _query_schema(v)} for k, v in props.items()]}
        paths[f"/api/3/action/{name}"] = item
    return paths


def openapi_part(default_limit: int, max_limit: int, ckan_actions: list[str]) -> dict[str, Any]:
    """The capability's paths; ``ckan_actions``: the DataStore actions the catalogue's Action API serves (none when
    no catalogue is installed)."""
    part = platform_part(default_limit, max_limit)
    part["paths"].update(_downloads())
    part["paths"].update(_datastore(ckan_actions))
    part["components"].setdefault("responses", {})["Problem"] = _PROBLEM
    part["components"]["responses"]["CkanError"] = {"description": "CKAN's error envelope", "content": {
        "application/json": {"schema": {"type": "object", "required": ["success", "error"], "properties": {
            "success": {"const": False}, "help": _S, "error": {"type": "object", "required": ["__type"]}}}}}}
    part["tags"].append({"name": "Downloads", "description": "Whole collections as files (errors as problem+json)."})
    return part


__all__ = ["openapi_part", "DATASTORE_PARAMS"]
