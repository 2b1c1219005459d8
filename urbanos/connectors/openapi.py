"""The connectors' part of ``/openapi.json`` (the web layer merges it and prefixes the component names)."""

from __future__ import annotations

from typing import Any

from urbanos.connectors.types import registry

TAG = "Connectors"
_PROBLEM = {"description": "An error (problem details)", "content": {"application/problem+json": {"schema": {
    "type": "object", "required": ["status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "errors": {"type": "object"}}}}}}
_ERR = {"$ref": "#/components/responses/Problem"}
_CONNECTOR = {"$ref": "#/components/schemas/Connector"}
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_SECURE: list[dict[str, list[str]]] = [{"bearer": []}]
_COUNTS = {k: {"type": "integer"} for k in ("created", "updated", "unchanged", "failed")}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"tags": [TAG], "summary": summary, "security": _SECURE, "responses": {**ok, "4XX": _ERR}, **extra}


def _schemas() -> dict[str, Any]:
    body = {"type": "object", "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"},
        "type": {"type": "string", "enum": sorted(registry())}, "url": {"type": "string"},
        "dataset": {"type": "string"}, "every": {"type": "string", "examples": ["5m"]},
        "cron": {"type": "string", "examples": ["*/5 * * * *"]}, "mapping": {}, "enabled": {"type": "boolean"}}}
    connector = {"type": "object", "required": ["name", "type", "dataset", "healthy"], "properties": {
        "name": {"type": "string"}, "type": {"type": "string"}, "url": {"type": "string"},
        "dataset": {"type": ["string", "null"]}, "schedule": {"type": "object"}, "mapping": {"type": "object"},
        "enabled": {"type": "boolean"}, "healthy": {"type": "boolean"}, "consecutive_failures": {"type": "integer"},
        "last_run_at": {"type": ["string", "null"]}, "last_status": {"type": ["string", "null"]},
        "next_run_at": {"type": ["string", "null"]}, "running": {"type": "boolean"},
        "secret": {"type": "string", "description": "A webhook's secret, in the answer of its creation only."},
        "live": {"type": "object", "description": "A SensorThings mirror in live mode: its link to the remote's "
                 "MQTT broker.", "properties": {
                     "state": {"type": "string", "enum": ["connecting", "connected", "disconnected", "refused",
                                                          "stopped", "waiting"]},
                     "connected": {"type": "boolean"}, "since": {"type": ["string", "null"]},
                     "messages": {"type": "integer"}, "written": {"type": "integer"}, "skipped": {"type": "integer"},
                     "failed": {"type": "integer"}, "reconnects": {"type": "integer"},
                     "subscriptions": {"type": "integer"}, "last_message_at": {"type": ["string", "null"]},
                     "last_error": {"type": ["string", "null"]}}},
        "runs": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}}}
    run = {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["running", "ok", "partial", "failed", "skipped"]}, **_COUNTS,
        "errors": {"type": "array", "items": {"type": "string"}}, "bytes_fetched": {"type": "integer"}}}
    return {"ConnectorBody": body, "Connector": connector, "Run": run}


_HTML = {"text/html": {"schema": {"type": "string"}}}
_PAGE_ERR = {"description": "An error: a page for a browser, else problem details",
             "content": {**_HTML, "application/problem+json": {"schema": {"type": "object"}}}}
_LANG = {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["en", "de"]}}
_FORM_FIELDS = ("csrf", "name", "type", "url", "dataset", "every", "cron", "mapping", "enabled")


def _page(summary: str, *params: dict[str, Any]) -> dict[str, Any]:
    return {"tags": [TAG], "summary": summary, "security": _SECURE, "parameters": [*params, _LANG],
            "responses": {"200": {"description": "The page", "content": _HTML}, "4XX": _PAGE_ERR}}


def _form(summary: str, *params: dict[str, Any], created: bool = False) -> dict[str, Any]:
    ok: dict[str, Any] = {"303": {"description": "Done; Location names the next page"}}
    if created:
        ok["201"] = {"description": "A webhook's page with its secret, shown this once", "content": _HTML}
    return {"tags": [TAG], "summary": summary, "security": _SECURE, "parameters": [*params, _LANG],
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": {k: {"type": "string"} for k in _FORM_FIELDS}}}}},
            "responses": {**ok, "4XX": {**_PAGE_ERR, "description": "The form again naming the field, or an error"}}}


