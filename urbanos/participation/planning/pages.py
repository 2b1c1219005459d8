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
from urbanos.participation.planning.model import MAX_VERTICES, refuse
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


async def project(request: Request, service: PlanningService, name: str, status: int = 200,
                  errors: list[str] | None = None, values: dict[str, str] | None = None) -> HTMLResponse:
    """The project's page; its stewards also see what is hidden, with the reasons and a button to show it again."""
    ident = await signed_in(request)
    stored = await service.get(name)
    p = public_project(stored)
    category, rubric = request.query_params.get("category") or "", request.query_params.get("rubric") or ""
    items = await service.contributions(name, category[:100] or None, rubric=rubric[:100] or None)
    hidden = await service.hidden(ident, name) if service.is_steward(ident, stored) else None
    return _page(request, "participation/planning/project.html", status, p=p, items=items, category=category,
                 rubric=rubric, errors=errors or [], values=values or {}, signed_in=not ident.is_anonymous,
                 centre=_centre(p["area"]), tiles=platform_of(request).settings.map_tile_url,
                 new=request.query_params.get("new", ""), hidden=hidden,
                 shown=request.query_params.get("shown", ""))


def _centre(area: dict[str, Any]) -> tuple[float, float]:
    c = shape(area).centroid
    return round(float(c.y), 6), round(float(c.x), 6)


def _number(raw: str) -> float | None:
    try:
        v = float(raw.replace(",", ".")) if raw.strip() else None
    except ValueError:
        return math.nan
    return v


def _line(raw: str) -> dict[str, Any] | None:
    """The form's line: one point a line (or separated by ``;``) as "latitude, longitude"; None when empty."""
    points = [p.strip() for p in raw.replace(";", "\n").splitlines() if p.strip()]
    if not points:
        return None
    coords = []
    for p in points[:MAX_VERTICES + 1]:
        parts = p.replace(",", " ").split()
        lat, lon = (_number(parts[0]), _number(parts[1])) if len(parts) == 2 else (math.nan, math.nan)
        if lat is None or lon is None or not math.isfinite(lat) or not math.isfinite(lon):
            raise refuse("line", f"The line's points are \"latitude, longitude\", one a line: {p[:40]!r} is not.")
        coords.append([lon, lat])
    return {"type": "LineString", "coordinates": coords}


async def _project_form(service: PlanningService, request: Request) -> tuple[str, dict[str, str]]:
    """The project a form is posted to (NotFound when there is none) and the form's fields, its CSRF token checked
    and removed; 413 for a form over ``MAX_FORM`` bytes."""
    name = str(request.path_params["name"])
    await service.get(name)
    raw = await request.body()
    if len(raw) > MAX_FORM:
        raise PayloadTooLarge(f"A form is at most {MAX_FORM} bytes.")
    form = dict(parse_qsl(raw.decode("utf-8", "replace"), max_num_fields=20))
    FORMS.check(request, form.pop("csrf", ""))
    return name, form


def contribute_form(service: PlanningService) -> Callable[[Request], Awaitable[Response]]:
    async def post(request: Request) -> Response:
        name, form = await _project_form(service, request)
        ident = await signed_in(request)
        try:
            await throttle.take(request, None if ident.is_anonymous else ident.subject, "contributions")
        except RateLimited as exc:
            return too_many_page(request, exc, f"/participation/projects/{name}?lang={_lang(request)}")
        lat, lon = _number(form.get("lat", "")), _number(form.get("lon", ""))
        body: dict[str, Any] = {"title": form.get("title", ""), "text": form.get("text", ""),
                                "category": form.get("category", ""), "rubric": form.get("rubric") or None}
        if form.get("shape") != "line" and (lat is not None or lon is not None):
            body["geometry"] = {"type": "Point", "coordinates": [lon, lat]}
        try:
            if form.get("shape") == "line":
                body["geometry"] = _line(form.get("line", ""))
            out = await service.contribute(ident, name, body)
        except UrbanosError as exc:
            return await project(request, service, name, exc.status, [exc.message], form)
        return RedirectResponse(f"/participation/projects/{name}?lang={_lang(request)}&new={out['id']}"
                                f"#contribution-{out['id']}", status_code=303)

    return post


def _form_id(form: dict[str, str], key: str) -> int | None:
    raw = form.get(key, "")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise refuse(key, f"{key} is the id of a hidden item.")
    return int(raw)


def unhide_form(service: PlanningService) -> Callable[[Request], Awaitable[Response]]:
    """``POST /participation/projects/{name}/unhide`` (form: csrf, contribution, comment): a steward of the project
    shows a hidden contribution or comment again (the moderation API with ``hidden: false``)."""

    async def post(request: Request) -> Response:
        name, form = await _project_form(service, request)
        cid = _form_id(form, "contribution")
        if cid is None:
            raise refuse("contribution", "contribution is the id of a hidden item.")
        body: dict[str, Any] = {"hidden": False, "comment": _form_id(form, "comment")}
        await service.moderate(await signed_in(request), name, cid, body)
        return RedirectResponse(f"/participation/projects/{name}?lang={_lang(request)}&shown=1#hidden-items",
                                status_code=303)

    return post


__all__ = ["wants_html", "index", "project", "contribute_form", "unhide_form", "signed_in", "STATIC"]
