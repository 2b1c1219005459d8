"""The algorithm register over HTTP: public pages (``/algorithms``, ``/algorithms/{id}``, English and German), JSON
(``/algorithms.json``, ``/algorithms/{id}.json``, or ``Accept: application/json``), a CSV export (``/algorithms.csv``)
and the authenticated writes (POST, PUT, PATCH, DELETE)."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from urbanos.core.escaping import spreadsheet_text
from urbanos.core.numbers import parse_int
from urbanos.errors import NotFound
from urbanos.platform import Platform, render_html
from urbanos.privacy.algorithms.fields import FIELDS, SECTIONS, SOURCE_NOTE, STANDARD_VERSION
from urbanos.privacy.algorithms.service import AlgorithmRegister, public_json
from urbanos.privacy.pages import page_words, wants_html
from urbanos.routing import base_url, identity_of, json_body, platform_of


def _register(request: Request) -> AlgorithmRegister:
    return platform_of(request).services["algorithms"]  # type: ignore[no-any-return]


def _id(key: str) -> tuple[int, bool]:
    """The entry id of path segment ``key`` (``12`` or ``12.json``) and whether JSON was asked by the suffix."""
    as_json = key.endswith(".json")
    n = parse_int(key[:-5] if as_json else key, lo=1)
    if n is None:
        raise NotFound(f"There is no algorithm register entry {key!r}.")
    return n, as_json


async def list_page(request: Request) -> Response:
    identity = await identity_of(request)
    entries = await _register(request).entries(identity, request.query_params.get("organization") or None)
    if not wants_html(request):
        base = base_url(request)
        return JSONResponse({"algorithms": [public_json(e, base) for e in entries], "standard": STANDARD_VERSION})
    html = render_html(platform_of(request), "privacy/algorithms.html", entries=entries, standard=STANDARD_VERSION,
                       source_note=SOURCE_NOTE, **page_words(request))
    return HTMLResponse(html)


async def list_json(request: Request) -> Response:
    identity = await identity_of(request)
    entries = await _register(request).entries(identity, request.query_params.get("organization") or None)
    base = base_url(request)
    return JSONResponse({"algorithms": [public_json(e, base) for e in entries], "standard": STANDARD_VERSION})


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    return spreadsheet_text(str(value))


async def list_csv(request: Request) -> Response:
    identity = await identity_of(request)
    entries = await _register(request).entries(identity)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "owner_org", "datasets", "version", *(f.name for f in FIELDS)])
    for e in entries:
        w.writerow([e["id"], _cell(e["owner_org"]), _cell(e["datasets"]), e["version"],
                    *(_cell(e["record"].get(f.name)) for f in FIELDS)])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="algorithms.csv"'})


def _sections(entry: dict[str, Any], lang: str) -> list[tuple[str, list[tuple[str, str, Any]]]]:
    at = 1 if lang == "de" else 0
    out: list[tuple[str, list[tuple[str, str, Any]]]] = []
    for key, names in SECTIONS.items():
        rows = [(f.label_de if at else f.label_en, f.kind, entry["record"][f.name]) for f in FIELDS
                if f.section == key and entry["record"].get(f.name) not in (None, "", [])]
        if rows:
            out.append((names[at], rows))
    return out


async def one(request: Request) -> Response:
    algo_id, as_json = _id(request.path_params["id"])
    identity = await identity_of(request)
    entry = await _register(request).get(identity, algo_id)
    if as_json or not wants_html(request):
        return JSONResponse(public_json(entry, base_url(request)))
    words = page_words(request)
    html = render_html(platform_of(request), "privacy/algorithm.html", e=entry, sections=_sections(entry, words["lang"]),
                       source_note=SOURCE_NOTE, **words)
    return HTMLResponse(html)


async def versions(request: Request) -> Response:
    algo_id, _ = _id(request.path_params["id"])
    return JSONResponse({"versions": await _register(request).versions(algo_id)})


async def create(request: Request) -> Response:
    identity = await identity_of(request)
    body = await json_body(request)
    entry = await _register(request).create(identity, body)
    out = public_json(entry, base_url(request))
    return JSONResponse(out, status_code=201, headers={"Location": out["url"]})


async def replace(request: Request) -> Response:
    algo_id, _ = _id(request.path_params["id"])
    identity = await identity_of(request)
    body = await json_body(request)
    entry = await _register(request).change(identity, algo_id, body, partial=False)
    return JSONResponse(public_json(entry, base_url(request)))


async def patch(request: Request) -> Response:
    algo_id, _ = _id(request.path_params["id"])
    identity = await identity_of(request)
    body = await json_body(request)
    entry = await _register(request).change(identity, algo_id, body, partial=True)
    return JSONResponse(public_json(entry, base_url(request)))


async def delete(request: Request) -> Response:
    algo_id, _ = _id(request.path_params["id"])
    identity = await identity_of(request)
    await _register(request).delete(identity, algo_id)
    return Response(status_code=204)


ROUTES = (
    ("/algorithms.json", list_json, ["GET"], "The algorithm register as JSON"),
    ("/algorithms.csv", list_csv, ["GET"], "The algorithm register as CSV"),
    ("/algorithms", list_page, ["GET"], "The algorithm register (HTML, or JSON by Accept)"),
    ("/algorithms", create, ["POST"], "Register an algorithm (publisher of the owning organisation)"),
    ("/algorithms/{id}/versions", versions, ["GET"], "Who changed an entry, when, which fields"),
    ("/algorithms/{id}", one, ["GET"], "One entry (HTML, or JSON by Accept or the .json suffix)"),
    ("/algorithms/{id}", replace, ["PUT"], "Replace an entry"),
    ("/algorithms/{id}", patch, ["PATCH"], "Change fields of an entry (null removes an optional field)"),
    ("/algorithms/{id}", delete, ["DELETE"], "Remove an entry"),
)


def mount(app: FastAPI, platform: Platform) -> None:
    for path, handler, methods, summary in ROUTES:
        app.add_api_route(path, handler, methods=methods, tags=["privacy"], summary=summary)


__all__ = ["mount", "ROUTES"]
