"""The broker enforces identity and access on every topic: client-id takeover, plain topics, wildcard
subscriptions over non-open data, the external broker's token, malformed credentials and malformed packets
(paho-mqtt and raw sockets against the real app, and Mosquitto)."""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.sensing_mqtt.harness import Stage, staged
from tests.sensing_mqtt.mqttc import Client
from tests.sensing_mqtt.test_mqtt_revocation import Watched, _cli, _within
from urbanos.errors import ServiceUnavailable
from urbanos.governance.identity import Identity
from urbanos.sensing.mqtt import codec

REFUSED = (5, 135)  # CONNACK 0x05 "not authorized" (paho reports its MQTT 5 reason code, 135)


def refused(port: int, **kw: Any) -> int:
    """Connect once and return the CONNACK code, without letting paho try again."""
    c = Client(port, **kw)
    try:
        return c.rc
    finally:
        c.c.loop_stop()
        c.c.disconnect()


def drain(c: Client, marker: Any, quiet: float = 1.0) -> list[tuple[str, Any]]:
    """Every message up to one whose ``result`` is ``marker`` (sent last), then until none came for ``quiet``
    seconds: [(topic, decoded JSON or raw bytes)]."""
    out: list[tuple[str, Any]] = []
    seen = False
    while True:
        try:
            topic, payload, _q = c.get(timeout=quiet if seen else 10)
        except queue.Empty:
            assert seen, "the last message never came"
            return out
        try:
            out.append((topic, json.loads(payload)))
        except ValueError:
            out.append((topic, payload))
        seen = seen or (isinstance(out[-1][1], dict) and out[-1][1].get("result") == marker)


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    """One real app for the tests of this module that leave nothing behind."""
    with staged(tmp_path_factory.mktemp("security")) as s:
        yield s


def metric(platform: Any, text: str) -> float:
    from prometheus_client import generate_latest

    for line in generate_latest(platform.registry).decode().splitlines():
        if line.startswith(text + " "):
            return float(line.split()[-1])
    return 0.0


def _closed(s: socket.socket) -> bool:
    """True when the server closed the connection without sending anything more."""
    s.settimeout(10)
    try:
        return s.recv(100) == b""
    except ConnectionResetError:
        return True


def _connack(s: socket.socket) -> bytes:
    s.settimeout(10)
    data = b""
    while len(data) < 4:
        got = s.recv(4 - len(data))
        if not got:
            break
        data += got
    return data


# -- 1. client-id takeover ---------------------------------------------------------------------------------


def test_another_identity_cannot_take_over_a_client_id(serve):
    """Client A (publisher token) holds "sensor-1"; B with another token, and an anonymous client, are refused
    with CONNACK 0x05, and A stays connected and keeps receiving."""
    s = serve()
    _thing, ds = s.station()
    topic = f"v1.1/Datastreams({ds})/Observations"
    a_token, b_token = s.token("publisher"), s.token("publisher")
    with Watched(s.mqtt_port, token=a_token, client_id="sensor-1") as a:
        assert a.rc == 0
        assert a.subscribe(topic, 1) == [1]
        assert refused(s.mqtt_port, token=b_token, client_id="sensor-1") in REFUSED
        assert refused(s.mqtt_port, client_id="sensor-1") in REFUSED
        assert refused(s.mqtt_port, token=ADMIN_TOKEN, client_id="sensor-1") in REFUSED  # not even the admin token
        s.post(f"Datastreams({ds})/Observations", {"result": 5})
        assert json.loads(a.get()[1])["result"] == 5
        assert not a.dropped.is_set()
        svc = s.platform.services["mqtt"]
        assert svc.broker.sessions["sensor-1"].identity.subject == f"token:{a_token.split('_')[1]}"
    metrics = s.http.get("/metrics").text
    assert 'urbanos_mqtt_events_total{event="refused",reason="client_id_in_use"} 3.0' in metrics


def test_a_kept_session_is_resumed_only_by_its_identity(stage):
    """A disconnected persistent session (clean_session = 0) is neither resumed nor discarded by another
    identity: its subscriptions and queued QoS 1 messages wait for their owner."""
    port, svc, tokens, obs = stage.port, stage.svc, stage.tokens, stage.open.observations
    cid = "keeper-" + secrets.token_hex(3)
    first = Client(port, token=tokens["reader"], client_id=cid, clean=False)
    assert first.subscribe(obs, 1) == [1]
    first.close()
    _within(10, lambda: cid in svc.broker.parked)
    assert refused(port, client_id=cid, clean=False) in REFUSED
    assert refused(port, client_id=cid, clean=True) in REFUSED
    assert refused(port, token=tokens["publisher"], client_id=cid, clean=False) in REFUSED
    assert cid in svc.broker.parked
    with Client(port, token=tokens["publisher"]) as pub:
        pub.publish(obs, json.dumps({"result": 31}), qos=1)
    with Client(port, token=tokens["reader"], client_id=cid, clean=False) as again:
        assert again.rc == 0 and again.session_present is True
        topic, payload, qos = again.get()
        assert (topic, json.loads(payload)["result"], qos) == (obs, 31, 1)


