"""What a planning request body may hold: texts, the project's fields, geometries inside the project's area.
Every refusal is a :class:`~urbanos.errors.ValidationFailed` naming the field."""

from __future__ import annotations

import math
from typing import Any

import orjson
from shapely.errors import GEOSException
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from urbanos.core.time import format_stored, parse_instant
from urbanos.errors import BadRequest, NotFound, ValidationFailed

MAX_TEXT = 4000
MAX_VERTICES = 2000
MAX_CATEGORIES = 50


def refuse(field: str, message: str, code: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, code=code, detail={"field": field})


def obj(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("The body is a JSON object.")
    return body


def text(body: dict[str, Any], key: str, limit: int, required: bool = True) -> str:
    v = body.get(key, None if required else "")
    if not isinstance(v, str) or (required and not v.strip()) or len(v) > limit:
        raise refuse(key, f"{key} is a text of {1 if required else 0} to {limit} characters.")
    return v.strip()


def name(body: dict[str, Any]) -> str:
    v = text(body, "name", 100)
    if not v.isascii() or not v.replace("-", "").isalnum() or v != v.lower():
        raise refuse("name", "name is lower-case letters, digits and hyphens.")
    return v


def instant(body: dict[str, Any], key: str) -> str:
    v = body.get(key)
    try:
        if not isinstance(v, str):
            raise ValueError(v)
        return format_stored(parse_instant(v))
    except (ValueError, OverflowError):
        raise refuse(key, f"{key} is an ISO 8601 date or date-time.") from None


def categories(body: dict[str, Any]) -> list[str]:
    v = body.get("categories")
    if (not isinstance(v, list) or not 1 <= len(v) <= MAX_CATEGORIES
            or any(not isinstance(x, str) or not x.strip() or len(x) > 100 for x in v) or len(set(v)) != len(v)):
        raise refuse("categories", f"categories is a list of 1 to {MAX_CATEGORIES} distinct texts of up to 100 "
                                   "characters.")
    return [x.strip() for x in v]


def rubrics(body: dict[str, Any], cats: list[str]) -> dict[str, list[str]]:
    """``rubrics``: the sub-categories of each category (an object: category -> distinct rubric names; a category
    without rubrics may be left out)."""
    v = body.get("rubrics", {})
    message = (f"rubrics is an object naming categories of the project, each with a list of up to {MAX_CATEGORIES} "
               "distinct texts of up to 100 characters.")
    if not isinstance(v, dict) or len(v) > MAX_CATEGORIES:
        raise refuse("rubrics", message)
    out: dict[str, list[str]] = {}
    for cat, names in v.items():
        if (cat not in cats or not isinstance(names, list) or len(names) > MAX_CATEGORIES
                or any(not isinstance(x, str) or not x.strip() or len(x) > 100 for x in names)
                or len({x.strip() for x in names}) != len(names)):
            raise refuse("rubrics", message)
        if names:
            out[cat] = [x.strip() for x in names]
    return out


def flag(body: dict[str, Any], key: str, default: bool) -> bool:
    v = body.get(key, default)
    if not isinstance(v, bool):
        raise refuse(key, f"{key} is true or false.")
    return v


def _finite(coords: Any, depth: int) -> int:
    """The number of positions in ``coords`` (nested ``depth`` levels); ValueError for anything not finite WGS84."""
    if depth == 0:
        if (not isinstance(coords, list) or len(coords) not in (2, 3)
                or any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) for x in coords)
                or not -180 <= coords[0] <= 180 or not -90 <= coords[1] <= 90):
            raise ValueError("a position is [longitude, latitude] in WGS84")
        return 1
    if not isinstance(coords, list) or not coords:
        raise ValueError("empty coordinates")
    return sum(_finite(x, depth - 1) for x in coords)


_DEPTH = {"Point": 0, "LineString": 1, "Polygon": 2, "MultiPolygon": 3}


def geometry(value: Any, field: str, kinds: tuple[str, ...]) -> BaseGeometry:
    """A GeoJSON geometry of one of ``kinds`` (WGS84 longitude/latitude, valid, at most MAX_VERTICES positions)."""
    if not isinstance(value, dict) or value.get("type") not in kinds:
        raise refuse(field, f"{field} is a GeoJSON geometry of type {' or '.join(kinds)}.")
    try:
        if _finite(value.get("coordinates"), _DEPTH[value["type"]]) > MAX_VERTICES:
            raise ValueError(f"at most {MAX_VERTICES} positions")
        geom = shape({"type": value["type"], "coordinates": value["coordinates"]})
    except (ValueError, TypeError, AttributeError, IndexError, GEOSException) as exc:
        raise refuse(field, f"{field} is not a valid GeoJSON {value['type']}: {str(exc)[:120]}.") from None
    if geom.is_empty or not geom.is_valid:
        raise refuse(field, f"{field} is not a valid {value['type']} (empty or self-intersecting).")
    return geom


def geojson(geom: BaseGeometry) -> str:
    return orjson.dumps(geom.__geo_interface__).decode()


def id_of(raw: Any, what: str) -> int:
    s = str(raw)
    if not s.isascii() or not s.isdigit() or len(s) > 18:
        raise NotFound(f"{what} {s[:40]!r} does not exist.")
    return int(s)


__all__ = ["MAX_TEXT", "refuse", "obj", "text", "name", "instant", "categories", "rubrics", "flag", "geometry", "geojson",
           "id_of"]
