"""CSV and JSON pollers end to end against a live HTTP server: Observations and features by a declared mapping, an
unchanged rerun, a change picked up, bad rows counted, and feeds that fail (malformed, truncated, too large, slow,
unreachable, refused by the outbound rules) fail their run with the reason and write nothing."""

from __future__ import annotations

from typing import Any

import orjson

from tests.conftest import free_port
from tests.connectors.feeds import Files
from tests.connectors.helpers import ADMIN, add, counts, dataset, datastreams, observations, run
from tests.local_http import Server

CSV = b"time,pm10,no2,name\n2026-01-01T10:00:00Z,12.5,30,=cmd()\n2026-01-01T11:00:00Z,13,31,b\n"


def _csv_connector(cclient: Any, cplatform: Any, feed: Server, name: str) -> list[int]:
    dataset(cplatform, name)
    ids = datastreams(cclient, name, f"{name} pm10", f"{name} no2")
    mapping = {"observations": [{"datastream": ids[0], "time": "time", "result": "pm10"},
                                {"datastream": f"{name} no2", "time": "time", "result": "no2"}]}
    r = add(cclient, ADMIN, name=name, type="csv", url=f"{feed.url}/{name}.csv", dataset=name, mapping=mapping,
            every="5m")
    assert r.status_code == 201, r.text
    return ids


