"""What the embedded broker asks of its owner and of its transports.

:class:`Hooks` is what the broker asks the SensorThings layer (who a client is, what it may subscribe to, what a
publish means); :class:`Conn` is a byte stream (TCP or WebSocket). Shared by :mod:`.session` and :mod:`.broker`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

from urbanos.sensing.mqtt.codec import Publish

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.sensing.mqtt.session import Session


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


def subject(identity: Identity | None) -> str | None:
    """The subject of a session's identity (None for a client the hooks gave no identity)."""
    return identity.subject if identity is not None else None


class Hooks:
    """What the broker asks its owner. Override in the SensorThings layer."""

    async def authenticate(self, username: str | None, password: bytes | None, peer: str = "") -> Identity | None:
        """The identity of a connecting client, or :class:`Refused`. ``peer`` is the client's address
        (:func:`client_address` of the transport's peer), for limits on failed authentications."""
        return None

    def may_take_over(self, held: Identity | None, new: Identity | None) -> bool:
        """May a client of identity ``new`` take over the client id of a session (connected, or kept while
        disconnected) of identity ``held``? Refused clients get CONNACK 0x05 and the session is untouched."""
        return subject(held) == subject(new)

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


__all__ = ["Conn", "Refused", "MAX_PENDING", "Item", "subject", "Hooks", "client_address", "TcpConn"]
