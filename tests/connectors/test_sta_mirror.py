"""The ``sta`` connector: a SensorThings mirror of a second live urbanos server started by the test (rerun that
changes nothing, a new remote Observation picked up, filters, a bounded run), and bad remotes (malformed, truncated,
too large, slow, unreachable, a forbidden address, a next link to another server) that fail the run and write
nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus as unquote

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, fresh_db_url, start_server
from tests.connectors.feeds import Files
from tests.connectors.helpers import ADMIN, add, counts, dataset, run, sta
from tests.local_http import Server

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second ``urbanos serve`` with three Things; its SensorThings root."""
    folder = tmp_path_factory.mktemp("remote")
    with fresh_db_url(folder) as url:
        server = start_server(folder / "srv", url)
        try:
            root = f"{server.url}/sta/v1.1"
            for i, n in ((1, 25), (2, 5), (3, 3)):
                thing = {"name": f"T{i}", "description": "remote thing", "properties": {"k": i},
                         "Locations": [{"name": f"L{i}", "description": "here", "encodingType": "application/geo+json",
                                        "location": {"type": "Point", "coordinates": [9.9 + i / 100, 53.5]}}],
                         "Datastreams": [{"name": f"D{i}", "description": "d", "observationType":
                                          "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                                          "unitOfMeasurement": {"name": "degree", "symbol": "°C", "definition": "x"},
                                          "Sensor": {"name": f"S{i}", "description": "s", "encodingType": "text/plain",
                                                     "metadata": "m"},
                                          "ObservedProperty": {"name": f"P{i}", "definition": f"urn:p{i}",
                                                               "description": "p"}}]}
                r = httpx.post(f"{root}/Things", json=thing, headers=H, timeout=30)
                assert r.status_code == 201, r.text
                ds = httpx.get(f"{r.headers['location']}/Datastreams", headers=H, timeout=30).json()["value"][0]
                # two Observations share each instant: the mark must not lose or repeat either
                rows = [[f"2025-01-01T00:{j // 2:02d}:00Z", j] for j in range(n)]
                r = httpx.post(f"{root}/CreateObservations", headers=H, timeout=30, json=[
                    {"Datastream": {"@iot.id": ds["@iot.id"]}, "components": ["phenomenonTime", "result"],
                     "dataArray": rows}])
                assert r.status_code == 201, r.text
            yield root
        finally:
            server.stop()


def remote_ds(root: str, name: str) -> int:
    got = httpx.get(f"{root}/Datastreams", params={"$filter": f"name eq '{name}'"}, timeout=30).json()["value"]
    return int(got[0]["@iot.id"])


def local_obs(client: Any, name: str, ds: str) -> list[tuple[str, Any]]:
    d = sta(client, f"Datastreams?$filter=name eq '{name}' and properties/urbanos:dataset eq '{ds}'")["value"]
    assert len(d) == 1, d
    got = sta(client, f"Datastreams({d[0]['@iot.id']})/Observations?$orderby=phenomenonTime,id&$top=1000")["value"]
    return [(o["phenomenonTime"], o["result"]) for o in got]


