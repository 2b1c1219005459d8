"""HTTP routes of the alerts: the JSON API under ``/alerts/rules`` and ``/alerts/episodes``, and the pages ``/alerts``
and ``/alerts/episodes/{id}`` (HTML for browsers, JSON otherwise; ``?f=json`` or ``?f=html`` choose).

Pages authenticate like the portal's: a bearer token in the headers, else the portal's sign-in cookie (the API token
kept in ``urbanos_portal_token``, checked by the gate on every request, so a revoked token signs the browser out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from urbanos.cockpit.alerts.api import AlertsApi, int_param
from urbanos.cockpit.alerts.i18n import pick_lang, translator
from urbanos.errors import NotFound, PayloadTooLarge, UrbanosError
from urbanos.governance import Identity
from urbanos.platform import render_html
from urbanos.routing import identity_of, json_body, platform_of

if TYPE_CHECKING:
    from urbanos.platform import Platform

JSON = "application/json"
MAX_BODY = 64 * 1024
"""Largest rule body accepted (a rule is a few hundred bytes)."""
SESSION_COOKIE = "urbanos_portal_token"
"""The portal's sign-in cookie (it holds the API token itself)."""


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON,
                    headers={"Cache-Control": "private, no-store", **(headers or {})})


def _id(request: Request, what: str) -> int:
    raw = str(request.path_params["id"])
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise NotFound(f"{what} {raw[:40]!r} does not exist.")
    return int(raw)


def _query(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k != "f"}


async def _body(request: Request) -> Any:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise PayloadTooLarge(f"An alert rule is at most {MAX_BODY} bytes.")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise PayloadTooLarge(f"An alert rule is at most {MAX_BODY} bytes.")
    return await json_body(request, require_json_type=True)


def wants_html(request: Request) -> bool:
    f = request.query_params.get("f")
    if f in ("json", "html"):
        return f == "html"
    accept = request.headers.get("accept", "")
    return "text/html" in accept and accept.find("text/html") < (accept.find(JSON) if JSON in accept else 10**6)


async def page_identity(request: Request) -> Identity:
    """The caller of a page: the headers' token first, then the portal's sign-in cookie (invalid: anonymous)."""
    if request.headers.get("authorization") or request.headers.get("x-ckan-api-key"):
        return await identity_of(request)
    token = (request.cookies.get(SESSION_COOKIE) or "").strip()
    if token:
        try:
            return await platform_of(request).gate.authenticate(
                token, client=request.client.host if request.client else None)
        except UrbanosError:
            pass
    return await identity_of(request)


class AlertRoutes:
    def __init__(self, api: AlertsApi) -> None:
        self.api = api

    # -- JSON API -----------------------------------------------------------------------------------------------
    async def rules(self, request: Request) -> Response:
        ident = await identity_of(request)
        if request.method == "POST":
            out = await self.api.create(ident, await _body(request))
            return _json(out, 201, {"Location": f"/alerts/rules/{out['id']}"})
        return _json(await self.api.rules(ident, _query(request)))

    async def rule(self, request: Request) -> Response:
        ident = await identity_of(request)
        rid = _id(request, "Alert rule")
        if request.method == "PATCH":
            return _json(await self.api.update(ident, rid, await _body(request)))
        if request.method == "DELETE":
            await self.api.delete(ident, rid)
            return Response(status_code=204)
        return _json(await self.api.rule(ident, rid))

    async def episodes(self, request: Request) -> Response:
        ident = await identity_of(request)
        return _json({"episodes": await self.api.episodes(ident, _query(request))})

    async def episode(self, request: Request) -> Response:
        if wants_html(request):
            return await self.episode_page(request)
        ident = await identity_of(request)
        return _json(await self.api.episode(ident, _id(request, "Alert episode")))

    # -- pages ----------------------------------------------------------------------------------------------
    def _page(self, request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
        html = render_html(platform_of(request), template, lang=lang, t=translator(lang), **ctx)
        return HTMLResponse(html, status_code=status, headers={
            "Content-Language": lang, "Cache-Control": "private, no-store",
            "Vary": "Accept, Accept-Language, Authorization, Cookie"})

    async def _page_caller(self, request: Request) -> tuple[Identity | None, HTMLResponse | None]:
        ident = await page_identity(request)
        if ident.is_anonymous:
            return None, self._page(request, "cockpit/alerts/alerts_refused.html", 401, reason="signin_needed",
                                    next_path=request.url.path)
        if not ident.has_role_somewhere("publisher"):
            return None, self._page(request, "cockpit/alerts/alerts_refused.html", 403, reason="forbidden",
                                    next_path=request.url.path)
        return ident, None

    async def index_page(self, request: Request) -> Response:
        if request.query_params.get("f") == "json":
            ident = await identity_of(request)
            return _json({"rules": (await self.api.rules(ident, {}))["rules"],
                          "episodes": await self.api.episodes(ident, {"limit": "50"})})
        caller, refused = await self._page_caller(request)
        if refused is not None or caller is None:
            return refused or Response(status_code=401)
        rules = (await self.api.rules(caller, {"limit": "1000"}))["rules"]
        episodes = await self.api.episodes(caller, {"limit": "50"})
        return self._page(request, "cockpit/alerts/alerts_index.html", rules=rules, episodes=episodes)

    async def episode_page(self, request: Request) -> Response:
        ident, refused = await self._page_caller(request)
        if refused is not None or ident is None:
            return refused or Response(status_code=401)
        raw = str(request.path_params["id"])
        found = await self.api.episodes(ident, {}, episode=int_param("id", raw)) if raw.isdigit() and len(raw) < 19 \
            else []
        if not found:
            return self._page(request, "cockpit/alerts/alerts_refused.html", 404, reason="not_found",
                              next_path="/alerts")
        return self._page(request, "cockpit/alerts/alerts_episode.html", episode=found[0])


def mount(app: Any, platform: Platform, api: AlertsApi) -> None:
    r = AlertRoutes(api)
    app.router.routes.extend([
        Route("/alerts", r.index_page, methods=["GET"]),
        Route("/alerts/rules", r.rules, methods=["GET", "POST"]),
        Route("/alerts/rules/{id}", r.rule, methods=["GET", "PATCH", "DELETE"]),
        Route("/alerts/episodes", r.episodes, methods=["GET"]),
        Route("/alerts/episodes/{id}", r.episode, methods=["GET"]),
    ])


__all__ = ["mount", "AlertRoutes", "page_identity", "wants_html", "MAX_BODY"]
