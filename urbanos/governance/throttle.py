"""Bounded memory of authentication outcomes: the caches of token verdicts and the limiter of failed
authentications per client address (used by :class:`urbanos.governance.gate.Gate`)."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict

from urbanos.core.ids import is_ascii_digits
from urbanos.governance.identity import Identity


class ExpiringCache:
    """A bounded map of token digests to verdicts, each kept for ``ttl`` seconds; the oldest entry goes first
    when it is full. Successes and failures live in caches of their own, so failures never push a success
    out."""

    def __init__(self, ttl: float, size: int = 10000) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[str, tuple[float, Identity | None]] = OrderedDict()

    def get(self, key: str) -> tuple[bool, Identity | None]:
        hit = self._items.get(key)
        if hit is None:
            return False, None
        expires, ident = hit
        if expires < time.monotonic():
            self._items.pop(key, None)
            return False, None
        return True, ident

    def put(self, key: str, ident: Identity | None) -> None:
        if self.ttl <= 0:
            return
        self._items[key] = (time.monotonic() + self.ttl, ident)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def client_key(client: str | None) -> str | None:
    """The key a client address is counted under: the IP address (``tcp:1.2.3.4:5678``, ``ws:…`` and
    ``[::1]:80`` forms accepted), IPv4-mapped IPv6 as IPv4, and an IPv6 address by its /64 network (one
    subscriber's share). Text that is no address is its own key; None or empty: not counted."""
    if not client:
        return None
    text = client.strip()
    scheme, sep, rest = text.partition(":")
    candidates = [text]
    if sep and scheme.isalpha() and scheme.lower() in ("tcp", "ws", "wss", "http", "https"):
        candidates.append(rest)
    for cand in list(candidates):
        host, sep, port = cand.rpartition(":")
        if sep and is_ascii_digits(port):
            candidates.append(host)
    for cand in candidates:
        try:
            ip = ipaddress.ip_address(cand.strip("[]"))
        except ValueError:
            continue
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.ipv4_mapped is not None:
                return str(ip.ipv4_mapped)
            return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
        return str(ip)
    return text[:200]


class FailureLimiter:
    """A token bucket per client address that only failed authentications drain: ``per_minute`` failures at
    once, then one more every ``60 / per_minute`` seconds. Holds at most ``size`` addresses (the ones that failed
    longest ago are forgotten first)."""

    def __init__(self, per_minute: int, size: int = 10000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.size = size
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def _tokens(self, key: str, now: float) -> float:
        found = self._buckets.get(key)
        if found is None:
            return self.capacity
        tokens, at = found
        return min(self.capacity, tokens + (now - at) * self.rate)

    def retry_after(self, key: str | None) -> int:
        """0 when ``key`` may try; else the whole seconds until it earns its next try."""
        if key is None or self.capacity <= 0:
            return 0
        tokens = self._tokens(key, time.monotonic())
        if tokens >= 1:
            return 0
        return max(1, math.ceil((1 - tokens) / self.rate))

    def failed(self, key: str | None) -> None:
        if key is None or self.capacity <= 0:
            return
        now = time.monotonic()
        tokens = self._tokens(key, now)
        self._buckets[key] = (max(0.0, tokens - 1), now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.size:
            self._buckets.popitem(last=False)

    def clear(self) -> None:
        self._buckets.clear()


__all__ = ["ExpiringCache", "FailureLimiter", "client_key"]
