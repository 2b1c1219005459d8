"""An embedded MQTT 3.1.1 broker on asyncio, for TCP and WebSocket transports.

The broker knows MQTT only. What a publish means, who may subscribe to what and who a client is are decided by a
:class:`~urbanos.sensing.mqtt.hooks.Hooks` object (the SensorThings layer). The broker keeps the subscriptions,
the persistent sessions and the retained messages; each client is a :class:`~urbanos.sensing.mqtt.session.Session`
(its packets and its bounded outgoing queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable

from urbanos.sensing.mqtt import codec
from urbanos.sensing.mqtt.hooks import Conn, Hooks, Item, Refused, TcpConn, client_address
from urbanos.sensing.mqtt.session import Session

log = logging.getLogger("urbanos.mqtt")


class Broker:
    def __init__(self, hooks: Hooks, *, queue_size: int = 1000, max_packet: int = 256 * 1024,
                 max_subscriptions: int = 100, max_connections: int = 10000, connect_timeout: float = 10.0,
                 kick_after: int = 0, session_expiry: float = 3600.0, max_retained: int = 1000) -> None:
        self.hooks = hooks
        self.queue_size = queue_size
        self.max_packet = max_packet
        self.max_subscriptions = max_subscriptions
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self.kick_after = kick_after
        self.session_expiry = session_expiry
        self.max_retained = max_retained
        self.parked: dict[str, tuple[Session, float]] = {}  # persistent sessions while disconnected
        self.retained: dict[str, tuple[bytes, int]] = {}  # topic -> (payload, QoS)
        self.sessions: dict[str, Session] = {}
        self.exact: dict[str, dict[Session, int]] = {}
        self.wild: dict[str, dict[Session, int]] = {}
        self.by_base: dict[str, set[str]] = {}  # exact filter without its ?query -> the exact filters
        self.listeners: list[asyncio.Server] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.on_change: Callable[[], None] | None = None
        self._wild_hits: dict[str, list[tuple[str, dict[Session, int]]]] = {}

    # -- subscriptions --------------------------------------------------------------------------
    def subscribe(self, session: Session, f: str, qos: int) -> None:
        wild = "+" in f or "#" in f
        table = self.wild if wild else self.exact
        if wild and f not in table:
            self._wild_hits.clear()
        table.setdefault(f, {})[session] = qos
        if not wild:
            self.by_base.setdefault(f.partition("?")[0], set()).add(f)
        session.subscriptions[f] = qos

    def unsubscribe(self, session: Session, f: str) -> None:
        session.subscriptions.pop(f, None)
        for table in (self.exact, self.wild):
            subs = table.get(f)
            if subs is not None:
                subs.pop(session, None)
                if not subs:
                    del table[f]
                    if table is self.wild:
                        self._wild_hits.clear()
                    base = f.partition("?")[0]
                    forms = self.by_base.get(base)
                    if forms is not None and table is self.exact:
                        forms.discard(f)
                        if not forms:
                            del self.by_base[base]

    # -- persistent sessions and retained messages ----------------------------------------------
    def park(self, session: Session) -> None:
        """Keep a disconnected persistent session (subscriptions and QoS 1 messages), bounded in time and number."""
        if self.sessions.get(session.client_id) is session:
            del self.sessions[session.client_id]
        session.parked = True
        session.out = deque(i for i in session.out if not isinstance(i, bytes) and i[2])
        self.expire()
        while len(self.parked) >= self.max_connections:
            oldest = next(iter(self.parked))
            self.forget(self.parked.pop(oldest)[0])
            self.hooks.count("session_expired", "too_many")
        self.parked[session.client_id] = (session, time.monotonic())

    def unpark(self, client_id: str) -> Session | None:
        self.expire()
        found = self.parked.pop(client_id, None)
        if found is None:
            return None
        found[0].parked = False
        return found[0]

    def drop_parked(self, session: Session) -> None:
        """Forget a kept (disconnected, persistent) session: its credentials no longer hold."""
        found = self.parked.get(session.client_id)
        if found is not None and found[0] is session:
            del self.parked[session.client_id]
        session.parked = False
        session.out.clear()
        session.credentials = None
        self.forget(session)

    def expire(self) -> None:
        limit = time.monotonic() - self.session_expiry
        for cid, (s, since) in list(self.parked.items()):
            if since < limit:
                del self.parked[cid]
                s.parked = False
                self.forget(s)
                self.hooks.count("session_expired", "timeout")

    def retain(self, topic: str, payload: bytes, qos: int) -> bool:
        """Keep (or with an empty payload, clear) the retained message of ``topic`` (3.3.1.3)."""
        if not payload:
            self.retained.pop(topic, None)
            return True
        if topic not in self.retained and len(self.retained) >= self.max_retained:
            self.hooks.count("retain_refused", "too_many")
            log.warning("mqtt: %d retained messages already; not retaining %r", self.max_retained, topic)
            return False
        self.retained[topic] = (payload, min(qos, 1))
        return True

    def forget(self, session: Session) -> None:
        for f in list(session.subscriptions):
            self.unsubscribe(session, f)
        if self.sessions.get(session.client_id) is session:
            del self.sessions[session.client_id]

    def wild_matches(self, name: str) -> list[tuple[str, dict[Session, int]]]:
        """Wildcard filters whose topic part (before any ``?``) matches ``name``, with their subscribers.

        Remembered per topic name until a wildcard filter is added or removed, so repeated names (every
        Observation of a datastream) cost one dict look-up however many wildcard filters there are.
        """
        hits = self._wild_hits.get(name)
        if hits is None:
            if len(self._wild_hits) >= 10000:
                self._wild_hits.clear()
            hits = self._wild_hits[name] = [(f, subs) for f, subs in self.wild.items()
                                            if codec.matches(f.partition("?")[0], name)]
        return hits

    def subscribers(self, topic: str) -> dict[Session, tuple[int, str]]:
        """Sessions whose filters match ``topic``: session -> (granted QoS, the matching filter)."""
        out: dict[Session, tuple[int, str]] = {}
        subs = self.exact.get(topic)
        if subs:
            for s, q in subs.items():
                out[s] = (q, topic)
        for f, subs in self.wild.items():
            if codec.matches(f, topic):
                for s, q in subs.items():
                    if s not in out or out[s][0] < q:
                        out[s] = (q, f)
        return out

    def route(self, topic: str, payload: bytes, qos: int) -> int:
        """Deliver a message to every matching subscriber; returns the number of deliveries."""
        targets = self.subscribers(topic)
        if not targets:
            return 0
        qos0: bytes | None = None
        for s, (q, _f) in targets.items():
            eff = min(q, qos)
            if eff == 0:
                if qos0 is None:
                    qos0 = codec.publish(topic, payload)
                s.enqueue(qos0)
            else:
                s.enqueue((topic, payload, eff))
        return len(targets)

    # -- transports -----------------------------------------------------------------------------
    async def serve_conn(self, conn: Conn) -> None:
        session = Session(self, conn)
        await session.run()

    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)  # type: ignore[arg-type]
        try:
            await self.serve_conn(TcpConn(reader, writer))
        finally:
            if task is not None:
                self.tasks.discard(task)  # type: ignore[arg-type]

    async def listen(self, host: str, port: int) -> int:
        server = await asyncio.start_server(self._on_tcp, host, port, limit=self.max_packet + 16)
        self.listeners.append(server)
        sock = server.sockets[0]
        return int(sock.getsockname()[1])

    async def close(self) -> None:
        for server in self.listeners:
            server.close()
        for s in list(self.sessions.values()):
            await s.close()
        for t in list(self.tasks):
            t.cancel()
        for server in self.listeners:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
        self.listeners.clear()

__all__ = ["Broker", "Session", "Hooks", "Refused", "Conn", "TcpConn", "Item", "client_address"]
