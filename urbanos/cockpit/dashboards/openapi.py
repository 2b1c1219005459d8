"""The dashboards' part of ``/openapi.json``, made from the routes they serve (:data:`ROUTES`): HTML pages, the
publisher's forms and each panel's values as CSV."""

from __future__ import annotations

import re
from typing import Any

from urbanos.cockpit.dashboards.routes import ROUTES

TAG = "Dashboards"
_S = {"type": "string"}
_HTML = {"text/html": {"schema": _S}}
_CSV = {"text/csv": {"schema": _S}}
_PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
# an error is a page for a browser, else problem details (an unknown dashboard answers problem details to a form post)
_ERRORS = {**_HTML, "application/problem+json": {"schema": {"type": "object"}}}


def _params(path: str) -> list[dict[str, Any]]:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}
              for n in _PATH_PARAM.findall(path)]
    params.append({"name": "lang", "in": "query", "required": False, "schema": {"type": "string", "enum": ["en", "de"]}})
    if path.endswith("{slug}"):
        params.append({"name": "sensor", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 20}})
    return params


def _op(method: str, path: str, handler: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": f"dashboards_{method.lower()}_{handler.__name__}", "tags": [TAG],
                          "summary": (handler.__doc__ or "").strip().split("\n")[0] or f"Dashboards {path}",
                          "parameters": _params(path)}
    if method == "GET":
        content = _CSV if "/panels/" in path else _HTML
        op["responses"] = {"200": {"description": "The page" if content is _HTML else "The panel's values",
                                   "content": content},
                           "4XX": {"description": "An error", "content": _ERRORS}}
        return op
    op["requestBody"] = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "properties": {"csrf": _S, "slug": _S, "organization": _S, "definition": _S}}}}}
    op["responses"] = {"200": {"description": "The form again", "content": _HTML},
                       "303": {"description": "Done; Location names the next page"},
                       "4XX": {"description": "The form again with the reason, or an error", "content": _ERRORS}}
    return op


def openapi_part() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path, handler in ROUTES:
        plain = _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", path)
        paths.setdefault(plain, {})[method.lower()] = _op(method, plain, handler)
    return {"paths": paths, "tags": [{"name": TAG, "description": "Live dashboards over SensorThings and OGC API "
                                                                  "Features data, and their forms for publishers."}]}
