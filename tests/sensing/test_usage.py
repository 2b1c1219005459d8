"""SensorThings reads publish their usage over the bus: one ``events.Usage`` (``api="sta"``) per catalogue dataset
whose data a GET served, with the caller's application; nothing for data of no dataset, refused reads, or writes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, thing
from urbanos.events import USAGE, Event, Usage
from urbanos.governance.tokens import create_token


@pytest.fixture
def world(sta: Sta, platform: Any) -> dict[str, Any]:
    """Two open datasets with a Thing (and its Datastream) each, a Thing of no dataset, and a reader's token."""
    def datasets(c: Any) -> dict[str, int]:
        return {name: c.insert("datasets", {"name": name, "title": name, "access_level": level,
                                            "created_at": "2024-01-01T00:00:00Z", "modified_at": "2024-01-01T00:00:00Z"})
                for name, level in (("counts-a", "open"), ("counts-b", "open"), ("hidden", "confidential"))}

    ids = platform.db.write_sync(datasets)
    streams: dict[str, int] = {}
    for name in ("counts-a", "counts-b", "hidden", ""):
        body = thing(f"T-{name or 'none'}")
        if name:
            body["properties"] = {"urbanos:dataset": name}
        tid = sta.create("/Things", body)["@iot.id"]
        streams[name] = sta.ok(f"/Things({tid})/Datastreams", sta.h)["value"][0]["@iot.id"]
        sta.observe(streams[name], 1, "2024-01-01T00:00:00Z")
    token = platform.db.write_sync(lambda c: create_token(c, "reader", None, "dashboard-app"))
    return {"ids": ids, "streams": streams, "reader": {"Authorization": f"Bearer {token}"}}


@pytest.fixture
def heard(platform: Any) -> list[Usage]:
    """The usage events published on the bus from now on."""
    out: list[Usage] = []

    def listen(ev: Event) -> None:
        usage = Usage.of(ev)
        if usage is not None:
            out.append(usage)

    platform.bus.subscribe(listen, topic=USAGE)
    return out


def test_each_read_publishes_one_usage_per_dataset_served(sta: Sta, world: dict[str, Any], heard: list[Usage]) -> None:
    ds = world["streams"]["counts-a"]
    n = 5
    for _ in range(n):
        sta.ok(f"/Datastreams({ds})/Observations", world["reader"])
    assert len(heard) == n
    assert set(heard) == {Usage(kind="api_read", api="sta", dataset="counts-a", dataset_id=world["ids"]["counts-a"],
                                application="dashboard-app")}
    # an anonymous caller has no application; a read of two datasets counts once for each
    heard.clear()
    things = sta.ok("/Things")["value"]
    assert {t["name"] for t in things} == {"T-counts-a", "T-counts-b", "T-none"}
    assert sorted((u.dataset, u.dataset_id, u.application) for u in heard) == [
        ("counts-a", world["ids"]["counts-a"], ""), ("counts-b", world["ids"]["counts-b"], "")]
    assert all(u.kind == "api_read" and u.api == "sta" for u in heard)


def test_expanded_data_counts_for_its_dataset(sta: Sta, world: dict[str, Any], heard: list[Usage]) -> None:
    ds = world["streams"]["counts-b"]
    sta.ok(f"/Datastreams({ds})?$expand=Observations")
    sta.ok(f"/Datastreams({ds})/Observations?$resultFormat=dataArray")
    assert [u.dataset for u in heard] == ["counts-b", "counts-b"]


def test_reads_of_no_dataset_refused_reads_and_writes_publish_nothing(sta: Sta, world: dict[str, Any],
                                                                       heard: list[Usage]) -> None:
    sta.ok(f"/Datastreams({world['streams']['']})/Observations")
    assert sta.get(f"/Datastreams({world['streams']['hidden']})/Observations").status_code == 404
    assert sta.get("/Things?$filter=nonsense eq 1").status_code == 400
    sta.observe(world["streams"]["counts-a"], 2)
    assert heard == []


def test_reads_inside_a_batch_count_like_reads(sta: Sta, world: dict[str, Any], heard: list[Usage]) -> None:
    ds = world["streams"]["counts-a"]
    r = sta.c.post("/sta/v1.1/$batch", headers=sta.h, json={"requests": [
        {"id": "1", "method": "get", "url": f"Datastreams({ds})/Observations"},
        {"id": "2", "method": "get", "url": f"Datastreams({ds})"}]})
    assert r.status_code == 200, r.text
    assert [u.dataset for u in heard] == ["counts-a", "counts-a"]
