"""Result formats besides JSON: ``$resultFormat=dataArray``, ``GeoJSON`` and ``CSV``."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.core.escaping import spreadsheet_value
from urbanos.errors import BadRequest
from urbanos.sensing.dataarray import to_data_array
from urbanos.sensing.model import EntityType
from urbanos.sensing.serialize import load_json

if TYPE_CHECKING:
    from urbanos.sensing.query import Ctx
    from urbanos.storage import Connection

_GEOM_PROP = {"Location": "location", "FeatureOfInterest": "feature"}


def _geometries(conn: Connection, e: EntityType, rows: list[dict[str, Any]]) -> dict[Any, Any]:
    """GeoJSON geometry per row id: own geometry, a Thing's Location, an Observation's FeatureOfInterest."""
    ids = [r["id"] for r in rows]
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    if e.name in _GEOM_PROP:
        return {r["id"]: load_json(r[_GEOM_PROP[e.name]]) for r in rows}
    if e.name == "Thing":
        q = (f"SELECT tl.thing_id, l.location FROM sta_thing_locations tl JOIN sta_locations l ON l.id = tl.location_id"
             f" WHERE tl.thing_id IN ({marks}) ORDER BY tl.location_id")
    elif e.name == "Observation":
        q = (f"SELECT o.id, f.feature FROM sta_observations o JOIN sta_features f ON f.id = o.feature_id"
             f" WHERE o.id IN ({marks})")
    elif e.name in ("Datastream", "MultiDatastream"):
        return {r["id"]: load_json(r.get("observed_area")) for r in rows}
    else:
        return {}
    out: dict[Any, Any] = {}
    for k, g in conn.fetchall(q, ids):
        out.setdefault(k, load_json(g))
    return out


def _geometry_of(g: Any) -> Any:
    if isinstance(g, dict) and g.get("type") == "Feature":
        return g.get("geometry")
    return g


def to_geojson(conn: Connection, e: EntityType, rows: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    geoms = _geometries(conn, e, rows)
    feats = []
    for r, o in zip(rows, body["value"], strict=True):
        props = {k: v for k, v in o.items() if k != _GEOM_PROP.get(e.name)}
        feats.append({"type": "Feature", "id": r["id"], "geometry": _geometry_of(geos) if (geos := geoms.get(r["id"])) else None,
                      "properties": props})
    out: dict[str, Any] = {"type": "FeatureCollection", "features": feats}
    if "@iot.count" in body:
        out["numberMatched"] = body["@iot.count"]
    out["numberReturned"] = len(feats)
    if "@iot.nextLink" in body:
        out["links"] = [{"rel": "next", "href": body["@iot.nextLink"], "type": "application/geo+json"}]
    return out


def to_csv(body: dict[str, Any]) -> str:
    cols: list[str] = []
    for o in body["value"]:
        for k in o:
            if k not in cols and not k.endswith("@iot.navigationLink") and not isinstance(o[k], list):
                cols.append(k)
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(cols)
    for o in body["value"]:
        row = []
        for c in cols:
            v = o.get(c)
            if isinstance(v, dict | list):
                v = orjson.dumps(v).decode()
            elif v is None:
                v = ""
            row.append(spreadsheet_value(v))  # text a spreadsheet would run as a formula gets a leading '
        wr.writerow(row)
    return buf.getvalue()


def reformat(fmt: str, e: EntityType, rows: list[dict[str, Any]], body: dict[str, Any], ctx: Ctx, conn: Connection,
             select: Any) -> tuple[str, Any]:
    if fmt == "dataarray":
        return "json", to_data_array(e, rows, body, select, ctx.base, ctx.version)
    if fmt == "geojson":
        return "geojson", to_geojson(conn, e, rows, body)
    if fmt == "csv":
        return "csv", to_csv(body)
    raise BadRequest(f"$resultFormat {fmt!r} is not supported; use dataArray, GeoJSON or CSV.")


__all__ = ["reformat", "to_geojson", "to_csv"]
