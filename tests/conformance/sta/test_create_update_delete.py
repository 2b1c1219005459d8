"""SensorThings create-update-delete: deep insert, links by @iot.id, PATCH/JSON-Patch/PUT, cascades."""

from __future__ import annotations

from typing import Any

from tests.sensing.sta_helpers import Sta, datastream, location, thing


def _counts(sta: Sta) -> dict[str, int]:
    out = {}
    for s in ("Things", "Locations", "HistoricalLocations", "Datastreams", "Sensors", "ObservedProperties",
              "Observations", "FeaturesOfInterest"):
        out[s] = sta.ok(f"/{s}?$count=true&$top=0")["@iot.count"]
    return out


def test_deep_insert_creates_everything(sta: Sta) -> None:
    r = sta.post("/Things", thing("Deep"))
    assert r.status_code == 201
    assert r.headers["location"] == r.json()["@iot.selfLink"]
    c = _counts(sta)
    assert c == {"Things": 1, "Locations": 1, "HistoricalLocations": 1, "Datastreams": 1, "Sensors": 1,
                 "ObservedProperties": 1, "Observations": 0, "FeaturesOfInterest": 0}


def test_nested_iot_id_is_a_link_not_a_copy(sta: Sta) -> None:
    t = sta.create("/Things", thing("One"))
    tid = t["@iot.id"]
    sensor = sta.ok("/Sensors")["value"][0]["@iot.id"]
    prop = sta.ok("/ObservedProperties")["value"][0]["@iot.id"]
    loc = sta.ok("/Locations")["value"][0]["@iot.id"]
    ds = sta.create("/Datastreams", datastream("Second", Thing={"@iot.id": tid}, Sensor={"@iot.id": sensor},
                                                ObservedProperty={"@iot.id": prop}))
    t2 = sta.create("/Things", {"name": "Two", "description": "x", "Locations": [{"@iot.id": loc}]})
    c = _counts(sta)
    assert (c["Things"], c["Sensors"], c["ObservedProperties"], c["Locations"], c["Datastreams"]) == (2, 1, 1, 1, 2)
    assert sta.ok(f"/Datastreams({ds['@iot.id']})/Thing")["@iot.id"] == tid
    assert sta.ok(f"/Things({t2['@iot.id']})/Locations")["value"][0]["@iot.id"] == loc
    r = sta.post("/Datastreams", datastream("Bad", Thing={"@iot.id": 999}))
    assert r.status_code == 400
    assert _counts(sta)["Datastreams"] == 2


def test_create_at_navigation_path_and_ref(sta: Sta) -> None:
    tid = sta.create("/Things", {"name": "Bare", "description": "x"})["@iot.id"]
    sta.create(f"/Things({tid})/Locations", location("Nav"))
    assert len(sta.ok(f"/Things({tid})/HistoricalLocations")["value"]) == 1
    ds = sta.create(f"/Things({tid})/Datastreams", datastream("NavDs"))
    assert sta.ok(f"/Datastreams({ds['@iot.id']})/Thing")["@iot.id"] == tid
    o = sta.create(f"/Datastreams({ds['@iot.id']})/Observations", {"result": 3.5})
    assert o["result"] == 3.5 and o["resultTime"] is None and o["phenomenonTime"].endswith("Z")
    other = sta.create("/Locations", location("Other"))["@iot.id"]
    r = sta.post(f"/Things({tid})/Locations/$ref", {"@iot.id": other})
    assert r.status_code in (200, 201, 204)
    assert len(sta.ok(f"/Things({tid})/Locations")["value"]) == 2


def test_feature_of_interest_generated_and_reused(sta: Sta) -> None:
    t = sta.create("/Things", thing("Foi"))
    ds = sta.ok(f"/Things({t['@iot.id']})/Datastreams")["value"][0]["@iot.id"]
    a = sta.observe(ds, 1)
    b = sta.observe(ds, 2, "2024-01-01T00:00:00Z/2024-01-01T01:00:00Z")
    assert b["phenomenonTime"] == "2024-01-01T00:00:00Z/2024-01-01T01:00:00Z"
    fa = sta.ok(f"/Observations({a['@iot.id']})/FeatureOfInterest")["@iot.id"]
    fb = sta.ok(f"/Observations({b['@iot.id']})/FeatureOfInterest")["@iot.id"]
    assert fa == fb and len(sta.ok("/FeaturesOfInterest")["value"]) == 1
    bare = sta.create("/Things", {"name": "NoLoc", "description": "x", "Datastreams": [datastream("X")]})
    ds2 = sta.ok(f"/Things({bare['@iot.id']})/Datastreams")["value"][0]["@iot.id"]
    before = _counts(sta)
    r = sta.post("/Observations", {"result": 1, "Datastream": {"@iot.id": ds2}})
    assert r.status_code == 400 and r.json()["type"] == "error"
    assert _counts(sta) == before


