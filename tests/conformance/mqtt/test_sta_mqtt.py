"""The SensorThings MQTT extension on the real app (HTTP API, storage, gate), with paho-mqtt clients."""

from __future__ import annotations

import json

from tests.conftest import ADMIN_TOKEN
from tests.sensing_mqtt.mqttc import Client


def test_post_reaches_subscribers_as_http_json(serve):
    s = serve()
    thing, ds = s.station()
    with Client(s.mqtt_port) as sub:
        assert sub.subscribe(f"v1.1/Datastreams({ds})/Observations", 1) == [1]
        assert sub.subscribe(f"v1.0/Datastreams({ds})/Observations?$select=result,phenomenonTime") == [0]
        assert sub.subscribe("v1.1/Observations") == [0]
        assert sub.subscribe(f"v1.0/Datastreams({ds})/Observations") == [0]
        # open Observations are rendered from the committed values, without a read: still exactly the GET JSON
        created = s.post(f"Datastreams({ds})/Observations", {
            "result": {"count": 17, "ok": True}, "phenomenonTime": "2024-05-01T10:00:00Z/2024-05-01T11:00:00Z",
            "resultTime": "2024-05-01T11:00:05Z", "validTime": "2024-05-01T10:00:00Z/2024-05-02T10:00:00Z",
            "resultQuality": [{"q": 1}], "parameters": {"device": "a", "n": 2}})
        got = sub.collect(4)
        oid = created["@iot.id"]
        http = s.get(f"v1.1/Observations({oid})")
        assert got[f"v1.1/Datastreams({ds})/Observations"] == http
        assert got["v1.1/Observations"] == http
        assert got[f"v1.0/Datastreams({ds})/Observations"] == s.get(f"v1.0/Observations({oid})")
        sel = got[f"v1.0/Datastreams({ds})/Observations?$select=result,phenomenonTime"]
        assert sel == s.get(f"v1.0/Observations({oid})?$select=result,phenomenonTime")
        assert sub.none()


def test_thing_and_property_topics(serve):
    s = serve()
    thing, ds = s.station()
    with Client(s.mqtt_port) as sub:
        assert sub.subscribe(f"v1.1/Things({thing})") == [0]
        assert sub.subscribe(f"v1.1/Things({thing})/properties") == [0]
        assert sub.subscribe(f"v1.1/Datastreams({ds})/Thing?$select=name") == [0]
        assert sub.subscribe("v1.1/Datastreams(999999)/Thing") == [0x80]
        r = s.http.patch(f"/sta/v1.1/Things({thing})", json={"name": "renamed"})
        assert r.status_code == 200, r.text
        got = {m[0]: json.loads(m[1]) for m in (sub.get(), sub.get())}
        assert got[f"v1.1/Things({thing})"] == s.get(f"v1.1/Things({thing})")
        assert got[f"v1.1/Datastreams({ds})/Thing?$select=name"] == s.get(f"v1.1/Datastreams({ds})/Thing?$select=name")
        assert sub.none()  # properties did not change
        r = s.http.patch(f"/sta/v1.1/Things({thing})", json={"properties": {"zone": "b"}})
        assert r.status_code == 200, r.text
        got = {m[0]: json.loads(m[1]) for m in (sub.get(), sub.get())}
        assert got[f"v1.1/Things({thing})/properties"] == {"properties": {"zone": "b"}}
        assert sub.none()  # the $select=name navigation topic: name did not change


