"""The catalogue's part of ``/openapi.json``: the CKAN Action API (one path per action, from the action table),
uploaded resource files, the DCAT-AP documents and the portal's pages.

Actions are described one path each (``/api/3/action/package_show``), which gives client generators one method
per action with its own parameters; ``/api/3/action/{name}`` serves them all. Read actions take GET with query
parameters or POST with a JSON body; write actions take POST (JSON, or multipart with an ``upload`` file for
resources). Errors are CKAN's envelope ``{"success": false, "error": {"__type": ..., "message": ...}}``.
"""

from __future__ import annotations

import re
from typing import Any

from urbanos.catalog.actions import READ, WRITE
from urbanos.catalog.dcat.mapping import FORMATS_RDF, PROFILES
from urbanos.catalog.portal.routes import FACETS, SORTS
from urbanos.catalog.portal.routes import ROUTES as PORTAL_ROUTES

_S = {"type": "string"}
_I = {"type": "integer"}
_B = {"type": "boolean"}
_J = {"type": "string", "description": "A JSON list"}
_ID = {"id": {**_S, "description": "The id or name."}}
_LIST = {"limit": {**_I, "minimum": 0}, "offset": {**_I, "minimum": 0}}
_SORTED = {**_LIST, "all_fields": _B, "sort": {**_S, "description": "name, title or package_count, with asc or desc"}}
_SEARCH = {"q": _S, "fq": _S, "fq_list": _J, "rows": {**_I, "minimum": 0, "maximum": 1000},
           "start": {**_I, "minimum": 0}, "sort": {**_S, "description": "e.g. metadata_modified desc"},
           "facet.field": _J, "facet.limit": _I, "facet.mincount": _I, "include_private": _B,
           "ext_bbox": {**_S, "description": "minx,miny,maxx,maxy"}}
_PACKAGE = {"name": _S, "title": _S, "notes": _S, "owner_org": _S, "private": _B, "license_id": _S,
            "access_level": {"type": "string", "enum": ["open", "registered", "internal", "confidential"]},
            "url": _S, "version": _S, "author": _S, "author_email": _S, "maintainer": _S, "maintainer_email": _S,
            "state": _S, "tags": {"type": "array", "items": {"type": "object", "properties": {"name": _S}}},
            "groups": {"type": "array", "items": {"type": "object", "properties": {"name": _S, "id": _S}}},
            "extras": {"type": "array", "items": {"type": "object", "properties": {"key": _S, "value": _S}}},
            "resources": {"type": "array", "items": {"type": "object"}}}
_RESOURCE = {"package_id": _S, "name": _S, "description": _S, "format": _S, "url": _S, "mimetype": _S}
_ORG = {"name": _S, "title": _S, "description": _S, "image_url": _S}
_MEMBER = {"id": _S, "object": _S, "object_type": _S, "capacity": _S}
_ORG_MEMBER = {"id": _S, "username": _S, "role": {"type": "string", "enum": ["member", "editor", "admin"]}}

# the parameters of each action (its query parameters on GET, the members of its JSON body on POST)
ACTION_PARAMS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "status_show": ({}, ()),
    "package_list": (_LIST, ()),
    "package_show": ({**_ID, "name_or_id": _S}, ()),
    "package_search": (_SEARCH, ()),
    "organization_list": (_SORTED, ()),
    "organization_show": ({**_ID, "include_datasets": _B}, ("id",)),
    "group_list": (_SORTED, ()),
    "group_show": ({**_ID, "include_datasets": _B}, ("id",)),
    "tag_list": ({"query": _S, "all_fields": _B}, ()),
    "license_list": ({}, ()),
    "resource_show": (_ID, ("id",)),
    "quality_show": (_ID, ("id",)),
    "inventory_list": ({}, ()),
    "usage_show": ({**_ID, "kind": _S}, ()),
    "help_show": ({"name": _S}, ("name",)),
    "member_list": ({**_ID, "object_type": _S, "capacity": _S}, ("id",)),
    "organization_list_for_user": ({"id": _S, "permission": _S}, ()),
    "package_create": (_PACKAGE, ("name",)),
    "package_update": ({**_ID, **_PACKAGE}, ("id",)),
    "package_patch": ({**_ID, **_PACKAGE}, ("id",)),
    "package_delete": (_ID, ("id",)),
    "dataset_purge": (_ID, ("id",)),
    "resource_create": (_RESOURCE, ("package_id",)),
    "resource_update": ({**_ID, **_RESOURCE}, ("id",)),
    "resource_patch": ({**_ID, **_RESOURCE}, ("id",)),
    "resource_delete": (_ID, ("id",)),
    "organization_create": (_ORG, ("name",)),
    "group_create": (_ORG, ("name",)),
    "member_create": (_MEMBER, ("id", "object", "object_type")),
    "member_delete": (_MEMBER, ("id", "object", "object_type")),
    "organization_member_create": (_ORG_MEMBER, ("id", "username")),
    "organization_member_delete": ({"id": _S, "username": _S}, ("id", "username")),
}
_UPLOADS = ("resource_create", "resource_update", "resource_patch")