def test_the_same_identity_takes_over_and_a_token_displaces_an_anonymous_client(stage):
    port, svc, reader = stage.port, stage.svc, stage.tokens["reader"]
    # the same identity: the older connection is closed (3.1.4-2)
    with Watched(port, token=reader, client_id="dash") as old:
        with Client(port, token=reader, client_id="dash") as new:
            assert new.rc == 0
            _within(10, old.dropped.is_set)
            assert new.subscribe(stage.open.observations) == [0]
    # an anonymous client cannot squat a client id: a client with a token takes it over (with a fresh session)
    with Watched(port, client_id="squat") as anon:
        assert anon.rc == 0
        with Client(port, token=reader, client_id="squat") as owner:
            assert owner.rc == 0 and owner.session_present is False
            _within(10, anon.dropped.is_set)
            assert refused(port, client_id="squat") in REFUSED
            assert svc.broker.sessions["squat"].identity.subject == stage.subject("reader")


# -- 2. plain topics and wildcard subscriptions --------------------------------------------------------------


def test_publishing_on_plain_topics_needs_the_role_for_the_whole_platform(serve):
    stage = Stage(serve())
    port, svc, tokens = stage.port, stage.svc, stage.tokens
    with Client(port, token=tokens["reader"]) as sub:
        assert sub.subscribe("plant/#", 1) == [1]
        for token in (tokens["reader"], tokens["scoped"]):  # a reader; a publisher of one organisation
            with Client(port, token=token) as c:
                c.publish("plant/state", b"forged", qos=1, retain=True)
        assert sub.none()
        assert not svc.broker.retained
        assert stage.metric('urbanos_mqtt_events_total{event="publish_refused",reason="raw_topic_role"}') == 2
        with Client(port, token=tokens["publisher"]) as pub:
            pub.publish("plant/state", b"on", qos=1, retain=True)
        assert sub.get()[:2] == ("plant/state", b"on")
        assert list(svc.broker.retained) == ["plant/state"]


def test_a_will_on_a_plain_topic_needs_the_role_too(serve):
    """A reader's will message (published when its connection drops) is refused like its publishes."""
    stage = Stage(serve())
    port, svc, tokens = stage.port, stage.svc, stage.tokens
    with Client(port, token=tokens["reader"]) as sub:
        assert sub.subscribe("alarm/#") == [0]
        for token, cid in ((tokens["reader"], "w-reader"), (tokens["publisher"], "w-pub")):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                raw.sendall(_connect_with_will(cid, token, f"alarm/{cid}", b"gone"))
                assert _connack(raw) == codec.connack(0)
            # dropped without DISCONNECT: the will is published (and retained) when allowed
        assert sub.get()[:2] == ("alarm/w-pub", b"gone")
        assert sub.none()
        assert list(svc.broker.retained) == ["alarm/w-pub"]


def test_the_role_for_plain_topics_is_a_setting(serve):
    stage = Stage(serve(mqtt_raw_publish_role="steward"))
    port, tokens = stage.port, stage.tokens
    with Client(port, token=tokens["reader"]) as sub, Client(port, token=tokens["publisher"]) as pub, \
            Client(port, token=tokens["steward"]) as steward:
        assert sub.subscribe("bench/+") == [0]
        pub.publish("bench/a", b"1", qos=1)
        steward.publish("bench/b", b"2", qos=1)
        assert sub.get()[:2] == ("bench/b", b"2")
        assert sub.none()


