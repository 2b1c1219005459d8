"""Real SensorThings clients against a live ``urbanos serve``: frost-sta-client and istsos4-client."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conftest import ADMIN_TOKEN

frost = pytest.importorskip("frost_sta_client")


class BearerAuth(frost.AuthHandler):
    """frost-sta-client's auth hook, sending the platform's bearer token."""

    def add_auth_header(self) -> Any:
        def add(r: Any) -> Any:
            r.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
            return r

        return add


def _point(lon: float, lat: float) -> Any:
    from geojson import Point

    return Point((lon, lat))


def test_frost_client_roundtrip_without_duplicates(live_server: Any) -> None:
    url = f"{live_server.url}/sta/v1.1"
    service = frost.SensorThingsService(url, auth_handler=BearerAuth())
    location = frost.Location(name="Town Hall", description="corner", encoding_type="application/geo+json",
                              location=_point(144.9665, -37.8136))
    thing = frost.Thing(name="Counter 1", description="pedestrian counter", properties={"sensor_id": 1},
                        locations=[location])
    service.create(thing)
    assert thing.id is not None
    sensor = frost.Sensor(name="Laser", description="laser counter", encoding_type="text/html", metadata="https://x")
    prop = frost.ObservedProperty(name="Pedestrians", definition="https://x/ped", description="people")
    ds = frost.Datastream(name="Hourly count", description="persons per hour",
                          observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
                          unit_of_measurement=frost.UnitOfMeasurement(name="persons per hour", symbol="1/h",
                                                                      definition="https://x/ph"),
                          thing=thing, sensor=sensor, observed_property=prop)
    service.create(ds)
    assert ds.id is not None
    for i in range(5):
        obs = frost.Observation(result=i * 3, phenomenon_time=f"2024-03-01T0{i}:00:00Z", datastream=ds)
        service.create(obs)
        assert obs.id is not None
    # query back
    things = service.things().query().list()
    assert [t.name for t in things] == ["Counter 1"]
    got = service.datastreams().find(ds.id)
    assert got.name == "Hourly count"
    observations = service.observations().query().filter("result ge 6").orderby("phenomenonTime", "desc").list()
    assert [o.result for o in observations] == [12, 9, 6]
    # update (PUT) and patch (JSON-Patch) keep one entity
    thing.description = "renamed"
    service.update(thing)
    service.patch(thing, [{"op": "replace", "path": "/name", "value": "Counter One"}])
    fresh = service.things().find(thing.id)
    assert fresh.name == "Counter One" and fresh.description == "renamed"
    raw = requests.get(f"{url}/Things?$count=true", timeout=10).json()
    assert raw["@iot.count"] == 1
    for s, n in (("Locations", 1), ("Sensors", 1), ("ObservedProperties", 1), ("Datastreams", 1),
                 ("Observations", 5), ("FeaturesOfInterest", 1)):
        assert requests.get(f"{url}/{s}?$count=true&$top=0", timeout=10).json()["@iot.count"] == n, s
    service.delete(got)
    assert requests.get(f"{url}/Observations?$count=true", timeout=10).json()["@iot.count"] == 0


def test_istsos4_client_roundtrip(live_server: Any) -> None:
    ist = pytest.importorskip("istsos4_client")
    url = f"{live_server.url}/sta/v1.1"
    with ist.Client(url, max_retries=0) as client:
        client._session.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"  # the client logs in with passwords only
        thing = client.post(ist.Thing(name="Weather station", description="roof", properties={"a": 1},
                                      locations=[ist.Location(name="Roof", description="roof",
                                                              encoding_type="application/geo+json",
                                                              location={"type": "Point", "coordinates": [8.96, 46.0]})]))
        assert thing.iot_id is not None
        ds = client.post(ist.Datastream(
            name="Air temperature", description="2 m",
            unit_of_measurement=ist.UnitOfMeasurement(name="degree Celsius", symbol="degC", definition="x"),
            observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            thing=thing.iot_id,
            sensor=ist.Sensor(name="PT100", description="probe", encoding_type="text/html", metadata="x"),
            observed_property=ist.ObservedProperty(name="Temperature", definition="x", description="t")))
        assert ds.iot_id is not None
        for i in range(4):
            client.post(ist.Observation(result=20 + i, phenomenon_time=f"2024-06-01T1{i}:00:00Z", datastream=ds.iot_id))
        obs = client.list(ist.Observation, filter="result gt 21", orderby="phenomenonTime desc", top=1)
        assert [o.result for o in obs] == [23, 22]
        assert [t.name for t in client.list(ist.Thing)] == ["Weather station"]
        client.patch(ist.Thing(iot_id=thing.iot_id, name="Weather station", description="roof top"))
        assert client.get(ist.Thing, thing.iot_id).description == "roof top"
        assert len(client.list(ist.Sensor)) == 1 and len(client.list(ist.Location)) == 1
        assert len(client.list(ist.FeatureOfInterest)) == 1
