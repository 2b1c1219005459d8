"""Rate limits that several server processes share (``urbanos serve --workers N``, or several servers on one
database): posts counted in a store every process sees, chosen by the event bus that already crosses them.

- ``memory`` bus (one process): the in-memory token buckets (:class:`urbanos.governance.throttle.FailureLimiter`);
- ``postgres`` bus: the UNLOGGED table ``rate_counts`` (no WAL: counts are not worth a durable write, and a crash
  forgets them), one upsert per key and post;
- ``redis://`` bus: Redis counters (``INCR`` and ``EXPIRE``), one pipelined round trip per post.

The shared stores count a sliding window of ``per`` seconds, estimated from two fixed windows: the posts of the
current window plus the previous window's share that still overlaps (``previous × (1 − elapsed fraction)``). A post
is admitted when that estimate, itself included, stays within the limit; a refused post counts for nothing (its
increments are taken back), so a client that keeps retrying is not locked out longer than its limit says.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from typing import TYPE_CHECKING, Any, Protocol

from urbanos.bus.remote import channel_for
from urbanos.governance.throttle import FailureLimiter

if TYPE_CHECKING:
    from urbanos.settings import Settings
    from urbanos.storage import Connection, Database

log = logging.getLogger("urbanos.governance")
Item = tuple[str, str | None, int]  # (scope, key or None: not counted, limit per window)


class Counter(Protocol):
    """Counts posts against limits: ``take(items)`` is 0 when every key had room (each one counted), else the
    whole seconds until the post would be admitted (nothing counted)."""

    kind: str

    async def take(self, items: list[Item]) -> int: ...

    async def close(self) -> None: ...


def wait_seconds(previous: int, current: int, fraction: float, limit: int, per: float) -> float:
    """Seconds until one more post fits, ``current`` posts (refused one excluded) in the window that is
    ``fraction`` through, ``previous`` in the one before."""
    if current + 1 <= limit:  # the previous window's share has to shrink
        need = 1.0 - (limit - current - 1) / previous if previous else 0.0
        return max(0.0, need - fraction) * per
    # the next window: this one becomes the previous and has to shrink in turn
    need = 1.0 - (limit - 1) / current if current else 0.0
    return (1.0 - fraction) * per + max(0.0, need) * per


def admitted(previous: int, current: int, fraction: float, limit: int) -> bool:
    """The sliding window's estimate, ``current`` including this post, is within ``limit``."""
    return previous * (1.0 - fraction) + current <= limit + 1e-9


