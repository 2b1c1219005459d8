"""The consent register over HTTP: grants, one's own receipts, revocations and consent-based datasets."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from urbanos.privacy.consent.service import ConsentRegister
from urbanos.routing import base_url, identity_of, json_body, platform_of


def _svc(request: Request) -> ConsentRegister:
    return platform_of(request).services["privacy_consent"]  # type: ignore[no-any-return]


async def grant(request: Request) -> Response:
    identity = await identity_of(request)
    body = await json_body(request)
    out = await _svc(request).grant(identity, body, f"{base_url(request)}/transparency")
    return JSONResponse(out, status_code=201)


async def receipts(request: Request) -> Response:
    identity = await identity_of(request)
    return JSONResponse({"receipts": await _svc(request).receipts(identity)})


async def revoke(request: Request) -> Response:
    identity = await identity_of(request)
    return JSONResponse(await _svc(request).revoke(identity, request.path_params["receipt_id"]))


async def datasets(request: Request) -> Response:
    identity = await identity_of(request)
    return JSONResponse({"datasets": await _svc(request).datasets(identity)})


async def mark(request: Request) -> Response:
    identity = await identity_of(request)
    body = await json_body(request)
    return JSONResponse(await _svc(request).mark_dataset(identity, request.path_params["dataset"], body))


async def unmark(request: Request) -> Response:
    identity = await identity_of(request)
    await _svc(request).mark_dataset(identity, request.path_params["dataset"], None)
    return Response(status_code=204)


ROUTES = (
    ("/privacy/consent", grant, ["POST"], "Grant consent for a purpose and a recipient; answers the receipt"),
    ("/privacy/consent/receipts", receipts, ["GET"], "The caller's own consent receipts"),
    ("/privacy/consent/receipts/{receipt_id}/revoke", revoke, ["POST"], "Revoke a consent"),
    ("/privacy/consent/datasets", datasets, ["GET"], "The consent-based datasets the caller may read"),
    ("/privacy/consent/datasets/{dataset}", mark, ["PUT"], "Mark a dataset consent-based (steward)"),
    ("/privacy/consent/datasets/{dataset}", unmark, ["DELETE"], "Unmark a consent-based dataset (steward)"),
)


def mount(app: FastAPI) -> None:
    for path, handler, methods, summary in ROUTES:
        app.add_api_route(path, handler, methods=methods, tags=["privacy"], summary=summary)


__all__ = ["mount", "ROUTES"]
