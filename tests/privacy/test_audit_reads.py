"""Reads of non-open data are audited on every path, with who, which dataset, which API and how many rows; reads of
open data are not."""

from __future__ import annotations

from typing import Any

from tests.privacy.conftest import entries


def _reads(client: Any, dataset: str) -> list[dict[str, Any]]:
    return [e for e in entries(client, action="read", dataset=dataset)]


def test_sensorthings_read_is_logged_with_rows(client: Any, world: dict[str, Any]) -> None:
    h = world["h"]["reader-a"]
    r = client.get(f"/sta/v1.1/Datastreams({world['stream']})/Observations", headers=h)
    assert r.status_code == 200 and len(r.json()["value"]) == 3
    got = [e for e in _reads(client, "org-a-private") if e["actor"] == world["subject"]["reader-a"]]
    assert got, entries(client)
    e = got[0]
    assert e["row_count"] == 3 and e["org"] == "org-a" and e["details"]["api"] == "sta"
    assert e["object_kind"] == "dataset" and e["object_id"] == str(world["ids"]["org-a-private"])


def test_ogcapi_items_read_is_logged_with_rows(client: Any, world: dict[str, Any]) -> None:
    h = world["h"]["reader-a"]
    r = client.get("/ogcapi/collections/a-points/items?limit=7", headers=h)
    assert r.status_code == 200 and len(r.json()["features"]) == 7
    got = [e for e in _reads(client, "org-a-private") if e["details"].get("api") == "ogcapi-features"]
    assert got and got[0]["row_count"] == 7
    assert got[0]["path"] == "GET /ogcapi/collections/a-points/items"
    assert got[0]["actor"] == world["subject"]["reader-a"]


def test_ckan_package_show_of_private_dataset_is_logged(client: Any, world: dict[str, Any]) -> None:
    r = client.get("/api/3/action/package_show?id=org-a-private", headers=world["h"]["reader-a"])
    assert r.status_code == 200, r.text
    got = [e for e in _reads(client, "org-a-private") if e["details"].get("gate_action") == "catalog.package_show"]
    assert got and got[0]["row_count"] == 1 and got[0]["details"]["api"] == "ckan"


def test_open_and_refused_reads_are_not_logged(client: Any, world: dict[str, Any]) -> None:
    before = len(entries(client, action="read"))
    assert client.get("/api/3/action/package_show?id=open-data").status_code == 200
    assert client.get("/api/3/action/package_show?id=org-b-private", headers=world["h"]["reader-a"]).status_code in (403, 404)
    assert client.get("/ogcapi/collections/a-points/items").status_code == 404
    assert len(entries(client, action="read")) == before


def test_audit_off_records_nothing(make_settings: Any) -> None:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(make_settings(audit_enabled=False))
    try:
        with TestClient(app) as c:
            assert c.post("/admin/tokens", json={"role": "reader"}, headers={"Authorization": "Bearer "
                          + app.state.platform.settings.admin_token}).status_code == 201
            assert entries(c) == []
    finally:
        app.state.platform.close()
