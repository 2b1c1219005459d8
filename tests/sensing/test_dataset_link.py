"""The link from a Thing or (Multi)Datastream to its catalogue dataset, as standard clients see it:
``properties["urbanos:dataset"]`` holding the dataset's name (the older ``dataset_id`` key still works)."""

from __future__ import annotations

from typing import Any

import ckanapi
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.sensing.sta_helpers import Sta, thing
from urbanos.governance.tokens import create_token

KEY = "urbanos:dataset"


@pytest.fixture
def cat(sta: Sta, platform: Any) -> dict[str, Any]:
    def setup(c: Any) -> dict[str, Any]:
        ids = {}
        for name, org, level in (("city-counts", "city", "open"), ("city-internal", "city", "internal"),
                                 ("port-counts", "port", "open")):
            ids[name] = c.insert("datasets", {"name": name, "title": name, "owner_org": org, "access_level": level,
                                              "created_at": "2024-01-01T00:00:00Z", "modified_at": "2024-01-01T00:00:00Z"})
        return ids

    ids = platform.db.write_sync(setup)
    city = platform.db.write_sync(lambda c: create_token(c, "publisher", "city", "city publisher"))
    return {"ids": ids, "city": {"Authorization": f"Bearer {city}"}}


def _stored_properties(platform: Any, tid: int) -> Any:
    import orjson

    raw = platform.db.read_sync(lambda c: c.fetchval("SELECT properties FROM sta_things WHERE id = ?", (tid,)))
    return orjson.loads(raw) if isinstance(raw, str | bytes) else raw


def test_link_through_properties_is_echoed(sta: Sta, platform: Any, cat: dict[str, Any]) -> None:
    body = thing("Counter", properties={"kind": "counter", KEY: "city-counts"})
    r = sta.post("/Things", body, headers=cat["city"])
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["properties"] == {"kind": "counter", KEY: "city-counts"}
    tid = created["@iot.id"]
    assert sta.ok(f"/Things({tid})")["properties"] == {"kind": "counter", KEY: "city-counts"}
    assert sta.ok(f"/Things({tid})/properties")["properties"][KEY] == "city-counts"
    assert sta.ok(f"/Things({tid})?$select=properties")["properties"][KEY] == "city-counts"
    # the link is a column, not a stored property
    assert _stored_properties(platform, tid) == {"kind": "counter"}
    assert platform.db.read_sync(lambda c: c.fetchval("SELECT dataset_id FROM sta_things WHERE id = ?", (tid,))) \
        == cat["ids"]["city-counts"]
    # the deep-inserted Datastream follows its Thing, and shows it too (v1.1; v1.0 Datastreams have no properties)
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]
    assert ds["properties"] == {KEY: "city-counts"}
    assert sta.ok(f"/Things({tid})?$expand=Datastreams")["Datastreams"][0]["properties"][KEY] == "city-counts"
    r10 = sta.c.get(f"/sta/v1.0/Things({tid})")
    assert r10.json()["properties"][KEY] == "city-counts"
    # a Thing without a dataset has no such key
    other = sta.create("/Things", thing("Plain"))
    assert KEY not in sta.ok(f"/Things({other['@iot.id']})")["properties"]


def test_old_dataset_id_key_still_works(sta: Sta, cat: dict[str, Any]) -> None:
    body = thing("Old style", dataset_id=cat["ids"]["port-counts"])
    tid = sta.create("/Things", body)["@iot.id"]
    assert sta.ok(f"/Things({tid})")["properties"] == {"kind": "counter", KEY: "port-counts"}


