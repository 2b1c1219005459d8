"""Open311 GeoReport v2 over HTTP at ``/open311/v2/`` (see docs/participation.md). Every route answers in the format
of its extension (``.json`` or ``.xml``); errors are the spec's list of ``{code, description}`` in that format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from urbanos.core.ids import is_ascii_digits
from urbanos.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    UrbanosError,
)
from urbanos.governance import Identity
from urbanos.participation.open311 import store
from urbanos.participation.open311.formats import FORMATS, check_format, encode, error_list
from urbanos.participation.open311.intake import MAX_FIELDS
from urbanos.participation.open311.service import Open311Service
from urbanos.routing import base_url, identity_of, json_body, platform_of, register_error_renderer

if TYPE_CHECKING:
    from urbanos.platform import Platform

PREFIX = "/open311/v2"
FORM_MAX = 256 * 1024  # a url-encoded post (a description is at most 4,000 characters)
SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-06T00:00:00Z"


def _svc(request: Request) -> Open311Service:
    return platform_of(request).services["open311"]  # type: ignore[no-any-return]


def _fmt(request: Request) -> str:
    return check_format(request.path_params.get("fmt", "json"))


def answer(fmt: str, root: str, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode(fmt, root, value), status_code=status, media_type=FORMATS[fmt], headers=headers)


def render_error(request: Request, exc: UrbanosError) -> Response:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    return answer(fmt, "errors", error_list(exc), exc.status, exc.headers)


def _jurisdiction(request: Request, given: str | None) -> None:
    want = str(platform_of(request).settings.participation_jurisdiction_id or "")
    if given and want and given != want:
        raise NotFound(f"jurisdiction_id {given[:40]!r}: this endpoint serves {want!r}.")


async def _caller(request: Request, api_key: str | None) -> Identity:
    if api_key:
        platform = platform_of(request)
        return await platform.gate.authenticate(api_key, client=request.client.host if request.client else None)
    return await identity_of(request)


async def _limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if is_ascii_digits(declared) and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes.")
    return bytes(body)


async def read_form(request: Request, media_max: int) -> tuple[list[tuple[str, str]], bytes | None]:
    """The fields of a url-encoded or multipart post (strict UTF-8), and the uploaded ``media`` file."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded" or (not ctype and request.method == "POST"):
        raw = await _limited(request, FORM_MAX)
        try:
            return parse_qsl(raw.decode("ascii"), keep_blank_values=True, max_num_fields=MAX_FIELDS,
                             encoding="utf-8", errors="strict"), None
        except ValueError:
            raise BadRequest("The form is not valid url-encoded UTF-8 (or has too many fields).") from None
    if ctype != "multipart/form-data":
        raise UnsupportedMediaType("Send application/x-www-form-urlencoded (or multipart/form-data with a photo).")
    raw = await _limited(request, media_max + FORM_MAX)

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=1, max_fields=MAX_FIELDS, max_part_size=FORM_MAX)
    except MultiPartException as exc:
        raise BadRequest(f"The multipart form is malformed: {exc.message}") from None
    fields: list[tuple[str, str]] = []
    photo: bytes | None = None
    for key, value in form.multi_items():
        if isinstance(value, str):
            fields.append((key, value))
        elif key == "media" and photo is None:
            photo = await value.read()
            photo = photo or None
        else:
            raise BadRequest(f"{key[:40]!r}: only the field 'media' may be a file.")
    return fields, photo


def _one_field(items: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in items if k == name), None)


async def discovery(request: Request) -> Response:
    url = base_url(request) + PREFIX
    body = {"changeset": CHANGESET, "contact": platform_of(request).settings.city_name,
            "key_service": "API tokens of the platform (POST /admin/tokens); send one as api_key.",
            "endpoints": [{"specification": SPEC, "url": url, "changeset": CHANGESET, "type": "production",
                           "formats": ["text/xml", "application/json"]}]}
    return answer(_fmt(request), "discovery", body)


async def list_services(request: Request) -> Response:
    fmt = _fmt(request)
    _jurisdiction(request, request.query_params.get("jurisdiction_id"))
    return answer(fmt, "services", await _svc(request).services())


async def create_service(request: Request) -> Response:
    fmt = _fmt(request)
    ident = await _caller(request, request.query_params.get("api_key"))
    out = await _svc(request).create_service(ident, await json_body(request))
    return answer(fmt, "services", [out], 201, {"Location": f"{PREFIX}/services/{out['service_code']}.{fmt}"})


