"""MQTT 3.1.1 packets: encoding and an incremental decoder (pure, no I/O).

Only what a broker and a small client need: CONNECT/CONNACK, PUBLISH with QoS 0-2,
PUBACK/PUBREC/PUBREL/PUBCOMP, SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK, PINGREQ/PINGRESP
and DISCONNECT (OASIS MQTT Version 3.1.1, section 2 and 3).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14

# CONNACK return codes (3.2.2.3)
ACCEPTED, BAD_PROTOCOL, ID_REJECTED, UNAVAILABLE, BAD_CREDENTIALS, NOT_AUTHORIZED = 0, 1, 2, 3, 4, 5
SUBACK_FAILURE = 0x80


class ProtocolError(Exception):
    """The peer sent something that is not MQTT 3.1.1: the connection is closed."""


# The fixed-header flags of each packet type a server receives (2.2.2, table 2.2); PUBLISH carries its own.
# Other flags make the packet malformed, and the server MUST close the connection (2.2.2-2, 3.6.1-1, 3.8.1-1,
# 3.10.1-1).
SERVER_BOUND_FLAGS = {CONNECT: 0, PUBACK: 0, PUBREC: 0, PUBREL: 2, PUBCOMP: 0, SUBSCRIBE: 2, UNSUBSCRIBE: 2,
                      PINGREQ: 0, DISCONNECT: 0}


@dataclass
class Packet:
    type: int
    flags: int
    body: bytes


@dataclass
class Connect:
    client_id: str
    clean_session: bool
    keepalive: int
    username: str | None = None
    password: bytes | None = None
    will: tuple[str, bytes, int, bool] | None = None
    protocol_level: int = 4


@dataclass
class Publish:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    dup: bool = False
    packet_id: int | None = None


@dataclass
class Subscribe:
    packet_id: int
    topics: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Unsubscribe:
    packet_id: int
    topics: list[str] = field(default_factory=list)


def encode_remaining(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            byte |= 0x80
        out.append(byte)
        if not n:
            return bytes(out)


def string(s: str) -> bytes:
    """An MQTT UTF-8 string: its length in two bytes, then its bytes (1.5.3)."""
    b = s.encode("utf-8")
    return struct.pack("!H", len(b)) + b


def binary(b: bytes) -> bytes:
    """MQTT binary data: its length in two bytes, then the bytes (the password of CONNECT, 3.1.3.5)."""
    return struct.pack("!H", len(b)) + b


def fixed(ptype: int, flags: int, body: bytes) -> bytes:
    return bytes([(ptype << 4) | flags]) + encode_remaining(len(body)) + body


def publish(topic: str, payload: bytes, qos: int = 0, packet_id: int | None = None, retain: bool = False,
            dup: bool = False) -> bytes:
    flags = (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
    body = string(topic)
    if qos:
        body += struct.pack("!H", packet_id or 1)
    return fixed(PUBLISH, flags, body + payload)


def connack(code: int, session_present: bool = False) -> bytes:
    return fixed(CONNACK, 0, bytes([1 if session_present and code == 0 else 0, code]))


def ack(ptype: int, packet_id: int) -> bytes:
    return fixed(ptype, 2 if ptype == PUBREL else 0, struct.pack("!H", packet_id))


def suback(packet_id: int, codes: list[int]) -> bytes:
    return fixed(SUBACK, 0, struct.pack("!H", packet_id) + bytes(codes))


PINGRESP_BYTES = fixed(PINGRESP, 0, b"")
PINGREQ_BYTES = fixed(PINGREQ, 0, b"")
DISCONNECT_BYTES = fixed(DISCONNECT, 0, b"")


def connect(client_id: str, *, keepalive: int = 60, username: str | None = None, password: str | bytes | None = None,
            clean: bool = True) -> bytes:
    flags = 2 if clean else 0
    payload = string(client_id)
    if username is not None:
        flags |= 0x80
        payload += string(username)
    if password is not None:
        flags |= 0x40
        payload += binary(password.encode() if isinstance(password, str) else password)
    body = string("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive) + payload
    return fixed(CONNECT, 0, body)


def subscribe(packet_id: int, topics: list[tuple[str, int]]) -> bytes:
    body = struct.pack("!H", packet_id) + b"".join(string(t) + bytes([q]) for t, q in topics)
    return fixed(SUBSCRIBE, 2, body)


def unsubscribe(packet_id: int, topics: list[str]) -> bytes:
    return fixed(UNSUBSCRIBE, 2, struct.pack("!H", packet_id) + b"".join(string(t) for t in topics))


class Reader:
    """Incremental decoder: ``feed(bytes)`` then iterate ``packets()``."""

    def __init__(self, max_size: int) -> None:
        self.buf = bytearray()
        self.max_size = max_size

    def feed(self, data: bytes) -> None:
        self.buf += data

    def packets(self) -> list[Packet]:
        out: list[Packet] = []
        buf = self.buf
        while len(buf) >= 2:
            mult, length, i = 1, 0, 1
            while True:
                if i >= len(buf):
                    self.buf = buf
                    return out
                byte = buf[i]
                length += (byte & 0x7F) * mult
                i += 1
                if not byte & 0x80:
                    break
                mult *= 128
                if i > 4:
                    raise ProtocolError("malformed remaining length")
            if length > self.max_size:
                raise ProtocolError(f"packet of {length} bytes is larger than the limit of {self.max_size}")
            if len(buf) < i + length:
                break
            out.append(Packet(buf[0] >> 4, buf[0] & 0x0F, bytes(buf[i:i + length])))
            del buf[:i + length]
        self.buf = buf
        return out


def check_flags(p: Packet) -> None:
    """Refuse a packet whose reserved fixed-header flags are not those its type requires (ProtocolError)."""
    want = SERVER_BOUND_FLAGS.get(p.type)
    if want is not None and p.flags != want:
        raise ProtocolError(f"packet type {p.type} with fixed-header flags {p.flags:04b} (they must be {want:04b})")


def valid_topic_name(t: str) -> bool:
    """A topic name (of a PUBLISH or a will) is not empty and has no wildcard (4.7.1, 4.7.3)."""
    return bool(t) and "+" not in t and "#" not in t


def _read_str(b: bytes, pos: int) -> tuple[str, int]:
    raw, pos = _read_bin(b, pos)
    try:
        s = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("string is not UTF-8") from None
    if "\x00" in s:
        raise ProtocolError("string contains U+0000")
    return s, pos


def _read_bin(b: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 2 > len(b):
        raise ProtocolError("truncated packet")
    (n,) = struct.unpack_from("!H", b, pos)
    pos += 2
    if pos + n > len(b):
        raise ProtocolError("truncated packet")
    return b[pos:pos + n], pos + n


def parse_connect(p: Packet) -> Connect:
    b = p.body
    name, pos = _read_str(b, 0)
    if pos + 4 > len(b):
        raise ProtocolError("truncated CONNECT")
    level, flags = b[pos], b[pos + 1]
    (keepalive,) = struct.unpack_from("!H", b, pos + 2)
    pos += 4
    if name not in ("MQTT", "MQIsdp"):
        raise ProtocolError(f"unknown protocol name {name!r}")
    if flags & 1:
        raise ProtocolError("reserved CONNECT flag set")
    client_id, pos = _read_str(b, pos)
    will = None
    if flags & 0x04:
        wt, pos = _read_str(b, pos)
        wm, pos = _read_bin(b, pos)
        if (flags >> 3) & 3 == 3:
            raise ProtocolError("will QoS 3")  # 3.1.2-14
        if not valid_topic_name(wt):
            raise ProtocolError(f"invalid will topic {wt!r}")
        will = (wt, wm, (flags >> 3) & 3, bool(flags & 0x20))
    elif flags & 0x38:
        raise ProtocolError("will QoS or retain set without a will")  # 3.1.2-11, 3.1.2-13, 3.1.2-15
    username = password = None
    if flags & 0x80:
        username, pos = _read_str(b, pos)
    if flags & 0x40:
        password, pos = _read_bin(b, pos)
    return Connect(client_id, bool(flags & 2), keepalive, username, password, will, level)


def parse_publish(p: Packet) -> Publish:
    qos = (p.flags >> 1) & 3
    if qos == 3:
        raise ProtocolError("PUBLISH with QoS 3")
    topic, pos = _read_str(p.body, 0)
    pid = None
    if qos:
        if pos + 2 > len(p.body):
            raise ProtocolError("truncated PUBLISH")
        (pid,) = struct.unpack_from("!H", p.body, pos)
        pos += 2
    return Publish(topic, p.body[pos:], qos, bool(p.flags & 1), bool(p.flags & 8), pid)


def parse_subscribe(p: Packet) -> Subscribe:
    if len(p.body) < 2:
        raise ProtocolError("truncated SUBSCRIBE")
    (pid,) = struct.unpack_from("!H", p.body, 0)
    pos, topics = 2, []
    while pos < len(p.body):
        t, pos = _read_str(p.body, pos)
        if pos >= len(p.body):
            raise ProtocolError("truncated SUBSCRIBE")
        if p.body[pos] > 2:
            raise ProtocolError("SUBSCRIBE with requested QoS 3 or reserved bits set")  # 3.8.3-4
        topics.append((t, p.body[pos]))
        pos += 1
    if not topics:
        raise ProtocolError("SUBSCRIBE without topics")
    return Subscribe(pid, topics)


def parse_unsubscribe(p: Packet) -> Unsubscribe:
    if len(p.body) < 2:
        raise ProtocolError("truncated UNSUBSCRIBE")
    (pid,) = struct.unpack_from("!H", p.body, 0)
    pos, topics = 2, []
    while pos < len(p.body):
        t, pos = _read_str(p.body, pos)
        topics.append(t)
    if not topics:
        raise ProtocolError("UNSUBSCRIBE without topics")  # 3.10.3-2
    return Unsubscribe(pid, topics)


def packet_id(p: Packet) -> int:
    if len(p.body) < 2:
        raise ProtocolError("truncated acknowledgement")
    return int(struct.unpack_from("!H", p.body, 0)[0])


def valid_filter(f: str) -> bool:
    """Topic filter rules of 4.7.1: '#' last and alone in its level, '+' alone in its level."""
    if not f:
        return False
    levels = f.split("/")
    for i, lv in enumerate(levels):
        if "#" in lv and (lv != "#" or i != len(levels) - 1):
            return False
        if "+" in lv and lv != "+":
            return False
    return True


def matches(filt: str, topic: str) -> bool:
    """Does topic name ``topic`` match filter ``filt`` (4.7)? '$' topics never match leading wildcards."""
    if filt == topic:
        return True
    if topic.startswith("$") and filt[:1] in ("+", "#"):
        return False
    f = filt.split("/")
    t = topic.split("/")
    for i, lv in enumerate(f):
        if lv == "#":
            return True
        if i >= len(t):
            return False
        if lv != "+" and lv != t[i]:
            return False
    return len(f) == len(t)


__all__ = [name for name in dir() if not name.startswith("_")]
