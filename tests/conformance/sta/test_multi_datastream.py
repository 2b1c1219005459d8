"""SensorThings MultiDatastream extension."""

from __future__ import annotations

from typing import Any

from tests.sensing.sta_helpers import OBS_COMPLEX, OBS_MEAS, Sta, location


def _mds(n: int = 2) -> dict[str, Any]:
    return {
        "name": "Weather", "description": "temperature and humidity", "observationType": OBS_COMPLEX,
        "multiObservationDataTypes": [OBS_MEAS] * n,
        "unitOfMeasurements": [{"name": "degree Celsius", "symbol": "degC", "definition": "x"},
                               {"name": "percent", "symbol": "%", "definition": "y"}][:n],
        "Sensor": {"name": "Station", "description": "s", "encodingType": "text/html", "metadata": "m"},
        "ObservedProperties": [{"name": "Temperature", "definition": "t", "description": "t"},
                               {"name": "Humidity", "definition": "h", "description": "h"}][:n],
    }


def test_multi_datastream_roundtrip(sta: Sta) -> None:
    t = sta.create("/Things", {"name": "Station", "description": "x", "Locations": [location()],
                               "MultiDatastreams": [_mds()]})
    mds = sta.ok(f"/Things({t['@iot.id']})/MultiDatastreams")["value"][0]
    assert mds["unitOfMeasurements"][1]["symbol"] == "%"
    assert mds["multiObservationDataTypes"] == [OBS_MEAS, OBS_MEAS]
    mid = mds["@iot.id"]
    props = sta.ok(f"/MultiDatastreams({mid})/ObservedProperties")["value"]
    assert {p["name"] for p in props} == {"Temperature", "Humidity"}
    o = sta.create("/Observations", {"result": [21.5, 60], "MultiDatastream": {"@iot.id": mid},
                                     "phenomenonTime": "2024-05-01T10:00:00Z"})
    assert o["result"] == [21.5, 60]
    assert sta.ok(f"/Observations({o['@iot.id']})/MultiDatastream")["@iot.id"] == mid
    assert sta.post("/Observations", {"result": [1], "MultiDatastream": {"@iot.id": mid}}).status_code == 400
    assert sta.post("/Observations", {"result": 1, "MultiDatastream": {"@iot.id": mid},
                                      "Datastream": {"@iot.id": 1}}).status_code == 400
    r = sta.post("/CreateObservations", [{"MultiDatastream": {"@iot.id": mid}, "components": ["phenomenonTime", "result"],
                                          "dataArray": [["2024-05-01T11:00:00Z", [22, 58]], ["2024-05-01T12:00:00Z", 5]]}])
    assert r.status_code == 201 and r.json()[1] == "error"
    latest = sta.ok("/MultiDatastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)")
    assert latest["value"][0]["Observations"][0]["result"] == [22, 58]
    exp = sta.ok("/ObservedProperties?$expand=MultiDatastreams")["value"]
    assert all(len(p["MultiDatastreams"]) == 1 for p in exp)
    assert "MultiDatastreams" in [v["name"] for v in sta.ok("/")["value"]]


def test_multi_datastream_validation(sta: Sta) -> None:
    tid = sta.create("/Things", {"name": "S", "description": "x"})["@iot.id"]
    bad = _mds()
    bad["unitOfMeasurements"] = bad["unitOfMeasurements"][:1]
    r = sta.post(f"/Things({tid})/MultiDatastreams", bad)
    assert r.status_code == 400
    assert sta.ok("/MultiDatastreams?$count=true")["@iot.count"] == 0
    assert sta.ok("/ObservedProperties?$count=true")["@iot.count"] == 0