def test_create_via_publish_and_bad_input(serve):
    s = serve()
    _thing, ds = s.station()
    with Client(s.mqtt_port, token=ADMIN_TOKEN) as pub, Client(s.mqtt_port) as sub:
        assert sub.subscribe(f"v1.1/Datastreams({ds})/Observations") == [0]
        pub.publish(f"v1.1/Datastreams({ds})/Observations", b"{broken", qos=1)
        pub.publish(f"v1.1/Datastreams({ds})/Observations", json.dumps({"result": 1, "phenomenonTime": "never"}), qos=1)
        pub.publish("v1.1/Datastreams(999999)/Observations", json.dumps({"result": 1}), qos=1)
        pub.publish("v1.1/NotASet", json.dumps({"result": 1}), qos=0)
        pub.publish(f"v1.1/Datastreams({ds})/Observations", json.dumps({"result": 3.5}), qos=0)
        pub.publish("v1.1/Observations", json.dumps({"result": 4, "Datastream": {"@iot.id": ds}}), qos=1)
        results = sorted(json.loads(sub.get()[1])["result"] for _ in range(2))
        assert results == [3.5, 4]
        assert sub.none()
    listing = s.get(f"v1.1/Datastreams({ds})/Observations")
    assert sorted(o["result"] for o in listing["value"]) == [3.5, 4]
    metrics = s.http.get("/metrics").text
    assert 'urbanos_mqtt_events_total{event="publish_rejected",reason="invalid_payload"}' in metrics
    assert s.http.get("/healthz").status_code == 200


def test_access_control_on_non_open_data(serve):
    s = serve()
    internal = s.dataset("closed-counters", "internal", org="mobility")
    thing, ds = s.station(dataset_id=internal)
    _t2, open_ds = s.station()
    member = s.token("reader", "mobility")
    stranger = s.token("reader", "parks")
    with Client(s.mqtt_port) as anon, Client(s.mqtt_port, token=stranger) as other, \
            Client(s.mqtt_port, token=member) as reader:
        assert anon.subscribe(f"v1.1/Datastreams({ds})/Observations") == [0x80]
        assert anon.subscribe(f"v1.1/Things({thing})") == [0x80]
        assert other.subscribe(f"v1.1/Datastreams({ds})/Observations") == [0x80]
        assert anon.subscribe(f"v1.1/Datastreams({open_ds})/Observations") == [0]
        assert reader.subscribe(f"v1.1/Datastreams({ds})/Observations") == [0]
        assert anon.subscribe("v1.1/Observations") == [0]  # an entity set: each message checked per subscriber
        # anonymous publish creates nothing
        anon.publish(f"v1.1/Datastreams({open_ds})/Observations", json.dumps({"result": 1}), qos=1)
        s.post(f"Datastreams({ds})/Observations", {"result": 99})
        topic, payload, _ = reader.get()
        assert topic == f"v1.1/Datastreams({ds})/Observations" and json.loads(payload)["result"] == 99
        assert anon.none() and other.none()
    assert s.get(f"v1.1/Datastreams({open_ds})/Observations")["value"] == []


def test_websocket_endpoint_and_server_settings(serve):
    s = serve()
    _thing, ds = s.station()
    root = s.get("v1.1/")
    conf = root["serverSettings"]
    for req in ("create-observations-via-mqtt/observations-creation", "receive-updates-via-mqtt/receive-updates"):
        endpoints = conf[f"http://www.opengis.net/spec/iot_sensing/1.1/req/{req}"]["endpoints"]
        assert f"mqtt://127.0.0.1:{s.mqtt_port}" in endpoints and f"ws://127.0.0.1:{s.port}/mqtt" in endpoints
    with Client(s.port, transport="websockets") as sub:
        assert sub.subscribe(f"v1.1/Datastreams({ds})/Observations") == [0]
        s.post(f"Datastreams({ds})/Observations", {"result": 5})
        assert json.loads(sub.get()[1])["result"] == 5
    assert "v1.1/Datastreams(1)/Observations" in s.http.get("/").text


def test_many_creates_in_one_commit_each_arrive_as_http_json(serve, caplog):
    s = serve()
    _thing, ds = s.station()
    with Client(s.mqtt_port) as sub:
        assert sub.subscribe(f"v1.1/Datastreams({ds})/Observations") == [0]
        body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                 "dataArray@iot.count": 5,
                 "dataArray": [[f"2024-05-01T10:0{i}:00Z", i] for i in range(5)]}]
        r = s.http.post("/sta/v1.1/CreateObservations", json=body)
        assert r.status_code == 201, r.text
        got = [json.loads(sub.get()[1]) for _ in range(5)]
        assert sorted(g["result"] for g in got) == [0, 1, 2, 3, 4]
        for g in got:
            assert g == s.get(f"v1.1/Observations({g['@iot.id']})")
        assert sub.none()
    assert "batched rendering failed" not in caplog.text


