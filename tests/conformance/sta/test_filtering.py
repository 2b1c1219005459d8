"""SensorThings filtering: $filter operators and functions, on entity sets, navigation and $expand."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, datastream, location


@pytest.fixture
def world(sta: Sta) -> dict[str, Any]:
    a = sta.create("/Things", {"name": "Swanston St", "description": "north", "properties": {"lanes": 2, "owner": "city"},
                               "Locations": [location("A", 144.9665, -37.8136)],
                               "Datastreams": [datastream("Pedestrians A")]})["@iot.id"]
    b = sta.create("/Things", {"name": "Bourke St", "description": "south", "properties": {"lanes": 4},
                               "Locations": [location("B", 145.2, -37.9)],
                               "Datastreams": [datastream("Pedestrians B")]})["@iot.id"]
    ds_a = sta.ok(f"/Things({a})/Datastreams")["value"][0]["@iot.id"]
    ds_b = sta.ok(f"/Things({b})/Datastreams")["value"][0]["@iot.id"]
    for i in range(6):
        sta.observe(ds_a, i * 10, f"2024-03-0{i + 1}T10:00:00Z")
    sta.observe(ds_b, "broken", "2024-03-01T00:00:00Z/2024-03-01T01:00:00Z")
    sta.observe(ds_b, 7.5, "2024-03-02T00:00:00Z/2024-03-02T01:00:00Z", resultTime="2024-03-02T01:00:05Z")
    return {"a": a, "b": b, "ds_a": ds_a, "ds_b": ds_b}


def _n(sta: Sta, path: str) -> int:
    return len(sta.ok(path)["value"])


def _names(sta: Sta, flt: str) -> set[str]:
    return {t["name"] for t in sta.ok(f"/Things?$filter={flt}")["value"]}


def test_comparison_logical_arithmetic(sta: Sta, world: dict[str, Any]) -> None:
    assert _n(sta, "/Observations?$filter=result gt 20") == 3
    assert _n(sta, "/Observations?$filter=result ge 20 and result le 30") == 2
    assert _n(sta, "/Observations?$filter=result eq 0 or result eq 50") == 2
    assert _n(sta, "/Observations?$filter=not (result lt 40)") >= 2
    assert _n(sta, "/Observations?$filter=result add 5 eq 15") == 1
    assert _n(sta, "/Observations?$filter=result mul 2 gt 90") == 1
    assert _n(sta, "/Observations?$filter=result mod 20 eq 0") == 3
    assert _n(sta, "/Observations?$filter=result eq 'broken'") == 1
    assert _n(sta, "/Observations?$filter=resultTime eq null") == 7
    assert _n(sta, "/Observations?$filter=resultTime ne null") == 1
    assert _names(sta, "properties/lanes gt 2") == {"Bourke St"}
    assert _names(sta, "properties/owner eq 'city'") == {"Swanston St"}


def test_string_functions(sta: Sta, world: dict[str, Any]) -> None:
    assert _names(sta, "substringof('wan', name)") == {"Swanston St"}
    assert _names(sta, "startswith(name, 'Bou')") == {"Bourke St"}
    assert _names(sta, "endswith(name, 'St')") == {"Swanston St", "Bourke St"}
    assert _names(sta, "length(name) eq 9") == {"Bourke St"}
    assert _names(sta, "indexof(name, 'St') eq 7") == {"Bourke St"}
    assert _names(sta, "substring(name, 1, 3) eq 'our'") == {"Bourke St"}
    assert _names(sta, "tolower(name) eq 'bourke st'") == {"Bourke St"}
    assert _names(sta, "toupper(description) eq 'NORTH'") == {"Swanston St"}
    assert _names(sta, "trim(concat(' ', name)) eq 'Bourke St'") == {"Bourke St"}


def test_time_and_math_functions(sta: Sta, world: dict[str, Any]) -> None:
    assert _n(sta, "/Observations?$filter=phenomenonTime gt 2024-03-04T00:00:00Z") == 3
    assert _n(sta, "/Observations?$filter=year(phenomenonTime) eq 2024 and day(phenomenonTime) eq 2") == 2
    assert _n(sta, "/Observations?$filter=hour(phenomenonTime) eq 10") == 6
    assert _n(sta, "/Observations?$filter=round(result div 3) eq 3") == 2
    assert _n(sta, "/Observations?$filter=floor(result) eq 7") == 1
    assert _n(sta, "/Observations?$filter=ceiling(result) eq 8") == 1
    # interval semantics: "lt t" when it ends at or before t, "gt t" when it starts after t
    ds_b = world["ds_b"]
    assert _n(sta, f"/Datastreams({ds_b})/Observations?$filter=phenomenonTime lt 2024-03-01T01:00:00Z") == 1
    assert _n(sta, f"/Datastreams({ds_b})/Observations?$filter=phenomenonTime gt 2024-03-01T00:30:00Z") == 1
    assert _n(sta, "/Datastreams?$filter=phenomenonTime gt 2024-03-05T00:00:00Z") == 0


def test_geospatial_functions(sta: Sta, world: dict[str, Any]) -> None:
    poly = "geography'POLYGON((144.9 -37.85, 145.0 -37.85, 145.0 -37.8, 144.9 -37.8, 144.9 -37.85))'"
    locs = sta.ok(f"/Locations?$filter=st_within(location, {poly})")["value"]
    assert [loc["name"] for loc in locs] == ["A"]
    assert _n(sta, f"/Locations?$filter=geo.intersects(location, {poly})") == 1
    assert _n(sta, "/Locations?$filter=geo.distance(location, geography'POINT(144.9665 -37.8136)') lt 0.01") == 1
    assert _n(sta, f"/Locations?$filter=st_disjoint(location, {poly})") == 1
    assert _n(sta, "/FeaturesOfInterest?$filter=st_equals(feature, geography'POINT(145.2 -37.9)')") == 1
    assert _n(sta, f"/Locations?$filter=st_relate(location, {poly}, 'T********')") == 1


def test_navigation_paths_and_expand_filters(sta: Sta, world: dict[str, Any]) -> None:
    assert _n(sta, "/Observations?$filter=Datastream/Thing/name eq 'Bourke St'") == 2
    assert _n(sta, "/Datastreams?$filter=Thing/properties/lanes eq 2") == 1
    body = sta.ok("/Things?$filter=name eq 'Swanston St'&$expand=Datastreams/Observations($filter=result ge 40;$orderby=result desc)")
    assert [o["result"] for o in body["value"][0]["Datastreams"][0]["Observations"]] == [50, 40]
    assert sta.ok("/Observations?$filter=result gt 0&$count=true&$top=1")["@iot.count"] == 6
    got: list[Any] = []
    url = "/sta/v1.1/Observations?$filter=result gt 0&$top=2&$orderby=result"
    while url:
        page = sta.c.get(url).json()
        got += [o["result"] for o in page["value"]]
        url = page.get("@iot.nextLink", "").replace("http://testserver", "")
    assert got == [7.5, 10, 20, 30, 40, 50]
    assert _n(sta, "/Observations?$orderby=Datastream/name desc,phenomenonTime&$top=100") == 8


def test_bad_filters(sta: Sta, world: dict[str, Any]) -> None:
    for flt in ("result gt", "nope eq 1", "name eq 1 1", "substringof(name)", "result eq geography'POINT(1'",
                "geo.distance(location, geography'POINT(0 0)') eq 'x'", "Datastream/nope eq 1", "(("):
        r = sta.get(f"/Observations?$filter={flt}")
        assert r.status_code == 400, (flt, r.text)
        body = r.json()
        assert body["code"] == 400 and body["type"] == "error"
