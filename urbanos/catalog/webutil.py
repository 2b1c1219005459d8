"""Request helpers for the catalogue's routes (and its sub-packages').

The layering keeps capabilities below ``urbanos.web``, so these mirror ``urbanos.web.deps`` and
``urbanos.web.errors.register_error_renderer`` without importing them.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from urbanos.errors import BadRequest


def platform_of(request: Request) -> Any:
    return request.app.state.platform


async def identity_of(request: Request) -> Any:
    """Authenticate once per request: Bearer tokens and the bare token CKAN clients send."""
    state = request.scope.setdefault("state", {})
    cached = state.get("identity")
    if cached is not None:
        return cached
    gate = platform_of(request).gate
    token = gate.token_from_headers(request.headers.get("authorization"), request.headers.get("x-ckan-api-key"))
    ident = await gate.authenticate(token)
    state["identity"] = ident
    return ident


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON document is expected.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Bad request - JSON Error: {exc}.") from None


def base_url(request: Request) -> str:
    configured = platform_of(request).settings.get("base_url")
    if configured:
        return str(configured).rstrip("/")
    return str(request.base_url).rstrip("/")


def register_error_renderer(app: Any, prefix: str, renderer: Any) -> None:
    renderers = app.state.error_renderers
    renderers.append((prefix, renderer))
    renderers.sort(key=lambda item: len(item[0]), reverse=True)


__all__ = ["platform_of", "identity_of", "json_body", "base_url", "register_error_renderer"]
