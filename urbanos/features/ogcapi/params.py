"""Parsing and validation of the items query parameters (Part 1–3). Every bad value is a 400."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from urbanos.core.ids import parse_id
from urbanos.core.time import format_stored
from urbanos.errors import BadRequest
from urbanos.features.ogcapi import cql2
from urbanos.features.ogcapi import crs as crsmod
from urbanos.features.store import parse_datetime

KNOWN = {"f", "limit", "offset", "after", "bbox", "bbox-crs", "datetime", "crs", "sortby", "properties", "filter", "filter-lang",
         "filter-crs", "skipGeometry", "token", "lang"}
FORMATS = ("json", "html", "csv", "geojson")


def bad(param: str, msg: str) -> BadRequest:
    return BadRequest(f"{param}: {msg}", code="InvalidParameterValue")


@dataclass
class ItemsQuery:
    limit: int = 10
    offset: int = 0
    after: int | None = None  # key-set paging: features with an id above this one (next links carry it)
    bbox: list[list[float]] = field(default_factory=list)  # boxes in CRS84 (two when crossing the antimeridian)
    datetime: tuple[str, str] | None = None
    crs: str = crsmod.CRS84
    sortby: list[tuple[str, bool]] = field(default_factory=list)
    properties: list[str] | None = None
    filter: Any = None
    filter_crs: str = crsmod.CRS84
    equals: dict[str, str] = field(default_factory=dict)
    skip_geometry: bool = False
    fmt: str = "json"
    raw: dict[str, str] = field(default_factory=dict)


def parse_format(value: str | None, accept: str = "") -> str:
    if value is not None:
        v = value.strip().lower()
        if v not in FORMATS:
            raise bad("f", f"{value!r} is not a supported format; use json, html or csv.")
        return "json" if v == "geojson" else v
    a = accept.lower()
    if "text/html" in a and "json" not in a.split("text/html")[0]:
        return "html"
    if "text/csv" in a:
        return "csv"
    return "json"


def parse_limit(value: str | None, default: int, maximum: int) -> int:
    if value is None:
        return default
    if not re.fullmatch(r"\s*[0-9]{1,12}\s*", value):
        raise bad("limit", f"{value!r} is not an integer between 1 and {maximum}.")
    n = int(value)
    if n < 1:
        raise bad("limit", f"{value!r} is not an integer between 1 and {maximum}.")
    return min(n, maximum)


def parse_offset(value: str | None) -> int:
    if value is None:
        return 0
    if not re.fullmatch(r"\s*[0-9]{1,12}\s*", value):
        raise bad("offset", f"{value!r} is not a non-negative integer.")
    return int(value)


def parse_bbox(value: str, bbox_crs: str | None) -> list[list[float]]:
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise bad("bbox", "expected four (or six) comma-separated numbers.")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise bad("bbox", f"{value!r} contains something that is not a number.") from None
    if not all(math.isfinite(n) for n in nums):
        raise bad("bbox", "the numbers must be finite.")
    if len(nums) == 6:
        nums = [nums[0], nums[1], nums[3], nums[4]]
    c = crsmod.normalise(bbox_crs, "bbox-crs") if bbox_crs is not None else crsmod.CRS84
    if c != crsmod.CRS84:
        if c.endswith("/EPSG/0/4326"):
            nums = [nums[1], nums[0], nums[3], nums[2]]
            c = crsmod.CRS84
        else:
            if nums[0] > nums[2] or nums[1] > nums[3]:
                raise bad("bbox", "the lower corner must be below and left of the upper corner.")
            try:
                nums = crsmod.bbox_to_storage(nums, c)
            except Exception:  # noqa: BLE001 - pyproj errors for out-of-range boxes
                raise bad("bbox", "the box cannot be transformed from bbox-crs.") from None
            if not all(math.isfinite(n) for n in nums):
                raise bad("bbox", "the box lies outside the area of bbox-crs.")
            return [nums]
    minx, miny, maxx, maxy = nums
    if miny > maxy:
        raise bad("bbox", "the southern edge is north of the northern edge.")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90 and -180 <= minx <= 180 and -180 <= maxx <= 180):
        raise bad("bbox", "longitudes must lie in [-180, 180] and latitudes in [-90, 90].")
    if minx > maxx:  # crosses the antimeridian
        return [[minx, miny, 180.0, maxy], [-180.0, miny, maxx, maxy]]
    return [nums]


_DURATION = re.compile(
    r"^P(?!$)(?:([0-9]+(?:[.,][0-9]+)?)Y)?(?:([0-9]+(?:[.,][0-9]+)?)M)?(?:([0-9]+(?:[.,][0-9]+)?)W)?(?:([0-9]+(?:[.,][0-9]+)?)D)?"
    r"(?:T(?=[0-9])(?:([0-9]+(?:[.,][0-9]+)?)H)?(?:([0-9]+(?:[.,][0-9]+)?)M)?(?:([0-9]+(?:[.,][0-9]+)?)S)?)?$"
)


def _duration(s: str) -> Any:
    m = _DURATION.match(s.strip().upper())
    if not m:
        raise ValueError(f"{s!r} is not an ISO 8601 duration")
    y, mo, w, d, h, mi, sec = (float(g.replace(",", ".")) if g else 0.0 for g in m.groups())
    if y != int(y) or mo != int(mo):
        raise ValueError("years and months must be whole numbers")
    return relativedelta(years=int(y), months=int(mo)) + timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=sec)


def _instant_bounds(s: str) -> tuple[datetime, datetime]:
    s = s.strip()
    dt = parse_datetime(s)
    if re.fullmatch(r"[0-9]{4}-[0-9][0-9]-[0-9][0-9]", s):  # a date is the whole day
        return dt, dt + timedelta(days=1) - timedelta(microseconds=1)
    return dt, dt


def parse_datetime_param(value: str) -> tuple[str, str]:
    """``datetime=``: an instant, a date, or an interval ``a/b`` with ``..``/empty open ends or ISO 8601 durations."""
    v = value.strip()
    try:
        if "/" not in v:
            first, last = _instant_bounds(v)
            return format_stored(first), format_stored(last)
        a, _, b = v.partition("/")
        a, b = a.strip(), b.strip()
        if a in ("", "..") and b in ("", ".."):
            if a == b == "":
                raise ValueError("both ends are missing")
            return "0000-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"
        if a.upper().startswith("P") and b.upper().startswith("P"):
            raise ValueError("only one end may be a duration")
        if a.upper().startswith("P"):
            end = _instant_bounds(b)[1]
            return format_stored(end - _duration(a)), format_stored(end)
        if b.upper().startswith("P"):
            start = _instant_bounds(a)[0]
            return format_stored(start), format_stored(start + _duration(b))
        lo = "0000-01-01T00:00:00.000000Z" if a in ("", "..") else format_stored(_instant_bounds(a)[0])
        hi = "9999-12-31T23:59:59.999999Z" if b in ("", "..") else format_stored(_instant_bounds(b)[1])
    except (ValueError, OverflowError, TypeError) as exc:
        raise bad("datetime", f"{value!r} is not an RFC 3339 date-time, interval or duration interval ({exc}).") from None
    if lo > hi:
        raise bad("datetime", "the interval ends before it starts.")
    return lo, hi


def parse_sortby(value: str, known: set[str]) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    for part in value.split(","):
        p = part.strip()
        if not p:
            raise bad("sortby", "empty sort key.")
        asc = True
        if p[0] in "+-":
            asc, p = p[0] == "+", p[1:].strip()
        elif p.lower().endswith((" asc", " desc")):
            p, _, d = p.rpartition(" ")
            asc = d.lower() == "asc"
        if p not in known:
            raise bad("sortby", f"{p!r} is not a sortable property.")
        out.append((p, asc))
    return out


def parse_properties(value: str, known: set[str]) -> list[str]:
    names = [p.strip() for p in value.split(",") if p.strip()]
    for n in names:
        if n not in known:
            raise bad("properties", f"{n!r} is not a property of this collection.")
    return names


def parse_items(q: Mapping[str, str], *, fields: set[str], default_limit: int, max_limit: int, accept: str = "",
                multi: Mapping[str, int] | None = None) -> ItemsQuery:
    """Validate every items parameter; unknown parameters that are not properties are a 400."""
    for k, n in (multi or {}).items():
        if n > 1 and (k in KNOWN or k in fields):
            raise bad(k, "is given more than once.")
    out = ItemsQuery(raw={k: v for k, v in q.items()})
    out.fmt = parse_format(q.get("f"), accept)
    out.limit = parse_limit(q.get("limit"), default_limit, max_limit)
    out.offset = parse_offset(q.get("offset"))
    if q.get("after") is not None:
        after = parse_id(q["after"])
        if after is None:
            raise bad("after", f"{q['after']!r} is not a feature id (a non-negative integer written in ASCII digits).")
        out.after = after
    if q.get("bbox") is not None:
        out.bbox = parse_bbox(q["bbox"], q.get("bbox-crs"))
    elif q.get("bbox-crs") is not None:
        crsmod.normalise(q["bbox-crs"], "bbox-crs")
    if q.get("datetime") is not None:
        out.datetime = parse_datetime_param(q["datetime"])
    if q.get("crs") is not None:
        out.crs = crsmod.normalise(q["crs"], "crs")
    if q.get("filter-crs") is not None:
        out.filter_crs = crsmod.normalise(q["filter-crs"], "filter-crs")
    if q.get("sortby") is not None:
        out.sortby = parse_sortby(q["sortby"], fields | {"id"})
        if out.after is not None:
            raise bad("after", "pages in feature id order and cannot be combined with sortby; use offset.")
    if q.get("properties") is not None:
        out.properties = parse_properties(q["properties"], fields)
    if q.get("skipGeometry") is not None:
        v = q["skipGeometry"].strip().lower()
        if v not in ("true", "false"):
            raise bad("skipGeometry", "use true or false.")
        out.skip_geometry = v == "true"
    if q.get("filter") is not None:
        out.filter = cql2.parse(q["filter"], q.get("filter-lang"), out.filter_crs)
    elif q.get("filter-lang") is not None and q["filter-lang"].strip().lower() not in ("cql2-text", "cql2-json"):
        raise bad("filter-lang", f"{q['filter-lang']!r} is not supported; use cql2-text or cql2-json.")
    for k, v in q.items():
        if k in KNOWN or k.startswith("_"):
            continue
        if k in fields:
            out.equals[k] = v
            continue
        raise bad(k, "is not a parameter of this operation nor a queryable property.")
    return out


__all__ = ["ItemsQuery", "parse_items", "parse_format", "parse_limit", "parse_bbox", "parse_datetime_param", "bad", "KNOWN"]
