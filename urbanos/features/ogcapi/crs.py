"""OGC API Features Part 2: the CRSs served, their URIs, and transforms from and to storage (CRS84).

Geometries are stored in WGS84 longitude/latitude (CRS84). Output and ``bbox-crs``/``filter-crs`` input use
the axis order of the CRS's authority: EPSG:4326 is latitude, longitude.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from urbanos.errors import BadRequest

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
SUPPORTED = (
    CRS84,
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
    "http://www.opengis.net/def/crs/EPSG/0/25832",
    "http://www.opengis.net/def/crs/EPSG/0/25833",
)
_EPSG_URI = re.compile(r"^https?://www\.opengis\.net/def/crs/EPSG/0/([0-9]+)$")
_SHORT = re.compile(r"^\[?EPSG:([0-9]+)\]?$", re.I)


def normalise(value: str, param: str = "crs") -> str:
    """A CRS URI from a URI, a safe CURIE ``[EPSG:4326]`` or ``EPSG:4326``/``CRS84``; 400 if not served."""
    v = (value or "").strip()
    if v in (CRS84, "https://www.opengis.net/def/crs/OGC/1.3/CRS84", "[OGC:CRS84]", "OGC:CRS84", "CRS84"):
        return CRS84
    m = _EPSG_URI.match(v) or _SHORT.match(v)
    uri = f"http://www.opengis.net/def/crs/EPSG/0/{m.group(1)}" if m else v
    if uri not in SUPPORTED:
        raise BadRequest(
            f"{param}: {value!r} is not a supported CRS. Supported: {', '.join(SUPPORTED)}.",
            code="InvalidParameterValue",
        )
    return uri


def source_uri(source_crs: str) -> str:
    """The URI of a collection's source CRS (for ``storageCrs`` metadata; unknown stays as given)."""
    try:
        return normalise(source_crs)
    except BadRequest:
        m = re.match(r"^EPSG:([0-9]+)$", source_crs or "", re.I)
        return f"http://www.opengis.net/def/crs/EPSG/0/{m.group(1)}" if m else (source_crs or CRS84)


def _pyproj_name(uri: str) -> str:
    if uri == CRS84:
        return "OGC:CRS84"
    m = _EPSG_URI.match(uri)
    assert m is not None
    return f"EPSG:{m.group(1)}"


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Any:
    from pyproj import Transformer  # pyproj is large: loaded on the first request in another CRS

    return Transformer.from_crs(_pyproj_name(src), _pyproj_name(dst))  # authority axis order on both sides


def transform_geometry(geom: BaseGeometry | None, src: str, dst: str) -> BaseGeometry | None:
    if geom is None or src == dst:
        return geom
    t = _transformer(src, dst)

    def fn(coords: Any) -> Any:
        x, y = t.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, fn)


def to_storage(geom: BaseGeometry, crs: str) -> BaseGeometry:
    out = transform_geometry(geom, crs, CRS84)
    assert out is not None
    return out


def bbox_to_storage(box: Sequence[float], crs: str) -> list[float]:
    """A 2D bbox in ``crs`` (its axis order) to CRS84 [minlon, minlat, maxlon, maxlat]."""
    if crs == CRS84:
        return list(box)
    if crs.endswith("/EPSG/0/4326"):
        return [box[1], box[0], box[3], box[2]]
    t = _transformer(crs, CRS84)
    minx, miny, maxx, maxy = t.transform_bounds(box[0], box[1], box[2], box[3], densify_pts=21)
    return [minx, miny, maxx, maxy]


def bbox_from_storage(box: Sequence[float], crs: str) -> list[float]:
    if crs == CRS84:
        return list(box)
    if crs.endswith("/EPSG/0/4326"):
        return [box[1], box[0], box[3], box[2]]
    t = _transformer(CRS84, crs)
    minx, miny, maxx, maxy = t.transform_bounds(box[0], box[1], box[2], box[3], densify_pts=21)
    return [minx, miny, maxx, maxy]


def content_crs_header(uri: str) -> str:
    return f"<{uri}>"


__all__ = ["CRS84", "CRS84H", "SUPPORTED", "normalise", "source_uri", "transform_geometry", "to_storage",
           "bbox_to_storage", "bbox_from_storage", "content_crs_header"]
