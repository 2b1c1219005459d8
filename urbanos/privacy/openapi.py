"""The privacy capability's part of ``/openapi.json``: the audit trail, the algorithm register and the privacy rules."""

from __future__ import annotations

from typing import Any

from urbanos.privacy.algorithms.fields import FIELDS
from urbanos.privacy.rules import openapi as rules_api

_S: dict[str, Any] = {"type": "string"}
_PROBLEM = {"$ref": "#/components/responses/Problem"}
_HTML = {"text/html": {"schema": {"type": "string"}}}


def _q(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"},
       "description": "The entry's id (``12``), or ``12.json`` for its JSON"}
_PAGE = [_q("lang", _S, "en or de"), _q("f", {"type": "string", "enum": ["html", "json"]})]
_BODY = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AlgorithmBody"}}}}


def _op(op: str, summary: str, responses: dict[str, Any], params: list[dict[str, Any]] | None = None,
        body: bool = False, secure: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op, "summary": summary, "tags": ["Privacy"], "parameters": params or [],
                           "responses": {**responses, "4XX": _PROBLEM}}
    if body:
        out["requestBody"] = _BODY
    if secure:
        out["security"] = [{"bearer": []}]
    return out


def _paths() -> dict[str, Any]:
    one = {"200": {"description": "The entry", "content": {**_json("Algorithm"), **_HTML}}}
    listed = {"200": {"description": "The register", "content": {**_json("AlgorithmList"), **_HTML}}}
    audit = [_q("dataset", {"type": "string", "maxLength": 300}), _q("actor", {"type": "string", "maxLength": 300}),
             _q("action", {"type": "string", "maxLength": 300}), _q("since", _S, "ISO 8601 date or instant"),
             _q("until", _S, "ISO 8601 date or instant"), _q("before", {"type": "integer", "minimum": 1},
                                                              "entries before this seq (paging)"),
             _q("limit", {"type": "integer", "minimum": 1, "maximum": 1000}), *_PAGE]
    return {
        "/audit": {"get": _op("privacy_audit", "The audit trail (stewards: their organisations'; admins: all)",
                              {"200": {"description": "Entries, newest first", "content": {**_json("AuditPage"),
                                                                                          **_HTML}}},
                              audit, secure=True)},
        "/algorithms": {
            "get": _op("privacy_algorithms", "The algorithm register (HTML, or JSON by Accept or f=json)", listed,
                       [*_PAGE, _q("organization", _S)]),
            "post": _op("privacy_algorithm_create", "Register an algorithm (publisher of the owning organisation)",
                        {"201": {"description": "The new entry", "content": _json("Algorithm")}}, body=True,
                        secure=True)},
        "/algorithms.json": {"get": _op("privacy_algorithms_json", "The algorithm register as JSON",
                                        {"200": {"description": "The register", "content": _json("AlgorithmList")}},
                                        [_q("organization", _S)])},
        "/algorithms.csv": {"get": _op("privacy_algorithms_csv", "The algorithm register as CSV",
                                       {"200": {"description": "One row per entry", "content": {
                                           "text/csv": {"schema": {"type": "string"}}}}})},
        "/algorithms/{id}": {
            "get": _op("privacy_algorithm", "One entry (HTML, or JSON by Accept, f=json or the .json suffix)", one,
                       [_ID, *_PAGE]),
            "put": _op("privacy_algorithm_replace", "Replace an entry", {"200": {"description": "The entry",
                       "content": _json("Algorithm")}}, [_ID], body=True, secure=True),
            "patch": _op("privacy_algorithm_patch", "Change fields of an entry (null removes an optional one)",
                         {"200": {"description": "The entry", "content": _json("Algorithm")}}, [_ID], body=True,
                         secure=True),
            "delete": _op("privacy_algorithm_delete", "Remove an entry", {"204": {"description": "Removed"}}, [_ID],
                          secure=True)},
        "/algorithms/{id}/versions": {"get": _op(
            "privacy_algorithm_versions", "Who changed an entry, when, which fields",
            {"200": {"description": "Versions, newest first", "content": _json("Versions")}}, [_ID])},
    }


def _schemas() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for f in FIELDS:
        if f.kind == "keywords":
            fields[f.name] = {"type": "array", "items": _S}
        elif f.kind == "enum":
            fields[f.name] = {"type": "string", "enum": list(f.choices)}
        else:
            fields[f.name] = {"type": "string"}
    links = {"owner_org": _S, "datasets": {"type": "array", "items": _S}}
    entry = {"type": "object", "required": ["id", "url", "owner_org", "datasets", "version"],
             "properties": {"id": {"type": "integer"}, "url": _S, "version": {"type": "integer"}, "created_at": _S,
                            "modified_at": _S, **links, **fields}}
    audit_entry = {"type": "object", "required": ["seq", "at", "actor", "action", "hash", "prev_hash"], "properties": {
        "seq": {"type": "integer"}, "at": _S, "actor": _S, "action": _S, "object_kind": _S, "object_id": _S,
        "dataset": {"type": ["string", "null"]}, "org": {"type": ["string", "null"]},
        "path": {"type": ["string", "null"]}, "row_count": {"type": ["integer", "null"]}, "details": {},
        "prev_hash": _S, "hash": _S}}
    return {
        "AlgorithmBody": {"type": "object", "properties": {**links, **fields},
                          "description": "The standard's fields (Eurocities v0.3.1), owner_org and datasets"},
        "Algorithm": entry,
        "AlgorithmList": {"type": "object", "required": ["algorithms"], "properties": {
            "algorithms": {"type": "array", "items": {"$ref": "#/components/schemas/Algorithm"}}, "standard": _S}},
        "Versions": {"type": "object", "required": ["versions"], "properties": {"versions": {"type": "array", "items": {
            "type": "object", "properties": {"version": {"type": "integer"}, "at": _S, "actor": _S, "change": _S,
                                             "changed": {"type": "array", "items": _S}}}}}},
        "AuditPage": {"type": "object", "required": ["entries"], "properties": {
            "entries": {"type": "array", "items": audit_entry}, "next": {"type": ["string", "null"]},
            "count": {"type": "integer"}}},
    }


def openapi_part() -> dict[str, Any]:
    return {
        "tags": [{"name": "Privacy", "description": "The audit trail, the algorithm register and the privacy rules."}],
        "paths": {**_paths(), **rules_api.paths()},
        "components": {"schemas": {**_schemas(), **rules_api.schemas()}, "responses": {"Problem": {
            "description": "An error (problem details)", "content": {"application/problem+json": {"schema": {
                "type": "object", "required": ["status", "detail"], "properties": {
                    "status": {"type": "integer"}, "detail": _S, "title": _S, "type": _S, "code": _S}}}}}}},
    }


__all__ = ["openapi_part"]
