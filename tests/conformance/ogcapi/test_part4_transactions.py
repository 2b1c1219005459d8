"""OGC API Features Part 4 (Create, Replace, Update and Delete): POST, PUT, PATCH and DELETE of items with the
publisher role, Content-Crs, and invalid bodies that store nothing."""

from __future__ import annotations

from typing import Any

import pytest

from urbanos.governance.tokens import create_token


def _token(platform: Any, role: str, org: str | None = None) -> dict[str, str]:
    secret = platform.db.write_sync(lambda c: create_token(c, role, org, f"{role} app"))
    return {"Authorization": f"Bearer {secret}"}


FEATURE = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.0, 53.55]},
           "properties": {"name": "New place", "kind": "z", "pop": 5, "observed": "2024-03-01T00:00:00Z"}}


def test_part4_create_replace_patch_delete(client: Any, platform: Any, fx: Any) -> None:
    fx.add_points(platform, "places")
    items = "/ogcapi/collections/places/items"
    assert client.post(items, json=FEATURE).status_code == 401
    assert client.post(items, json=FEATURE, headers=_token(platform, "reader")).status_code == 403
    pub = _token(platform, "publisher")
    r = client.post(items, json=FEATURE, headers={**pub, "Content-Type": "application/geo+json"})
    assert r.status_code == 201, r.text
    loc = r.headers["location"]
    assert loc.endswith("/ogcapi/collections/places/items/34")
    got = client.get(loc).json()
    assert got["properties"]["name"] == "New place" and got["geometry"]["coordinates"] == [10.0, 53.55]
    assert client.get(items).json()["numberMatched"] == 34
    # Content-Crs: the geometry is in EPSG:4326 (lat, lon)
    moved = {**FEATURE, "geometry": {"type": "Point", "coordinates": [53.6, 10.1]}}
    r = client.put(f"{items}/34", json=moved, headers={**pub, "Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"})
    assert r.status_code == 204, r.text
    assert client.get(f"{items}/34").json()["geometry"]["coordinates"] == pytest.approx([10.1, 53.6])
    r = client.patch(f"{items}/34", json={"properties": {"pop": 6}}, headers={**pub, "Content-Type": "application/merge-patch+json"})
    assert r.status_code == 204
    got = client.get(f"{items}/34").json()
    assert got["properties"]["pop"] == 6 and got["properties"]["name"] == "New place"
    assert client.delete(f"{items}/34", headers=pub).status_code == 204
    assert client.get(f"{items}/34").status_code == 404
    assert client.delete(f"{items}/34", headers=pub).status_code == 404


@pytest.mark.parametrize("body", [
    {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [500, 20]}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": ["a", 1]}, "properties": {}},
    {"type": "Feature", "geometry": {"type": "Nothing"}, "properties": {}},
    {"type": "Feature", "geometry": None, "properties": {"pop": "many"}},
    {"type": "Feature", "geometry": None, "properties": {"unknown": 1}},
    {"type": "Feature", "geometry": None, "properties": {"observed": "not a time"}},
    {"type": "Point", "coordinates": [1, 2]},
    [1, 2, 3],
])
def test_part4_invalid_input_stores_nothing(client: Any, platform: Any, body: Any, fx: Any) -> None:
    fx.add_points(platform, "places")
    pub = _token(platform, "publisher")
    r = client.post("/ogcapi/collections/places/items", json=body, headers=pub)
    assert r.status_code == 400, r.text
    assert set(r.json()) >= {"code", "description"}
    assert client.get("/ogcapi/collections/places/items").json()["numberMatched"] == 33
    r = client.put("/ogcapi/collections/places/items/1", json=body, headers=pub)
    assert r.status_code == 400
    assert client.get("/ogcapi/collections/places/items/1").json()["properties"]["name"] == "Place 00"
