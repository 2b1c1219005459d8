"""What a budget request body may hold: texts and whole numbers within limits, a JSON object (each refusal a
:class:`~urbanos.errors.ValidationFailed` naming the field, or a :class:`~urbanos.errors.BadRequest`)."""

from __future__ import annotations

from typing import Any

from urbanos.errors import BadRequest, ValidationFailed

MAX_AMOUNT = 10**12


def text(body: dict[str, Any], key: str, limit: int, required: bool = True) -> str:
    v = body.get(key, None if required else "")
    if not isinstance(v, str) or (required and not v.strip()) or len(v) > limit:
        raise ValidationFailed(f"{key} is a text of 1 to {limit} characters.", detail={"field": key})
    return v.strip()


def whole(body: dict[str, Any], key: str, low: int, high: int, default: int | None = None) -> int | None:
    v = body.get(key, default)
    if v is None and default is None and key not in body:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise ValidationFailed(f"{key} is a whole number from {low} to {high}.", detail={"field": key})
    return v


def obj(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("The body is a JSON object.")
    return body


__all__ = ["MAX_AMOUNT", "text", "whole", "obj"]