def test_update_relinks_and_unlinks(sta: Sta, cat: dict[str, Any]) -> None:
    tid = sta.create("/Things", thing("Moving", properties={KEY: "city-counts"}))["@iot.id"]
    # properties without the key leave the link as it is
    assert sta.patch(f"/Things({tid})", {"properties": {"kind": "new"}}).status_code == 200
    assert sta.ok(f"/Things({tid})")["properties"] == {"kind": "new", KEY: "city-counts"}
    r = sta.patch(f"/Things({tid})", {"properties": {"kind": "new", KEY: "port-counts"}})
    assert r.status_code == 200 and r.json()["properties"][KEY] == "port-counts"
    r = sta.patch(f"/Things({tid})", [{"op": "replace", "path": f"/properties/{KEY}", "value": "city-counts"}],
                  "application/json-patch+json")
    assert r.status_code == 200 and r.json()["properties"][KEY] == "city-counts"
    r = sta.patch(f"/Things({tid})", {"properties": {"kind": "new", KEY: None}})
    assert r.status_code == 200 and KEY not in r.json()["properties"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    r = sta.patch(f"/Datastreams({ds})", {"properties": {KEY: "port-counts"}})
    assert r.status_code == 200 and r.json()["properties"] == {KEY: "port-counts"}


def test_link_rules(sta: Sta, platform: Any, cat: dict[str, Any]) -> None:
    before = sta.ok("/Things?$count=true")["@iot.count"]
    cases = [
        (thing("Nowhere", properties={KEY: "no-such-dataset"}), sta.h, 400),
        (thing("Bad type", properties={KEY: ["city-counts"]}), sta.h, 400),
        (thing("Other org", properties={KEY: "port-counts"}), cat["city"], 403),
        (thing("Sensor", Datastreams=[{**thing()["Datastreams"][0],
                                       "Sensor": {"name": "s", "description": "s", "encodingType": "text/html",
                                                  "metadata": "x", "properties": {KEY: "city-counts"}}}]), sta.h, 400),
    ]
    for body, headers, status in cases:
        r = sta.post("/Things", body, headers=headers)
        assert r.status_code == status, (body["name"], r.text)
        assert set(r.json()) == {"code", "type", "message"} and r.json()["code"] == status
    assert sta.ok("/Things?$count=true")["@iot.count"] == before
    tid = sta.create("/Things", thing("Linked", properties={KEY: "city-counts"}))["@iot.id"]
    r = sta.c.patch(f"/sta/v1.1/Things({tid})", json={"properties": {KEY: "port-counts"}}, headers=cat["city"])
    assert r.status_code == 403 and r.json()["type"] == "error"
    assert sta.ok(f"/Things({tid})")["properties"][KEY] == "city-counts"


def test_link_applies_access_rules(sta: Sta, cat: dict[str, Any]) -> None:
    tid = sta.create("/Things", thing("Inside", properties={KEY: "city-internal"}))["@iot.id"]
    assert sta.get(f"/Things({tid})").status_code == 404
    assert sta.ok(f"/Things({tid})", headers=cat["city"])["properties"][KEY] == "city-internal"


def test_filter_and_order_by_the_link(sta: Sta, cat: dict[str, Any]) -> None:
    """``properties/urbanos:dataset`` works in $filter and $orderby like any property, within the caller's rights."""
    for name, ds in (("A", "city-counts"), ("B", "port-counts"), ("C", "city-internal"), ("D", None)):
        props = {KEY: ds} if ds else {"kind": "none"}
        sta.create("/Things", thing(name, properties=props))
    q = "/Things?$filter=properties/urbanos:dataset eq 'city-counts'&$select=name"
    assert [t["name"] for t in sta.ok(q)["value"]] == ["A"]
    q = "/Things?$filter=startswith(properties/urbanos:dataset,'city')&$orderby=name&$select=name"
    assert [t["name"] for t in sta.ok(q)["value"]] == ["A"]  # the internal dataset's Thing is not visible
    assert [t["name"] for t in sta.ok(q, headers=cat["city"])["value"]] == ["A", "C"]
    q = "/Things?$orderby=properties/urbanos:dataset desc,name&$select=name&$filter=properties/urbanos:dataset ne null"
    assert [t["name"] for t in sta.ok(q)["value"]] == ["B", "A"]
    q = "/Datastreams?$filter=properties/urbanos:dataset eq 'port-counts'&$select=name"
    assert len(sta.ok(q)["value"]) == 1  # the deep-inserted Datastream follows its Thing
    assert sta.get("/Things?$filter=properties/urbanos: eq 'x'").status_code == 400


def test_frost_client_reads_and_writes_the_link(live_server: Any) -> None:
    frost = pytest.importorskip("frost_sta_client")
    from geojson import Point

    class BearerAuth(frost.AuthHandler):  # type: ignore[misc,name-defined]
        def add_auth_header(self) -> Any:
            def add(r: Any) -> Any:
                r.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
                return r

            return add

    ck = ckanapi.RemoteCKAN(live_server.url, apikey=ADMIN_TOKEN)
    ck.action.organization_create(name="parks", title="Parks")
    ck.action.package_create(name="park-visitors", title="Park visitors", owner_org="parks")
    service = frost.SensorThingsService(f"{live_server.url}/sta/v1.1", auth_handler=BearerAuth())
    loc = frost.Location(name="Gate", description="north gate", encoding_type="application/geo+json",
                         location=Point((144.97, -37.81)))
    t = frost.Thing(name="Gate counter", description="visitors", properties={"gate": "north", KEY: "park-visitors"},
                    locations=[loc])
    service.create(t)
    got = service.things().find(t.id)
    assert got.properties == {"gate": "north", KEY: "park-visitors"}
    got.properties = {"gate": "north"}  # update() sends PUT: leaving the key out keeps the link
    service.update(got)
    assert service.things().find(t.id).properties == {"gate": "north", KEY: "park-visitors"}
    got.properties = {"gate": "north", KEY: None}
    service.update(got)
    assert service.things().find(t.id).properties == {"gate": "north"}
    bad = frost.Thing(name="Bad", description="x", properties={KEY: "no-such-dataset"}, locations=[loc])
    with pytest.raises(Exception, match="400"):
        service.create(bad)
    assert [x.name for x in service.things().query().list()] == ["Gate counter"]
