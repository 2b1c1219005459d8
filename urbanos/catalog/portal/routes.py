"""Portal pages: home with search and facets, search results, dataset, organisation and inventory pages; sign-in,
uploads to a dataset and the preview features of non-open data.

Server-rendered with Jinja2 (htmx swaps the result list when it is loaded); every read goes through the
catalogue service with the caller's identity, so a page never shows a dataset the caller may not see. The preview
features of a dataset's collection and the reports of imports come from the features capability
(:class:`urbanos.ports.FeaturesPort`, optional). The handlers are plain module functions; :data:`ROUTES` lists
them with their methods and paths.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import FastAPI
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from urbanos import __version__
from urbanos.catalog.actions import dispatch
from urbanos.catalog.dcat import source
from urbanos.catalog.dcat.source import base_url, platform_of
from urbanos.catalog.portal import dataset_data, edit, lists, session, view
from urbanos.catalog.portal.i18n import LANGS
from urbanos.catalog.portal.session import portal_identity as identity_of
from urbanos.core.numbers import parse_int
from urbanos.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    UrbanosError,
)
from urbanos.platform import Platform
from urbanos.ports import FeaturesPort

STATIC = Path(__file__).parent / "static"
FACETS = ("organization", "theme", "tags", "res_format", "license_id", "access_level", "frequency")
SORTS = {"relevance": "score desc, metadata_modified desc", "modified": "metadata_modified desc", "name": "name asc"}
APIS = [
    {"title": "OpenAPI document", "href": "/openapi.json", "description": "Machine-readable description of the platform API.",
     "title_de": "OpenAPI-Dokument", "description_de": "Maschinenlesbare Beschreibung der API der Plattform."},
    {"title": "API documentation", "href": "/docs", "description": "Browse and try the API.",
     "title_de": "API-Dokumentation", "description_de": "Die API ansehen und ausprobieren."},
    {"title": "Health", "href": "/healthz", "description": "Liveness and database check.",
     "title_de": "Zustand", "description_de": "Lebenszeichen und Prüfung der Datenbank."},
    {"title": "Metrics", "href": "/metrics", "description": "Prometheus metrics.",
     "title_de": "Messwerte", "description_de": "Prometheus-Metriken."},
]


_ctx = lists.page_context
_with = lists.with_params
_page = lists.render


def _error(request: Request, exc: UrbanosError) -> HTMLResponse:
    return _page(request, "catalog/portal/portal_error.html", status=exc.status, message=exc.message,
                 status_code=exc.status)


def _int_param(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    value = parse_int(raw)
    if value is None:
        raise BadRequest(f"Parameter {name} must be a whole number written with the digits 0-9, got {raw[:40]!r}.")
    if not minimum <= value <= maximum:
        raise BadRequest(f"Parameter {name} must be between {minimum} and {maximum}, got {value}.")
    return value


def _fq(request: Request, fixed: dict[str, str] | None = None) -> tuple[str, dict[str, list[str]]]:
    chosen: dict[str, list[str]] = {}
    for key in FACETS:
        values = [v for v in request.query_params.getlist(key) if v]
        if values:
            chosen[key] = values
    for key, value in (fixed or {}).items():
        chosen.setdefault(key, [value])
    parts = []
    for key, values in chosen.items():
        for v in values:
            escaped = v.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'{key}:"{escaped}"')
    return " AND ".join(parts), chosen


async def _search(request: Request, *, fixed: dict[str, str] | None = None, rows: int | None = None) -> dict[str, Any]:
    platform = platform_of(request)
    identity = await identity_of(request)
    size = rows or int(platform.settings.portal_page_size)
    page = _int_param(request, "page", 1, 1, 100000)
    sort_key = request.query_params.get("sort") or "relevance"
    if sort_key not in SORTS:
        raise BadRequest(f"Unknown sort {sort_key!r}: use one of {', '.join(SORTS)}.")
    q = (request.query_params.get("q") or "").strip()
    if len(q) > 500:
        raise BadRequest("The search text is longer than 500 characters.")
    fq, chosen = _fq(request, fixed)
    params: dict[str, Any] = {"q": q, "fq": fq, "rows": size, "start": (page - 1) * size,
                              "sort": SORTS[sort_key] if q or sort_key != "relevance" else SORTS["modified"],
                              "facet_fields": list(FACETS), "facet_limit": 10, "prefix": True}
    res = await source.search(platform, identity, base_url=base_url(request), **params)
    count = int(res.get("count") or 0)
    pages = max(1, -(-count // size))
    t = _ctx(request)["t"]
    facets = view.facets(res, FACETS, chosen, lambda key, value: _toggle(request, key, value, chosen), t)
    return {
        "q": q, "sort": sort_key, "count": count, "page": page, "pages": pages, "chosen": chosen,
        "results": [view.summary(p) for p in res.get("results") or []], "facets": facets,
        "prev_url": _with(request, page=page - 1) if page > 1 else None,
        "next_url": _with(request, page=page + 1) if page < pages else None,
        "clear_url": request.url.path + (f"?q={q}" if q else ""),
    }


def _toggle(request: Request, key: str, value: str, chosen: dict[str, list[str]]) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page" and not (k == key and v == value)]
    if value not in chosen.get(key, []):
        params.append((key, value))
    return request.url.path + ("?" + urlencode(params) if params else "")


UPLOAD_TYPES = ("csv", "tsv", "geojson", "json", "gpkg", "zip", "xlsx")


def _features(platform: Platform) -> FeaturesPort | None:
    """The features capability, for previews and import reports; the portal works without it."""
    return platform.optional(FeaturesPort)


def _may_write(request: Request, pkg: dict[str, Any]) -> bool:
    """May the signed-in caller add data to this dataset (as shown to them)? The same rule as resource_create."""
    identity = session.signed_in(request)
    return identity is not None and identity.has_role("publisher", view.owner_name(pkg))


async def _import_state(request: Request, rid: str) -> dict[str, Any]:
    """The import of an uploaded resource: done (with its report), failed (with the reason) or running. The features
    capability records imports in the database and looks one up (:meth:`urbanos.ports.FeaturesPort.import_report`);
    without it, an upload is never imported and stays "running"."""
    features = _features(platform_of(request))
    found = await features.import_report(rid) if features is not None else None
    if found is not None and found.get("status") == "done" and found.get("report") is not None:
        return {"id": rid, "state": "done", "report": found["report"]}
    if found is not None and found.get("status") == "failed":
        return {"id": rid, "state": "failed", "message": found.get("failure") or ""}
    return {"id": rid, "state": "running"}


async def _dataset_page(request: Request, name: str, pkg: dict[str, Any], quality: Any, freshness: Any,
                        status: int = 200, message: str = "") -> HTMLResponse:
    platform = platform_of(request)
    may_write = _may_write(request, pkg)
    rid = request.query_params.get("imported", "")
    imported = None
    if may_write and rid and any(str(r.get("id")) == rid for r in pkg.get("resources") or []):
        imported = await _import_state(request, rid)
    t = _ctx(request)["t"]
    ds = view.detail(pkg, base_url(request), signed_in=session.signed_in(request) is not None)
    data = await dataset_data.data_views(platform, await identity_of(request), pkg)
    return _page(request, "catalog/portal/portal_dataset.html", status=status, ds=ds, **data,
                 quality=view.quality(quality or pkg.get("quality"), pkg, t),
                 freshness=view.freshness(freshness or pkg.get("freshness"), t),
                 tile_url=platform.settings.portal_tile_url, may_write=may_write, imported=imported, name=name,
                 upload_message=message, upload_types=UPLOAD_TYPES,
                 upload_limit=int(platform.settings.get("catalog_upload_max_bytes") or 0))


async def _read_file(request: Request, f: UploadFile) -> tuple[str, bytes]:
    t = _ctx(request)["t"]
    limit = int(platform_of(request).settings.get("catalog_upload_max_bytes") or 0)
    filename = (f.filename or "").strip()
    if not filename:
        raise BadRequest(t("upload_none"))
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in UPLOAD_TYPES:
        raise BadRequest(t("upload_wrong_type", ext=("." + ext) if ext else "—", types=", ".join(UPLOAD_TYPES)))
    chunks, size = [], 0
    while chunk := await f.read(1 << 20):
        size += len(chunk)
        if limit and size > limit:
            raise PayloadTooLarge(t("upload_too_large", limit=f"{limit / 1048576:.0f} MB"))
        chunks.append(chunk)
    if not size:
        raise BadRequest(t("upload_empty"))
    return filename, b"".join(chunks)


async def _preview(request: Request, name: str, collection: str) -> dict[str, Any]:
    """Up to MAP_ITEMS features of ``collection`` for the caller, when a distribution of the dataset ``name`` became
    it. The features capability reads them (:meth:`urbanos.ports.FeaturesPort.preview`) exactly as an OGC API
    Features items request: the same gate, privacy transforms, read audit and usage event. Whatever the caller may
    not see, a collection of another dataset, and any collection on a platform without features, is a 404 that does
    not tell whether it exists."""
    platform = platform_of(request)
    identity = await identity_of(request)
    features = _features(platform)
    try:
        pkg = await source.show(platform, identity, name, base_url(request))
        if features is None or not any(str(r.get("collection") or "") == collection for r in pkg.get("resources") or []):
            raise NotFound(collection)
        return dict(await features.preview(identity, collection, view.MAP_ITEMS))
    except (NotFound, Forbidden, Unauthorized):
        raise NotFound(f"There is no preview {collection!r} of a dataset {name!r}.") from None


async def _form(request: Request) -> Any:
    try:
        return await request.form(max_files=1, max_fields=20)
    except Exception as exc:  # noqa: BLE001 - a malformed form is the client's fault
        raise BadRequest(f"The form cannot be read: {exc}") from None


async def _optional(pending: Any) -> Any:
    """Quality and freshness: a dataset page never fails because one of them cannot be computed."""
    try:
        return await pending
    except UrbanosError:
        return None


# -- pages ------------------------------------------------------------------------------------------------
async def home(request: Request) -> HTMLResponse:
    platform = platform_of(request)
    try:
        data = await _search(request, rows=6)
    except ServiceUnavailable:
        data = {"results": [], "facets": [], "count": 0, "q": "", "chosen": {}}
    except UrbanosError as exc:
        return _error(request, exc)
    return _page(request, "catalog/portal/portal_home.html", links=platform.services.get("nav", []), apis=APIS,
                 version=__version__, extra=platform.services.get("landing_extra", []), **data)


async def datasets(request: Request) -> HTMLResponse:
    try:
        data = await _search(request)
    except UrbanosError as exc:
        return _error(request, exc)
    if request.headers.get("hx-request") == "true":
        return _page(request, "catalog/portal/portal_area.html", **data)
    return _page(request, "catalog/portal/portal_search.html", **data)


async def dataset(request: Request, name: str) -> HTMLResponse:
    platform = platform_of(request)
    try:
        identity = await identity_of(request)
        pkg = await source.show(platform, identity, name, base_url(request))
        quality = await _optional(source.quality(platform, identity, name))
        freshness = await _optional(source.freshness(platform, name))
        await source.record_view(platform, identity, pkg, "portal")
    except UrbanosError as exc:
        return _error(request, exc)
    return await _dataset_page(request, str(pkg.get("name") or name), pkg, quality, freshness)  # reached by UUID too


async def organization(request: Request, name: str) -> HTMLResponse:
    platform = platform_of(request)
    try:
        identity = await identity_of(request)
        org = await source.organization(platform, identity, name)
        data = await _search(request, fixed={"organization": str(org.get("name") or name)})
    except UrbanosError as exc:
        return _error(request, exc)
    return _page(request, "catalog/portal/portal_org.html", org=org, **data)


async def inventory(request: Request) -> HTMLResponse:
    platform = platform_of(request)
    try:
        identity = await identity_of(request)
        items = await source.inventory(platform, identity, base_url(request))
    except UrbanosError as exc:
        return _error(request, exc)
    return _page(request, "catalog/portal/portal_inventory.html", items=[view.inventory_row(r) for r in items])


# -- sign-in, uploads, previews of non-open data ------------------------------------------------------------
async def signin_form(request: Request) -> HTMLResponse:
    await identity_of(request)
    return _page(request, "catalog/portal/portal_signin.html", next=session.local_path(request.query_params.get("next")))


async def signin(request: Request) -> HTMLResponse | RedirectResponse:
    t = _ctx(request)["t"]
    target = "/"
    try:
        form = await _form(request)
        target = session.local_path(form.get("next"))
        session.check_csrf(request, form)
        token = form.get("token")
        if not isinstance(token, str) or not token.strip():
            raise BadRequest(t("signin_empty"))
        identity = await session.sign_in(request, token)
        if identity.is_anonymous:
            raise BadRequest(t("signin_empty"))
    except UrbanosError as exc:
        return _page(request, "catalog/portal/portal_signin.html", status=exc.status, next=target,
                     message=t("signin_failed") if exc.status == 401 else exc.message)
    response = RedirectResponse(target, status_code=303)
    session.set_session(response, request, token)
    return response


async def signout(request: Request) -> HTMLResponse | RedirectResponse:
    try:
        session.check_csrf(request, await _form(request))
    except UrbanosError as exc:
        return _error(request, exc)
    response = RedirectResponse("/", status_code=303)
    session.clear_session(response, request)
    return response


async def upload(request: Request, name: str) -> HTMLResponse | RedirectResponse:
    platform = platform_of(request)
    t = _ctx(request)["t"]
    try:
        identity = await identity_of(request)
        pkg = await source.show(platform, identity, name, base_url(request))
    except UrbanosError as exc:
        return _error(request, exc)
    try:
        form = await _form(request)
        session.check_csrf(request, form)
        if not _may_write(request, pkg):
            raise Forbidden(t("upload_no_rights"))
        f = form.get("file")
        if not isinstance(f, UploadFile):
            raise BadRequest(t("upload_none"))
        filename, content = await _read_file(request, f)
        title = form.get("title")
        data = {"package_id": name, "name": title.strip() if isinstance(title, str) and title.strip() else filename}
        res = await dispatch(platform, "resource_create", identity, data, upload=(filename, content),
                             base_url=base_url(request))
    except UrbanosError as exc:
        message = exc.message
        if exc.detail and isinstance(exc.detail, dict):
            message = "; ".join(str(v[0] if isinstance(v, list) and v else v) for v in exc.detail.values())
        return await _dataset_page(request, name, pkg, None, None, status=exc.status, message=message)
    lang = request.query_params.get("lang")
    return RedirectResponse(f"/datasets/{name}?imported={res['id']}" + (f"&lang={lang}" if lang in LANGS else ""),
                            status_code=303)


async def preview(request: Request, name: str, collection: str) -> Response:
    # signed-in readers of non-open data get the preview here: the map cannot send the portal's cookie to /ogcapi
    try:
        data = await _preview(request, name, collection)
    except UrbanosError as exc:
        error = _error(request, exc)
        error.headers["Cache-Control"] = "private, no-store"
        return error
    return Response(orjson.dumps(data), media_type="application/geo+json",
                    headers={"Cache-Control": "private, no-store", "Vary": "Authorization, Cookie"})


async def import_state(request: Request, name: str, rid: str) -> HTMLResponse:
    platform = platform_of(request)
    try:
        identity = await identity_of(request)
        pkg = await source.show(platform, identity, name, base_url(request))
        if not _may_write(request, pkg) or not any(str(r.get("id")) == rid for r in pkg.get("resources") or []):
            raise Forbidden(_ctx(request)["t"]("upload_no_rights"))
    except UrbanosError as exc:
        return _error(request, exc)
    polls = parse_int(request.query_params.get("n") or "0", lo=0, hi=10**6) or 0
    return _page(request, "catalog/portal/portal_import.html", name=name, imported=await _import_state(request, rid),
                 polls=polls + 1, poll_more=polls < 300)


Handler = Callable[..., Awaitable[Response]]
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/signin", signin_form),
    ("POST", "/signin", signin),
    ("POST", "/signout", signout),
    ("POST", "/datasets/{name}/upload", upload),
    ("GET", "/datasets/{name}/preview/{collection}.geojson", preview),
    ("GET", "/datasets/{name}/imports/{rid}", import_state),
    ("GET", "/datasets/new", edit.new_form),
    ("POST", "/datasets/new", edit.create),
    ("GET", "/datasets/{name}/edit", edit.edit_form),
    ("POST", "/datasets/{name}/edit", edit.save),
    ("GET", "/organizations", lists.organizations),
    ("GET", "/themes", lists.themes),
    ("GET", "/themes/{theme_id}", lists.theme),
    ("GET", "/favicon.ico", lists.favicon),
    ("GET", "/", home),
    ("GET", "/datasets", datasets),
    ("GET", "/datasets/{name}", dataset),
    ("GET", "/organizations/{name}", organization),
    ("GET", "/inventory", inventory),
)
"""The portal's pages (method, path, handler), in the order they are matched; none is in the OpenAPI document."""


def mount_routes(app: FastAPI) -> None:
    app.mount("/portal/static", StaticFiles(directory=str(STATIC)), name="portal-static")
    for method, path, handler in ROUTES:
        app.add_api_route(path, handler, methods=[method], include_in_schema=False, response_model=None)


__all__ = ["mount_routes"]