def test_mirror_copies_reruns_idempotently_and_picks_up_changes(cclient: Any, cplatform: Any, remote: str) -> None:
    dataset(cplatform, "mirror-all")
    r = add(cclient, ADMIN, name="sta-all", type="sta", url=remote, dataset="mirror-all",
            mapping={"page_size": 4, "datastreams": "name ne 'D3'"})
    assert r.status_code == 201, r.text
    first = run(cclient, "sta-all")
    # 3 Locations, 3 Things, 2 Sensors, 2 ObservedProperties, 2 Datastreams, 30 Observations
    assert first["status"] == "ok", first
    assert counts(first) == (12 + 30, 0, 0, 0)
    d1 = local_obs(cclient, "D1", "mirror-all")
    assert [v for _, v in d1] == list(range(25)) and d1[0][0] == "2025-01-01T00:00:00Z"
    things = sta(cclient, "Things?$filter=name eq 'T1'&$expand=Locations,Datastreams")["value"]
    assert things[0]["properties"] == {"k": 1, "urbanos:dataset": "mirror-all"}
    assert things[0]["Locations"][0]["location"]["coordinates"] == [9.91, 53.5]
    stream = sta(cclient, f"Datastreams({things[0]['Datastreams'][0]['@iot.id']})?$expand=Observations($top=1;$orderby=phenomenonTime desc)")
    assert stream["phenomenonTime"] == "2025-01-01T00:00:00Z/2025-01-01T00:12:00Z"  # envelope kept
    assert stream["Observations"][0]["result"] == 24  # latest first

    again = run(cclient, "sta-all")
    assert counts(again) == (0, 0, 12, 0), again

    # a new Observation at the instant of the mark and one later; the Thing renamed
    ds1 = remote_ds(remote, "D1")
    r = httpx.post(f"{remote}/CreateObservations", headers=H, timeout=30, json=[
        {"Datastream": {"@iot.id": ds1}, "components": ["phenomenonTime", "result"],
         "dataArray": [["2025-01-01T00:12:00Z", 100], ["2025-01-01T01:00:00Z", 101]]}])
    assert r.status_code == 201, r.text
    t1 = httpx.get(f"{remote}/Things", params={"$filter": "name eq 'T1'"}, timeout=30).json()["value"][0]
    assert httpx.patch(f"{remote}/Things({t1['@iot.id']})", json={"name": "T1 renamed"}, headers=H,
                       timeout=30).status_code == 200
    third = run(cclient, "sta-all")
    assert counts(third) == (2, 1, 11, 0), third
    assert [v for _, v in local_obs(cclient, "D1", "mirror-all")][-3:] == [24, 100, 101]
    assert counts(run(cclient, "sta-all")) == (0, 0, 12, 0)


def test_filter_and_bounded_runs(cclient: Any, cplatform: Any, remote: str) -> None:
    dataset(cplatform, "mirror-t2")
    assert add(cclient, ADMIN, name="sta-t2", type="sta", url=remote, dataset="mirror-t2",
               mapping={"things": "name eq 'T2'", "max_observations": 2, "page_size": 3}).status_code == 201
    seen = []
    for _ in range(3):
        result = run(cclient, "sta-t2")
        assert result["status"] == "ok", result
        seen.append(result["created"])
    assert seen == [1 + 1 + 1 + 1 + 1 + 2, 2, 1]  # Location, Thing, Sensor, property, Datastream, Observations
    assert [v for _, v in local_obs(cclient, "D2", "mirror-t2")] == [0, 1, 2, 3, 4]
    names = {t["properties"].get("urbanos:dataset"): t["name"] for t in sta(cclient, "Things")["value"]
             if t["properties"].get("urbanos:dataset") == "mirror-t2"}
    assert names == {"mirror-t2": "T2"}


@pytest.mark.parametrize("mapping", [{"by": "arrival"}, {"page_size": 0}, {"things": 3}, {"other": "x"}])
def test_bad_configuration_is_refused(cclient: Any, cplatform: Any, mapping: dict[str, Any]) -> None:
    name = f"mirror-bad-{len(str(mapping))}-{next(iter(mapping))}"
    dataset(cplatform, name)
    r = add(cclient, ADMIN, name="sta-bad", type="sta", url="http://127.0.0.1:9/sta/v1.1", dataset=name,
            mapping=mapping)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text


def _things(value: Any, nxt: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"value": value}
    if nxt:
        doc["@iot.nextLink"] = nxt
    return doc


