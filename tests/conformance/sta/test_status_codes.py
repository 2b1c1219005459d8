"""SensorThings status codes: a property whose value is null answers 204 No Content; a system query option the
service does not support answers 501 Not Implemented (OGC 18-088, request-data)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, datastream, location


@pytest.fixture
def bare(sta: Sta) -> dict[str, int]:
    """A Thing without properties, with a Datastream that has no Observations (no phenomenonTime)."""
    tid = sta.create("/Things", {"name": "Bare", "description": "no properties",
                                 "Locations": [location("Bare place")], "Datastreams": [datastream("Empty")]})["@iot.id"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    return {"thing": tid, "ds": ds}


@pytest.mark.parametrize("path", [
    "/Things({thing})/properties", "/Things({thing})/properties/$value",
    "/Datastreams({ds})/phenomenonTime", "/Datastreams({ds})/phenomenonTime/$value",
    "/Datastreams({ds})/resultTime", "/Datastreams({ds})/observedArea",
])
def test_null_property_is_204(sta: Sta, bare: dict[str, int], path: str) -> None:
    r = sta.get(path.format(**bare))
    assert r.status_code == 204, r.text
    assert r.content == b""


def test_set_property_is_200(sta: Sta, bare: dict[str, int]) -> None:
    assert sta.ok(f"/Things({bare['thing']})/name") == {"name": "Bare"}
    assert sta.get(f"/Things({bare['thing']})/name/$value").text == "Bare"
    sta.observe(bare["ds"], 1, "2024-01-01T00:00:00Z")
    assert sta.ok(f"/Datastreams({bare['ds']})/phenomenonTime")["phenomenonTime"].startswith("2024-01-01T00:00:00")


def test_null_property_in_a_batch_is_204(sta: Sta, bare: dict[str, int]) -> None:
    body = {"requests": [{"id": "1", "method": "get", "url": f"Things({bare['thing']})/properties"}]}
    r = sta.c.post("/sta/v1.1/$batch", json=body, headers=sta.h)
    assert r.status_code == 200, r.text
    assert r.json()["responses"][0]["status"] == 204


def _err(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == status and body["type"] == "error" and body["message"]
    return body


@pytest.mark.parametrize("query", [
    "$apply=groupby((name))", "$search=foo", "$compute=result mul 2 as double", "$levels=2", "$bogus=1",
    "$Apply=groupby((name))",
])
def test_unsupported_system_option_is_501(sta: Sta, bare: dict[str, int], query: str) -> None:
    body = _err(sta.get(f"/Things?{query}"), 501)
    assert "$filter" in body["message"]  # names what is supported
    _err(sta.get(f"/Things({bare['thing']})?{query}"), 501)


def test_unsupported_option_inside_expand_is_501(sta: Sta, bare: dict[str, int]) -> None:
    _err(sta.get("/Things?$expand=Datastreams($apply=groupby((name)))"), 501)


def test_standard_options_and_plain_parameters_still_answer(sta: Sta, bare: dict[str, int]) -> None:
    q = "$filter=name eq 'Bare'&$select=name&$orderby=name&$top=1&$skip=0&$count=true&$expand=Datastreams"
    assert sta.ok(f"/Things?{q}")["value"] == [{"name": "Bare", "Datastreams": [
        sta.ok(f"/Datastreams({bare['ds']})")]}]
    assert sta.ok("/Things?$resultFormat=GeoJSON&plain=ignored&apply=x")
    _err(sta.get("/Things?$top=x"), 400)  # a supported option with a bad value stays a 400
