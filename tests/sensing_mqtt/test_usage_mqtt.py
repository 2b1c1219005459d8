"""MQTT reads publish their usage over the bus: one ``events.Usage`` per accepted subscription (``action="subscribe"``),
and the notifications delivered as aggregates per dataset and application (``action="deliver"``, ``count``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sensing_mqtt.harness import Stage
from tests.sensing_mqtt.mqttc import Client
from tests.sensing_mqtt.test_mqtt_revocation import _within
from urbanos.events import USAGE, Event, Usage
from urbanos.sensing.mqtt import service as mqtt_service


def test_subscriptions_and_deliveries_publish_usage(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mqtt_service, "USAGE_SECONDS", 0.1)  # publish the aggregates often, for the test
    stage = Stage(serve())
    heard: list[Usage] = []

    def listen(ev: Event) -> None:
        usage = Usage.of(ev)
        if usage is not None and usage.api == "mqtt":
            heard.append(usage)

    stage.platform.bus.subscribe(listen, topic=USAGE)
    opened, closed = stage.open, stage.closed
    closed_ds = stage.s.get(f"v1.1/Datastreams({closed.ds})")["properties"]["urbanos:dataset"]
    with Client(stage.port) as anon, Client(stage.port, token=stage.tokens["reader"]) as reader, \
            Client(stage.port, token=stage.tokens["publisher"]) as pub:
        assert anon.subscribe(opened.observations) == [0]
        assert anon.subscribe(closed.observations) == [0x80]  # refused: not a read
        assert reader.subscribe(opened.observations) == [0]
        assert reader.subscribe(closed.observations) == [0]
        subscribed = [u for u in heard if u.action == "subscribe"]
        assert sorted(u.application for u in subscribed) == ["", "t", "t"]
        assert all(u.kind == "api_read" and u.count == 1 for u in subscribed)
        for i in range(3):
            pub.publish(opened.observations, json.dumps({"result": i}), qos=1)
        pub.publish(closed.observations, json.dumps({"result": 9}), qos=1)
        assert len([anon.get() for _ in range(3)]) == 3
        assert len([reader.get() for _ in range(4)]) == 4

        def delivered() -> dict[tuple[int | None, str], int]:
            out: dict[tuple[int | None, str], int] = {}
            for u in heard:
                if u.action == "deliver":
                    assert u.kind == "api_read"
                    out[(u.dataset_id, u.application)] = out.get((u.dataset_id, u.application), 0) + u.count
            return out

        _within(10, lambda: sum(delivered().values()) == 7)
    closed_id = stage.platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = ?", (closed_ds,)))
    assert delivered() == {(None, ""): 3, (None, "t"): 3, (closed_id, "t"): 1}
