"""MQTT creates check ownership like HTTP ones: the embedded broker and paho-mqtt against the real app."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.sensing_mqtt.mqttc import Client


def test_mqtt_create_checks_ownership(serve: Any) -> None:
    s = serve()
    a_open = s.dataset("a-open", "open", org="orga")
    secret = s.dataset("secret", "confidential", org="orga")
    _t, ds = s.station(dataset_id=a_open)
    _t2, hidden = s.station(dataset_id=secret)
    pa, pb, reader = s.token("publisher", "orga"), s.token("publisher", "orgb"), s.token("reader", "orga")

    def count(d: int) -> int:
        return int(s.platform.db.read_sync(
            lambda c: c.fetchval("SELECT COUNT(*) FROM sta_observations WHERE datastream_id = ?", (d,))))

    for token in (None, reader):  # anonymous and reader publishes create nothing either
        with Client(s.mqtt_port, token=token) as nobody:
            nobody.publish(f"v1.1/Datastreams({ds})/Observations", json.dumps({"result": 0}), qos=1)
    with Client(s.mqtt_port, token=pb) as other:
        for topic, body in ((f"v1.1/Datastreams({ds})/Observations", {"result": 1}),
                            ("v1.1/Observations", {"result": 2, "Datastream": {"@iot.id": ds}}),
                            (f"v1.1/Datastreams({hidden})/Observations", {"result": 3}),
                            ("v1.1/Observations", {"result": 4, "Datastream": {"@iot.id": hidden}})):
            other.publish(topic, json.dumps(body), qos=1)  # acknowledged once handled
    assert count(ds) == 0 and count(hidden) == 0
    metrics = s.http.get("/metrics").text
    forbidden = re.search(r'urbanos_mqtt_events_total\{event="publish_rejected",reason="forbidden"\} ([0-9.]+)', metrics)
    assert forbidden and float(forbidden.group(1)) == 3  # the reader once, orgb twice (the hidden ones: as missing)
    with Client(s.mqtt_port, token=pa) as owner:
        owner.publish(f"v1.1/Datastreams({ds})/Observations", json.dumps({"result": 5}), qos=1)
        owner.publish("v1.1/Observations", json.dumps({"result": 6, "Datastream": {"@iot.id": ds}}), qos=1)
    assert count(ds) == 2
