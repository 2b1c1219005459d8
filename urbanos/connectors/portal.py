"""The stewards' connector pages: the list, a form to create, a form to change, delete with confirmation, run now.

The caller is the bearer token of the request, else the portal's sign-in cookie (the catalogue's portal keeps the
same token HttpOnly); a form sent with the cookie carries a CSRF token that must equal a cookie of this path (double
submit), as the cockpit's dashboard forms do. Who may do what is the API's rule (:class:`ConnectorService`): the
publishers, stewards and admins of the dataset's organisation. A form the service refuses (a ValidationFailed) is
shown again with the problem named by its field, and nothing is stored."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from urbanos.connectors.i18n import messages, pick_lang
from urbanos.connectors.mapping import load_text
from urbanos.connectors.owner import dataset
from urbanos.connectors.types import registry
from urbanos.errors import Forbidden, Unauthorized, UrbanosError, ValidationFailed
from urbanos.platform import render_html
from urbanos.routing import PortalForms, platform_of

if TYPE_CHECKING:
    from urbanos.connectors.service import ConnectorService
    from urbanos.governance import Identity
    from urbanos.storage import Connection

CSRF = "urbanos_connectors_csrf"
FORMS = PortalForms(CSRF, "/connectors")
MAX_FIELD = 64 * 1024
MAX_DATASETS = 1000
Handler = Callable[..., Awaitable[Response]]

EXAMPLES: dict[str, str] = {  # shown beside the mapping field, per type (see docs/connectors.md)
    "csv": "observations:\n  - {datastream: 12, time: measured_at, result: pm10}\n",
    "json": "records: $.data.items\nobservations:\n  - {datastream: \"Habichtstraße NO2\", time: measured_at, result: no2}\n",
    "webhook": "records: $.bins\nfeatures:\n  collection: litter-bins-pushed\n  id: id\n  lon: lon\n  lat: lat\n"
               "  properties: [fill]\n",
    "gbfs": "language: de\n",
    "gtfs": "{stops: hvv-halte, routes: hvv-linien, shapes: hvv-wege}\n",
    "gtfs-rt": "{vehicles: hvv-fahrzeuge}\n",
    "sta": "{things: \"id lt 1000\", max_observations: 100000}\n# live: {live: true, mqtt: \"mqtts://remote.example:8883\"}\n",
    "ogcapi": "{collection: trees-copy, modified: updated}\n",
}


def _service(request: Request) -> ConnectorService:
    return platform_of(request).services["connectors"]  # type: ignore[no-any-return]


async def viewer(request: Request) -> Identity:
    """The caller: a bearer token first, else the portal's sign-in cookie (an invalid cookie: anonymous)."""
    return await FORMS.identity(request)


def csrf_token(request: Request) -> str:
    return FORMS.token(request)


def check_csrf(request: Request, form: Any) -> None:
    FORMS.check_form(request, form)


async def read_form(request: Request) -> dict[str, str]:
    return await FORMS.read(request, MAX_FIELD)


def page(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = pick_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    body = render_html(platform_of(request), template, lang=lang, t=messages(lang), csrf=csrf_token(request), **ctx)
    resp = HTMLResponse(body, status_code=status, headers={"Cache-Control": "private, no-store",
                                                             "Content-Language": lang})
    return FORMS.keep(request, resp)


def _signed_in(ident: Identity) -> None:
    if ident.is_anonymous:
        raise Unauthorized("Sign in in the portal (or send a bearer token) to configure connectors.")


def publishable(request: Request, ident: Identity, c: Connection) -> list[str]:
    """The names of the datasets ``ident`` may publish to (the gate's rule for writes), at most MAX_DATASETS."""
    gate = platform_of(request).gate
    out = []
    for (ds_id,) in c.fetchall("SELECT id FROM datasets ORDER BY name"):
        access, grants = gate.dataset_access(c, int(ds_id))
        try:
            gate.authorize_write(ident, access, grants, Forbidden("no"))
        except UrbanosError:
            continue
        ds = dataset(c, int(ds_id))
        if ds is not None:
            out.append(ds.name)
        if len(out) >= MAX_DATASETS:
            break
    return out


def _problems(exc: ValidationFailed) -> dict[str, str]:
    """The form's problems by field: the API's message, on the first field its detail names (else 'form')."""
    fields = [k for k in exc.detail if isinstance(k, str)] or ["form"]
    return {fields[0]: exc.message, **{k: exc.message for k in fields[1:]}}


def mapping_text(mapping: Any) -> str:
    """A stored mapping as the YAML the form shows (empty for none)."""
    return yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True, width=100) if mapping else ""


def _mapping(text: str) -> Any:
    return load_text(text) if text.strip() else None


# -- pages -------------------------------------------------------------------------------------------------------
async def list_page(request: Request) -> Response:
    ident = await viewer(request)
    _signed_in(ident)
    rows = await _service(request).list(ident)
    return page(request, "connectors/list.html", connectors=rows)


async def connector_page(request: Request, view: dict[str, Any]) -> Response:
    return page(request, "connectors/connector.html", c=view, mapping_text=mapping_text(view.get("mapping")))


