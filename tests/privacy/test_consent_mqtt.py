"""Consent over MQTT: a subscriber to a consent-based dataset's Observations receives those of subjects whose consent
holds, and nothing else once it is revoked."""

from __future__ import annotations

import json
import queue
from typing import Any

from tests.sensing_mqtt.mqttc import Client


def test_mqtt_delivers_only_rows_with_consent(serve: Any) -> None:
    s = serve()
    s.http.post("/api/3/action/organization_create", json={"name": "clinic"})
    ds_id = s.dataset("visits", "registered", "clinic")
    _thing, ds = s.station(ds_id)
    assert s.http.put("/privacy/consent/datasets/visits", json={"subject_field": "person", "purpose": "care"}
                      ).status_code == 200
    r = s.http.post("/privacy/consent", json={"purpose": "care", "recipient": "clinic", "principal": "p1"})
    receipt = r.json()["receipt"]["consentReceiptID"]
    reader = s.token("reader")
    topic = f"v1.1/Datastreams({ds})/Observations"
    with Client(s.mqtt_port, token=reader) as sub:
        assert sub.subscribe(topic, 1) == [1]
        for who in ("p2", "p1"):
            s.post(f"Datastreams({ds})/Observations", {"result": 1, "parameters": {"person": who}})
        _topic, payload, _qos = sub.get()
        assert json.loads(payload)["parameters"] == {"person": "p1"}
        assert s.http.post(f"/privacy/consent/receipts/{receipt}/revoke").status_code == 200
        s.post(f"Datastreams({ds})/Observations", {"result": 2, "parameters": {"person": "p1"}})
        s.post(f"Datastreams({ds})/Observations", {"result": 3})  # no subject id: delivered
        _topic, payload, _qos = sub.get()
        assert json.loads(payload)["result"] == 3
        try:
            extra = sub.get(timeout=0.5)
        except queue.Empty:
            extra = None
        assert extra is None
