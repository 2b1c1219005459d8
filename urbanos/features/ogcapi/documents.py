"""The JSON documents of OGC API Features: landing page, conformance, collections, items, queryables, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import shapely
from shapely.geometry import mapping

from urbanos.core.escaping import spreadsheet_text, spreadsheet_value
from urbanos.features.ogcapi import crs as crsmod
from urbanos.features.store import CollectionMeta

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
CSV = "text/csv"
OAS30 = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

_F1 = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
_F2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/"
_F3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
_F4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
_CQL = "http://www.opengis.net/spec/cql2/1.0/conf/"
CONFORMANCE = [
    _F1 + "core", _F1 + "geojson", _F1 + "html", _F1 + "oas30",
    _F2 + "crs",
    _F3 + "queryables", _F3 + "queryables-query-parameters", _F3 + "filter", _F3 + "features-filter",
    _CQL + "cql2-text", _CQL + "cql2-json", _CQL + "basic-cql2", _CQL + "advanced-comparison-operators",
    _CQL + "case-insensitive-comparison", _CQL + "basic-spatial-functions", _CQL + "basic-spatial-functions-plus",
    _CQL + "spatial-functions", _CQL + "temporal-functions", _CQL + "property-property",
    _F4 + "create-replace-delete", _F4 + "update", _F4 + "features",
]
REL = "http://www.opengis.net/def/rel/ogc/1.0/"


def link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    d = {"href": href, "rel": rel, "type": type_}
    if title:
        d["title"] = title
    return d


def landing(base: str, title: str, description: str) -> dict[str, Any]:
    root = f"{base}/ogcapi"
    return {
        "title": title,
        "description": description,
        "links": [
            link(f"{root}/", "self", JSON, "This document"),
            link(f"{root}/?f=html", "alternate", HTML, "This document as HTML"),
            link(f"{root}/api", "service-desc", OAS30, "The API definition (OpenAPI 3.0)"),
            link(f"{root}/api?f=html", "service-doc", HTML, "The API documentation"),
            link(f"{root}/conformance", "conformance", JSON, "Conformance classes implemented"),
            link(f"{root}/conformance", REL + "conformance", JSON, "Conformance classes implemented"),
            link(f"{root}/collections", "data", JSON, "The feature collections"),
            link(f"{root}/collections", REL + "data", JSON, "The feature collections"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def collection(base: str, meta: CollectionMeta) -> dict[str, Any]:
    root = f"{base}/ogcapi/collections/{meta.name}"
    extent: dict[str, Any] = {}
    if meta.bbox:
        extent["spatial"] = {"bbox": [list(meta.bbox)], "crs": crsmod.CRS84}
    if meta.t_min or meta.t_max:
        extent["temporal"] = {"interval": [[_rfc3339(meta.t_min), _rfc3339(meta.t_max)]], "trs": TRS}
    links = [
        link(root, "self", JSON, "This collection"),
        link(f"{root}?f=html", "alternate", HTML, "This collection as HTML"),
        link(f"{root}/items", "items", GEOJSON, "The features as GeoJSON"),
        link(f"{root}/items?f=html", "items", HTML, "The features as HTML"),
        link(f"{root}/items?f=csv", "items", CSV, "The features as CSV"),
        link(f"{root}/queryables", REL + "queryables", SCHEMA_JSON, "The queryable properties"),
    ]
    lic = meta.extras.get("license_url") or meta.extras.get("license")
    if lic and str(lic).startswith("http"):
        links.append(link(str(lic), "license", HTML, str(meta.extras.get("license_title", "Licence"))))
    d: dict[str, Any] = {
        "id": meta.name,
        "title": meta.title or meta.name,
        "description": meta.description,
        "itemType": "feature",
        "links": links,
        "crs": list(crsmod.SUPPORTED),
        "storageCrs": crsmod.CRS84,
    }
    if extent:
        d["extent"] = extent
    if meta.extras.get("attribution"):
        d["attribution"] = meta.extras["attribution"]
    return d


def collections(base: str, metas: list[CollectionMeta]) -> dict[str, Any]:
    root = f"{base}/ogcapi/collections"
    return {
        "links": [link(root, "self", JSON, "The collections"), link(f"{root}?f=html", "alternate", HTML, "The collections as HTML")],
        "collections": [collection(base, m) for m in metas],
        "crs": list(crsmod.SUPPORTED),
    }


def _rfc3339(v: str | None) -> str | None:
    if v is None:
        return None
    # stored as YYYY-MM-DDTHH:MM:SS.ffffffZ; drop zero microseconds
    return v.replace(".000000Z", "Z")


class RawGeoJSON(str):
    """A geometry already serialised as GeoJSON text (embedded in responses without parsing)."""


def geometry_json(geom: Any) -> Any:
    if geom is None:
        return None
    if isinstance(geom, RawGeoJSON):
        return orjson.loads(str.__str__(geom))
    if isinstance(geom, dict):
        return geom
    return mapping(geom)


def _geometry_bytes(geom: Any) -> bytes:
    if geom is None:
        return b"null"
    if isinstance(geom, RawGeoJSON):
        return geom.encode()
    return orjson.dumps(geometry_json(geom))


def page_links(base: str, name: str, raw: dict[str, str], offset: int, limit: int, returned: int, matched: int,
               next_after: int | None = None) -> list[dict[str, str]]:
    """Links of an items page. With ``next_after`` (the last feature id of a page in id order) the next link carries
    it as ``after=`` (key-set paging: deep pages cost no more than the first) besides the ``offset`` it stands for."""
    root = f"{base}/ogcapi/collections/{name}/items"

    def url(extra: dict[str, Any], drop_f: bool = True) -> str:
        q = {k: v for k, v in raw.items() if k not in ("offset", "limit", "after") and not (drop_f and k == "f")}
        q.update(extra)
        return f"{root}?{urlencode(q)}" if q else root

    here: dict[str, Any] = {"limit": limit, "offset": offset, **({"after": raw["after"]} if "after" in raw else {})}
    self_q = {k: v for k, v in raw.items() if k != "f"}
    out = [
        link(f"{root}?{urlencode(self_q)}" if self_q else root, "self", GEOJSON, "This page"),
        link(url({**here, "f": "html"}), "alternate", HTML, "This page as HTML"),
        link(url({**here, "f": "csv"}), "alternate", CSV, "This page as CSV"),
        link(f"{base}/ogcapi/collections/{name}", "collection", JSON, "The collection"),
    ]
    if offset + returned < matched:
        key = {"after": next_after} if next_after is not None else {}
        out.append(link(url({"limit": limit, "offset": offset + limit, **key}), "next", GEOJSON, "Next page"))
    if offset > 0:
        out.append(link(url({"limit": limit, "offset": max(0, offset - limit)}), "prev", GEOJSON, "Previous page"))
    return out


def feature_collection(feats: list[dict[str, Any]], matched: int) -> dict[str, Any]:
    """The features as a GeoJSON FeatureCollection with its counts and time stamp, without links."""
    out = [{"type": "Feature", "id": f["id"], "geometry": geometry_json(f["geometry"]), "properties": f["properties"]}
           for f in feats]
    return {
        "type": "FeatureCollection",
        "features": out,
        "numberMatched": matched,
        "numberReturned": len(out),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def items(base: str, name: str, feats: list[dict[str, Any]], raw: dict[str, str], offset: int, limit: int, matched: int,
          next_after: int | None = None) -> dict[str, Any]:
    doc = feature_collection(feats, matched)
    doc["links"] = page_links(base, name, raw, offset, limit, len(feats), matched, next_after)
    return doc


def items_bytes(base: str, name: str, feats: list[dict[str, Any]], raw: dict[str, str], offset: int, limit: int,
                matched: int, next_after: int | None = None) -> bytes:
    """The items response as JSON bytes; geometries serialised by the database are embedded as they are."""
    parts = [
        b'{"type":"Feature","id":' + orjson.dumps(f["id"]) + b',"geometry":' + _geometry_bytes(f["geometry"])
        + b',"properties":' + orjson.dumps(f["properties"]) + b"}"
        for f in feats
    ]
    rest = orjson.dumps({
        "numberMatched": matched,
        "numberReturned": len(parts),
        "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": page_links(base, name, raw, offset, limit, len(parts), matched, next_after),
    })
    return b'{"type":"FeatureCollection","features":[' + b",".join(parts) + b"]," + rest[1:]


def item(base: str, name: str, f: dict[str, Any]) -> dict[str, Any]:
    root = f"{base}/ogcapi/collections/{name}"
    return {
        "type": "Feature",
        "id": f["id"],
        "geometry": geometry_json(f["geometry"]),
        "properties": f["properties"],
        "links": [
            link(f"{root}/items/{f['id']}", "self", GEOJSON, "This feature"),
            link(f"{root}/items/{f['id']}?f=html", "alternate", HTML, "This feature as HTML"),
            link(root, "collection", JSON, "The collection"),
        ],
    }


def item_bytes(base: str, name: str, f: dict[str, Any]) -> bytes:
    """:func:`item` as JSON bytes; a geometry serialised by the database is embedded as it is."""
    root = f"{base}/ogcapi/collections/{name}"
    fid = orjson.dumps(f["id"])
    links = orjson.dumps([
        link(f"{root}/items/{f['id']}", "self", GEOJSON, "This feature"),
        link(f"{root}/items/{f['id']}?f=html", "alternate", HTML, "This feature as HTML"),
        link(root, "collection", JSON, "The collection"),
    ])
    return (b'{"type":"Feature","id":' + fid + b',"geometry":' + _geometry_bytes(f["geometry"])
            + b',"properties":' + orjson.dumps(f["properties"]) + b',"links":' + links + b"}")


_JSON_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean", "json": "object"}


def queryables(base: str, meta: CollectionMeta) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if meta.has_geometry:
        gt = meta.geometry_type
        fmt = "geometry-any" if gt in ("Geometry", "GeometryCollection") else "geometry-" + gt.lower()
        props["geometry"] = {"title": "Geometry", "format": fmt, "x-ogc-role": "primary-geometry"}
    for f in meta.fields:
        p: dict[str, Any] = {"title": f.title or f.name}
        if f.type == "datetime":
            p.update(type="string", format="date-time")
        elif f.type == "date":
            p.update(type="string", format="date")
        elif f.type == "json":
            p["type"] = ["object", "array", "string", "number", "boolean", "null"]
        else:
            p["type"] = _JSON_TYPES.get(f.type, "string")
        if f.name == meta.time_field:
            p["x-ogc-role"] = "primary-instant"
        props[f.name] = p
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/ogcapi/collections/{meta.name}/queryables",
        "type": "object",
        "title": meta.title or meta.name,
        "properties": props,
        "additionalProperties": False,
    }


def to_csv(feats: list[dict[str, Any]], field_names: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([spreadsheet_text(n) for n in ["fid" if "id" in field_names else "id", *field_names, "geometry"]])
    for f in feats:
        g = f["geometry"]
        if isinstance(g, RawGeoJSON | dict):
            g = shapely.from_geojson(g) if isinstance(g, str) else shapely.geometry.shape(g)
        w.writerow([f["id"], *(_cell(f["properties"].get(n)) for n in field_names), "" if g is None else shapely.to_wkt(g, rounding_precision=-1)])
    return buf.getvalue()


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict | list):
        return orjson.dumps(v).decode()
    return spreadsheet_value(v)  # text a spreadsheet would run as a formula gets a leading '


__all__ = ["CONFORMANCE", "landing", "conformance", "collection", "collections", "feature_collection", "items", "item", "queryables", "to_csv",
           "GEOJSON", "JSON", "HTML", "CSV", "OAS30", "SCHEMA_JSON", "link", "RawGeoJSON", "items_bytes",
           "item_bytes"]
