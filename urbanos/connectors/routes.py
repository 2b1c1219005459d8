"""The connectors' HTTP API (see docs/connectors.md):

* ``GET /connectors``, ``POST /connectors``: list and create (JSON; bearer token of a publisher or steward);
* ``GET /connectors/{name}`` (JSON, or the steward's page with ``?f=html`` or a browser's ``Accept``),
  ``PATCH`` and ``DELETE`` it, ``POST /connectors/{name}/run``;
* ``POST /ingest/{name}``: a webhook push, signed with ``X-Urbanos-Signature: sha256=<hex HMAC-SHA256 of the body>``;
* ``GET /demo/gbfs/{name}``: the demo's own small GBFS system (only when the server runs ``urbanos demo``).
* ``GET /demo/gtfs/gtfs.zip`` and ``/demo/gtfs/realtime.pb``: the demo's generated GTFS and GTFS-Realtime feeds.

Errors are problem+json (the platform's renderer). The page also accepts the portal's sign-in cookie.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from urbanos.connectors import demo, demo_transit, portal
from urbanos.connectors.service import SIGNATURE, ConnectorService
from urbanos.core.ids import is_ascii_digits
from urbanos.errors import BadRequest, NotFound, PayloadTooLarge
from urbanos.routing import identity_of, json_body, platform_of

if TYPE_CHECKING:
    from urbanos.platform import Platform

def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _service(request: Request) -> ConnectorService:
    return platform_of(request).services["connectors"]  # type: ignore[no-any-return]


async def _object(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def _wants_html(request: Request) -> bool:
    f = request.query_params.get("f")
    if f:
        if f not in ("html", "json"):
            raise BadRequest(f"f={f[:20]!r}: use f=json or f=html.")
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and accept.find("text/html") < (accept.find("json") if "json" in accept else 1 << 30)


async def list_connectors(request: Request) -> Response:
    if _wants_html(request):
        return await _list_page(request)
    return _json({"connectors": await _service(request).list(await identity_of(request))})


async def create_connector(request: Request) -> Response:
    out = await _service(request).add(await identity_of(request), await _object(request))
    return _json(out, 201, {"Location": f"/connectors/{out['name']}"})


async def get_connector(request: Request) -> Response:
    name = request.path_params["name"]
    if _wants_html(request):
        return await _connector_page(request)
    return _json(await _service(request).show(await identity_of(request), name))


async def patch_connector(request: Request) -> Response:
    return _json(await _service(request).change(await identity_of(request), request.path_params["name"],
                                                await _object(request)))


async def delete_connector(request: Request) -> Response:
    await _service(request).remove(await identity_of(request), request.path_params["name"])
    return Response(status_code=204)


async def run_connector(request: Request) -> Response:
    return _json(await _service(request).run(await identity_of(request), request.path_params["name"]))


async def _limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    too_large = PayloadTooLarge(f"The body is larger than {limit} bytes (setting connectors_webhook_max_bytes).")
    if is_ascii_digits(declared) and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def ingest(request: Request) -> Response:
    platform = platform_of(request)
    body = await _limited_body(request, int(platform.settings.connectors_webhook_max_bytes))
    out = await _service(request).ingest(request.path_params["name"], body, request.headers.get(SIGNATURE),
                                         request.headers.get("content-type", ""))
    return _json(out)


async def demo_feed(request: Request) -> Response:
    platform = platform_of(request)
    if not platform.services.get("demo"):
        raise NotFound("The demo's GBFS feed is served only by `urbanos demo`.")
    body = demo.feed_file(request.path_params["name"], str(request.base_url).rstrip("/"))
    return _json(body, headers={"Cache-Control": "no-store"})


async def demo_transit_feed(request: Request) -> Response:
    platform = platform_of(request)
    if not platform.services.get("demo"):
        raise NotFound("The demo's transit feeds are served only by `urbanos demo`.")
    body, media = demo_transit.feed(request.path_params["name"])
    return Response(body, media_type=media, headers={"Cache-Control": "no-store"})


@portal.html_errors
async def _list_page(request: Request) -> Response:
    return await portal.list_page(request)


@portal.html_errors
async def _connector_page(request: Request) -> Response:
    ident = await portal.viewer(request)
    return await portal.connector_page(request, await _service(request).show(ident, request.path_params["name"]))


def mount(app: Starlette, platform: Platform) -> None:
    """Add the connectors' routes (described in /openapi.json by :mod:`urbanos.connectors.openapi`); the portal's
    forms (:mod:`urbanos.connectors.portal`) come first, so ``/connectors/new`` is the form, not a connector."""
    routes = (
        *portal.ROUTES,
        ("/connectors", list_connectors, ["GET"]),
        ("/connectors", create_connector, ["POST"]),
        ("/connectors/{name}", get_connector, ["GET"]),
        ("/connectors/{name}", patch_connector, ["PATCH"]),
        ("/connectors/{name}", delete_connector, ["DELETE"]),
        ("/connectors/{name}/run", run_connector, ["POST"]),
        ("/ingest/{name}", ingest, ["POST"]),
        ("/demo/gbfs/{name}", demo_feed, ["GET"]),
        ("/demo/gtfs/{name}", demo_transit_feed, ["GET"]),
    )
    for path, endpoint, methods in routes:
        app.add_route(path, endpoint, methods=methods, include_in_schema=False)  # described by the part


__all__ = ["mount"]
