"""Live mode of the ``sta`` mirror: after a run, the process that ran it (holding the connector's lease) keeps a
subscription on the remote's MQTT broker to ``v1.1/Datastreams(<remote id>)/Observations`` of every mirrored
Datastream and writes what arrives (:mod:`urbanos.connectors.types.sta_live`).

* The broker's host goes through the outbound policy as every fetch does: resolved once per connection, every address
  checked, and the connection made to the checked addresses (a forbidden one stops the link with the reason in the
  run log). ``mqtt://``, ``mqtts://`` (TLS), ``ws://`` and ``wss://`` (MQTT over WebSocket) with paho-mqtt; the
  mapping's ``mqtt_username`` and ``mqtt_password`` (a token, for urbanos) are sent at CONNECT.
* Messages are written in batches: what has arrived while the previous write ran, up to ``BATCH`` per transaction,
  each batch with the connector's identity checked again and its Datastreams' marks moved.
* A lost connection is tried again after a back-off (doubling up to ``BACKOFF_MAX``, with jitter); once subscribed
  again, a pull run closes the gap (as after the first connection: what arrived between the run and the
  subscription). A run and the live writes of a connector never overlap (the runner's lock per connector).
* The link renews the connector's lease, so no other process runs the connector; it stops on shutdown, when the
  connector is removed, disabled or changed, when its owner loses the right to write, and when the lease moved.
* Its status (connected, since, messages, written, last error) is kept in ``connector_live`` for every process's views.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import secrets
import socket
import threading
from collections import deque
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from paho.mqtt import client as paho

from urbanos.connectors import store
from urbanos.connectors.types.sta import Options
from urbanos.connectors.types.sta_live import LiveWrites, Message
from urbanos.core.time import format_stored
from urbanos.errors import StorageError, UrbanosError
from urbanos.governance.outbound import OutboundError, OutboundRefused
from urbanos.governance.pinning import ssl_context

if TYPE_CHECKING:
    from urbanos.connectors.runner import Runner
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.connectors")

BATCH = 1000
"""Most messages written in one transaction."""
MAX_PENDING = 100_000
"""Messages waiting to be written before new ones are dropped (a pull run then closes the gap); their bytes are
bounded by ``connectors_max_bytes`` too."""
MAX_MESSAGE = 1024 * 1024
"""Largest message taken as an Observation."""
BACKOFF_MIN, BACKOFF_MAX = 0.5, 30.0
SUBSCRIBE_CHUNK = 50
PORTS = {"mqtt": 1883, "mqtts": 8883, "ws": 80, "wss": 443}
TOPIC = re.compile(r"Datastreams\((?:'((?:[^']|'')*)'|([^)]*))\)/Observations$")


def remote_of(topic: str) -> str | None:
    """The remote Datastream id a notification's topic names."""
    m = TOPIC.search(topic)
    if m is None:
        return None
    return m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)


def wanted(conn: store.Connector) -> bool:
    return conn.type == "sta" and conn.enabled and bool((conn.mapping or {}).get("live"))


def version_of(url: str) -> str:
    last = url.rstrip("/").rsplit("/", 1)[-1]
    return last if last in ("v1.0", "v1.1") else "v1.1"


class PinnedClient(paho.Client):
    """A paho client that connects to the addresses the outbound policy checked (not to what the name resolves to
    later); TLS and the WebSocket handshake still name the host."""

    def __init__(self, addresses: tuple[str, ...], **kw: Any) -> None:
        super().__init__(**kw)
        self.addresses = addresses

    def _create_socket_connection(self) -> socket.socket:
        error: OSError | None = None
        for address in self.addresses:
            try:
                return socket.create_connection((address, self._port), timeout=self._connect_timeout)
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")


