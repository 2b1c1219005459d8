"""The OpenAPI 3.0 definition of /ogcapi/ (served at /ogcapi/api as application/vnd.oai.openapi+json;version=3.0)."""

from __future__ import annotations

from typing import Any

from urbanos.features.ogcapi import crs as crsmod


def _param(name: str, schema: dict[str, Any], desc: str, *, required: bool = False, where: str = "query",
           style: str | None = None, explode: bool | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": where, "description": desc, "required": required, "schema": schema}
    if style:
        p["style"] = style
    if explode is not None:
        p["explode"] = explode
    return p


def _resp(desc: str, media: dict[str, Any]) -> dict[str, Any]:
    return {"description": desc, "content": media}


def _paths() -> dict[str, Any]:
    """The operations, by path below /ogcapi."""
    err = {"$ref": "#/components/responses/Error"}
    json_or_html = {"application/json": {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}
    geojson_or_html = {
        "application/geo+json": {"schema": {"type": "object"}},
        "text/html": {"schema": {"type": "string"}},
        "text/csv": {"schema": {"type": "string"}},
    }
    fmt = {"$ref": "#/components/parameters/f"}
    cid = {"$ref": "#/components/parameters/collectionId"}
    fid = {"$ref": "#/components/parameters/featureId"}
    feature_body = {"required": True, "content": {"application/geo+json": {"schema": {"type": "object"}}}}
    secured: list[dict[str, list[str]]] = [{"bearer": []}]
    paths: dict[str, Any] = {
        "/": {"get": {"operationId": "getLandingPage", "summary": "Landing page", "tags": ["Capabilities"],
                      "parameters": [fmt], "responses": {"200": _resp("The landing page", json_or_html), "400": err}}},
        "/conformance": {"get": {"operationId": "getConformance", "summary": "Conformance classes", "tags": ["Capabilities"],
                                 "parameters": [fmt], "responses": {"200": _resp("The conformance classes", json_or_html), "400": err}}},
        "/api": {"get": {"operationId": "getApi", "summary": "This API definition", "tags": ["Capabilities"],
                         "parameters": [fmt],
                         "responses": {"200": _resp("The OpenAPI 3.0 document", {
                             "application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}},
                             "text/html": {"schema": {"type": "string"}}}), "400": err}}},
        "/collections": {"get": {"operationId": "getCollections", "summary": "The feature collections", "tags": ["Capabilities"],
                                 "parameters": [fmt], "responses": {"200": _resp("The collections", json_or_html), "400": err}}},
        "/collections/{collectionId}": {"get": {
            "operationId": "describeCollection", "summary": "One feature collection", "tags": ["Capabilities"],
            "parameters": [cid, fmt], "responses": {"200": _resp("The collection", json_or_html), "400": err, "404": err}}},
        "/collections/{collectionId}/queryables": {"get": {
            "operationId": "getQueryables", "summary": "The queryable properties (JSON Schema)", "tags": ["Capabilities"],
            "parameters": [cid, fmt],
            "responses": {"200": _resp("The queryables", {"application/schema+json": {"schema": {"type": "object"}},
                                                          "text/html": {"schema": {"type": "string"}}}), "400": err,
                          "404": err}}},
        "/collections/{collectionId}/items": {
            "get": {
                "operationId": "getFeatures", "summary": "Features of a collection", "tags": ["Data"],
                "parameters": [cid] + [{"$ref": f"#/components/parameters/{n}"} for n in (
                    "limit", "offset", "after", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang", "filter-crs", "sortby",
                    "properties", "skipGeometry", "f")],
                "responses": {"200": {**_resp("The features", geojson_or_html), "headers": {
                    "Content-Crs": {"description": "The CRS of the geometries", "schema": {"type": "string"}}}},
                    "400": err, "404": err},
            },
            "post": {"operationId": "createFeature", "summary": "Add a feature (Part 4)", "tags": ["Data"], "security": secured,
                     "parameters": [cid, {"$ref": "#/components/parameters/content-crs"}], "requestBody": feature_body,
                     "responses": {"201": {"description": "Created; Location names the new feature"}, "400": err, "401": err,
                                   "403": err, "404": err}},
        },
        "/collections/{collectionId}/items/{featureId}": {
            "get": {"operationId": "getFeature", "summary": "One feature", "tags": ["Data"],
                    "parameters": [cid, fid, {"$ref": "#/components/parameters/crs"}, fmt],
                    "responses": {"200": {**_resp("The feature", {"application/geo+json": {"schema": {"type": "object"}},
                                                                 "text/html": {"schema": {"type": "string"}}}),
                                          "headers": {"Content-Crs": {"description": "The CRS of the geometry", "schema": {"type": "string"}}}},
                                  "400": err, "404": err}},
            "put": {"operationId": "replaceFeature", "summary": "Replace a feature (Part 4)", "tags": ["Data"], "security": secured,
                    "parameters": [cid, fid, {"$ref": "#/components/parameters/content-crs"}], "requestBody": feature_body,
                    "responses": {"204": {"description": "Replaced"}, "400": err, "401": err, "403": err, "404": err}},
            "patch": {"operationId": "updateFeature", "summary": "Change some properties of a feature (Part 4)", "tags": ["Data"],
                      "security": secured, "parameters": [cid, fid, {"$ref": "#/components/parameters/content-crs"}],
                      "requestBody": {"required": True, "content": {"application/merge-patch+json": {"schema": {"type": "object"}},
                                                                     "application/geo+json": {"schema": {"type": "object"}}}},
                      "responses": {"204": {"description": "Updated"}, "400": err, "401": err, "403": err, "404": err}},
            "delete": {"operationId": "deleteFeature", "summary": "Delete a feature (Part 4)", "tags": ["Data"], "security": secured,
                       "parameters": [cid, fid], "responses": {"204": {"description": "Deleted"}, "401": err, "403": err, "404": err}},
        },
    }
    return paths


def _parameters(default_limit: int, max_limit: int, collection_ids: list[str]) -> dict[str, Any]:
    """The parameters the operations refer to (``#/components/parameters/…``)."""
    crs_schema = {"type": "string", "format": "uri", "enum": list(crsmod.SUPPORTED)}
    return {
        "f": _param("f", {"type": "string", "enum": ["json", "html", "csv"]}, "The response format.", style="form", explode=False),
        "collectionId": _param("collectionId", {"type": "string", "enum": collection_ids} if collection_ids else {"type": "string"},
                               "The collection id.", required=True, where="path"),
        "featureId": _param("featureId", {"type": "string"}, "The feature id.", required=True, where="path"),
        "limit": _param("limit", {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
                        "The number of features per page (larger values are reduced to the maximum).", style="form", explode=False),
        "offset": _param("offset", {"type": "integer", "minimum": 0, "default": 0}, "The number of features to skip.",
                         style="form", explode=False),
        "after": _param("after", {"type": "integer", "minimum": 0}, "Key-set paging: only features whose id is above this one "
                        "(next links carry it; not with sortby). When given, offset only numbers the page.",
                        style="form", explode=False),
        "bbox": _param("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
                       "Only features that intersect the box (minx,miny,maxx,maxy in bbox-crs; a west edge east of the "
                       "east edge crosses the antimeridian).", style="form", explode=False),
        "bbox-crs": _param("bbox-crs", crs_schema, "The CRS of bbox (default CRS84).", style="form", explode=False),
        "datetime": _param("datetime", {"type": "string"},
                           "An instant, a date, or an interval a/b with open ends '..' and ISO 8601 durations.", style="form", explode=False),
        "crs": _param("crs", crs_schema, "The CRS of the returned geometries (default CRS84).", style="form", explode=False),
        "content-crs": _param("Content-Crs", {"type": "string"}, "The CRS of the geometry in the body (default CRS84).", where="header"),
        "filter": _param("filter", {"type": "string"}, "A CQL2 expression.", style="form", explode=False),
        "filter-lang": _param("filter-lang", {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"},
                              "The language of filter.", style="form", explode=False),
        "filter-crs": _param("filter-crs", crs_schema, "The CRS of geometries in filter (default CRS84).", style="form", explode=False),
        "sortby": _param("sortby", {"type": "array", "items": {"type": "string"}},
                         "Sort keys: property names, '-' prefix for descending.", style="form", explode=False),
        "properties": _param("properties", {"type": "array", "items": {"type": "string"}},
                             "Only these properties.", style="form", explode=False),
        "skipGeometry": _param("skipGeometry", {"type": "boolean", "default": False}, "Leave out the geometries.",
                               style="form", explode=False),
    }


def _components(default_limit: int, max_limit: int, collection_ids: list[str]) -> dict[str, Any]:
    return {
        "parameters": _parameters(default_limit, max_limit, collection_ids),
        "responses": {"Error": {"description": "An error in the OGC exception format", "content": {"application/json": {
            "schema": {"type": "object", "required": ["code"], "properties": {
                "code": {"type": "string"}, "description": {"type": "string"}, "detail": {}}}}}}},
    }


TAGS = [{"name": "Capabilities"}, {"name": "Data"}]
PLATFORM_TAG = "OGC API Features"


def document(base: str, title: str, version: str, default_limit: int, max_limit: int, collection_ids: list[str]) -> dict[str, Any]:
    """The OpenAPI 3.0 document of /ogcapi/ at ``base``: ``collection_ids`` are the collections the caller may see."""
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version, "description": "OGC API Features (Parts 1–4) with CQL2 filtering.",
                 "license": {"name": "Apache-2.0"}},
        "servers": [{"url": f"{base}/ogcapi"}],
        "tags": TAGS,
        "paths": _paths(),
        "components": {**_components(default_limit, max_limit, collection_ids),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def platform_part(default_limit: int, max_limit: int) -> dict[str, Any]:
    """The same operations as part of the platform's ``/openapi.json``: paths below ``/ogcapi``, any collection id."""
    paths = {f"/ogcapi{path}": item for path, item in _paths().items()}
    for item in paths.values():
        for op in item.values():
            op["tags"] = [PLATFORM_TAG]
    return {"tags": [{"name": PLATFORM_TAG, "description": "OGC API Features (Parts 1–4) with CQL2 filtering; "
                      "errors in the OGC exception format {code, description}."}],
            "paths": paths, "components": _components(default_limit, max_limit, [])}


__all__ = ["document", "platform_part", "TAGS", "PLATFORM_TAG"]
