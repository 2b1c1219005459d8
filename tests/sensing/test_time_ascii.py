"""A time with a character beyond ASCII is a 400 that stores nothing: ``"2024-01-01T00:00:00.²Z"`` was stored and
served as ``00.²00000Z``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, thing

BAD_TIMES = ["2024-01-01T00:00:00.²Z", "2024-01-01T00:00:00.١٢Z", "2024-01-01²00:00:00Z", "2024-01-01T00:00+01Z"]


@pytest.fixture
def sta(client: Any, admin_headers: dict[str, str]) -> Sta:
    return Sta(client, admin_headers)


@pytest.mark.parametrize("when", BAD_TIMES)
@pytest.mark.parametrize("field", ["phenomenonTime", "resultTime"])
def test_observation_times(sta: Sta, field: str, when: str) -> None:
    ds = sta.create("/Things", thing("T"))["@iot.id"]
    ds = sta.ok(f"/Things({ds})/Datastreams")["value"][0]["@iot.id"]
    body = {"result": 1, "Datastream": {"@iot.id": ds}, "phenomenonTime": "2024-01-01T00:00:00Z", field: when}
    r = sta.post("/Observations", body)
    assert r.status_code == 400, r.text
    assert field in r.json()["message"]
    assert sta.ok(f"/Datastreams({ds})/Observations")["value"] == []
    ok = sta.observe(ds, 1, "2024-01-01T00:00:00.25Z")
    assert sta.ok(f"/Observations({ok['@iot.id']})")["phenomenonTime"] == "2024-01-01T00:00:00.250Z"


@pytest.mark.parametrize("when", ["2024-01-01T00:00:00.²Z/2024-01-02T00:00:00Z", "2024-01-01T00:00:00Z/2024-01-02T00:00:00.١Z"])
def test_interval_times(sta: Sta, when: str) -> None:
    tid = sta.create("/Things", thing("T"))["@iot.id"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    r = sta.post("/Observations", {"result": 1, "Datastream": {"@iot.id": ds}, "phenomenonTime": when})
    assert r.status_code == 400, r.text


def test_data_array_times(sta: Sta) -> None:
    tid = sta.create("/Things", thing("T"))["@iot.id"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
             "dataArray": [["2024-01-01T00:00+01Z", 1], ["2024-01-01T00:00:0²Z", 2], ["2024-01-01T00:00:00Z", 3]]}]
    r = sta.post("/CreateObservations", body)
    assert r.status_code == 201, r.text
    assert [x.startswith("error") for x in r.json()] == [True, True, False], r.json()
    times = [o["phenomenonTime"] for o in sta.ok(f"/Datastreams({ds})/Observations")["value"]]
    assert times == ["2024-01-01T00:00:00Z"]
