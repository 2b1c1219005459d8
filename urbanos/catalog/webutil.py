"""Request helpers for the catalogue's routes (and its sub-packages').

The shared helpers come from ``urbanos.routing``; ``json_body`` words its error as CKAN does.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from urbanos.errors import BadRequest
from urbanos.routing import base_url, identity_of, platform_of, register_error_renderer


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON document is expected.")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"Bad request - JSON Error: {exc}.") from None


__all__ = ["platform_of", "identity_of", "json_body", "base_url", "register_error_renderer"]