def _connect_raw(cid: str, password: bytes) -> bytes:
    """A CONNECT with user name "u" and these password bytes (MQTT passwords are binary data, 3.1.3.5)."""
    payload = codec.string(cid) + codec.string("u") + codec.binary(password)
    return codec.fixed(codec.CONNECT, 0, codec.string("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 30) + payload)


def _connect_with_will(cid: str, token: str, topic: str, message: bytes, retain: bool = True) -> bytes:
    flags = 0x02 | 0x04 | (0x20 if retain else 0) | 0x80 | 0x40
    payload = (codec.string(cid) + codec.string(topic) + codec.binary(message) + codec.string("u")
               + codec.binary(token.encode()))
    body = codec.string("MQTT") + bytes([4, flags]) + struct.pack("!H", 30) + payload
    return codec.fixed(codec.CONNECT, 0, body)


WILDCARDS = ("#", "v1.1/#", "v1.0/#", "+/Observations", "+/+/Observations", "v1.1/+/Observations", "v1.1/+")


def test_wildcards_never_deliver_non_open_data_the_subscriber_may_not_read(serve):
    """A confidential Datastream's Observations created over HTTP reach its grantee and the admin on every
    wildcard filter, and never an anonymous subscriber, another organisation's reader or a member of the owning
    organisation without a grant."""
    s = serve()
    confidential = s.dataset("private-counters", "confidential", org="mobility")
    _t1, secret_ds = s.station(dataset_id=confidential)
    _t2, open_ds = s.station()
    grantee, member, stranger = s.token("reader", "parks"), s.token("reader", "mobility"), s.token("reader", "parks")
    now = "2024-01-01T00:00:00.000000Z"
    s.platform.db.write_sync(lambda c: c.execute(
        "INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)",
        (confidential, f"token:{grantee.split('_')[1]}", now)))
    clients = {name: Client(s.mqtt_port, token=token) for name, token in (
        ("anonymous", None), ("stranger", stranger), ("member", member), ("grantee", grantee), ("admin", ADMIN_TOKEN))}
    try:
        granted: dict[str, set[str]] = {}
        for name, c in clients.items():
            granted[name] = {f for f in WILDCARDS if c.subscribe(f) == [0]}
        assert granted["anonymous"] == {"v1.1/#", "v1.0/#", "v1.1/+/Observations", "v1.1/+"}
        assert granted["stranger"] == set(WILDCARDS)
        # "+" inside a level is not a wildcard filter (4.7.1-2), and paho will not send it: a raw client does
        with socket.create_connection(("127.0.0.1", s.mqtt_port), timeout=10) as raw:
            raw.sendall(codec.connect("raw-" + secrets.token_hex(3), username="u", password=stranger))
            assert _connack(raw) == codec.connack(0)
            raw.sendall(codec.subscribe(7, [("v1.1/Datastreams(+)/Observations", 0)]))
            raw.settimeout(10)
            assert raw.recv(100) == codec.suback(7, [codec.SUBACK_FAILURE])
        secret = s.post(f"Datastreams({secret_ds})/Observations", {"result": 666})["@iot.id"]
        s.post(f"Datastreams({open_ds})/Observations", {"result": 1})
        secret_foi = s.get(f"v1.1/Observations({secret})/FeatureOfInterest")["@iot.id"]  # made for this Observation
        got = {name: drain(c, marker=1) for name, c in clients.items()}
        for name in ("anonymous", "stranger", "member"):
            leaked = [(t, p) for t, p in got[name] if not isinstance(p, dict) or p.get("result") == 666
                      or f"Datastreams({secret_ds})" in t or f"FeaturesOfInterest({secret_foi})" in t
                      or (t.endswith("/FeaturesOfInterest") and p.get("@iot.id") == secret_foi)]
            assert not leaked, name
            assert any(p.get("result") == 1 for _t, p in got[name]), name  # the open Observation did arrive
        for name in ("grantee", "admin"):
            topics = {t for t, p in got[name] if isinstance(p, dict) and p.get("result") == 666}
            assert {"v1.1/Observations", f"v1.1/Datastreams({secret_ds})/Observations",
                    f"v1.0/Datastreams({secret_ds})/Observations",
                    f"v1.1/FeaturesOfInterest({secret_foi})/Observations"} <= topics, name
    finally:
        for c in clients.values():
            c.close()


# -- 3. the external broker's token follows revokes -----------------------------------------------------------


def _mosquitto() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=2):
            return True
    except OSError:
        return False


def test_external_mode_stops_creating_once_its_token_is_revoked(serve, db_url, tmp_path):
    if not _mosquitto():
        if os.environ.get("CI"):
            pytest.fail("Mosquitto is not running on 127.0.0.1:1883 in CI")
        pytest.skip("Mosquitto is not running on 127.0.0.1:1883")
    tag = secrets.token_hex(4)
    prefix = f"urbanos-test-{tag}/"
    # the operator mints the link's token before starting the server, and later revokes it over HTTP
    made = _cli("token", "create", "--role", "publisher", "--name", "external link", "--db", db_url,
                "--data-dir", str(tmp_path / "cli"))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    tid = int(token.split("_")[1])
    s = serve(mqtt_url="mqtt://127.0.0.1:1883", mqtt_url_token=token, mqtt_url_prefix=prefix,
              mqtt_shared_group=f"g{tag}")
    link = s.platform.services["mqtt"].external
    _within(10, link.connected.is_set)
    _thing, ds = s.station()
    topic = f"{prefix}v1.1/Datastreams({ds})/Observations"

    def results() -> list[Any]:
        return sorted(o["result"] for o in s.get(f"v1.1/Datastreams({ds})/Observations")["value"])

    def refusals() -> float:
        return metric(s.platform, 'urbanos_mqtt_events_total{event="publish_refused",reason="invalid_token"}')

    with Client(1883, client_id=f"urbanos-test-pub-{tag}") as pub:
        time.sleep(0.3)  # the link subscribed right after connecting; let Mosquitto settle
        pub.publish(topic, json.dumps({"result": 1}), qos=1)
        _within(10, lambda: results() == [1])
        assert s.http.delete(f"/admin/tokens/{tid}").status_code == 204
        # creates stop within about Gate.RECHECK_SECONDS: keep publishing until the link refuses one (a create
        # published while the revoke is being noticed may be stored or refused; what matters is that they stop)
        n, deadline = 100, time.monotonic() + 20
        while refusals() == 0:
            assert time.monotonic() < deadline, f"creates went on after the revoke: {_mqtt_events(s.platform)}"
            n += 1
            pub.publish(topic, json.dumps({"result": n}), qos=1)
            wait = time.monotonic() + 2
            while refusals() == 0 and n not in results() and time.monotonic() < wait:
                time.sleep(0.05)
        before = refusals()
        pub.publish(topic, json.dumps({"result": 999}), qos=1)
        wait = time.monotonic() + 10
        while refusals() <= before:
            assert time.monotonic() < wait, f"the create after the revoke was not refused: {_mqtt_events(s.platform)}"
            time.sleep(0.05)
    assert 999 not in results()


def _mqtt_events(platform: Any) -> str:
    """The broker's event counters, for a failure message."""
    from prometheus_client import generate_latest

    return "; ".join(line for line in generate_latest(platform.registry).decode().splitlines()
                     if line.startswith("urbanos_mqtt_events_total{"))


# -- 4. malformed credentials ----------------------------------------------------------------------------------


@pytest.mark.parametrize("password", [b"\xff\xfe\xb2", "uos_\xb2_x".encode(), b"uos_1_\x00x", "uos_١_x".encode()])
def test_a_malformed_password_gets_a_connack_and_one_log_line(serve, caplog, password):
    s = serve()
    caplog.set_level(logging.INFO, logger="urbanos")
    with socket.create_connection(("127.0.0.1", s.mqtt_port), timeout=10) as raw:
        raw.sendall(_connect_raw("odd-" + secrets.token_hex(3), password))
        assert _connack(raw) in (codec.connack(codec.BAD_CREDENTIALS), codec.connack(codec.NOT_AUTHORIZED))
        assert _closed(raw)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert [r for r in caplog.records if r.name == "urbanos.mqtt" and "refused" in r.getMessage()]
    with Client(s.mqtt_port, token=ADMIN_TOKEN) as ok:  # the broker goes on
        assert ok.rc == 0


@pytest.mark.parametrize("error, code", [(ValueError, codec.NOT_AUTHORIZED), (ServiceUnavailable, codec.UNAVAILABLE)])
def test_a_failing_credentials_check_gets_a_connack_without_a_traceback(serve, monkeypatch, caplog, error, code):
    """Whatever the gate raises while checking a password, the client gets a CONNACK (0x03 when the gate
    cannot tell now, 0x05 otherwise) and the log one line that does not quote the password."""
    async def broken(token: str | None, *, client: str | None = None) -> Identity:
        raise error(f"cannot parse {token!r}")

    s = serve()
    monkeypatch.setattr(s.platform.gate, "authenticate", broken)
    caplog.set_level(logging.INFO, logger="urbanos")
    with socket.create_connection(("127.0.0.1", s.mqtt_port), timeout=10) as raw:
        raw.sendall(codec.connect("x", username="u", password="secret-value"))
        assert _connack(raw) == codec.connack(code)
        assert _closed(raw)
    assert not [r for r in caplog.records if r.exc_info and r.levelno >= logging.INFO]
    assert "secret-value" not in caplog.text
    assert len([r for r in caplog.records if r.name == "urbanos.mqtt" and "refused x" in r.getMessage()]) == 1


# -- 5. reserved fixed-header flags ------------------------------------------------------------------------------


@pytest.mark.parametrize("packet", [
    codec.fixed(codec.SUBSCRIBE, 0, struct.pack("!H", 1) + codec.string("v1.1/Things(1)") + b"\x00"),  # 3.8.1-1
    codec.fixed(codec.SUBSCRIBE, 3, struct.pack("!H", 1) + codec.string("v1.1/Things(1)") + b"\x00"),
    codec.fixed(codec.UNSUBSCRIBE, 0, struct.pack("!H", 1) + codec.string("v1.1/Things(1)")),  # 3.10.1-1
    codec.fixed(codec.PUBREL, 0, struct.pack("!H", 1)),  # 3.6.1-1
    codec.fixed(codec.PINGREQ, 1, b""),  # 2.2.2-2
    codec.fixed(codec.SUBSCRIBE, 2, struct.pack("!H", 1) + codec.string("v1.1/Things(1)") + b"\x03"),  # 3.8.3-4
    codec.fixed(codec.UNSUBSCRIBE, 2, struct.pack("!H", 1)),  # 3.10.3-2
], ids=["subscribe-0", "subscribe-3", "unsubscribe-0", "pubrel-0", "pingreq-1", "subscribe-qos3",
        "unsubscribe-empty"])
def test_malformed_packets_close_the_connection(stage, packet):
    port = stage.port
    assert stage.open.thing == 1  # the Thing the packets name
    protocol_errors = 'urbanos_mqtt_events_total{event="rejected",reason="protocol_error"}'
    before = stage.metric(protocol_errors)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(codec.connect("flags", keepalive=0))
        assert _connack(raw) == codec.connack(0)
        raw.sendall(packet)
        assert _closed(raw)  # no SUBACK, UNSUBACK, PUBCOMP or PINGRESP
    assert stage.metric(protocol_errors) == before + 1
    # well-formed packets of the same types are answered
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(codec.connect("flags-ok", keepalive=0))
        assert _connack(raw) == codec.connack(0)
        raw.sendall(codec.subscribe(1, [("v1.1/Things(1)", 0)]) + codec.unsubscribe(2, ["v1.1/Things(1)"])
                    + codec.ack(codec.PUBREL, 3) + codec.PINGREQ_BYTES)
        want = codec.suback(1, [0]) + codec.ack(codec.UNSUBACK, 2) + codec.ack(codec.PUBCOMP, 3) + codec.PINGRESP_BYTES
        got = b""
        while len(got) < len(want):
            chunk = raw.recv(100)
            assert chunk
            got += chunk
        assert got == want


# -- 6. the client's address reaches the authentication hook -------------------------------------------------------


def test_the_authentication_hook_gets_the_client_address():
    import asyncio

    from urbanos.sensing.mqtt.broker import Broker, Hooks, client_address

    assert client_address("tcp:127.0.0.1:5000") == "127.0.0.1"
    assert client_address("tcp:::1:5000") == "::1"
    assert client_address("ws:[2001:db8::1]:443") == "2001:db8::1"
    assert client_address("ws") == "ws"
    seen: list[str] = []

    class Recording(Hooks):
        async def authenticate(self, username: str | None, password: bytes | None, peer: str = "") -> Any:
            seen.append(peer)
            return None

    async def main() -> None:
        broker = Broker(Recording())
        port = await broker.listen("127.0.0.1", 0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(codec.connect("addr", username="u", password="p"))
            assert await reader.readexactly(4) == codec.connack(0)
            writer.close()
        finally:
            await broker.close()

    asyncio.run(main())
    assert seen == ["127.0.0.1"]


# -- creates over MQTT are the SensorThings service's creates, with the session's identity -------------------------


def test_creates_over_mqtt_check_the_owning_organisation(serve):
    """A publisher of another organisation creates nothing in an organisation's Datastream over MQTT, as over
    HTTP: the publish runs the SensorThings service's create with the session's identity."""
    s = serve()
    owned = s.dataset("mobility-counters", "open", org="mobility")
    _thing, ds = s.station(dataset_id=owned)
    topic = f"v1.1/Datastreams({ds})/Observations"
    with Client(s.mqtt_port, token=s.token("publisher", "parks")) as other, \
            Client(s.mqtt_port, token=s.token("publisher", "mobility")) as member:
        other.publish(topic, json.dumps({"result": 1}), qos=1)  # acknowledged once handled
        member.publish(topic, json.dumps({"result": 2}), qos=1)
    assert [o["result"] for o in s.get(topic)["value"]] == [2]
    assert 'urbanos_mqtt_events_total{event="publish_rejected",reason="forbidden"} 1.0' in s.http.get("/metrics").text
