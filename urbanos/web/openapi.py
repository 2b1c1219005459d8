"""``/openapi.json``: one OpenAPI 3.1 document of every public path, assembled from what each part declares.

The web layer's own routes (operations, administration) are described by FastAPI from their signatures; each
capability contributes the paths it serves through :meth:`urbanos.plugins.Component.openapi` (the SensorThings
API from its data model, OGC API Features from the same definition ``/ogcapi/api`` serves, the CKAN Action API
from its action table, ...). The document is built on the first request and kept on the app.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from urbanos.errors import ConfigError
from urbanos.platform import Platform
from urbanos.plugins import Component

# the component sections whose entries are referred to by "$ref" (securitySchemes are named, not referred to)
_REFERABLE = ("schemas", "responses", "parameters", "requestBodies", "headers", "examples", "links", "callbacks",
              "pathItems")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PROBLEM = {"type": "object", "required": ["type", "title", "status", "detail"], "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "code": {"type": "string"}, "instance": {"type": "string"},
    "errors": {"type": "object"}, "request_id": {"type": "string"}}}


def _prefixed(node: Any, renames: dict[str, str]) -> Any:
    """``node`` with every ``$ref`` to a renamed component pointing at its new name."""
    if isinstance(node, dict):
        return {k: (renames.get(v, v) if k == "$ref" and isinstance(v, str) else _prefixed(v, renames))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_prefixed(v, renames) for v in node]
    return node


def namespaced(part: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A capability's part with its component names prefixed (``Error`` of ``sensing`` is ``sensing.Error``)."""
    renames: dict[str, str] = {}
    for section, entries in (part.get("components") or {}).items():
        if section in _REFERABLE:
            renames.update({f"#/components/{section}/{name}": f"#/components/{section}/{prefix}.{name}"
                            for name in entries})
    out = _prefixed(part, renames)
    comps = out.get("components") or {}
    out["components"] = {section: ({f"{prefix}.{k}": v for k, v in entries.items()} if section in _REFERABLE else entries)
                         for section, entries in comps.items()}
    return out


def merge(doc: dict[str, Any], part: dict[str, Any], owner: str) -> None:
    """Add a (namespaced) part to ``doc``; a path and method described twice is a start-up error naming both."""
    paths = doc.setdefault("paths", {})
    for path, item in (part.get("paths") or {}).items():
        have = paths.setdefault(path, {})
        for key, value in item.items():
            if key in _METHODS and key in have:
                raise ConfigError(f"{key.upper()} {path} is described twice in /openapi.json (again by {owner}); "
                                  "describe each operation in the part that serves it.")
            have[key] = value
    comps = doc.setdefault("components", {})
    for section, entries in (part.get("components") or {}).items():
        comps.setdefault(section, {}).update(entries)
    known = {t["name"] for t in doc.setdefault("tags", [])}
    doc["tags"].extend(t for t in part.get("tags") or [] if t["name"] not in known)


def _web_routes(app: FastAPI) -> list[RouteContext]:
    """The routes the web layer itself defines, included routers' too (capabilities describe their own)."""
    out = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute) and route.endpoint.__module__.startswith("urbanos.web"):
            out.append(ctx)
    return out


def _problem_responses(doc: dict[str, Any]) -> None:
    """The web layer's errors are problem+json, and a request FastAPI cannot validate is a 400, not a 422."""
    ref = {"$ref": "#/components/responses/Problem"}
    for item in doc.get("paths", {}).values():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            if op.get("tags") == ["Administration"]:
                responses.update({"401": ref, "403": ref})
            responses["4XX"] = ref
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Problem"] = _PROBLEM
    doc["components"].setdefault("responses", {})["Problem"] = {
        "description": "An error (RFC 9457 problem details)",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _operations(doc: dict[str, Any]) -> None:
    """What FastAPI cannot see in the operations endpoints' signatures."""
    health = doc["paths"].get("/healthz", {}).get("get")
    if health is not None:
        ok = {"type": "object", "required": ["status", "version", "database"], "properties": {
            "status": {"type": "string", "enum": ["ok"]}, "version": {"type": "string"},
            "database": {"type": "string", "enum": ["sqlite", "postgresql"], "description": "The back end in use"},
            "pid": {"type": "integer", "description": "The server process that answered (one of several with "
                                                     "urbanos serve --workers N)"}}}
        health["description"] = ("Liveness, answered from memory without a database query, never shed nor "
                                 "rate-limited: 200 while the process serves requests. Whether the database can "
                                 "serve them is /readyz.")
        health["responses"]["200"] = {"description": "The process serves requests",
                                      "content": {"application/json": {"schema": ok}}}
    ready = doc["paths"].get("/readyz", {}).get("get")
    if ready is not None:
        check = {"type": "object", "required": ["status"], "properties": {
            "status": {"type": "string", "enum": ["ok", "error"]},
            "reason": {"type": "string", "enum": ["database_down", "disk_full", "read_only"]},
            "message": {"type": "string"}}, "additionalProperties": True}
        body = {"type": "object", "required": ["status", "checks"], "properties": {
            "status": {"type": "string", "enum": ["ok", "error"]}, "version": {"type": "string"},
            "checks": {"type": "object", "properties": {"database": check, "storage": check},
                       "additionalProperties": check}}}
        ready["description"] = ("Readiness: the database answers (checked outside the request pools, within "
                                "1 s) and accepts writes (not read-only, disk not full). Never shed nor "
                                "rate-limited; answers within 2 s.")
        ready["responses"]["200"] = {"description": "Ready: every check passes",
                                     "content": {"application/json": {"schema": body}}}
        ready["responses"]["503"] = {"description": "Not ready: a check names the reason (database_down, "
                                     "disk_full, read_only)", "content": {"application/json": {"schema": body}}}
    metrics = doc["paths"].get("/metrics", {}).get("get")
    if metrics is not None:
        metrics["responses"]["200"] = {"description": "Prometheus text exposition format",
                                       "content": {"text/plain": {"schema": {"type": "string"}}}}


def build(app: FastAPI, platform: Platform, components: list[Component]) -> dict[str, Any]:
    """The whole document: the web layer's routes, then each component's part, in the components' order."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=_web_routes(app))
    _problem_responses(doc)
    _operations(doc)
    doc.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
        "type": "http", "scheme": "bearer",
        "description": "An API token (POST /admin/tokens) or the admin token; CKAN clients may send it bare in "
                       "Authorization or X-CKAN-API-Key."}
    for c in components:
        part = c.openapi(platform)
        if part:
            merge(doc, namespaced(part, c.name or type(c).__name__), c.name or type(c).__name__)
    doc["paths"] = dict(sorted(doc["paths"].items()))
    return doc


def install(app: FastAPI, platform: Platform, components: list[Component]) -> None:
    """Serve the assembled document at ``app.openapi_url``: built on the first request, then kept."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, platform, components)
        return app.openapi_schema

    setattr(app, "openapi", openapi)  # noqa: B010 - FastAPI's documented way to replace the document


__all__ = ["build", "install", "merge", "namespaced"]
