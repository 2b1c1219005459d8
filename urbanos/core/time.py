"""ISO 8601 / RFC 3339 dates and times read by strict ASCII rules.

``datetime.fromisoformat`` accepts any character between the date and the time (``2024-01-01²00:00:00`` is
midnight to it), and ``str.isdigit`` accepts digits beyond ASCII: text read with them can carry characters into
stored values or make a look-alike mean a time. Here every digit is ``0-9`` and every separator is spelt out:

- a date ``YYYY-MM-DD``;
- a date and time ``YYYY-MM-DDThh:mm[:ss[.fraction]][offset]`` with ``T``, ``t`` or a space between them, a
  fraction of 1 to 9 digits after ``.`` or ``,`` (kept to the microsecond, the rest cut) and an offset ``Z``,
  ``z``, ``±hh:mm``, ``±hhmm`` or ``±hh`` (none means UTC).

Anything else raises ``ValueError``. :func:`parse_lenient` is the wider reader of imported values and CQL2
literals (any form ``datetime.fromisoformat`` takes, a space or ``/`` in the date, still ASCII only). Nothing
here does I/O.

Times are stored as text in one fixed-width UTC form, ``YYYY-MM-DDThh:mm:ss.ffffffZ`` (:data:`STORED_FORMAT`),
so that text order is time order on every back end: :func:`now_stored` and :func:`format_stored` write it
(years before 1000 padded with zeros, which ``strftime("%Y")`` does not do on every platform).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

_DATE = r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
_TIME = (r"(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?"
         r"(?P<tz>[Zz]|(?P<sign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)?")
_INSTANT = re.compile(rf"{_DATE}(?:[Tt ]{_TIME})?")
_DATE_ONLY = re.compile(_DATE)


def is_date_only(text: str) -> bool:
    """True for ``YYYY-MM-DD`` (ASCII digits) and nothing else."""
    return _DATE_ONLY.fullmatch(text) is not None


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` as a date (ValueError for anything else, or an impossible day)."""
    m = _DATE_ONLY.fullmatch(text)
    if m is None:
        raise ValueError(f"{text[:40]!r} is not a date (YYYY-MM-DD)")
    return date(int(m["y"]), int(m["mo"]), int(m["d"]))


def parse_instant(text: str, *, naive_offset: timezone | None = UTC) -> datetime:
    """An instant as a datetime in its own offset (a date alone is its midnight; no offset means
    ``naive_offset``: UTC by default, or None for a naive datetime). ValueError for anything that is not one of
    the forms above, or an impossible date or time."""
    if not isinstance(text, str):
        raise ValueError("an ISO 8601 date-time is text")
    m = _INSTANT.fullmatch(text)
    if m is None:
        raise ValueError(f"{text[:40]!r} is not an ISO 8601 date-time (YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm])")
    if m["h"] is None:
        return datetime(int(m["y"]), int(m["mo"]), int(m["d"]), tzinfo=naive_offset)
    frac = m["f"] or ""
    micro = int((frac + "000000")[:6])
    tz: timezone | None = naive_offset
    if m["tz"] is not None:
        if m["tz"] in "Zz":
            tz = UTC
        else:
            oh, om = int(m["oh"]), int(m["om"] or 0)
            if oh > 23 or om > 59:
                raise ValueError(f"{text[:40]!r} has an impossible offset")
            delta = timedelta(hours=oh, minutes=om)
            tz = timezone(-delta if m["sign"] == "-" else delta)
    return datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"] or 0), micro,
                    tzinfo=tz)


def parse_utc(text: str) -> datetime:
    """:func:`parse_instant` converted to UTC (OverflowError when the instant leaves years 1 to 9999 in UTC)."""
    return parse_instant(text).astimezone(UTC)


_SPACED = re.compile(r"^[0-9]{4}-[0-9][0-9]-[0-9][0-9] [0-9]")
_SLASHED = re.compile(r"^[0-9]{4}/[0-9][0-9]/[0-9][0-9]")


def parse_lenient(value: object) -> datetime:
    """A date or date-time as an aware UTC datetime; raises ValueError (or OverflowError).

    ``datetime`` and ``date`` objects are taken as they are; text is ISO 8601 as ``datetime.fromisoformat`` reads
    it (naive means UTC), also with a space between date and time or ``/`` between the parts of the date. Text
    beyond ASCII is refused (``fromisoformat`` takes any character between date and time)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        s = str(value).strip()
        if not s:
            raise ValueError("empty date-time")
        if not s.isascii():
            raise ValueError("not an ISO 8601 date-time (ASCII digits and separators only)")
        s = s.replace(" ", "T", 1) if _SPACED.match(s) else s
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        s = s.replace("/", "-") if _SLASHED.match(s) else s
        dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


STORED_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
"""The stored form of an instant: fixed-width UTC text, microseconds, ``Z``."""


def format_stored(dt: datetime) -> str:
    """``dt`` in the stored form (a naive ``dt`` is taken as UTC; OverflowError when it leaves years 1 to 9999 in
    UTC)."""
    u = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"


def now_stored(after_seconds: float = 0.0) -> str:
    """The current instant (plus ``after_seconds``) in the stored form."""
    return format_stored(datetime.now(UTC) + timedelta(seconds=after_seconds))


__all__ = ["parse_instant", "parse_utc", "parse_lenient", "parse_date", "is_date_only", "STORED_FORMAT", "format_stored",
           "now_stored"]
