"""ckanapi against a live ``urbanos serve``: search, show, create, patch, upload, delete and every error type."""

from __future__ import annotations

import io
from typing import Any

import ckanapi
import httpx
import pytest

ADMIN = "test-admin-token-0123456789"


def test_ckanapi_round_trip(live_server: Any) -> None:
    ck = ckanapi.RemoteCKAN(live_server.url, apikey=ADMIN)
    anon = ckanapi.RemoteCKAN(live_server.url)
    assert ck.action.status_show()["api_version"] == 3

    org = ck.action.organization_create(name="transport", title="Transport Department")
    assert org["name"] == "transport"
    pkg = ck.action.package_create(
        name="bike-counts", title="Bike counts", owner_org="transport", notes="Hourly bicycle counts at 12 stations.",
        tags=[{"name": "bicycles"}, {"name": "counts"}], license_id="CC-BY-4.0", theme=["TRAN", "mobility"], frequency="HOURLY",
        extras=[{"key": "steward", "value": "Cycling office"}, {"key": "source_system", "value": "ECO-counter"}],
        resources=[{"name": "API", "url": "https://example.org/bikes.json", "format": "JSON"}],
    )
    assert pkg["steward"] == "Cycling office"
    assert {"key": "steward", "value": "Cycling office"} in pkg["extras"]
    assert {"key": "source_system", "value": "ECO-counter"} in pkg["extras"]
    assert pkg["theme"] == ["TRAN", "mobility"]

    shown = anon.action.package_show(id="bike-counts")
    assert shown["title"] == "Bike counts" and shown["organization"]["title"] == "Transport Department"
    found = anon.action.package_search(q="bicycle", rows=5, **{"facet.field": ["tags", "theme", "res_format"]})
    assert found["count"] == 1 and found["results"][0]["name"] == "bike-counts"
    assert found["facets"]["res_format"] == {"JSON": 1}
    assert found["search_facets"]["theme"]["items"][0]["count"] == 1
    assert anon.action.package_search(fq="tags:bicycles AND res_format:JSON")["count"] == 1
    assert anon.action.package_search(fq='metadata_modified:[2000-01-01T00:00:00Z TO NOW]')["count"] == 1
    assert anon.action.package_search(fq="-tags:bicycles")["count"] == 0

    patched = ck.action.package_patch(id="bike-counts", title="Bicycle counts")
    assert patched["title"] == "Bicycle counts" and patched["notes"] == "Hourly bicycle counts at 12 stations."
    assert len(patched["resources"]) == 1 and patched["steward"] == "Cycling office"

    res = ck.action.resource_create(package_id="bike-counts", name="Counts CSV", upload=("counts.csv", io.BytesIO(b"station,count\nA,12\n")))
    assert res["url_type"] == "upload" and res["format"] == "CSV" and res["size"] == 19
    r = httpx.get(res["url"])
    assert r.status_code == 200 and r.content == b"station,count\nA,12\n"
    assert anon.action.resource_show(id=res["id"])["name"] == "Counts CSV"
    res2 = ck.action.resource_patch(id=res["id"], description="Daily export")
    assert res2["description"] == "Daily export" and res2["url"] == res["url"]
    ck.action.resource_delete(id=res["id"])
    assert httpx.get(res["url"]).status_code == 404

    full = ck.action.package_show(id="bike-counts")
    full["notes"] = "Replaced."
    updated = ck.action.package_update(**full)
    assert updated["notes"] == "Replaced." and updated["title"] == "Bicycle counts"

    ck.action.package_delete(id="bike-counts")
    with pytest.raises(ckanapi.NotFound):
        anon.action.package_show(id="bike-counts")
    assert "bike-counts" not in anon.action.package_list()


