"""One client connection of the embedded broker: CONNECT, its packets, its bounded outgoing queue.

Back-pressure: every session has a bounded outgoing queue. When it is full the oldest queued message is dropped
(a subscriber to live sensor values wants the newest ones) and the drop is counted; a session that overflows
``kick_after`` times in a row without its queue ever draining is disconnected. Delivery never waits for a
subscriber, so a slow or dead subscriber cannot slow ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections import deque
from typing import TYPE_CHECKING, Any

from urbanos.sensing.mqtt import codec
from urbanos.sensing.mqtt.codec import Packet, ProtocolError, Publish
from urbanos.sensing.mqtt.hooks import MAX_PENDING, Conn, Item, Refused, client_address, subject

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.sensing.mqtt.broker import Broker

log = logging.getLogger("urbanos.mqtt")


class Session:
    """One connected client."""

    def __init__(self, broker: Broker, conn: Conn) -> None:
        self.broker = broker
        self.conn = conn
        self.client_id = ""
        self.identity: Identity | None = None
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
            same = subject(previous.identity) == subject(self.identity)
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



__all__ = ["Session"]
