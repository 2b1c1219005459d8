"""An embedded MQTT 3.1.1 broker on asyncio, for TCP and WebSocket transports.

The broker knows MQTT only. What a publish means, who may subscribe to what and
who a client is are decided by a :class:`Hooks` object (the SensorThings layer).

Back-pressure: every session has a bounded outgoing queue. When it is full the
oldest queued message is dropped (a subscriber to live sensor values wants the
newest ones) and the drop is counted; a session that overflows ``kick_after``
times in a row without its queue ever draining is disconnected. Delivery never
waits for a subscriber, so a slow or dead subscriber cannot slow ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from urbanos.sensing.mqtt import codec
from urbanos.sensing.mqtt.codec import Packet, ProtocolError, Publish

log = logging.getLogger("urbanos.mqtt")


class Conn(Protocol):
    """A byte stream: TCP or WebSocket."""

    peer: str

    async def read(self) -> bytes: ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


class Refused(Exception):
    """Connection refused with a CONNACK return code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


MAX_PENDING = 64  # publishes of one session being handled at once (creates); more wait, which slows its reading


Item = bytes | tuple[Any, ...]  # an encoded packet, or (topic, payload, QoS[, retain]) to number when sent


def _subject(identity: Any) -> Any:
    return getattr(identity, "subject", None)


class Hooks:
    """What the broker asks its owner. Override in the SensorThings layer."""

    async def authenticate(self, username: str | None, password: bytes | None, peer: str = "") -> Any:
        """The identity of a connecting client, or :class:`Refused`. ``peer`` is the client's address
        (:func:`client_address` of the transport's peer), for limits on failed authentications."""
        return None

    def may_take_over(self, held: Any, new: Any) -> bool:
        """May a client of identity ``new`` take over the client id of a session (connected, or kept while
        disconnected) of identity ``held``? Refused clients get CONNACK 0x05 and the session is untouched."""
        return _subject(held) == _subject(new)

    async def authorize_subscribe(self, session: Session, topic_filter: str) -> bool:
        return True

    def on_publish(self, session: Session, msg: Publish) -> Awaitable[Any] | None:
        """Handle a client's PUBLISH: None when done at once, or an awaitable for work that takes longer.

        The broker runs awaitables of one session concurrently (up to ``MAX_PENDING``) and acknowledges
        QoS 1/2 publishes in the order they arrived (4.6.0-2) once each has finished.
        """
        if msg.retain:
            session.broker.retain(msg.topic, msg.payload, msg.qos)
        session.broker.route(msg.topic, msg.payload, msg.qos)
        return None

    def count(self, what: str, reason: str = "", n: int = 1) -> None:
        """Count ``n`` broker events (connections, refusals, drops) for /metrics."""


def client_address(peer: str) -> str:
    """The network address in a transport's ``peer`` ("tcp:127.0.0.1:5000" or "ws:[::1]:5000" give the
    host part), for per-address limits; the peer itself when it has no address."""
    _kind, sep, rest = peer.partition(":")
    if not sep or not rest:
        return peer
    host = rest.rpartition(":")[0] or rest
    return host.strip("[]")


