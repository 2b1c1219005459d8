"""JSON text in and out, the same way in every layer (orjson). Nothing here does I/O.

- :func:`dumps` writes JSON text; values JSON has no type for (datetimes, decimals, objects) are written as their
  ``str()``: for logs, messages and events, never for data that is read back as typed values.
- :func:`from_column` reads a value of a JSON column: TEXT (or bytes) on SQLite is decoded, a JSONB value arrives
  decoded from PostgreSQL already and is kept; NULL gives ``empty``. Text that is not JSON raises
  ``orjson.JSONDecodeError`` (a ``ValueError``), or is returned as it is with ``keep_text=True``.
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any) -> str:
    """``value`` as JSON text (``str()`` of what JSON has no type for)."""
    return orjson.dumps(value, default=str).decode()


def from_column(value: Any, *, empty: Any = None, keep_text: bool = False) -> Any:
    """A JSON column's value as Python values (see the module's description)."""
    if value is None:
        return empty
    if isinstance(value, memoryview):
        value = bytes(value)
    if not isinstance(value, str | bytes):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        if keep_text:
            return value
        raise


__all__ = ["dumps", "from_column"]
