"""The transparency page (``/transparency``: HTML in English and German, or JSON), its print stylesheet, and the
contacts for objections (``/privacy/contacts``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from urbanos.platform import render_html
from urbanos.privacy.i18n import pick_lang
from urbanos.privacy.pages import wants_html
from urbanos.privacy.transparency.i18n import translator
from urbanos.privacy.transparency.service import Transparency
from urbanos.routing import identity_of, json_body, platform_of

CSS = Path(__file__).parent / "static" / "print.css"


def _svc(request: Request) -> Transparency:
    return platform_of(request).services["privacy_transparency"]  # type: ignore[no-any-return]


async def page(request: Request) -> Response:
    identity = await identity_of(request)
    lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    data = await _svc(request).page(identity, lang)
    if not wants_html(request):
        return JSONResponse(data)
    html = render_html(platform_of(request), "privacy/transparency.html", page=data, lang=lang, t=translator(lang))
    return HTMLResponse(html)


async def stylesheet(request: Request) -> Response:
    return Response(CSS.read_text(encoding="utf-8"), media_type="text/css; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})


async def contacts(request: Request) -> Response:
    return JSONResponse({"contacts": await _svc(request).contacts()})


async def set_contact(request: Request) -> Response:
    identity = await identity_of(request)
    body = await json_body(request)
    return JSONResponse(await _svc(request).set_contact(identity, request.path_params["org"], body))


ROUTES = (
    ("/transparency", page, ["GET"], "What data the city collects, why, its rules, retention, algorithms, assessments, "
     "deletions and whom to contact (HTML in English and German, or JSON)"),
    ("/transparency.css", stylesheet, ["GET"], "The transparency page's stylesheet (screen and print)"),
    ("/privacy/contacts", contacts, ["GET"], "Whom to contact per organisation to object"),
    ("/privacy/contacts/{org}", set_contact, ["PUT"], "Set an organisation's contact for objections (steward)"),
)


def mount(app: FastAPI) -> None:
    for path, handler, methods, summary in ROUTES:
        app.add_api_route(path, handler, methods=methods, tags=["privacy"], summary=summary)


__all__ = ["mount", "ROUTES"]
