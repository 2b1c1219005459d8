"""A NUL character in text a client writes is refused before it reaches the database, on both back ends: a 400 in
the API's own format that names the field (SensorThings, CKAN Action API and DataStore, OGC API Features Part 4)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.sensing.sta_helpers import Sta, datastream, thing

CKAN_ADMIN = {"Authorization": ADMIN_TOKEN}
NUL = "a\u0000b"


def _ckan(client: Any, action: str, **data: Any) -> Any:
    return client.post(f"/api/3/action/{action}", json=data, headers=CKAN_ADMIN)


@pytest.mark.parametrize("body,field", [
    ({"name": NUL}, "name"),
    ({"properties": {"kind": NUL}}, "properties/kind"),
    ({"properties": {NUL: 1}}, "properties"),
    ({"Datastreams": [datastream("ok", description=NUL)]}, "Datastreams/0/description"),
])
def test_sensorthings_create_and_update(sta: Sta, body: dict[str, Any], field: str) -> None:
    r = sta.post("/Things", {**thing("T"), **body})
    assert r.status_code == 400, r.text
    err = r.json()
    assert err["type"] == "error" and err["code"] == 400
    assert "NUL" in err["message"] and repr(field) in err["message"], err["message"]
    assert sta.ok("/Things?$count=true")["@iot.count"] == 0
    tid = sta.create("/Things", thing("T"))["@iot.id"]
    r = sta.patch(f"/Things({tid})", body)
    assert r.status_code == 400 and repr(field) in r.json()["message"], r.text
    assert sta.ok(f"/Things({tid})")["name"] == "T"
    sta.delete(f"/Things({tid})")


def test_sensorthings_batch_and_observations(sta: Sta) -> None:
    tid = sta.create("/Things", thing("T"))["@iot.id"]
    ds = sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"]
    r = sta.post("/Observations", {"result": NUL, "Datastream": {"@iot.id": ds}})
    assert r.status_code == 400 and "'result'" in r.json()["message"], r.text
    batch = {"requests": [{"id": "1", "method": "post", "url": "Things", "body": {**thing("U"), "name": NUL}}]}
    r = sta.c.post("/sta/v1.1/$batch", json=batch, headers=sta.h)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.json()["responses"][0]["status"] == 400
    assert [t["name"] for t in sta.ok("/Things")["value"]] == ["T"]
    assert sta.ok(f"/Datastreams({ds})/Observations?$count=true")["@iot.count"] == 0


def test_ckan_package_and_datastore(client: Any) -> None:
    assert _ckan(client, "organization_create", name="city").status_code == 200
    r = _ckan(client, "package_create", name="roads", title=NUL, owner_org="city")
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["success"] is False and "'title'" in str(body["error"]), body
    assert _ckan(client, "package_show", id="roads").status_code == 404
    assert _ckan(client, "package_create", name="roads", title="Roads", owner_org="city").status_code == 200
    r = _ckan(client, "package_patch", id="roads", extras=[{"key": "k", "value": NUL}])
    assert r.status_code == 400 and "'extras/0/value'" in str(r.json()["error"]), r.text
    rid = _ckan(client, "resource_create", package_id="roads", url="https://example.org/t.csv", name="t").json()["result"]["id"]
    fields = [{"id": "code", "type": "text"}]
    r = _ckan(client, "datastore_create", resource_id=rid, fields=fields, records=[{"code": NUL}])
    assert r.status_code == 400 and "'records/0/code'" in str(r.json()["error"]), r.text
    assert _ckan(client, "datastore_create", resource_id=rid, fields=fields, records=[{"code": "x"}]).status_code == 200
    r = _ckan(client, "datastore_upsert", resource_id=rid, method="insert", records=[{"code": NUL}])
    assert r.status_code == 400, r.text
    assert _ckan(client, "datastore_search", resource_id=rid).json()["result"]["total"] == 1


def test_ogcapi_features_item(client: Any, platform: Any, fx: Any, admin_headers: dict[str, str]) -> None:
    fx.add_points(platform, "places")
    items = "/ogcapi/collections/places/items"
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.0, 53.55]},
               "properties": {"name": NUL, "kind": "z"}}
    r = client.post(items, json=feature, headers=admin_headers)
    assert r.status_code == 400, r.text
    body = r.json()
    assert "code" in body and "'properties/name'" in body["description"], body
    assert client.get(items).json()["numberMatched"] == 33
    r = client.patch(f"{items}/1", json={"properties": {"kind": NUL}},
                     headers={**admin_headers, "Content-Type": "application/merge-patch+json"})
    assert r.status_code == 400, r.text
    assert client.get(f"{items}/1").json()["properties"]["kind"] == "a"