def test_simulated_pedestrian_counts_arrive_over_mqtt(serve):
    """The demo's live feed writes through the SensorThings service, so its counts reach subscribers."""
    import asyncio

    from urbanos.sensing import melbourne

    s = serve()
    melbourne.load_demo(s.platform)  # the demo dataset's sensors, which the feed replays
    r = s.http.get("/sta/v1.1/Datastreams", params={"$top": "1", "$select": "id"})
    assert r.status_code == 200, r.text
    ds = r.json()["value"][0]["@iot.id"]
    with Client(s.mqtt_port) as sub:
        assert sub.subscribe(f"v1.1/Datastreams({ds})/Observations") == [0]
        asyncio.run_coroutine_threadsafe(melbourne.live(s.platform, interval=0.01, stop_after=1),
                                         s.platform.bus._loop).result(30)
        body = json.loads(sub.get()[1])
        assert isinstance(body["result"], int) and body["parameters"]["simulated"] is True


def test_entity_set_topics_hear_updates_of_their_members(serve):
    """As the OGC test suite checks: a subscriber of an entity set (or a collection) hears PATCHes of its members."""
    s = serve()
    thing, ds = s.station()
    with Client(s.mqtt_port) as sub:
        assert sub.subscribe("v1.1/Things") == [0]
        assert sub.subscribe("v1.1/Things?$select=description") == [0]
        assert sub.subscribe(f"v1.1/Things({thing})/Datastreams") == [0]
        r = s.http.patch(f"/sta/v1.1/Things({thing})", json={"name": "renamed"})
        assert r.status_code in (200, 204), r.text
        topic, payload, _q = sub.get()
        assert topic == "v1.1/Things" and json.loads(payload) == s.get(f"v1.1/Things({thing})")
        assert sub.none()  # the $select topic: description did not change
        r = s.http.patch(f"/sta/v1.1/Things({thing})", json={"description": "new words"})
        assert r.status_code in (200, 204), r.text
        got = sub.collect(2)
        assert got["v1.1/Things?$select=description"] == {"description": "new words"}
        assert got["v1.1/Things"]["description"] == "new words"
        r = s.http.patch(f"/sta/v1.1/Datastreams({ds})", json={"name": "count, renamed"})
        assert r.status_code in (200, 204), r.text
        topic, payload, _q = sub.get()
        assert topic == f"v1.1/Things({thing})/Datastreams"
        assert json.loads(payload) == s.get(f"v1.1/Datastreams({ds})")
        r = s.http.delete(f"/sta/v1.1/Datastreams({ds})")
        assert r.status_code in (200, 204), r.text
        assert sub.none()  # the standard defines no deletion notification


def test_privacy_transforms_and_read_audit_apply_to_notifications(serve):
    s = serve()
    internal = s.dataset("redacted-counters", "internal", org="mobility")
    _thing, ds = s.station(dataset_id=internal)
    seen: list[tuple[str, str]] = []

    def redact(ident, dataset, rows):
        return [{**r, "result": "***"} if "result" in r else r for r in rows]

    s.platform.gate.add_transform(redact)
    s.platform.gate.add_observer(lambda ident, dataset, action: seen.append((dataset.name, action)))
    with Client(s.mqtt_port, token=s.token("reader", "mobility")) as reader:
        assert reader.subscribe(f"v1.1/Datastreams({ds})/Observations") == [0]
        s.post(f"Datastreams({ds})/Observations", {"result": 99})
        assert json.loads(reader.get()[1])["result"] == "***"
    assert ("redacted-counters", "read") in seen
