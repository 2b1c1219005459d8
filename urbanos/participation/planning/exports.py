"""A project's contributions as downloads (GeoJSON, CSV: no personal data, only the per-project author label) and
the heat map: contribution counts and rating sums per district of the project's boundary collection, read from
the features capability through :class:`~urbanos.ports.FeaturesPort` with the caller's identity."""

from __future__ import annotations

import csv
import io
from typing import Any

from shapely.geometry import Point, shape
from shapely.prepared import prep

from urbanos.core.escaping import spreadsheet_value
from urbanos.errors import NotFound
from urbanos.governance import Identity
from urbanos.platform import Platform
from urbanos.ports import FeaturesPort

CSV_FIELDS = ("id", "title", "text", "category", "rubric", "author", "created_at", "up", "down", "score",
              "comments", "longitude", "latitude", "geometry_type")
MAX_DISTRICTS = 2000


def feature_collection(items: list[dict[str, Any]]) -> dict[str, Any]:
    features = []
    for k in items:
        props = {key: k[key] for key in ("id", "title", "text", "category", "rubric", "author", "created_at",
                                          "edited_at", "comments")}
        props.update(up=k["rating"]["up"], down=k["rating"]["down"], score=k["rating"]["score"])
        features.append({"type": "Feature", "id": k["id"], "geometry": k["geometry"], "properties": props})
    return {"type": "FeatureCollection", "features": features}


def _anchor(geometry: dict[str, Any] | None) -> tuple[float, float] | None:
    """The point a contribution stands for: the point itself, or the middle of a line."""
    if not geometry:
        return None
    g = shape(geometry)
    p = g if g.geom_type == "Point" else g.interpolate(0.5, normalized=True)
    return float(p.x), float(p.y)


def csv_text(items: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_FIELDS)
    for k in items:
        at = _anchor(k["geometry"])
        row = [k["id"], k["title"], k["text"], k["category"], k["rubric"] or "", k["author"], k["created_at"],
               k["rating"]["up"], k["rating"]["down"], k["rating"]["score"], k["comments"], at[0] if at else "", at[1] if at else "",
               k["geometry"]["type"] if k["geometry"] else ""]
        w.writerow([spreadsheet_value(v) for v in row])
    return out.getvalue()


async def heatmap(platform: Platform, ident: Identity, project: dict[str, Any],
                  items: list[dict[str, Any]]) -> dict[str, Any]:
    collection = project.get("boundaries")
    features_port = platform.optional(FeaturesPort)
    if not collection or features_port is None:
        raise NotFound("This project names no boundary collection for a heat map.", code="no_boundaries")
    districts = await features_port.preview(ident, collection, MAX_DISTRICTS)
    anchors = [(a, k["rating"]["score"]) for k in items if (a := _anchor(k["geometry"])) is not None]
    out = []
    for f in districts.get("features", []):
        geom = f.get("geometry")
        if not geom or geom.get("type") not in ("Polygon", "MultiPolygon"):
            continue
        area = shape(geom)
        box = area.bounds
        ready = prep(area)
        inside = [s for (x, y), s in anchors
                  if box[0] <= x <= box[2] and box[1] <= y <= box[3] and ready.covers(Point(x, y))]
        if not inside:
            continue
        props = f.get("properties") or {}
        out.append({"type": "Feature", "id": f.get("id"), "geometry": geom, "properties": {
            "district": props.get("name") or props.get("id") or f.get("id"), "contributions": len(inside),
            "rating": sum(inside), "weight": len(inside) + sum(inside)}})
    return {"type": "FeatureCollection", "project": project["name"], "boundaries": collection, "features": out}


__all__ = ["feature_collection", "csv_text", "heatmap", "CSV_FIELDS"]
