"""Request helpers for the catalogue's routes (and its sub-packages').

The shared helpers come from ``urbanos.routing``; ``json_body`` words its error as CKAN does.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from urbanos.routing import base_url, identity_of, platform_of, register_error_renderer
from urbanos.routing import json_body as _json_body


async def json_body(request: Request) -> Any:
    return await _json_body(request, invalid="Bad request - JSON Error: {}.")


__all__ = ["platform_of", "identity_of", "json_body", "base_url", "register_error_renderer"]
