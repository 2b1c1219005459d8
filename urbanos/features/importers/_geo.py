"""Geometry helpers for readers: CRS names, reprojection to WGS84, WKT and lat/lon parsing."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"
_WKT_START = ("POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION", "SRID=")


def crs_name(crs: Any) -> str | None:
    """A short name (``EPSG:25832``, ``OGC:CRS84``) for anything pyproj understands, else its WKT."""
    if crs is None or crs == "":
        return None
    from pyproj import CRS  # pyproj is large: loaded when a file names a CRS

    try:
        c = CRS.from_user_input(crs)
    except Exception:  # noqa: BLE001 - an unknown CRS is reported, not fatal
        return str(crs)
    auth = c.to_authority(min_confidence=70)
    if auth:
        return f"{auth[0]}:{auth[1]}"
    return str(c.to_wkt())


def is_wgs84(name: str | None) -> bool:
    return name in (None, "EPSG:4326", "OGC:CRS84", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326")


@lru_cache(maxsize=32)
def _transformer(src: str) -> Any:
    from pyproj import Transformer  # loaded when a file needs reprojecting

    return Transformer.from_crs(src, "OGC:CRS84", always_xy=True)


def to_wgs84(src: str | None) -> Callable[[BaseGeometry], BaseGeometry]:
    """A function that reprojects a shapely geometry from ``src`` to WGS84 longitude/latitude."""
    if is_wgs84(src):
        return lambda g: g
    assert src is not None
    tf = _transformer(src)

    def project(g: BaseGeometry) -> BaseGeometry:
        return shapely.transform(g, lambda xy: _xy(tf, xy))

    return project


def _xy(tf: Any, coords: Any) -> Any:
    x, y = tf.transform(coords[:, 0], coords[:, 1])
    return np.column_stack([x, y])


def looks_like_wkt(value: Any) -> bool:
    """True for a WKT (or EWKT) geometry that parses: a word such as "point" in a text column is no geometry."""
    if not (isinstance(value, str) and value.lstrip()[:20].upper().startswith(_WKT_START)):
        return False
    try:
        parse_wkt(value)
    except ValueError:
        return False
    return True


def parse_wkt(value: str) -> BaseGeometry:
    """WKT or EWKT (``SRID=…;``); raises ValueError with a short reason."""
    text = value.strip()
    if text.upper().startswith("SRID="):
        text = text.split(";", 1)[1] if ";" in text else text
    try:
        g = shapely.from_wkt(text)
    except Exception as exc:  # noqa: BLE001 - shapely raises GEOSException
        raise ValueError(f"invalid WKT geometry ({str(exc).splitlines()[0][:80]})") from None
    if g is None:
        raise ValueError("empty geometry")
    return g


def check_lonlat(g: BaseGeometry) -> None:
    """Reject coordinates outside WGS84 (a wrong CRS or swapped columns)."""
    if g.is_empty:
        return
    minx, miny, maxx, maxy = g.bounds
    if not (-180.0 <= minx <= maxx <= 180.0 and -90.0 <= miny <= maxy <= 90.0):
        raise ValueError(f"coordinates outside WGS84 longitude/latitude ({minx:g}, {miny:g}, {maxx:g}, {maxy:g})")
    if any(v != v for v in (minx, miny, maxx, maxy)):
        raise ValueError("coordinates are not numbers")


__all__ = ["WGS84", "crs_name", "is_wgs84", "to_wgs84", "looks_like_wkt", "parse_wkt", "check_lonlat"]
