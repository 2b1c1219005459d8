"""The alerts' part of ``/openapi.json`` (the web layer merges it and prefixes the component names); the cockpit's
component returns it from its ``openapi`` hook (:func:`urbanos.cockpit.alerts.wiring.openapi`)."""

from __future__ import annotations

from typing import Any

TAG = "Alerts"
_PROBLEM = {"description": "An error (problem details; a bad rule names its field in errors.field), or an error page "
                          "for a browser (f=html)", "content": {
    "application/problem+json": {"schema": {"type": "object", "required": ["status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "errors": {"type": "object"}}}},
    "text/html": {"schema": {"type": "string"}}}}
_ERR = {"$ref": "#/components/responses/AlertProblem"}
_RULE = {"$ref": "#/components/schemas/AlertRule"}
_EPISODE = {"$ref": "#/components/schemas/AlertEpisode"}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
_SECURE: list[dict[str, list[str]]] = [{"bearer": []}]
_NUM = {"type": ["number", "null"]}
_TIME = {"type": ["string", "null"], "format": "date-time"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(summary: str, ok: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"tags": [TAG], "summary": summary, "security": _SECURE, "responses": {**ok, "4XX": _ERR}, **extra}


def _query(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema}


def _schemas() -> dict[str, Any]:
    threshold = {"type": ["object", "null"], "required": ["operator", "fire"], "properties": {
        "operator": {"type": "string", "enum": [">", ">=", "<", "<="]}, "fire": {"type": "number"},
        "clear": {"type": "number", "description": "Default: fire. On the clearing side of fire (hysteresis)."}}}
    channels = {"type": "object", "properties": {
        "webhook": {"type": ["string", "null"], "format": "uri"}, "mqtt": {"type": "boolean"},
        "email": {"type": "array", "maxItems": 20, "items": {"type": "string", "format": "email"}}}}
    body = {"type": "object", "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200}, "datastream": {"type": "integer"},
        "threshold": threshold, "pending_seconds": {"type": "number", "minimum": 0},
        "staleness_minutes": {"type": ["number", "null"], "exclusiveMinimum": 0}, "channels": channels,
        "enabled": {"type": "boolean"}, "rotate_secret": {"type": "boolean", "description": "PATCH only."}}}
    rule = {"type": "object", "required": ["id", "name", "datastream", "state"], "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "datastream": {"type": "integer"},
        "dataset_id": {"type": ["integer", "null"]}, "owner_org": {"type": ["string", "null"]},
        "threshold": threshold, "pending_seconds": {"type": "number"}, "staleness_minutes": _NUM,
        "channels": {"type": "object"}, "enabled": {"type": "boolean"},
        "state": {"type": "string", "enum": ["ok", "pending", "firing"]}, "no_data": {"type": "boolean"},
        "last_seen": _TIME, "last_value": _NUM, "mqtt_topic": {"type": "string"}, "editable": {"type": "boolean"},
        "created_at": _TIME, "modified_at": _TIME,
        "secret": {"type": "string", "description": "The webhook secret: in the answer of a create (or a PATCH with "
                                                    "rotate_secret) only."}}}
    delivery = {"type": "object", "properties": {
        "id": {"type": "integer"}, "event": {"type": "string", "enum": ["fired", "resolved"]},
        "channel": {"type": "string", "enum": ["webhook", "mqtt", "email"]}, "target": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": ["pending", "retrying", "delivered", "failed"]},
        "attempts": {"type": "integer"}, "last_error": {"type": ["string", "null"]}, "updated_at": _TIME}}
    episode = {"type": "object", "required": ["id", "rule", "kind", "state"], "properties": {
        "id": {"type": "integer"}, "rule": {"type": "integer"}, "rule_name": {"type": "string"},
        "datastream": {"type": "integer"}, "kind": {"type": "string", "enum": ["threshold", "nodata"]},
        "state": {"type": "string", "enum": ["firing", "resolved"]}, "started_at": _TIME, "resolved_at": _TIME,
        "start_value": _NUM, "end_value": _NUM, "deliveries": {"type": "array", "items": delivery}}}
    return {"AlertRuleBody": body, "AlertRule": rule, "AlertEpisode": episode}


def openapi_part() -> dict[str, Any]:
    body = {"required": True, "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/AlertRuleBody"}}}}
    paging = [_query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
              _query("offset", {"type": "integer", "minimum": 0})]
    html_or_json = [_query("f", {"type": "string", "enum": ["json", "html"]}),
                    _query("lang", {"type": "string", "enum": ["en", "de"]})]
    paths = {
        "/alerts": {"get": _op("The alerts page: rules and recent episodes (HTML; f=json for JSON)", {
            "200": {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}},
                                                            "application/json": {"schema": {"type": "object"}}}}},
            parameters=html_or_json)},
        "/alerts/rules": {
            "get": _op("The rules the caller may read", {"200": _json({"type": "object", "properties": {
                "rules": {"type": "array", "items": _RULE}}}, "The rules")},
                parameters=[_query("datastream", {"type": "integer"}), *paging]),
            "post": _op("Create a rule (publisher of the Datastream's organisation)", {
                "201": _json(_RULE, "The new rule, with its webhook secret")}, requestBody=body)},
        "/alerts/rules/{id}": {
            "get": _op("One rule", {"200": _json(_RULE, "The rule")}, parameters=[_ID]),
            "patch": _op("Change a rule (the keys given)", {"200": _json(_RULE, "The rule")}, parameters=[_ID],
                         requestBody=body),
            "delete": _op("Delete a rule and its history", {"204": {"description": "Deleted"}}, parameters=[_ID])},
        "/alerts/episodes": {"get": _op("Alert episodes, newest first", {"200": _json({"type": "object", "properties": {
            "episodes": {"type": "array", "items": _EPISODE}}}, "The episodes")}, parameters=[
                _query("rule", {"type": "integer"}), _query("state", {"type": "string", "enum": ["firing", "resolved"]}),
                _query("kind", {"type": "string", "enum": ["threshold", "nodata"]}),
                _query("since", {"type": "string", "format": "date-time"}), *paging])},
        "/alerts/episodes/{id}": {"get": _op("One episode with its deliveries (HTML for browsers)", {
            "200": {"description": "The episode", "content": {"application/json": {"schema": _EPISODE},
                                                              "text/html": {"schema": {"type": "string"}}}}},
            parameters=[_ID, *html_or_json])},
    }
    return {"paths": paths, "components": {"schemas": _schemas(), "responses": {"AlertProblem": _PROBLEM}},
            "tags": [{"name": TAG, "description": "Threshold and no-data alerts on SensorThings Datastreams."}]}


__all__ = ["openapi_part", "TAG"]
