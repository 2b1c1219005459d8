"""Helpers that capability routes share: the platform, the caller's identity, JSON bodies, base URL,
and the hook through which a standard API registers its error renderer.

It sits beside ``platform.py`` so that capability ``routes.py`` modules can use it without importing
``urbanos.web``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from urbanos.core.text import nul_field, nul_problem
from urbanos.errors import BadRequest, UnsupportedMediaType, UrbanosError
from urbanos.governance import Identity
from urbanos.platform import Platform
from urbanos.query.limits import BODY_MAX_NESTING, json_problem


def platform_of(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


async def identity_of(request: Request) -> Identity:
    """Authenticate once per request (Authorization: Bearer, or the bare token CKAN clients send)."""
    cached = request.scope.get("state", {}).get("identity")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    platform = platform_of(request)
    token = platform.gate.token_from_headers(request.headers.get("authorization"), request.headers.get("x-ckan-api-key"))
    ident = await platform.gate.authenticate(token, client=request.client.host if request.client else None)
    request.scope.setdefault("state", {})["identity"] = ident
    return ident


async def json_body(request: Request, *, require_json_type: bool = False,
                    invalid: str = "The request body is not valid JSON: {}.", code: str | None = None) -> Any:
    """Parse the body as JSON; malformed JSON is a 400 with the position of the problem, worded by ``invalid``
    (``code``: the error code of the standard, e.g. OGC's ``InvalidRequestBody``)."""
    ctype = request.headers.get("content-type", "")
    if require_json_type and ctype and "json" not in ctype:
        raise UnsupportedMediaType(f"Expected a JSON body, got {ctype!r}.")
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON document is expected.", code=code)
    if (problem := json_problem(raw, max_nesting=BODY_MAX_NESTING, what="The request body")) is not None:
        raise BadRequest(problem, code=code)  # bounded before parsing: what is read must be written back and walked
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(invalid.format(exc), code=code) from None
    if (nul := nul_problem(body)) is not None:  # PostgreSQL cannot store it: refused on every back end alike
        raise BadRequest(nul, code=code, detail={"field": nul_field(body)})
    return body


def base_url(request: Request) -> str:
    """The public base URL for links: the setting ``base_url``, else the request's scheme and Host. The platform
    middleware has checked that Host against ``allowed_hosts`` (a 400 otherwise) and applied X-Forwarded-Proto and
    -Host only from ``trusted_proxies``, so a client cannot make the links (or a cached page) point elsewhere."""
    configured = platform_of(request).settings.base_url
    if configured:
        return str(configured).rstrip("/")
    return str(request.base_url).rstrip("/")


ErrorRenderer = Callable[[Request, UrbanosError], Response]
"""``renderer(request, exc)``: the response of an error in a standard's own format."""


def register_error_renderer(app: Starlette, prefix: str, renderer: ErrorRenderer) -> None:
    """Render errors under ``prefix`` with ``renderer(request, exc)`` (the standard's own error format)."""
    renderers: list[tuple[str, ErrorRenderer]] = app.state.error_renderers
    renderers.append((prefix, renderer))
    renderers.sort(key=lambda item: len(item[0]), reverse=True)


__all__ = ["platform_of", "identity_of", "json_body", "base_url", "register_error_renderer", "ErrorRenderer"]