@pytest.mark.parametrize(("case", "reason"), [
    ("malformed", "not valid JSON"),
    ("truncated", "not valid JSON"),
    ("not-a-list", "value is not a list of objects"),
    ("no-id", "without @iot.id"),
    ("too-large", "connectors_max_bytes"),
    ("slow", "no answer within the time allowed"),
    ("elsewhere", "leaves the server"),
    ("loop", "loops back"),
])
def test_bad_remote_fails_the_run_and_writes_nothing(cclient: Any, cplatform: Any, feed: Server, files: Files,
                                                      case: str, reason: str) -> None:
    name = f"sta-{case}"
    dataset(cplatform, f"mirror-{case}")
    good = _things([{"@iot.id": 1, "name": "x", "Locations": []}])
    files.values["/v1.1/Things"] = {
        "malformed": b"{\"value\": [ nope", "truncated": b"{\"value\": [{\"@iot.id\": 1, \"na",
        "not-a-list": {"value": {"a": 1}}, "no-id": _things([{"name": "x"}]),
        "too-large": _things([{"@iot.id": i, "name": "x" * 1000} for i in range(2000)]),
        "slow": good, "elsewhere": _things([], "http://127.0.0.2:9/v1.1/Things?page=2"),
        "loop": _things([], f"{feed.url}/v1.1/Things"),
    }[case]
    files.values["/v1.1/Datastreams"] = _things([])
    if case == "slow":
        files.delay["/v1.1/Things"] = 2.5
    assert add(cclient, ADMIN, name=name, type="sta", url=f"{feed.url}/v1.1", dataset=f"mirror-{case}").status_code == 201
    result = run(cclient, name)
    assert result["status"] == "failed" and reason in result["errors"][0], result
    assert sta(cclient, f"Things?$filter=properties/urbanos:dataset eq 'mirror-{case}'")["value"] == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1.1", "http://10.1.2.3/v1.1", "http://169.254.169.254/v1.1"])
def test_unreachable_or_forbidden_remote(cclient: Any, cplatform: Any, url: str, tmp_path: Path) -> None:
    name = "sta-" + url.split("//")[1].split(":")[0].split("/")[0].replace(".", "-")
    dataset(cplatform, f"mirror-{name}")
    assert add(cclient, ADMIN, name=name, type="sta", url=url, dataset=f"mirror-{name}").status_code == 201
    result = run(cclient, name)
    assert result["status"] == "failed" and result["errors"], result
    if "127.0.0.1" not in url:
        assert "not a public address" in result["errors"][0], result


def test_a_page_failing_after_others_were_written_rolls_the_whole_run_back(cclient: Any, cplatform: Any, feed: Server,
                                                                          files: Files) -> None:
    """Observation pages are written while the next is fetched: a later page that fails still leaves nothing of the
    run (entities, Observations, marks), and the next run copies everything."""
    dataset(cplatform, "mirror-midway")
    files.values["/v1.1/Things"] = _things([{"@iot.id": 1, "name": "x", "Locations": [
        {"@iot.id": 5, "name": "l", "encodingType": "application/geo+json",
         "location": {"type": "Point", "coordinates": [9.9, 53.5]}}]}])
    files.values["/v1.1/Datastreams"] = _things([{"@iot.id": 7, "name": "d", "Thing": {"@iot.id": 1},
                                                  "Sensor": {"@iot.id": 2, "name": "s"},
                                                  "ObservedProperty": {"@iot.id": 3, "name": "p"}}])
    first = [{"@iot.id": i, "phenomenonTime": f"2025-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
              "result": i} for i in range(12_000)]  # more than one bulk write (sta_writes.WRITE_ROWS)
    files.values["/v1.1/Datastreams(7)/Observations"] = _things(first, f"{feed.url}/v1.1/page2")
    files.values["/v1.1/page2"] = b'{"value": [{"@iot.id": 20000, "phenomenonTime": "2025-01-02'
    files.delay["/v1.1/page2"] = 0.5  # the first page is written meanwhile
    before = cplatform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM sta_observations"))
    assert add(cclient, ADMIN, name="sta-midway", type="sta", url=f"{feed.url}/v1.1", dataset="mirror-midway",
               mapping={"page_size": 10_000}).status_code == 201
    result = run(cclient, "sta-midway")
    assert result["status"] == "failed" and "not valid JSON" in result["errors"][0], result
    assert cplatform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM sta_observations")) == before
    assert sta(cclient, "Things?$filter=properties/urbanos:dataset eq 'mirror-midway'")["value"] == []
    last = {"@iot.id": 20000, "phenomenonTime": "2025-01-02T00:00:00Z", "result": -1}
    files.values["/v1.1/page2"] = _things([last])
    result = run(cclient, "sta-midway")
    assert result["status"] == "ok" and result["created"] == 5 + 12_001, result
    n = cplatform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM sta_observations"))
    assert n == before + 12_001
    files.values["/v1.1/Datastreams(7)/Observations"] = _things([last])  # what "ge" the mark answers
    assert counts(run(cclient, "sta-midway")) == (0, 0, 5, 0)


