"""Search semantics, bad input, quality, freshness, usage, events and the demo catalogue."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from urbanos.catalog.quality import assess, band, freshness
from urbanos.catalog.search import SearchQueryError, parse


def names(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [p["name"] for p in r.json()["result"]["results"]]


def test_query_syntax(cat: Any) -> None:
    q = lambda **kw: set(names(cat.call("package_search", "admin", rows=100, **kw)))  # noqa: E731
    assert q(q="bicycles") == set(cat.visible["admin"])  # title of the foreign row, notes of the others
    assert q(q='"title of internal"') == {"internal-a", "internal-b"}
    assert q(fq="tags:internal") == {"internal-a", "internal-b"}
    assert q(fq="tags:internal AND organization:org-b") == {"internal-b"}
    assert q(fq="tags:internal OR tags:registered") == {"internal-a", "internal-b", "registered-data"}
    assert q(fq="tags:common NOT tags:internal") == {"open-data", "registered-data", "confidential-plain", "confidential-granted"}
    assert q(fq="tags:(internal OR registered) -organization:org-a") == {"internal-b"}
    assert q(fq="access_level:confidential") == {"confidential-plain", "confidential-granted"}
    assert q(fq="grounds:security") == {"internal-a"}
    assert q(fq="name:internal*") == {"internal-a", "internal-b"}
    assert q(fq="capacity:public") == {"open-data", "foreign-row"}
    assert q(fq="metadata_modified:[* TO 2000-01-01]") == set()
    assert q(fq="metadata_created:[2024-01-01 TO 2024-01-02}") == {"foreign-row"}
    assert q(q="title:foreign") == {"foreign-row"}
    assert q(q="*:*") == set(cat.visible["admin"])


def test_ranking_sort_and_paging(cat: Any) -> None:
    cat.call("package_create", "admin", "POST", name="ranked", title="Bicycles bicycles", owner_org="org-a", tags=["bicycles"])
    assert names(cat.call("package_search", "admin", q="bicycles"))[0] == "ranked"
    by_name = names(cat.call("package_search", "admin", sort="name asc", rows=3))
    assert by_name == sorted(by_name) and len(by_name) == 3
    page2 = names(cat.call("package_search", "admin", sort="name asc", rows=3, start=3))
    assert not set(by_name) & set(page2)
    r = cat.call("package_search", "admin", rows=5000)
    assert r.json()["result"]["count"] == 8 and len(r.json()["result"]["results"]) == 8
    r = cat.call("package_search", "admin", **{"facet.field": '["tags"]', "facet.limit": "1"})
    assert list(r.json()["result"]["facets"]["tags"]) == ["common"]


@pytest.mark.parametrize("params, status, etype", [
    ({"fq": "tags:("}, 400, "Search Query Error"),
    ({"q": '"unclosed'}, 400, "Search Query Error"),
    ({"fq": "bogus:1"}, 400, "Search Query Error"),
    ({"fq": "name:[a TO b]"}, 400, "Search Query Error"),
    ({"sort": "name sideways"}, 400, "Search Query Error"),
    ({"sort": "password desc"}, 400, "Search Query Error"),
    ({"facet.field": '["colour"]'}, 400, "Search Query Error"),
    ({"facet.field": "[not json"}, 409, "Validation Error"),
    ({"rows": "ten"}, 409, "Validation Error"),
    ({"start": "-1"}, 409, "Validation Error"),
])
def test_bad_search_input(cat: Any, params: dict[str, str], status: int, etype: str) -> None:
    r = cat.call("package_search", "anonymous", **params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False and body["error"]["__type"] == etype and "help" in body


def test_bad_write_input_changes_nothing(cat: Any) -> None:
    before = cat.call("package_show", "admin", id="open-data").json()["result"]
    cases = [
        ({"id": "open-data", "name": "UPPER"}, "name"),
        ({"id": "open-data", "owner_org": "ghost"}, "owner_org"),
        ({"id": "open-data", "access_level": "secret"}, "access_level"),
        ({"id": "open-data", "spatial": "{\"type\": \"Point\"}"}, "spatial"),
        ({"id": "open-data", "review_date": "tomorrow"}, "review_date"),
        ({"id": "open-data", "grounds": ["because"]}, "grounds"),
        ({"id": "open-data", "resources": [{"url": "javascript:alert(1)"}]}, "resources"),
        ({"id": "open-data", "groups": [{"name": "no-such-group"}]}, "groups"),
    ]
    for body, field in cases:
        r = cat.client.post("/api/3/action/package_patch", json=body, headers=cat.h("admin"))
        assert r.status_code == 409, r.text
        assert r.json()["error"]["__type"] == "Validation Error" and field in r.json()["error"], r.text
    r = cat.client.post("/api/3/action/package_create", content=b"{not json", headers={**cat.h("admin"), "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["success"] is False
    r = cat.client.get("/api/3/action/package_create", params={"name": "via-get", "owner_org": "org-a"}, headers=cat.h("admin"))
    assert r.status_code == 400
    r = cat.call("no_such_action")
    assert r.status_code == 400 and r.json()["success"] is False
    # a publisher of org-a cannot write into org-b, a reader cannot write at all
    r = cat.call("package_create", "publisher-a", "POST", name="elsewhere", owner_org="org-b")
    assert r.status_code == 403 and r.json()["error"]["__type"] == "Authorization Error"
    r = cat.call("package_patch", "member-a", "POST", id="internal-a", title="Changed")
    assert r.status_code == 403
    # internal-b is hidden from org-a: refused exactly as a dataset that does not exist
    r = cat.call("package_delete", "publisher-a", "POST", id="internal-b")
    missing = cat.call("package_delete", "publisher-a", "POST", id="no-such-dataset")
    assert r.status_code == missing.status_code == 404 and r.json()["error"] == missing.json()["error"]
    r = cat.call("organization_create", "publisher-a", "POST", name="new-org")
    assert r.status_code == 403
    after = cat.call("package_show", "admin", id="open-data").json()["result"]
    assert after == before
    assert "elsewhere" not in cat.call("package_list", "admin").json()["result"]


def test_publisher_writes_and_bearer_or_ckan_headers(cat: Any) -> None:
    tok = cat.tokens["publisher-a"]
    for headers in ({"Authorization": f"Bearer {tok}"}, {"Authorization": tok}, {"X-CKAN-API-Key": tok}):
        r = cat.client.post("/api/action/package_patch", json={"id": "open-data", "version": "2"}, headers=headers)
        assert r.status_code == 200, r.text
    r = cat.client.post("/api/3/action/member_create", json={"id": "org-a", "object": "someone", "object_type": "user",
                                                             "capacity": "editor"}, headers=cat.h("admin"))
    assert r.status_code == 200
    cat.call("group_create", "admin", "POST", name="cycling", title="Cycling")
    r = cat.call("member_create", "publisher-a", "POST", id="cycling", object="open-data", object_type="package", capacity="public")
    assert r.status_code == 200, r.text
    assert names(cat.call("package_search", "anonymous", fq="groups:cycling")) == ["open-data"]
    g = cat.call("group_show", "anonymous", id="cycling").json()["result"]
    assert g["package_count"] == 1
    assert cat.call("group_list", "anonymous").json()["result"] == ["cycling"]


def test_foreign_rows_are_indexed_and_enriched(cat: Any) -> None:
    pkg = cat.call("package_show", "anonymous", id="foreign-row").json()["result"]
    assert pkg["notes"] == "" and pkg["tags"] == [] and pkg["resources"] == [] and pkg["access_level"] == "open"
    r = cat.call("package_patch", "admin", "POST", id="foreign-row", owner_org="org-b", tags=["imported"], notes="From a file.")
    assert r.status_code == 200, r.text
    assert names(cat.call("package_search", "anonymous", fq="tags:imported")) == ["foreign-row"]


def test_uploads_emit_resource_events(cat: Any) -> None:
    seen: list[Any] = []
    cat.platform.bus.subscribe(seen.append, topic="catalog")
    r = cat.client.post("/api/3/action/resource_create", data={"package_id": "open-data"},
                        files={"upload": ("points.geojson", b'{"type": "FeatureCollection", "features": []}', "application/geo+json")},
                        headers=cat.h("admin"))
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert res["format"] == "GEOJSON" and res["mimetype"] == "application/geo+json"
    ev = [e for e in seen if e.entity == "Resource"][-1]
    assert ev.kind == "created" and ev.id == res["id"] and ev.data["dataset"] == "open-data" and ev.data["format"] == "GEOJSON"
    assert ev.data["path"].endswith("points.geojson") and ev.dataset_id is not None


def test_usage_is_counted_without_personal_data(cat: Any) -> None:
    svc = cat.platform.services["catalog"]
    asyncio.run(svc.usage.flush())  # counts from the fixture's setup
    cat.call("package_show", "registered", id="registered-data")
    cat.call("package_show", "anonymous", id="open-data")
    cat.call("package_show", "anonymous", id="open-data")
    cat.call("resource_show", "anonymous", id=cat.resources["open-data"])
    r = cat.call("usage_show", "admin", dataset="open-data")
    rows = r.json()["result"]
    reads = [x for x in rows if x["kind"] == "api_read" and x["resource"] == ""]
    assert sum(x["count"] for x in reads) >= 2 and all(x["api"] == "ckan" and x["application"] == "" for x in reads)
    assert any(x["resource"] == cat.resources["open-data"] for x in rows)
    rows = cat.call("usage_show", "admin", dataset="registered-data").json()["result"]
    assert any(x["application"] == "registered-app" for x in rows)
    assert "127.0.0.1" not in r.text and "testclient" not in r.text
    assert cat.call("usage_show", "anonymous").status_code == 403


def test_quality_and_freshness(cat: Any) -> None:
    r = cat.call("quality_show", "anonymous", id="open-data")
    q = r.json()["result"]
    assert q["max"] == 405 and sum(d["max"] for d in q["dimensions"].values()) == 405
    assert set(q["dimensions"]) == {"findability", "accessibility", "interoperability", "reusability", "contextuality"}
    assert all(i["explanation"] for i in q["indicators"])
    assert q["band"] == band(q["points"])
    assert q["freshness"]["status"] == "unknown"
    rich = {"name": "x", "title": "T", "notes": "N", "tags": [{"name": "a"}], "theme": ["TRAN"], "spatial": "{}", "temporal_start": "2020",
            "license_id": "CC-BY-4.0", "access_level": "open", "contact_email": "a@b.c", "publisher": "P", "rights": "r",
            "metadata_created": "2024", "metadata_modified": "2024",
            "resources": [{"url": "https://e.org/a.csv", "format": "CSV", "mimetype": "text/csv", "size": 3}]}
    full = assess(rich, __import__("pathlib").Path("/nonexistent"))
    assert full["points"] == 405 and full["band"] == "Excellent"
    assert assess({"name": "empty"}, __import__("pathlib").Path("/nonexistent"))["band"] == "Bad"
    # a collection served by this platform is reachable; a bare name or a protocol-relative URL is not
    local = assess({**rich, "resources": [{**rich["resources"][0], "url": "/ogcapi/collections/trees"}]}, __import__("pathlib").Path("/x"))
    assert local["points"] == 405
    no_url = assess({**rich, "resources": [{**rich["resources"][0], "url": ""}]}, __import__("pathlib").Path("/x"))
    dcat = next(i for i in no_url["indicators"] if i["indicator"] == "dcat_ap")
    assert dcat["explanation"] == "Mandatory DCAT-AP properties are missing: a distribution has no access URL."
    for bad in ("trees.csv", "//evil.example/x"):
        worse = assess({**rich, "resources": [{**rich["resources"][0], "url": bad}]}, __import__("pathlib").Path("/x"))
        assert worse["points"] == 405 - 80
    now = datetime.now(UTC)
    old = (now - timedelta(days=3)).isoformat()
    assert freshness({"frequency": "DAILY", "metadata_modified": old}, now)["status"] == "stale"
    assert freshness({"frequency": "WEEKLY", "metadata_modified": old}, now)["status"] == "fresh"
    assert freshness({"frequency": "IRREG", "metadata_modified": old}, now)["status"] == "not_applicable"


def test_parser_rejects_garbage() -> None:
    for bad in ("(", "a AND", "tags:", '"x', "tags:(a", "NOT"):
        with pytest.raises(SearchQueryError):
            parse(bad)


def test_demo_catalogue_enriches_rows_of_other_capabilities(platform: Any, client: Any) -> None:
    from urbanos.catalog.demo import load_demo

    ts = "2024-01-01T00:00:00.000000Z"
    platform.db.write_sync(lambda c: c.execute(
        "INSERT INTO datasets (name, title, owner_org, access_level, created_at, modified_at, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("hamburg-bezirke", "", None, "open", ts, ts, "active")))
    load_demo(platform)
    load_demo(platform)  # idempotent
    # the sensing demo inserts its row later: the pending metadata is applied when it shows up
    platform.db.write_sync(lambda c: c.execute(
        "INSERT INTO datasets (name, title, owner_org, access_level, created_at, modified_at, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("melbourne-pedestrian-counts", "pedestrians", None, "open", ts, ts, "active")))
    bez = client.get("/api/3/action/package_show", params={"id": "hamburg-bezirke"}).json()["result"]
    assert bez["organization"]["name"] == "hamburg-lgv" and bez["license_id"] == "dl-de-by-2.0" and "REGI" in bez["theme"]
    mel = client.get("/api/3/action/package_show", params={"id": "melbourne-pedestrian-counts"}).json()["result"]
    assert mel["organization"]["name"] == "city-of-melbourne" and mel["owner_org"] == mel["organization"]["id"]
    assert mel["frequency"] == "HOURLY" and mel["title"] == "pedestrians"
    inv = {i["name"]: i for i in client.get("/api/3/action/inventory_list").json()["result"]}
    closed = [i for i in inv.values() if i["access_level"] in ("internal", "confidential")]
    assert len(closed) >= 3 and all(i["grounds"] and i["legal_basis"] and i["review_date"] for i in closed)
    visible = client.get("/api/3/action/package_list").json()["result"]
    assert "social-services-caseload" not in visible and "hamburg-bezirke" in visible


def test_spatial_filter_and_data_services(platform: Any, client: Any) -> None:
    from urbanos.catalog.demo import load_demo
    from urbanos.governance import ANONYMOUS

    load_demo(platform)
    platform.db.write_sync(lambda c: c.execute(
        "INSERT INTO datasets (name, title, owner_org, access_level, created_at, modified_at, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("hamburg-stadtteile", "", None, "open", "2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z", "active")))
    r = client.get("/api/3/action/package_search", params={"ext_bbox": "9.9,53.5,10.1,53.6"})
    assert [p["name"] for p in r.json()["result"]["results"]] == ["hamburg-stadtteile"]
    r = client.get("/api/3/action/package_search", params={"ext_bbox": "144.9,-37.9,145.0,-37.7"})
    assert r.json()["result"]["count"] == 0  # the Melbourne row does not exist in this test
    assert client.get("/api/3/action/package_search", params={"ext_bbox": "1,2,3"}).status_code == 400
    services = asyncio.run(platform.services["catalog"].data_service_list(ANONYMOUS))
    assert {s["name"] for s in services} == {"sensorthings-api", "ogc-api-features", "ckan-action-api"}
