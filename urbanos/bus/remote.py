"""Cross-process buses: PostgreSQL LISTEN/NOTIFY and Redis pub/sub.

Both deliver every event to this process's subscribers at once (as ``MemoryBus`` does) and send it
to the other processes, which deliver it to theirs. Each bus instance has a random origin id; a
message carrying our own origin is our echo and is ignored, so local subscribers see every event
exactly once.

Wire format: one JSON object ``{"o": origin, "e": [event dicts]}``. PostgreSQL payloads are limited
to 8000 bytes: larger messages are split into numbered chunks ``{"o", "m": msg id, "i": index,
"n": count, "c": text}`` and joined by the receivers (incomplete messages expire after 30 s).

While the other side is away, outgoing messages wait in a bounded queue (oldest dropped, counted);
the listener reconnects with back-off and no manual step.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import threading
import time
from collections import deque
from typing import Any

import orjson

from urbanos.bus.base import Bus
from urbanos.errors import ConfigError
from urbanos.events import Event

log = logging.getLogger("urbanos.bus")

PG_LIMIT = 7900  # NOTIFY payloads must stay below 8000 bytes


class RemoteBus(Bus):
    """Shared machinery: origin, send queue, reconnect loops, chunk reassembly."""

    kind = "remote"

    def __init__(self, channel: str, queue_size: int = 10000) -> None:
        super().__init__()
        self.channel = channel
        self.origin = secrets.token_hex(8)
        self.outbox: deque[str] = deque()
        self.queue_size = queue_size
        self.dropped = 0
        self.received = 0
        self.sent = 0
        self.delivering_remote = False
        self._wake: asyncio.Event | None = None
        self._runner: list[asyncio.Task[Any]] = []
        self._partial: dict[tuple[str, str], tuple[float, list[str | None]]] = {}
        self._lock = threading.Lock()
        self.connected = False

    # -- publishing -----------------------------------------------------------------------------
    def publish(self, events: list[Event]) -> None:
        if not events:
            return
        self.deliver_local(events)
        msg = orjson.dumps({"o": self.origin, "e": [e.to_dict() for e in events]}, default=str).decode()
        with self._lock:
            if len(self.outbox) >= self.queue_size:
                self.outbox.popleft()
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning("bus: outgoing queue full, dropped the oldest message (%d so far)", self.dropped)
            self.outbox.append(msg)
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)
        else:
            self._flush_sync()

    def _flush_sync(self) -> None:
        """No running loop (CLI import): send at once on a short-lived connection."""
        with self._lock:
            msgs = list(self.outbox)
            self.outbox.clear()
        if msgs:
            try:
                self.send_sync(msgs)
            except Exception as exc:  # noqa: BLE001
                log.warning("bus: could not notify other processes: %s", exc)

    def send_sync(self, msgs: list[str]) -> None:
        raise NotImplementedError

    # -- receiving ------------------------------------------------------------------------------
    def on_message(self, text: str) -> None:
        """Handle one raw message from the channel (runs on the event loop)."""
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            log.warning("bus: ignored a message that is not JSON on %s", self.channel)
            return
        if not isinstance(msg, dict) or msg.get("o") == self.origin:
            return
        if "c" in msg:
            whole = self._join(msg)
            if whole is None:
                return
            self.on_message(whole)
            return
        try:
            events = [Event.from_dict(d) for d in msg.get("e") or []]
        except (KeyError, TypeError):
            log.warning("bus: ignored a malformed event message on %s", self.channel)
            return
        self.received += len(events)
        self.delivering_remote = True
        try:
            if self._loop is not None:
                self._dispatch(events)
            else:
                self.deliver_local(events)
        finally:
            self.delivering_remote = False
        # _dispatch counts only local publishes in `published`; remote ones are in `received`

    def _join(self, msg: dict[str, Any]) -> str | None:
        now = time.monotonic()
        for k in [k for k, (t, _) in self._partial.items() if now - t > 30]:
            del self._partial[k]
        key = (str(msg.get("o")), str(msg.get("m")))
        try:
            i, n = int(msg["i"]), int(msg["n"])
        except (KeyError, TypeError, ValueError):
            return None
        if not 0 <= i < n <= 10000:
            return None
        _, parts = self._partial.setdefault(key, (now, [None] * n))
        if len(parts) != n:
            return None
        parts[i] = str(msg["c"])
        if any(p is None for p in parts):
            return None
        del self._partial[key]
        return "".join(p for p in parts if p is not None)

    def chunks(self, text: str, limit: int) -> list[str]:
        if len(text.encode()) <= limit:
            return [text]
        mid = secrets.token_hex(6)
        size = max(1, (limit - 200) // 4)  # characters, safe for 4-byte UTF-8
        pieces = [text[i:i + size] for i in range(0, len(text), size)]
        return [orjson.dumps({"o": self.origin, "m": mid, "i": i, "n": len(pieces), "c": p}).decode()
                for i, p in enumerate(pieces)]

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        await super().start()
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        self._runner = [loop.create_task(self._listen_forever()), loop.create_task(self._send_forever())]

    async def stop(self) -> None:
        for t in self._runner:
            t.cancel()
        for t in self._runner:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._runner = []
        await self.close_connections()
        await super().stop()
        self._wake = None
        self._flush_sync()

    async def _listen_forever(self) -> None:
        delay = 0.2
        while True:
            try:
                await self.listen()
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("bus: listener on %s lost (%s); reconnecting in %.1fs", self.channel, exc, delay)
            self.connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _send_forever(self) -> None:
        assert self._wake is not None
        delay = 0.2
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                with self._lock:
                    msgs = list(self.outbox)
                    self.outbox.clear()
                if not msgs:
                    break
                try:
                    await self.send(msgs)
                    self.sent += len(msgs)
                    delay = 0.2
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001
                    log.warning("bus: sending on %s failed (%s); retrying in %.1fs", self.channel, exc, delay)
                    with self._lock:
                        self.outbox.extendleft(reversed(msgs))
                        while len(self.outbox) > self.queue_size:
                            self.outbox.popleft()
                            self.dropped += 1
                    await self.reset_sender()
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

    async def listen(self) -> None:
        raise NotImplementedError

    async def send(self, msgs: list[str]) -> None:
        raise NotImplementedError

    async def reset_sender(self) -> None:
        return None

    async def close_connections(self) -> None:
        return None


class PostgresBus(RemoteBus):
    """LISTEN/NOTIFY on dedicated psycopg connections (one listening, one sending)."""

    kind = "postgres"

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(channel)
        self.url = url
        self._send_conn: Any = None
        self._listen_conn: Any = None

    async def listen(self) -> None:
        import psycopg

        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        self._listen_conn = conn
        try:
            await conn.execute(f'LISTEN "{self.channel}"')
            self.connected = True
            async for n in conn.notifies():
                self.on_message(n.payload)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
            self._listen_conn = None

    async def send(self, msgs: list[str]) -> None:
        import psycopg

        if self._send_conn is None or self._send_conn.closed:
            self._send_conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        payloads = [c for m in msgs for c in self.chunks(m, PG_LIMIT)]
        async with self._send_conn.transaction():
            async with self._send_conn.cursor() as cur:
                for p in payloads:
                    await cur.execute("SELECT pg_notify(%s, %s)", (self.channel, p))

    async def reset_sender(self) -> None:
        if self._send_conn is not None:
            with contextlib.suppress(Exception):
                await self._send_conn.close()
        self._send_conn = None

    async def close_connections(self) -> None:
        await self.reset_sender()
        if self._listen_conn is not None:
            with contextlib.suppress(Exception):
                await self._listen_conn.close()

    def send_sync(self, msgs: list[str]) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as c:
            for m in msgs:
                for p in self.chunks(m, PG_LIMIT):
                    c.execute("SELECT pg_notify(%s, %s)", (self.channel, p))


class RedisBus(RemoteBus):
    """Redis PUBLISH / SUBSCRIBE."""

    kind = "redis"

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(channel)
        self.url = url
        self._client: Any = None

    async def listen(self) -> None:
        import redis.asyncio as redis

        client = redis.from_url(self.url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(self.channel)
            self.connected = True
            while True:
                msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5.0)
                if msg is None:
                    await client.ping()
                    continue
                data = msg.get("data")
                if isinstance(data, bytes):
                    data = data.decode("utf-8", "replace")
                if isinstance(data, str):
                    self.on_message(data)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    async def send(self, msgs: list[str]) -> None:
        import redis.asyncio as redis

        if self._client is None:
            self._client = redis.from_url(self.url)
        async with self._client.pipeline(transaction=False) as pipe:
            for m in msgs:
                pipe.publish(self.channel, m)
            await pipe.execute()

    async def reset_sender(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
        self._client = None

    async def close_connections(self) -> None:
        await self.reset_sender()

    def send_sync(self, msgs: list[str]) -> None:
        import redis

        client = redis.from_url(self.url)
        try:
            for m in msgs:
                client.publish(self.channel, m)
        finally:
            client.close()


def _pg_url(settings: Any) -> str:
    url = str(settings.db or "")
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError("setting URBANOS_BUS: 'postgres' needs a PostgreSQL database. "
                          "Fix: set URBANOS_DB to a postgresql:// URL, or use bus=memory or a redis:// URL.")
    return url


def channel_for(settings: Any) -> str:
    """One channel per database (and schema): workers on the same database hear each other."""
    digest = hashlib.sha256(str(settings.db or settings.data_dir).encode()).hexdigest()[:16]
    return f"urbanos_events_{digest}"


def make_remote_bus(settings: Any, db: Any) -> Bus:
    """The bus named by the ``bus`` setting: ``postgres`` or a ``redis://`` URL."""
    kind = str(settings.bus)
    if kind == "postgres":
        return PostgresBus(_pg_url(settings), channel_for(settings))
    if kind.startswith(("redis://", "rediss://", "unix://")):
        return RedisBus(kind, channel_for(settings))
    raise ConfigError(f"setting URBANOS_BUS: {kind!r} is not a bus. Fix: use memory, postgres or a redis:// URL.")


__all__ = ["RemoteBus", "PostgresBus", "RedisBus", "make_remote_bus", "channel_for"]
