"""The embedded broker with paho-mqtt clients, on a stand-in SensorThings service."""

from __future__ import annotations

import json
import socket

import pytest
from prometheus_client import generate_latest

from tests.conftest import free_port
from tests.sensing_mqtt.harness import call, running
from tests.sensing_mqtt.mqttc import Client


@pytest.fixture
def env():
    port = free_port()
    with running(mqtt_port=port, mqtt_queue_size=50, mqtt_max_subscriptions=5) as (platform, svc, loop):
        yield port, platform, svc, loop


def metric(platform, text: str) -> float:
    for line in generate_latest(platform.registry).decode().splitlines():
        if line.startswith(text + " "):
            return float(line.split()[-1])
    return 0.0


def test_subscribe_and_create_via_publish(env):
    port, platform, svc, loop = env
    with Client(port) as sub, Client(port, token="publisher-token") as pub:
        assert sub.subscribe("v1.1/Datastreams(1)/Observations", 1) == [1]
        assert sub.subscribe("v1.0/Observations?$select=result,phenomenonTime") == [0]
        pub.publish("v1.1/Datastreams(1)/Observations", json.dumps({"result": 42}), qos=1)
        msgs = [sub.get(), sub.get()]
        topics = {m[0]: m for m in msgs}
        full = topics["v1.1/Datastreams(1)/Observations"]
        body = json.loads(full[1])
        assert body["result"] == 42 and "@iot.selfLink" in body and full[2] == 1
        sel = json.loads(topics["v1.0/Observations?$select=result,phenomenonTime"][1])
        assert set(sel) == {"result", "phenomenonTime"}
        assert sub.none()


def test_entity_and_property_topics(env):
    port, platform, svc, loop = env
    sensing = platform.services["sensing"]
    with Client(port) as sub:
        assert sub.subscribe("v1.1/Things(1)") == [0]
        assert sub.subscribe("v1.1/Things(1)/properties") == [0]
        assert sub.subscribe("v1.1/Things(1)?$select=description") == [0]
        call(loop, sensing.update, "Things", 1, {"name": "renamed"})
        t, payload, _ = sub.get()
        assert t == "v1.1/Things(1)" and json.loads(payload)["name"] == "renamed"
        assert sub.none()  # neither properties nor description changed
        call(loop, sensing.update, "Things", 1, {"properties": {"a": 2}})
        got = {m[0]: json.loads(m[1]) for m in (sub.get(), sub.get())}
        assert got["v1.1/Things(1)/properties"] == {"properties": {"a": 2}}
        assert got["v1.1/Things(1)"]["properties"] == {"a": 2}
        assert sub.none()


def test_access_control(env):
    port, platform, svc, loop = env
    sensing = platform.services["sensing"]
    with Client(port) as anon, Client(port, token="reader-token") as reader:
        # anonymous: open data only, no raw topics
        assert anon.subscribe("v1.1/Datastreams(2)/Observations") == [0x80]
        assert anon.subscribe("v1.1/Things(2)") == [0x80]
        assert anon.subscribe("v1.1/Things(999)") == [0x80]
        assert anon.subscribe("plain/topic") == [0x80]
        assert anon.subscribe("v1.1/Nonsense") == [0x80]
        assert reader.subscribe("v1.1/Datastreams(2)/Observations") == [0]
        # wildcard subscribers only hear what they may read
        assert anon.subscribe("v1.1/#") == [0]
        # anonymous publish is refused and creates nothing
        before = len(sensing.rows)
        anon.publish("v1.1/Datastreams(1)/Observations", json.dumps({"result": 1}), qos=1)
        assert len(sensing.rows) == before
        assert metric(platform, 'urbanos_mqtt_events_total{event="publish_refused",reason="anonymous"}') == 1
        with Client(port, token="publisher-token") as pub:
            pub.publish("v1.1/Datastreams(2)/Observations", json.dumps({"result": 7}), qos=1)
        t, payload, _ = reader.get()
        assert t == "v1.1/Datastreams(2)/Observations" and json.loads(payload)["result"] == 7
        assert anon.none()
    bad = Client(port, token="wrong")
    try:
        assert bad.rc in (4, 134)  # CONNACK: bad user name or password (paho reports it as 134)
    finally:
        bad.close()


def test_invalid_publishes_are_counted_and_harmless(env):
    port, platform, svc, loop = env
    sensing = platform.services["sensing"]
    before = len(sensing.rows)
    with Client(port, token="publisher-token") as pub, Client(port) as sub:
        sub.subscribe("v1.1/Datastreams(1)/Observations")
        pub.publish("v1.1/Datastreams(1)/Observations", b"{not json", qos=1)
        pub.publish("v1.1/Datastreams(1)/Observations", b"[1,2]", qos=1)
        pub.publish("v1.1/Datastreams(1)/Observations", json.dumps({"no": "result"}), qos=1)
        pub.publish("v1.1/Datastreams(999)/Observations", json.dumps({"result": 1}), qos=1)
        pub.publish("v1.1/Things(1)", json.dumps({"result": 1}), qos=1)
        pub.publish("v1.1/Unknown", json.dumps({"result": 1}), qos=0)
        pub.publish("v1.1/Datastreams(1)/Observations", json.dumps({"result": 5}), qos=0)
        assert json.loads(sub.get()[1])["result"] == 5
    assert len(sensing.rows) == before + 1
    assert metric(platform, 'urbanos_mqtt_events_total{event="publish_rejected",reason="invalid_payload"}') == 5
    assert metric(platform, 'urbanos_mqtt_events_total{event="publish_rejected",reason="not_found"}') == 1