def _portal_paths() -> dict[str, Any]:
    """The portal's forms (bearer token or the portal's sign-in cookie with the form's CSRF token)."""
    return {
        "/connectors/new": {"get": _page("The form for a new connector"),
                            "post": _form("Create a connector from the form", created=True)},
        "/connectors/{name}/edit": {"get": _page("The form to change a connector", _NAME),
                                    "post": _form("Change a connector from the form", _NAME)},
        "/connectors/{name}/delete": {"get": _page("Confirm deleting a connector", _NAME),
                                      "post": _form("Delete a connector (the form's confirmation)", _NAME)},
        "/connectors/{name}/run-now": {"post": _form("Run a connector now from its page", _NAME)},
    }


def openapi_part() -> dict[str, Any]:
    one = {
        "get": _op("A connector and its last runs (JSON; the steward's page with f=html)", {
            "200": {"description": "The connector", "content": {"application/json": {"schema": _CONNECTOR},
                                                                "text/html": {"schema": {"type": "string"}}}}},
            parameters=[_NAME, {"name": "f", "in": "query", "schema": {"type": "string", "enum": ["json", "html"]}},
                        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["en", "de"]}}]),
        "patch": _op("Change url, schedule, mapping or enabled", {"200": _json(_CONNECTOR, "The connector")},
                     parameters=[_NAME], requestBody={"required": True, "content": {"application/json": {"schema": {
                         "type": "object"}}}}),
        "delete": _op("Remove a connector and its run log", {"204": {"description": "Removed"}}, parameters=[_NAME]),
    }
    paths = {
        "/connectors": {
            "get": _op("The connectors the caller may publish to (JSON; the portal's list with f=html)", {"200": {
                "description": "The list", "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "connectors": {"type": "array", "items": _CONNECTOR}}}}, **_HTML}}},
                parameters=[{"name": "f", "in": "query", "schema": {"type": "string", "enum": ["json", "html"]}},
                            _LANG]),
            "post": _op("Configure a connector", {"201": _json(_CONNECTOR, "The new connector")},
                        requestBody={"required": True, "content": {"application/json": {"schema": {
                            "$ref": "#/components/schemas/ConnectorBody"}}}}),
        },
        "/connectors/{name}": one,
        "/connectors/{name}/run": {"post": _op("Run a connector now", {"200": _json(
            {"$ref": "#/components/schemas/Run"}, "The run's log entry")}, parameters=[_NAME])},
        "/ingest/{name}": {"post": {
            "tags": [TAG], "summary": "A webhook push, signed with X-Urbanos-Signature: sha256=<hex HMAC-SHA256>",
            "parameters": [_NAME, {"name": "X-Urbanos-Signature", "in": "header", "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/json": {"schema": {}}, "text/csv": {"schema": {"type": "string"}}}},
            "responses": {"200": _json({"$ref": "#/components/schemas/Run"}, "The run's log entry"), "4XX": _ERR}}},
        "/demo/gbfs/{name}": {"get": {
            "tags": [TAG], "summary": "The demo's generated GBFS system (served by `urbanos demo` only)",
            "parameters": [_NAME], "responses": {"200": _json({"type": "object"}, "A GBFS file"), "4XX": _ERR}}},
        "/demo/gtfs/{name}": {"get": {
            "tags": [TAG], "summary": "The demo's generated GTFS schedule (gtfs.zip) and GTFS-Realtime feed "
                                      "(realtime.pb), served by `urbanos demo` only",
            "parameters": [_NAME], "responses": {"200": {"description": "The feed", "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}}}, "4XX": _ERR}}},
    }
    paths.update(_portal_paths())
    return {"paths": paths, "components": {"schemas": _schemas(), "responses": {"Problem": _PROBLEM}},
            "tags": [{"name": TAG, "description": "Scheduled pulls and pushes of city data into a dataset."}]}


__all__ = ["openapi_part"]
