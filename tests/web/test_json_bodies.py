"""JSON request bodies are bounded in nesting before they are parsed: a body orjson reads (up to 1024 levels) but
cannot write back (254) or that shapely walks recursively was a 500; now it is a 400 in the standard's format."""

from __future__ import annotations

from typing import Any

import pytest


def nest(n: int) -> bytes:
    return b'{"a":' * n + b"1" + b"}" * n


def collections(n: int) -> bytes:
    return b'{"type":"GeometryCollection","geometries":[' * n + b'{"type":"Point","coordinates":[1,1]}' + b"]}" * n


@pytest.mark.parametrize("depth", [300, 1100])
def test_sensorthings(client: Any, admin_headers: dict[str, str], depth: int) -> None:
    h = {**admin_headers, "Content-Type": "application/json"}
    r = client.post("/sta/v1.1/Things", content=b'{"name":"x","description":"d","properties":' + nest(depth) + b"}", headers=h)
    assert r.status_code == 400, r.text[:300]
    assert r.json()["code"] == 400 and "the limit is 64" in r.json()["message"]
    r = client.post("/sta/v1.1/Locations", headers=h, content=b'{"name":"x","description":"d","encodingType":'
                    b'"application/geo+json","location":' + collections(depth // 2) + b"}")
    assert r.status_code == 400, r.text[:300]
    assert client.get("/sta/v1.1/Things").json()["value"] == []


@pytest.mark.parametrize("depth", [300, 1100])
def test_ckan_and_admin(client: Any, admin_headers: dict[str, str], depth: int) -> None:
    h = {**admin_headers, "Content-Type": "application/json"}
    client.post("/api/3/action/organization_create", json={"name": "city"}, headers=admin_headers)
    r = client.post("/api/3/action/package_create", headers=h,
                    content=b'{"name":"deep","owner_org":"city","spatial":' + collections(depth // 2) + b"}")
    assert r.status_code == 400, r.text[:300]
    assert r.json()["error"]["__type"] == "Bad Request" and "the limit is 64" in r.json()["error"]["message"]
    r = client.post("/admin/tokens", content=nest(depth), headers=h)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")


def test_ckan_spatial_text_is_bounded(client: Any, admin_headers: dict[str, str]) -> None:
    client.post("/api/3/action/organization_create", json={"name": "city"}, headers=admin_headers)
    text = collections(150).decode()  # a string field: not part of the body's nesting
    r = client.post("/api/3/action/package_create", json={"name": "deep", "owner_org": "city", "spatial": text},
                    headers=admin_headers)
    assert r.status_code == 409, r.text[:300]
    assert "spatial" in r.json()["error"]
    ok = client.post("/api/3/action/package_create", headers=admin_headers, json={
        "name": "flat", "owner_org": "city", "spatial": '{"type":"Point","coordinates":[10,53]}'})
    assert ok.status_code == 200, ok.text


def test_ordinary_nesting_passes(client: Any, admin_headers: dict[str, str]) -> None:
    r = client.post("/sta/v1.1/Things", content=b'{"name":"x","description":"d","properties":' + nest(40) + b"}",
                    headers={**admin_headers, "Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:300]
