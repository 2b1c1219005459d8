"""The usage cockpit's part of ``/openapi.json``, made from the routes it serves (:data:`ROUTES`)."""

from __future__ import annotations

from typing import Any

from urbanos.cockpit.usage.routes import ROUTES

TAG = "Usage"
_S = {"type": "string"}
_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
_PERIOD = [
    {"name": "days", "in": "query", "required": False, "schema": {"type": "string", "enum": ["7", "30", "90"]},
     "description": "The last 7, 30 or 90 days (30 by default); not with since/until."},
    {"name": "since", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
    {"name": "until", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
]


def _op(path: str, handler: Any) -> dict[str, Any]:
    params = list(_PERIOD)
    if path.endswith(".csv"):
        content: dict[str, Any] = {"text/csv": {"schema": _S}}
    elif path.endswith(".json"):
        content = {"application/json": {"schema": {"type": "object"}}}
    else:
        content = {"text/html": {"schema": _S}, "application/json": {"schema": {"type": "object"}}}
        params += [{"name": "f", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json"]}},
                   {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["en", "de"]}}]
    responses: dict[str, Any] = {"200": {"description": "The usage figures", "content": content},
                                 "400": {"description": "A bad period, with the reason", "content": _PROBLEM}}
    if not path.startswith("/cockpit/public"):
        responses["401"] = {"description": "Not signed in", "content": _PROBLEM}
        responses["403"] = {"description": "Not a steward or admin", "content": _PROBLEM}
    return {"operationId": f"usage_get_{handler.__name__}", "tags": [TAG],
            "summary": (handler.__doc__ or "").strip().split("\n")[0], "parameters": params, "responses": responses}


def openapi_part() -> dict[str, Any]:
    paths = {path: {method.lower(): _op(path, handler)} for method, path, handler in ROUTES}
    return {"paths": paths, "tags": [{"name": TAG, "description": "How datasets and APIs are used: anonymous "
                                                                  "aggregates per day, dataset, API and application."}]}
