"""items/{id}: the direct GeoJSON path gives the route's answer, and the kept registry record never serves stale data."""

from __future__ import annotations

from typing import Any

from shapely.geometry import Point

from urbanos.features import store

GEO = {"Accept": "application/geo+json"}
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_direct_answer_equals_the_route(client: Any, platform: Any, places: Any) -> None:
    url = "/ogcapi/collections/places/items/3"
    direct = client.get(url, headers=GEO)
    # a query string sends the request through the route
    routed = client.get(f"{url}?crs={CRS84}", headers=GEO)
    assert direct.status_code == routed.status_code == 200
    assert direct.content == routed.content
    for h in ("content-type", "content-crs"):
        assert direct.headers[h] == routed.headers[h]
    assert direct.headers["content-type"] == "application/geo+json"
    assert direct.headers["x-request-id"]
    doc = direct.json()
    assert doc["id"] == 3 and doc["properties"]["name"] == "Place 02"
    assert [link["rel"] for link in doc["links"]] == ["self", "alternate", "collection"]
    assert "f=" not in doc["links"][0]["href"]
    # HTML still goes to the route
    assert client.get(url, headers={"Accept": "text/html"}).headers["content-type"].startswith("text/html")


def test_errors_in_the_ogc_format(client: Any, places: Any) -> None:
    for url in ("/ogcapi/collections/places/items/999", "/ogcapi/collections/places/items/abc",
                "/ogcapi/collections/nothing/items/1"):
        r = client.get(url, headers=GEO)
        assert r.status_code == 404, url
        assert r.json()["code"] == "NotFound"
    assert client.get("/ogcapi/collections/places/items/1", headers={**GEO, "Authorization": "Bearer wrong"}).status_code == 401


def test_reimport_and_access_changes_are_seen_at_once(client: Any, platform: Any, fx: Any) -> None:
    ds = fx.add_dataset(platform, "ds-single")
    fx.add_points(platform, "single", ds)
    url = "/ogcapi/collections/single/items/1"
    assert client.get(url, headers=GEO).json()["properties"]["name"] == "Place 00"
    # a re-import with other fields: the next read uses the new table
    rows = [({"label": "fresh", "size": 7}, Point(10.0, 53.5))]
    fields = [{"name": "label", "type": "string"}, {"name": "size", "type": "integer"}]
    platform.db.write_sync(lambda c: store.replace_collection(c, "single", fields, rows, dataset_id=ds))
    assert client.get(url, headers=GEO).json()["properties"] == {"label": "fresh", "size": 7}
    assert client.get("/ogcapi/collections/single/items/2", headers=GEO).status_code == 404
    # closing the dataset hides the feature on the next request
    platform.db.write_sync(lambda c: c.execute("UPDATE datasets SET access_level = 'internal' WHERE id = ?", (ds,)))
    assert client.get(url, headers=GEO).status_code == 404
    platform.db.write_sync(lambda c: c.execute("UPDATE datasets SET access_level = 'open' WHERE id = ?", (ds,)))
    assert client.get(url, headers=GEO).status_code == 200
    # dropping the collection
    platform.db.write_sync(lambda c: store.drop_collection(c, "single"))
    assert client.get(url, headers=GEO).status_code == 404


def test_usage_event_on_the_direct_path(client: Any, platform: Any, places: Any) -> None:
    events: list[Any] = []
    platform.bus.subscribe(events.append, topic="usage")
    client.get("/ogcapi/collections/places/items/2", headers=GEO)
    client.get("/ogcapi/collections/places/items/2", headers=GEO)
    assert [(e.data["collection"], e.data["action"]) for e in events] == [("places", "item")] * 2
