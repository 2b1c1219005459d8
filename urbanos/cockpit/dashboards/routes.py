"""The dashboards' pages: the list (``/dashboards``, with the problems of dashboard files for publishers), a dashboard
(``/dashboards/{slug}``), the CSV of each panel, and the form publishers use to create, edit and delete dashboards.

The caller is the bearer token of the request, else the portal's sign-in cookie (the same token, kept HttpOnly by
the catalogue's portal). Forms of a browser session carry a CSRF token that must equal a cookie (double submit)."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from urbanos.cockpit.dashboards import store
from urbanos.cockpit.dashboards.data import Reader
from urbanos.cockpit.dashboards.forms import FormInput, authorize, validate
from urbanos.cockpit.dashboards.i18n import pick_lang, translator
from urbanos.cockpit.dashboards.service import DashboardService
from urbanos.cockpit.dashboards.views import build
from urbanos.core.escaping import spreadsheet_text
from urbanos.errors import BadRequest, NotFound, UrbanosError
from urbanos.governance import Identity
from urbanos.platform import Platform, render_html
from urbanos.routing import PortalForms, base_url, platform_of, register_error_renderer

STATIC = Path(__file__).resolve().parent.parent / "static"
CSRF = "urbanos_dashboards_csrf"
FORMS = PortalForms(CSRF, "/dashboards")
SLUG_PATH = "{slug:str}"


def service(request: Request) -> DashboardService:
    return platform_of(request).services["dashboards"]  # type: ignore[no-any-return]


async def viewer(request: Request) -> Identity:
    """The caller: a bearer token first, else the portal's sign-in cookie (an invalid cookie: anonymous)."""
    return await FORMS.identity(request)


def lang_of(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


def page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = lang_of(request)
    body = render_html(platform_of(request), template, lang=lang, t=translator(lang), **ctx)
    resp = HTMLResponse(body, status_code=status)
    resp.headers["cache-control"] = "private, no-store"
    resp.headers["content-language"] = lang
    return resp


def csrf_token(request: Request) -> str:
    return FORMS.token(request)


def keep_csrf(request: Request, resp: Response) -> Response:
    return FORMS.keep(request, resp)


def check_csrf(request: Request, form: Any) -> None:
    FORMS.check_form(request, form)


async def read_form(request: Request) -> dict[str, Any]:
    return await FORMS.read(request)


async def list_page(request: Request) -> Response:
    ident = await viewer(request)
    svc = service(request)
    dashboards = await svc.all()
    publisher = any(m.role in ("publisher", "steward", "admin") for m in ident.memberships)
    return page(request, "cockpit/dashboards/list.html", dashboards=dashboards,
                problems=svc.problems() if publisher else [], publisher=publisher,
                may_edit={d.slug for d in dashboards if d.origin == "portal" and ident.has_role("publisher", d.organization)})


async def _dashboard(request: Request, slug: str) -> Any:
    dash = await service(request).get(slug)
    if dash is None:
        raise NotFound(f"No dashboard {slug[:80]!r}.")
    return dash


async def view_page(request: Request, slug: str) -> Response:
    ident = await viewer(request)
    dash = await _dashboard(request, slug)
    lang = lang_of(request)
    params = {"sensor": request.query_params.get("sensor", "")[:20]}
    reader = Reader(platform_of(request), ident, base_url(request))
    panels = await build(reader, dash, lang, params)
    data = {"slug": dash.slug, "lang": lang, "mqtt": "/mqtt", "tz": dash.timezone, "panels": {p.id: {"type": p.type, **p.client}
                                                                         for p in panels}}
    may_edit = dash.origin == "portal" and ident.has_role("publisher", dash.organization)
    return page(request, "cockpit/dashboards/view.html", dash=dash, panels=panels, data=data, may_edit=may_edit,
                sensor=params["sensor"])


async def panel_csv(request: Request, slug: str, panel: str) -> Response:
    ident = await viewer(request)
    dash = await _dashboard(request, slug)
    reader = Reader(platform_of(request), ident, base_url(request))
    lang = lang_of(request)
    panels = await build(reader, dash, lang, {"sensor": request.query_params.get("sensor", "")[:20]})
    chosen = next((p for p in panels if p.id == panel.removesuffix(".csv")), None)
    if chosen is None or not panel.endswith(".csv"):
        raise NotFound(f"Dashboard {slug!r} has no panel {panel[:40]!r}.")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([spreadsheet_text(c) for c in chosen.columns])
    for row in chosen.rows:
        w.writerow([spreadsheet_text(c) for c in row.cells])
    name = quote(f"{slug}-{chosen.id}.csv")
    return Response(buf.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{name}",
                             "cache-control": "private, no-store"})