def test_things_filter_refused_observations_and_multidatastreams(cclient: Any, cplatform: Any, feed: Server,
                                                                 files: Files) -> None:
    """With a Things ``$filter`` the remote is asked for those Things' Datastreams only; an Observation the local
    service refuses is named in the run log (it is behind the mark and not read again); the Things'
    MultiDatastreams are reported as skipped."""
    dataset(cplatform, "mirror-some")
    loc = {"@iot.id": 5, "name": "l", "encodingType": "application/geo+json",
           "location": {"type": "Point", "coordinates": [9.9, 53.5]}}
    files.values["/v1.1/Things"] = _things([{"@iot.id": 1, "name": "a", "Locations": [loc]},
                                            {"@iot.id": "x'1", "name": "b", "Locations": []}])
    stream = {"Sensor": {"@iot.id": 2, "name": "s"}, "ObservedProperty": {"@iot.id": 3, "name": "p"}}
    files.values["/v1.1/Datastreams"] = _things([{"@iot.id": 7, "name": "d", "Thing": {"@iot.id": 1}, **stream},
                                                 {"@iot.id": 8, "name": "e", "Thing": {"@iot.id": 9}, **stream}])
    files.values["/v1.1/Datastreams(7)/Observations"] = _things([
        {"@iot.id": 1, "phenomenonTime": "2025-01-01T00:00:00Z", "result": 1},
        {"@iot.id": 2, "phenomenonTime": "2025-01-01T00:01:00Z", "result": 2, "resultTime": "=not a time"},
        {"@iot.id": 3, "phenomenonTime": "2025-01-01T00:02:00Z", "result": 3}])
    files.values["/v1.1/MultiDatastreams"] = {"@iot.count": 2, "value": [{"@iot.id": 4}]}
    assert add(cclient, ADMIN, name="sta-some", type="sta", url=f"{feed.url}/v1.1", dataset="mirror-some",
               mapping={"things": "name ne 'c'", "datastreams": "name ne 'z'"}).status_code == 201
    result = run(cclient, "sta-some")
    asked = [unquote(h.path) for h in feed.hits if h.path.startswith("/v1.1/Datastreams?")]
    assert len(asked) == 1 and "$filter=(name ne 'z') and (Thing/id eq 1 or Thing/id eq 'x''1')" in asked[0], asked
    multi = [unquote(h.path) for h in feed.hits if h.path.startswith("/v1.1/MultiDatastreams")]
    assert "Thing/id eq 1 or Thing/id eq 'x''1'" in multi[0], multi
    # 1 Location, 2 Things, Sensor, property, 1 Datastream (not the other Thing's), 2 of 3 Observations
    assert result["status"] == "partial" and counts(result) == (6 + 2, 0, 0, 1), result
    assert result["errors"][0].startswith("Observation 2 of remote Datastream 7 at 2025-01-01T00:01:00Z was refused")
    assert "2 MultiDatastream(s) of the mirrored Things were skipped" in result["errors"][1], result
    # the refused one is not asked for again: the mark is past it
    files.values["/v1.1/Datastreams(7)/Observations"] = _things([])
    files.values["/v1.1/MultiDatastreams"] = b"{not JSON"  # counting what is not copied never fails a run
    n = len(feed.hits)
    again = run(cclient, "sta-some")
    assert again["status"] == "ok" and counts(again) == (0, 0, 6, 0) and again["errors"] == [], again
    obs = [unquote(h.path) for h in feed.hits[n:] if h.path.startswith("/v1.1/Datastreams(7)/Observations")]
    assert "$filter=phenomenonTime ge 2025-01-01T00:02:00Z" in obs[0], obs
    # no Thing passes the filter: no Datastream is asked for at all
    files.values["/v1.1/Things"] = _things([])
    n = len(feed.hits)
    assert run(cclient, "sta-some")["status"] == "ok"
    assert [h.path for h in feed.hits[n:] if "Datastreams" in h.path] == []
