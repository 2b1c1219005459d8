"""``create_app(settings)``: builds the whole platform. Nothing is created at import time."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from urbanos import __version__
from urbanos.core.escaping import escape_json_for_script, json_for_script, safe_href
from urbanos.platform import Platform, render_html
from urbanos.plugins import Component, load_components
from urbanos.settings import Settings
from urbanos.storage import readiness
from urbanos.web import errors, openapi
from urbanos.web.admin import router as admin_router
from urbanos.web.metrics import Metrics
from urbanos.web.middleware import HEAVY, MQTT, OTHER, WRITES, LoadPolicy, PlatformMiddleware
from urbanos.web.probes import LocalHealth, Readiness
from urbanos.web.security import HostPolicy, ProxyPolicy, page_policy

log = logging.getLogger("urbanos")
HERE = Path(__file__).parent



def localized(item: Any, key: str = "", lang: Any = None) -> Any:
    """``item[key]`` in language ``lang``: ``item[key + "_" + lang]`` when the item has it (``title_de``), else
    ``item[key]``; with no key, an item that is a mapping of languages to texts gives its text in ``lang`` (or in
    English). A language that is not given (a page outside the portal) is English."""
    code = lang if isinstance(lang, str) and lang else "en"
    if not key:
        return item.get(code) or item.get("en", "") if isinstance(item, dict) else item
    return item.get(f"{key}_{code}") or item.get(key, "")

def _jinja(components: list[Component]) -> Environment:
    loaders = [FileSystemLoader(str(HERE / "templates"))]
    for c in components:
        mod = __import__(type(c).__module__, fromlist=["__file__"])
        tdir = Path(mod.__file__).parent / "templates"  # type: ignore[arg-type]
        if tdir.is_dir():
            loaders.append(FileSystemLoader(str(tdir)))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html", "xml"]), enable_async=False)
    env.filters["tojson_compact"] = lambda v: orjson.dumps(v).decode()  # for HTML text (autoescaped), never in <script>
    # JSON inside <script> (code or a JSON data block): `value | tojson_script`, or `json_text | json_text_script`
    # for JSON that a route already serialised. Never `| safe` on JSON: `</script>` in a value would end the element.
    env.filters["tojson_script"] = lambda v: Markup(json_for_script(v))  # escaped for a script element  # nosec B704
    env.filters["json_text_script"] = lambda text: Markup(escape_json_for_script(str(text)))  # escaped  # nosec B704
    env.filters["localized"] = localized  # a link's or block's text in the page's language
    env.filters["safe_href"] = safe_href  # stored links: javascript: and other active schemes become "#"
    return env


_LOCAL = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _warn_about_hosts(settings: Settings) -> None:
    """A server that listens beyond this machine but answers to local names only refuses every client: say so."""
    allowed = {str(h).lower() for h in settings.allowed_hosts}
    if str(settings.host).lower() not in _LOCAL and not settings.base_url and "*" not in allowed and allowed <= _LOCAL:
        log.warning("listening on %s, but requests are answered only for the hosts %s (setting allowed_hosts); "
                    "others get 400. Set base_url to the public address, or list the names clients use in "
                    "allowed_hosts.", settings.host, ", ".join(sorted(allowed)) or "(none)")


def _tile_templates(settings: Settings) -> list[str]:
    """Map tile URL templates the pages may load (their servers are allowed as image sources)."""
    return [str(settings.get(name) or "") for name in ("map_tile_url", "portal_tile_url") if settings.get(name)]


def create_app(settings: Settings, *, components: list[Component] | None = None,
               readiness_state: Readiness | None = None) -> FastAPI:
    """Build the platform (open the database, migrate, set up components) and its web app. ``readiness_state``:
    where a worker of ``urbanos serve --workers N`` keeps its readiness results for the parent's health listener."""
    comps = components if components is not None else load_components()
    platform = Platform.build(settings, comps)
    platform.open()
    # the process id tells which server process answered (``urbanos serve --workers N`` runs several)
    alive = orjson.dumps({"status": "ok", "version": __version__, "database": platform.db.dialect.name,
                          "pid": os.getpid()})
    health = LocalHealth(platform.db, str(settings.host), int(settings.health_port), alive, readiness_state)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await platform.start()
        try:
            await health.start()
            yield
        finally:
            await health.stop()
            await platform.stop()
            platform.close()

    app = FastAPI(
        title=f"urbanos — {settings.city_name}",
        version=__version__,
        description="The open urban data platform: SensorThings API, OGC API Features, CKAN Action API and DCAT-AP.",
        lifespan=lifespan,
        docs_url=None,  # served below from vendored files, without inline script
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.platform = platform
    errors.install(app)
    metrics = Metrics(platform, app)  # the app's routes bound the route label
    app.state.metrics = metrics
    platform.services["jinja"] = _jinja(comps)
    platform.services["metrics"] = metrics
    nav: list[dict[str, str]] = []
    for c in comps:
        nav.extend(c.landing_links(platform))
    platform.services["nav"] = nav

    # Operations endpoints first (cheap to match); then the capabilities, so that one may serve a more
    # specific page than the landing page, which comes last.
    _operations_routes(app, platform, metrics, alive)
    for c in comps:
        c.mount(app, platform)
    _core_routes(app, platform, metrics)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    openapi.install(app, platform, comps)  # built on the first request for /openapi.json

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Location"],
        )
    app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_size)
    _warn_about_hosts(settings)
    app.add_middleware(
        PlatformMiddleware,
        max_body=settings.max_body_bytes,
        timeout=settings.request_timeout,
        metrics=metrics,
        access_log=settings.access_log,
        max_concurrent=settings.max_concurrent_requests,
        hosts=HostPolicy(settings.allowed_hosts, str(settings.base_url or "")),
        proxies=ProxyPolicy(settings.trusted_proxies),
        page_csp=page_policy(_tile_templates(settings)),
        load=_load_policy(settings),
        alive=alive,
    )
    app.state.health = health
    return app