async def _form(request: Request, values: dict[str, Any], *, name: str | None, errors: dict[str, str] | None = None,
                status: int = 200) -> Response:
    ident = await viewer(request)
    datasets = await platform_of(request).db.read(lambda c: publishable(request, ident, c)) if name is None else []
    return page(request, "connectors/form.html", status=status, name=name, v=values, errors=errors or {},
                types=sorted(registry()), datasets=datasets, examples=EXAMPLES)


async def new_form(request: Request) -> Response:
    ident = await viewer(request)
    _signed_in(ident)
    return await _form(request, {"type": request.query_params.get("type", "csv")[:20], "mapping": ""}, name=None)


async def create(request: Request) -> Response:
    ident = await viewer(request)
    _signed_in(ident)
    form = await read_form(request)
    check_csrf(request, form)
    values: dict[str, Any] = {k: form.get(k, "").strip() for k in ("name", "type", "url", "dataset", "every", "cron")}
    values.update(mapping=form.get("mapping", ""), enabled="enabled" in form)
    try:
        data: dict[str, Any] = {**values, "mapping": _mapping(values["mapping"])}
        out = await _service(request).add(ident, data)
    except ValidationFailed as exc:
        return await _form(request, values, name=None, errors=_problems(exc), status=400)
    if out.get("secret"):  # a webhook's secret: shown this once
        return page(request, "connectors/created.html", status=201, c=out)
    return RedirectResponse(f"/connectors/{quote(out['name'])}?f=html", status_code=303)


async def edit_form(request: Request) -> Response:
    ident = await viewer(request)
    _signed_in(ident)
    view = await _service(request).show(ident, request.path_params["name"], 0)
    s = view["schedule"]
    values = {"type": view["type"], "url": view["url"], "every": f"{s['every_seconds']}s" if s["every_seconds"] else "",
              "cron": s["cron"] or "", "mapping": mapping_text(view["mapping"]),
              "enabled": view["enabled"], "dataset": view["dataset"]}
    return await _form(request, values, name=view["name"])


async def update(request: Request) -> Response:
    ident = await viewer(request)
    _signed_in(ident)
    name = request.path_params["name"]
    view = await _service(request).show(ident, name, 0)  # 404/403 before the body is read
    form = await read_form(request)
    check_csrf(request, form)
    values = {k: form.get(k, "").strip() for k in ("url", "every", "cron")}
    values["mapping"] = form.get("mapping", "")
    try:
        data: dict[str, Any] = {"url": values["url"], "mapping": _mapping(values["mapping"]),
                                "enabled": "enabled" in form}
        if view["type"] != "webhook":
            data.update(every=values["every"], cron=values["cron"])
        await _service(request).change(ident, name, data)
    except ValidationFailed as exc:
        shown = {**values, "type": view["type"], "dataset": view["dataset"], "enabled": "enabled" in form}
        return await _form(request, shown, name=name, errors=_problems(exc), status=400)
    return RedirectResponse(f"/connectors/{quote(name)}?f=html", status_code=303)


async def delete_form(request: Request) -> Response:
    ident = await viewer(request)
    _signed_in(ident)
    view = await _service(request).show(ident, request.path_params["name"], 0)
    return page(request, "connectors/delete.html", c=view)


async def delete(request: Request) -> Response:
    ident = await viewer(request)
    _signed_in(ident)
    name = request.path_params["name"]
    await _service(request).show(ident, name, 0)
    check_csrf(request, await read_form(request))
    await _service(request).remove(ident, name)
    return RedirectResponse("/connectors?f=html", status_code=303)


async def run_now(request: Request) -> Response:
    ident = await viewer(request)
    _signed_in(ident)
    name = request.path_params["name"]
    await _service(request).show(ident, name, 0)
    check_csrf(request, await read_form(request))
    await _service(request).run(ident, name)
    return RedirectResponse(f"/connectors/{quote(name)}?f=html", status_code=303)


def html_errors(handler: Handler) -> Handler:
    """A browser gets a page naming the problem (a sign-in link for 401); other clients the platform's
    problem+json."""
    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any) -> Response:
        try:
            return await handler(request, *args)
        except UrbanosError as exc:
            if "text/html" not in request.headers.get("accept", ""):
                raise
            try:
                resp = page(request, "connectors/error.html", status=exc.status, exc=exc, request_path=request.url.path)
            except Exception:  # noqa: BLE001 - the page of an error must not fail in turn: problem details then
                raise exc from None
            resp.headers.update(exc.headers)
            return resp

    return wrapped


ROUTES = tuple((path, html_errors(h), methods) for path, h, methods in (
    ("/connectors/new", new_form, ["GET"]),
    ("/connectors/new", create, ["POST"]),
    ("/connectors/{name}/edit", edit_form, ["GET"]),
    ("/connectors/{name}/edit", update, ["POST"]),
    ("/connectors/{name}/delete", delete_form, ["GET"]),
    ("/connectors/{name}/delete", delete, ["POST"]),
    ("/connectors/{name}/run-now", run_now, ["POST"]),
))

__all__ = ["ROUTES", "list_page", "connector_page", "viewer", "html_errors", "EXAMPLES"]
