"""Geometry helpers every layer may use (WGS84 longitude/latitude, shapely 2). Nothing here does I/O."""

from __future__ import annotations

import shapely.ops
from shapely.geometry.base import BaseGeometry

MAX_BUFFER_METRES = 2_000_000.0
"""Beyond this a buffer in a local azimuthal projection is no longer a fair picture of the distance."""


def geodesic_buffer(geom: BaseGeometry, metres: float) -> BaseGeometry:
    """``geom`` (WGS84) grown by ``metres``: buffered in an azimuthal equidistant projection centred on it.

    An empty geometry is returned as it is; ``metres`` above :data:`MAX_BUFFER_METRES` is a ValueError."""
    # pyproj is large and loads its database on first use: only when a buffer is asked for
    from pyproj import CRS, Transformer

    if geom.is_empty:
        return geom
    if metres > MAX_BUFFER_METRES:
        raise ValueError(f"buffers above {MAX_BUFFER_METRES / 1000:.0f} km are not supported")
    c = geom.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m")
    fwd = Transformer.from_crs("OGC:CRS84", aeqd, always_xy=True)
    back = Transformer.from_crs(aeqd, "OGC:CRS84", always_xy=True)
    local = shapely.ops.transform(fwd.transform, geom)
    grown = local.buffer(metres, quad_segs=32) if metres > 0 else local
    return shapely.ops.transform(back.transform, grown)


__all__ = ["geodesic_buffer", "MAX_BUFFER_METRES"]
