"""$filter through to-many navigation properties: true when at least one related entity satisfies the condition
(as FROST-Server answers), at any depth, combined with and/or/not, in $expand and with the caller's visibility."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, datastream, location

POLY = "geography'POLYGON((144.9 -37.85, 145.0 -37.85, 145.0 -37.8, 144.9 -37.8, 144.9 -37.85))'"


@pytest.fixture
def world(sta: Sta) -> dict[str, Any]:
    a = sta.create("/Things", {"name": "Swanston St", "description": "north",
                               "Locations": [location("A", 144.9665, -37.8136)],
                               "Datastreams": [datastream("Pedestrians A"), datastream("Cyclists A")]})["@iot.id"]
    b = sta.create("/Things", {"name": "Bourke St", "description": "south",
                               "Locations": [location("B", 145.2, -37.9)],
                               "Datastreams": [datastream("Pedestrians B")]})["@iot.id"]
    c = sta.create("/Things", {"name": "Empty", "description": "no streams",
                               "Locations": [location("C", 145.3, -37.9)]})["@iot.id"]
    streams = {d["name"]: d["@iot.id"] for d in sta.ok("/Datastreams")["value"]}
    for i in range(3):
        sta.observe(streams["Pedestrians A"], i * 10, f"2024-03-0{i + 1}T10:00:00Z")  # 0 10 20
    sta.observe(streams["Cyclists A"], 3, "2024-03-01T10:00:00Z")
    sta.observe(streams["Pedestrians B"], 15, "2024-03-01T10:00:00Z")
    return {"a": a, "b": b, "c": c, "streams": streams}


def _names(sta: Sta, path: str) -> list[str]:
    return sorted(e["name"] for e in sta.ok(path)["value"])


def test_geo_intersects_through_locations(sta: Sta, world: dict[str, Any]) -> None:
    assert _names(sta, f"/Things?$filter=geo.intersects(Locations/location, {POLY})") == ["Swanston St"]
    assert _names(sta, f"/Things?$filter=not geo.intersects(Locations/location, {POLY})") == ["Bourke St", "Empty"]
    assert _names(sta, f"/Things?$filter=st_within(Locations/location, {POLY}) or name eq 'Empty'") == [
        "Empty", "Swanston St"]


def test_one_level(sta: Sta, world: dict[str, Any]) -> None:
    assert _names(sta, "/Things?$filter=Datastreams/name eq 'Cyclists A'") == ["Swanston St"]
    assert _names(sta, "/Things?$filter=startswith(Datastreams/name, 'Pedestrians')") == ["Bourke St", "Swanston St"]
    assert _names(sta, "/Things?$filter=Datastreams/name eq 'nothing'") == []
    assert _names(sta, "/Datastreams?$filter=Observations/result gt 10") == ["Pedestrians A", "Pedestrians B"]
    assert _names(sta, "/Datastreams?$filter=Observations/result gt 16") == ["Pedestrians A"]
    assert _names(sta, "/Locations?$filter=Things/name eq 'Bourke St'") == ["B"]
    assert _names(sta, "/Sensors?$filter=Datastreams/name eq 'Cyclists A'") == ["Counter"]
    # a condition mixing the related entity and the entity itself
    assert _names(sta, "/Things?$filter=substringof(description, Datastreams/description) ") == []
    assert _names(sta, "/Things?$filter=Datastreams/name eq concat('Cyclists ', 'A') and name eq 'Swanston St'") == [
        "Swanston St"]


def test_many_levels_and_own_steps(sta: Sta, world: dict[str, Any]) -> None:
    assert _names(sta, "/Things?$filter=Datastreams/Observations/result gt 10") == ["Bourke St", "Swanston St"]
    assert _names(sta, "/Things?$filter=Datastreams/Observations/result gt 16") == ["Swanston St"]
    assert _names(sta, "/Things?$filter=Datastreams/Observations/result eq 3") == ["Swanston St"]
    assert _names(sta, "/Things?$filter=not (Datastreams/Observations/result gt 1)") == ["Empty"]
    assert len(sta.ok("/Observations?$filter=Datastream/Thing/Locations/name eq 'B'")["value"]) == 1
    assert _names(sta, "/Things?$filter=Datastreams/Thing/name eq 'Bourke St'") == ["Bourke St"]
    assert _names(sta, "/Locations?$filter=Things/Datastreams/Observations/result ge 20") == ["A"]


def test_counts_expand_and_paging(sta: Sta, world: dict[str, Any]) -> None:
    body = sta.ok("/Things?$filter=Datastreams/Observations/result ge 0&$count=true&$top=1&$orderby=name")
    assert body["@iot.count"] == 2 and [t["name"] for t in body["value"]] == ["Bourke St"]
    nxt = sta.c.get(body["@iot.nextLink"].replace("http://testserver", "")).json()
    assert [t["name"] for t in nxt["value"]] == ["Swanston St"]
    exp = sta.ok(f"/Things({world['a']})?$expand=Datastreams($filter=Observations/result gt 10)")
    assert [d["name"] for d in exp["Datastreams"]] == ["Pedestrians A"]


def test_to_many_paths_outside_filter_are_refused(sta: Sta, world: dict[str, Any]) -> None:
    for path in ("/Things?$orderby=Datastreams/name", "/Things?$filter=Datastreams eq 1",
                 "/Things?$filter=Datastreams/nope eq 1"):
        r = sta.get(path)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["type"] == "error"