def test_location_change_makes_historical_location(sta: Sta) -> None:
    tid = sta.create("/Things", thing("Mover"))["@iot.id"]
    r = sta.patch(f"/Things({tid})", {"Locations": [location("New place", 145.0, -37.9)]})
    assert r.status_code == 200, r.text
    hls = sta.ok(f"/Things({tid})/HistoricalLocations?$expand=Locations")["value"]
    assert len(hls) == 2
    assert sta.ok(f"/Things({tid})/Locations")["value"][0]["name"] == "New place"


def test_patch_jsonpatch_put(sta: Sta) -> None:
    tid = sta.create("/Things", {"name": "P", "description": "d", "properties": {"a": 1, "b": 2}})["@iot.id"]
    r = sta.patch(f"/Things({tid})", {"description": "merged"})
    assert r.status_code == 200 and r.json()["name"] == "P" and r.json()["description"] == "merged"
    r = sta.patch(f"/Things({tid})", [{"op": "replace", "path": "/properties/a", "value": 10},
                                      {"op": "remove", "path": "/properties/b"}], "application/json-patch+json")
    assert r.status_code == 200, r.text
    assert r.json()["properties"] == {"a": 10}
    r = sta.patch(f"/Things({tid})", [{"op": "test", "path": "/name", "value": "wrong"}], "application/json-patch+json")
    assert r.status_code == 400
    r = sta.put(f"/Things({tid})", {"name": "Replaced", "description": "all new"})
    assert r.status_code == 200
    assert sta.ok(f"/Things({tid})") | {} == sta.ok(f"/Things({tid})")
    assert "properties" not in sta.ok(f"/Things({tid})")
    assert sta.put(f"/Things({tid})", {"description": "no name"}).status_code == 400
    assert sta.ok(f"/Things({tid})")["name"] == "Replaced"


