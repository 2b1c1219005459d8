"""Retained messages, persistent sessions and concurrent creates on the embedded broker of the real app, with
paho-mqtt."""

from __future__ import annotations

import json
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.sensing_mqtt.harness import Stage, staged
from tests.sensing_mqtt.mqttc import Client
from urbanos.sensing.mqtt import codec


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    with staged(tmp_path_factory.mktemp("sessions"), mqtt_max_retained=2) as s:
        yield s


Env = tuple[int, Stage, Any, Callable[[str], str], str]


@pytest.fixture
def env(stage: Stage) -> Env:
    """(broker port, the stage, its MQTT service, token by name, the open Datastream's Observations topic)."""
    return stage.port, stage, stage.svc, stage.tokens.__getitem__, stage.open.observations


def test_retained_messages_on_plain_topics(env: Env) -> None:
    port, stage, svc, token, OBS = env
    with Client(port, token=token("reader")) as live, Client(port, token=token("publisher")) as pub:
        assert live.subscribe("plant/#") == [0]
        pub.publish("plant/state", b"on", qos=1, retain=True)
        assert live.get()[:2] == ("plant/state", b"on")
        assert live.retain_flags == [False]  # delivered live: the flag is cleared (3.3.1-9)
    with Client(port, token=token("reader")) as late:
        assert late.subscribe("plant/+", 1) == [1]
        assert late.get() == ("plant/state", b"on", 1)
        assert late.retain_flags == [True]  # sent because of the new subscription (3.3.1-8)
    with Client(port, token=token("publisher")) as pub:
        pub.publish("plant/state", b"", qos=1, retain=True)  # an empty retained message clears it
    with Client(port, token=token("reader")) as later:
        later.subscribe("plant/#")
        assert later.none()


def test_retained_messages_are_bounded(env: Env) -> None:
    port, stage, svc, token, OBS = env
    with Client(port, token=token("publisher")) as pub:
        for i in range(3):
            pub.publish(f"bound/{i}", b"x", qos=1, retain=True)
    assert sorted(svc.broker.retained) == ["bound/0", "bound/1"]
    with Client(port, token=token("reader")) as sub:
        sub.subscribe("bound/#")
        assert {sub.get()[0], sub.get()[0]} == {"bound/0", "bound/1"}
        assert sub.none()


def test_sensorthings_notifications_are_never_retained(env: Env) -> None:
    port, stage, svc, token, OBS = env
    with Client(port, token=token("publisher")) as pub, Client(port) as live:
        live.subscribe(OBS)
        pub.publish(OBS, json.dumps({"result": 7}), qos=1, retain=True)  # a create request
        topic, payload, _ = live.get()
        assert topic == OBS and json.loads(payload)["result"] == 7
    with Client(port) as late:
        assert late.subscribe(OBS) == [0]
        assert late.none()


def test_persistent_session_keeps_subscriptions_and_qos1_messages(env: Env) -> None:
    port, stage, svc, token, OBS = env
    cid = "keeper-" + secrets.token_hex(3)
    first = Client(port, client_id=cid, clean=False)
    assert first.session_present is False
    assert first.subscribe(OBS, 1) == [1]
    assert first.subscribe("v1.1/Observations", 0) == [0]
    first.close()
    with Client(port, token=token("publisher")) as pub:
        for r in (1, 2):
            pub.publish(OBS, json.dumps({"result": r}), qos=1)
    with Client(port, client_id=cid, clean=False) as again:
        assert again.session_present is True
        got = [again.get(), again.get()]
        assert [(t, json.loads(p)["result"], q) for t, p, q in got] == [(OBS, 1, 1), (OBS, 2, 1)]
        assert again.none()  # QoS 0 messages are not kept for a disconnected client
        with Client(port, token=token("publisher")) as pub:
            pub.publish(OBS, json.dumps({"result": 3}), qos=1)
        assert {again.get()[0], again.get()[0]} == {OBS, "v1.1/Observations"}  # the subscriptions are live again


def test_clean_session_or_another_identity_starts_afresh(env: Env) -> None:
    port, stage, svc, token, OBS = env
    cid = "fresh-" + secrets.token_hex(3)
    with Client(port, client_id=cid, clean=False) as c:
        c.subscribe(OBS, 1)
    with Client(port, client_id=cid, clean=False, token=token("reader")) as other:
        assert other.session_present is False  # not resumed by a different identity
    with Client(port, client_id=cid, clean=False, token=token("reader")) as c:
        assert c.session_present is True  # its own kept session (anonymous clients may not take it: test_mqtt_security)
        c.subscribe(OBS, 1)
    with Client(port, client_id=cid, clean=True, token=token("reader")) as c:
        assert c.session_present is False
        with Client(port, token=token("publisher")) as pub:
            pub.publish(OBS, json.dumps({"result": 4}), qos=1)
        assert c.none()  # the clean session dropped the subscription
    assert cid not in svc.broker.parked


