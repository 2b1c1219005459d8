"""The showcase pages' part of ``/openapi.json`` (the ``ckanext_showcase_*`` actions are described with the CKAN Action
API's ``/api/3/action/{action}``)."""

from __future__ import annotations

from typing import Any

from urbanos.cockpit.showcases.routes import ROUTES

TAG = "Showcases"
_S = {"type": "string"}
_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}
_LANG = {"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["en", "de"]}}


def _op(path: str, handler: Any) -> dict[str, Any]:
    params: list[dict[str, Any]] = [_LANG]
    responses: dict[str, Any] = {"200": {"description": "The page", "content": {"text/html": {"schema": _S}}},
                                 "404": {"description": "No such showcase, or a dataset the viewer may not read",
                                         "content": _PROBLEM}}
    if "{name}" in path:
        params.append({"name": "name", "in": "path", "required": True, "schema": _S})
    else:
        params.append({"name": "dataset", "in": "query", "required": False, "schema": _S,
                       "description": "Only the applications using this dataset (its name)."})
        responses["400"] = {"description": "An empty or overlong dataset name", "content": _PROBLEM}
    return {"operationId": f"showcases_get_{handler.__name__}", "tags": [TAG],
            "summary": (handler.__doc__ or "").strip().split("\n")[0], "parameters": params, "responses": responses}


def openapi_part() -> dict[str, Any]:
    paths = {path: {method.lower(): _op(path, handler)} for method, path, handler in ROUTES}
    return {"paths": paths, "tags": [{"name": TAG, "description": "Applications and showcases built with the "
                                                                  "platform's data, and the datasets they use."}]}
