"""Times: parse ISO 8601 instants and intervals, store fixed-width UTC text, render ISO 8601.

Text is read by the ASCII rules of :mod:`urbanos.core.time` (digits 0-9, separators spelt out): a time with
any other character is a 400, never stored.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from urbanos.core import time as isotime
from urbanos.core.time import format_stored
from urbanos.errors import BadRequest

# the common UTC form, stored without a round trip through datetime (its date and time are still checked)
_PLAIN_UTC = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,6}))?Z")


def _not_a_time(what: str, value: Any) -> BadRequest:
    shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
    return BadRequest(f"{what}: {shown} is not an ISO 8601 time; write it like 2024-01-02T03:04:05Z or "
                      "2024-01-02T03:04:05.123+01:00 (ASCII digits).")


def parse_instant(value: Any, what: str = "time") -> datetime:
    if isinstance(value, datetime):
        dt = value
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
    else:
        if not isinstance(value, str) or not value.strip():
            raise _not_a_time(what, value)
        try:
            dt = isotime.parse_instant(value.strip())
        except ValueError:
            raise _not_a_time(what, value) from None
    try:
        return dt.astimezone(UTC)
    except OverflowError:
        raise BadRequest(f"{what}: {value!r} lies outside the years 1 to 9999 in UTC.") from None


store = format_stored
"""``dt`` in the stored form: :func:`urbanos.core.time.format_stored` (the name this module always had)."""


# whole seconds, the commonest form of all (a feed's, a mirror's): the time checked by the pattern, the day once
_WHOLE_SECONDS_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z")


@lru_cache(maxsize=4096)
def _possible_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True


def plain_utc(value: str) -> str | None:
    """The stored form of ``YYYY-MM-DDThh:mm:ss[.f{1,6}]Z`` (ASCII digits, a possible date and time), else None."""
    if len(value) == 20 and _WHOLE_SECONDS_UTC.fullmatch(value) is not None:
        return value[:19] + ".000000Z" if _possible_day(value[:10]) else None
    m = _PLAIN_UTC.fullmatch(value)
    if m is None:
        return None
    try:
        datetime.fromisoformat(m.group(1))
    except ValueError:
        return None
    return f"{m.group(1)}.{(m.group(2) or '').ljust(6, '0')}Z"


def store_instant(value: Any, what: str = "time") -> str:
    if isinstance(value, str) and (stored := plain_utc(value)) is not None:
        return stored
    return format_stored(parse_instant(value, what))


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
        stored = format_stored(stored)
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


__all__ = ["parse_instant", "plain_utc", "store", "store_instant", "store_interval", "render", "render_interval"]
