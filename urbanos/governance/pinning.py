"""Connections pinned to checked addresses: httpx transports whose network back end connects to the addresses the
outbound policy checked for a host, and never resolves the host again (no DNS rebinding between check and
connection). TLS still verifies the certificate against the host name."""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Iterable
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpcore
import httpx

from urbanos.governance.addresses import host_key

Pins = dict[tuple[str, int], tuple[str, ...]]


def pinned(pins: Pins, host: str, port: int) -> tuple[str, ...]:
    addresses = pins.get((host_key(host), port))
    if not addresses:
        raise httpcore.ConnectError(f"{host}:{port} was not checked by the outbound policy")
    return addresses


class PinnedBackend(httpcore.NetworkBackend):
    """Connects to the addresses checked for a host, never to what the host resolves to now."""

    def __init__(self, pins: Pins) -> None:
        self._pins = pins
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in pinned(self._pins, host, port):
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("outbound fetches use TCP only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class AsyncPinnedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, pins: Pins) -> None:
        self._pins = pins
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        error: Exception | None = None
        for address in pinned(self._pins, host, port):
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("outbound fetches use TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def ssl_context() -> ssl.SSLContext:
    """The TLS client context of the outbound clients: httpx's default (the CA bundle, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR`` when set), built once per process and CA setting (loading the bundle costs tens of milliseconds
    and a connector run makes a client); shared, never changed after."""
    return _context(os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))


@functools.lru_cache(maxsize=4)
def _context(cafile: str, capath: str) -> ssl.SSLContext:
    return httpx.create_ssl_context()


class PinnedTransport(httpx.HTTPTransport):
    """httpx's own transport (request/response mapping, error mapping), over a connection pool whose network
    back end is pinned."""

    def __init__(self, pins: Pins) -> None:
        super().__init__(verify=ssl_context(), trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):  # pragma: no cover - httpx changed
            raise RuntimeError("httpx.HTTPTransport has no connection pool to pin")
        self._pool = httpcore.ConnectionPool(ssl_context=ssl_context(), network_backend=PinnedBackend(pins),
                                             max_connections=16, max_keepalive_connections=4)


class AsyncPinnedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, pins: Pins) -> None:
        super().__init__(verify=ssl_context(), trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):  # pragma: no cover
            raise RuntimeError("httpx.AsyncHTTPTransport has no connection pool to pin")
        self._pool = httpcore.AsyncConnectionPool(ssl_context=ssl_context(),
                                                  network_backend=AsyncPinnedBackend(pins),
                                                  max_connections=16, max_keepalive_connections=4)


def no_cookies() -> CookieJar:
    """A cookie jar that keeps nothing (given to httpx as the jar itself: httpx copies other forms into a jar of
    its own, which would keep cookies)."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


__all__ = ["Pins", "pinned", "PinnedBackend", "AsyncPinnedBackend", "PinnedTransport", "AsyncPinnedTransport",
           "ssl_context", "no_cookies"]
