"""One pure-ASGI middleware: request id, trusted proxies, allowed hosts, body limit, timeout, security headers,
metrics and the access log."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from urbanos.errors import BadRequest, PayloadTooLarge, RequestTimeout, ServiceUnavailable
from urbanos.query.querystring import utf8_problem
from urbanos.web.errors import problem_response, render
from urbanos.web.logs import request_id_var
from urbanos.web.metrics import Metrics
from urbanos.web.security import HostPolicy, ProxyPolicy, page_policy, response_headers

access = logging.getLogger("urbanos.access")


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return str(scope.get("root_path", "") or "") + path if not str(path).startswith(scope.get("root_path", "") or "/") else str(path)
    raw = scope.get("path", "/")
    first = raw.strip("/").split("/", 1)[0]
    return f"/{first}" + ("/…" if "/" in raw.strip("/") else "")


class _Exchange:
    """One request as the middleware sees it: its id, the status answered and whether the answer has started."""

    __slots__ = ("rid", "status", "started")

    def __init__(self, rid: str) -> None:
        self.rid = rid
        self.status = 500
        self.started = False


_ANY_HOST = ("/healthz", "/metrics")  # operations endpoints build no links: probes and scrapers use addresses


def _host_header(scope: Scope) -> str | None:
    for k, v in scope.get("headers") or ():
        if k == b"host":
            return str(v.decode("latin-1"))
    return None


class PlatformMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body: int, timeout: float, metrics: Metrics | None, access_log: bool, max_concurrent: int = 512,
        hosts: HostPolicy | None = None, proxies: ProxyPolicy | None = None, page_csp: str | None = None,
    ) -> None:
        self.app = app
        self.hosts = hosts if hosts is not None else HostPolicy(["*"])
        self.proxies = proxies if proxies is not None else ProxyPolicy([])
        self.page_csp = (page_csp or page_policy()).encode()
        self.max_concurrent = max_concurrent
        self.in_flight = 0
        self.shed = 0
        self.max_body = max_body
        self.timeout = timeout
        self.metrics = metrics
        self.access_log = access_log

    async def _reject(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        request = Request(scope, receive)
        response = render(request, exc)  # type: ignore[arg-type]
        await response(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.proxies.apply(scope)
        if self.hosts.problem(_host_header(scope)) is not None:
            await send({"type": "websocket.close", "code": 1008})  # before the handshake: an HTTP 403
            return
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        self.proxies.apply(scope)
        headers = dict(scope.get("headers") or ())
        rid = (headers.get(b"x-request-id") or b"").decode("latin-1")[:64] or secrets.token_hex(8)
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        ex = _Exchange(rid)
        send_wrapper = self._sender(send, ex)
        self.in_flight += 1
        try:
            if not await self._refused(scope, receive, send_wrapper, headers, ex):
                await self._run(scope, receive, send_wrapper, ex)
        finally:
            self.in_flight -= 1
            self._record(scope, ex.status, time.perf_counter() - start)
            request_id_var.reset(token)

    def _sender(self, send: Send, ex: _Exchange) -> Send:
        """``send`` that records the status and adds the request id and the security headers to the answer."""

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                ex.status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = response_headers(list(message["headers"]) + [(b"x-request-id", ex.rid.encode())],
                                                      self.page_csp)
                ex.started = True
            await send(message)

        return send_wrapper

    async def _refused(self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes], ex: _Exchange) -> bool:
        """Answer what is refused before the application sees it (over capacity, a host not allowed, a query string
        that is not UTF-8, a declared body over the limit); True when it was."""
        if self.in_flight > self.max_concurrent and scope.get("path") not in ("/healthz", "/metrics"):
            self.shed += 1
            ex.status = 503
            busy = ServiceUnavailable(
                "The server is at capacity; retry shortly (setting max_concurrent_requests).", headers={"Retry-After": "1"}
            )
            await self._reject(scope, receive, send, busy)
            return True
        bad_host = None if scope.get("path") in _ANY_HOST else self.hosts.problem(_host_header(scope))
        if bad_host is not None:
            ex.status = 400
            # rendered without the request's links or error renderers: they would use the refused host
            await problem_response(BadRequest(bad_host, code="host_not_allowed"), str(scope.get("path", "")),
                                   ex.rid)(scope, receive, send)
            return True
        bad_query = utf8_problem(scope.get("query_string") or b"")  # Starlette would replace bad bytes silently
        if bad_query is not None:
            ex.status = 400
            await self._reject(scope, receive, send, BadRequest(bad_query, code="invalid_encoding"))
            return True
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            ex.status = 413
            await self._reject(scope, receive, send, PayloadTooLarge(
                f"The request body is {int(length)} bytes; the limit is {self.max_body} bytes (setting max_body_bytes)."
            ))
            return True
        return False

    async def _run(self, scope: Scope, receive: Receive, send: Send, ex: _Exchange) -> None:
        """The application, with the body read up to the limit and the answer started within the timeout."""
        received = 0
        max_body = self.max_body

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise PayloadTooLarge(f"The request body exceeds the limit of {max_body} bytes (setting max_body_bytes).")
            return message

        task = asyncio.current_task()
        timed_out = False

        def expire() -> None:
            nonlocal timed_out
            if not ex.started and task is not None:
                timed_out = True
                task.cancel()

        handle = asyncio.get_running_loop().call_later(self.timeout, expire)
        try:
            await self.app(scope, limited_receive, send)
        except asyncio.CancelledError:
            if not timed_out:
                raise
            if task is not None:
                task.uncancel()
            ex.status = 503
            exc = RequestTimeout(f"The request took longer than {self.timeout:g} s (setting request_timeout).")
            exc.headers["Retry-After"] = "5"
            await self._reject(scope, receive, send, exc)
        finally:
            handle.cancel()

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        """Metrics and the access log of one request."""
        route = _route_of(scope)
        if self.metrics is not None:
            self.metrics.observe(scope.get("method", ""), route, status, elapsed)
        if self.access_log:
            access.info(
                "%s %s %s",
                scope.get("method"),
                scope.get("path"),
                status,
                extra={"status": status, "route": route, "duration_ms": round(elapsed * 1000, 2)},
            )


__all__ = ["PlatformMiddleware"]