def _err() -> dict[str, Any]:
    ref = {"$ref": "#/components/responses/CkanError"}
    return {"400": ref, "403": ref, "404": ref, "409": ref, "4XX": ref}


def _action_ops(name: str, props: dict[str, Any], required: tuple[str, ...], write: bool) -> dict[str, Any]:
    ok = {"200": {"description": "CKAN's envelope with the action's result",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CkanSuccess"}}}}, **_err()}
    body_schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        body_schema["required"] = list(required)
    content: dict[str, Any] = {"application/json": {"schema": body_schema}}
    if name in _UPLOADS:
        content["multipart/form-data"] = {"schema": {"type": "object", "properties": {
            **{k: v for k, v in props.items() if v.get("type") in ("string", "integer", "boolean")},
            "upload": {"type": "string", "format": "binary"}}}}
    item: dict[str, Any] = {"post": {
        "operationId": f"ckan_{name}", "summary": f"CKAN action {name}", "tags": ["CKAN Action API"],
        "security": [{"bearer": []}, {}], "requestBody": {"required": bool(required), "content": content},
        "responses": ok}}
    if not write:
        item["get"] = {"operationId": f"ckan_{name}_get", "summary": f"CKAN action {name} (query parameters)",
                       "tags": ["CKAN Action API"], "security": [{"bearer": []}, {}],
                       "parameters": [{"name": k, "in": "query", "required": k in required, "schema": v}
                                      for k, v in props.items()],
                       "responses": ok}
    return item


def _actions() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name in sorted({*READ, *WRITE}):
        props, required = ACTION_PARAMS.get(name, ({}, ()))
        paths[f"/api/3/action/{name}"] = _action_ops(name, props, required, name in WRITE)
    return paths


def _dcat() -> dict[str, Any]:
    problem = {"$ref": "#/components/responses/Problem"}
    profile = {"name": "profile", "in": "query", "required": False, "description": "The DCAT profile.",
               "schema": {"type": "string", "enum": list(PROFILES)}}
    paging = [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
              {"name": "page_size", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
              {"name": "q", "in": "query", "required": False, "description": "Search text (as package_search).",
               "schema": _S},
              {"name": "fq", "in": "query", "required": False, "description": "Filter query (as package_search).",
               "schema": _S}]
    name = {"name": "name", "in": "path", "required": True, "description": "The dataset's name or id.",
            "schema": {"type": "string", "pattern": "^[^/.]+$"}}
    paths: dict[str, Any] = {}
    for fmt, (_, media) in FORMATS_RDF.items():
        rdf = {media.split(";")[0]: {"schema": {"type": ["object", "array"]} if fmt == "jsonld" else {"type": "string"}}}
        paths[f"/catalog.{fmt}"] = {"get": {
            "operationId": f"dcat_catalog_{fmt}", "summary": f"The DCAT-AP catalogue ({fmt}, Hydra paged)",
            "tags": ["DCAT-AP"], "parameters": [profile, *paging],
            "responses": {"200": {"description": "The catalogue page", "content": rdf}, "400": problem,
                          "404": problem, "4XX": problem}}}
        paths[f"/dataset/{{name}}.{fmt}"] = {"get": {
            "operationId": f"dcat_dataset_{fmt}", "summary": f"One dataset in DCAT-AP ({fmt})", "tags": ["DCAT-AP"],
            "parameters": [name, profile],
            "responses": {"200": {"description": "The dataset", "content": rdf}, "400": problem, "404": problem,
                          "4XX": problem}}}
    return paths


def _page(op: str, summary: str, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    html = {"text/html": {"schema": {"type": "string"}}}
    return {"operationId": op, "summary": summary, "tags": ["Portal"], "parameters": params or [],
            "responses": {"200": {"description": "The page", "content": html},
                          "4XX": {"description": "An error page", "content": html}}}


def _q(n: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": n, "in": "query", "required": False, "schema": schema}


_SEARCH_PAGE = [_q("q", {"type": "string", "maxLength": 500}), _q("sort", {"type": "string", "enum": list(SORTS)}),
                _q("page", {"type": "integer", "minimum": 1, "maximum": 100000}),
                *[_q(f, {"type": "string"}) for f in FACETS]]
# what the portal's pages take beyond their path parameters (every page also takes lang)
_PAGE_QUERY: dict[str, list[dict[str, Any]]] = {
    "/datasets": _SEARCH_PAGE, "/organizations/{name}": _SEARCH_PAGE, "/datasets/{name}": [_q("imported", _S)],
    "/signin": [_q("next", _S)], "/datasets/{name}/imports/{rid}": [_q("n", {"type": "integer"})],
}
_HTML = {"text/html": {"schema": {"type": "string"}}}
_SPECIAL: dict[str, dict[str, Any]] = {
    "/datasets/{name}/preview/{collection}.geojson": {"application/geo+json": {"schema": {"type": "object"}}},
    "/favicon.ico": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
}


def _portal_op(method: str, path: str, handler: Any) -> dict[str, Any]:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}
              for n in re.findall(r"\{(\w+)\}", path)]
    params += [_q("lang", {"type": "string"}), *_PAGE_QUERY.get(path, [])]
    op: dict[str, Any] = {"operationId": f"portal_{method.lower()}_{handler.__name__}",
                          "summary": (handler.__doc__ or "").strip().split("\n")[0] or f"Portal page {path}",
                          "tags": ["Portal"], "parameters": params}
    if method == "GET":
        op["responses"] = {"200": {"description": "The page", "content": _SPECIAL.get(path, _HTML)},
                           "4XX": {"description": "An error page", "content": _HTML}}
        return op
    form = "multipart/form-data" if path.endswith("/upload") else "application/x-www-form-urlencoded"
    op["requestBody"] = {"required": True, "content": {form: {"schema": {"type": "object", "properties": {
        "csrf": _S, **({"file": {"type": "string", "format": "binary"}, "title": _S} if form.startswith("multipart")
                       else {})}}}}}
    op["responses"] = {"200": {"description": "The form again", "content": _HTML},
                       "303": {"description": "Done; Location names the next page"},
                       "4XX": {"description": "The form again, with the reason", "content": _HTML}}
    return op


def _portal() -> dict[str, Any]:
    """The portal's pages, from the routes it serves (:data:`urbanos.catalog.portal.routes.ROUTES`)."""
    paths: dict[str, Any] = {}
    for method, path, handler in PORTAL_ROUTES:
        paths.setdefault(path, {})[method.lower()] = _portal_op(method, path, handler)
    return paths


def _download() -> dict[str, Any]:
    def path(n: str) -> dict[str, Any]:
        return {"name": n, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[^/]+$"}}

    return {"/dataset/{name}/resource/{rid}/download/{filename}": {"get": {
        "operationId": "catalog_resource_download", "summary": "Download an uploaded resource file (access checked)",
        "tags": ["CKAN Action API"], "parameters": [path("name"), path("rid"), path("filename")],
        "responses": {"200": {"description": "The file", "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}},
            "4XX": {"$ref": "#/components/responses/Problem"}}}}}


def _components() -> dict[str, Any]:
    return {
        "schemas": {
            "CkanSuccess": {"type": "object", "required": ["success", "result"], "properties": {
                "help": _S, "success": {"const": True}, "result": {}}},
            "CkanError": {"type": "object", "required": ["success", "error"], "properties": {
                "help": _S, "success": {"const": False}, "error": {"type": "object", "required": ["__type"],
                                                                   "properties": {"__type": _S, "message": _S}}}},
        },
        "responses": {
            "CkanError": {"description": "CKAN's error envelope", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/CkanError"}}}},
            "Problem": {"description": "An error (problem details)", "content": {"application/problem+json": {
                "schema": {"type": "object", "required": ["status", "detail"], "properties": {
                    "status": _I, "detail": _S, "title": _S, "type": _S, "code": _S}}}}},
        },
    }


def openapi_part() -> dict[str, Any]:
    return {
        "tags": [{"name": "CKAN Action API", "description": "CKAN 2.10 Action API (also at /api/action/...)."},
                 {"name": "DCAT-AP", "description": "The catalogue as DCAT-AP 3 (or DCAT-AP.de) RDF."},
                 {"name": "Portal", "description": "The transparency portal's pages (HTML)."}],
        "paths": {**_actions(), **_download(), **_dcat(), **_portal()},
        "components": _components(),
    }


__all__ = ["openapi_part", "ACTION_PARAMS"]
