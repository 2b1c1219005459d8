"""Key-set paging: next links carry the last feature id (after=) besides the offset; offset keeps working."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

GEO = {"Accept": "application/geo+json"}


def _link(doc: dict[str, Any], rel: str) -> str | None:
    return next((link["href"] for link in doc["links"] if link["rel"] == rel), None)


def _walk(client: Any, url: str) -> tuple[list[int], list[str]]:
    ids: list[int] = []
    nexts: list[str] = []
    next_url: str | None = url
    while next_url:
        doc = client.get(next_url, headers=GEO).json()
        ids += [f["id"] for f in doc["features"]]
        next_url = _link(doc, "next")
        if next_url:
            nexts.append(next_url)
    return ids, nexts


def test_next_links_walk_every_feature_once(client: Any, places: Any) -> None:
    ids, nexts = _walk(client, "/ogcapi/collections/places/items?limit=7")
    assert ids == list(range(1, 34))
    first = parse_qs(urlsplit(nexts[0]).query)
    assert first["after"] == ["7"] and first["offset"] == ["7"] and first["limit"] == ["7"]
    deep = client.get(nexts[-1], headers=GEO).json()
    assert deep["numberMatched"] == 33 and _link(deep, "prev") is not None
    # with a filter the key follows the filtered ids
    ids, nexts = _walk(client, "/ogcapi/collections/places/items?limit=4&kind=a")
    expected = [f["id"] for f in client.get("/ogcapi/collections/places/items?limit=100&kind=a", headers=GEO).json()["features"]]
    assert ids == expected and all("kind=a" in n for n in nexts)


def test_offset_still_works_and_sortby_pages_by_offset(client: Any, places: Any) -> None:
    doc = client.get("/ogcapi/collections/places/items?limit=5&offset=10", headers=GEO).json()
    assert [f["id"] for f in doc["features"]] == list(range(11, 16))
    by_pop = client.get("/ogcapi/collections/places/items?limit=5&sortby=-pop", headers=GEO).json()
    nxt = _link(by_pop, "next")
    assert nxt is not None and "after=" not in nxt and "offset=5" in nxt
    assert client.get("/ogcapi/collections/places/items?after=10&limit=3", headers=GEO).json()["features"][0]["id"] == 11


def test_bad_after_is_a_400(client: Any, places: Any) -> None:
    for q in ("after=-1", "after=abc", "after=1&sortby=pop", "after=1&after=2"):
        r = client.get(f"/ogcapi/collections/places/items?{q}", headers=GEO)
        assert r.status_code == 400, q
        assert r.json()["code"] == "InvalidParameterValue"
