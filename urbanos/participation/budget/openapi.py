"""The budgets' part of ``/openapi.json``."""

from __future__ import annotations

from typing import Any

TAG = "Participatory budgets"
_ERR = {"$ref": "#/components/responses/BudgetProblem"}
_PROBLEM = {"description": "An error (problem details)", "content": {"application/problem+json": {"schema": {
    "type": "object", "required": ["status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "errors": {"type": "object"}}}},
    "text/html": {"schema": {"type": "string"}}}}
_REF = {"name": "name", "in": "path", "required": True, "description": "The budget's name (or id)",
        "schema": {"type": "string"}}
_PID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}
_F = [{"name": "f", "in": "query", "schema": {"type": "string", "enum": ["json", "html"]}},
      {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["en", "de"]}}]
_OBJ = {"type": "object"}
_PAGING = [{"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
           {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999,
                                                         "default": 0}},
           {"name": "status", "in": "query", "schema": {"type": "string",
                                                         "enum": ["proposed", "accepted", "merged", "rejected"]}}]


def _ok(code: str, description: str, html: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _OBJ}}
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


def _form(summary: str, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A page's form post (form-encoded; a page, or a redirect to one)."""
    return {"tags": [TAG], "summary": summary, "parameters": params or [_REF], "requestBody": {
        "required": True, "content": {"application/x-www-form-urlencoded": {"schema": _OBJ}}},
        "responses": {"200": {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}},
                      "303": {"description": "Done: the page to see next"}, "4XX": _ERR}}


def _steward_paths() -> dict[str, Any]:
    """The stewards' pages (forms with the page's CSRF token, as the signed-in caller)."""
    codes = _form("Stewards: make letter codes (form field count); a printable page shows them this once")
    codes["responses"] = {"201": {"description": "The codes (a printable page)", "content": {
        "text/html": {"schema": {"type": "string"}}}}, "4XX": _ERR}
    page = {"tags": [TAG], "responses": {"200": {"description": "The page", "content": {
        "text/html": {"schema": {"type": "string"}}}}, "4XX": _ERR}, "security": [{"bearer": []}]}
    return {
        "/participation/budgets/new": {
            "get": {**page, "summary": "Stewards: the form for a new budget", "parameters": _F},
            "post": _form("Stewards: create a budget (form-encoded with the page's CSRF token)", _F)},
        "/participation/budgets/{name}/manage": {"get": {
            **page, "summary": "Stewards: manage a budget (projects, ideas to decide, codes, the next phase)",
            "parameters": [_REF, *_F]}},
        "/participation/budgets/{name}/manage/projects": {"post": _form("Stewards: add a project (ideas phase)")},
        "/participation/budgets/{name}/manage/projects/{id}": {
            "get": {**page, "summary": "Stewards: change a project, or review it (keep or drop, reason, cost)",
                    "parameters": [_REF, _PID, *_F]},
            "post": _form("Stewards: save the project's changes or its review", [_REF, _PID])},
        "/participation/budgets/{name}/manage/ideas/{id}": {"post": _form(
            "Stewards: decide a proposed idea (status accepted with cost, merged with project, rejected with reason)",
            [_REF, _PID])},
        "/participation/budgets/{name}/manage/phase": {
            "get": {**page, "summary": "Stewards: confirm the move to the next phase (the last closes the vote)",
                    "parameters": [_REF, *_F]},
            "post": _form("Stewards: move to the next phase (form field phase: the one confirmed)")},
        "/participation/budgets/{name}/manage/codes": {"post": codes},
    }