class Link:
    """The live link of one connector (made and run by :class:`Live`)."""

    def __init__(self, live: Live, conn: store.Connector) -> None:
        self.live, self.runner = live, live.runner
        self.conn = conn
        o = Options.parse(conn.mapping)
        self.by = o.by
        self.url = str(o.mqtt)
        parts = urlsplit(self.url)
        self.scheme, self.host = parts.scheme, parts.hostname or ""
        self.port = parts.port or PORTS[self.scheme]
        self.path = (parts.path or "/mqtt") if self.scheme in ("ws", "wss") else ""
        self.username, self.password = o.mqtt_username, o.mqtt_password
        self.prefix = version_of(conn.url)
        self.status: dict[str, Any] = {"state": "connecting", "connected": False, "since": None, "messages": 0,
                                       "written": 0, "skipped": 0, "failed": 0, "reconnects": 0, "subscriptions": 0,
                                       "last_message_at": None, "last_error": None, "config": conn.updated_at}
        self.pending: deque[Message] = deque()
        self.pending_bytes = 0
        self.max_bytes = int(self.runner.settings.connectors_max_bytes)
        self.refused_subscriptions = 0
        self.saving: set[asyncio.Task[None]] = set()
        self.wake = asyncio.Event()
        self.halt = asyncio.Event()
        self.halt_thread = threading.Event()
        self.loop = asyncio.get_running_loop()
        self.client: PinnedClient | None = None
        self.topics: set[str] = set()
        self.tasks: list[asyncio.Task[Any]] = []
        self.pull_task: asyncio.Task[Any] | None = None
        self.gap = False
        self.saved = 0.0
        self.rng = random.Random()  # nosec B311 - jitter of reconnect delays, not a secret

    # -- life ------------------------------------------------------------------------------------------------
    def start(self) -> None:
        for work in (self._run(), self._flush(), self._keep()):
            self.tasks.append(self.loop.create_task(work))

    async def stop(self) -> None:
        self.halt.set()
        self.halt_thread.set()
        current = asyncio.current_task()
        for t in self.tasks:
            if t is not current:
                t.cancel()
        for t in self.tasks:
            if t is not current:
                with contextlib.suppress(BaseException):
                    await t
        if self.pull_task is not None and self.pull_task is not current and not self.pull_task.done():
            self.pull_task.cancel()
            with contextlib.suppress(BaseException):
                await self.pull_task

    def set(self, **values: Any) -> None:
        self.status.update(values)

    async def save(self) -> None:
        at = format_stored(self.runner.clock())
        self.saved = self.loop.time()
        status = dict(self.status)
        try:
            await self.runner.platform.db.write(
                lambda c: store.put_live(c, self.conn.id, self.runner.id, status, at))
        except Exception:  # noqa: BLE001 - the status is saved again at the next change
            log.warning("connector %s: saving the live status failed", self.conn.name, exc_info=True)

    async def give_up(self, reason: str) -> None:
        """Stop for good (until the connector changes or runs again) with ``reason`` in the run log."""
        log.warning("connector %s: live link stopped: %s", self.conn.name, reason)
        at = format_stored(self.runner.clock())
        with contextlib.suppress(Exception):
            await self.runner.platform.db.write(
                lambda c: store.log_run(c, self.conn.id, at, "live", "failed", [reason]))
        self.set(state="refused", connected=False, since=None, last_error=reason[:500])
        await self.save()
        await self.live.drop(self, release=True)

    # -- the connection ------------------------------------------------------------------------------------------
    async def _run(self) -> None:
        delay = BACKOFF_MIN
        while not self.halt.is_set():
            policy = self.runner.policies.get(self.conn.name) or self.runner.platform.gate.outbound
            try:
                addresses = await asyncio.to_thread(policy.addresses, self.host, self.port, self.url)
            except OutboundRefused as exc:
                await self.give_up(f"live: {exc.message}")
                return
            except OutboundError as exc:
                self.set(last_error=exc.message[:500])
            else:
                try:
                    topics = await self._wanted_topics()
                    self.refused_subscriptions = 0
                    refused = await asyncio.to_thread(self._session, addresses, topics)
                except Exception as exc:  # noqa: BLE001 - the link outlives one failed connection, as a run does
                    log.warning("connector %s: live connection failed", self.conn.name, exc_info=True)
                    self.set(last_error=f"the connection failed ({type(exc).__name__})")
                    refused = None
                if refused:
                    await self.give_up(f"live: the broker {self.host}:{self.port} refused the connection: {refused}")
                    return
                if self.status["since"] is not None:
                    delay = BACKOFF_MIN
            if self.halt.is_set():
                return
            self.set(state="disconnected", connected=False, since=None, reconnects=self.status["reconnects"] + 1)
            await self.save()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.halt.wait(), delay * (1 + self.rng.uniform(0, 0.5)))
            delay = min(BACKOFF_MAX, delay * 2)

    def _session(self, addresses: tuple[str, ...], topics: list[str]) -> str | None:
        """One connection, in a worker thread, until it drops or the link stops; the broker's reason when it refused
        the CONNECT (credentials), else None."""
        transport = "websockets" if self.scheme in ("ws", "wss") else "tcp"
        client = PinnedClient(addresses, callback_api_version=paho.CallbackAPIVersion.VERSION2,
                              client_id=f"urbanos-mirror-{secrets.token_hex(6)}", transport=transport,
                              clean_session=True)
        if transport == "websockets":
            client.ws_set_options(path=self.path)
        if self.scheme in ("mqtts", "wss"):
            client.tls_set_context(ssl_context())
        if self.username or self.password:
            client.username_pw_set(self.username or "token", self.password)
        refused: list[str] = []
        waiting: set[int] = set()

        def connected(cl: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                refused.append(str(reason))
                return
            for i in range(0, len(topics), SUBSCRIBE_CHUNK):
                rc, mid = cl.subscribe([(t, 1) for t in topics[i:i + SUBSCRIBE_CHUNK]])
                if rc == paho.MQTT_ERR_SUCCESS and mid is not None:
                    waiting.add(mid)
            self.topics = set(topics)
            if not waiting:
                self.loop.call_soon_threadsafe(self._up, 0)

        def subscribed(_c: Any, _u: Any, mid: int, codes: Any, _p: Any) -> None:
            bad = sum(1 for code in codes if code.is_failure)
            first = mid in waiting  # of the subscriptions made at connecting (not of a refresh)
            waiting.discard(mid)
            self.loop.call_soon_threadsafe(self._subscribed, bad, first and not waiting)

        def message(_c: Any, _u: Any, msg: Any) -> None:
            self.loop.call_soon_threadsafe(self._arrive, msg.topic, msg.payload)

        client.on_connect, client.on_subscribe, client.on_message = connected, subscribed, message
        self.client = client
        try:
            client.connect(self.host, self.port, keepalive=30)
            while not self.halt_thread.is_set() and not refused:
                if client.loop(timeout=0.25) != paho.MQTT_ERR_SUCCESS:
                    break
            with contextlib.suppress(Exception):
                client.disconnect()
        except (OSError, ValueError) as exc:
            error = f"cannot connect to {self.url[:200]}: {exc}"[:500]
            self.loop.call_soon_threadsafe(lambda: self.set(last_error=error))
        finally:
            self.client = None
            with contextlib.suppress(Exception):
                sock = client.socket()
                if sock is not None:
                    sock.close()
        return refused[0] if refused else None

    def _subscribed(self, bad: int, done: bool) -> None:
        if bad:
            self.refused_subscriptions += bad
            self.set(last_error=f"the remote broker refused {bad} subscription(s) (its limit of subscriptions per "
                                "client, or Datastreams the mirror may not read)")
        if done:
            self._up(self.refused_subscriptions)
        elif bad and self.status["since"] is not None:
            self.set(subscriptions=self.status["subscriptions"] - bad)

    def _up(self, bad: int) -> None:
        """Subscribed: connected from now on, and a pull run closes the gap before."""
        self.set(state="connected", connected=True, since=format_stored(self.runner.clock()),
                 subscriptions=len(self.topics) - bad)
        saving = self.loop.create_task(self.save())
        self.saving.add(saving)
        saving.add_done_callback(self.saving.discard)
        self.pull()

    def _arrive(self, topic: str, payload: bytes) -> None:
        remote = remote_of(topic)
        if remote is None:
            return
        self.status["messages"] += 1
        self.status["last_message_at"] = format_stored(self.runner.clock())
        if len(payload) > MAX_MESSAGE:
            self.set(failed=self.status["failed"] + 1,
                     last_error=f"a message of {len(payload)} bytes on {topic[:200]}: more than an Observation")
            return
        if len(self.pending) >= MAX_PENDING or self.pending_bytes + len(payload) > self.max_bytes:
            self.gap = True  # dropped: a pull run copies it
            return
        self.pending.append((remote, payload))
        self.pending_bytes += len(payload)
        self.wake.set()

    async def _wanted_topics(self) -> list[str]:
        cid = self.conn.id
        keys = await self.runner.platform.db.read(lambda c: store.items(c, cid, "sta:Datastream:"))
        return [self.topic(k.split(":", 2)[2]) for k in sorted(keys)]

    def topic(self, remote: str) -> str:
        ident = remote if remote.isdigit() else "'" + remote.replace("'", "''") + "'"
        return f"{self.prefix}/Datastreams({ident})/Observations"

    async def refresh(self) -> None:
        """Subscribe to the Datastreams a run added."""
        client = self.client
        if client is None:
            return
        new = [t for t in await self._wanted_topics() if t not in self.topics]
        for i in range(0, len(new), SUBSCRIBE_CHUNK):
            client.subscribe([(t, 1) for t in new[i:i + SUBSCRIBE_CHUNK]])
        self.topics |= set(new)
        if new:
            self.set(subscriptions=self.status["subscriptions"] + len(new))

    # -- gaps: a pull run -----------------------------------------------------------------------------------------
    def pull(self) -> None:
        if self.halt.is_set() or (self.pull_task is not None and not self.pull_task.done()):
            self.gap = True
            return
        self.gap = False
        self.pull_task = self.loop.create_task(self._pull())

    async def _pull(self) -> None:
        try:
            await self.runner.run(self.conn.name, trigger="live")
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the next reconnect or scheduled run tries again
            log.warning("connector %s: the live link's pull run failed", self.conn.name, exc_info=True)
        if self.gap and not self.halt.is_set():
            self.loop.call_later(1.0, self.pull)

    # -- writing ------------------------------------------------------------------------------------------------
    async def _flush(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.pending:
                batch = [self.pending.popleft() for _ in range(min(BATCH, len(self.pending)))]
                self.pending_bytes -= sum(len(p) for _, p in batch)
                if not await self._write(batch):
                    return
            if self.gap:
                self.pull()

    async def _write(self, batch: list[Message]) -> bool:
        """Write one batch; False when the link stopped for good."""
        writes = LiveWrites(batch, self.by)
        try:
            async with self.runner.lock(self.conn.id):
                conn = await self.runner.platform.db.read(lambda c: store.get_by_id(c, self.conn.id))
                if conn is None:
                    await self.live.drop(self, release=False)
                    return False
                counts = await self.runner.write(conn, writes)
        except StorageError as exc:
            self.set(last_error=f"writing failed: {exc.message}"[:500])
            self.gap = True  # the marks did not move: the next pull run copies them
            return True
        except UrbanosError as exc:
            await self.give_up(f"live: {exc.message}")
            return False
        except Exception as exc:  # noqa: BLE001 - a bug fails this batch, never the link; a run copies the batch
            log.exception("connector %s: a live batch failed", self.conn.name)
            self.set(last_error=f"writing failed (internal error {type(exc).__name__})")
            self.gap = True
            return True
        self.set(written=self.status["written"] + counts.created, skipped=self.status["skipped"] + counts.unchanged,
                 failed=self.status["failed"] + counts.failed)
        if counts.errors:
            self.set(last_error=counts.errors[-1])
        if self.loop.time() - self.saved > 1.0:
            await self.save()
        return True

    # -- the lease, and the connector changing or going away ---------------------------------------------------
    async def _keep(self) -> None:
        seconds = float(self.runner.settings.connectors_lease_seconds)
        while True:
            await asyncio.sleep(max(0.5, seconds / 3))
            until = format_stored(self.runner.clock() + timedelta(seconds=seconds))

            def renew(c: Connection, until: str = until) -> tuple[bool, store.Connector | None]:
                return store.renew_lease(c, self.conn.id, self.runner.id, until), store.get_by_id(c, self.conn.id)

            try:
                held, conn = await self.runner.platform.db.write(renew)
            except Exception:  # noqa: BLE001 - retried at the next renewal; the lease runs out only if all fail
                log.warning("connector %s: live lease renewal failed", self.conn.name, exc_info=True)
                continue
            if conn is None or not held:
                log.info("connector %s: live link stopped (%s)", self.conn.name,
                         "removed" if conn is None else "the lease moved to another process")
                await self.live.drop(self, release=False)
                return
            if not wanted(conn) or conn.updated_at != self.conn.updated_at or conn.url != self.conn.url:
                self.set(state="stopped", connected=False)
                await self.save()
                await self.live.drop(self, release=True)
                return
            await self.save()


class Live:
    """The live links of one process (its runner's)."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.links: dict[int, Link] = {}

    def holding(self, conn_id: int) -> bool:
        return conn_id in self.links

    def status(self, conn_id: int) -> dict[str, Any] | None:
        link = self.links.get(conn_id)
        return dict(link.status, owner=self.runner.id) if link is not None else None

    async def after_run(self, conn: store.Connector) -> None:
        """After a run that did not fail: start the connector's link, or subscribe the one running to new
        Datastreams."""
        link = self.links.get(conn.id)
        if link is not None:
            await link.refresh()
            return
        if not wanted(conn):
            return
        saved = await self.runner.platform.db.read(lambda c: store.live(c, conn.id))
        if saved and saved.get("state") == "refused" and saved.get("config") == conn.updated_at:
            return  # refused before with this configuration: the run log says why; a change tries again
        link = Link(self, conn)
        self.links[conn.id] = link
        await link.save()
        link.start()

    async def drop(self, link: Link, *, release: bool) -> None:
        if self.links.get(link.conn.id) is link:
            del self.links[link.conn.id]
        await link.stop()
        if release and link.conn.id not in self.runner.active:
            cid, owner = link.conn.id, self.runner.id
            with contextlib.suppress(Exception):
                await self.runner.platform.db.write(lambda c: store.release_lease(c, cid, owner))

    async def stop(self, conn_id: int, *, release: bool = True) -> None:
        link = self.links.get(conn_id)
        if link is not None:
            link.set(state="stopped", connected=False)
            await link.save()
            await self.drop(link, release=release)

    async def stop_all(self) -> None:
        for conn_id in list(self.links):
            await self.stop(conn_id)


__all__ = ["Live", "Link", "PinnedClient", "remote_of", "wanted", "BATCH"]
