"""The catalogue's contracts: what it answers other capabilities (``CatalogPort``), and a catalogue that runs
without the features capability (no ``FeaturesPort``, no ``CkanActionsPort``) or with extra actions of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, settings_for
from urbanos.catalog.component import CatalogComponent
from urbanos.errors import NotFound
from urbanos.events import Event
from urbanos.ports import CatalogPort, CkanAction, CkanActionsPort, DatasetRef, ResourceRef

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()["result"]


def _dataset(client: Any) -> dict[str, Any]:
    _ok(client.post("/api/3/action/organization_create", json={"name": "parks", "title": "Parks"}, headers=ADMIN))
    return _ok(client.post("/api/3/action/package_create", headers=ADMIN, json={
        "name": "street-trees", "title": "Street trees", "owner_org": "parks",
        "resources": [{"name": "Register", "url": "https://example.org/trees.csv", "format": "CSV"}]}))


def test_catalog_port_answers(client: Any, platform: Any) -> None:
    pkg = _dataset(client)
    rid = pkg["resources"][0]["id"]
    port: CatalogPort = platform.require(CatalogPort)
    db = platform.db

    ds_id = int(db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = ?", ("street-trees",))))
    ref = db.read_sync(lambda c: port.dataset(c, "street-trees"))
    assert ref == DatasetRef(id=ds_id, name="street-trees", title="Street trees", owner_org="parks",
                             access_level="open", state="active")
    assert db.read_sync(lambda c: port.dataset(c, ds_id)) == ref  # the internal id, as other capabilities hold it
    assert db.read_sync(lambda c: port.dataset(c, pkg["id"])) == ref  # the public id: the dataset's UUID
    assert db.read_sync(lambda c: port.dataset(c, pkg["id"].upper())) == ref
    assert db.read_sync(lambda c: port.dataset(c, str(ds_id))) is None  # the integer is no public key
    assert db.read_sync(lambda c: port.dataset(c, "no-such-dataset")) is None
    assert db.read_sync(lambda c: port.dataset(c, "²")) is None  # a look-alike digit is no id

    res = db.read_sync(lambda c: port.resource(c, rid))
    assert res == ResourceRef(id=rid, dataset_id=ds_id, name="Register", url="https://example.org/trees.csv",
                              format="CSV", url_type="", collection=None, datastore_active=False)
    assert db.read_sync(lambda c: port.resource(c, "no-such-resource")) is None

    seen: list[Event] = []
    platform.bus.subscribe(seen.append, topic="catalog")
    db.write_sync(lambda c: port.bind_collection(c, rid, "trees", datastore_active=True))
    bound = db.read_sync(lambda c: port.resource(c, rid))
    assert bound.collection == "trees" and bound.datastore_active
    assert [r.id for r in db.read_sync(lambda c: port.resources_of_collection(c, "trees"))] == [rid]
    db.write_sync(lambda c: port.bind_collection(c, rid, None, datastore_active=False))
    unbound = db.read_sync(lambda c: port.resource(c, rid))
    assert unbound.collection is None and not unbound.datastore_active
    assert db.read_sync(lambda c: port.resources_of_collection(c, "trees")) == []
    assert seen == []  # a binding is a column of the resource: no catalogue event, as before


def test_describe_collection_once(client: Any, platform: Any) -> None:
    _dataset(client)
    port: CatalogPort = platform.require(CatalogPort)

    async def twice() -> None:
        await port.describe_collection("street-trees", "trees", fmt="GeoJSON", url="/ogcapi/collections/trees",
                                       title="trees.geojson")
        await port.describe_collection("street-trees", "trees", fmt="CSV", url="/elsewhere", title="again")

    asyncio.run(twice())
    found = [r for r in _ok(client.get("/api/3/action/package_show?id=street-trees"))["resources"]
             if r["collection"] == "trees"]
    assert len(found) == 1
    r = found[0]
    assert (r["name"], r["format"], r["datastore_active"]) == ("trees.geojson", "GEOJSON", True)
    assert r["url"].endswith("/ogcapi/collections/trees")
    with pytest.raises(NotFound):  # no such dataset: resource_create's answer
        asyncio.run(port.describe_collection("no-such-dataset", "other", fmt="CSV", url="/x"))


@pytest.fixture
def catalog_only(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    """The app with the catalogue alone: no features, no sensing."""
    from urbanos.web.app import create_app

    app = create_app(settings_for(tmp_path, db_url), components=[CatalogComponent()])
    try:
        with TestClient(app, raise_server_exceptions=False) as c:
            yield c
    finally:
        app.state.platform.close()


class Extra:
    """A CkanActionsPort with one action."""

    def ckan_actions(self) -> Mapping[str, CkanAction]:
        async def echo(platform: Any, identity: Any, data: dict[str, Any]) -> Any:
            if data.get("missing"):
                raise NotFound("no such table")
            return {"echo": data, "anonymous": identity.is_anonymous}

        return {"datastore_echo": echo}


def test_the_catalogue_runs_without_features(catalog_only: TestClient) -> None:
    client = catalog_only
    platform = client.app.state.platform
    assert platform.optional(CkanActionsPort) is None
    pkg = _dataset(client)
    assert _ok(client.get("/api/3/action/package_show?id=street-trees"))["id"] == pkg["id"]
    r = client.get("/api/3/action/datastore_search?resource_id=x")
    assert r.status_code == 400 and "Action name not known: datastore_search" in r.json()["error"]["message"]
    assert client.get("/datasets/street-trees").status_code == 200
    # a preview of a collection needs the features capability: without it, no collection exists
    _ok(client.post("/api/3/action/resource_patch", headers=ADMIN, json={"id": pkg["resources"][0]["id"],
                                                                        "collection": "trees"}))
    assert client.get("/datasets/street-trees/preview/trees.geojson").status_code == 404

    platform.provide(CkanActionsPort, Extra())
    r = client.get("/api/3/action/datastore_echo?resource_id=x")
    assert r.json()["result"] == {"echo": {"resource_id": "x"}, "anonymous": True}
    r = client.post("/api/3/action/datastore_echo", json={"missing": True})
    assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error"