def test_csv_observations_rerun_and_change(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    files.values["/air.csv"] = CSV
    pm10, no2 = _csv_connector(cclient, cplatform, feed, "air")
    assert counts(run(cclient, "air")) == (4, 0, 0, 0)
    assert observations(cclient, pm10) == [("2026-01-01T10:00:00Z", 12.5), ("2026-01-01T11:00:00Z", 13)]
    assert counts(run(cclient, "air")) == (0, 0, 4, 0)
    files.values["/air.csv"] = CSV.replace(b",13,", b",14,") + b"2026-01-01T12:00:00Z,15,x,c\n"
    result = run(cclient, "air")
    # one value changed, one row added (its no2 is not a number but is a result still)
    assert counts(result) == (2, 1, 3, 0), result
    assert observations(cclient, pm10)[1:] == [("2026-01-01T11:00:00Z", 14), ("2026-01-01T12:00:00Z", 15)]
    assert len(observations(cclient, no2)) == 3
    shown = cclient.get("/connectors/air", headers=ADMIN).json()
    assert [r["created"] for r in shown["runs"]] == [2, 0, 4] and shown["healthy"] is True


def test_json_features_replace_collection(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    dataset(cplatform, "bins")
    doc = {"items": [{"id": "a", "pos": {"lon": 10.0, "lat": 53.5}, "fill": 40, "label": "</script><b>x"},
                     {"id": "b", "pos": {"lon": 10.1, "lat": 53.6}, "fill": 90, "label": "=1+1"}]}
    files.values["/bins.json"] = doc
    mapping = {"records": "$.items", "features": {"collection": "bins-live", "id": "id", "lon": "pos.lon",
                                                  "lat": "pos.lat", "properties": ["fill", "label"]}}
    assert add(cclient, ADMIN, name="bins", type="json", url=f"{feed.url}/bins.json", dataset="bins",
               mapping=mapping).status_code == 201
    assert counts(run(cclient, "bins")) == (2, 0, 0, 0)
    items = cclient.get("/ogcapi/collections/bins-live/items", headers=ADMIN).json()["features"]
    assert {f["properties"]["id"]: f["properties"]["fill"] for f in items} == {"a": 40, "b": 90}
    assert items[0]["properties"]["label"] == "</script><b>x"
    assert counts(run(cclient, "bins")) == (0, 0, 2, 0)
    doc["items"][1]["fill"] = 95
    doc["items"].append({"id": "c", "pos": {"lon": 10.2, "lat": 53.7}, "fill": 1, "label": "c"})
    doc["items"].append({"id": "d", "pos": {"lon": 500, "lat": 53.7}, "fill": 1, "label": "bad"})
    result = run(cclient, "bins")
    assert counts(result) == (1, 1, 1, 1) and result["status"] == "partial", result
    assert "not a WGS84 position" in result["errors"][0]
    items = cclient.get("/ogcapi/collections/bins-live/items", headers=ADMIN).json()["features"]
    assert len(items) == 3


def _failing(cclient: Any, cplatform: Any, url: str, name: str) -> dict[str, Any]:
    dataset(cplatform, name)
    ids = datastreams(cclient, name, f"{name} v")
    assert add(cclient, ADMIN, name=name, type="json", url=url, dataset=name,
               mapping={"datastream": ids[0], "time": "t", "result": "v"}).status_code == 201
    result = run(cclient, name)
    assert result["status"] == "failed" and counts(result) == (0, 0, 0, 0), result
    assert observations(cclient, ids[0]) == []
    return result


def test_malformed_truncated_oversized_feeds_fail_and_write_nothing(cclient: Any, cplatform: Any, feed: Server,
                                                                    files: Files) -> None:
    good = orjson.dumps([{"t": "2026-01-01T00:00:00Z", "v": 1}, {"t": "2026-01-01T01:00:00Z", "v": 2}])
    files.values["/truncated.json"] = good[:-9]
    files.values["/malformed.json"] = b"<html>not json</html>"
    files.values["/big.json"] = b"[" + b" " * (2 * 1024 * 1024) + b"]"
    assert "not valid JSON" in _failing(cclient, cplatform, f"{feed.url}/truncated.json", "trunc")["errors"][0]
    assert "not valid JSON" in _failing(cclient, cplatform, f"{feed.url}/malformed.json", "malf")["errors"][0]
    assert "connectors_max_bytes" in _failing(cclient, cplatform, f"{feed.url}/big.json", "big")["errors"][0]


def test_slow_unreachable_refused_feeds_fail_with_reason(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    files.values["/slow.json"] = [{"t": "2026-01-01T00:00:00Z", "v": 1}]
    files.delay["/slow.json"] = 2.5
    slow = _failing(cclient, cplatform, f"{feed.url}/slow.json", "slow")
    assert "no answer within the time allowed" in slow["errors"][0] and slow["attempts"] == 2  # retried once
    down = _failing(cclient, cplatform, f"http://127.0.0.1:{free_port()}/x.json", "down")
    assert "cannot fetch" in down["errors"][0]
    refused = _failing(cclient, cplatform, "http://10.255.255.1/x.json", "private")
    assert "not a public address" in refused["errors"][0] and "outbound_allow" in refused["errors"][0]
    assert refused["attempts"] == 1  # a refusal is not retried
    # other connectors still run
    files.values["/fine.json"] = [{"t": "2026-01-01T00:00:00Z", "v": 1}]
    dataset(cplatform, "fine")
    ids = datastreams(cclient, "fine", "fine v")
    add(cclient, ADMIN, name="fine", type="json", url=f"{feed.url}/fine.json", dataset="fine",
        mapping={"datastream": ids[0], "time": "t", "result": "v"})
    assert run(cclient, "fine")["status"] == "ok"


def test_unhealthy_after_failures_in_a_row(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    files.values["/flaky.json"] = b"{"
    _failing(cclient, cplatform, f"{feed.url}/flaky.json", "flaky")
    run(cclient, "flaky")
    assert cclient.get("/connectors/flaky", headers=ADMIN).json()["healthy"] is True
    run(cclient, "flaky")
    shown = cclient.get("/connectors/flaky", headers=ADMIN).json()
    assert shown["healthy"] is False and shown["consecutive_failures"] == 3
    listed = {c["name"]: c for c in cclient.get("/connectors", headers=ADMIN).json()["connectors"]}
    assert listed["flaky"]["healthy"] is False
    files.values["/flaky.json"] = [{"t": "2026-01-01T00:00:00Z", "v": 1}]
    assert run(cclient, "flaky")["status"] == "ok"
    assert cclient.get("/connectors/flaky", headers=ADMIN).json()["healthy"] is True