def test_bad_writes_change_nothing(sta: Sta) -> None:
    sta.create("/Things", thing("Base"))
    before = _counts(sta)
    bad = [
        {"description": "no name"},
        {"name": "x", "description": "x", "bogus": 1},
        {"name": "x", "description": "x", "Locations": [location("bad", 500, 500)]},
        {"name": "x", "description": "x", "Locations": [{**location("bad"), "location": {"type": "Point"}}]},
        {"name": "x", "description": "x", "Datastreams": [datastream("noSensor", Sensor=None)]},
        {"name": "x", "description": "x", "properties": "not an object"},
        [1, 2],
    ]
    for body in bad:
        r = sta.post("/Things", body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["type"] == "error"
    r = sta.c.post("/sta/v1.1/Things", content=b"{not json", headers={**sta.h, "Content-Type": "application/json"})
    assert r.status_code == 400
    assert _counts(sta) == before


def test_writes_need_publisher(sta: Sta) -> None:
    r = sta.c.post("/sta/v1.1/Things", json={"name": "x", "description": "y"})
    assert r.status_code == 401 and r.json()["type"] == "error"
    r = sta.c.delete("/sta/v1.1/Things(1)")
    assert r.status_code == 401


def test_delete_cascades(sta: Sta) -> None:
    tid = sta.create("/Things", thing("Gone"))["@iot.id"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    o1 = sta.observe(ds, 1, "2024-01-01T00:00:00Z")["@iot.id"]
    o2 = sta.observe(ds, 2, "2024-01-02T00:00:00Z")["@iot.id"]
    assert sta.delete(f"/Observations({o2})").status_code == 200
    latest = sta.ok(f"/Datastreams({ds})?$expand=Observations($top=1;$orderby=phenomenonTime desc)")
    assert latest["Observations"][0]["@iot.id"] == o1
    assert sta.delete(f"/Things({tid})").status_code == 200
    c = _counts(sta)
    assert (c["Things"], c["Datastreams"], c["Observations"], c["HistoricalLocations"]) == (0, 0, 0, 0)
    assert c["Locations"] == 1 and c["Sensors"] == 1
    assert sta.delete(f"/Things({tid})").status_code == 404
    sensor = sta.ok("/Sensors")["value"][0]["@iot.id"]
    assert sta.delete(f"/Sensors({sensor})").status_code == 200


def test_v10_requires_description(sta: Sta) -> None:
    r = sta.c.post("/sta/v1.0/Things", json={"name": "x"}, headers=sta.h)
    assert r.status_code == 400
    r = sta.c.post("/sta/v1.0/Things", json={"name": "x", "description": "y"}, headers=sta.h)
    assert r.status_code == 201 and r.json()["@iot.selfLink"].startswith("http://testserver/sta/v1.0/")


def test_events_carry_links(sta: Sta, platform: Any) -> None:
    got: list[Any] = []
    platform.bus.subscribe(lambda ev: got.append(ev), topic="sensing")
    tid = sta.create("/Things", thing("Ev"))["@iot.id"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    oid = sta.observe(ds, 5)["@iot.id"]
    sta.patch(f"/Things({tid})", {"name": "Ev2"})
    import time

    for _ in range(50):
        if any(e.entity == "Thing" and e.kind == "updated" for e in got):
            break
        time.sleep(0.02)
    obs = [e for e in got if e.entity == "Observation" and e.id == oid][0]
    assert obs.kind == "created" and obs.data["links"]["Datastream"] == ds and obs.data["links"]["Thing"] == tid
    assert obs.data["links"]["FeatureOfInterest"] is not None
    upd = [e for e in got if e.entity == "Thing" and e.kind == "updated"][0]
    assert upd.changed == ("name",)


def test_out_of_range_ids_are_bad_requests(sta: Sta) -> None:
    for body in ({"result": 1, "Datastream": {"@iot.id": 10**20}}, {"result": 1, "Datastream": {"@iot.id": -1}},
                 {"result": 1, "Datastream": {"@iot.id": "abc"}}, {"result": 1, "Datastream": {"@iot.id": True}}):
        r = sta.post("/Observations", body)
        assert r.status_code == 400, (body, r.text)
    assert sta.get(f"/Things({10**20})").status_code == 400
    assert sta.post("/Things", {"name": "x", "description": "y", "dataset_id": 10**20}).status_code == 400


def test_methods_a_path_does_not_allow_are_405(sta: Sta) -> None:
    """DELETE or PATCH of a collection or a property is a method the resource does not allow (405 with Allow), not
    a server error."""
    tid = sta.create("/Things", thing("Keep"))["@iot.id"]
    for r in (sta.delete("/Things"), sta.patch("/Things", {"name": "x"}), sta.patch(f"/Things({tid})/name", {"name": "x"}),
              sta.delete(f"/Things({tid})/name")):
        assert r.status_code == 405, r.text
        assert r.headers.get("allow"), r.headers
        assert r.json() == {"code": 405, "type": "error", "message": r.json()["message"]}
    assert sta.ok("/Things?$count=true")["@iot.count"] == 1


def test_observation_with_new_feature_of_interest(sta: Sta) -> None:
    tid = sta.create("/Things", thing("F"))["@iot.id"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    o = sta.create("/Observations", {"result": 1, "Datastream": {"@iot.id": ds}, "FeatureOfInterest": {
        "name": "Kerb", "description": "x", "encodingType": "application/geo+json",
        "feature": {"type": "Point", "coordinates": [144.9, -37.8]}}})
    foi = sta.ok(f"/Observations({o['@iot.id']})/FeatureOfInterest")
    assert foi["name"] == "Kerb"
    o2 = sta.create("/Observations", {"result": 2, "Datastream": {"@iot.id": ds},
                                      "FeatureOfInterest": {"@iot.id": foi["@iot.id"]}})
    assert sta.ok(f"/Observations({o2['@iot.id']})/FeatureOfInterest")["@iot.id"] == foi["@iot.id"]
    assert sta.ok("/FeaturesOfInterest?$count=true")["@iot.count"] == 1


def test_patched_location_regenerates_feature_of_interest(sta: Sta) -> None:
    """New Observations get a FeatureOfInterest generated from the Location as it is now; older ones keep theirs."""
    tid = sta.create("/Things", thing("Mover"))["@iot.id"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    loc = sta.ok(f"/Things({tid})/Locations")["value"][0]
    lid = loc["@iot.id"]

    def foi_of(obs: dict[str, Any]) -> dict[str, Any]:
        return sta.ok(f"/Observations({obs['@iot.id']})/FeatureOfInterest")  # type: ignore[no-any-return]

    first = sta.observe(ds, 1, "2024-05-01T00:00:00Z")
    foi_a = foi_of(first)
    assert foi_a["feature"] == loc["location"]
    # a change that leaves the geometry alone keeps the generated feature
    assert sta.patch(f"/Locations({lid})", {"name": "Renamed"}).status_code == 200
    r = sta.put(f"/Locations({lid})", {**{k: v for k, v in loc.items() if "@" not in k}, "name": "Renamed"})
    assert r.status_code == 200, r.text
    assert foi_of(sta.observe(ds, 2, "2024-05-01T01:00:00Z"))["@iot.id"] == foi_a["@iot.id"]
    moved = {"type": "Point", "coordinates": [145.0, -37.9]}
    assert sta.patch(f"/Locations({lid})", {"location": moved}).status_code == 200
    third = sta.observe(ds, 3, "2024-05-01T02:00:00Z")
    foi_b = foi_of(third)
    assert foi_b["@iot.id"] != foi_a["@iot.id"] and foi_b["feature"] == moved
    assert foi_of(first)["@iot.id"] == foi_a["@iot.id"] and foi_of(first)["feature"] == loc["location"]
    # reused by later Observations, also through dataArray
    assert foi_of(sta.observe(ds, 4, "2024-05-01T03:00:00Z"))["@iot.id"] == foi_b["@iot.id"]
    links = sta.post("/CreateObservations", [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                                              "dataArray": [["2024-05-01T04:00:00Z", 5]]}]).json()
    assert sta.c.get(links[0] + "/FeatureOfInterest").json()["@iot.id"] == foi_b["@iot.id"]
    # JSON-Patch moves it again
    r = sta.patch(f"/Locations({lid})", [{"op": "replace", "path": "/location/coordinates", "value": [145.1, -37.7]}],
                  "application/json-patch+json")
    assert r.status_code == 200, r.text
    foi_c = foi_of(sta.observe(ds, 6, "2024-05-01T05:00:00Z"))
    assert foi_c["@iot.id"] not in (foi_a["@iot.id"], foi_b["@iot.id"])
    assert foi_c["feature"]["coordinates"] == [145.1, -37.7]
    assert sta.ok("/FeaturesOfInterest?$count=true")["@iot.count"] == 3


def test_envelopes_follow_patches_and_deletes(sta: Sta) -> None:
    """A Datastream's phenomenonTime and resultTime are the envelopes of its Observations: a PATCH of either time
    widens or narrows them, and a delete narrows them (the resultTime envelope used to keep deleted times and miss
    a patched one)."""
    ds = sta.create("/Things", thing("Env"))["@iot.id"]
    ds = sta.ok(f"/Things({ds})/Datastreams")["value"][0]["@iot.id"]
    ids = [sta.create(f"/Datastreams({ds})/Observations", {
        "result": i, "phenomenonTime": f"2024-05-0{i}T10:00:00Z", "resultTime": f"2024-05-0{i}T11:00:00Z"})["@iot.id"]
        for i in (1, 2, 3)]

    def envelopes() -> tuple[Any, Any]:
        got = sta.ok(f"/Datastreams({ds})")
        return got["phenomenonTime"], got["resultTime"]

    assert envelopes() == ("2024-05-01T10:00:00Z/2024-05-03T10:00:00Z", "2024-05-01T11:00:00Z/2024-05-03T11:00:00Z")
    assert sta.patch(f"/Observations({ids[1]})", {"resultTime": "2024-06-01T00:00:00Z"}).status_code == 200
    assert envelopes()[1] == "2024-05-01T11:00:00Z/2024-06-01T00:00:00Z"
    assert sta.patch(f"/Observations({ids[1]})", {"phenomenonTime": "2024-05-02T10:00:00Z/2024-07-01T00:00:00Z"}
                     ).status_code == 200
    assert envelopes()[0] == "2024-05-01T10:00:00Z/2024-07-01T00:00:00Z"
    assert sta.delete(f"/Observations({ids[1]})").status_code == 200
    assert envelopes() == ("2024-05-01T10:00:00Z/2024-05-03T10:00:00Z", "2024-05-01T11:00:00Z/2024-05-03T11:00:00Z")
    assert sta.delete(f"/Observations({ids[0]})").status_code == 200
    assert envelopes() == ("2024-05-03T10:00:00Z/2024-05-03T10:00:00Z", "2024-05-03T11:00:00Z/2024-05-03T11:00:00Z")
