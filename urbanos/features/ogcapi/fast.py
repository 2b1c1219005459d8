"""``GET /ogcapi/collections/{cid}/items/{fid}`` as GeoJSON, answered without the framework's routing.

A single feature is a sub-millisecond read, so most of a request's time is spent in the layers around it. This
ASGI middleware sits inside the platform's own (request id, body limit, timeout, metrics, access log, gzip and
CORS still apply) and answers the plain GeoJSON form of this one route itself: a GET without a query string whose
Accept selects GeoJSON. Everything else (HTML, ``crs=``, ``f=``, HEAD, other methods and paths) goes on to the
route in ``routes.py``.

The answer is the route's answer: the same authentication, the same service call (access check, privacy
transforms, usage events), the same bytes and headers; errors go through the application's own exception
handlers, so they are rendered and logged exactly as on the route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from urbanos.features.ogcapi import crs as crsmod
from urbanos.features.ogcapi import documents as docs
from urbanos.features.ogcapi.params import parse_format
from urbanos.routing import base_url, handled_response

if TYPE_CHECKING:
    from urbanos.platform import Platform

PREFIX = "/ogcapi/collections/"
_HEADERS = {b"accept", b"authorization", b"x-ckan-api-key"}


class SingleFeatureFastPath:
    def __init__(self, app: ASGIApp, platform: Platform) -> None:
        self.app = app
        self.platform = platform
        self._bases: dict[tuple[Any, ...], str] = {}
        self._content_crs = crsmod.content_crs_header(crsmod.CRS84)

    def _target(self, scope: Scope) -> tuple[str, str, dict[bytes, str]] | None:
        """(collection id, feature id, headers) when this request is the plain GeoJSON form of a single feature."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("query_string") or scope.get("root_path"):
            return None
        path: str = scope["path"]
        if not path.startswith(PREFIX):
            return None
        parts = path[len(PREFIX):].split("/")
        if len(parts) != 3 or parts[1] != "items" or not parts[0] or not parts[2]:
            return None
        headers: dict[bytes, str] = {}
        for k, v in scope.get("headers") or ():
            if k in _HEADERS and k not in headers:  # the first of repeated headers, as Starlette reads them
                headers[k] = v.decode("latin-1")
        if parse_format(None, headers.get(b"accept", "")) != "json":
            return None
        return parts[0], parts[2], headers

    def _base(self, scope: Scope, receive: Receive) -> str:
        if self.platform.settings.base_url:
            return str(self.platform.settings.base_url).rstrip("/")
        server = scope.get("server")
        key = (scope.get("scheme"), tuple(server) if server else None,
               next((v for k, v in scope.get("headers") or () if k == b"host"), None))
        base = self._bases.get(key)
        if base is None:
            base = base_url(Request(scope, receive))
            if len(self._bases) >= 64:  # the Host header is chosen by the client
                self._bases.clear()
            self._bases[key] = base
        return base

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        cid, fid, headers = target
        try:
            gate = self.platform.gate
            identity = await gate.authenticate(gate.token_from_headers(headers.get(b"authorization"), headers.get(b"x-ckan-api-key")),
                                               client=(scope.get("client") or (None,))[0])
            _, feat = await self.platform.services["features"].item(identity, cid, fid)
            response = Response(docs.item_bytes(self._base(scope, receive), cid, feat), media_type=docs.GEOJSON,
                                headers={"Content-Crs": self._content_crs})
        except Exception as exc:  # noqa: BLE001 - rendered by the application's handler, as on the route
            response = await handled_response(Request(scope, receive), exc)
        await response(scope, receive, send)


__all__ = ["SingleFeatureFastPath"]
