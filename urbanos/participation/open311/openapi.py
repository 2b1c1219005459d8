"""Open311's part of ``/openapi.json``: every route in its ``.json`` and ``.xml`` form (the web layer merges the part
and prefixes the component names)."""

from __future__ import annotations

from typing import Any

TAG = "Open311"
_ERRORS = {"type": "array", "items": {"type": "object", "required": ["code", "description"], "properties": {
    "code": {"type": "integer"}, "description": {"type": "string"}}}}
_S = {"type": "string"}
_Q = ("service_request_id", "service_code", "start_date", "end_date", "status", "page", "page_size", "updated_after",
      "updated_before", "extensions", "jurisdiction_id")
_FORM_FIELDS = ("api_key", "jurisdiction_id", "service_code", "lat", "long", "address_string", "address_id",
                "zipcode", "email", "device_id", "account_id", "first_name", "last_name", "phone", "description",
                "media_url")


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _S}


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "query", "schema": _S} for n in names]


def _op(summary: str, fmt: str, ok: str = "200", body: dict[str, Any] | None = None, params: list[Any] | None = None,
        secure: bool = False) -> dict[str, Any]:
    media = "application/json" if fmt == "json" else "text/xml"
    out: dict[str, Any] = {"tags": [TAG], "summary": summary, "parameters": params or [], "responses": {
        ok: {"description": "The answer", "content": {media: {"schema": {} if fmt == "xml" else {"type": ["array",
                                                                                                   "object"]}}}},
        "4XX": {"description": "The spec's list of errors", "content": {media: {"schema": _ERRORS if fmt == "json"
                                                                                 else _S}}}}}
    if ok == "204":
        out["responses"][ok] = {"description": "Done"}
    if body is not None:
        out["requestBody"] = {"required": True, "content": body}
    if secure:
        out["security"] = [{"bearer": []}]
    return out


def _form() -> dict[str, Any]:
    props: dict[str, Any] = {f: _S for f in _FORM_FIELDS}
    multipart = {**props, "media": {"type": "string", "contentMediaType": "image/jpeg"}}
    return {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": props,
                                                             "additionalProperties": {"type": "string"}}},
            "multipart/form-data": {"schema": {"type": "object", "properties": multipart}}}


def _update_form() -> dict[str, Any]:
    fields = ("api_key", "status", "status_notes", "agency_responsible", "updated_datetime", "hidden", "reason",
              "photo")
    return {"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {f: _S for f in fields}}}}


def _paths(fmt: str) -> dict[str, Any]:
    p = "/open311/v2"
    service_json = {"application/json": {"schema": {"type": "object"}}}
    return {
        f"{p}/discovery.{fmt}": {"get": _op("Discovery: the endpoint and its formats", fmt)},
        f"{p}/services.{fmt}": {
            "get": _op("The service list", fmt, params=_query("jurisdiction_id")),
            "post": _op("Add a service (admin or steward of its organization): the service's fields and attributes",
                        fmt, "201", service_json, _query("api_key"), True)},
        f"{p}/services/{{code}}.{fmt}": {
            "get": _op("A service definition with its attributes", fmt, params=[_path("code"),
                                                                                *_query("jurisdiction_id")]),
            "put": _op("Replace a service", fmt, body=service_json, params=[_path("code"), *_query("api_key")],
                       secure=True),
            "delete": _op("Delete a service that has no requests", fmt, "204", params=[_path("code"),
                                                                                        *_query("api_key")],
                          secure=True)},
        f"{p}/requests.{fmt}": {
            "get": _op("Service requests (filters and the common extensions)", fmt, params=_query(*_Q)),
            "post": _op("Post a service request (api_key in the form; attribute[code]=v, a photo as 'media')", fmt,
                        body=_form())},
        f"{p}/requests/{{id}}.{fmt}": {"get": _op("One service request", fmt, params=[
            _path("id"), *_query("extensions", "jurisdiction_id")])},
        f"{p}/requests/{{id}}/updates.{fmt}": {"post": _op(
            "Staff: a workflow update (status, status_notes, agency_responsible, updated_datetime)", fmt,
            body=_update_form(), params=[_path("id")], secure=True)},
        f"{p}/requests/{{id}}/moderation.{fmt}": {"post": _op(
            "Staff: hide or show a request or its photo, with a reason", fmt, body=_update_form(),
            params=[_path("id")], secure=True)},
        f"{p}/tokens/{{token}}.{fmt}": {"get": _op("The request id of a batch service's token", fmt, params=[
            _path("token"), *_query("jurisdiction_id")])},
    }


def openapi_part() -> dict[str, Any]:
    html = {"200": {"description": "A page", "content": {"text/html": {"schema": _S}}}, "4XX": {"description": "Error"}}
    paths = {**_paths("json"), **_paths("xml")}
    paths["/open311/v2/media/{key}.jpg"] = {"get": {"tags": [TAG], "summary": "A request's photo (EXIF stripped, "
                                                    "faces and plates blurred)", "parameters": [_path("key")],
                                                    "responses": {"200": {"description": "The photo", "content": {
                                                        "image/jpeg": {"schema": _S}}}, "4XX": {"description": "Error"}}}}
    paths["/participation/report"] = {
        "get": {"tags": [TAG], "summary": "The citizens' report form (en/de)", "responses": html},
        "post": {"tags": [TAG], "summary": "Send the report form", "responses": {
            "303": {"description": "To the new request's page"}, "4XX": {"description": "Error"}}}}
    paths["/participation/requests/{id}"] = {"get": {"tags": [TAG], "summary": "A request's state page",
                                                     "parameters": [_path("id")], "responses": html}}
    paths["/participation/staff"] = {"get": {"tags": [TAG], "summary": "The staff's list of requests",
                                             "responses": html}}
    paths["/participation/staff/requests/{id}"] = {"post": {"tags": [TAG], "summary": "Staff: an update from the page",
                                                            "parameters": [_path("id")], "responses": {
            "303": {"description": "Back to the list"}, "4XX": {"description": "Error"}}}}
    back = {"303": {"description": "Back to the list"}, "4XX": {"description": "The form again, with its problems"}}
    code = [_path("code")]
    paths["/participation/services"] = {"get": {"tags": [TAG], "summary": "Stewards: the services they manage",
                                                "responses": html}}
    paths["/participation/services/new"] = {
        "get": {"tags": [TAG], "summary": "Stewards: the new-service form", "responses": html},
        "post": {"tags": [TAG], "summary": "Stewards: create a service from the form", "responses": back}}
    paths["/participation/services/{code}/edit"] = {
        "get": {"tags": [TAG], "summary": "Stewards: the form to change a service", "parameters": code,
                "responses": html},
        "post": {"tags": [TAG], "summary": "Stewards: change a service from the form", "parameters": code,
                 "responses": back}}
    paths["/participation/services/{code}/delete"] = {
        "get": {"tags": [TAG], "summary": "Stewards: confirm deleting a service", "parameters": code,
                "responses": html},
        "post": {"tags": [TAG], "summary": "Stewards: delete a service", "parameters": code, "responses": back}}
    return {"paths": paths, "tags": [{"name": TAG, "description": "Open311 GeoReport v2 service requests."}]}


__all__ = ["openapi_part"]
