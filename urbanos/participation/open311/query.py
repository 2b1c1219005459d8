"""The filters of ``GET /open311/v2/requests``: ``service_request_id`` (a comma list that overrides the rest),
``service_code``, ``start_date``, ``end_date`` (ISO 8601 with an offset; the window is 90 days at most and the last
90 days by default), ``status``, and the extensions ``page``/``page_size``, ``updated_after``/``updated_before``,
``extensions=true``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from urbanos.core.ids import is_ascii_digits
from urbanos.core.time import format_stored, parse_instant
from urbanos.errors import ValidationFailed

WINDOW = timedelta(days=90)
PAGE_SIZE = 100
PAGE_SIZE_MAX = 1000
MAX_IDS = 1000
KNOWN = {"service_request_id", "service_code", "start_date", "end_date", "status", "page", "page_size",
         "updated_after", "updated_before", "extensions", "jurisdiction_id", "api_key"}


@dataclass
class Filter:
    where: list[str]
    params: list[Any]
    limit: int
    offset: int
    extensions: bool


def _instant(value: str, name: str, errors: list[str]) -> datetime | None:
    try:
        dt = parse_instant(value, naive_offset=None)
    except ValueError:
        dt = None
    if dt is None or dt.tzinfo is None or "T" not in value:
        errors.append(f"{name}: an ISO 8601 date-time with an offset is expected (2024-05-01T00:00:00Z), "
                      f"got {value[:40]!r}.")
        return None
    return dt.astimezone(UTC)


def _int(value: str | None, name: str, default: int, hi: int, errors: list[str]) -> int:
    if value is None or value == "":
        return default
    if not is_ascii_digits(value) or len(value) > 9 or not 1 <= int(value) <= hi:
        errors.append(f"{name}: an integer from 1 to {hi}, got {value[:20]!r}.")
        return default
    return int(value)


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _window(q: dict[str, str], now: datetime, errors: list[str]) -> tuple[datetime | None, datetime | None]:
    start = _instant(q["start_date"], "start_date", errors) if q.get("start_date") else None
    end = _instant(q["end_date"], "end_date", errors) if q.get("end_date") else None
    if start is None and end is None:
        return now - WINDOW, None
    if start is not None and end is None:
        end = start + WINDOW
    elif end is not None and start is None:
        start = end - WINDOW
    if start is not None and end is not None:
        if end < start:
            errors.append("end_date: before start_date.")
        elif end - start > WINDOW:
            errors.append("start_date and end_date: the window spans more than 90 days.")
    return start, end


def parse(q: dict[str, str], now: datetime | None = None) -> Filter:
    errors = [f"{k[:40]}: unknown parameter." for k in q if k not in KNOWN][:5]
    size = _int(q.get("page_size"), "page_size", PAGE_SIZE, PAGE_SIZE_MAX, errors)
    page = _int(q.get("page"), "page", 1, 1_000_000, errors)
    ext = q.get("extensions", "false")
    if ext not in ("true", "false"):
        errors.append("extensions: true or false.")
    where: list[str] = []
    params: list[Any] = []
    if q.get("service_request_id"):
        ids = _list(q["service_request_id"])
        if len(ids) > MAX_IDS or not all(is_ascii_digits(i) and len(i) < 16 for i in ids):
            errors.append(f"service_request_id: a comma list of at most {MAX_IDS} request ids.")
        else:
            where.append(f"r.id IN ({', '.join('?' * len(ids))})")
            params += [int(i) for i in ids]
    else:
        start, end = _window(q, now or datetime.now(UTC), errors)
        for op, dt in ((">=", start), ("<=", end)):
            if dt is not None:
                where.append(f"r.requested_at {op} ?")
                params.append(format_stored(dt))
        if q.get("service_code"):
            codes = _list(q["service_code"])[:100] or [""]
            where.append(f"r.service_code IN ({', '.join('?' * len(codes))})")
            params += codes
        if q.get("status"):
            states = _list(q["status"])
            if not states or any(s not in ("open", "closed") for s in states):
                errors.append("status: open, closed, or both comma separated.")
            where.append(f"r.status IN ({', '.join('?' * len(states))})")
            params += states
        for name, op in (("updated_after", ">="), ("updated_before", "<=")):
            if q.get(name) and (dt := _instant(q[name], name, errors)) is not None:
                where.append(f"r.updated_at {op} ?")
                params.append(format_stored(dt))
    if errors:
        raise ValidationFailed(f"The query is not valid: {errors[0]}", detail={"errors": errors})
    return Filter(where, params, size, (page - 1) * size, ext == "true")


__all__ = ["Filter", "parse", "WINDOW", "PAGE_SIZE", "PAGE_SIZE_MAX"]