def test_sessions_are_clean_when_expiry_is_zero(serve: Any) -> None:
    s = serve(mqtt_session_expiry=0)
    with Client(s.mqtt_port, client_id="short", clean=False) as c:
        c.subscribe("v1.1/Observations", 1)
    with Client(s.mqtt_port, client_id="short", clean=False) as c:
        assert c.session_present is False
    assert not s.platform.services["mqtt"].broker.parked


def test_many_qos1_creates_are_all_acknowledged_and_notified(env: Env) -> None:
    port, stage, _svc, token, OBS = env
    before = stage.observations(stage.open.ds)
    with Client(port) as sub, Client(port, token=token("publisher")) as pub:
        sub.subscribe(OBS, 1)
        infos = [pub.c.publish(OBS, json.dumps({"result": i}), 1) for i in range(40)]
        for info in infos:
            info.wait_for_publish(10)
        results = sorted(json.loads(sub.get()[1])["result"] for _ in range(40))
        assert results == list(range(40))
    assert stage.observations(stage.open.ds) == before + 40


def _read_packets(sock: socket.socket, reader: codec.Reader, want: int) -> list[codec.Packet]:
    out: list[codec.Packet] = []
    while len(out) < want:
        out.extend(reader.packets())
        if len(out) >= want:
            break
        data = sock.recv(65536)
        assert data, "the broker closed the connection"
        reader.feed(data)
    return out


def test_unacknowledged_messages_are_sent_again_with_dup_after_a_reconnect(env: Env) -> None:
    port, stage, svc, token, OBS = env
    cid = "raw-" + secrets.token_hex(3)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        reader = codec.Reader(1 << 20)
        s.sendall(codec.connect(cid, clean=False))
        assert _read_packets(s, reader, 1)[0].type == codec.CONNACK
        s.sendall(codec.subscribe(1, [(OBS, 1)]))
        assert _read_packets(s, reader, 1)[0].type == codec.SUBACK
        with Client(port, token=token("publisher")) as pub:
            pub.publish(OBS, json.dumps({"result": 11}), qos=1)
        first = codec.parse_publish(_read_packets(s, reader, 1)[0])
        assert first.qos == 1 and not first.dup and json.loads(first.payload)["result"] == 11
        # no PUBACK: the connection drops
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        reader = codec.Reader(1 << 20)
        s.sendall(codec.connect(cid, clean=False))
        connack, again = _read_packets(s, reader, 2)
        assert connack.type == codec.CONNACK and connack.body[0] == 1  # session present
        msg = codec.parse_publish(again)
        assert msg.dup and msg.packet_id == first.packet_id and msg.payload == first.payload
        s.sendall(codec.ack(codec.PUBACK, msg.packet_id or 0) + codec.DISCONNECT_BYTES)


def test_wildcard_matches_follow_new_and_removed_filters(env: Env) -> None:
    port, stage, svc, token, OBS = env
    with Client(port) as a, Client(port) as b, Client(port, token=token("publisher")) as pub:
        assert a.subscribe("v1.1/#") == [0]
        pub.publish(OBS, json.dumps({"result": 1}), qos=1)
        foi = f"v1.1/FeaturesOfInterest({stage.open.foi})/Observations"
        assert {a.get()[0] for _ in range(3)} == {OBS, "v1.1/Observations", foi}
        assert b.subscribe("v1.1/+/Observations?$select=result") == [0]  # a new filter after names were seen
        pub.publish(OBS, json.dumps({"result": 2}), qos=1)
        assert b.collect(2) == {OBS + "?$select=result": {"result": 2},
                                foi + "?$select=result": {"result": 2}}
        assert len([a.get() for _ in range(3)]) == 3
        a.c.unsubscribe("v1.1/#")
        a.none(0.3)
        pub.publish(OBS, json.dumps({"result": 3}), qos=1)
        assert b.collect(2)[OBS + "?$select=result"] == {"result": 3}
        assert a.none()
    deadline = time.monotonic() + 10
    while svc.broker.wild and time.monotonic() < deadline:  # the disconnects are handled on the broker's loop
        time.sleep(0.05)
    assert not svc.broker.wild
