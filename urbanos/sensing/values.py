"""Request bodies to column values: which keys an entity takes, ``@iot.id`` links, geometries, times and results.

Pure checks and conversions, shared by creates (:mod:`urbanos.sensing.write`), updates
(:mod:`urbanos.sensing.update`) and bulk ingest (:mod:`urbanos.sensing.dataarray`); nothing here reads the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from urbanos.core.ids import parse_id
from urbanos.errors import BadRequest
from urbanos.sensing.model import EntityType
from urbanos.sensing.timefmt import store_instant, store_interval
from urbanos.storage.spatial import to_wkb

if TYPE_CHECKING:
    from urbanos.storage import Dialect

GEO_TYPES = ("application/geo+json", "application/vnd.geo+json", "application/json")
"""The encodingType values a Location or FeatureOfInterest may have."""
ANNOTATIONS = ("@iot.selfLink", "@iot.id", "@iot.navigationLink", "dataset_id")
GEOM = "__geom__"
"""Marks a column value as WKB for the spatial parameter (``(GEOM, wkb)``), see :meth:`Writer.insert`."""


def link_id(e: EntityType, value: Any) -> int:
    """The id in an ``@iot.id`` of ``e`` (an integer, or ASCII digits in a string); 400 otherwise."""
    i: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        i = value if 0 <= value < 2**63 else None
    elif isinstance(value, str):
        i = parse_id(value)
    if i is None:
        raise BadRequest(f"@iot.id {value!r} of {e.name} is not a valid id.")
    return i


def geometry(value: Any, what: str) -> BaseGeometry:
    """The shape of a GeoJSON geometry (or Feature) in WGS84 longitude/latitude; 400 otherwise."""
    if not isinstance(value, dict):
        raise BadRequest(f"{what} must be a GeoJSON object.")
    g = value
    if g.get("type") == "Feature":
        g = g.get("geometry") or {}
    try:
        shape = shapely.geometry.shape(g)
    except Exception:
        raise BadRequest(f"{what} is not a valid GeoJSON geometry.") from None
    if shape.is_empty or not shape.is_valid and shape.geom_type != "Point":
        raise BadRequest(f"{what} is not a valid geometry.")
    minx, miny, maxx, maxy = shape.bounds
    if not (-180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0):
        raise BadRequest(f"{what}: coordinates are outside WGS84 longitude/latitude ranges.")
    return shape


def result_number(v: Any) -> float | None:
    """The number stored beside an Observation's result (``result_num``: ordering and comparisons), or None."""
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, int | float):
        return float(v)
    return None


def check_keys(e: EntityType, body: dict[str, Any], version: str) -> None:
    """400 for a key of ``body`` that is neither a property, a navigation property nor an annotation of ``e``."""
    for k in body:
        if k in e.prop_map or k in e.rel_map or k.startswith("@iot.") or k.endswith("@iot.navigationLink") \
                or k in ANNOTATIONS or k.endswith("@iot.count") or k.endswith("@iot.nextLink"):
            if k == "properties" and version == "v1.0" and not any(p.name == k for p in e.props_for("v1.0")):
                raise BadRequest(f"{e.name} has no property {k!r} in SensorThings v1.0.")
            continue
        raise BadRequest(f"{k!r} is not a property of {e.name}.")


def _cleared(e: EntityType, p: Any, vals: dict[str, Any]) -> None:
    """The columns of property ``p`` set to NULL, as PUT does for an optional property the body leaves out."""
    if p.kind == "interval":
        if not (e.name == "Observation" and p.name == "phenomenonTime"):
            vals[f"{p.column}_start"] = None
            vals[f"{p.column}_end"] = None
    elif p.kind == "geo":
        vals[p.column] = None
        if p.name != "observedArea":
            vals["geom"] = None
    else:
        vals[p.column] = None


def column_values(e: EntityType, body: dict[str, Any], version: str, dialect: Dialect, replace: bool) -> dict[str, Any]:
    """Column values for the properties present in ``body`` (all properties when ``replace``)."""
    vals: dict[str, Any] = {}
    for p in e.props_for(version):
        if p.name not in body:
            if replace and not p.required:
                _cleared(e, p, vals)
            continue
        v = body[p.name]
        what = f"{e.name}.{p.name}"
        if v is None:
            if p.required:
                raise BadRequest(f"{what} is mandatory and cannot be null.")
            if p.kind == "interval":
                vals[f"{p.column}_start"] = vals[f"{p.column}_end"] = None
            else:
                vals[p.column] = None
            continue
        k = p.kind
        if k == "text":
            if not isinstance(v, str):
                raise BadRequest(f"{what} must be a string.")
            vals[p.column] = v
        elif k == "json":
            if p.name in ("properties", "parameters", "unitOfMeasurement") and not isinstance(v, dict):
                raise BadRequest(f"{what} must be a JSON object.")
            if p.name in ("unitOfMeasurements", "multiObservationDataTypes") and not isinstance(v, list):
                raise BadRequest(f"{what} must be a JSON array.")
            vals[p.column] = dialect.json_param(v) if p.name != "resultQuality" else orjson.dumps(v).decode()
        elif k == "geo":
            shape = geometry(v, what)
            vals[p.column] = dialect.json_param(v)
            if p.name != "observedArea":
                vals["geom"] = (GEOM, to_wkb(shape))
        elif k == "time":
            vals[p.column] = store_instant(v, what)
        elif k == "interval":
            s, en = store_interval(v, what)
            vals[f"{p.column}_start"], vals[f"{p.column}_end"] = s, en
        elif k == "result":
            vals["result"] = orjson.dumps(v).decode()
            vals["result_num"] = result_number(v)
    if "resultQuality" in vals:
        vals["result_quality"] = vals.pop("resultQuality")
    return vals


__all__ = ["GEO_TYPES", "ANNOTATIONS", "GEOM", "link_id", "geometry", "result_number", "check_keys", "column_values"]
