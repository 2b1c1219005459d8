"""GTFS-Realtime vehicle positions on the platform's MQTT broker: each vehicle that moved or appeared, once the run
committed, on ``connectors/<connector>/vehicles/<vehicle_id>``, to subscribers who may read the dataset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.conftest import api_token
from tests.connectors.feeds import Files
from tests.connectors.test_gtfs import feed_message
from tests.local_http import serve as serve_files
from tests.sensing_mqtt.mqttc import Client
from urbanos.connectors.types.gtfs_rt import vehicle_topic


def test_vehicle_topic_is_one_level_per_vehicle() -> None:
    assert vehicle_topic("hvv", "V/1+#") == "connectors/hvv/vehicles/V_1__"
    assert vehicle_topic("hvv", "") == "connectors/hvv/vehicles/_"


def test_vehicle_positions_reach_allowed_subscribers(serve: Callable[..., Any]) -> None:
    files = Files()
    with serve_files(files.routes()) as feed:
        s = serve(outbound_allow="127.0.0.1", connectors_scheduler=False)
        s.dataset("buses", "open", "transit")
        s.dataset("buses-internal", "internal", "transit")
        files.values["/rt.pb"] = feed_message({"V1": (53.55, 10.0), "V2": (53.56, 10.01)}, {})
        for name, ds in (("bus", "buses"), ("busint", "buses-internal")):
            r = s.http.post("/connectors", json={"name": name, "type": "gtfs-rt", "url": f"{feed.url}/rt.pb",
                                                 "dataset": ds})
            assert r.status_code == 201, r.text
        outsider = api_token(s.url, "outsider", "reader", "elsewhere")
        with Client(s.mqtt_port, token=outsider) as sub, Client(s.mqtt_port, token=api_token(
                s.url, "insider", "reader", "transit")) as insider:
            assert sub.subscribe("connectors/+/vehicles/#") == [0]
            assert insider.subscribe("connectors/busint/vehicles/#") == [0]
            for name in ("bus", "busint"):
                assert s.http.post(f"/connectors/{name}/run").json()["status"] == "ok"
            got = sub.collect(2)
            assert set(got) == {"connectors/bus/vehicles/V1", "connectors/bus/vehicles/V2"}, got
            feature = got["connectors/bus/vehicles/V1"]  # the GeoJSON Feature, decoded
            assert feature["geometry"]["coordinates"] == [10.0, 53.55] and feature["properties"]["trip_id"] == "trip-V1"
            assert sub.none(1.0)  # nothing of the internal dataset reaches another organisation's reader
            assert set(insider.collect(2)) == {"connectors/busint/vehicles/V1", "connectors/busint/vehicles/V2"}
            # a rerun where one vehicle moved announces that one only
            files.values["/rt.pb"] = feed_message({"V1": (53.57, 10.02), "V2": (53.56, 10.01)}, {})
            assert s.http.post("/connectors/bus/run").json()["updated"] == 1
            topic, _payload, _qos = sub.get()
            assert topic == "connectors/bus/vehicles/V1"
            assert sub.none(1.0)
        with Client(s.mqtt_port) as anonymous:
            assert anonymous.subscribe("connectors/bus/vehicles/#") == [128]
