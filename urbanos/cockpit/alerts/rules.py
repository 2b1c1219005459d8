"""Alert rule bodies: what ``POST /alerts/rules`` and ``PATCH /alerts/rules/{id}`` accept, checked field by field.

A refusal is a 400 whose problem names the field (``errors: {"field": "threshold.clear"}``)::

    {"name": "Bin full", "datastream": 12,
     "threshold": {"operator": ">=", "fire": 80, "clear": 70},
     "pending_seconds": 300, "staleness_minutes": 60,
     "channels": {"webhook": "https://hooks.example.org/bins", "mqtt": true, "email": ["ops@city.example"]},
     "enabled": true}
"""

from __future__ import annotations

import math
import re
from typing import Any

from urbanos.cockpit.alerts.engine import OPERATORS
from urbanos.core.ids import MAX_ID, parse_id
from urbanos.errors import BadRequest
from urbanos.governance.outbound import OutboundRefused, target

KEYS = ("name", "datastream", "threshold", "pending_seconds", "staleness_minutes", "channels", "enabled")
PATCH_ONLY = ("rotate_secret",)
MAX_PENDING = 7 * 86400.0
MAX_STALE_MINUTES = 30 * 1440.0
MAX_RECIPIENTS = 20
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def bad(field: str, message: str) -> BadRequest:
    return BadRequest(f"{field}: {message}", detail={"field": field}, code="invalid_rule")


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise bad(field, "must be a finite number.")
    return float(value)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad("name", "must be a non-empty string.")
    if len(value) > 200 or any(ord(ch) < 32 for ch in value):
        raise bad("name", "must be at most 200 characters, without control characters.")
    return value.strip()


def _datastream(value: Any) -> int:
    if isinstance(value, dict) and set(value) == {"@iot.id"}:
        value = value["@iot.id"]
    if isinstance(value, str):
        value = parse_id(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise bad("datastream", "must be the id of a Datastream (a positive integer).")
    return value


def threshold(value: Any) -> dict[str, Any] | None:
    """``{"operator", "fire", "clear"}`` with the clear value on the right side of the fire value (or None)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad("threshold", "must be an object with operator, fire and clear, or null.")
    unknown = sorted(set(value) - {"operator", "fire", "clear"})
    if unknown:
        raise bad(f"threshold.{unknown[0]}", "is not a key of a threshold (operator, fire, clear).")
    op = value.get("operator")
    if op not in OPERATORS:
        raise bad("threshold.operator", f"must be one of {', '.join(OPERATORS)}.")
    if "fire" not in value:
        raise bad("threshold.fire", "is required.")
    fire = _number(value["fire"], "threshold.fire")
    clear = fire if value.get("clear") is None else _number(value["clear"], "threshold.clear")
    if op in (">", ">=") and clear > fire:
        raise bad("threshold.clear", f"must not be above the fire value {fire:g} for operator {op}.")
    if op in ("<", "<=") and clear < fire:
        raise bad("threshold.clear", f"must not be below the fire value {fire:g} for operator {op}.")
    return {"operator": op, "fire": fire, "clear": clear}


def _pending(value: Any) -> float:
    seconds = _number(value, "pending_seconds")
    if seconds < 0 or seconds > MAX_PENDING:
        raise bad("pending_seconds", f"must be between 0 and {MAX_PENDING:g} seconds.")
    return seconds


def _staleness(value: Any) -> float | None:
    if value is None:
        return None
    minutes = _number(value, "staleness_minutes")
    if minutes <= 0 or minutes > MAX_STALE_MINUTES:
        raise bad("staleness_minutes", f"must be more than 0 and at most {MAX_STALE_MINUTES:g} minutes.")
    return minutes


def channels(value: Any) -> dict[str, Any]:
    """``{"webhook": url | None, "mqtt": bool, "email": [address, …]}``."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise bad("channels", "must be an object with webhook, mqtt and email.")
    unknown = sorted(set(value) - {"webhook", "mqtt", "email"})
    if unknown:
        raise bad(f"channels.{unknown[0]}", "is not a channel (webhook, mqtt, email).")
    hook = value.get("webhook")
    if hook is not None:
        if not isinstance(hook, str) or len(hook) > 2000:
            raise bad("channels.webhook", "must be an http or https URL (at most 2,000 characters).")
        try:
            target(hook)
        except OutboundRefused:
            raise bad("channels.webhook", "must be an http or https URL with a host.") from None
    mqtt = value.get("mqtt", False)
    if not isinstance(mqtt, bool):
        raise bad("channels.mqtt", "must be true or false.")
    mail = value.get("email") or []
    if not isinstance(mail, list) or len(mail) > MAX_RECIPIENTS:
        raise bad("channels.email", f"must be a list of at most {MAX_RECIPIENTS} addresses.")
    for i, addr in enumerate(mail):
        if not isinstance(addr, str) or len(addr) > 254 or not _EMAIL.match(addr):
            raise bad(f"channels.email[{i}]", "is not an e-mail address.")
    return {"webhook": hook, "mqtt": mqtt, "email": list(dict.fromkeys(mail))}


def parse_rule(body: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The rule's values from a POST body (``current`` None) or a PATCH body merged onto ``current`` (the rule's
    values as this function returns them)."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", code="invalid_rule")
    allowed = KEYS + (PATCH_ONLY if current is not None else ())
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise bad(unknown[0], f"is not a key of an alert rule ({', '.join(allowed)}).")
    out: dict[str, Any] = dict(current or {})
    if current is None:
        for key in ("name", "datastream"):
            if key not in body:
                raise bad(key, "is required.")
    if "name" in body:
        out["name"] = _name(body["name"])
    if "datastream" in body:
        out["datastream"] = _datastream(body["datastream"])
    if "threshold" in body or current is None:
        out["threshold"] = threshold(body.get("threshold"))
    if "pending_seconds" in body or current is None:
        out["pending_seconds"] = _pending(body.get("pending_seconds", 0))
    if "staleness_minutes" in body or current is None:
        out["staleness_minutes"] = _staleness(body.get("staleness_minutes"))
    if "channels" in body or current is None:
        out["channels"] = channels(body.get("channels"))
    if "enabled" in body or current is None:
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise bad("enabled", "must be true or false.")
        out["enabled"] = enabled
    if "rotate_secret" in body and not isinstance(body["rotate_secret"], bool):
        raise bad("rotate_secret", "must be true or false.")
    if out["threshold"] is None and out["staleness_minutes"] is None:
        raise bad("threshold", "a rule needs a threshold, a staleness_minutes, or both.")
    if out["pending_seconds"] and out["threshold"] is None:
        raise bad("pending_seconds", "applies to a threshold; the rule has none.")
    return out


__all__ = ["KEYS", "parse_rule", "threshold", "channels", "bad", "MAX_RECIPIENTS"]
