"""Portal sign-in and upload over plain HTTP: cookies, CSRF, rights, wrong files and the import report."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, api_token

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CSV = b"name,lat,lon,count\nA,53.55,10.0,1\nB,53.56,10.01,2\nC,not-a-number,10.02,3\nD,53.57,10.03,4\n"


@pytest.fixture
def site(client: Any) -> Any:
    for org in ("parks", "police"):
        assert client.post("/api/3/action/organization_create", json={"name": org, "title": org.title()},
                           headers=ADMIN).status_code == 200
    r = client.post("/api/3/action/package_create", headers=ADMIN,
                    json={"name": "street-trees", "title": "Street trees", "owner_org": "parks", "license_id": "CC-BY-4.0"})
    assert r.status_code == 200, r.text
    return client


def _csrf(client: Any, path: str) -> str:
    page = client.get(path)
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert m, page.text[:500]
    return m.group(1)


def _sign_in(client: Any, token: str) -> Any:
    csrf = _csrf(client, "/signin")
    return client.post("/signin", data={"csrf": csrf, "token": token, "next": "/datasets/street-trees"}, follow_redirects=False)


def _upload(client: Any, filename: str, content: bytes, csrf: str | None = None) -> Any:
    csrf = csrf if csrf is not None else _csrf(client, "/datasets/street-trees")
    return client.post("/datasets/street-trees/upload", data={"csrf": csrf}, files={"file": (filename, content, "text/csv")},
                       follow_redirects=False)


def _resources(client: Any) -> list[dict[str, Any]]:
    return list(client.get("/api/3/action/package_show?id=street-trees", headers=ADMIN).json()["result"]["resources"])


def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_removes_it(site: Any) -> None:
    r = _sign_in(site, api_token(site, "portal", "publisher", "parks"))
    assert r.status_code == 303 and r.headers["location"] == "/datasets/street-trees"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("urbanos_portal_token="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Path=/" in cookie
    page = site.get("/datasets/street-trees")
    assert "Add data" in page.text and 'enctype="multipart/form-data"' in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert "Daten hinzufügen" in site.get("/datasets/street-trees?lang=de").text
    out = site.post("/signout", data={"csrf": _csrf(site, "/datasets/street-trees")}, follow_redirects=False)
    assert out.status_code == 303
    site.cookies.delete("urbanos_portal_token")  # the response expired it; the test client keeps explicit deletes only
    assert "Add data" not in site.get("/datasets/street-trees").text


def test_sign_in_refusals_are_messages(site: Any) -> None:
    csrf = _csrf(site, "/signin")
    bad = site.post("/signin", data={"csrf": csrf, "token": "urb_999_nope"}, follow_redirects=False)
    assert bad.status_code == 401 and "unknown, expired or revoked" in bad.text
    assert "urbanos_portal_token" not in bad.headers.get("set-cookie", "")
    no_csrf = site.post("/signin", data={"csrf": "forged", "token": api_token(site, "portal", "publisher", "parks")}, follow_redirects=False)
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
    empty = site.post("/signin", data={"csrf": csrf, "token": " "}, follow_redirects=False)
    assert empty.status_code == 400 and "Enter an API token" in empty.text
    # an external next= is not followed
    ok = site.post("/signin", data={"csrf": csrf, "token": api_token(site, "portal", "reader", None), "next": "//evil.example/"},
                   follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"


def test_upload_is_refused_without_rights_csrf_or_a_fitting_file(site: Any) -> None:
    # anonymous: no form, and a forged post is refused
    assert "Add data" not in site.get("/datasets/street-trees").text
    r = _upload(site, "trees.csv", CSV, csrf=_csrf(site, "/signin"))
    assert r.status_code == 403 and "publisher role" in r.text
    # a reader, and a publisher of another organisation
    for role, org in (("reader", None), ("publisher", "police")):
        _sign_in(site, api_token(site, "portal", role, org))
        assert "Add data" not in site.get("/datasets/street-trees").text
        r = _upload(site, "trees.csv", CSV, csrf=_csrf(site, "/signin"))
        assert r.status_code == 403 and "publisher role" in r.text
    _sign_in(site, api_token(site, "portal", "publisher", "parks"))
    r = _upload(site, "trees.csv", CSV, csrf="forged")
    assert r.status_code == 403 and "CSRF" in r.text
    r = _upload(site, "notes.txt", b"hello")
    assert r.status_code == 400 and "cannot be imported" in r.text and 'role="alert"' in r.text
    r = _upload(site, "empty.csv", b"")
    assert r.status_code == 400 and "empty" in r.text
    r = site.post("/datasets/street-trees/upload", data={"csrf": _csrf(site, "/datasets/street-trees")}, follow_redirects=False)
    assert r.status_code == 400 and "Choose a file" in r.text
    assert _resources(site) == []
    assert site.post("/datasets/nothing-here/upload", data={"csrf": "x"}).status_code == 404


def test_upload_limit(make_settings: Any) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(make_settings(catalog_upload_max_bytes=64))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            site_client = client
            site_client.post("/api/3/action/organization_create", json={"name": "parks"}, headers=ADMIN)
            site_client.post("/api/3/action/package_create", json={"name": "street-trees", "owner_org": "parks"}, headers=ADMIN)
            _sign_in(site_client, api_token(site_client, "portal", "publisher", "parks"))
            r = _upload(site_client, "big.csv", CSV * 4)
            assert r.status_code == 413 and "too large" in r.text
            assert _resources(site_client) == []
    finally:
        app.state.platform.close()


def test_upload_becomes_a_collection_with_a_report(site: Any) -> None:
    _sign_in(site, api_token(site, "portal", "publisher", "parks"))
    r = _upload(site, "counts.csv", CSV)
    assert r.status_code == 303, r.text
    loc = r.headers["location"]
    rid = loc.split("imported=")[1]
    res = _resources(site)
    assert [x["id"] for x in res] == [rid] and res[0]["url_type"] == "upload"
    deadline = time.monotonic() + 30
    while True:
        frag = site.get(f"/datasets/street-trees/imports/{rid}")
        assert frag.status_code == 200
        if "import-rows" in frag.text or time.monotonic() > deadline:
            break
        assert "hx-get" in frag.text  # still running: the fragment polls
        time.sleep(0.2)
    assert re.search(r'id="import-rows">3<', frag.text), frag.text
    assert re.search(r'id="import-bad-rows">1<', frag.text)
    assert "row 4" in frag.text.lower() or "row 3" in frag.text.lower()
    page = site.get(loc)
    assert "Import finished" in page.text
    # while an import runs, the dataset page polls the fragment of this dataset
    db = site.app.state.platform.db
    db.write_sync(lambda c: c.execute("UPDATE feature_import_reports SET status = 'running' WHERE resource_id = ?", (rid,)))
    assert f'hx-get="/datasets/street-trees/imports/{rid}?n=1"' in site.get(loc).text
    db.write_sync(lambda c: c.execute("UPDATE feature_import_reports SET status = 'done' WHERE resource_id = ?", (rid,)))
    coll = re.search(r'href="/ogcapi/collections/([^"]+)"', frag.text)
    assert coll is not None
    items = site.get(f"/ogcapi/collections/{coll.group(1)}/items").json()
    assert items["numberMatched"] == 3
    # the preview map draws the collection's features
    assert f'"/ogcapi/collections/{coll.group(1)}/items?limit=1000"' in site.get(loc).text
    # without a report the fragment polls for a while, then stops
    db.write_sync(lambda c: c.execute("DELETE FROM feature_import_reports WHERE resource_id = ?", (rid,)))
    assert "hx-get" in site.get(f"/datasets/street-trees/imports/{rid}?n=5").text
    gone = site.get(f"/datasets/street-trees/imports/{rid}?n=301").text
    assert "No report of this import" in gone and "hx-get" not in gone
    # the report is not shown to others
    site.cookies.delete("urbanos_portal_token")
    assert site.get(f"/datasets/street-trees/imports/{rid}").status_code == 403
    assert "Import finished" not in site.get(loc).text


def test_preview_map_draws_collections_of_open_datasets_only() -> None:
    from urbanos.catalog.portal.view import detail

    pkg = {"name": "trees", "resources": [{"id": "r1", "format": "CSV", "url": "/x.csv", "collection": "trees counts"}],
           "extras": [{"key": "access_level", "value": "open"}]}
    assert detail(pkg, "")["map_items"] == "/ogcapi/collections/trees%20counts/items?limit=1000"
    pkg["extras"] = [{"key": "access_level", "value": "registered"}]
    assert detail(pkg, "")["map_items"] is None
    assert detail({"name": "empty", "resources": []}, "")["map_items"] is None