class TcpConn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        peer = writer.get_extra_info("peername")
        self.peer = f"tcp:{peer[0]}:{peer[1]}" if peer else "tcp"

    async def read(self) -> bytes:
        return await self.reader.read(65536)

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class Session:
    """One connected client."""

    def __init__(self, broker: Broker, conn: Conn) -> None:
        self.broker = broker
        self.conn = conn
        self.client_id = ""
        self.identity: Any = None
        # (user name, password) given at CONNECT, to verify again when credentials change (a revoke, a
        # membership change); never logged nor shown (``__repr__`` leaves it out)
        self.credentials: tuple[str | None, bytes] | None = None
        self.subscriptions: dict[str, int] = {}
        self.out: deque[Item] = deque()
        self.wake = asyncio.Event()
        self.ids = itertools.cycle(range(1, 65536))
        self.inflight: dict[int, tuple[str, bytes, int]] = {}  # sent QoS 1/2 messages awaiting their ack
        self.persistent = False  # clean_session = 0: kept by the broker while disconnected
        self.parked = False  # disconnected, its subscriptions and QoS 1 messages kept
        self.taken_over = False  # another connection with the same client id took this session's state
        self.overflows = 0
        self.closed = False
        self.will: tuple[str, bytes, int, bool] | None = None
        self.sender: asyncio.Task[None] | None = None
        self.pending: deque[Packet] = deque()
        self.handling: deque[tuple[asyncio.Future[Any] | None, Publish]] = deque()

    def __repr__(self) -> str:
        return f"<Session {self.client_id or '?'} {self.conn.peer}>"

    # -- outgoing -------------------------------------------------------------------------------
    def enqueue(self, item: Item) -> None:
        if self.closed:
            if not self.parked or isinstance(item, bytes) or not item[2]:
                return  # a disconnected session keeps QoS 1 messages only
        self.out.append(item)
        if len(self.out) > self.broker.queue_size:
            self.out.popleft()
            self._overflowed(1)
        self.wake.set()

    def enqueue_many(self, items: list[Item]) -> None:
        """Queue several messages at once (one overflow check, one wake-up)."""
        if self.closed:
            if not self.parked:
                return
            items = [i for i in items if not isinstance(i, bytes) and i[2]]
        if not items:
            return
        out = self.out
        out.extend(items)
        over = len(out) - self.broker.queue_size
        if over > 0:
            for _ in range(over):
                out.popleft()
            self._overflowed(over)
        self.wake.set()

    def _overflowed(self, n: int) -> None:
        before = self.overflows
        self.overflows += n
        self.broker.hooks.count("dropped", "queue_full", n)
        if before == 0 or before // 1000 != self.overflows // 1000:
            log.warning("mqtt: queue of %r full, dropped the oldest message (%d so far)", self, self.overflows)
        if self.broker.kick_after and self.overflows >= self.broker.kick_after and not self.closed and not self.parked:
            log.warning("mqtt: disconnecting %r: it does not read its messages", self)
            self.broker.hooks.count("disconnected", "slow_subscriber")
            self.closed = True
            task = asyncio.get_running_loop().create_task(self.close(force=True))
            self.broker.tasks.add(task)
            task.add_done_callback(self.broker.tasks.discard)

    def send_raw(self, data: bytes) -> None:
        self.enqueue(data)

    async def _send_loop(self) -> None:
        try:
            while not self.closed:
                await self.wake.wait()
                self.wake.clear()
                while self.out:
                    chunk: list[bytes] = []
                    size = 0
                    while self.out and size < 262144:
                        item = self.out.popleft()
                        if isinstance(item, bytes):
                            chunk.append(item)
                            size += len(item)
                            continue
                        topic, payload, qos = item[0], item[1], item[2]
                        retain = len(item) > 3 and bool(item[3])
                        if qos:
                            pid = next(self.ids)
                            if len(self.inflight) >= 65000:
                                self.inflight.clear()
                            self.inflight[pid] = (topic, payload, qos)
                            pkt = codec.publish(topic, payload, qos, pid, retain=retain)
                        else:
                            pkt = codec.publish(topic, payload, retain=retain)
                        chunk.append(pkt)
                        size += len(pkt)
                    await self.conn.write(b"".join(chunk))
                self.overflows = 0
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        except Exception:  # noqa: BLE001
            log.exception("mqtt: sending to %r failed", self)
        finally:
            self.closed = True

    # -- lifecycle ------------------------------------------------------------------------------
    async def close(self, force: bool = False) -> None:
        if self.closed and self.sender is None and not force:
            return
        self.closed = True
        self.wake.set()
        await self.conn.close()

    async def end(self) -> None:
        """End this session because its credentials no longer hold: it is not kept for a later resume, its
        will is not published and nothing still queued is sent; the network connection is closed (the only
        way MQTT 3.1.1 lets a server end a session)."""
        self.persistent = False
        self.will = None
        self.credentials = None
        self.out.clear()
        self.broker.forget(self)
        await self.close(force=True)

    async def run(self) -> None:
        broker = self.broker
        reader = codec.Reader(broker.max_packet)
        graceful = False
        try:
            first = await asyncio.wait_for(self._next(reader), broker.connect_timeout)
            if first is None:
                return
            if first.type != codec.CONNECT:
                raise ProtocolError("the first packet must be CONNECT")
            codec.check_flags(first)
            if not await self._connect(codec.parse_connect(first)):
                return
            self.sender = asyncio.get_running_loop().create_task(self._send_loop())
            keepalive = self._keepalive
            while not self.closed:
                timeout = keepalive * 1.5 if keepalive else None
                pkt = await asyncio.wait_for(self._next(reader), timeout)
                if pkt is None:
                    break
                if pkt.type == codec.DISCONNECT:
                    graceful = True
                    break
                await self._handle(pkt)
        except TimeoutError:
            log.info("mqtt: %r timed out", self)
            broker.hooks.count("disconnected", "timeout")
        except ProtocolError as exc:
            log.warning("mqtt: closing %r: %s", self, exc)
            broker.hooks.count("rejected", "protocol_error")
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            graceful = True
        except Exception:  # noqa: BLE001
            log.exception("mqtt: session %r failed", self)
        finally:
            if self.taken_over:
                pass  # the new connection of this client id has its state
            elif self.persistent and self.client_id and broker.session_expiry > 0:
                broker.park(self)
            else:
                broker.forget(self)
            if self.sender is not None and not self.sender.done():
                # let queued messages go out on a graceful disconnect, then stop
                self.closed = True
                self.wake.set()
                self.sender.cancel()
            await self.close()
            if self.will and not graceful:
                t, payload, qos, retain = self.will
                with contextlib.suppress(Exception):
                    work = broker.hooks.on_publish(self, Publish(t, payload, min(qos, 1), retain))
                    if work is not None:
                        await work

    _keepalive = 0

    async def _next(self, reader: codec.Reader) -> Packet | None:
        while True:
            if self.pending:
                return self.pending.popleft()
            self.pending.extend(reader.packets())
            if self.pending:
                continue
            data = await self.conn.read()
            if not data:
                return None
            reader.feed(data)

    async def _connect(self, c: codec.Connect) -> bool:
        broker = self.broker
        if c.protocol_level not in (3, 4):
            await self.conn.write(codec.connack(codec.BAD_PROTOCOL))
            broker.hooks.count("refused", "protocol_level")
            return False
        if not c.client_id:
            if not c.clean_session:
                await self.conn.write(codec.connack(codec.ID_REJECTED))
                return False
            c.client_id = "urbanos-" + secrets.token_hex(6)
        try:
            self.identity = await broker.hooks.authenticate(c.username, c.password, client_address(self.conn.peer))
        except Refused as exc:
            log.info("mqtt: refused %s from %s: %s", c.client_id, self.conn.peer, exc)
            broker.hooks.count("refused", "credentials")
            await self.conn.write(codec.connack(exc.code))
            return False
        except Exception as exc:  # noqa: BLE001 - whatever the credentials were, the client gets its CONNACK
            # one line, without the exception's text (it may quote the credentials)
            log.warning("mqtt: refused %s from %s: its credentials could not be checked (%s)", c.client_id,
                        self.conn.peer, type(exc).__name__)
            log.debug("mqtt: checking the credentials of %s failed", c.client_id, exc_info=True)
            broker.hooks.count("refused", "credentials_error")
            await self.conn.write(codec.connack(codec.NOT_AUTHORIZED))
            return False
        self.credentials = (c.username, c.password) if c.password else None
        if len(broker.sessions) >= broker.max_connections:
            broker.hooks.count("refused", "max_connections")
            await self.conn.write(codec.connack(codec.UNAVAILABLE))
            return False
        # A client id already in use (a connected session, or a persistent one kept while disconnected) is taken
        # over only by a client the hooks allow (the same identity). MQTT 3.1.1 has the server close the older
        # connection (3.1.4-2); whether the newcomer may connect at all is the server's authorisation decision
        # (CONNACK 0x05), so another identity cannot end a session nor take its kept messages.
        broker.expire()
        kept = broker.parked.get(c.client_id)
        for holder in (broker.sessions.get(c.client_id), kept[0] if kept else None):
            if holder is not None and not broker.hooks.may_take_over(holder.identity, self.identity):
                log.info("mqtt: refused %s from %s: the client id is held by another identity", c.client_id,
                         self.conn.peer)
                broker.hooks.count("refused", "client_id_in_use")
                await self.conn.write(codec.connack(codec.NOT_AUTHORIZED))
                return False
        # from the check to the registration nothing awaits, so two connections cannot both pass it
        self.client_id = c.client_id
        self._keepalive = c.keepalive
        self.will = c.will
        self.persistent = not c.clean_session
        old = broker.sessions.pop(c.client_id, None)
        if old is not None:  # takeover (3.1.4-2): the older connection is closed below
            old.taken_over = True
        previous = broker.unpark(c.client_id) or old
        present = False
        if previous is not None:
            same = _subject(previous.identity) == _subject(self.identity)
            if self.persistent and previous.persistent and same:
                self._adopt(previous)
                present = True
            else:
                broker.forget(previous)
        broker.sessions[c.client_id] = self
        if old is not None:
            await old.close()
        broker.hooks.count("connected", "resumed" if present else "")
        await self.conn.write(codec.connack(codec.ACCEPTED, session_present=present))
        return True

    def _adopt(self, previous: Session) -> None:
        """Take over a persistent session: its subscriptions, unacknowledged and queued QoS 1 messages."""
        broker = self.broker
        for f, q in list(previous.subscriptions.items()):
            broker.unsubscribe(previous, f)
            broker.subscribe(self, f, q)
        self.ids = previous.ids
        self.inflight = previous.inflight
        # unacknowledged messages go again first, with DUP set (4.4)
        again: list[Item] = [codec.publish(t, p, q, pid, dup=True) for pid, (t, p, q) in self.inflight.items()]
        kept: list[Item] = [i for i in previous.out if not isinstance(i, bytes) and i[2]]
        self.out.extend(again + kept)
        if self.out:
            self.wake.set()

    async def _handle(self, pkt: Packet) -> None:
        t = pkt.type
        codec.check_flags(pkt)  # malformed: the connection is closed (3.6.1-1, 3.8.1-1, 3.10.1-1)
        if t == codec.PUBLISH:
            msg = codec.parse_publish(pkt)
            if not codec.valid_topic_name(msg.topic):
                raise ProtocolError(f"invalid topic name {msg.topic!r}")
            try:
                work = self.broker.hooks.on_publish(self, msg)
            except Exception:  # noqa: BLE001 - a failing publish never ends the session
                log.exception("mqtt: %r: handling a publish to %r failed", self, msg.topic)
                self.broker.hooks.count("publish_rejected", "error")
                work = None
            if work is None:
                if not self.handling:
                    self._ack(msg)
                elif msg.qos:
                    self.handling.append((None, msg))
                return
            task = asyncio.ensure_future(work)
            self.handling.append((task, msg))
            task.add_done_callback(self._handled)
            if len(self.handling) >= MAX_PENDING:
                first = self.handling[0][0]
                if first is not None:
                    await asyncio.wait({first})
        elif t == codec.PUBACK or t == codec.PUBCOMP:
            self.inflight.pop(codec.packet_id(pkt), None)
        elif t == codec.PUBREC:
            self.send_raw(codec.ack(codec.PUBREL, codec.packet_id(pkt)))
        elif t == codec.PUBREL:
            self.send_raw(codec.ack(codec.PUBCOMP, codec.packet_id(pkt)))
        elif t == codec.SUBSCRIBE:
            await self._subscribe(codec.parse_subscribe(pkt))
        elif t == codec.UNSUBSCRIBE:
            u = codec.parse_unsubscribe(pkt)
            for f in u.topics:
                self.broker.unsubscribe(self, f)
            self.send_raw(codec.ack(codec.UNSUBACK, u.packet_id))
        elif t == codec.PINGREQ:
            self.send_raw(codec.PINGRESP_BYTES)
        else:
            raise ProtocolError(f"unexpected packet type {t}")

    def _retained_for(self, f: str, granted: int) -> list[Item]:
        """Retained messages matching a new subscription, flagged as retained (3.3.1-6, 3.3.1-8)."""
        out: list[Item] = []
        for topic, (payload, qos) in self.broker.retained.items():
            if codec.matches(f, topic):
                q = min(qos, granted)
                out.append((topic, payload, q, True) if q else codec.publish(topic, payload, retain=True))
        return out

    def _ack(self, msg: Publish) -> None:
        if msg.qos == 1 and msg.packet_id is not None:
            self.send_raw(codec.ack(codec.PUBACK, msg.packet_id))
        elif msg.qos == 2 and msg.packet_id is not None:
            self.send_raw(codec.ack(codec.PUBREC, msg.packet_id))

    def _handled(self, task: asyncio.Future[Any]) -> None:
        """A publish finished: acknowledge every finished one at the head, keeping the arrival order."""
        if not task.cancelled() and task.exception() is not None:
            log.error("mqtt: %r: handling a publish failed: %r", self, task.exception())
            self.broker.hooks.count("publish_rejected", "error")
        h = self.handling
        while h and (h[0][0] is None or h[0][0].done()):
            _t, msg = h.popleft()
            self._ack(msg)

    async def _authorize(self, f: str) -> bool:
        try:
            return bool(await self.broker.hooks.authorize_subscribe(self, f))
        except Exception:  # noqa: BLE001 - a failing check refuses this subscription only
            log.exception("mqtt: %r: checking the subscription to %r failed", self, f)
            self.broker.hooks.count("subscribe_refused", "error")
            return False

    async def _subscribe(self, s: codec.Subscribe) -> None:
        codes: list[int] = []
        retained: list[Item] = []
        for f, qos in s.topics:
            granted = codec.SUBACK_FAILURE
            if not codec.valid_filter(f):
                log.info("mqtt: %r: invalid topic filter %r", self, f)
                self.broker.hooks.count("subscribe_refused", "invalid_filter")
            elif f not in self.subscriptions and len(self.subscriptions) >= self.broker.max_subscriptions:
                log.warning("mqtt: %r: more than %d subscriptions, refused %r", self, self.broker.max_subscriptions, f)
                self.broker.hooks.count("subscribe_refused", "too_many")
            elif await self._authorize(f):
                granted = min(qos, 1)
                self.broker.subscribe(self, f, granted)
                if self.broker.retained:
                    retained.extend(self._retained_for(f, granted))
            codes.append(granted)
        self.send_raw(codec.suback(s.packet_id, codes))
        if retained:
            self.enqueue_many(retained)


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
