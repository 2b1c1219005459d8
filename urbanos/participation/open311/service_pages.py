"""Portal pages for stewards to manage Open311 services (English and German), beside the API's
``POST /open311/v2/services.json``, ``PUT`` and ``DELETE /open311/v2/services/{code}.json`` and through the same
service calls (the same checks: an admin, or a steward of the service's organisation):

* ``/participation/services``: the services the caller may manage, with links to change or delete each;
* ``/participation/services/new`` and ``/participation/services/{code}/edit``: the form (the service list's fields,
  the organisation, ``sensitive`` and the attributes as the API's JSON list); a refused form comes back with every
  problem listed and what was typed kept;
* ``/participation/services/{code}/delete``: a confirmation (a service with requests is refused, 409).

The caller is a bearer token or the portal's sign-in cookie; every form carries the CSRF token of its page."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from urbanos.errors import NotFound, UrbanosError, ValidationFailed
from urbanos.governance import Identity
from urbanos.participation.open311.definitions import TYPES
from urbanos.participation.open311.i18n import messages, pick_lang
from urbanos.participation.open311.pages import FORMS
from urbanos.participation.open311.service import Open311Service
from urbanos.platform import render_html
from urbanos.routing import platform_of

BASE = "/participation/services"
MAX_FIELD = 64 * 1024
TEXT_FIELDS = ("service_code", "service_name", "description", "type", "keywords", "group", "organization",
               "attributes")


def _svc(request: Request) -> Open311Service:
    return platform_of(request).services["open311"]  # type: ignore[no-any-return]


def _lang(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


def _page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = _lang(request)
    bad = {re.split(r"[:\[. ]", str(e), maxsplit=1)[0] for e in ctx.get("errors", [])}  # fields to mark invalid
    body = render_html(platform_of(request), template, lang=lang, t=messages(lang), csrf=FORMS.token(request),
                       types=TYPES, bad=bad, **ctx)
    resp = HTMLResponse(body, status_code=status, headers={"Cache-Control": "private, no-store",
                                                           "Content-Language": lang})
    return FORMS.keep(request, resp)


async def _steward(request: Request) -> Identity:
    ident = await FORMS.identity(request)
    if ident.is_anonymous:
        raise NotFound("Sign in to the portal (or send a bearer token) as a steward to see this page.")
    return ident


def _may_manage(ident: Identity, org: str | None) -> bool:
    scopes = ident.orgs_with("steward")
    return None in scopes or (org is not None and org in scopes)


def _values(s: dict[str, Any]) -> dict[str, str]:
    """A service (as the API lists it, with its definition's attributes) as the form's field values."""
    attrs = s.get("attributes") or []
    return {"service_code": s["service_code"], "service_name": s["service_name"], "description": s["description"],
            "type": s["type"], "keywords": s["keywords"], "group": s["group"], "organization": s["organization"] or "",
            "sensitive": "1" if s.get("sensitive") else "",
            "attributes": orjson.dumps(attrs, option=orjson.OPT_INDENT_2).decode() if attrs else "[]"}


def _body(form: dict[str, str], code: str | None) -> tuple[dict[str, Any], list[str]]:
    """The API's service JSON from the form's fields, and the problems of reading it."""
    errors = [f"{k[:40]}: unknown field." for k in form if k not in (*TEXT_FIELDS, "sensitive", "csrf")][:5]
    try:
        attributes = orjson.loads(form.get("attributes", "").strip() or "[]")
    except orjson.JSONDecodeError:
        attributes = []
        errors.append("attributes: not valid JSON (a list of attributes, as in the API).")
    body = {"service_code": code if code is not None else form.get("service_code", "").strip(),
            "service_name": form.get("service_name", "").strip(), "description": form.get("description", "").strip(),
            "type": form.get("type", "realtime"), "keywords": form.get("keywords", "").strip(),
            "group": form.get("group", "").strip(), "organization": form.get("organization", "").strip() or None,
            "sensitive": form.get("sensitive") == "1", "attributes": attributes}
    return body, errors


async def listing(request: Request) -> HTMLResponse:
    ident = await _steward(request)
    services = [s for s in await _svc(request).services() if _may_manage(ident, s["organization"])]
    return _page(request, "participation/services.html", services=services, done=request.query_params.get("done"))


async def new_form(request: Request) -> HTMLResponse:
    ident = await _steward(request)
    orgs = sorted(o for o in ident.orgs_with("steward") if o)
    v = {"type": "realtime", "attributes": "[]", "organization": orgs[0] if len(orgs) == 1 else ""}
    return _page(request, "participation/service_form.html", code=None, v=v, errors=[])


async def edit_form(request: Request) -> HTMLResponse:
    await _steward(request)
    code = str(request.path_params["code"])
    svc = _svc(request)
    entry = next((s for s in await svc.services() if s["service_code"] == code), None)
    if entry is None:
        raise NotFound(f"service_code {code[:64]!r}: no such service.")
    entry = {**entry, "attributes": (await svc.definition(code))["attributes"]}
    return _page(request, "participation/service_form.html", code=code, v=_values(entry), errors=[])


async def save(request: Request) -> Response:
    ident = await _steward(request)
    code = request.path_params.get("code")
    form = await FORMS.read(request, MAX_FIELD)
    FORMS.check(request, form.get("csrf"))
    body, errors = _body(form, code)
    svc = _svc(request)
    try:
        if errors:
            raise ValidationFailed(errors[0], detail={"errors": errors})
        out = await (svc.create_service(ident, body) if code is None else svc.replace_service(ident, code, body))
    except UrbanosError as exc:
        problems = exc.detail.get("errors") if isinstance(exc.detail, dict) else None
        v = {**{k: form.get(k, "") for k in TEXT_FIELDS}, "sensitive": form.get("sensitive", "")}
        return _page(request, "participation/service_form.html", exc.status, code=code, v=v,
                     errors=list(problems or [exc.message]))
    done = quote(out["service_code"])
    return RedirectResponse(f"{BASE}?lang={_lang(request)}&done={done}", status_code=303)


async def delete_page(request: Request) -> Response:
    ident = await _steward(request)
    code = str(request.path_params["code"])
    if request.method == "GET":
        return _page(request, "participation/service_delete.html", code=code, errors=[])
    form = await FORMS.read(request, MAX_FIELD)
    FORMS.check(request, form.get("csrf"))
    try:
        await _svc(request).delete_service(ident, code)
    except UrbanosError as exc:
        return _page(request, "participation/service_delete.html", exc.status, code=code, errors=[exc.message])
    return RedirectResponse(f"{BASE}?lang={_lang(request)}", status_code=303)


def mount(app: Starlette) -> None:
    app.add_route(BASE, listing, methods=["GET"], include_in_schema=False)
    app.add_route(BASE + "/new", new_form, methods=["GET"], include_in_schema=False)
    app.add_route(BASE + "/new", save, methods=["POST"], include_in_schema=False)
    app.add_route(BASE + "/{code}/edit", edit_form, methods=["GET"], include_in_schema=False)
    app.add_route(BASE + "/{code}/edit", save, methods=["POST"], include_in_schema=False)
    app.add_route(BASE + "/{code}/delete", delete_page, methods=["GET", "POST"], include_in_schema=False)


__all__ = ["mount", "BASE"]
