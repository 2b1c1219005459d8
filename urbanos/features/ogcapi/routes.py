"""OGC API Features routes at /ogcapi/: thin handlers that parse, call the service and render.

Query parameters are read raw (never validated by the framework) so that every bad value becomes a 400 in
the OGC exception format, never a 422.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import shapely
from shapely.geometry import shape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from urbanos import __version__
from urbanos.core.text import nul_field, nul_problem
from urbanos.errors import BadRequest, UnsupportedMediaType, UrbanosError, ValidationFailed
from urbanos.features.ogcapi import crs as crsmod
from urbanos.features.ogcapi import documents as docs
from urbanos.features.ogcapi.fast import SingleFeatureFastPath
from urbanos.features.ogcapi.openapi import document as openapi_document
from urbanos.features.ogcapi.params import ItemsQuery, parse_format, parse_items
from urbanos.features.ogcapi.service import FeaturesService, Visible
from urbanos.platform import Platform, render_html
from urbanos.query.limits import BODY_MAX_NESTING, json_problem
from urbanos.routing import base_url, identity_of, platform_of, register_error_renderer


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON document is expected.", code="InvalidRequestBody")
    if (problem := json_problem(raw, max_nesting=BODY_MAX_NESTING, what="The request body")) is not None:
        raise BadRequest(problem, code="InvalidRequestBody")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"The request body is not valid JSON: {exc}.", code="InvalidRequestBody") from None
    if (nul := nul_problem(body)) is not None:
        raise BadRequest(nul, code="InvalidRequestBody", detail={"field": nul_field(body)})
    return body


_OGC_CODES = {400: "InvalidParameterValue", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
              406: "NotAcceptable", 409: "Conflict", 413: "PayloadTooLarge", 415: "UnsupportedMediaType", 429: "TooManyRequests",
              503: "ServiceUnavailable"}


def render_ogc_error(request: Request, exc: UrbanosError) -> Response:
    code = exc.code if exc.code[:1].isupper() else _OGC_CODES.get(exc.status, "ServerError")
    body: dict[str, Any] = {"code": code, "description": exc.message}
    if exc.detail:
        body["detail"] = exc.detail
    return Response(orjson.dumps(body), status_code=exc.status, media_type="application/json", headers=dict(exc.headers))


def _json(data: Any, media: str = docs.JSON, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type=media, headers=headers)


def _fmt(request: Request) -> str:
    fmt = parse_format(request.query_params.get("f"), request.headers.get("accept", ""))
    return "json" if fmt == "csv" else fmt


def _html(platform: Platform, template: str, **ctx: Any) -> HTMLResponse:
    return HTMLResponse(render_html(platform, template, **ctx))


def _title(platform: Platform) -> str:
    return f"{platform.settings.city_name} — OGC API Features"


def _service(request: Request) -> FeaturesService:
    return platform_of(request).services["features"]  # type: ignore[no-any-return]


def _read_geometry(body: Any, content_crs: str) -> Any:
    g = body.get("geometry") if isinstance(body, dict) else None
    if g is None:
        return None
    if not isinstance(g, dict) or "type" not in g:
        raise ValidationFailed("The geometry is not a GeoJSON geometry object.", code="InvalidRequestBody")
    try:
        geom = shape(g)
    except Exception as exc:  # noqa: BLE001 - shapely raises several types on bad input
        raise ValidationFailed(f"The geometry is invalid: {exc}.", code="InvalidRequestBody") from None
    if geom.is_empty:
        raise ValidationFailed("The geometry is empty.", code="InvalidRequestBody")
    coords = shapely.get_coordinates(geom)
    if not all(math.isfinite(float(v)) for v in coords.flat):
        raise ValidationFailed("The geometry has coordinates that are not finite numbers.", code="InvalidRequestBody")
    if not geom.is_valid:
        raise ValidationFailed(f"The geometry is invalid: {shapely.is_valid_reason(geom)}.", code="InvalidRequestBody")
    geom = shapely.force_2d(geom)
    if content_crs != crsmod.CRS84:
        geom = crsmod.to_storage(geom, content_crs)
    c = shapely.get_coordinates(geom)
    if c.size and (abs(c[:, 0]).max() > 180 or abs(c[:, 1]).max() > 90):
        raise ValidationFailed("The geometry lies outside longitude [-180, 180] / latitude [-90, 90].", code="InvalidRequestBody")
    return geom


def _read_feature(body: Any, content_crs: str, known: set[str], *, partial: bool = False) -> tuple[dict[str, Any], Any, bool]:
    if not isinstance(body, dict):
        raise ValidationFailed("The body must be a GeoJSON Feature.", code="InvalidRequestBody")
    if not partial and body.get("type") != "Feature":
        raise ValidationFailed("The body must be a GeoJSON Feature (type Feature).", code="InvalidRequestBody")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise ValidationFailed("properties must be an object.", code="InvalidRequestBody")
    unknown = set(props) - known
    if unknown:
        raise ValidationFailed(f"Unknown properties: {', '.join(sorted(unknown))}.", code="InvalidRequestBody")
    has_geom = "geometry" in body
    return props, _read_geometry(body, content_crs), has_geom


def _content_crs(request: Request) -> str:
    raw = request.headers.get("content-crs")
    if not raw:
        return crsmod.CRS84
    return crsmod.normalise(raw.strip().strip("<>"), "Content-Crs")


async def _body(request: Request) -> Any:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype not in ("application/geo+json", "application/json", "application/merge-patch+json"):
        raise UnsupportedMediaType(f"Send application/geo+json, not {ctype!r}.")
    return await json_body(request)


def _field_names(vis: Visible) -> set[str]:
    """The property names of the collection a write was allowed on (``FeaturesService.writable``)."""
    return {f.name for f in vis.meta.fields}


# -- handlers: plain Starlette endpoints (no framework parameter handling: every value is validated here, 400 not 422)

async def landing(request: Request) -> Response:
    platform = platform_of(request)
    doc = docs.landing(base_url(request), _title(platform), "Geodata and tables of the city as OGC API Features.")
    if _fmt(request) == "html":
        return _html(platform, "features/landing.html", doc=doc)
    return _json(doc)


async def conformance(request: Request) -> Response:
    doc = docs.conformance()
    if _fmt(request) == "html":
        return _html(platform_of(request), "features/conformance.html", doc=doc)
    return _json(doc)


async def api(request: Request) -> Response:
    platform = platform_of(request)
    identity = await identity_of(request)
    svc = _service(request)
    names = [m.name for m in await svc.collections(identity)]
    doc = openapi_document(base_url(request), _title(platform), __version__, svc.default_limit, svc.max_limit, names)
    if _fmt(request) == "html":
        return _html(platform, "features/api.html", doc=doc)
    return _json(doc, docs.OAS30)


async def collections(request: Request) -> Response:
    identity = await identity_of(request)
    metas = await _service(request).collections(identity)
    doc = docs.collections(base_url(request), metas)
    if _fmt(request) == "html":
        return _html(platform_of(request), "features/collections.html", doc=doc)
    return _json(doc)


async def collection(request: Request) -> Response:
    cid = request.path_params["cid"]
    identity = await identity_of(request)
    fmt = _fmt(request)
    meta = await _service(request).collection(identity, cid, "collection")
    doc = docs.collection(base_url(request), meta)
    if fmt == "html":
        return _html(platform_of(request), "features/collection.html", doc=doc, meta=meta)
    return _json(doc)


async def queryables(request: Request) -> Response:
    cid = request.path_params["cid"]
    identity = await identity_of(request)
    fmt = _fmt(request)
    meta = await _service(request).collection(identity, cid, "queryables")
    doc = docs.queryables(base_url(request), meta)
    if fmt == "html":
        return _html(platform_of(request), "features/queryables.html", doc=doc, meta=meta)
    return _json(doc, docs.SCHEMA_JSON)


async def items(request: Request) -> Response:
    cid = request.path_params["cid"]
    identity = await identity_of(request)
    svc = _service(request)
    qp = request.query_params
    multi = {k: len(qp.getlist(k)) for k in qp}
    accept = request.headers.get("accept", "")

    def parse(fields: set[str]) -> ItemsQuery:
        return parse_items(dict(qp), fields=fields, default_limit=svc.default_limit, max_limit=svc.max_limit,
                           accept=accept, multi=multi)

    res = await svc.items(identity, cid, parse)
    q = res.query
    base = base_url(request)
    hdr = {"Content-Crs": crsmod.content_crs_header(q.crs)}
    if q.fmt == "csv":
        names = [f.name for f in res.fields]
        return Response(docs.to_csv(res.features, names), media_type="text/csv; charset=utf-8",
                        headers={**hdr, "Content-Disposition": f'inline; filename="{cid}.csv"'})
    if q.fmt != "html":
        body = docs.items_bytes(base, cid, res.features, q.raw, q.offset, q.limit, res.number_matched, res.next_after)
        return Response(body, media_type=docs.GEOJSON, headers=hdr)
    doc = docs.items(base, cid, res.features, q.raw, q.offset, q.limit, res.number_matched, res.next_after)
    return _html(platform_of(request), "features/items.html", doc=doc, meta=res.meta, fields=[f.name for f in res.fields],
                 geojson=orjson.dumps({"type": "FeatureCollection", "features": doc["features"]}).decode()
                 if q.crs == crsmod.CRS84 else "null")


async def item(request: Request) -> Response:
    cid, fid = request.path_params["cid"], request.path_params["fid"]
    identity = await identity_of(request)
    qp = request.query_params
    fmt = _fmt(request)
    target = crsmod.normalise(qp["crs"], "crs") if "crs" in qp else crsmod.CRS84
    meta, feat = await _service(request).item(identity, cid, fid, target)
    if fmt == "html":
        doc = docs.item(base_url(request), cid, feat)
        return _html(platform_of(request), "features/item.html", doc=doc, meta=meta,
                     geojson=orjson.dumps(doc).decode() if target == crsmod.CRS84 else "null")
    return Response(docs.item_bytes(base_url(request), cid, feat), media_type=docs.GEOJSON,
                    headers={"Content-Crs": crsmod.content_crs_header(target)})


async def create(request: Request) -> Response:
    cid = request.path_params["cid"]
    identity = await identity_of(request)
    svc = _service(request)
    known = _field_names(await svc.writable(identity, cid))
    content_crs = _content_crs(request)
    body = await _body(request)
    bodies = body.get("features") if isinstance(body, dict) and body.get("type") == "FeatureCollection" else [body]
    if not isinstance(bodies, list) or not bodies:
        raise ValidationFailed("The FeatureCollection has no features.", code="InvalidRequestBody")
    feats = []
    for b in bodies:
        props, geom, _ = _read_feature(b, content_crs, known)
        feats.append((props, geom))
    fids = await svc.create(identity, cid, feats)
    loc = f"{base_url(request)}/ogcapi/collections/{cid}/items/{fids[0]}"
    return Response(status_code=201, headers={"Location": loc}, content=orjson.dumps({"ids": fids}),
                    media_type="application/json")


async def replace(request: Request) -> Response:
    cid, fid = request.path_params["cid"], request.path_params["fid"]
    identity = await identity_of(request)
    svc = _service(request)
    known = _field_names(await svc.writable(identity, cid))
    content_crs = _content_crs(request)
    body = await _body(request)
    props, geom, _ = _read_feature(body, content_crs, known)
    await svc.replace(identity, cid, fid, props, geom)
    return Response(status_code=204)


async def patch(request: Request) -> Response:
    cid, fid = request.path_params["cid"], request.path_params["fid"]
    identity = await identity_of(request)
    svc = _service(request)
    known = _field_names(await svc.writable(identity, cid))
    content_crs = _content_crs(request)
    body = await _body(request)
    props, geom, has_geom = _read_feature(body, content_crs, known, partial=True)
    await svc.patch(identity, cid, fid, props, geom, has_geom)
    return Response(status_code=204)


async def delete(request: Request) -> Response:
    cid, fid = request.path_params["cid"], request.path_params["fid"]
    identity = await identity_of(request)
    await _service(request).delete(identity, cid, fid)
    return Response(status_code=204)


def mount(app: Starlette, platform: Platform) -> None:
    register_error_renderer(app, "/ogcapi/", render_ogc_error)
    routes = [
        Route("/ogcapi/", landing, methods=["GET"]),
        Route("/ogcapi", landing, methods=["GET"]),
        Route("/ogcapi/conformance", conformance, methods=["GET"]),
        Route("/ogcapi/api", api, methods=["GET"]),
        Route("/ogcapi/collections", collections, methods=["GET"]),
        Route("/ogcapi/collections/{cid}", collection, methods=["GET"]),
        Route("/ogcapi/collections/{cid}/queryables", queryables, methods=["GET"]),
        Route("/ogcapi/collections/{cid}/items", items, methods=["GET"]),
        Route("/ogcapi/collections/{cid}/items/{fid}", item, methods=["GET"]),
        Route("/ogcapi/collections/{cid}/items", create, methods=["POST"]),
        Route("/ogcapi/collections/{cid}/items/{fid}", replace, methods=["PUT"]),
        Route("/ogcapi/collections/{cid}/items/{fid}", patch, methods=["PATCH"]),
        Route("/ogcapi/collections/{cid}/items/{fid}", delete, methods=["DELETE"]),
    ]
    # First in the routing table: these are hot paths, and /ogcapi/ belongs to this capability alone.
    app.router.routes[0:0] = routes
    app.add_middleware(SingleFeatureFastPath, platform=platform)


__all__ = ["mount", "render_ogc_error", "json_body"]