async def get_service(request: Request) -> Response:
    fmt = _fmt(request)
    _jurisdiction(request, request.query_params.get("jurisdiction_id"))
    return answer(fmt, "service_definition", await _svc(request).definition(request.path_params["code"]))


async def put_service(request: Request) -> Response:
    fmt = _fmt(request)
    ident = await _caller(request, request.query_params.get("api_key"))
    out = await _svc(request).replace_service(ident, request.path_params["code"], await json_body(request))
    return answer(fmt, "services", [out])


async def delete_service(request: Request) -> Response:
    _fmt(request)
    ident = await _caller(request, request.query_params.get("api_key"))
    await _svc(request).delete_service(ident, request.path_params["code"])
    return Response(status_code=204)


async def list_requests(request: Request) -> Response:
    fmt = _fmt(request)
    q = dict(request.query_params)
    _jurisdiction(request, q.get("jurisdiction_id"))
    return answer(fmt, "service_requests", await _svc(request).find(q, base_url(request)))


async def post_request(request: Request) -> Response:
    fmt = _fmt(request)
    svc = _svc(request)
    items, photo = await read_form(request, int(platform_of(request).settings.participation_media_max_bytes))
    _jurisdiction(request, _one_field(items, "jurisdiction_id"))
    ident = await _caller(request, _one_field(items, "api_key"))
    if ident.is_anonymous:
        raise Unauthorized("api_key is required: an API token of the platform.")
    await svc.throttle(ident, request.client.host if request.client else None)
    return answer(fmt, "service_requests", await svc.submit(ident, items, photo, base_url(request)))


async def get_request(request: Request) -> Response:
    fmt = _fmt(request)
    _jurisdiction(request, request.query_params.get("jurisdiction_id"))
    ext = request.query_params.get("extensions", "false")
    if ext not in ("true", "false"):
        raise BadRequest("extensions: true or false.")
    one = await _svc(request).one(request.path_params["id"], base_url(request), ext == "true")
    return answer(fmt, "service_requests", [one])


async def get_token(request: Request) -> Response:
    fmt = _fmt(request)
    _jurisdiction(request, request.query_params.get("jurisdiction_id"))
    return answer(fmt, "service_requests", await _svc(request).token(request.path_params["token"]))


async def post_update(request: Request) -> Response:
    fmt = _fmt(request)
    items, _ = await read_form(request, 0)
    ident = await _caller(request, _one_field(items, "api_key"))
    svc = _svc(request)
    outcome, row = await svc.update(ident, request.path_params["id"], dict(items))
    body = {**store.public(row, base_url(request), await svc.history(row["id"])), "update": outcome}
    return answer(fmt, "service_requests", [body])


async def post_moderation(request: Request) -> Response:
    fmt = _fmt(request)
    items, _ = await read_form(request, 0)
    ident = await _caller(request, _one_field(items, "api_key"))
    return answer(fmt, "moderation", await _svc(request).moderate(ident, request.path_params["id"], dict(items)))


async def get_media(request: Request) -> Response:
    data, ctype = await _svc(request).media(request.path_params["key"])
    return Response(data, media_type=ctype, headers={"Cache-Control": "public, max-age=300"})


ROUTES = (
    ("/discovery.{fmt}", discovery, ["GET"]),
    ("/services.{fmt}", list_services, ["GET"]),
    ("/services.{fmt}", create_service, ["POST"]),
    ("/services/{code}.{fmt}", get_service, ["GET"]),
    ("/services/{code}.{fmt}", put_service, ["PUT"]),
    ("/services/{code}.{fmt}", delete_service, ["DELETE"]),
    ("/requests.{fmt}", list_requests, ["GET"]),
    ("/requests.{fmt}", post_request, ["POST"]),
    ("/requests/{id}.{fmt}", get_request, ["GET"]),
    ("/requests/{id}/updates.{fmt}", post_update, ["POST"]),
    ("/requests/{id}/moderation.{fmt}", post_moderation, ["POST"]),
    ("/tokens/{token}.{fmt}", get_token, ["GET"]),
    ("/media/{key}.jpg", get_media, ["GET"]),
)


def mount(app: Starlette, platform: Platform) -> None:
    """Add the Open311 routes (described in /openapi.json by :mod:`urbanos.participation.open311.openapi`)."""
    register_error_renderer(app, "/open311/", render_error)
    for path, endpoint, methods in ROUTES:
        app.add_route(PREFIX + path, endpoint, methods=methods, include_in_schema=False)


__all__ = ["mount", "render_error", "read_form", "answer", "PREFIX"]