def test_subscription_flood_and_garbage(env):
    port, platform, svc, loop = env
    with Client(port) as c:
        codes = [c.subscribe(f"v1.1/Things(1)?$select=name,f{i}")[0] for i in range(7)]
        assert codes[:5] == [0] * 5 and codes[5:] == [0x80, 0x80]
    # garbage bytes and an oversized packet close only that connection
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"\xff\xff\xff\xff\xff")
        s.settimeout(5)
        assert s.recv(10) == b""
    with Client(port) as c:
        assert c.subscribe("v1.1/Things(1)") == [0]
    assert metric(platform, 'urbanos_mqtt_events_total{event="subscribe_refused",reason="too_many"}') == 2


def test_slow_subscriber_drops_oldest_and_is_counted(env):
    port, platform, svc, loop = env
    sensing = platform.services["sensing"]
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills the path sooner
    raw.connect(("127.0.0.1", port))
    with raw, Client(port) as fast:
        from urbanos.sensing.mqtt import codec

        raw.sendall(codec.connect("slow", keepalive=0))
        raw.recv(4)
        raw.sendall(codec.subscribe(1, [("v1.1/Things(1)", 0)]))
        raw.recv(5)
        fast.subscribe("v1.1/Things(1)")
        # a subscriber that never reads: its socket buffers fill, then its bounded queue drops
        big = "x" * 100_000
        for i in range(150):
            call(loop, sensing.update, "Things", 1, {"description": f"{i}{big}"})
        last = None
        for _ in range(150):
            last = json.loads(fast.get()[1])
        assert last is not None and last["description"].startswith("149")
    assert metric(platform, 'urbanos_mqtt_events_total{event="dropped",reason="queue_full"}') > 0


def test_raw_topics_relay_between_authenticated_clients(env):
    port, platform, svc, loop = env
    with Client(port, token="reader-token") as a, Client(port, token="publisher-token") as b:
        assert a.subscribe("bench/+/x", 1) == [1]
        b.publish("bench/1/x", b"hello", qos=1)
        assert a.get()[:2] == ("bench/1/x", b"hello")




def test_default_port_taken_falls_back_and_readvertises():
    import asyncio

    from tests.sensing_mqtt.harness import FakePlatform
    from urbanos.sensing.mqtt.service import MqttService

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]

        async def run() -> tuple[int | None, list[str]]:
            platform = FakePlatform(mqtt_port=port)
            platform.settings.sources["mqtt_port"] = "default"  # as if left at its default
            eps = [f"mqtt://127.0.0.1:{port}", "ws://127.0.0.1:8000/mqtt"]
            platform.services["sensing_mqtt_endpoints"] = eps
            svc = MqttService(platform)
            await svc.start()
            try:
                return svc.tcp_port, eps
            finally:
                await svc.stop()

        bound, eps = asyncio.run(run())
    assert bound is not None and bound != port
    assert eps[0] == f"mqtt://127.0.0.1:{bound}"


def test_oversized_publish_closes_only_that_connection(env):
    port, platform, svc, loop = env
    from urbanos.sensing.mqtt import codec

    sensing = platform.services["sensing"]
    before = len(sensing.rows)
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(codec.connect("big", keepalive=0, username="u", password="publisher-token"))
        assert s.recv(4) == codec.connack(0)
        s.sendall(codec.publish("v1.1/Datastreams(1)/Observations", b'{"result": "' + b"x" * 300_000 + b'"}'))
        s.settimeout(5)
        try:
            assert s.recv(10) == b""
        except ConnectionResetError:
            pass
    assert len(sensing.rows) == before
    assert metric(platform, 'urbanos_mqtt_events_total{event="rejected",reason="protocol_error"}') == 1
    with Client(port) as c:
        assert c.subscribe("v1.1/Things(1)") == [0]


def test_overlapping_subscriptions_deliver_once_at_the_highest_qos(env):
    port, platform, svc, loop = env
    with Client(port) as sub, Client(port, token="publisher-token") as pub:
        assert sub.subscribe("v1.1/+/Observations", 0) == [0]
        assert sub.subscribe("v1.1/Datastreams(1)/Observations", 1) == [1]
        pub.publish("v1.1/Datastreams(1)/Observations", json.dumps({"result": 8}), qos=1)
        got = [sub.get() for _ in range(2)]  # Datastreams(1)/… and FeaturesOfInterest(3)/…
        by_topic = {t: q for t, _p, q in got}
        assert by_topic == {"v1.1/Datastreams(1)/Observations": 1, "v1.1/FeaturesOfInterest(3)/Observations": 0}
        assert sub.none()


def test_a_failing_check_refuses_only_that_subscription(env):
    port, platform, svc, loop = env
    # the stand-in service has no read_path: the navigation topic's check fails inside the hook
    with Client(port) as c:
        assert c.subscribe("v1.1/Datastreams(1)/Thing") == [0x80]
        assert c.subscribe("v1.1/Things(1)") == [0]
    assert metric(platform, 'urbanos_mqtt_events_total{event="subscribe_refused",reason="error"}') == 1
