"""The outbound-fetch policy: every request the platform makes to a URL it was given (import by URL, harvest
sources, connectors) goes through :class:`OutboundClient` (async) or :class:`OutboundSyncClient`.

What the clients guarantee:

* only ``http`` and ``https`` URLs are fetched;
* a host is resolved once, and every address it resolves to must be a public (globally routable) address,
  unless the ``outbound_allow`` setting lists the host, the address or a network holding it. Refused:
  private, loopback, link-local, shared (CGNAT, 100.64.0.0/10), multicast, reserved and unspecified
  addresses, IPv4-mapped IPv6 addresses of those, and 6to4 / NAT64 / IPv4-compatible IPv6 addresses that
  embed such an IPv4 address;
* the connection goes to exactly an address that was checked: the client's network back end looks the host up
  in the addresses checked for it and never resolves again, so a name that answers differently the second time
  (DNS rebinding) cannot move the connection. TLS still verifies the certificate against the host name (SNI);
* redirects are followed by the client itself, each hop checked again like the first, at most
  ``outbound_max_redirects`` of them;
* credentials (``Authorization``, cookies) go only to the origin (scheme, host, port) they were configured
  for: never to another host a redirect or a next-page link names. Cookies a server sets are never kept;
* the body is streamed and the fetch ends as soon as it is larger than the limit (``PayloadTooLarge``, 413,
  naming the setting); each wait for the server is bounded, and so is the whole transfer;
* proxies from the environment are not used (they would connect to the host by name).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from urbanos.core.ids import is_ascii_digits
from urbanos.errors import ConfigError, PayloadTooLarge, ValidationFailed
from urbanos.governance.addresses import (
    IPAddress,
    IPNetwork,
    Resolver,
    host_key,
    is_public,
    parse_ip,
    system_resolver,
)
from urbanos.governance.pinning import AsyncPinnedTransport, PinnedTransport, Pins, no_cookies
from urbanos.settings import Settings

log = logging.getLogger("urbanos.outbound")

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECTS = (301, 302, 303, 307, 308)
CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})

class OutboundError(ValidationFailed):
    """A URL could not be fetched (it does not resolve, the server is unreachable or too slow)."""

    code = "outbound_failed"


class OutboundRefused(OutboundError):
    """The outbound policy refuses this URL (scheme, address, too many redirects)."""

    code = "outbound_refused"


@dataclass(frozen=True)
class OutboundPolicy:
    """Which addresses outbound fetches may reach. Build it with :meth:`from_settings`."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()
    any_address: bool = False
    max_redirects: int = 5
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def parse_allow(cls, entries: Iterable[str], setting: str = "outbound_allow") -> tuple[tuple[IPNetwork, ...], frozenset[str]]:
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in entries:
            entry = str(raw).strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = host_key(entry)
            if not name or any(ch in name for ch in "/:@ ") or not all(
                    part and len(part) < 64 for part in name.split(".")):
                raise ConfigError(
                    f"setting {setting}: {entry!r} is neither a host name, an address nor a network. "
                    "Fix: list host names (data.example.org), addresses (10.1.2.3) or networks (10.0.0.0/8)."
                )
            hosts.add(name)
        return tuple(networks), frozenset(hosts)

    @classmethod
    def from_settings(cls, settings: Settings, resolver: Resolver | None = None) -> OutboundPolicy:
        networks, hosts = cls.parse_allow(settings.get("outbound_allow") or [])
        return cls(networks=networks, hosts=hosts, max_redirects=int(settings.get("outbound_max_redirects", 5)),
                   resolver=resolver or system_resolver)

    def allowing_any_address(self) -> OutboundPolicy:
        """The same policy without the address filter (for an explicit opt-in such as
        ``datastore_fetch_private``); connections are still pinned to the resolved addresses."""
        return replace(self, any_address=True)

    def with_resolver(self, resolver: Resolver) -> OutboundPolicy:
        return replace(self, resolver=resolver)

    def address_allowed(self, ip: IPAddress, host: str = "") -> bool:
        if self.any_address or (host and host_key(host) in self.hosts):
            return True
        forms: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            forms.append(ip.ipv4_mapped)
        if any(f.version == n.version and f in n for f in forms for n in self.networks):
            return True
        return is_public(ip)

    def addresses(self, host: str, port: int, url: str = "") -> tuple[str, ...]:
        """Resolve ``host`` once and check every address: the addresses to connect to, or OutboundRefused /
        OutboundError. Blocking (the resolver)."""
        where = url or host
        literal = parse_ip(host.strip("[]"))
        if literal is not None:
            found = [str(literal)]
        else:
            try:
                found = list(self.resolver(host, port))
            except (OSError, UnicodeError):
                raise OutboundError(f"cannot fetch {where}: the host {host} does not resolve") from None
        if not found:
            raise OutboundError(f"cannot fetch {where}: the host {host} does not resolve")
        checked: list[str] = []
        for text in found:
            ip = parse_ip(text)
            if ip is None or not self.address_allowed(ip, host):
                log.warning("outbound fetch of %s refused: %s resolves to %s", where, host, text)
                raise OutboundRefused(
                    f"cannot fetch {where}: the host {host} resolves to {text}, which is not a public address. "
                    "Fix: if the platform is meant to reach it, list the host or address in the setting "
                    "outbound_allow."
                )
            if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
                ip = ip.ipv4_mapped
            checked.append(str(ip))
        return tuple(dict.fromkeys(checked))


