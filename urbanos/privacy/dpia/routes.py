"""Person-related marks and impact assessments over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from urbanos.core.numbers import parse_int
from urbanos.errors import NotFound
from urbanos.privacy.dpia.service import Assessments
from urbanos.routing import identity_of, json_body, platform_of


def _svc(request: Request) -> Assessments:
    return platform_of(request).services["privacy_dpias"]  # type: ignore[no-any-return]


def _id(request: Request) -> int:
    key = request.path_params["id"]
    n = parse_int(key, lo=1) if len(key) < 20 else None
    if n is None or n >= 2**63:
        raise NotFound(f"There is no assessment {key[:200]!r}.")
    return n


async def marks(request: Request) -> Response:
    return JSONResponse({"person_related": await _svc(request).marks(await identity_of(request))})


async def mark(request: Request) -> Response:
    identity = await identity_of(request)
    body = await json_body(request)
    return JSONResponse(await _svc(request).mark(identity, body))


async def list_all(request: Request) -> Response:
    identity = await identity_of(request)
    return JSONResponse({"assessments": await _svc(request).list(identity)})


async def create(request: Request) -> Response:
    identity = await identity_of(request)
    body = await json_body(request)
    out = await _svc(request).create(identity, body)
    return JSONResponse(out, status_code=201, headers={"Location": f"/privacy/dpias/{out['id']}"})


async def one(request: Request) -> Response:
    dpia_id = _id(request)
    identity = await identity_of(request)
    return JSONResponse(await _svc(request).get(identity, dpia_id))


async def change(request: Request) -> Response:
    dpia_id = _id(request)
    identity = await identity_of(request)
    body = await json_body(request)
    return JSONResponse(await _svc(request).change(identity, dpia_id, body))


async def transition(request: Request) -> Response:
    dpia_id = _id(request)
    action = request.path_params["action"]
    if action not in ("submit", "approve", "reject"):
        raise NotFound(f"There is no action {action[:50]!r}; use submit, approve or reject.")
    identity = await identity_of(request)
    body: Any = await json_body(request) if (await request.body()).strip() else None
    return JSONResponse(await _svc(request).transition(identity, dpia_id, action, body))


ROUTES = (
    ("/privacy/person-related", marks, ["GET"], "Datasets and ObservedProperties marked person-related"),
    ("/privacy/person-related", mark, ["PUT"], "Mark or unmark a dataset or ObservedProperty person-related (steward)"),
    ("/privacy/dpias", list_all, ["GET"], "The impact assessments the caller may read"),
    ("/privacy/dpias", create, ["POST"], "Start an impact assessment (a draft; steward of the owning organisation)"),
    ("/privacy/dpias/{id}", one, ["GET"], "One impact assessment"),
    ("/privacy/dpias/{id}", change, ["PATCH"], "Change the sections of a draft or rejected assessment"),
    ("/privacy/dpias/{id}/{action}", transition, ["POST"],
     "submit (owning organisation's steward), approve or reject (steward of the data-protection organisation)"),
)


def mount(app: FastAPI) -> None:
    for path, handler, methods, summary in ROUTES:
        app.add_api_route(path, handler, methods=methods, tags=["privacy"], summary=summary)


__all__ = ["mount", "ROUTES"]
