"""HTTP routes of planning projects under ``/participation/projects``: the JSON API (errors as problem+json), the
downloads and the heat map; a browser asking for HTML gets the pages (``pages.py``)."""

from __future__ import annotations

import math
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from urbanos.errors import BadRequest, PayloadTooLarge
from urbanos.governance import Identity
from urbanos.participation import throttle
from urbanos.participation.planning import exports, model, pages
from urbanos.participation.planning.service import PlanningService, public_project
from urbanos.routing import identity_of, json_body

MAX_BODY = 64 * 1024
PREFIX = "/participation/projects"


def _json(body: Any, status: int = 200, media: str = "application/json") -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=media,
                    headers={"Cache-Control": "private, no-store"})


async def _body(request: Request) -> Any:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise PayloadTooLarge(f"A request body is at most {MAX_BODY} bytes.")
    if len(await request.body()) > MAX_BODY:
        raise PayloadTooLarge(f"A request body is at most {MAX_BODY} bytes.")
    return await json_body(request, require_json_type=True)


def _bbox(raw: str | None) -> tuple[float, float, float, float] | None:
    if raw is None:
        return None
    try:
        parts = [float(x) for x in raw.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(x) for x in parts) or parts[0] > parts[2] or parts[1] > parts[3]:
        raise BadRequest("bbox is minLon,minLat,maxLon,maxLat.", detail={"field": "bbox"})
    return parts[0], parts[1], parts[2], parts[3]


async def _limited(request: Request, what: str) -> Identity:
    """The caller, after its post is counted against its token's and its address's limits (429 beyond them)."""
    ident = await identity_of(request)
    await throttle.take(request, None if ident.is_anonymous else ident.subject, what)
    return ident


def _category(request: Request) -> str | None:
    v = request.query_params.get("category")
    return v[:100] if v else None


def _rubric(request: Request) -> str | None:
    v = request.query_params.get("rubric")
    return v[:100] if v else None


class PlanningRoutes:
    def __init__(self, service: PlanningService) -> None:
        self.s = service

    def _name(self, request: Request) -> str:
        return str(request.path_params["name"])

    def _cid(self, request: Request) -> int:
        return model.id_of(request.path_params["id"], "Contribution")

    async def index(self, request: Request) -> Response:
        if request.method == "POST":
            return _json(await self.s.create(await identity_of(request), await _body(request)), 201)
        projects = await self.s.listing()
        if pages.wants_html(request):
            return pages.index(request, projects)
        return _json({"projects": projects})

    async def project(self, request: Request) -> Response:
        name = self._name(request)
        if request.method == "PATCH":
            return _json(await self.s.change(await identity_of(request), name, await _body(request)))
        if pages.wants_html(request):
            return await pages.project(request, self.s, name)
        return _json(public_project(await self.s.get(name)))

    async def contributions(self, request: Request) -> Response:
        name = self._name(request)
        if request.method == "POST":
            ident = await _limited(request, "contributions")
            return _json(await self.s.contribute(ident, name, await _body(request)), 201)
        items = await self.s.contributions(name, _category(request), _bbox(request.query_params.get("bbox")),
                                          _rubric(request))
        return _json({"contributions": items, "count": len(items)})

    async def geojson(self, request: Request) -> Response:
        name = self._name(request)
        items = await self.s.contributions(name, _category(request), _bbox(request.query_params.get("bbox")),
                                          _rubric(request))
        return _json(exports.feature_collection(items), media="application/geo+json")

    async def csv(self, request: Request) -> Response:
        name = self._name(request)
        items = await self.s.contributions(name, _category(request), _bbox(request.query_params.get("bbox")),
                                          _rubric(request))
        return Response(exports.csv_text(items), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{name}-contributions.csv"'})

    async def heatmap(self, request: Request) -> Response:
        name = self._name(request)
        project = public_project(await self.s.get(name))
        items = await self.s.contributions(name)
        return _json(await exports.heatmap(self.s.platform, await identity_of(request), project, items),
                     media="application/geo+json")

    async def contribution(self, request: Request) -> Response:
        if request.method == "PATCH":
            ident = await _limited(request, "edits")
            return _json(await self.s.edit(ident, self._name(request), self._cid(request), await _body(request)))
        return _json(await self.s.contribution(self._name(request), self._cid(request), await identity_of(request)))

    async def hidden(self, request: Request) -> Response:
        return _json(await self.s.hidden(await identity_of(request), self._name(request)))

    async def comments(self, request: Request) -> Response:
        out = await self.s.comment(await _limited(request, "comments"), self._name(request), self._cid(request),
                                   await _body(request))
        return _json(out, 201)

    async def rating(self, request: Request) -> Response:
        return _json(await self.s.rate(await _limited(request, "ratings"), self._name(request), self._cid(request),
                                       await _body(request)))

    async def moderation(self, request: Request) -> Response:
        return _json(await self.s.moderate(await identity_of(request), self._name(request), self._cid(request),
                                           await _body(request)))


def mount(app: Any, service: PlanningService) -> None:
    r = PlanningRoutes(service)
    app.router.routes.extend([
        Route(PREFIX, r.index, methods=["GET", "POST"]),
        Route(PREFIX + "/{name}", r.project, methods=["GET", "PATCH"]),
        Route(PREFIX + "/{name}/contributions", r.contributions, methods=["GET", "POST"]),
        Route(PREFIX + "/{name}/contributions.geojson", r.geojson, methods=["GET"]),
        Route(PREFIX + "/{name}/contributions.csv", r.csv, methods=["GET"]),
        Route(PREFIX + "/{name}/heatmap.json", r.heatmap, methods=["GET"]),
        Route(PREFIX + "/{name}/contributions/{id}", r.contribution, methods=["GET", "PATCH"]),
        Route(PREFIX + "/{name}/hidden", r.hidden, methods=["GET"]),
        Route(PREFIX + "/{name}/contributions/{id}/comments", r.comments, methods=["POST"]),
        Route(PREFIX + "/{name}/contributions/{id}/rating", r.rating, methods=["PUT"]),
        Route(PREFIX + "/{name}/contributions/{id}/moderation", r.moderation, methods=["POST"]),
        Route(PREFIX + "/{name}/contribute", pages.contribute_form(service), methods=["POST"]),
        Route(PREFIX + "/{name}/unhide", pages.unhide_form(service), methods=["POST"]),
    ])


__all__ = ["mount", "PlanningRoutes", "PREFIX", "MAX_BODY"]
