"""HTTP routes of the SensorThings API (plain Starlette routes: parse, call the service, render)."""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from urbanos.errors import BadRequest, NotFound, UrbanosError
from urbanos.routing import base_url, identity_of, register_error_renderer
from urbanos.routing import json_body as _json_body
from urbanos.sensing import dataarray
from urbanos.sensing.batch import handle_batch
from urbanos.sensing.service import sensing_service

if TYPE_CHECKING:
    from urbanos.platform import Platform

JSON = "application/json"


async def json_body(request: Request) -> Any:
    return await _json_body(request, require_json_type=True)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON, headers=headers)


def sta_error(request: Request, exc: UrbanosError) -> Response:
    body = {"code": exc.status, "type": "error", "message": exc.message}
    return Response(orjson.dumps(body), status_code=exc.status, media_type=JSON, headers=dict(exc.headers))


def _version(request: Request) -> str:
    v = request.path_params["version"]
    if v not in ("v1.0", "v1.1"):
        raise NotFound(f"SensorThings version {v!r} is not served; use v1.0 or v1.1.")
    return str(v)


def _query(request: Request) -> dict[str, str]:
    q: dict[str, str] = {}
    for k, v in request.query_params.multi_items():
        if k in q:
            raise BadRequest(f"The query option {k!r} is given twice.")
        q[k] = v
    return q


class StaRoutes:
    """The route handlers of one platform's SensorThings API (its service and settings)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.svc = sensing_service(platform)

    def _json_large(self, request: Request, body: Any, status: int = 200, media_type: str = JSON) -> Response:
        """An answer that may be large, gzip-compressed here at level 1 when the client accepts it.

        Collections of Observations (and the link lists CreateObservations returns) are tens of kilobytes of very
        repetitive JSON: level 1 compresses them about 17:1 in a tenth of a millisecond, where the app-wide
        middleware's level 9 takes about 1 ms for a few hundred bytes less. The middleware passes a response that
        already has a Content-Encoding through untouched.
        """
        raw = orjson.dumps(body)
        if len(raw) >= self.platform.settings.gzip_min_size and "gzip" in request.headers.get("accept-encoding", ""):
            return Response(gzip.compress(raw, compresslevel=1, mtime=0), status_code=status, media_type=media_type,
                            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
        return Response(raw, status_code=status, media_type=media_type)

    async def root(self, request: Request) -> Response:
        return _json(self.svc.root(_version(request), base_url(request)))

    async def resource(self, request: Request) -> Response:
        version = _version(request)
        path = request.path_params["path"]
        svc = self.svc
        ident = await identity_of(request)
        base = base_url(request)
        m = request.method
        if m == "GET":
            kind, body = await svc.read(version, path, _query(request), ident, base)
            if kind == "value":
                if body is None:
                    return Response(b"", status_code=204)
                text = body if isinstance(body, str) else orjson.dumps(body).decode()
                return Response(text, media_type="text/plain")
            if kind == "csv":
                return Response(body, media_type="text/csv")
            if kind == "geojson":
                return self._json_large(request, body, media_type="application/geo+json")
            return self._json_large(request, body)
        if m == "POST":
            body = await json_body(request)
            out = await svc.create_at_path(version, path, body, ident, base)
            if not out:
                return Response(b"", status_code=204)
            return _json(out, 201, {"Location": out.get("@iot.selfLink", "")})
        if m in ("PATCH", "PUT"):
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            body = await json_body(request)
            mode = "replace" if m == "PUT" else ("json-patch" if ctype == "application/json-patch+json" else "merge")
            out = await svc.update_at_path(version, path, body, ident, base, mode)
            return _json(out)
        if m == "DELETE":
            await svc.delete_at_path(version, path, ident, base)
            return Response(b"", status_code=200)
        raise BadRequest(f"{m} is not supported.")

    async def create_observations(self, request: Request) -> Response:
        version = _version(request)
        body = await json_body(request)
        out = await dataarray.create_observations(self.platform, version, body, await identity_of(request), base_url(request))
        return self._json_large(request, out, 201)

    async def batch(self, request: Request) -> Response:
        version = _version(request)
        ident = await identity_of(request)
        base = base_url(request)
        status, ctype, payload = await handle_batch(self.svc, version, ident, base, request.headers.get("content-type", ""),
                                                    await request.body())
        return Response(payload, status_code=status, media_type=ctype)


def mount(app: Any, platform: Platform) -> None:
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    r = StaRoutes(platform)
    sta = Mount("/sta", routes=[
        Route("/{version}", r.root, methods=["GET"]),
        Route("/{version}/", r.root, methods=["GET"]),
        Route("/{version}/$batch", r.batch, methods=["POST"]),
        Route("/{version}/CreateObservations", r.create_observations, methods=["POST"]),
        Route("/{version}/{path:path}", r.resource, methods=methods),
    ])
    # First in the routing table: ingest is a hot path, and /sta/ belongs to this capability alone.
    app.router.routes.insert(0, sta)
    register_error_renderer(app, "/sta/", sta_error)


__all__ = ["mount", "sta_error", "StaRoutes"]
