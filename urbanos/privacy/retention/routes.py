"""Retention over HTTP: ``GET``, ``PUT`` and ``DELETE /privacy/retention/{dataset}``."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from urbanos.privacy.retention.service import Retention
from urbanos.routing import identity_of, json_body, platform_of


def _svc(request: Request) -> Retention:
    return platform_of(request).services["privacy_retention"]  # type: ignore[no-any-return]


async def get_rules(request: Request) -> Response:
    identity = await identity_of(request)
    return JSONResponse(await _svc(request).get(identity, request.path_params["dataset"]))


async def put_rules(request: Request) -> Response:
    identity = await identity_of(request)
    body = await json_body(request)
    return JSONResponse(await _svc(request).put(identity, request.path_params["dataset"], body))


async def delete_rules(request: Request) -> Response:
    identity = await identity_of(request)
    await _svc(request).delete(identity, request.path_params["dataset"])
    return Response(status_code=204)


ROUTES = (
    ("/privacy/retention/{dataset}", get_rules, ["GET"], "The retention periods of a dataset"),
    ("/privacy/retention/{dataset}", put_rules, ["PUT"], "Declare the retention periods of a dataset (steward)"),
    ("/privacy/retention/{dataset}", delete_rules, ["DELETE"], "Remove the retention periods of a dataset (steward)"),
)


def mount(app: FastAPI) -> None:
    for path, handler, methods, summary in ROUTES:
        app.add_api_route(path, handler, methods=methods, tags=["privacy"], summary=summary)


__all__ = ["mount", "ROUTES"]