async def form_page(request: Request, slug: str | None = None, *, values: FormInput | None = None,
                    errors: list[str] | None = None, status: int = 200) -> Response:
    ident = await viewer(request)
    if values is None:
        values = FormInput("", "", "")
        if slug is not None:
            row = await platform_of(request).db.read(lambda c: store.get(c, slug))
            if row is None or service(request).is_file(slug):
                raise NotFound(f"No dashboard {slug[:80]!r} made in the portal.")
            await authorize(platform_of(request), ident, row.owner_org, row.owner_org)
            values = FormInput(row.slug, row.owner_org or "", row.text)
        else:
            await authorize(platform_of(request), ident, None, None, creating=True)
    resp = page(request, "cockpit/dashboards/form.html", status=status, slug=slug, values=values,
                errors=errors or [], csrf=csrf_token(request))
    return keep_csrf(request, resp)


async def new_form(request: Request) -> Response:
    return await form_page(request)


async def edit_form(request: Request, slug: str) -> Response:
    return await form_page(request, slug)


async def save(request: Request, slug: str | None = None) -> Response:
    ident = await viewer(request)
    platform = platform_of(request)
    existing = await platform.db.read(lambda c: store.get(c, slug)) if slug is not None else None
    if slug is not None and (existing is None or service(request).is_file(slug)):
        raise NotFound(f"No dashboard {slug[:80]!r} made in the portal.")
    owner = existing.owner_org if existing else None
    await authorize(platform, ident, owner, owner, creating=existing is None)  # before the body is read
    form = await read_form(request)
    check_csrf(request, form)
    values = FormInput.of(form, slug)
    await authorize(platform, ident, owner, values.org or None, creating=existing is None)
    dash, errors = await validate(platform, ident, values, base_url(request), service(request), creating=slug is None)
    if errors or dash is None:
        return await form_page(request, slug, values=values, errors=errors, status=400)
    org = values.org or None
    if slug is None:
        await platform.db.write(lambda c: store.create(c, values.slug, org, dash, values.text, ident.subject))
    else:
        await platform.db.write(lambda c: store.update(c, slug, org, dash, values.text))
    return RedirectResponse(f"/dashboards/{quote(values.slug)}", status_code=303)


async def create(request: Request) -> Response:
    return await save(request)


async def update(request: Request, slug: str) -> Response:
    return await save(request, slug)


async def delete(request: Request, slug: str) -> Response:
    ident = await viewer(request)
    platform = platform_of(request)
    row = await platform.db.read(lambda c: store.get(c, slug))
    if row is None or service(request).is_file(slug):
        raise NotFound(f"No dashboard {slug[:80]!r} made in the portal.")
    await authorize(platform, ident, row.owner_org, row.owner_org)
    check_csrf(request, await read_form(request))
    await platform.db.write(lambda c: store.delete(c, slug))
    return RedirectResponse("/dashboards", status_code=303)


def render_error(request: Request, exc: UrbanosError) -> Response:
    """Errors under /dashboards: an HTML page for browsers, problem+json for other clients."""
    if "text/html" in request.headers.get("accept", "") and not request.url.path.endswith(".csv"):
        with contextlib.suppress(Exception):  # the page of an error must not fail in turn: problem details then
            return page(request, "cockpit/dashboards/error.html", status=exc.status, exc=exc,
                        request_path=request.url.path)
    body = {"type": "about:blank", "title": exc.code, "status": exc.status, "detail": exc.message}
    return Response(orjson.dumps(body), status_code=exc.status, media_type="application/problem+json",
                    headers=exc.headers)


ROUTES = (
    ("GET", "/dashboards", list_page),
    ("GET", "/dashboards/new", new_form),
    ("POST", "/dashboards/new", create),
    ("GET", f"/dashboards/{SLUG_PATH}", view_page),
    ("GET", f"/dashboards/{SLUG_PATH}/edit", edit_form),
    ("POST", f"/dashboards/{SLUG_PATH}/edit", update),
    ("POST", f"/dashboards/{SLUG_PATH}/delete", delete),
    ("GET", f"/dashboards/{SLUG_PATH}/panels/{{panel:str}}", panel_csv),
)


def mount(app: Any, platform: Platform) -> None:
    app.mount("/cockpit/static", StaticFiles(directory=str(STATIC)), name="cockpit-static")
    for method, path, handler in ROUTES:
        app.add_api_route(path, handler, methods=[method], include_in_schema=False, response_model=None)
    register_error_renderer(app, "/dashboards", render_error)


__all__ = ["mount", "ROUTES", "viewer", "BadRequest"]