def openapi_part() -> dict[str, Any]:
    budget = {"type": "object", "required": ["name", "title", "owner_org", "amount"], "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9-]+$"}, "title": {"type": "string"},
        "description": {"type": "string"}, "owner_org": {"type": "string"}, "amount": {"type": "integer"},
        "currency": {"type": "string"}, "rule": {"type": "string", "enum": ["equal_shares", "greedy", "knapsack"]},
        "min_choices": {"type": "integer"}, "max_choices": {"type": ["integer", "null"]},
        "area": {"type": ["object", "null"], "description": "A GeoJSON Polygon or MultiPolygon ideas must lie in"},
        "districts": {"type": ["array", "null"], "items": {"type": "string"}}}}
    project = {"type": "object", "required": ["title", "cost"], "properties": {
        "title": {"type": "string"}, "description": {"type": "string"}, "cost": {"type": "integer", "minimum": 0}}}
    idea = {"type": "object", "required": ["title", "description", "cost"], "properties": {
        "title": {"type": "string", "maxLength": 200}, "description": {"type": "string", "maxLength": 4000},
        "cost": {"type": "integer", "minimum": 0}, "district": {"type": ["string", "null"]},
        "location": {"type": ["object", "null"], "description": "A GeoJSON Point inside the budget's area"}}}
    decision = {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": ["accepted", "merged", "rejected"]},
        "cost": {"type": "integer", "minimum": 0}, "project": {"type": "integer"}, "reason": {"type": "string"},
        "title": {"type": "string"}, "description": {"type": "string"}}}
    paths = {
        "/participation/budgets": {
            "get": _op("The budgets (HTML for browsers)", _ok("200", "The budgets", True), False, params=_F),
            "post": _op("Create a budget (steward of its organisation)", _ok("201", "The budget"), body=budget)},
        "/participation/budgets/{name}": {
            "get": _op("A budget with its projects (HTML: the page with the ballot form)",
                       _ok("200", "The budget", True), False, params=[_REF, *_F]),
            "patch": _op("Move the budget to its next phase (ideas, review, vote, results)",
                         _ok("200", "The budget"), body={"type": "object", "required": ["phase"], "properties": {
                             "phase": {"type": "string", "enum": ["ideas", "review", "vote", "results"]}}},
                         params=[_REF])},
        "/participation/budgets/{name}/projects": {"post": _op("Add a project (ideas phase)", _ok("201", "The project"),
                                                              body=project, params=[_REF])},
        "/participation/budgets/{name}/projects/{id}": {"patch": _op(
            "Change a project (ideas and review phases); its feasibility review (review phase)",
            _ok("200", "The project"), body={"type": "object", "properties": {
                "title": {"type": "string"}, "description": {"type": "string"}, "feasible": {"type": "boolean"},
                "cost": {"type": "integer"}, "reason": {"type": "string"}}},
            params=[_REF, _PID])},
        "/participation/budgets/{name}/ideas": {
            "get": _op("Residents' ideas with their status and the stewards' reasons, oldest first, a page at a time "
                       "(`count`: how many in all; `next` and `prev`: the pages around; HTML: the page with the form)",
                       _ok("200", "The ideas", True), False, params=[_REF, *_F, *_PAGING]),
            "post": _op("Propose an idea (ideas phase; any signed-in caller; the author is never published)",
                        _ok("201", "The idea"), body=idea, params=[_REF])},
        "/participation/budgets/{name}/ideas/{id}": {"get": _op("One idea", _ok("200", "The idea"), False,
                                                               params=[_REF, _PID])},
        "/participation/budgets/{name}/ideas/{id}/decision": {"post": _op(
            "A steward's decision on a proposed idea (review phase): accepted as a project with its checked cost, "
            "merged into a project, or rejected with a reason", _ok("200", "The idea"), body=decision,
            params=[_REF, _PID])},
        "/participation/budgets/{name}/propose": {"post": _form("The idea form (form-encoded with the page's CSRF "
                                                                "token: title, description, cost, lat, lon, district)")},
        "/participation/budgets/{name}/codes": {"post": _op(
            "One-time codes for letters (shown once, stored hashed)", _ok("201", "The codes"), body={
                "type": "object", "required": ["count"], "properties": {"count": {"type": "integer", "minimum": 1}}},
            params=[_REF])},
        "/participation/budgets/{name}/verify": {"post": _op(
            "Exchange a letter's code for a voter key (once)", _ok("201", "The voter key"), False, body={
                "type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}},
            params=[_REF])},
        "/participation/budgets/{name}/ballot": {
            "put": _op("Cast or replace a ballot (X-Voter-Key header or a registered token)",
                       _ok("200", "Stored"), body={"type": "object", "required": ["projects"], "properties": {
                           "projects": {"type": "array", "items": {"type": "integer"}}}},
                       params=[_REF, {"name": "X-Voter-Key", "in": "header", "schema": {"type": "string"}}]),
            "post": {"tags": [TAG], "summary": "The ballot form (form-encoded: credential, project…)",
                     "parameters": [_REF], "requestBody": {"required": True, "content": {
                         "application/x-www-form-urlencoded": {"schema": _OBJ}}},
                     "responses": {"200": {"description": "The page", "content": {
                         "text/html": {"schema": {"type": "string"}}}}, "4XX": _ERR}}},
        "/participation/budgets/{name}/results": {"get": _op(
            "The results: each project's support and cost (after the vote)", _ok("200", "The results", True), False,
            params=[_REF, *_F])},
        "/participation/budgets/{name}/ballots.pb": {"get": {
            "tags": [TAG], "summary": "The closed vote's ballots in the pabulib format (anyone may count again)",
            "parameters": [_REF], "responses": {"200": {"description": "A .pb file", "content": {
                "text/plain": {"schema": {"type": "string"}}}}, "4XX": _ERR}}},
    }
    paths.update(_steward_paths())
    return {"paths": paths, "components": {"responses": {"BudgetProblem": _PROBLEM}},
            "tags": [{"name": TAG, "description": "Participatory budgets with fair voting rules."}]}


__all__ = ["openapi_part"]
