"""Times: parse ISO 8601 instants and intervals, store fixed-width UTC text, render ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from urbanos.errors import BadRequest

STORE_FMT = "%Y-%m-%dT%H:%M:%S.%fZ"


def parse_instant(value: Any, what: str = "time") -> datetime:
    if isinstance(value, datetime):
        dt = value
    else:
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(f"{what}: {value!r} is not an ISO 8601 time.")
        s = value.strip()
        try:
            dt = datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s)
        except ValueError:
            raise BadRequest(f"{what}: {value!r} is not an ISO 8601 time.") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def store(dt: datetime) -> str:
    u = dt.astimezone(UTC)
    return (f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
            f".{u.microsecond:06d}Z")


def store_instant(value: Any, what: str = "time") -> str:
    # fast path for the common UTC form (2024-01-02T03:04:05Z, optionally with a fraction)
    if isinstance(value, str) and len(value) >= 20 and value[-1] == "Z" and value[10] == "T" and value[19] in ".Z":
        frac = value[20:-1]
        if len(frac) <= 6 and (not frac or frac.isdigit()):
            try:
                datetime.fromisoformat(value[:19])
            except ValueError:
                raise BadRequest(f"{what}: {value!r} is not an ISO 8601 time.") from None
            return f"{value[:19]}.{frac.ljust(6, '0')}Z"
    return store(parse_instant(value, what))


def store_interval(value: Any, what: str = "time") -> tuple[str, str | None]:
    """``start/end`` or an instant; returns (start, end or None for an instant)."""
    if isinstance(value, str) and "/" in value:
        a, _, b = value.partition("/")
        start, end = store_instant(a, what), store_instant(b, what)
        if end < start:
            raise BadRequest(f"{what}: the interval {value!r} ends before it starts.")
        return start, end
    return store_instant(value, what), None


def render(stored: str | None) -> str | None:
    """Stored fixed-width text to ISO 8601 (fraction dropped when zero, else milliseconds or more)."""
    if stored is None:
        return None
    if not isinstance(stored, str):
        stored = store(stored)
    if len(stored) != 27:
        return stored
    frac = stored[20:26]
    if frac == "000000":
        return stored[:19] + "Z"
    if frac.endswith("000"):
        return stored[:23] + "Z"
    return stored


def render_interval(start: str | None, end: str | None) -> str | None:
    if start is None:
        return None
    if end is None:
        return render(start)
    return f"{render(start)}/{render(end)}"


def now_stored() -> str:
    return store(datetime.now(UTC))


__all__ = ["parse_instant", "store", "store_instant", "store_interval", "render", "render_interval", "now_stored"]
