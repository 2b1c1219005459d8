"""SensorThings dataArray extension: CreateObservations and $resultFormat=dataArray; GeoJSON and CSV formats."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from tests.sensing.sta_helpers import Sta, thing
from urbanos.events import Event


def _ds(sta: Sta) -> int:
    tid = sta.create("/Things", thing("Bulk"))["@iot.id"]
    return int(sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"])


def test_create_observations(sta: Sta) -> None:
    ds = _ds(sta)
    body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result", "resultTime"],
             "dataArray": [["2024-01-01T00:00:00Z", 1, None],
                           ["2024-01-01T01:00:00Z/2024-01-01T02:00:00Z", 2, "2024-01-01T02:00:00Z"],
                           ["not a time", 3, None],
                           ["2024-01-01T03:00:00Z", 4]]}]
    r = sta.post("/CreateObservations", body)
    assert r.status_code == 201, r.text
    links = r.json()
    assert links[2] == "error" and links[3] == "error"
    assert links[0].startswith("http://testserver/sta/v1.1/Observations(")
    assert [sta.c.get(link).json()["result"] for link in links[:2]] == [1, 2]
    obs = sta.ok(f"/Datastreams({ds})/Observations?$orderby=phenomenonTime&$count=true")
    assert obs["@iot.count"] == 2
    assert obs["value"][1]["phenomenonTime"] == "2024-01-01T01:00:00Z/2024-01-01T02:00:00Z"
    assert obs["value"][1]["resultTime"] == "2024-01-01T02:00:00Z"
    latest = sta.ok(f"/Datastreams({ds})?$expand=Observations($top=1;$orderby=phenomenonTime desc)")
    assert latest["Observations"][0]["result"] == 2
    assert sta.ok(f"/Datastreams({ds})")["phenomenonTime"] == "2024-01-01T00:00:00Z/2024-01-01T02:00:00Z"
    foi = sta.ok("/FeaturesOfInterest")["value"]
    assert len(foi) == 1
    r = sta.post("/CreateObservations", [{"Datastream": {"@iot.id": 999}, "components": ["result"], "dataArray": [[1]]}])
    assert r.status_code == 400
    r = sta.post("/CreateObservations", {"not": "a list"})
    assert r.status_code == 400
    r = sta.c.post("/sta/v1.1/CreateObservations", json=body)
    assert r.status_code == 401


def test_result_format_data_array(sta: Sta) -> None:
    ds = _ds(sta)
    for i in range(3):
        sta.observe(ds, i * 10, f"2024-02-01T0{i}:00:00Z")
    body = sta.ok(f"/Datastreams({ds})/Observations?$resultFormat=dataArray&$orderby=phenomenonTime&$count=true")
    assert body["@iot.count"] == 3
    group = body["value"][0]
    assert group["Datastream@iot.navigationLink"].endswith(f"Datastreams({ds})")
    assert group["components"] == ["id", "phenomenonTime", "resultTime", "result"]
    assert [row[3] for row in group["dataArray"]] == [0, 10, 20] and group["dataArray@iot.count"] == 3
    sel = sta.ok("/Observations?$resultFormat=dataArray&$select=result,phenomenonTime&$orderby=result")
    assert sel["value"][0]["components"] == ["result", "phenomenonTime"]
    assert sta.get("/Things?$resultFormat=dataArray").status_code == 400
    assert sta.get("/Things?$resultFormat=xml").status_code == 400


def test_geojson_and_csv(sta: Sta) -> None:
    ds = _ds(sta)
    sta.observe(ds, 5, "2024-02-01T00:00:00Z")
    r = sta.get("/Things?$resultFormat=GeoJSON")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and fc["features"][0]["geometry"]["type"] == "Point"
    assert fc["features"][0]["properties"]["name"] == "Bulk"
    obs = sta.ok("/Observations?$resultFormat=GeoJSON")
    assert obs["features"][0]["geometry"]["coordinates"] == [144.96, -37.81]
    r = sta.get("/Observations?$resultFormat=CSV&$select=id,result,phenomenonTime")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert sorted(rows[0]) == ["@iot.id", "phenomenonTime", "result"]
    assert dict(zip(rows[0], rows[1], strict=True))["result"] == "5"


def _wait_for(seen: list[Event], n: int) -> None:
    """Events reach subscribers on the server's event loop, just after the answer: wait for them."""
    for _ in range(500):
        if len(seen) >= n:
            return
        time.sleep(0.01)


def test_create_observations_events_match_single_posts(sta: Sta, platform: Any) -> None:
    """Bulk ingest emits one event per Observation, with the links a single POST of that Observation emits."""
    ds = _ds(sta)
    seen: list[Event] = []
    platform.bus.subscribe(lambda e: seen.append(e) if e.entity == "Observation" else None, topic="sensing")
    single = sta.observe(ds, 7, "2024-03-01T00:00:00Z")
    _wait_for(seen, 1)
    [one] = seen
    seen.clear()
    foi = int(sta.ok(f"/Observations({single['@iot.id']})/FeatureOfInterest")["@iot.id"])
    body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
             "dataArray": [["2024-03-01T01:00:00Z", 1], ["2024-03-01T02:00:00Z", 2.5], ["2024-03-01T03:00:00Z", "x"],
                           ["bad", 4]]},
            {"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result", "FeatureOfInterest/id", "parameters"],
             "dataArray": [["2024-03-01T04:00:00Z", {"a": 1}, foi, {"p": True}], ["2024-03-01T05:00:00Z", 5, 999999, None]]}]
    links = sta.post("/CreateObservations", body).json()
    assert [link == "error" for link in links] == [False, False, False, True, False, True]
    ids = [int(link.rsplit("(", 1)[1].rstrip(")")) for link in links if link != "error"]
    _wait_for(seen, len(ids))
    assert [e.id for e in seen] == ids
    for e in seen:
        assert isinstance(e, Event)
        assert (e.kind, e.entity, e.topic, e.dataset_id, e.changed) == (
            one.kind, one.entity, one.topic, one.dataset_id, one.changed)
        assert e.data == {"links": one.data["links"]}  # a single POST also hands subscribers its stored row
        assert e == Event.from_dict(e.to_dict())
    stored = [sta.ok(f"/Observations({i})") for i in ids]
    assert [o["result"] for o in stored] == [1, 2.5, "x", {"a": 1}]
    assert stored[3]["parameters"] == {"p": True} and stored[0]["parameters"] is None
    assert [o["phenomenonTime"] for o in stored] == [f"2024-03-01T0{h}:00:00Z" for h in (1, 2, 3, 4)]


def test_large_answers_are_compressed(sta: Sta) -> None:
    ds = _ds(sta)
    sta.post("/CreateObservations", [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                                      "dataArray": [[f"2024-04-01T{h:02d}:00:00Z", h] for h in range(24)]}])
    r = sta.get(f"/Datastreams({ds})/Observations?$top=24", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert len(r.json()["value"]) == 24
    plain = sta.get(f"/Datastreams({ds})/Observations?$top=24", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == r.json()
    small = sta.get(f"/Datastreams({ds})/Observations?$top=1&$select=result", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
