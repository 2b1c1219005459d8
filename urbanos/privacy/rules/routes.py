"""``/privacy/rules/{dataset}`` (GET: the rules in force, with their plain-language description; PUT: a new version,
stewards of the dataset's organisation) and ``/privacy/rules/{dataset}/history`` (every version, stewards), and the
middleware that tells each answer what the rules did to it (``Privacy-Suppressed``, ``Privacy-Rules`` headers)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from urbanos.errors import PayloadTooLarge
from urbanos.governance import RELEASE_NOTES
from urbanos.privacy.rules.dp import release
from urbanos.privacy.rules.service import RulesService
from urbanos.routing import identity_of, json_body, platform_of

MAX_BODY = 64 * 1024


def _service(request: Request) -> RulesService:
    return platform_of(request).services["privacy_rules"]  # type: ignore[no-any-return]


async def get_rules(request: Request) -> Response:
    identity = await identity_of(request)
    return JSONResponse(await _service(request).get(identity, request.path_params["dataset"]))


async def put_rules(request: Request) -> Response:
    identity = await identity_of(request)
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        raise PayloadTooLarge(f"A rules declaration is at most {MAX_BODY} bytes.")
    body = await json_body(request)
    return JSONResponse(await _service(request).declare(identity, request.path_params["dataset"], body))


async def get_history(request: Request) -> Response:
    identity = await identity_of(request)
    return JSONResponse(await _service(request).history(identity, request.path_params["dataset"]))


async def get_dp(request: Request) -> Response:
    identity = await identity_of(request)
    q = request.query_params
    return JSONResponse(await release(_service(request), identity, request.path_params["dataset"],
                                      q.get("statistic", ""), q.get("from"), q.get("to")))


ROUTES: list[tuple[str, Any, list[str], str]] = [
    ("/privacy/rules/{dataset}", get_rules, ["GET"], "The privacy rules of a dataset"),
    ("/privacy/rules/{dataset}", put_rules, ["PUT"], "Declare the privacy rules of a dataset (a new version)"),
    ("/privacy/rules/{dataset}/history", get_history, ["GET"], "Every version of a dataset's privacy rules"),
    ("/privacy/dp/{dataset}", get_dp, ["GET"], "A differentially private count or sum of a dataset's Observations"),
]


def headers_of(notes: list[dict[str, Any]]) -> list[tuple[bytes, bytes]]:
    """``Privacy-Suppressed``: cells or rows withheld by k; ``Privacy-Rules``: which rules changed the answer."""
    suppressed = sum(int(n.get("suppressed", 0)) for n in notes)
    rules = sorted({f"{n['dataset']}: {n['rule']}" for n in notes})
    return [(b"privacy-suppressed", str(suppressed).encode()),
            (b"privacy-rules", "; ".join(rules).encode("ascii", "replace"))]


class ReleaseNotesMiddleware:
    """A fresh :data:`RELEASE_NOTES` list per HTTP request; its content goes into the answer's headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        notes: list[dict[str, Any]] = []
        token = RELEASE_NOTES.set(notes)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and notes:
                message = {**message, "headers": [*message.get("headers", []), *headers_of(notes)]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            RELEASE_NOTES.reset(token)


def mount(app: FastAPI) -> None:
    app.add_middleware(ReleaseNotesMiddleware)
    for path, handler, methods, summary in ROUTES:
        app.add_api_route(path, handler, methods=methods, tags=["privacy"], summary=summary)


__all__ = ["mount", "ROUTES", "ReleaseNotesMiddleware", "headers_of"]
