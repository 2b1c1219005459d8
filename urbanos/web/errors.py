"""Error rendering: problem+json for the platform's own endpoints, and a hook per standard API.

A capability registers a renderer for its path prefix::

    register_error_renderer(app, "/sta/", render_sta_error)

The renderer gets the request and an :class:`~urbanos.errors.UrbanosError` and
returns a response in its standard's format. Anything that is not an
``UrbanosError`` is logged and shown as a generic 500.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import orjson
from fastapi.exceptions import RequestValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from urbanos.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    Overloaded,
    StorageUnavailable,
    UrbanosError,
)
from urbanos.routing import ErrorRenderer, register_error_renderer

log = logging.getLogger("urbanos.web")

Renderer = ErrorRenderer

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


def problem_body(exc: UrbanosError, instance: str = "", request_id: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://urbanos.dev/problems/{exc.code}",
        "title": _TITLES.get(exc.status, "Error"),
        "status": exc.status,
        "detail": exc.message,
        "code": exc.code,
    }
    if instance:
        body["instance"] = instance
    if exc.detail:
        body["errors"] = exc.detail
    if request_id:
        body["request_id"] = request_id
    return body


def problem_response(exc: UrbanosError, path: str = "", request_id: str = "") -> Response:
    headers = dict(exc.headers)
    return Response(
        orjson.dumps(problem_body(exc, path, request_id)),
        status_code=exc.status,
        media_type="application/problem+json",
        headers=headers,
    )


def render_problem(request: Request, exc: UrbanosError) -> Response:
    return problem_response(exc, request.url.path, request.scope.get("state", {}).get("request_id", ""))


def _renderer_for(request: Request) -> Renderer:
    path = request.url.path
    for prefix, renderer in getattr(request.app.state, "error_renderers", []):
        if path.startswith(prefix) or path == prefix.rstrip("/"):
            return renderer
    return render_problem


_LOGGED: dict[str, float] = {}  # code -> when last logged, for the errors a whole outage repeats


def _worth_logging(exc: UrbanosError) -> bool:
    """Shedding is counted in /metrics and never logged per request; a storage outage (database down, disk full,
    read-only) is logged once every ten seconds per cause, not once per refused request."""
    if not isinstance(exc, StorageUnavailable):
        return True
    now = time.monotonic()
    if now - _LOGGED.get(exc.code, -1e9) < 10.0:
        return False
    _LOGGED[exc.code] = now
    return True


def render(request: Request, exc: UrbanosError) -> Response:
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None and not any(k.lower() == "retry-after" for k in exc.headers):
        exc.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    if exc.status >= 500 and not isinstance(exc, Overloaded) and _worth_logging(exc):
        log.error("request failed: %s", exc.log_message, extra={"code": exc.code})
    try:
        return _renderer_for(request)(request, exc)
    except Exception:  # noqa: BLE001 - a broken renderer must not hide the error
        log.exception("error renderer failed")
        return render_problem(request, exc)


async def _urbanos_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UrbanosError)
    return render(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields: dict[str, list[str]] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        fields.setdefault(loc or "request", []).append(str(err.get("msg", "invalid")))
    return render(request, BadRequest("The request is invalid: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in fields.items()), detail=fields))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        err: UrbanosError = NotFound(f"Nothing is served at {request.url.path}.")
    elif exc.status_code == 405:
        err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}.")
    else:
        err = UrbanosError(str(exc.detail), status=exc.status_code, code=f"http_{exc.status_code}")
    if exc.headers:
        err.headers.update(exc.headers)
    return render(request, err)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return render(request, UrbanosError("An unexpected error occurred; it has been logged."))


def install(app: Starlette) -> None:
    app.state.error_renderers = []
    app.add_exception_handler(UrbanosError, _urbanos_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


__all__ = ["install", "register_error_renderer", "render", "render_problem", "problem_response", "problem_body", "Renderer"]