def _load_policy(settings: Settings) -> LoadPolicy:
    """The shedding settings: a budget per traffic class, the longest queue wait, the rate limits."""
    budgets = {HEAVY: settings.budget_heavy_reads, WRITES: settings.budget_writes, MQTT: settings.budget_mqtt,
               OTHER: settings.budget_other}
    return LoadPolicy(budgets, max_wait=settings.shed_max_wait, per_token=settings.rate_limit_per_token,
                      per_address=settings.rate_limit_per_address, shed_rate=settings.shed_answers_per_second,
                      shed_hold=settings.shed_hold_max)


def _operations_routes(app: FastAPI, platform: Platform, metrics: Metrics, alive: bytes) -> None:
    @app.get("/healthz", tags=["Operations"], summary="Liveness: the process serves requests")
    async def healthz() -> Response:
        # from memory, no database query: a liveness probe must not fail (and restart the process) because the
        # database is slow or down; /readyz says whether requests can be served. PlatformMiddleware answers a GET
        # with the same bytes before routing (its fast path); this route documents it in the OpenAPI document
        return Response(alive, media_type="application/json", headers={"Cache-Control": "no-store"})

    @app.get("/readyz", tags=["Operations"], summary="Readiness: the database answers and accepts writes")
    async def readyz() -> Response:
        body = await readiness(platform.db, timeout=1.0)
        body = {**body, "version": __version__}
        return Response(orjson.dumps(body), status_code=200 if body["status"] == "ok" else 503,
                        media_type="application/json", headers={"Cache-Control": "no-store"})

    @app.get("/metrics", tags=["Operations"], summary="Prometheus metrics")
    async def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


def _core_routes(app: FastAPI, platform: Platform, metrics: Metrics) -> None:
    app.include_router(admin_router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def landing(request: Request) -> HTMLResponse:
        apis: list[dict[str, Any]] = [
            {"title": "OpenAPI document", "href": "/openapi.json", "description": "Machine-readable description of the platform API."},
            {"title": "API documentation", "href": "/docs", "description": "Browse and try the API."},
            {"title": "Health", "href": "/healthz", "description": "Liveness (from memory) and /readyz, readiness (database)."},
            {"title": "Metrics", "href": "/metrics", "description": "Prometheus metrics."},
        ]
        html = render_html(platform, "landing.html", links=platform.services["nav"], apis=apis, version=__version__,
                           extra=platform.services.get("landing_extra", []))
        return HTMLResponse(html)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        # Swagger UI from /static/vendor/swagger-ui, started by /static/docs.js: the page policy applies unchanged
        html = render_html(platform, "docs.html", openapi_url=app.openapi_url or "/openapi.json", title=app.title)
        return HTMLResponse(html)


__all__ = ["create_app"]
