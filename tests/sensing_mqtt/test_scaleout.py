"""Scale-out: two `urbanos serve` workers on one PostgreSQL database, and the external broker mode."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import threading
import time

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, BACKEND, free_port, start_server
from tests.sensing_mqtt.mqttc import Client

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STATION = {
    "name": "counter", "description": "pedestrian counter",
    "Locations": [{"name": "c", "description": "c", "encodingType": "application/geo+json",
                   "location": {"type": "Point", "coordinates": [144.96, -37.81]}}],
    "Datastreams": [{
        "name": "count", "description": "people per hour",
        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
        "unitOfMeasurement": {"name": "count", "symbol": "{people}", "definition": "http://unitsofmeasure.org/ucum.html"},
        "Sensor": {"name": "s", "description": "s", "encodingType": "application/pdf", "metadata": "x"},
        "ObservedProperty": {"name": "p", "definition": "http://example.org/p", "description": "p"},
    }],
}


def _datastream(url: str) -> int:
    r = httpx.post(url + "/sta/v1.1/Things", json=STATION, headers=H, timeout=30)
    assert r.status_code == 201, r.text
    thing = r.headers["Location"].rsplit("(", 1)[1].rstrip(")")
    r = httpx.get(f"{url}/sta/v1.1/Things({thing})/Datastreams", timeout=30)
    return int(r.json()["value"][0]["@iot.id"])


def _mosquitto() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=2):
            return True
    except OSError:
        return False


def _redis() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("bus", [pytest.param("postgres", marks=pytest.mark.postgres), "redis://127.0.0.1:6379/0"])
def test_post_on_worker_a_reaches_subscriber_on_worker_b(tmp_path, db_url, bus):
    if bus == "postgres" and BACKEND != "postgresql":
        pytest.skip("the PostgreSQL bus needs the PostgreSQL back end")
    if bus.startswith("redis") and not _redis():
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379 in CI")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    pa, pb = free_port(), free_port()
    env = {"URBANOS_BUS": bus}
    a = start_server(tmp_path / "a", db_url, args=["--mqtt-port", str(pa)], env=env)
    try:
        b = start_server(tmp_path / "b", db_url, args=["--mqtt-port", str(pb)], env=env)
        try:
            ds = _datastream(a.url)
            with Client(pb) as sub:
                assert sub.subscribe(f"v1.1/Datastreams({ds})/Observations", 1) == [1]
                time.sleep(0.5)  # both listeners are up well before this; the bus connects at start
                r = httpx.post(f"{a.url}/sta/v1.1/Datastreams({ds})/Observations", json={"result": 12}, headers=H)
                assert r.status_code == 201, r.text
                topic, payload, _ = sub.get(timeout=15)
                assert topic == f"v1.1/Datastreams({ds})/Observations"
                body = json.loads(payload)
                assert body["result"] == 12
                assert body == httpx.get(f"{b.url}/sta/v1.1/Observations({body['@iot.id']})").json()
                assert sub.none()  # delivered once, not echoed
            metrics = httpx.get(f"{b.url}/metrics").text
            assert 'urbanos_bus_remote{figure="connected"} 1.0' in metrics
        finally:
            b.stop()
    finally:
        a.stop()


def test_external_mode_on_mosquitto(serve):
    if not _mosquitto():
        if os.environ.get("CI"):
            pytest.fail("Mosquitto is not running on 127.0.0.1:1883 in CI")
        pytest.skip("Mosquitto is not running on 127.0.0.1:1883")
    tag = secrets.token_hex(4)
    prefix = f"urbanos-test-{tag}/"
    s = serve(mqtt_url="mqtt://127.0.0.1:1883", mqtt_url_token=ADMIN_TOKEN, mqtt_url_prefix=prefix,
              mqtt_shared_group=f"g{tag}")
    svc = s.platform.services["mqtt"]
    for _ in range(200):
        if svc.external.connected.is_set():
            break
        time.sleep(0.05)
    assert svc.external.connected.is_set()
    _thing, ds = s.station()
    with Client(1883) as sub, Client(1883) as pub, Client(s.port, transport="websockets") as ws:
        assert sub.subscribe(f"{prefix}v1.1/Datastreams({ds})/Observations", 1) == [1]
        # /mqtt on the HTTP port passes through to the external broker
        assert ws.subscribe(f"{prefix}v1.1/Datastreams({ds})/Observations") == [0]
        time.sleep(0.3)
        s.post(f"Datastreams({ds})/Observations", {"result": 21})
        assert json.loads(sub.get()[1])["result"] == 21
        assert json.loads(ws.get()[1])["result"] == 21
        # create through the external broker; the notification comes back once
        pub.publish(f"{prefix}v1.1/Datastreams({ds})/Observations", json.dumps({"result": 22}), qos=1)
        topic, payload, _q = sub.get()  # the notification of the create (the raw publish carries no selfLink)
        msgs = [json.loads(payload)]
        if "@iot.selfLink" not in msgs[0]:
            msgs.append(json.loads(sub.get()[1]))
        assert msgs[-1]["result"] == 22 and "@iot.selfLink" in msgs[-1]
        assert sub.none()  # once: one worker handled the create, and its echo was not taken for a create
    values = sorted(o["result"] for o in s.get(f"v1.1/Datastreams({ds})/Observations")["value"])
    assert values == [21, 22]
    # entity and property topics on the external broker
    with Client(1883) as sub:
        assert sub.subscribe(f"{prefix}v1.1/Things({_thing})/properties") == [0]
        time.sleep(0.3)
        r = s.http.patch(f"/sta/v1.1/Things({_thing})", json={"properties": {"zone": "c"}})
        assert r.status_code == 200, r.text
        topic, payload, _q = sub.get()
        assert topic == f"{prefix}v1.1/Things({_thing})/properties"
        assert json.loads(payload) == {"properties": {"zone": "c"}}


def test_external_mode_survives_a_broker_restart(serve):
    """The external broker goes away and comes back on the same port: notifications resume by themselves. (The
    external broker is the embedded broker on its own: a plain MQTT broker that relays every topic.)"""
    from urbanos.sensing.mqtt.broker import Broker, Hooks

    port = free_port()
    loop = asyncio.new_event_loop()
    th = threading.Thread(target=loop.run_forever, daemon=True)
    th.start()

    def broker_up() -> Broker:
        async def up() -> Broker:
            broker = Broker(Hooks())
            await broker.listen("127.0.0.1", port)
            return broker
        return asyncio.run_coroutine_threadsafe(up(), loop).result(10)

    def broker_down(broker: Broker) -> None:
        asyncio.run_coroutine_threadsafe(broker.close(), loop).result(10)

    ext = broker_up()
    try:
        s = serve(mqtt_url=f"mqtt://127.0.0.1:{port}", mqtt_url_token=ADMIN_TOKEN,
                  mqtt_url_prefix="ext/")
        link = s.platform.services["mqtt"].external
        _thing, ds = s.station()
        topic = f"ext/v1.1/Datastreams({ds})/Observations"
        for _ in range(200):
            if link.connected.is_set():
                break
            time.sleep(0.05)
        with Client(port) as sub:
            assert sub.subscribe(topic) == [0]
            s.post(f"Datastreams({ds})/Observations", {"result": 1})
            assert json.loads(sub.get()[1])["result"] == 1
        broker_down(ext)
        for _ in range(200):
            if not link.connected.is_set():
                break
            time.sleep(0.05)
        s.post(f"Datastreams({ds})/Observations", {"result": 2})  # queued while the broker is away
        ext = broker_up()
        with Client(port) as sub:
            assert sub.subscribe(topic) == [0]
            for _ in range(300):
                if link.connected.is_set() and link.connects >= 2:
                    break
                time.sleep(0.05)
            assert link.connects >= 2
            s.post(f"Datastreams({ds})/Observations", {"result": 3})
            results = []
            while 3 not in results:
                results.append(json.loads(sub.get()[1])["result"])
    finally:
        broker_down(ext)
        loop.call_soon_threadsafe(loop.stop)
        th.join(5)
