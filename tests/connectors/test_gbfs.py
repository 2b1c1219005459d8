"""GBFS v2.3 and v3.0 end to end against a live feed server: first run creates, a rerun changes nothing, a change is
picked up, ttl is respected, free-floating vehicles are replaced as a collection, unknown versions are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.connectors.feeds import Files, gbfs
from tests.connectors.helpers import ADMIN, add, counts, dataset, run, sta
from tests.local_http import Server


def _setup(cclient: Any, cplatform: Any, feed: Server, name: str) -> None:
    dataset(cplatform, name)
    r = add(cclient, ADMIN, name=name, type="gbfs", url=f"{feed.url}/gbfs/gbfs.json", dataset=name)
    assert r.status_code == 201, r.text


def _things(cclient: Any, prefix: str, more: str = "") -> list[dict[str, Any]]:
    return list(sta(cclient, f"Things?$filter=startswith(name, '{prefix}')&$orderby=id{more}")["value"])


def _observations(cclient: Any, prefix: str) -> int:
    return int(sta(cclient, f"Observations?$filter=startswith(Datastream/Thing/name, '{prefix}')&$count=true&$top=0")
               ["@iot.count"])


@pytest.mark.parametrize("version", ["2.3", "3.0"])
def test_first_run_creates_rerun_changes_nothing_change_is_picked_up(
        version: str, cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    name, p = f"bikes{version[0]}", f"v{version} "
    files.values.update(gbfs(feed.url, version, n=3, nveh=2, prefix=p))
    _setup(cclient, cplatform, feed, name)
    first = run(cclient, name)
    assert first["status"] == "ok", first
    # 3 stations + 6 Observations (vehicles and docks) created; 2 vehicles as features
    assert counts(first) == (3 + 6 + 2, 0, 0, 0)
    things = _things(cclient, p, "&$expand=Locations,Datastreams")
    assert [t["name"] for t in things] == [f"{p}Station 0", f"{p}Station 1", f"{p}Station 2"]
    assert things[1]["Locations"][0]["location"]["coordinates"] == [9.991, 53.551]
    assert len(things[0]["Datastreams"]) == 2
    assert _observations(cclient, p) == 6
    veh = cclient.get(f"/ogcapi/collections/{name}-vehicles/items", headers=ADMIN).json()
    assert sorted(f["properties"]["vehicle_id"] for f in veh["features"]) == ["b0", "b1"]

    again = run(cclient, name)
    assert counts(again) == (0, 0, 3 + 6 + 2, 0)
    assert _observations(cclient, p) == 6

    changed = gbfs(feed.url, version, n=4, nveh=1, bikes=lambda i: 7 if i == 0 else i % 10, prefix=p)
    changed["/gbfs/station_information.json"]["data"]["stations"][1]["lon"] = 9.5
    files.values.update(changed)
    third = run(cclient, name)
    # station 3 new (+2 Observations); station 1 moved; station 0: vehicles 0 -> 7, docks 20 -> 13
    created, updated, unchanged, failed = counts(third)
    assert (created, updated, failed) == (1 + 2 + 2, 1, 0), third
    assert _observations(cclient, p) == 10
    moved = _things(cclient, f"{p}Station 1", "&$expand=Locations")[0]
    assert moved["Locations"][0]["location"]["coordinates"] == [9.5, 53.551]
    veh = cclient.get(f"/ogcapi/collections/{name}-vehicles/items", headers=ADMIN).json()
    assert [f["properties"]["vehicle_id"] for f in veh["features"]] == ["b0"]


def test_ttl_is_respected(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    files.values.update(gbfs(feed.url, "3.0", n=2, nveh=1, ttl=60, prefix="ttl "))
    _setup(cclient, cplatform, feed, "ttl")
    runner = cplatform.services["connectors"].runner
    now = [datetime(2026, 1, 1, 12, 0, tzinfo=UTC)]
    runner.clock = lambda: now[0]
    run(cclient, "ttl")
    hits = len(feed.hits)
    files.values.update(gbfs(feed.url, "3.0", n=2, nveh=1, ttl=60, bikes=lambda i: 9, prefix="ttl "))
    now[0] += timedelta(seconds=30)
    within = run(cclient, "ttl")
    assert len(feed.hits) == hits and counts(within) == (0, 0, 0, 0)  # nothing fetched before the ttl ran out
    now[0] += timedelta(seconds=31)
    after = run(cclient, "ttl")
    assert len(feed.hits) > hits and after["created"] == 4  # both stations' values changed


def test_unknown_version_is_refused(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    docs = gbfs(feed.url, "3.0", prefix="v4 ")
    docs["/gbfs/gbfs.json"]["version"] = "4.0"
    files.values.update(docs)
    _setup(cclient, cplatform, feed, "future")
    r = run(cclient, "future")
    assert r["status"] == "failed" and "GBFS version 4.0 is not supported" in r["errors"][0]
    assert _things(cclient, "v4 ") == []