def _windows(per: float) -> tuple[int, float]:
    now = time.time()
    return int(now // per), (now % per) / per


class MemoryCounter:
    """One process: a token bucket per scope (``per_minute`` the limit), as before workers shared them."""

    kind = "memory"

    def __init__(self) -> None:
        self.buckets: dict[tuple[str, int], FailureLimiter] = {}

    async def take(self, items: list[Item]) -> int:
        limiters = []
        for scope, key, limit in items:
            limiter = self.buckets.get((scope, limit))
            if limiter is None:
                limiter = self.buckets[(scope, limit)] = FailureLimiter(limit)
            limiters.append((limiter, key))
        wait = max((limiter.retry_after(key) for limiter, key in limiters), default=0)
        if wait:
            return wait
        for limiter, key in limiters:
            limiter.failed(key)
        return 0

    async def close(self) -> None:
        self.buckets.clear()


class _Refused(Exception):  # noqa: N818 - rolls the counting transaction back
    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


class PostgresCounter:
    """The UNLOGGED table ``rate_counts``: an upsert per key returns the current window's count (the row stays
    locked until the post's transaction ends, so concurrent posts of one key are counted one after the other)
    and the previous window's; a refusal rolls the transaction back."""

    kind = "postgres"

    def __init__(self, db: Database, per: float = 60.0) -> None:
        self.db, self.per = db, per
        self.swept = 0

    async def take(self, items: list[Item]) -> int:
        window, fraction = _windows(self.per)
        counted = [(scope, key, limit) for scope, key, limit in items if key is not None and limit > 0]
        if not counted:
            return 0

        def tx(c: Connection) -> None:
            waits = []
            for scope, key, limit in counted:
                row = c.fetchone(
                    "INSERT INTO rate_counts (scope, key, slot, n) VALUES (?, ?, ?, 1) ON CONFLICT (scope, key, slot) "
                    "DO UPDATE SET n = rate_counts.n + 1 RETURNING n, (SELECT p.n FROM rate_counts p WHERE "
                    "p.scope = ? AND p.key = ? AND p.slot = ?)", (scope, key[:200], window, scope, key[:200], window - 1))
                assert row is not None  # noqa: S101 - INSERT … RETURNING returns its row
                current, previous = int(row[0]), int(row[1] or 0)
                if not admitted(previous, current, fraction, limit):
                    waits.append(wait_seconds(previous, current - 1, fraction, limit, self.per))
            if waits:
                raise _Refused(max(waits))
            if self.swept < window:  # forget windows no post looks at any more, once a window per process
                c.execute("DELETE FROM rate_counts WHERE slot < ?", (window - 1,))

        try:
            await self.db.write(tx)
        except _Refused as refused:
            return max(1, math.ceil(refused.wait))
        self.swept = window
        return 0

    async def close(self) -> None:
        return None


class RedisCounter:
    """Redis: ``INCR`` the current window's key (``EXPIRE`` after two windows) and ``GET`` the previous one's, in
    one pipelined round trip; a refusal is taken back with ``DECR``. While Redis does not answer (the bus, on the
    same server, is away too), posts are counted in this process's buckets, and a warning says so once a minute."""

    kind = "redis"

    def __init__(self, url: str, prefix: str, per: float = 60.0) -> None:
        self.url, self.prefix, self.per = url, prefix, per
        self.client: Any = None
        self.fallback = MemoryCounter()
        self.warned = 0.0

    async def take(self, items: list[Item]) -> int:
        try:
            return await self._take(items)
        except Exception as exc:  # noqa: BLE001 - any failure of the store: count here rather than refuse or fail
            if time.monotonic() - self.warned > 60:
                self.warned = time.monotonic()
                log.warning("rate limits: Redis does not answer (%s); posts are counted per process meanwhile",
                            type(exc).__name__)
            await self._reset()
            return await self.fallback.take(items)

    async def _reset(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()

    def _client(self) -> Any:
        if self.client is None:
            import redis.asyncio as redis

            self.client = redis.from_url(self.url, socket_connect_timeout=1.0, socket_timeout=1.0)
        return self.client

    async def _take(self, items: list[Item]) -> int:
        window, fraction = _windows(self.per)
        counted = [(scope, key, limit) for scope, key, limit in items if key is not None and limit > 0]
        if not counted:
            return 0
        client = self._client()
        keys = [f"{self.prefix}:{scope}:{key[:200]}" for scope, key, _ in counted]
        async with client.pipeline(transaction=False) as pipe:
            for k in keys:
                pipe.incr(f"{k}:{window}")
                pipe.expire(f"{k}:{window}", int(2 * self.per) + 1)
                pipe.get(f"{k}:{window - 1}")
            out = await pipe.execute()
        waits = []
        for i, (_, _, limit) in enumerate(counted):
            current, previous = int(out[3 * i]), int(out[3 * i + 2] or 0)
            if not admitted(previous, current, fraction, limit):
                waits.append(wait_seconds(previous, current - 1, fraction, limit, self.per))
        if not waits:
            return 0
        async with client.pipeline(transaction=False) as pipe:
            for k in keys:
                pipe.decr(f"{k}:{window}")
            await pipe.execute()
        return max(1, math.ceil(max(waits)))

    async def close(self) -> None:
        await self._reset()


def make_counter(settings: Settings, db: Database, prefix: str) -> Counter:
    """The counter for the platform's processes: shared when the bus crosses processes, else in memory."""
    bus = str(settings.get("bus", "memory"))
    if bus == "postgres" and db.dialect.name == "postgresql":
        return PostgresCounter(db)
    if bus.startswith("redis://"):  # one set of keys per database, as the bus has one channel per database
        return RedisCounter(bus, f"{channel_for(settings).replace('_events_', '_limits_')}:{prefix}")
    return MemoryCounter()


__all__ = ["Counter", "MemoryCounter", "PostgresCounter", "RedisCounter", "make_counter", "admitted", "wait_seconds"]
