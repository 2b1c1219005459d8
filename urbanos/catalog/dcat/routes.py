"""DCAT-AP routes: ``/catalog.{ttl,jsonld,rdf}`` (Hydra paged) and ``/dataset/{name}.{ttl,jsonld,rdf}``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDF, RDFS
from starlette.requests import Request
from starlette.responses import Response

from urbanos.catalog.dcat import source
from urbanos.catalog.dcat.mapping import (
    FORMATS_RDF,
    PROFILES,
    CatalogInfo,
    catalog_graph,
    dataset_graph,
    serialize,
)
from urbanos.catalog.dcat.source import base_url, identity_of, platform_of
from urbanos.catalog.dcat.vocab import DCAT, DCT
from urbanos.core.numbers import parse_int
from urbanos.errors import BadRequest, NotFound
from urbanos.ports import TransparencyPort

TAGS = ["DCAT-AP"]


def catalog_info(request: Request) -> CatalogInfo:
    platform = platform_of(request)
    s = platform.settings
    profile = request.query_params.get("profile") or s.dcat_profile
    if profile not in PROFILES:
        raise BadRequest(f"Unknown profile {profile!r}: use one of {', '.join(PROFILES)}.")
    return CatalogInfo(
        base_url=base_url(request),
        title=s.dcat_catalog_title or f"{s.city_name} open data catalogue",
        description=s.dcat_catalog_description or f"Datasets published by {s.city_name}.",
        publisher_name=s.city_name,
        profile=profile,
        contributor_id=s.dcat_contributor_id,
        geocoding_uri=s.dcat_geocoding_uri,
        attribution=s.attribution,
    )


def _format(fmt: str) -> tuple[str, str]:
    if fmt not in FORMATS_RDF:
        raise NotFound(f"Unknown RDF format {fmt!r}: use ttl, jsonld or rdf.")
    return fmt, FORMATS_RDF[fmt][1]


def _int(request: Request, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    value = parse_int(raw)
    if value is None:
        raise BadRequest(f"Parameter {name} must be a whole number, got {raw!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        raise BadRequest(f"Parameter {name} must be between {minimum} and {maximum or 'any'}, got {value}.")
    return value


async def catalog(request: Request, fmt: str) -> Response:
    fmt, media = _format(fmt)
    platform = platform_of(request)
    identity = await identity_of(request)
    info = catalog_info(request)
    max_size = int(platform.settings.dcat_page_size)
    size = _int(request, "page_size", max_size, 1, max(max_size, 1000))
    page = _int(request, "page", 1, 1)
    params: dict[str, Any] = {"rows": size, "start": (page - 1) * size, "sort": "name asc"}
    for key in ("q", "fq"):
        if request.query_params.get(key):
            params[key] = request.query_params[key]
    res = await source.search(platform, identity, base_url=info.base_url, **params)
    total = int(res.get("count") or 0)
    last = max(1, -(-total // size))
    if page > last:
        raise NotFound(f"Page {page} does not exist: the catalogue has {last} page(s).")
    query = {k: v for k, v in request.query_params.items() if k in ("q", "fq", "profile", "page_size")}
    g = catalog_graph(list(res.get("results") or []), info, fmt=fmt, page=page, page_size=size, total=total,
                      query=query)
    return Response(serialize(g, fmt), media_type=media)


def _rules_statement(g: Graph, texts: dict[str, list[str]]) -> None:
    """The dataset's privacy rules in plain language: a dct:RightsStatement linked by dct:rights (beside
    dct:accessRights, which says who may read it)."""
    ds = next(g.subjects(RDF.type, DCAT.Dataset), None)
    if ds is None or not any(texts.values()):
        return
    stmt = BNode()
    g.add((stmt, RDF.type, DCT.RightsStatement))
    for lang, head in (("en", "Privacy rules: "), ("de", "Datenschutzregeln: ")):
        if texts.get(lang):
            g.add((stmt, RDFS.label, Literal(head + " ".join(texts[lang]), lang=lang)))
    g.add((ds, DCT.rights, stmt))


async def dataset(request: Request, name: str, fmt: str) -> Response:
    fmt, media = _format(fmt)
    platform = platform_of(request)
    identity = await identity_of(request)
    info = catalog_info(request)
    pkg = await source.show(platform, identity, name, info.base_url)
    graph = dataset_graph(pkg, info)
    transparency = platform.optional(TransparencyPort)
    if transparency is not None:
        _rules_statement(graph, {lang: await transparency.rules_summary(str(pkg.get("name")), lang)
                                 for lang in ("en", "de")})
    body = serialize(graph, fmt)
    await source.record_view(platform, identity, pkg, "dcat")
    return Response(body, media_type=media)


ROUTES: tuple[tuple[str, Callable[..., Awaitable[Response]], str], ...] = (
    ("/catalog.{fmt}", catalog, "The DCAT-AP catalogue, paged with Hydra"),
    ("/dataset/{name}.{fmt}", dataset, "One dataset in DCAT-AP"),
)
"""The DCAT routes (path, handler, summary), all GET and in the OpenAPI document under the tag DCAT-AP."""


def mount_routes(app: FastAPI) -> None:
    for path, handler, summary in ROUTES:
        app.add_api_route(path, handler, methods=["GET"], tags=[*TAGS], summary=summary)


__all__ = ["mount_routes", "catalog_info"]
