"""The participation pages (server-rendered, English and German):

* ``/participation/report``: the citizens' report form with a map; it posts to the same Open311 intake as the API
  (as the platform's report form, limited per client address, or as the signed-in caller) and leads to
* ``/participation/requests/{id}``: the request's state page with its public history;
* ``/participation/staff``: the newest requests of the services a steward's organisation owns, each with an update
  form (``POST /participation/staff/requests/{id}``).

Forms carry a CSRF token that must match the page's cookie."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from urbanos.errors import NotFound, RateLimited, UrbanosError, ValidationFailed
from urbanos.governance import Identity
from urbanos.participation.open311.i18n import messages, pick_lang, states
from urbanos.participation.open311.routes import read_form
from urbanos.participation.open311.service import Open311Service
from urbanos.participation.open311.store import STATES
from urbanos.participation.throttle import too_many_page
from urbanos.platform import render_html
from urbanos.routing import PortalForms, base_url, identity_of, platform_of

if TYPE_CHECKING:
    from urbanos.platform import Platform

CSRF = "urbanos_participation_csrf"
FORMS = PortalForms(CSRF, "/participation")
PORTAL_COOKIE = "urbanos_portal_token"
STATIC = Path(__file__).resolve().parent.parent / "static"
REPORT_FORM = Identity(subject="participation:report-form", kind="form", name="report form")


def _svc(request: Request) -> Open311Service:
    return platform_of(request).services["open311"]  # type: ignore[no-any-return]


def _lang(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


def _csrf(request: Request) -> str:
    return FORMS.token(request)


def _check_csrf(request: Request, items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    FORMS.check(request, next((v for k, v in items if k == "csrf"), ""))
    return [(k, v) for k, v in items if k != "csrf"]


def _page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = _lang(request)
    body = render_html(platform_of(request), template, lang=lang, t=messages(lang), states=states(lang),
                       csrf=_csrf(request), **ctx)
    resp = HTMLResponse(body, status_code=status, headers={"Cache-Control": "private, no-store",
                                                           "Content-Language": lang})
    return FORMS.keep(request, resp)


async def _signed_in(request: Request) -> Identity:
    ident = await identity_of(request)
    token = request.cookies.get(PORTAL_COOKIE, "").strip()
    if ident.is_anonymous and token:
        try:
            return await platform_of(request).gate.authenticate(token)
        except UrbanosError:
            return ident
    return ident


async def report_form(request: Request, errors: list[str] | None = None, values: dict[str, str] | None = None,
                      status: int = 200) -> HTMLResponse:
    services = [s for s in await _svc(request).services() if s["type"] != "batch"]
    tiles = platform_of(request).settings.map_tile_url
    return _page(request, "participation/report.html", status, services=services, errors=errors or [],
                 values=values or {}, tiles=tiles)


async def report_page(request: Request) -> HTMLResponse:
    return await report_form(request)


async def report_post(request: Request) -> Response:
    svc = _svc(request)
    items, photo = await read_form(request, int(platform_of(request).settings.participation_media_max_bytes))
    items = _check_csrf(request, items)
    ident = await _signed_in(request)
    shared = ident.is_anonymous
    ident = REPORT_FORM if shared else ident
    try:
        await svc.throttle(ident, request.client.host if request.client else None, per_token=not shared)
    except RateLimited as exc:
        return too_many_page(request, exc, f"/participation/report?lang={_lang(request)}")
    items = [(k, v) for k, v in items if v != "" or k.startswith("attribute")]
    try:
        out = await svc.submit(ident, items, photo, base_url(request))
    except (ValidationFailed, NotFound) as exc:
        problems = exc.detail.get("errors") if isinstance(exc.detail, dict) else None
        return await report_form(request, list(problems or [exc.message]), dict(items), 400)
    rid = out[0].get("service_request_id") or (await svc.token(out[0]["token"]))[0]["service_request_id"]
    return RedirectResponse(f"/participation/requests/{rid}?lang={_lang(request)}&new=1", status_code=303)


async def request_page(request: Request) -> HTMLResponse:
    svc = _svc(request)
    one = await svc.one(request.path_params["id"], base_url(request), extensions=True)
    return _page(request, "participation/request.html", r=one, new=request.query_params.get("new") == "1")


async def staff_page(request: Request) -> HTMLResponse:
    ident = await _signed_in(request)
    if ident.is_anonymous:
        raise NotFound("Sign in to the portal (or send a bearer token) as a steward to see this page.")
    rows = await _svc(request).staff_list(ident)
    return _page(request, "participation/staff.html", rows=rows, all_states=STATES)


async def staff_update(request: Request) -> Response:
    items, _ = await read_form(request, 0)
    items = _check_csrf(request, items)
    ident = await _signed_in(request)
    await _svc(request).update(ident, request.path_params["id"], dict(items))
    return RedirectResponse(f"/participation/staff?lang={_lang(request)}", status_code=303)


def mount(app: Starlette, platform: Platform) -> None:
    app.add_route("/participation/report", report_page, methods=["GET"], include_in_schema=False)
    app.add_route("/participation/report", report_post, methods=["POST"], include_in_schema=False)
    app.add_route("/participation/requests/{id}", request_page, methods=["GET"], include_in_schema=False)
    app.add_route("/participation/staff", staff_page, methods=["GET"], include_in_schema=False)
    app.add_route("/participation/staff/requests/{id}", staff_update, methods=["POST"], include_in_schema=False)
    app.mount("/participation/static", StaticFiles(directory=str(STATIC)), name="participation-static")


__all__ = ["mount", "REPORT_FORM"]
