"""One pure-ASGI middleware: request id, trusted proxies, allowed hosts, body limit, timeout, security headers,
metrics and the access log; and load shedding: per-token rate limits (429), a concurrency budget per kind of
traffic whose queue admits a request only while its expected wait stays short (else 503 at once), and the
overall limit. Health, readiness and metrics are exempt from all three."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from urbanos.errors import BadRequest, Overloaded, PayloadTooLarge, RateLimited, RequestTimeout
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


_ANY_HOST = ("/healthz", "/readyz", "/metrics")  # operations endpoints build no links: probes and scrapers use addresses
EXEMPT = frozenset(_ANY_HOST)  # never shed, never counted against a limit: probes must see the truth under load

HEAVY, WRITES, MQTT, OTHER = "heavy_reads", "writes", "mqtt", "other"
CLASSES = (HEAVY, WRITES, MQTT, OTHER)
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DATA_PREFIXES = ("/sta/", "/ogcapi/", "/api/", "/catalog", "/dataset", "/datastore", "/download")
_CKAN_READS = ("_show", "_list", "_search", "_autocomplete", "_info")


def traffic_class(method: str, path: str, kind: str = "http") -> str:
    """The budget a request draws on: MQTT over WebSockets; writes (CKAN actions posted to read, such as
    package_search, are reads); reads of the data APIs (SensorThings, OGC API, CKAN, downloads); the rest
    (pages, static files, documents, administration)."""
    if kind == "websocket":
        return MQTT
    if method in _WRITE_METHODS:
        if path.startswith("/api/") and "/action/" in path and path.rstrip("/").endswith(_CKAN_READS):
            return HEAVY
        return WRITES
    return HEAVY if path.startswith(_DATA_PREFIXES) else OTHER


class Budget:
    """At most ``limit`` requests of one class at once; the next ones queue, in order, while the queue's expected
    wait (measured time in a slot × requests ahead / limit) stays under ``max_wait``."""

    __slots__ = ("name", "limit", "max_wait", "active", "waiters", "service", "shed", "served")

    def __init__(self, name: str, limit: int, max_wait: float) -> None:
        self.name = name
        self.limit = limit
        self.max_wait = max_wait
        self.active = 0
        self.waiters: deque[asyncio.Future[None]] = deque()
        self.service = 0.25  # seconds in a slot, a moving average of the requests served
        self.shed = 0
        self.served = 0

    def expected_wait(self) -> float:
        return self.service * (len(self.waiters) + 1) / self.limit

    async def acquire(self) -> float:
        """0 once a slot is held; else the expected wait in seconds (the request is to be shed)."""
        if self.active < self.limit and not self.waiters:
            self.active += 1
            return 0.0
        wait = self.expected_wait()
        if wait > self.max_wait or self.max_wait <= 0:
            self.shed += 1
            return wait
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiters.append(fut)
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout=2 * self.max_wait)
        except (asyncio.CancelledError, TimeoutError):
            if fut.done() and not fut.cancelled():
                self.release(None)  # the slot was handed over as the wait ended: pass it on
            else:
                fut.cancel()
                try:
                    self.waiters.remove(fut)
                except ValueError:
                    pass
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            self.shed += 1
            return self.expected_wait()
        return 0.0

    def release(self, seconds: float | None) -> None:
        """Give the slot up (to the first live waiter, when there is one); ``seconds`` held it, for the average."""
        if seconds is not None:
            self.served += 1
            self.service += 0.2 * (seconds - self.service)
        while self.waiters:
            fut = self.waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self.active -= 1


class TokenBuckets:
    """A token bucket per key (a token's digest, or a client address): ``rate`` requests a second, bursts of
    ``max(1, rate)``; the least recently seen keys are forgotten beyond ``size``."""

    def __init__(self, rate: float, size: int = 10_000) -> None:
        self.rate = rate
        self.burst = max(1.0, rate)
        self.size = size
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.refused = 0

    def take(self, key: str) -> float:
        """0 when the request may go on, else the seconds until the key has a request again."""
        now = time.monotonic()
        tokens, last = self.buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            tokens -= 1.0
            wait = 0.0
        else:
            wait = (1.0 - tokens) / self.rate
            self.refused += 1
        self.buckets[key] = (tokens, now)
        if len(self.buckets) > self.size:
            self.buckets.popitem(last=False)
        return wait


class Pacer:
    """Shed answers to impatient connections leave at most ``rate`` a second. A connection that comes back before
    the Retry-After of its last 503 has its next 503 held (a sleeping coroutine: no slot, no work) until that
    Retry-After and its turn among the others, for at most ``max_hold`` seconds; a first refusal is answered at
    once. Clients that retry the instant they get a 503 would otherwise make answering 503s the server's main
    work, and the more of them, the less goodput."""

    def __init__(self, rate: float, max_hold: float, size: int = 10_000) -> None:
        self.rate = rate
        self.max_hold = max_hold
        self.size = size
        self.next = 0.0
        self.held = 0
        self.retry_at: OrderedDict[tuple[str, int], float] = OrderedDict()  # connection -> its Retry-After

    async def hold(self, connection: tuple[str, int] | None, retry_after: float) -> None:
        if self.rate <= 0 or connection is None:
            return
        now = time.monotonic()
        due = self.retry_at.pop(connection, None)
        delay = 0.0
        if due is not None and due > now:  # back before its Retry-After: impatient
            turn = max(self.next, now) + 1.0 / self.rate
            delay = min(self.max_hold, max(turn, due) - now)
            self.next = max(self.next, now + delay)
        self.retry_at[connection] = now + delay + max(1.0, math.ceil(retry_after))
        if len(self.retry_at) > self.size:
            self.retry_at.popitem(last=False)
        if delay <= 0:
            return
        self.held += 1
        try:
            await asyncio.sleep(delay)
        finally:
            self.held -= 1


@dataclass(frozen=True)
class LoadPolicy:
    """The shedding settings: the budget of each class (0: unlimited), the longest expected queue wait
    admitted, and the rate limits (requests a second; 0: off)."""

    budgets: dict[str, int]
    max_wait: float = 2.0
    per_token: float = 0.0
    per_address: float = 0.0
    shed_rate: float = 0.0
    shed_hold: float = 5.0


def _credential(headers: dict[bytes, bytes]) -> str | None:
    raw = headers.get(b"authorization") or headers.get(b"x-ckan-api-key")
    if not raw:
        return None
    value = raw.decode("latin-1").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return hashlib.blake2b(value.encode(), digest_size=12).hexdigest() if value else None


def _host_header(scope: Scope) -> str | None:
    for k, v in scope.get("headers") or ():
        if k == b"host":
            return str(v.decode("latin-1"))
    return None


class PlatformMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body: int, timeout: float, metrics: Metrics | None, access_log: bool, max_concurrent: int = 512,
        hosts: HostPolicy | None = None, proxies: ProxyPolicy | None = None, page_csp: str | None = None,
        load: LoadPolicy | None = None, alive: bytes | None = None,
    ) -> None:
        self.app = app
        # GET /healthz answered here from these bytes, before the inner middleware and the router (None: routed)
        self.alive = alive
        self.alive_headers = response_headers([(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
                                               (b"content-length", str(len(alive or b"")).encode())], b"")
        policy = load if load is not None else LoadPolicy({})
        self.budgets = {name: Budget(name, n, policy.max_wait) for name, n in policy.budgets.items() if n > 0}
        self.per_token = TokenBuckets(policy.per_token) if policy.per_token > 0 else None
        self.per_address = TokenBuckets(policy.per_address) if policy.per_address > 0 else None
        self.pacer = Pacer(policy.shed_rate, policy.shed_hold)
        self._shed_logged = (0.0, 0)  # (when the last shedding line was logged, requests shed then)
        if metrics is not None:
            metrics.watch_load(self.load_figures)
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
        budget = self.budgets.get(MQTT)
        if budget is None:
            await self.app(scope, receive, send)
            return
        if budget.active >= budget.limit:  # connections last: no queue, the client reconnects later
            budget.shed += 1
            await send({"type": "websocket.close", "code": 1013})
            return
        budget.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            budget.active -= 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await self._websocket(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if self.alive is not None and scope.get("path") == "/healthz" and scope.get("method") == "GET":
            await self._alive(scope, send)
            return
        self.proxies.apply(scope)
        headers = dict(scope.get("headers") or ())
        rid = (headers.get(b"x-request-id") or b"").decode("latin-1")[:64] or secrets.token_hex(8)
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        ex = _Exchange(rid)
        send_wrapper = self._sender(send, ex)
        exempt = scope.get("path") in EXEMPT
        self.in_flight += not exempt
        try:
            if exempt:
                await self._run(scope, receive, send_wrapper, ex)
            elif not await self._refused(scope, receive, send_wrapper, headers, ex):
                await self._admitted(scope, receive, send_wrapper, headers, ex)
        finally:
            self.in_flight -= not exempt
            self._record(scope, ex.status, time.perf_counter() - start)
            request_id_var.reset(token)

    async def _alive(self, scope: Scope, send: Send) -> None:
        """Liveness from memory: no proxy or host rules (any host), no limits, no compression, no routing; the
        request id, the security headers, the metrics and the access log as for any request."""
        start = time.perf_counter()
        given = next((v for k, v in scope.get("headers") or () if k == b"x-request-id"), b"")
        rid = given.decode("latin-1")[:64] or secrets.token_hex(8)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*self.alive_headers, (b"x-request-id", rid.encode("latin-1"))]})
        await send({"type": "http.response.body", "body": self.alive})
        token = request_id_var.set(rid)
        self._record(scope, 200, time.perf_counter() - start)
        request_id_var.reset(token)

    async def _admitted(self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes], ex: _Exchange) -> None:
        """The rate limit of the caller, then a slot of the request's class (or 503 at once when the queue's
        expected wait is too long), then the application."""
        wait = self._rate_wait(scope, headers)
        if wait:
            ex.status = 429
            await self._reject(scope, receive, send, RateLimited(
                f"Too many requests from this caller; retry in {math.ceil(wait)} s (setting rate_limit_per_token).",
                retry_after=wait))
            return
        budget = self.budgets.get(traffic_class(scope.get("method", ""), scope.get("path", "")))
        if budget is None:
            await self._run(scope, receive, send, ex)
            return
        wait = await budget.acquire()
        if wait:
            ex.status = 503
            self._log_shedding()
            await self._paced(scope, wait)
            await self._reject(scope, receive, send, Overloaded(
                f"The server is busy ({budget.name.replace('_', ' ')}): the expected wait is {wait:.1f} s, more than "
                f"the {budget.max_wait:g} s allowed (setting shed_max_wait); retry later.", retry_after=wait))
            return
        started = time.perf_counter()
        try:
            await self._run(scope, receive, send, ex)
        finally:
            budget.release(time.perf_counter() - started)

    async def _paced(self, scope: Scope, retry_after: float) -> None:
        """Wait for the shed answer's turn (see :class:`Pacer`), not counted as a request in flight meanwhile."""
        client = scope.get("client")
        self.in_flight -= 1
        try:
            await self.pacer.hold((str(client[0]), int(client[1])) if client else None, retry_after)
        finally:
            self.in_flight += 1

    def _rate_wait(self, scope: Scope, headers: dict[bytes, bytes]) -> float:
        """Seconds the caller must wait (its token's bucket, or its address's without a token), else 0."""
        if self.per_token is None and self.per_address is None:
            return 0.0
        key = _credential(headers)
        if key is not None:
            return self.per_token.take(key) if self.per_token is not None else 0.0
        client = scope.get("client")
        if self.per_address is None or not client:
            return 0.0
        return self.per_address.take(str(client[0]))

    def _log_shedding(self) -> None:
        """One warning line every ten seconds at most while requests are shed, with their count."""
        now = time.monotonic()
        when, before = self._shed_logged
        if now - when >= 10.0:
            total = sum(b.shed for b in self.budgets.values()) + self.shed
            access.warning("overloaded: %d requests shed in the last %.0f s", total - before, min(now - when, 1e6))
            self._shed_logged = (now, total)

    def load_figures(self) -> dict[tuple[str, str], float]:
        """(class, figure) -> value for /metrics: limit, active, queued, shed, served and seconds in a slot."""
        out: dict[tuple[str, str], float] = {("all", "in_flight"): float(self.in_flight),
                                             ("all", "shed_over_limit"): float(self.shed),
                                             ("all", "shed_answers_held"): float(self.pacer.held)}
        for name, b in self.budgets.items():
            out.update({(name, "limit"): float(b.limit), (name, "active"): float(b.active),
                        (name, "queued"): float(len(b.waiters)), (name, "shed"): float(b.shed),
                        (name, "served"): float(b.served), (name, "service_seconds"): b.service})
        for name, buckets in (("per_token", self.per_token), ("per_address", self.per_address)):
            if buckets is not None:
                out[(name, "rate_limited")] = float(buckets.refused)
        return out

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
        if self.in_flight > self.max_concurrent:
            self.shed += 1
            self._log_shedding()
            ex.status = 503
            busy = Overloaded("The server is at capacity; retry shortly (setting max_concurrent_requests).", retry_after=1)
            await self._paced(scope, 1.0)
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


__all__ = ["PlatformMiddleware", "LoadPolicy", "Budget", "Pacer", "TokenBuckets", "traffic_class", "CLASSES", "EXEMPT"]
