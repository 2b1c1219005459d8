"""Field values: the stored form of each field type (:func:`coerce`) and back (:func:`decode`).

Times are stored as fixed-width UTC text (:data:`urbanos.core.time.STORED_FORMAT`), so text order is time order.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import orjson

from urbanos.core.time import format_stored, parse_lenient

parse_datetime = parse_lenient
"""Read a date or date-time as an aware UTC datetime (raises ValueError): the core reader of imported values."""


def coerce(ftype: str, value: Any) -> Any:
    """Convert a value to the stored form of ``ftype``; None/'' → None; raises ValueError."""
    if value is None or (isinstance(value, str) and value.strip() == "" and ftype != "string"):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if ftype == "string":
        return value if isinstance(value, str) else (orjson.dumps(value).decode() if isinstance(value, dict | list) else str(value))
    if ftype == "integer":
        return _integer(value)
    if ftype == "number":
        if isinstance(value, bool):
            return float(value)
        v = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
        if math.isinf(v):
            raise ValueError("infinite number")
        return v
    if ftype == "boolean":
        return _boolean(value)
    if ftype == "date":
        return parse_datetime(value).date().isoformat() if not isinstance(value, date) or isinstance(value, datetime) else value.isoformat()
    if ftype == "datetime":
        return format_stored(parse_datetime(value))
    if ftype == "json":
        return orjson.dumps(value).decode()
    raise ValueError(f"unknown field type {ftype!r}")


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{value!r} is not an integer")
        return int(value)
    return int(str(value).strip())


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    s = str(value).strip().lower()
    if s in ("true", "1", "yes", "t", "y", "ja"):
        return True
    if s in ("false", "0", "no", "f", "n", "nein"):
        return False
    raise ValueError(f"{value!r} is not a boolean")


def decode(ftype: str, value: Any) -> Any:
    """The stored form back to a JSON value."""
    if value is None:
        return None
    if ftype == "boolean":
        return bool(value)
    if ftype == "integer":
        return int(value)
    if ftype == "number":
        return float(value)
    if ftype == "json":
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


__all__ = ["parse_datetime", "coerce", "decode"]
