"""The planning pages (server-rendered, English and German): the project list, and a project's page with the map
(Leaflet, vendored), the contributions with a category filter, the heat map layer and the form to contribute
(``POST /participation/projects/{name}/contribute``, form-encoded with a CSRF token matching the page's cookie, as
the signed-in caller: a bearer token or the portal's sign-in cookie)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from shapely.geometry import shape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from urbanos.core.lang import pick_lang
from urbanos.errors import PayloadTooLarge, RateLimited, UrbanosError
from urbanos.governance import Identity
from urbanos.participation import throttle
from urbanos.participation.planning.i18n import translator
from urbanos.participation.planning.service import PlanningService, public_project
from urbanos.participation.throttle import too_many_page
from urbanos.platform import render_html
from urbanos.routing import PortalForms, identity_of, platform_of

CSRF = "urbanos_planning_csrf"
FORMS = PortalForms(CSRF, "/participation/projects")
PORTAL_COOKIE = "urbanos_portal_token"
STATIC = Path(__file__).resolve().parent / "static"
MAX_FORM = 32 * 1024


def wants_html(request: Request) -> bool:
    f = request.query_params.get("f")
    if f in ("json", "html"):
        return f == "html"
    return "text/html" in request.headers.get("accept", "")


def _lang(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


def _csrf(request: Request) -> str:
    return FORMS.token(request)


def _page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = _lang(request)
    html = render_html(platform_of(request), template, lang=lang, t=translator(lang), csrf=_csrf(request), **ctx)
    resp = HTMLResponse(html, status_code=status, headers={"Content-Language": lang,
                                                           "Cache-Control": "private, no-store",
                                                           "Vary": "Accept, Accept-Language"})
    return FORMS.keep(request, resp)


async def signed_in(request: Request) -> Identity:
    ident = await identity_of(request)
    token = request.cookies.get(PORTAL_COOKIE, "").strip()
    if ident.is_anonymous and token:
        try:
            return await platform_of(request).gate.authenticate(token)
        except UrbanosError:
            return ident
    return ident


def index(request: Request, projects: list[dict[str, Any]]) -> HTMLResponse:
    return _page(request, "participation/planning/index.html", projects=projects)


async def project(request: Request, project: dict[str, Any], items: list[dict[str, Any]], status: int = 200,
                  errors: list[str] | None = None, values: dict[str, str] | None = None) -> HTMLResponse:
    ident = await signed_in(request)
    area = project["area"]
    centre = _centre(area)
    return _page(request, "participation/planning/project.html", status, p=project, items=items,
                 category=request.query_params.get("category") or "", errors=errors or [], values=values or {},
                 signed_in=not ident.is_anonymous, centre=centre, tiles=platform_of(request).settings.map_tile_url,
                 new=request.query_params.get("new", ""))


def _centre(area: dict[str, Any]) -> tuple[float, float]:
    c = shape(area).centroid
    return round(float(c.y), 6), round(float(c.x), 6)


def _number(raw: str) -> float | None:
    try:
        v = float(raw.replace(",", ".")) if raw.strip() else None
    except ValueError:
        return math.nan
    return v


def contribute_form(service: PlanningService) -> Callable[[Request], Awaitable[Response]]:
    async def post(request: Request) -> Response:
        name = str(request.path_params["name"])
        proj = public_project(await service.get(name))
        raw = await request.body()
        if len(raw) > MAX_FORM:
            raise PayloadTooLarge(f"A form is at most {MAX_FORM} bytes.")
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), max_num_fields=20))
        FORMS.check(request, form.pop("csrf", ""))
        ident = await signed_in(request)
        try:
            await throttle.take(request, None if ident.is_anonymous else ident.subject, "contributions")
        except RateLimited as exc:
            return too_many_page(request, exc, f"/participation/projects/{name}?lang={_lang(request)}")
        lat, lon = _number(form.get("lat", "")), _number(form.get("lon", ""))
        body: dict[str, Any] = {"title": form.get("title", ""), "text": form.get("text", ""),
                                "category": form.get("category", "")}
        if lat is not None or lon is not None:
            body["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
        try:
            out = await service.contribute(ident, name, body)
        except UrbanosError as exc:
            items = await service.contributions(name)
            return await project(request, proj, items, exc.status, [exc.message], form)
        return RedirectResponse(f"/participation/projects/{name}?lang={_lang(request)}&new={out['id']}"
                                f"#contribution-{out['id']}", status_code=303)

    return post


__all__ = ["wants_html", "index", "project", "contribute_form", "signed_in", "STATIC"]
