"""The planning projects' part of ``/openapi.json``."""

from __future__ import annotations

from typing import Any

TAG = "Planning projects"
_ERR = {"$ref": "#/components/responses/PlanningProblem"}
_PROBLEM = {"description": "An error (problem details)", "content": {"application/problem+json": {"schema": {
    "type": "object", "required": ["status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "errors": {"type": "object"}}}},
    "text/html": {"schema": {"type": "string"}}}}
_NAME = {"name": "name", "in": "path", "required": True, "description": "The project's name",
         "schema": {"type": "string"}}
_ID = {"name": "id", "in": "path", "required": True, "description": "The contribution's id",
       "schema": {"type": "integer", "minimum": 0}}
_F = [{"name": "f", "in": "query", "schema": {"type": "string", "enum": ["json", "html"]}},
      {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["en", "de"]}}]
_FILTERS = [{"name": "category", "in": "query", "schema": {"type": "string"}},
            {"name": "bbox", "in": "query", "description": "minLon,minLat,maxLon,maxLat (WGS84)",
             "schema": {"type": "string"}},
            {"name": "rubric", "in": "query", "description": "A rubric (sub-category) of the project",
             "schema": {"type": "string"}}]
_OBJ = {"type": "object"}
_GEOM = {"type": "object", "required": ["type", "coordinates"], "properties": {
    "type": {"type": "string"}, "coordinates": {"type": "array"}}}


def _ok(code: str, description: str, media: str = "application/json", html: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {media: {"schema": _OBJ if "json" in media else {"type": "string"}}}
    if html:
        content["text/html"] = {"schema": {"type": "string"}}
    return {code: {"description": description, "content": content}}


def _op(summary: str, ok: dict[str, Any], secure: bool = True, body: dict[str, Any] | None = None,
        params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"tags": [TAG], "summary": summary, "responses": {**ok, "4XX": _ERR},
                          "parameters": params or []}
    if secure:
        op["security"] = [{"bearer": []}]
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def openapi_part() -> dict[str, Any]:
    project = {"type": "object", "required": ["name", "title", "owner_org", "area", "starts_at", "ends_at",
                                              "categories"], "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9-]+$"}, "title": {"type": "string"},
        "description": {"type": "string"}, "owner_org": {"type": "string"}, "area": _GEOM,
        "starts_at": {"type": "string", "format": "date-time"}, "ends_at": {"type": "string", "format": "date-time"},
        "categories": {"type": "array", "items": {"type": "string"}},
        "rubrics": {"type": "object", "description": "The rubrics (sub-categories) of each category",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}}},
        "location_required": {"type": "boolean"},
        "boundaries": {"type": "string", "description": "The OGC API collection of districts for the heat map"},
        "closed": {"type": "boolean"}}}
    contribution = {"type": "object", "required": ["title", "text", "category"], "properties": {
        "title": {"type": "string", "maxLength": 200}, "text": {"type": "string", "maxLength": 4000},
        "category": {"type": "string"}, "rubric": {"type": "string", "description": "A rubric of the category"},
        "geometry": _GEOM}}
    base = "/participation/projects/{name}"
    paths = {
        "/participation/projects": {
            "get": _op("The planning projects (HTML for browsers)", _ok("200", "The projects", html=True), False,
                       params=_F),
            "post": _op("Create a project (steward of its organisation)", _ok("201", "The project"), body=project)},
        base: {
            "get": _op("A project (HTML: the page with the map, the contributions and the form)",
                       _ok("200", "The project", html=True), False, params=[_NAME, *_F, _FILTERS[0], _FILTERS[2]]),
            "patch": _op("Change or close a project (steward of its organisation)", _ok("200", "The project"),
                         body={"type": "object", "properties": project["properties"]}, params=[_NAME])},
        base + "/contributions": {
            "get": _op("The visible contributions (authors only as per-project labels)",
                       _ok("200", "The contributions"), False, params=[_NAME, *_FILTERS]),
            "post": _op("Contribute (any signed-in token, during the period; a point or line inside the area)",
                        _ok("201", "The contribution"), body=contribution, params=[_NAME])},
        base + "/contributions.geojson": {"get": _op("The contributions as GeoJSON (no personal data)",
                                                     _ok("200", "A FeatureCollection", "application/geo+json"),
                                                     False, params=[_NAME, *_FILTERS])},
        base + "/contributions.csv": {"get": _op("The contributions as CSV (no personal data)",
                                                 _ok("200", "CSV", "text/csv"), False, params=[_NAME, *_FILTERS])},
        base + "/heatmap.json": {"get": _op(
            "Contribution counts and rating sums per district of the project's boundary collection",
            _ok("200", "A FeatureCollection of districts", "application/geo+json"), False, params=[_NAME])},
        base + "/contributions/{id}": {
            "get": _op("A contribution with its comment thread (the project's stewards: also hidden ones, with the "
                       "reason)", _ok("200", "The contribution"), False, params=[_NAME, _ID]),
            "patch": _op("Its author changes her contribution while the project is open", _ok("200", "The contribution"),
                         body={"type": "object", "properties": contribution["properties"]}, params=[_NAME, _ID])},
        base + "/hidden": {"get": _op("What moderation hid: contributions and comments with the reasons (the project's "
                                      "stewards)", _ok("200", "The hidden items"), params=[_NAME])},
        base + "/contributions/{id}/comments": {"post": _op(
            "Comment on a contribution or reply to a comment (parent)", _ok("201", "The comment"), body={
                "type": "object", "required": ["text"], "properties": {
                    "text": {"type": "string", "maxLength": 4000}, "parent": {"type": "integer"}}},
            params=[_NAME, _ID])},
        base + "/contributions/{id}/rating": {"put": _op(
            "Rate +1 or -1 (one rating per token; a second replaces the first)", _ok("200", "The rating"), body={
                "type": "object", "required": ["value"], "properties": {"value": {"type": "integer",
                                                                                   "enum": [1, -1]}}},
            params=[_NAME, _ID])},
        base + "/contributions/{id}/moderation": {"post": _op(
            "Hide (or show again) a contribution or one of its comments, with a reason (project's stewards)",
            _ok("200", "The moderation"), body={"type": "object", "properties": {
                "hidden": {"type": "boolean"}, "reason": {"type": "string"}, "comment": {"type": "integer"}}},
            params=[_NAME, _ID])},
        base + "/contribute": {"post": {
            "tags": [TAG], "summary": "The project page's form (form-encoded: csrf, title, text, category, rubric, "
                                     "lat and lon, or shape=line and line: one \"latitude, longitude\" a line)",
            "parameters": [_NAME], "requestBody": {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": _OBJ}}},
            "responses": {"303": {"description": "Stored: back to the project page"},
                          "200": {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}},
                          "4XX": _ERR}}},
        base + "/unhide": {"post": {
            "tags": [TAG], "summary": "The stewards' form to show a hidden item again (form-encoded: csrf, "
                                     "contribution, comment)",
            "parameters": [_NAME], "requestBody": {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": _OBJ}}},
            "responses": {"303": {"description": "Shown again: back to the project page"}, "4XX": _ERR}}},
    }
    return {"paths": paths, "components": {"responses": {"PlanningProblem": _PROBLEM}},
            "tags": [{"name": TAG, "description": "DIPAS-style map contributions on planning projects."}]}


__all__ = ["openapi_part"]