def origin(url: httpx.URL | str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, with the default port filled in."""
    u = url if isinstance(url, httpx.URL) else httpx.URL(url)
    scheme = u.scheme.lower()
    return scheme, host_key(u.raw_host.decode("ascii")), u.port or DEFAULT_PORTS.get(scheme, 0)


@dataclass(frozen=True)
class Credentials:
    """Headers (``Authorization``, ``Cookie``, ...) that go only to one origin."""

    headers: Mapping[str, str]
    origin: tuple[str, str, int]

    @classmethod
    def for_url(cls, url: str, headers: Mapping[str, str]) -> Credentials:
        return cls(dict(headers), origin(url))


@dataclass
class Fetched:
    """The answer to an outbound GET: final URL, status, headers and (for a 2xx answer without a sink) the
    body."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes = b""
    size: int = 0
    redirects: int = 0


def target(url: str, params: Mapping[str, Any] | None = None) -> httpx.URL:
    """Parse and check a URL: http or https, with a host."""
    try:
        u = httpx.URL(url)
        if params:
            u = u.copy_merge_params(dict(params))
    except (httpx.InvalidURL, TypeError, ValueError):
        raise OutboundRefused(f"cannot fetch {url!r}: not a valid URL") from None
    if u.scheme.lower() not in SCHEMES or not u.raw_host:
        raise OutboundRefused(f"cannot fetch {url!r}: only http and https URLs are fetched")
    return u


def _redirect(resp: httpx.Response, current: httpx.URL) -> httpx.URL | None:
    if resp.status_code not in REDIRECTS:
        return None
    location = resp.headers.get("location")
    if not location:
        return None
    try:
        nxt = current.join(location)
    except (httpx.InvalidURL, ValueError):
        raise OutboundRefused(f"cannot fetch {current}: the redirect to {location!r} is not a valid URL") from None
    return target(str(nxt))


# -- the clients -----------------------------------------------------------------------------------------------

class _Base:
    def __init__(self, policy: OutboundPolicy, *, timeout: float, max_bytes: int, size_setting: str,
                 transfer_seconds: float | None = None, headers: Mapping[str, str] | None = None,
                 credentials: Credentials | None = None) -> None:
        self.policy = policy
        self.timeout = float(timeout)
        self.max_bytes = int(max_bytes)
        self.size_setting = size_setting
        self.transfer_seconds = float(transfer_seconds) if transfer_seconds else max(600.0, 10 * self.timeout)
        self.headers = self._plain(headers)
        self.credentials = credentials
        self._pins: Pins = {}

    @staticmethod
    def _plain(headers: Mapping[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if any(k.lower() in CREDENTIAL_HEADERS for k in out):
            raise ValueError("credentials go in credentials=, so that they reach only their own origin")
        return out

    def _key(self, url: httpx.URL) -> tuple[str, int]:
        scheme, host, port = origin(url)
        return host, port

    def _headers_for(self, url: httpx.URL, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = {**self.headers, **self._plain(extra)}
        if self.credentials is not None and origin(url) == self.credentials.origin:
            headers.update(self.credentials.headers)
        return headers

    def _answer(self, resp: httpx.Response, url: httpx.URL, hops: int) -> Fetched:
        """What is known of an answer before its body; a 2xx answer declaring a body over the limit is refused."""
        got = Fetched(str(url), resp.status_code, resp.headers, redirects=hops)
        if 200 <= resp.status_code < 300:
            declared = resp.headers.get("content-length", "")
            if is_ascii_digits(declared) and int(declared) > self.max_bytes and "content-encoding" not in resp.headers:
                raise self._too_large(url)
        return got

    def _count(self, got: Fetched, chunk: bytes, url: httpx.URL) -> None:
        got.size += len(chunk)
        if got.size > self.max_bytes:
            raise self._too_large(url)

    def _too_large(self, url: httpx.URL) -> PayloadTooLarge:
        return PayloadTooLarge(f"cannot fetch {url}: the answer is larger than {self.max_bytes} bytes "
                               f"(setting {self.size_setting})")

    def _failed(self, url: httpx.URL, exc: Exception) -> OutboundError:
        if isinstance(exc, httpx.TimeoutException | TimeoutError):
            return OutboundError(f"cannot fetch {url}: no answer within the time allowed ({type(exc).__name__})")
        return OutboundError(f"cannot fetch {url}: {type(exc).__name__}")

    def _too_many(self, url: str) -> OutboundRefused:
        return OutboundRefused(f"cannot fetch {url}: more than {self.policy.max_redirects} redirects "
                               "(setting outbound_max_redirects)")


def _keep(body: bytearray, chunk: bytes, sink: Callable[[bytes], Any] | None) -> None:
    if sink is None:
        body += chunk
    else:
        sink(chunk)


class OutboundClient(_Base):
    """Async outbound GETs under an :class:`OutboundPolicy`. Use as ``async with``; one client may serve many
    requests (a harvest run): each host is resolved and checked once per client."""

    def __init__(self, policy: OutboundPolicy, **kw: Any) -> None:
        super().__init__(policy, **kw)
        self._client = httpx.AsyncClient(transport=AsyncPinnedTransport(self._pins), follow_redirects=False,
                                         trust_env=False, cookies=no_cookies(), timeout=httpx.Timeout(self.timeout))

    async def __aenter__(self) -> OutboundClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _pin(self, url: httpx.URL) -> None:
        key = self._key(url)
        if key not in self._pins:
            self._pins[key] = await asyncio.to_thread(self.policy.addresses, url.raw_host.decode("ascii"), key[1],
                                                      str(url))

    async def get(self, url: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
                  sink: Callable[[bytes], Any] | None = None) -> Fetched:
        """GET ``url``, following redirects under the policy. The body of a 2xx answer goes to ``sink`` chunk by
        chunk, or into ``Fetched.content``; other answers are returned without their body."""
        current = target(url, params)
        try:
            async with asyncio.timeout(self.transfer_seconds):
                for hop in range(self.policy.max_redirects + 1):
                    await self._pin(current)
                    request = self._client.build_request("GET", current, headers=self._headers_for(current, headers))
                    resp = await self._client.send(request, stream=True)
                    try:
                        nxt = _redirect(resp, current)
                        if nxt is None:
                            return await self._read(resp, current, hop, sink)
                    finally:
                        await resp.aclose()
                    current = nxt
        except (httpx.HTTPError, TimeoutError) as exc:
            raise self._failed(current, exc) from None
        raise self._too_many(url)

    async def _read(self, resp: httpx.Response, url: httpx.URL, hops: int, sink: Callable[[bytes], Any] | None) -> Fetched:
        got = self._answer(resp, url, hops)
        if got.status < 200 or got.status >= 300:
            return got
        body = bytearray()
        async for chunk in resp.aiter_bytes():
            self._count(got, chunk, url)
            _keep(body, chunk, sink)
        got.content = bytes(body)
        return got


class OutboundSyncClient(_Base):
    """The blocking form of :class:`OutboundClient` (for code that runs in a worker thread)."""

    def __init__(self, policy: OutboundPolicy, **kw: Any) -> None:
        super().__init__(policy, **kw)
        self._client = httpx.Client(transport=PinnedTransport(self._pins), follow_redirects=False, trust_env=False,
                                    cookies=no_cookies(), timeout=httpx.Timeout(self.timeout))

    def __enter__(self) -> OutboundSyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def _pin(self, url: httpx.URL) -> None:
        key = self._key(url)
        if key not in self._pins:
            self._pins[key] = self.policy.addresses(url.raw_host.decode("ascii"), key[1], str(url))

    def get(self, url: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
            sink: Callable[[bytes], Any] | None = None) -> Fetched:
        """As :meth:`OutboundClient.get`. The whole transfer is bounded by checks between chunks (each wait for
        the server by ``timeout``)."""
        current = target(url, params)
        deadline = time.monotonic() + self.transfer_seconds
        try:
            for hop in range(self.policy.max_redirects + 1):
                self._pin(current)
                request = self._client.build_request("GET", current, headers=self._headers_for(current, headers))
                resp = self._client.send(request, stream=True)
                try:
                    nxt = _redirect(resp, current)
                    if nxt is None:
                        return self._read(resp, current, hop, sink, deadline)
                finally:
                    resp.close()
                current = nxt
                if time.monotonic() > deadline:
                    raise TimeoutError
        except (httpx.HTTPError, TimeoutError) as exc:
            raise self._failed(current, exc) from None
        raise self._too_many(url)

    def _read(self, resp: httpx.Response, url: httpx.URL, hops: int, sink: Callable[[bytes], Any] | None,
              deadline: float) -> Fetched:
        got = self._answer(resp, url, hops)
        if got.status < 200 or got.status >= 300:
            return got
        body = bytearray()
        for chunk in resp.iter_bytes():
            self._count(got, chunk, url)
            if time.monotonic() > deadline:
                raise TimeoutError
            _keep(body, chunk, sink)
        got.content = bytes(body)
        return got


__all__ = ["OutboundPolicy", "OutboundClient", "OutboundSyncClient", "OutboundError", "OutboundRefused", "Credentials",
           "Fetched", "is_public", "system_resolver", "origin", "target"]
