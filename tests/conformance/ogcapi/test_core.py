"""OGC API Features Part 1 and 2 as CITE checks them: documents, items, paging, bbox, datetime, CRS, formats."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import openapi_spec_validator
import pytest

from urbanos.features.ogcapi.documents import CONFORMANCE

ITEMS = "/ogcapi/collections/places/items"


def test_landing_conformance_and_api(client: Any, places: Any) -> None:
    r = client.get("/ogcapi/")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    rels = {(lk["rel"], lk["type"]) for lk in r.json()["links"]}
    assert ("service-desc", "application/vnd.oai.openapi+json;version=3.0") in rels
    assert ("conformance", "application/json") in rels and ("data", "application/json") in rels
    assert client.get("/ogcapi").status_code == 200
    conf = client.get("/ogcapi/conformance").json()["conformsTo"]
    assert conf == CONFORMANCE
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in conf
    api = client.get("/ogcapi/api")
    assert api.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = api.json()
    assert doc["openapi"].startswith("3.0.")
    for p in ("/", "/conformance", "/collections", "/collections/{collectionId}", "/collections/{collectionId}/items",
              "/collections/{collectionId}/items/{featureId}", "/collections/{collectionId}/queryables"):
        assert p in doc["paths"]
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert limit["minimum"] == 1 and limit["maximum"] >= limit["default"]
    for page in ("/ogcapi/?f=html", "/ogcapi/conformance?f=html", "/ogcapi/api?f=html", "/ogcapi/collections?f=html"):
        h = client.get(page)
        assert h.status_code == 200 and h.headers["content-type"].startswith("text/html")


def test_collections_extents(client: Any, places: Any) -> None:
    doc = client.get("/ogcapi/collections").json()
    c = next(x for x in doc["collections"] if x["id"] == "places")
    bbox = c["extent"]["spatial"]["bbox"]
    assert len(bbox) == 1 and len(bbox[0]) == 4 and bbox[0][0] == pytest.approx(-179.5)
    assert c["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    t = c["extent"]["temporal"]
    assert t["interval"] == [["2024-01-01T12:00:00Z", "2024-01-30T12:00:00Z"]]
    assert t["trs"] == "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
    assert "http://www.opengis.net/def/crs/EPSG/0/25832" in c["crs"] and c["storageCrs"].endswith("CRS84")
    links = {lk["rel"]: lk for lk in c["links"] if lk["type"] in ("application/json", "application/geo+json")}
    assert links["self"]["href"].endswith("/ogcapi/collections/places") and "f=" not in links["self"]["href"]
    assert links["items"]["type"] == "application/geo+json" and "f=" not in links["items"]["href"]
    one = client.get("/ogcapi/collections/places").json()
    assert one["id"] == "places" and one["extent"] == c["extent"]


def test_items_paging_and_links(client: Any, places: Any) -> None:
    r = client.get(ITEMS, params={"limit": 10})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["numberMatched"] == 33 and doc["numberReturned"] == 10
    links = {lk["rel"]: lk for lk in doc["links"] if lk["type"] == "application/geo+json"}
    assert "prev" not in links
    seen = [f["id"] for f in doc["features"]]
    while "next" in links:
        nxt = links["next"]["href"]
        assert "f=" not in nxt
        doc = client.get(nxt).json()
        seen += [f["id"] for f in doc["features"]]
        links = {lk["rel"]: lk for lk in doc["links"] if lk["type"] == "application/geo+json"}
        assert "prev" in links
    assert seen == list(range(1, 34))
    f = client.get(f"{ITEMS}/5")
    assert f.status_code == 200 and f.headers["content-type"] == "application/geo+json"
    feat = f.json()
    assert feat["id"] == 5 and feat["properties"]["name"] == "Place 04" and feat["geometry"]["type"] == "Point"
    self_link = next(lk for lk in feat["links"] if lk["rel"] == "self")
    assert self_link["type"] == "application/geo+json" and self_link["href"].endswith("/items/5")
    assert client.get(f"{ITEMS}/999").status_code == 404
    assert client.get(f"{ITEMS}/abc").status_code == 404
    assert client.get("/ogcapi/collections/nope/items").json()["code"] == "NotFound"


def test_limit_is_capped(client: Any, places: Any) -> None:
    doc = client.get(ITEMS, params={"limit": 100000}).json()
    assert doc["numberReturned"] == 33


def test_bbox_antimeridian_and_crs(client: Any, places: Any) -> None:
    assert client.get(ITEMS, params={"bbox": "9.89,53.49,9.951,53.53"}).json()["numberMatched"] == 6
    am = client.get(ITEMS, params={"bbox": "179,-18,-179,-16"}).json()
    assert sorted(f["properties"]["name"] for f in am["features"]) == ["East of 180", "West of 180"]
    # EPSG:4326 has latitude first
    r = client.get(ITEMS, params={"bbox": "53.49,9.89,53.53,9.951", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert r.json()["numberMatched"] == 6
    r = client.get(ITEMS, params={"bbox": "560000,5920000,575000,5940000", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/25832"})
    assert r.status_code == 200 and r.json()["numberMatched"] > 0
    r = client.get(f"{ITEMS}/1", params={"crs": "http://www.opengis.net/def/crs/EPSG/0/4326"})
    assert r.json()["geometry"]["coordinates"] == pytest.approx([53.5, 9.9])
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    for code in ("3857", "25832", "25833"):
        r = client.get(ITEMS, params={"crs": f"http://www.opengis.net/def/crs/EPSG/0/{code}", "limit": 1})
        assert r.status_code == 200 and r.headers["content-crs"].endswith(f"/{code}>")
        x, y = r.json()["features"][0]["geometry"]["coordinates"]
        assert x > 1000 and y > 1000


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01-05T12:00:00Z", 1),
    ("2024-01-05", 1),
    ("2024-01-05T00:00:00Z/2024-01-10T00:00:00Z", 5),
    ("../2024-01-03T00:00:00Z", 2),
    ("2024-01-28T00:00:00Z/..", 3),
    ("2024-01-28T00:00:00Z/", 3),
    ("2024-01-01T00:00:00Z/P3D", 3),
    ("P2D/2024-01-30T12:00:00Z", 3),
    ("2024-01-01T00:00:00Z/PT36H", 2),
    ("../..", 30),
])
def test_datetime(client: Any, places: Any, value: str, expected: int) -> None:
    r = client.get(ITEMS, params={"datetime": value})
    assert r.status_code == 200, r.text
    assert r.json()["numberMatched"] == expected


def test_property_filters_sortby_properties(client: Any, places: Any) -> None:
    assert client.get(ITEMS, params={"kind": "a"}).json()["numberMatched"] == 10
    assert client.get(ITEMS, params={"pop": "20"}).json()["features"][0]["properties"]["name"] == "Place 02"
    assert client.get(ITEMS, params={"active": "true", "kind": "c"}).json()["numberMatched"] == 2
    doc = client.get(ITEMS, params={"sortby": "-pop", "limit": 3, "properties": "name,pop"}).json()
    assert [f["properties"] for f in doc["features"]] == [{"name": "Place 29", "pop": 290}, {"name": "Place 28", "pop": 280},
                                                          {"name": "Place 27", "pop": 270}]
    doc = client.get(ITEMS, params={"sortby": "kind,-name", "limit": 2}).json()
    assert [f["properties"]["name"] for f in doc["features"]] == ["Place 27", "Place 24"]
    doc = client.get(ITEMS, params={"skipGeometry": "true", "limit": 1}).json()
    assert doc["features"][0]["geometry"] is None


def test_csv_and_html(client: Any, places: Any) -> None:
    r = client.get(ITEMS, params={"f": "csv", "limit": 2})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0] == "id,name,kind,pop,score,active,observed,geometry"
    assert lines[1].startswith("1,Place 00,a,0,0.0,true,2024-01-01T12:00:00.000000Z,POINT (9.9 53.5)")
    h = client.get(ITEMS, params={"f": "html", "limit": 5})
    assert h.status_code == 200 and "leaflet.js" in h.text and "Place 04" in h.text
    h = client.get("/ogcapi/collections/places", headers={"Accept": "text/html"})
    assert "id=\"map\"" in h.text
    assert client.get(f"{ITEMS}/3?f=html").status_code == 200
    assert client.get("/ogcapi/collections/places/queryables?f=html").status_code == 200
    s = client.get("/static/vendor/leaflet/leaflet.js")
    assert s.status_code == 200 and len(s.content) > 100000


def test_queryables(client: Any, places: Any) -> None:
    r = client.get("/ogcapi/collections/places/queryables")
    assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
    doc = r.json()
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema" and doc["type"] == "object"
    assert doc["properties"]["pop"]["type"] == "integer"
    assert doc["properties"]["observed"]["format"] == "date-time"
    assert doc["properties"]["geometry"]["format"] == "geometry-point"


def test_next_link_keeps_filters(client: Any, places: Any) -> None:
    doc = client.get(ITEMS, params={"kind": "b", "limit": 5, "sortby": "-pop"}).json()
    nxt = next(lk["href"] for lk in doc["links"] if lk["rel"] == "next")
    q = parse_qs(urlparse(nxt).query)
    assert q["kind"] == ["b"] and q["offset"] == ["5"] and q["sortby"] == ["-pop"]


def test_api_document_is_valid_openapi_30(client: Any, places: Any) -> None:
    doc = client.get("/ogcapi/api").json()
    openapi_spec_validator.validate(doc)
    assert doc["openapi"] == "3.0.3"
