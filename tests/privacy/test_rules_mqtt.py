"""Privacy rules on MQTT deliveries (embedded broker, paho-mqtt clients): field rules change what a subscriber below
the rule's role receives, an aggregate rule stops raw Observations from being delivered at all, and the owner's
steward still receives them."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.sensing_mqtt.mqttc import Client


def test_rules_apply_to_mqtt_deliveries(serve: Any) -> None:
    s = serve()
    s.dataset("wifi-open", "open", org="mobility")
    ds_id = int(s.platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = 'wifi-open'")))
    _thing, stream = s.station(dataset_id=ds_id)
    steward = s.token("steward", "mobility")

    def rules(body: list[dict[str, Any]]) -> None:
        r = s.http.put("/privacy/rules/wifi-open", json={"rules": body})
        assert r.status_code == 200, r.text

    rules([{"kind": "redact", "fields": ["mac"]}])
    with Client(s.mqtt_port) as anon, Client(s.mqtt_port, token=steward) as owner:
        for c in (anon, owner):
            assert c.subscribe(f"v1.1/Datastreams({stream})/Observations") == [0]
        assert anon.subscribe("v1.1/Observations") == [0]
        s.post(f"Datastreams({stream})/Observations", {"result": 3, "parameters": {"mac": "SECRET-MAC", "rssi": -50}})
        got = [json.loads(anon.get()[1]) for _ in range(2)]
        assert all(g["parameters"] == {"rssi": -50} for g in got)
        assert json.loads(owner.get()[1])["parameters"]["mac"] == "SECRET-MAC"
        rules([{"kind": "aggregate", "bucket_minutes": 15, "h3_resolution": 7}])
        time.sleep(0.1)
        s.post(f"Datastreams({stream})/Observations", {"result": 4, "parameters": {"mac": "SECRET-MAC"}})
        assert json.loads(owner.get()[1])["result"] == 4
        assert anon.none()
