"""Dataset access on every SensorThings read path: entity sets, navigation, $expand, $count, nextLink."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, thing
from urbanos.governance.tokens import create_token
from urbanos.ports import SensingPort

LEVELS = ("open", "registered", "internal", "confidential")


@pytest.fixture
def world(sta: Sta, platform: Any) -> dict[str, Any]:
    def setup(c: Any) -> dict[str, int]:
        ids = {}
        for level in LEVELS:
            ids[level] = c.insert("datasets", {"name": f"ds-{level}", "title": level, "owner_org": "city",
                                               "access_level": level, "created_at": "2024-01-01T00:00:00Z",
                                               "modified_at": "2024-01-01T00:00:00Z"})
        return ids

    ds_ids = platform.db.write_sync(setup)
    things: dict[str, int] = {}
    streams: dict[str, int] = {}
    for level in (*LEVELS, "none"):
        body = thing(f"T-{level}")
        if level != "none":
            body["dataset_id"] = ds_ids[level]
        tid = sta.create("/Things", body)["@iot.id"]
        things[level] = tid
        streams[level] = sta.ok(f"/Things({tid})/Datastreams", sta.h)["value"][0]["@iot.id"]
        for i in range(3):
            sta.observe(streams[level], i, f"2024-01-0{i + 1}T00:00:00Z")
    reader = platform.db.write_sync(lambda c: create_token(c, "reader", None, "reader"))
    insider = platform.db.write_sync(lambda c: create_token(c, "reader", "city", "insider"))
    return {"datasets": ds_ids, "things": things, "streams": streams,
            "reader": {"Authorization": f"Bearer {reader}"}, "insider": {"Authorization": f"Bearer {insider}"}}


def _names(sta: Sta, path: str, headers: dict[str, str] | None = None) -> set[str]:
    r = sta.c.get("/sta/v1.1" + path, headers=headers or {})
    assert r.status_code == 200, r.text
    return {t["name"] for t in r.json()["value"]}


def test_entity_sets_and_counts(sta: Sta, world: dict[str, Any]) -> None:
    assert _names(sta, "/Things") == {"T-open", "T-none"}
    assert _names(sta, "/Things", world["reader"]) == {"T-open", "T-none", "T-registered"}
    assert _names(sta, "/Things", world["insider"]) == {"T-open", "T-none", "T-registered", "T-internal"}
    assert len(_names(sta, "/Things", sta.h)) == 5
    assert sta.ok("/Things?$count=true")["@iot.count"] == 2
    assert sta.ok("/Datastreams?$count=true")["@iot.count"] == 2
    assert sta.ok("/Observations?$count=true")["@iot.count"] == 6
    assert sta.ok("/HistoricalLocations?$count=true")["@iot.count"] == 2
    assert sta.ok("/Locations?$count=true")["@iot.count"] == 2
    assert sta.ok("/FeaturesOfInterest?$count=true")["@iot.count"] == 2
    assert sta.ok("/Sensors?$count=true")["@iot.count"] == 2


def test_single_and_navigation_paths(sta: Sta, world: dict[str, Any]) -> None:
    hidden_t, hidden_ds = world["things"]["confidential"], world["streams"]["confidential"]
    for path in (f"/Things({hidden_t})", f"/Things({hidden_t})/Datastreams", f"/Datastreams({hidden_ds})",
                 f"/Datastreams({hidden_ds})/Observations", f"/Datastreams({hidden_ds})/Thing",
                 f"/Things({hidden_t})/name/$value"):
        r = sta.get(path)
        assert r.status_code == 404, (path, r.text)
        assert r.json()["type"] == "error"
    obs = sta.c.get(f"/sta/v1.1/Datastreams({hidden_ds})/Observations", headers=sta.h).json()["value"]
    assert sta.get(f"/Observations({obs[0]['@iot.id']})").status_code == 404
    assert sta.get(f"/Observations({obs[0]['@iot.id']})/Datastream").status_code == 404
    assert sta.c.get(f"/sta/v1.1/Things({world['things']['internal']})", headers=world["insider"]).status_code == 200
    assert sta.c.get(f"/sta/v1.1/Things({world['things']['internal']})", headers=world["reader"]).status_code == 404


def test_expand_and_next_link(sta: Sta, world: dict[str, Any]) -> None:
    sensors = sta.ok("/Sensors?$expand=Datastreams")["value"]
    names = {d["name"] for s in sensors for d in s["Datastreams"]}
    assert names == {"T-open count", "T-none count"}
    feats = sta.ok("/FeaturesOfInterest?$expand=Observations($count=true)")["value"]
    assert sum(f["Observations@iot.count"] for f in feats) == 6
    seen: list[int] = []
    url = "/sta/v1.1/Observations?$top=2"
    while url:
        body = sta.c.get(url).json()
        seen += [o["@iot.id"] for o in body["value"]]
        url = body.get("@iot.nextLink", "").replace("http://testserver", "")
    assert len(seen) == 6 == len(set(seen))
    expanded = sta.ok("/ObservedProperties?$expand=Datastreams($count=true)")["value"]
    assert sum(len(p["Datastreams"]) for p in expanded) == 2


def test_entity_json_service_contract(sta: Sta, world: dict[str, Any], platform: Any) -> None:
    import asyncio

    from urbanos.governance.identity import ANONYMOUS

    svc = platform.require(SensingPort)
    hidden = world["things"]["confidential"]
    assert asyncio.run(svc.entity_json("v1.1", "Things", hidden, ANONYMOUS, "http://x")) is None
    shown = asyncio.run(svc.entity_json("v1.1", "Things", world["things"]["open"], ANONYMOUS, "http://x", ["name"]))
    assert shown == {"name": "T-open"}
    body = asyncio.run(svc.read_path("v1.1", "Things", {"$top": "1"}, ANONYMOUS, "http://x"))
    assert len(body["value"]) == 1 and "@iot.nextLink" in body


def test_privacy_transforms_and_audit_apply(sta: Sta, world: dict[str, Any], platform: Any) -> None:
    seen: list[tuple[str, str]] = []

    def redact(identity: Any, ds: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**r, "result": None} if "result" in r else r for r in rows] if ds.access_level != "open" else rows

    platform.gate.add_transform(redact)
    platform.gate.add_observer(lambda ident, ds, action: seen.append((ds.name, action)))
    ds_reg = world["streams"]["registered"]
    body = sta.c.get(f"/sta/v1.1/Datastreams({ds_reg})/Observations", headers=world["reader"]).json()
    assert body["value"] and all(o["result"] is None for o in body["value"])
    open_obs = sta.ok(f"/Datastreams({world['streams']['open']})/Observations")["value"]
    assert all(o["result"] is not None for o in open_obs)
    assert ("ds-registered", "read") in seen and not any(n == "ds-open" for n, _ in seen)


def test_create_at_path_contract(sta: Sta, world: dict[str, Any], platform: Any) -> None:
    import asyncio

    from urbanos.governance.gate import ADMIN
    from urbanos.governance.identity import ANONYMOUS

    svc = platform.require(SensingPort)
    ds = world["streams"]["open"]
    out = asyncio.run(svc.create_at_path("v1.1", f"Datastreams({ds})/Observations", {"result": 99}, ADMIN, "http://h"))
    assert out["result"] == 99 and out["@iot.selfLink"] == f"http://h/sta/v1.1/Observations({out['@iot.id']})"
    again = asyncio.run(svc.entity_json("v1.1", "Observations", out["@iot.id"], ANONYMOUS, "http://h"))
    assert again == out
    import pytest as _pytest

    from urbanos.errors import Unauthorized

    with _pytest.raises(Unauthorized):
        asyncio.run(svc.create_at_path("v1.1", "Observations", {"result": 1, "Datastream": {"@iot.id": ds}}, ANONYMOUS,
                                       "http://h"))


def test_navigation_filters_and_orderings_do_not_read_hidden_rows(sta: Sta, world: dict[str, Any], platform: Any) -> None:
    # an open Datastream whose Thing is hidden (linked by a trusted writer): a $filter or $orderby through
    # Datastream/Thing must not read the hidden Thing's values, character by character or by sort order
    def relink(c: Any) -> None:
        c.execute("UPDATE sta_datastreams SET thing_id = ? WHERE id = ?", (world["things"]["confidential"], world["streams"]["none"]))

    platform.db.write_sync(relink)
    probes = [
        "/Datastreams?$filter=startswith(Thing/name,'T-conf')",
        "/Datastreams?$filter=Thing/name eq 'T-confidential'",
        "/Datastreams?$filter=substringof('confidential',Thing/name)",
        "/Observations?$filter=Datastream/Thing/name eq 'T-confidential'",
        "/Datastreams?$filter=Thing/id eq {}".format(world["things"]["confidential"]),
    ]
    callers = {"anonymous": {}, "reader": world["reader"], "insider": world["insider"]}
    for who, headers in callers.items():
        for path in probes:
            r = sta.c.get("/sta/v1.1" + path, headers=headers)
            assert r.status_code == 200, (who, path, r.text)
            hits = r.json()["value"]
            if "Thing/id" in path:  # the link itself is a column of the open Datastream
                continue
            assert hits == [], (who, path, hits)
        # ordering by the hidden Thing's name puts the open Datastream where a NULL sorts, whatever the name
        asc = [d["@iot.id"] for d in sta.c.get("/sta/v1.1/Datastreams?$orderby=Thing/name asc,id asc", headers=headers).json()["value"]]
        desc = [d["@iot.id"] for d in sta.c.get("/sta/v1.1/Datastreams?$orderby=Thing/name desc,id asc", headers=headers).json()["value"]]
        assert world["streams"]["none"] in asc and world["streams"]["none"] in desc
    admin = sta.c.get("/sta/v1.1/Datastreams?$filter=startswith(Thing/name,'T-conf')", headers=sta.h).json()["value"]
    assert {d["@iot.id"] for d in admin} == {world["streams"]["confidential"], world["streams"]["none"]}
