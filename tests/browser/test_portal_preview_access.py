"""The preview features of non-open datasets, read through the portal with its sign-in: who gets them, and how."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import ADMIN_TOKEN, api_token

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CSV = b"name,lat,lon,count\nA,53.55,10.0,1\nB,53.56,10.01,2\nC,53.57,10.02,3\n"


def _dataset(client: Any, name: str, level: str) -> str:
    """A dataset of parks with one uploaded CSV distribution, once its import is done: the collection it became."""
    r = client.post("/api/3/action/package_create", headers=ADMIN,
                    json={"name": name, "title": name.replace("-", " ").title(), "owner_org": "parks",
                          "license_id": "CC-BY-4.0", "access_level": level,
                          **({} if level == "open" else {"grounds": ["inspire-13-1-b"], "legal_basis": "Transparency Act section 3"})})
    assert r.status_code == 200, r.text
    r = client.post("/api/3/action/resource_create", headers=ADMIN, data={"package_id": name, "name": "Counts", "format": "CSV"},
                    files={"upload": ("counts.csv", CSV, "text/csv")})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    while True:
        res = client.get(f"/api/3/action/package_show?id={name}", headers=ADMIN).json()["result"]["resources"]
        coll = res[0].get("collection")
        if coll and client.get(f"/ogcapi/collections/{quote(coll, safe='')}/items", headers=ADMIN).status_code == 200:
            return str(coll)
        assert time.monotonic() < deadline, res
        time.sleep(0.2)


@pytest.fixture
def site(client: Any) -> Any:
    for org in ("parks", "police"):
        assert client.post("/api/3/action/organization_create", json={"name": org, "title": org.title()},
                           headers=ADMIN).status_code == 200
    client.collections = {"internal": _dataset(client, "tree-inspections", "internal"),
                          "open": _dataset(client, "street-trees", "open")}
    return client


def _sign_in(client: Any, token: str) -> None:
    page = client.get("/signin")
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert m, page.text[:500]
    r = client.post("/signin", data={"csrf": m.group(1), "token": token, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _preview(name: str, coll: str) -> str:
    return f"/datasets/{name}/preview/{quote(coll, safe='')}.geojson"


def test_anonymous_callers_and_outsiders_get_404_and_no_features(site: Any) -> None:
    url = _preview("tree-inspections", site.collections["internal"])
    r = site.get(url)
    assert r.status_code == 404 and "features" not in r.text and "counts" not in r.text
    assert r.headers["cache-control"] == "private, no-store"
    # the answer is the same as for a dataset that does not exist
    missing = site.get(_preview("no-such-dataset", site.collections["internal"]))
    alert = re.compile(r'<p role="alert">(.*?)</p>')
    assert missing.status_code == 404
    assert alert.findall(r.text) == [m.replace("no-such-dataset", "tree-inspections") for m in alert.findall(missing.text)]
    # a reader of another organisation, by bearer token and by the portal's cookie
    outsider = api_token(site, "preview", "reader", "police")
    assert site.get(url, headers={"Authorization": f"Bearer {outsider}"}).status_code == 404
    _sign_in(site, outsider)
    assert site.get(url).status_code == 404
    assert "/preview/" not in site.get("/datasets/street-trees").text


def test_signed_in_member_gets_the_features_privately(site: Any) -> None:
    coll = site.collections["internal"]
    url = _preview("tree-inspections", coll)
    platform = site.app.state.platform
    observed: list[tuple[str, str]] = []
    events: list[Any] = []
    platform.gate.add_observer(lambda ident, ds, action: observed.append((ds.name, action)))
    platform.bus.subscribe(events.append, topic="usage")

    def hide_names(ident: Any, ds: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if ds.name != "tree-inspections":
            return rows
        return [{**f, "properties": {**f["properties"], "name": "***"}} for f in rows]

    platform.gate.add_transform(hide_names)
    _sign_in(site, api_token(site, "preview", "reader", "parks"))
    page = site.get("/datasets/tree-inspections")
    assert page.status_code == 200
    assert f'data-items-url="{url}"' in page.text  # the map's features come from the preview route, not /ogcapi
    assert 'credentials: "same-origin"' in site.get("/portal/static/dataset.js").text  # sent with the cookie
    r = site.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["cache-control"] == "private, no-store"
    data = r.json()
    assert data["type"] == "FeatureCollection" and data["numberMatched"] == 3 and data["numberReturned"] == 3
    assert sorted(f["properties"]["count"] for f in data["features"]) == [1, 2, 3]
    assert {f["properties"]["name"] for f in data["features"]} == {"***"}  # the privacy transforms apply
    assert data["features"][0]["geometry"]["type"] == "Point"
    # the same read audit and usage event as an OGC API Features items read
    assert ("tree-inspections", "ogcapi.items") in observed
    assert any(e.data.get("collection") == coll and e.data.get("action") == "items" for e in events)
    # a bearer token works the same way
    member = api_token(site, "preview", "reader", "parks")
    site.cookies.delete("urbanos_portal_token")
    assert site.get(url).status_code == 404
    assert site.get(url, headers={"Authorization": f"Bearer {member}"}).json()["numberReturned"] == 3


def test_a_collection_the_dataset_does_not_link_is_404(site: Any) -> None:
    _sign_in(site, api_token(site, "preview", "reader", "parks"))
    # readable on its own (open), but another dataset's collection
    r = site.get(_preview("tree-inspections", site.collections["open"]))
    assert r.status_code == 404 and "features" not in r.text
    assert site.get(_preview("tree-inspections", "nothing-like-this")).status_code == 404
    assert site.get(_preview("tree-inspections", "a b%2Fc")).status_code == 404
    # the open dataset's own collection is served here too, but its page points at OGC API Features
    assert site.get(_preview("street-trees", site.collections["open"])).status_code == 200
    coll = quote(site.collections["open"], safe="")
    assert f'"/ogcapi/collections/{coll}/items?limit=1000"' in site.get("/datasets/street-trees").text
    site.cookies.delete("urbanos_portal_token")
    page = site.get("/datasets/street-trees").text
    assert f'"/ogcapi/collections/{coll}/items?limit=1000"' in page and "/preview/" not in page


def test_page_content_for_non_open_data() -> None:
    from urbanos.catalog.portal.view import detail

    pkg = {"name": "trees", "resources": [{"id": "r1", "format": "CSV", "url": "/x.csv", "collection": "trees counts"}],
           "extras": [{"key": "access_level", "value": "internal"}]}
    assert detail(pkg, "", signed_in=True)["map_items"] == "/datasets/trees/preview/trees%20counts.geojson"
    assert detail(pkg, "")["map_items"] is None  # without the sign-in cookie the browser could not fetch it
    pkg["extras"] = [{"key": "access_level", "value": "open"}]
    assert detail(pkg, "", signed_in=True)["map_items"] == "/ogcapi/collections/trees%20counts/items?limit=1000"
