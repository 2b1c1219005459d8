"""The usage cockpit's pages and files.

``/cockpit`` (stewards and admins; a bearer token or the portal's sign-in cookie, read as the dashboards read it)
shows the datasets the viewer may read; ``/cockpit/public`` the open datasets, without application names. Each page
answers JSON with ``?f=json``; ``/cockpit/usage.csv`` is the viewer's rows, ``/cockpit/public/usage.csv`` and
``/cockpit/public/usage.json`` the open aggregates at stable URLs (usage statistics as open data)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from urbanos.cockpit.dashboards.routes import viewer
from urbanos.cockpit.usage import report
from urbanos.cockpit.usage.i18n import pick_lang, translator
from urbanos.errors import Forbidden, Unauthorized, UrbanosError
from urbanos.governance import Identity
from urbanos.platform import Platform, render_html
from urbanos.ports import ConnectorHealthPort, UsagePort
from urbanos.routing import platform_of, register_error_renderer

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "/cockpit/usage-assets"


def _port(request: Request) -> UsagePort:
    return platform_of(request).require(UsagePort)  # type: ignore[no-any-return]


async def steward(request: Request) -> Identity:
    """The caller, who must be an admin or a steward of some organisation (401 anonymous, 403 others)."""
    ident = await viewer(request)
    if ident.is_anonymous:
        raise Unauthorized("Sign in (or send a bearer token) as a steward or admin to see the usage cockpit; "
                           "the public summary is at /cockpit/public.")
    if not (ident.is_admin or ident.has_role_somewhere("steward")):
        raise Forbidden("The usage cockpit is for stewards and admins; the public summary is at /cockpit/public.")
    return ident


async def anonymous(request: Request) -> Identity:
    return await platform_of(request).gate.authenticate(None)


def lang_of(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


def _json(body: Any, cache: str) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers={"cache-control": cache})


async def _figures(request: Request, ident: Identity, public: bool) -> tuple[report.Period, list[Any], dict[str, Any]]:
    period = report.period_of(request.query_params)
    port = _port(request)
    rows = await port.usage(ident, period.since.isoformat(), period.until.isoformat())
    if public:
        rows = report.merged_public(rows)
    figures = report.summary(rows, await port.late_datasets(ident), period, public=public)
    health = platform_of(request).optional(ConnectorHealthPort)
    if not public:  # connector names and errors are the operators' business: not on the public page
        figures["connectors"] = [asdict(h) for h in await health.unhealthy(ident)] if health is not None else []
    showcases = platform_of(request).services.get("showcases")
    if showcases is not None:
        await showcases.annotate(ident, figures)
    return period, rows, figures


async def _page(request: Request, ident: Identity, public: bool) -> Response:
    period, _, figures = await _figures(request, ident, public)
    cache = "public, max-age=60" if public else "private, no-store"
    if request.query_params.get("f") == "json":
        return _json(figures, cache)
    lang = lang_of(request)
    base = "/cockpit/public" if public else "/cockpit"
    csv_url = f"{base}/usage.csv?since={period.since}&until={period.until}"
    body = render_html(platform_of(request), "cockpit/usage/index.html", lang=lang, t=translator(lang),
                       public=public, figures=figures, period=period, choices=report.CHOICES, base=base,
                       csv_url=csv_url, assets=ASSETS, chart={"trend": figures["trend"], "lang": lang})
    return HTMLResponse(body, headers={"cache-control": cache, "content-language": lang})


async def cockpit_page(request: Request) -> Response:
    """The usage cockpit (stewards and admins): HTML, or JSON with ?f=json."""
    return await _page(request, await steward(request), public=False)


async def public_page(request: Request) -> Response:
    """The public usage summary of open datasets: HTML, or JSON with ?f=json."""
    return await _page(request, await anonymous(request), public=True)


def _csv(text: str, name: str, cache: str) -> Response:
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f"attachment; filename={name}", "cache-control": cache})


async def cockpit_csv(request: Request) -> Response:
    """The usage rows the steward or admin may read, as CSV."""
    ident = await steward(request)
    period = report.period_of(request.query_params)
    rows = await _port(request).usage(ident, period.since.isoformat(), period.until.isoformat())
    return _csv(report.csv_text(rows, public=False), "usage.csv", "private, no-store")


async def public_csv(request: Request) -> Response:
    """The usage of open data as CSV (open data: no application names)."""
    period = report.period_of(request.query_params)
    rows = await _port(request).usage(await anonymous(request), period.since.isoformat(), period.until.isoformat())
    return _csv(report.csv_text(report.merged_public(rows), public=True), "usage-open-data.csv", "public, max-age=60")


async def public_json(request: Request) -> Response:
    """The usage of open data as JSON rows (open data: no application names)."""
    period = report.period_of(request.query_params)
    rows = await _port(request).usage(await anonymous(request), period.since.isoformat(), period.until.isoformat())
    return _json({"since": period.since.isoformat(), "until": period.until.isoformat(),
                  "rows": report.public_rows(rows)}, "public, max-age=60")


def render_error(request: Request, exc: UrbanosError) -> Response:
    """Errors under /cockpit: problem details (with the reason)."""
    body = {"type": "about:blank", "title": exc.code, "status": exc.status, "detail": exc.message}
    return Response(orjson.dumps(body), status_code=exc.status, media_type="application/problem+json",
                    headers=exc.headers)


ROUTES = (
    ("GET", "/cockpit", cockpit_page),
    ("GET", "/cockpit/usage.csv", cockpit_csv),
    ("GET", "/cockpit/public", public_page),
    ("GET", "/cockpit/public/usage.csv", public_csv),
    ("GET", "/cockpit/public/usage.json", public_json),
)


def mount(app: Any, platform: Platform) -> None:
    app.mount(ASSETS, StaticFiles(directory=str(STATIC)), name="cockpit-usage-assets")
    for method, path, handler in ROUTES:
        app.add_api_route(path, handler, methods=[method], include_in_schema=False, response_model=None)
    register_error_renderer(app, "/cockpit", render_error)


__all__ = ["mount", "ROUTES"]
