"""The embedded broker with paho-mqtt clients, on the real app (HTTP API, storage, gate)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sensing_mqtt.harness import Stage, staged
from tests.sensing_mqtt.mqttc import Client

INVALID = 'urbanos_mqtt_events_total{event="publish_rejected",reason="invalid_payload"}'
NOT_FOUND = 'urbanos_mqtt_events_total{event="publish_rejected",reason="not_found"}'
ANONYMOUS_PUBLISH = 'urbanos_mqtt_events_total{event="publish_refused",reason="anonymous"}'
TOO_MANY = 'urbanos_mqtt_events_total{event="subscribe_refused",reason="too_many"}'
QUEUE_FULL = 'urbanos_mqtt_events_total{event="dropped",reason="queue_full"}'
PROTOCOL_ERROR = 'urbanos_mqtt_events_total{event="rejected",reason="protocol_error"}'
CHECK_FAILED = 'urbanos_mqtt_events_total{event="subscribe_refused",reason="error"}'


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    with staged(tmp_path_factory.mktemp("embedded"), mqtt_queue_size=50, mqtt_max_subscriptions=5) as s:
        yield s


def test_subscribe_and_create_via_publish(stage: Stage) -> None:
    st = stage.open
    with Client(stage.port) as sub, Client(stage.port, token=stage.tokens["publisher"]) as pub:
        assert sub.subscribe(st.observations, 1) == [1]
        assert sub.subscribe("v1.0/Observations?$select=result,phenomenonTime") == [0]
        pub.publish(st.observations, json.dumps({"result": 42}), qos=1)
        msgs = [sub.get(), sub.get()]
        topics = {m[0]: m for m in msgs}
        full = topics[st.observations]
        body = json.loads(full[1])
        assert body["result"] == 42 and "@iot.selfLink" in body and full[2] == 1
        sel = json.loads(topics["v1.0/Observations?$select=result,phenomenonTime"][1])
        assert set(sel) == {"result", "phenomenonTime"}
        assert sub.none()


def test_entity_and_property_topics(stage: Stage) -> None:
    t = stage.open.thing
    with Client(stage.port) as sub:
        assert sub.subscribe(f"v1.1/Things({t})") == [0]
        assert sub.subscribe(f"v1.1/Things({t})/properties") == [0]
        assert sub.subscribe(f"v1.1/Things({t})?$select=description") == [0]
        stage.patch(f"Things({t})", {"name": "renamed"})
        topic, payload, _ = sub.get()
        assert topic == f"v1.1/Things({t})" and json.loads(payload)["name"] == "renamed"
        assert sub.none()  # neither properties nor description changed
        stage.patch(f"Things({t})", {"properties": {"a": 2}})
        got = {m[0]: json.loads(m[1]) for m in (sub.get(), sub.get())}
        assert got[f"v1.1/Things({t})/properties"] == {"properties": {"a": 2}}
        assert got[f"v1.1/Things({t})"]["properties"] == {"a": 2}
        assert sub.none()


def test_access_control(stage: Stage) -> None:
    closed, opened = stage.closed, stage.open
    with Client(stage.port) as anon, Client(stage.port, token=stage.tokens["reader"]) as reader:
        # anonymous: open data only, no raw topics
        assert anon.subscribe(closed.observations) == [0x80]
        assert anon.subscribe(f"v1.1/Things({closed.thing})") == [0x80]
        assert anon.subscribe("v1.1/Things(999999)") == [0x80]
        assert anon.subscribe("plain/topic") == [0x80]
        assert anon.subscribe("v1.1/Nonsense") == [0x80]
        assert reader.subscribe(closed.observations) == [0]
        # wildcard subscribers only hear what they may read
        assert anon.subscribe("v1.1/#") == [0]
        # anonymous publish is refused and creates nothing
        before, refused = stage.observations(opened.ds), stage.metric(ANONYMOUS_PUBLISH)
        anon.publish(opened.observations, json.dumps({"result": 1}), qos=1)
        assert stage.observations(opened.ds) == before
        assert stage.metric(ANONYMOUS_PUBLISH) == refused + 1
        with Client(stage.port, token=stage.tokens["publisher"]) as pub:
            pub.publish(closed.observations, json.dumps({"result": 7}), qos=1)
        t, payload, _ = reader.get()
        assert t == closed.observations and json.loads(payload)["result"] == 7
        assert anon.none()
    bad = Client(stage.port, token="wrong")
    try:
        assert bad.rc in (4, 134)  # CONNACK: bad user name or password (paho reports it as 134)
    finally:
        bad.close()


def test_invalid_publishes_are_counted_and_harmless(stage: Stage) -> None:
    st = stage.open
    before, invalid, not_found = stage.observations(st.ds), stage.metric(INVALID), stage.metric(NOT_FOUND)
    with Client(stage.port, token=stage.tokens["publisher"]) as pub, Client(stage.port) as sub:
        sub.subscribe(st.observations)
        pub.publish(st.observations, b"{not json", qos=1)
        pub.publish(st.observations, b"[1,2]", qos=1)
        pub.publish(st.observations, json.dumps({"no": "result"}), qos=1)
        pub.publish("v1.1/Datastreams(999999)/Observations", json.dumps({"result": 1}), qos=1)
        pub.publish(f"v1.1/Things({st.thing})", json.dumps({"result": 1}), qos=1)
        pub.publish("v1.1/Unknown", json.dumps({"result": 1}), qos=0)
        pub.publish(st.observations, json.dumps({"result": 5}), qos=0)
        assert json.loads(sub.get()[1])["result"] == 5
    assert stage.observations(st.ds) == before + 1
    assert stage.metric(INVALID) == invalid + 5
    assert stage.metric(NOT_FOUND) == not_found + 1


def test_subscription_flood_and_garbage(stage: Stage) -> None:
    t = stage.open.thing
    too_many = stage.metric(TOO_MANY)
    with Client(stage.port) as c:
        codes = [c.subscribe(f"v1.1/Things({t})?$select=name,f{i}")[0] for i in range(7)]
        assert codes[:5] == [0] * 5 and codes[5:] == [0x80, 0x80]
    # garbage bytes and an oversized packet close only that connection
    with socket.create_connection(("127.0.0.1", stage.port)) as s:
        s.sendall(b"\xff\xff\xff\xff\xff")
        s.settimeout(5)
        assert s.recv(10) == b""
    with Client(stage.port) as c:
        assert c.subscribe(f"v1.1/Things({t})") == [0]
    assert stage.metric(TOO_MANY) == too_many + 2


def test_slow_subscriber_drops_oldest_and_is_counted(stage: Stage) -> None:
    from urbanos.sensing.mqtt import codec

    t = stage.station().thing  # its own Thing: its descriptions grow large
    dropped = stage.metric(QUEUE_FULL)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills the path sooner
    raw.connect(("127.0.0.1", stage.port))
    with raw, Client(stage.port) as fast:
        raw.sendall(codec.connect("slow", keepalive=0))
        raw.recv(4)
        raw.sendall(codec.subscribe(1, [(f"v1.1/Things({t})", 0)]))
        raw.recv(5)
        fast.subscribe(f"v1.1/Things({t})")
        # a subscriber that never reads: its socket buffers fill, then its bounded queue drops
        big = "x" * 100_000
        for i in range(150):
            stage.patch(f"Things({t})", {"description": f"{i}{big}"})
        last = None
        for _ in range(150):
            last = json.loads(fast.get()[1])
        assert last is not None and last["description"].startswith("149")
    assert stage.metric(QUEUE_FULL) > dropped


def test_raw_topics_relay_between_authenticated_clients(stage: Stage) -> None:
    with Client(stage.port, token=stage.tokens["reader"]) as a, Client(stage.port, token=stage.tokens["publisher"]) as b:
        assert a.subscribe("bench/+/x", 1) == [1]
        b.publish("bench/1/x", b"hello", qos=1)
        assert a.get()[:2] == ("bench/1/x", b"hello")


def test_default_port_taken_falls_back_and_readvertises(make_settings: Any) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    receive = "http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        settings = make_settings(mqtt_port=port)
        settings.sources["mqtt_port"] = "default"  # as if left at its default
        app = create_app(settings)
        try:
            with TestClient(app) as c:
                bound = app.state.platform.services["mqtt"].tcp_port
                endpoints = c.get("/sta/v1.1").json()["serverSettings"][receive]["endpoints"]
        finally:
            app.state.platform.close()
    assert bound is not None and bound != port
    assert endpoints[0] == f"mqtt://127.0.0.1:{bound}"


def test_oversized_publish_closes_only_that_connection(stage: Stage) -> None:
    from urbanos.sensing.mqtt import codec

    st = stage.open
    before, errors = stage.observations(st.ds), stage.metric(PROTOCOL_ERROR)
    with socket.create_connection(("127.0.0.1", stage.port)) as s:
        s.sendall(codec.connect("big", keepalive=0, username="u", password=stage.tokens["publisher"]))
        assert s.recv(4) == codec.connack(0)
        s.sendall(codec.publish(st.observations, b'{"result": "' + b"x" * 300_000 + b'"}'))
        s.settimeout(5)
        try:
            assert s.recv(10) == b""
        except ConnectionResetError:
            pass
    assert stage.observations(st.ds) == before
    assert stage.metric(PROTOCOL_ERROR) == errors + 1
    with Client(stage.port) as c:
        assert c.subscribe(f"v1.1/Things({st.thing})") == [0]


def test_overlapping_subscriptions_deliver_once_at_the_highest_qos(stage: Stage) -> None:
    st = stage.open
    with Client(stage.port) as sub, Client(stage.port, token=stage.tokens["publisher"]) as pub:
        assert sub.subscribe("v1.1/+/Observations", 0) == [0]
        assert sub.subscribe(st.observations, 1) == [1]
        pub.publish(st.observations, json.dumps({"result": 8}), qos=1)
        got = [sub.get() for _ in range(2)]  # Datastreams(…)/… and FeaturesOfInterest(…)/…
        by_topic = {t: q for t, _p, q in got}
        assert by_topic == {st.observations: 1, f"v1.1/FeaturesOfInterest({st.foi})/Observations": 0}
        assert sub.none()


def test_a_failing_check_refuses_only_that_subscription(stage: Stage, monkeypatch: pytest.MonkeyPatch) -> None:
    """A subscription check that fails (the service raises) refuses that subscription, counted, and nothing else."""
    async def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("the SensorThings service failed")

    monkeypatch.setattr(stage.svc.sensing, "read_path", broken)  # the navigation topic's check reads the path
    errors = stage.metric(CHECK_FAILED)
    with Client(stage.port) as c:
        assert c.subscribe(f"v1.1/Datastreams({stage.open.ds})/Thing") == [0x80]
        assert c.subscribe(f"v1.1/Things({stage.open.thing})") == [0]
    assert stage.metric(CHECK_FAILED) == errors + 1


def test_bulk_observations_notify_one_by_one_in_order(stage: Stage) -> None:
    """A feed's bulk write (the SensorThings mirror, GBFS) emits one batch event per Datastream; subscribers still get
    one notification per Observation, in the order written, and only where they may read."""
    from urbanos.events import batch_ids
    from urbanos.governance import ADMIN
    from urbanos.ports import SensingPort

    port = stage.platform.require(SensingPort)
    st, hidden = stage.open, stage.closed
    seen: list[Any] = []
    stage.platform.bus.subscribe(seen.append, topic="sensing")
    rows = [(st.ds, f"2031-01-01T00:00:{i:02d}Z", i) for i in range(30)]
    rows += [(hidden.ds, f"2031-01-01T00:01:{i:02d}Z", 100 + i) for i in range(5)]
    try:
        with Client(stage.port) as sub, Client(stage.port, token=stage.tokens["reader"]) as member:
            assert sub.subscribe(st.observations) == [0] and sub.subscribe(hidden.observations) == [0x80]
            assert member.subscribe(hidden.observations) == [0]
            ids = stage.platform.db.write_sync(lambda c: port.create_observations_bulk(c, ADMIN, rows))
            got = [json.loads(sub.get()[1]) for _ in range(30)]
            assert [(g["@iot.id"], g["result"]) for g in got] == [(ids[i], i) for i in range(30)]
            assert [json.loads(member.get()[1])["result"] for _ in range(5)] == [100, 101, 102, 103, 104]
            assert sub.none() and member.none()
    finally:
        stage.platform.bus.unsubscribe(seen.append)
    batches = [batch_ids(e) for e in seen if e.entity == "Observation"]
    assert batches == [ids[:30], ids[30:]]
