"""The showcase pages: ``/showcases`` (every application, or with ``?dataset=`` those using a dataset) and
``/showcases/{name}``, for everyone; the datasets shown are those the viewer may read."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from urbanos.cockpit.dashboards.routes import viewer
from urbanos.cockpit.showcases.i18n import pick_lang, translator
from urbanos.cockpit.showcases.service import ShowcaseService
from urbanos.cockpit.usage.routes import render_error
from urbanos.errors import BadRequest
from urbanos.platform import Platform, render_html
from urbanos.routing import platform_of, register_error_renderer


def _svc(request: Request) -> ShowcaseService:
    return platform_of(request).services["showcases"]  # type: ignore[no-any-return]


def _page(request: Request, template: str, **ctx: Any) -> Response:
    lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    body = render_html(platform_of(request), f"cockpit/showcases/{template}", lang=lang, t=translator(lang), **ctx)
    return HTMLResponse(body, headers={"content-language": lang, "cache-control": "private, no-cache"})


async def list_page(request: Request) -> Response:
    """Every showcase, or those using dataset ``?dataset=``."""
    dataset = request.query_params.get("dataset")
    if dataset is not None and (not dataset or len(dataset) > 200):
        raise BadRequest("dataset: give the name of a dataset.")
    showcases = await _svc(request).showcases(await viewer(request), dataset=dataset)
    return _page(request, "list.html", showcases=showcases, dataset=dataset)


async def showcase_page(request: Request) -> Response:
    """One showcase and the datasets it uses that the viewer may read."""
    ident = await viewer(request)
    return _page(request, "view.html", s=await _svc(request).show(ident, request.path_params["name"]))


ROUTES = (("GET", "/showcases", list_page), ("GET", "/showcases/{name}", showcase_page))


def mount(app: Any, platform: Platform) -> None:
    for method, path, handler in ROUTES:
        app.add_api_route(path, handler, methods=[method], include_in_schema=False, response_model=None)
    register_error_renderer(app, "/showcases", render_error)


__all__ = ["mount", "ROUTES"]
