"""HTTP routes of the catalogue: the CKAN Action API and resource downloads."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import FastAPI
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from urbanos.catalog.actions import ckan_error, dispatch
from urbanos.catalog.service import CatalogService
from urbanos.catalog.webutil import base_url, identity_of, json_body, platform_of, register_error_renderer
from urbanos.core.text import nul_field, nul_problem
from urbanos.errors import BadRequest, NotFound, UrbanosError, ValidationFailed
from urbanos.platform import Platform
from urbanos.query.querystring import utf8_problem


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json;charset=utf-8")


def _help(request: Request, name: str) -> str:
    return f"{base_url(request)}/api/3/action/help_show?name={quote(name)}"


def render_ckan_error(request: Request, exc: UrbanosError) -> Response:
    status, error = ckan_error(exc)
    name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    resp = _json(status, {"help": _help(request, name), "success": False, "error": error})
    for k, v in exc.headers.items():
        if k.lower() != "www-authenticate":
            resp.headers[k] = v
    return resp


async def _read_upload(request: Request, f: UploadFile) -> tuple[str, bytes]:
    platform = platform_of(request)
    limit = int(platform.settings.get("catalog_upload_max_bytes") or 0)
    chunks, size = [], 0
    while True:
        chunk = await f.read(1 << 20)
        if not chunk:
            break
        size += len(chunk)
        if limit and size > limit:
            raise ValidationFailed(f"upload: File upload too large; the limit is {limit} bytes", code="validation_error",
                                   detail={"upload": [f"File upload too large: the limit is {limit} bytes"]})
        chunks.append(chunk)
    return f.filename or "upload", b"".join(chunks)


async def _params(request: Request) -> tuple[dict[str, Any], tuple[str, bytes] | None]:
    data: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        data[key] = values[0] if len(values) == 1 else values
    upload = None
    if request.method == "POST":
        ctype = request.headers.get("content-type", "").lower()
        if ctype.startswith("multipart/form-data") or ctype.startswith("application/x-www-form-urlencoded"):
            if ctype.startswith("application/x-www-form-urlencoded"):
                problem = utf8_problem(await request.body(), "form field")  # the form parser would replace bad bytes
                if problem is not None:
                    raise BadRequest(problem, code="invalid_encoding")
            try:
                form = await request.form(max_files=4, max_fields=1000)
            except Exception as exc:  # noqa: BLE001 - malformed multipart is the client's fault
                raise BadRequest(f"Bad request - the form body cannot be read: {exc}") from None
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    if key == "upload" or upload is None:
                        upload = await _read_upload(request, value)
                else:
                    data[key] = value
        else:
            raw = await request.body()
            if raw.strip():
                body = await json_body(request)
                if not isinstance(body, dict):
                    raise BadRequest("Bad request - JSON Error: the request body must be a JSON object.")
                data.update(body)
    if (nul := nul_problem(data)) is not None:  # JSON, form and query fields alike: PostgreSQL cannot store it
        raise BadRequest(nul, detail={"field": nul_field(data)})
    return data, upload


# one CKAN action: GET with query parameters, POST with a JSON, form or multipart body (no docstring: FastAPI would
# put it in the OpenAPI document)
async def action(request: Request, name: str) -> Response:
    platform = platform_of(request)
    ident = await identity_of(request)
    data, upload = await _params(request)
    result = await dispatch(platform, name, ident, data, method=request.method, upload=upload, base_url=base_url(request))
    return _json(200, {"help": _help(request, name), "success": True, "result": result})


async def api_version(request: Request) -> Response:
    return _json(200, {"version": 3})


async def download(request: Request, name: str, rid: str, filename: str) -> Response:
    ident = await identity_of(request)
    svc: CatalogService = platform_of(request).services["catalog"]
    path, stored, media, _ = await svc.resource_file(ident, rid, name)
    if stored != filename:
        raise NotFound("Resource file was not found.")
    return FileResponse(str(path), media_type=media, filename=stored)


_READ = "CKAN Action API: run a read action with query parameters"
_RUN = "CKAN Action API: run an action with a JSON, form or multipart body"
ROUTES: tuple[tuple[str, str, Callable[..., Awaitable[Response]], dict[str, Any]], ...] = (
    ("GET", "/api/3/action/{name}", action, {"operation_id": "ckan_action_get", "summary": _READ}),
    ("POST", "/api/3/action/{name}", action, {"operation_id": "ckan_action_post", "summary": _RUN}),
    ("GET", "/api/action/{name}", action, {"operation_id": "ckan_action_unversioned_get", "summary": _READ,
                                           "include_in_schema": False}),
    ("POST", "/api/action/{name}", action, {"operation_id": "ckan_action_unversioned_post", "summary": _RUN,
                                            "include_in_schema": False}),
    ("GET", "/api/3", api_version, {"include_in_schema": False}),
    ("GET", "/dataset/{name}/resource/{rid}/download/{filename}", download,
     {"operation_id": "catalog_resource_download", "summary": "Download an uploaded resource file (access checked)"}),
)
"""The catalogue's routes (method, path, handler, route options), in the order they are matched, tagged ``catalog``
in the OpenAPI document."""


def mount(app: FastAPI, platform: Platform) -> None:
    register_error_renderer(app, "/api/3/action/", render_ckan_error)
    register_error_renderer(app, "/api/action/", render_ckan_error)
    for method, path, handler, options in ROUTES:
        app.add_api_route(path, handler, methods=[method], tags=["catalog"], **options)


__all__ = ["mount", "render_ckan_error"]
