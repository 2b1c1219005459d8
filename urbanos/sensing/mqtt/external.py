"""External broker mode (``mqtt_url``): publish notifications to Mosquitto/EMQX and take creates from it.

A reconnect loop keeps one MQTT 3.1.1 connection. Outgoing notifications wait in a bounded queue
while the broker is away (oldest dropped first, counted), so a broker restart needs no manual step.
Creates arrive through a shared subscription (``$share/<group>/v1.x/+`` and ``…/+/+``) so that, with
several workers, each create is handled once. Messages that carry ``@iot.selfLink`` are the
notifications this platform published itself and are ignored.

Creates run with the identity of ``mqtt_url_token``. It is verified again whenever the gate's credentials
version moves (a token revoked, a membership changed, in any process), as the embedded broker's sessions
are, so a revoke stops creates within about ``Gate.RECHECK_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import secrets
from collections import deque
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from urbanos.errors import ConfigError, Unauthorized, UrbanosError
from urbanos.governance.identity import ANONYMOUS
from urbanos.sensing.mqtt import codec, topics

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.sensing.mqtt.service import MqttService

log = logging.getLogger("urbanos.mqtt")


def parse_url(url: str) -> tuple[str, int, str | None, str | None]:
    u = urlsplit(url)
    if u.scheme not in ("mqtt", "tcp") or not u.hostname:
        raise ConfigError(f"setting URBANOS_MQTT_URL: {url!r} is not an mqtt://host:port URL. "
                          "Fix: use mqtt://host:1883 (user and password optional).")
    return u.hostname, u.port or 1883, u.username, u.password


class ExternalLink:
    def __init__(self, service: MqttService, url: str) -> None:
        self.service = service
        self.host, self.port, self.username, self.password = parse_url(url)
        s = service.settings
        self.queue: deque[bytes] = deque()
        self.limit = int(s.mqtt_queue_size) * 10
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        self.connects = 0
        self.group = s.mqtt_shared_group
        self.ids = itertools.cycle(range(1, 65536))
        self.client_id = "urbanos-" + secrets.token_hex(5)
        self.token = s.mqtt_url_token
        self.identity: Identity | None = None  # of ``token``, verified when ``seen`` was the credentials version
        self.seen: int | None = None
        self.prefix = s.mqtt_url_prefix

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    def publish(self, topic: str, payload: bytes) -> None:
        if len(self.queue) >= self.limit:
            self.queue.popleft()
            self.service.count("dropped", "external_queue_full")
        # QoS 1 to the broker, so that QoS 1 subscribers of the external broker get at-least-once delivery
        self.queue.append(codec.publish(self.prefix + topic, payload, 1, next(self.ids)))
        self.wake.set()

    async def _run(self) -> None:
        delay = 0.2
        while True:
            try:
                await self._session()
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except (OSError, ConnectionError, codec.ProtocolError, TimeoutError, asyncio.IncompleteReadError) as exc:
                log.warning("mqtt: external broker %s:%d unavailable (%s); retrying in %.1fs",
                            self.host, self.port, exc, delay)
            except Exception:  # noqa: BLE001
                log.exception("mqtt: external broker link failed")
            self.connected.clear()
            self.service.count("external_reconnect", "")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _session(self) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 5)
        try:
            writer.write(codec.connect(self.client_id, keepalive=30, username=self.username, password=self.password))
            await writer.drain()
            dec = codec.Reader(int(self.service.settings.mqtt_max_packet) * 4)
            first = await asyncio.wait_for(self._read_one(reader, dec), 5)
            if first.type != codec.CONNACK or len(first.body) < 2 or first.body[1] != 0:
                raise codec.ProtocolError(f"external broker refused the connection ({first.body!r})")
            filters: list[tuple[str, int]] = []
            for v in topics.VERSIONS:
                for f in topics.create_filters(v):
                    f = self.prefix + f
                    filters.append((f"$share/{self.group}/{f}" if self.group else f, 1))
            writer.write(codec.subscribe(next(self.ids), filters))
            await writer.drain()
            self.connects += 1
            self.connected.set()
            log.info("mqtt: connected to external broker %s:%d", self.host, self.port)
            sender = asyncio.get_running_loop().create_task(self._send(writer))
            pinger = asyncio.get_running_loop().create_task(self._ping(writer))
            try:
                while True:
                    pkt = await self._read_one(reader, dec)
                    if pkt.type == codec.PUBLISH:
                        msg = codec.parse_publish(pkt)
                        if msg.qos == 1 and msg.packet_id is not None:
                            writer.write(codec.ack(codec.PUBACK, msg.packet_id))
                        elif msg.qos == 2 and msg.packet_id is not None:
                            writer.write(codec.ack(codec.PUBREC, msg.packet_id))
                        await self._incoming(msg)
                    elif pkt.type == codec.PUBREL:
                        writer.write(codec.ack(codec.PUBCOMP, codec.packet_id(pkt)))
                    elif pkt.type == codec.SUBACK and codec.SUBACK_FAILURE in pkt.body[2:]:
                        log.error("mqtt: external broker refused the create subscriptions")
            finally:
                sender.cancel()
                pinger.cancel()
        finally:
            writer.close()

    async def _read_one(self, reader: asyncio.StreamReader, dec: codec.Reader) -> codec.Packet:
        while True:
            pkts = dec.packets()
            if pkts:
                first = pkts[0]
                # re-queue the rest by rebuilding the buffer
                for p in reversed(pkts[1:]):
                    dec.buf[0:0] = codec.fixed(p.type, p.flags, p.body)
                return first
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("external broker closed the connection")
            dec.feed(data)

    async def _send(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue:
                chunk: list[bytes] = []
                while self.queue and len(chunk) < 256:
                    chunk.append(self.queue.popleft())
                writer.write(b"".join(chunk))
                await writer.drain()

    async def _ping(self, writer: asyncio.StreamWriter) -> None:
        while True:
            await asyncio.sleep(20)
            writer.write(codec.PINGREQ_BYTES)
            await writer.drain()

    async def _incoming(self, msg: codec.Publish) -> None:
        if b'"@iot.selfLink"' in msg.payload:
            return  # a notification (ours or another worker's), not a create request
        if not msg.topic.startswith(self.prefix):
            return
        topic = msg.topic[len(self.prefix):]
        try:
            t = topics.parse(topic)
        except UrbanosError:
            return
        if not t.creatable:
            return
        if not self.token:
            log.warning("mqtt: create on %r from the external broker ignored: no mqtt_url_token is set", msg.topic)
            self.service.count("publish_refused", "anonymous")
            return
        try:
            identity = await self.current_identity()
        except Exception as exc:  # noqa: BLE001 - cannot tell now (database away): refuse this create, check again
            log.warning("mqtt: create on %r from the external broker refused: mqtt_url_token cannot be verified now "
                        "(%s)", msg.topic, type(exc).__name__)
            self.service.count("publish_refused", "credentials_unverified")
            return
        if identity.is_anonymous:
            self.service.count("publish_refused", "invalid_token")
            return
        await self.service.create(identity, topic, msg.payload, where=f"external {self.host}:{self.port}")

    async def current_identity(self) -> Identity:
        """The identity of ``mqtt_url_token`` as it is now: verified again when the gate's credentials version
        moved since it was last verified (a revoke or a membership change anywhere), and on every call while
        that version cannot be read. ANONYMOUS when the token is not valid (any more)."""
        gate = self.service.platform.gate
        # read before verifying, so that a revoke between the two moves the version past ``seen``
        moved, version = await gate.credentials_changed_since(self.seen)
        if moved or version is None or self.seen is None:
            self.identity = None
        if self.identity is None:
            try:
                identity = await gate.authenticate(self.token)
            except Unauthorized:
                identity = ANONYMOUS
            if identity.is_anonymous:
                log.error("mqtt: mqtt_url_token is not a valid token (or was revoked); creates from the external "
                          "broker are refused")
            self.identity = identity
            self.seen = version
        return self.identity


__all__ = ["ExternalLink", "parse_url"]