def test_ckanapi_error_types(live_server: Any) -> None:
    ck = ckanapi.RemoteCKAN(live_server.url, apikey=ADMIN)
    anon = ckanapi.RemoteCKAN(live_server.url)
    ck.action.organization_create(name="city", title="City")
    ck.action.package_create(name="secret-plans", owner_org="city", access_level="confidential", grounds=["security"])
    before = ck.action.package_list()

    # 403 Authorization Error: no token, and a token without the role
    with pytest.raises(ckanapi.NotAuthorized):
        anon.action.package_create(name="nope", owner_org="city")
    with pytest.raises(ckanapi.NotAuthorized):
        anon.action.package_show(id="secret-plans")
    # 404 Not Found
    with pytest.raises(ckanapi.NotFound):
        anon.action.package_show(id="does-not-exist")
    with pytest.raises(ckanapi.NotFound):
        anon.action.resource_show(id="00000000-0000-0000-0000-000000000000")
    with pytest.raises(ckanapi.NotFound):
        anon.action.organization_show(id="nowhere")
    # 409 Validation Error with field messages
    with pytest.raises(ckanapi.ValidationError) as err:
        ck.action.package_create(name="Bad Name!", owner_org="nowhere")
    assert "name" in err.value.error_dict and "owner_org" in err.value.error_dict
    with pytest.raises(ckanapi.ValidationError) as err:
        ck.action.package_create(owner_org="city")
    assert err.value.error_dict["name"] == ["Missing value"]
    with pytest.raises(ckanapi.ValidationError) as err:
        ck.action.package_create(name="x", owner_org="city")
    assert "at least 2" in err.value.error_dict["name"][0]
    with pytest.raises(ckanapi.ValidationError) as err:
        ck.action.package_create(name="secret-plans", owner_org="city")
    assert err.value.error_dict["name"] == ["That URL is already in use."]
    with pytest.raises(ckanapi.ValidationError) as err:
        ck.action.package_create(name="closed", owner_org="city", access_level="internal")
    assert "grounds" in err.value.error_dict
    with pytest.raises(ckanapi.ValidationError) as err:
        ck.action.package_create(name="odd", owner_org="city", frequency="SOMETIMES", theme=["nonsense"], tags=["a"])
    assert {"frequency", "theme", "tags"} <= set(err.value.error_dict)
    # 400 Search Query Error
    with pytest.raises(ckanapi.SearchQueryError):
        anon.action.package_search(fq="tags:(a OR")
    with pytest.raises(ckanapi.SearchQueryError):
        anon.action.package_search(sort="colour desc")
    with pytest.raises(ckanapi.SearchQueryError):
        anon.action.package_search(fq="nosuchfield:x")
    with pytest.raises(ckanapi.SearchQueryError):
        anon.action.package_search(fq="metadata_modified:[yesterday TO NOW]")
    # uploads of the wrong type and over the limit
    with pytest.raises(ckanapi.ValidationError) as err:
        ck.action.resource_create(package_id="secret-plans", upload=("tool.exe", io.BytesIO(b"MZ\x90\x00")))
    assert "upload" in err.value.error_dict
    with pytest.raises(ckanapi.ValidationError):
        ck.action.resource_create(package_id="secret-plans", upload=("table.xlsx", io.BytesIO(b"not a zip file")))
    # nothing changed
    assert ck.action.package_list() == before
    assert ck.action.package_show(id="secret-plans")["num_resources"] == 0


def test_upload_size_limit(server_factory: Any, db_url: str) -> None:
    server = server_factory(db_url, env={"URBANOS_CATALOG_UPLOAD_MAX_BYTES": "100"})
    ck = ckanapi.RemoteCKAN(server.url, apikey=ADMIN)
    ck.action.organization_create(name="city")
    ck.action.package_create(name="small", owner_org="city")
    with pytest.raises(ckanapi.ValidationError) as err:
        ck.action.resource_create(package_id="small", upload=("big.csv", io.BytesIO(b"a,b\n" * 100)))
    assert "too large" in err.value.error_dict["upload"][0]
    assert ck.action.package_show(id="small")["num_resources"] == 0
    ok = ck.action.resource_create(package_id="small", upload=("ok.csv", io.BytesIO(b"a,b\n1,2\n")))
    assert ok["size"] == 8
