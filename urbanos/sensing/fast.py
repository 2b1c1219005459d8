"""``POST /sta/{version}/{path}`` (creating entities, the ingest hot path), answered without the framework's routing.

A single Observation is written in a fraction of a millisecond (in a group, on PostgreSQL), so the layers around
it are a large part of a POST's cost. This ASGI middleware sits inside the platform's own (request id, body limit,
timeout, shedding, metrics, access log, gzip, CORS and the privacy capability's middleware still apply) and answers
the POSTs the route ``{version}/{path}`` of ``routes.py`` would answer itself: the same authentication, the same
body checks, the same service call, the same bytes and headers. ``$batch``, ``CreateObservations``, a request with
a root path and every other method go on to the routes. Errors go through the application's own exception
handlers, so they are rendered (in the SensorThings format) and logged exactly as on the route.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from urbanos.errors import NotFound
from urbanos.routing import base_url, handled_response, identity_of
from urbanos.sensing.routes import JSON, json_body
from urbanos.sensing.service import sensing_service

if TYPE_CHECKING:
    from urbanos.platform import Platform

PREFIX = "/sta/"
ROUTED = frozenset({"", "$batch", "CreateObservations"})
"""Paths after the version that have routes of their own (or none: the service document is GET only)."""
ROUTE = SimpleNamespace(path="/sta/{version}/{path:path}")
"""What the router would have put in the scope as the matched route (the metrics and access log name it)."""


class CreateFastPath:
    def __init__(self, app: ASGIApp, platform: Platform) -> None:
        self.app = app
        self.platform = platform

    @staticmethod
    def _target(scope: Scope) -> tuple[str, str] | None:
        """(version, path) when this request is a POST the route ``{version}/{path}`` answers."""
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            return None
        path: str = scope["path"]
        if not path.startswith(PREFIX):
            return None
        version, sep, rest = path[len(PREFIX):].partition("/")
        if not version or not sep or rest in ROUTED:
            return None
        return version, rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        version, path = target
        scope["route"] = ROUTE
        request = Request(scope, receive)
        try:
            if version not in ("v1.0", "v1.1"):
                raise NotFound(f"SensorThings version {version!r} is not served; use v1.0 or v1.1.")
            ident = await identity_of(request)
            base = base_url(request)
            body = await json_body(request)
            out = await sensing_service(self.platform).create_at_path(version, path, body, ident, base)
            response = (Response(b"", status_code=204) if not out else
                        Response(orjson.dumps(out), status_code=201, media_type=JSON,
                                 headers={"Location": out.get("@iot.selfLink", "")}))
        except Exception as exc:  # noqa: BLE001 - rendered by the application's handler, as on the route
            response = await handled_response(request, exc)
        await response(scope, receive, send)


__all__ = ["CreateFastPath"]
