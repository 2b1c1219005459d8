"""Calls into the catalogue service (``platform.services["catalog"]``) with the caller's identity.

The DCAT export, the portal and the harvester read and write packages only through this module, so
every read passes the catalogue's access enforcement.
"""

from __future__ import annotations

import inspect
from typing import Any

from urbanos.errors import Forbidden, NotFound, ServiceUnavailable


def platform_of(request: Any) -> Any:
    return request.app.state.platform


async def identity_of(request: Any) -> Any:
    """The caller's identity, authenticated once per request (the same rules as ``urbanos.web.deps``:
    Bearer, or the bare token CKAN clients send in Authorization or X-CKAN-API-Key)."""
    state = request.scope.setdefault("state", {})
    cached = state.get("identity")
    if cached is not None:
        return cached
    gate = platform_of(request).gate
    token = gate.token_from_headers(request.headers.get("authorization"), request.headers.get("x-ckan-api-key"))
    ident = await gate.authenticate(token)
    state["identity"] = ident
    return ident


def base_url(request: Any) -> str:
    configured = platform_of(request).settings.base_url
    if configured:
        return str(configured).rstrip("/")
    return str(request.base_url).rstrip("/")


def service(platform: Any) -> Any:
    svc = platform.services.get("catalog")
    if svc is None:
        raise ServiceUnavailable("The catalogue service is not available on this platform.")
    return svc


async def call(platform: Any, action: str, identity: Any, data: dict[str, Any] | None = None) -> Any:
    """``service.<action>(identity, data)``; awaits the result when it is a coroutine."""
    fn = getattr(service(platform), action, None)
    if fn is None:
        raise ServiceUnavailable(f"The catalogue service has no {action!r} operation.")
    result = fn(identity, dict(data or {}))
    if inspect.isawaitable(result):
        result = await result
    return result


async def search(platform: Any, identity: Any, **params: Any) -> dict[str, Any]:
    return dict(await call(platform, "package_search", identity, params))


async def show(platform: Any, identity: Any, name: str) -> dict[str, Any]:
    """One package the caller may see; NotFound for a package that is missing or hidden from the caller."""
    try:
        return dict(await call(platform, "package_show", identity, {"id": name}))
    except Forbidden:
        raise NotFound(f"Dataset {name!r} not found.") from None


async def all_packages(platform: Any, identity: Any, *, page_size: int = 500, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start = 0
    while True:
        res = await search(platform, identity, rows=page_size, start=start, **params)
        batch = list(res.get("results") or [])
        out.extend(batch)
        start += len(batch)
        if not batch or start >= int(res.get("count") or 0):
            return out


__all__ = ["platform_of", "identity_of", "base_url", "service", "call", "search", "show", "all_packages"]
