"""The usage statistics as an open dataset of the catalogue: registered through ``CatalogPort.ensure_dataset`` (the
catalogue's own checks), idempotent, found by ckanapi's package_search, in DCAT and on the portal; the port refuses
another organisation's publisher and bad metadata, and writes nothing then."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.conformance.ckan.inprocess import ckan
from tests.conftest import api_token
from urbanos.cockpit.usage import dataset
from urbanos.errors import NotFound, UrbanosError, ValidationFailed
from urbanos.governance import ADMIN
from urbanos.ports import CatalogPort
from urbanos.settings import Settings

ORG = "open-data-office"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(cockpit_usage_dataset_org=ORG)


def _stamp(platform: Any) -> tuple[str, int]:
    def tx(c: Any) -> tuple[str, int]:
        row = c.fetchone("SELECT modified_at, id FROM datasets WHERE name = ?", (dataset.NAME,))
        return str(row[0]), int(row[1])
    return platform.db.read_sync(tx)  # type: ignore[no-any-return]


def test_the_usage_statistics_are_an_open_dataset_of_the_catalogue(client: Any, platform: Any,
                                                                   admin_headers: dict[str, str]) -> None:
    admin = ckan(client, admin_headers["Authorization"].split()[1])
    anon = ckan(client)
    with pytest.raises(Exception):  # noqa: B017,PT011 - the organisation did not exist at start: nothing registered
        anon.action.package_show(id=dataset.NAME)
    admin.action.organization_create(name=ORG, title="Open data office")
    assert asyncio.run(dataset.register(platform, ORG)) is True

    pkg = anon.action.package_show(id=dataset.NAME)
    assert pkg["organization"]["name"] == ORG and pkg["license_id"] == "dl-de-zero-2.0"
    assert pkg["title_translated"]["de"] == "Nutzungsstatistik der offenen Datenplattform"
    assert pkg["private"] is False and pkg["access_level"] == "open"
    urls = sorted(r["url"] for r in pkg["resources"])
    assert urls == ["http://testserver/cockpit/public/usage.csv", "http://testserver/cockpit/public/usage.json"]
    assert {r["format"] for r in pkg["resources"]} == {"CSV", "JSON"}
    found = anon.action.package_search(q="usage statistics")
    assert dataset.NAME in [p["name"] for p in found["results"]]
    # its resources answer, as open data
    assert client.get("/cockpit/public/usage.csv").status_code == 200
    assert client.get("/cockpit/public/usage.json").json()["rows"] is not None

    # DCAT and the portal (English and German)
    ttl = client.get(f"/dataset/{dataset.NAME}.ttl")
    assert ttl.status_code == 200
    assert "/cockpit/public/usage.csv" in ttl.text and "Nutzungsstatistik der offenen Datenplattform" in ttl.text
    assert dataset.NAME in client.get("/catalog.ttl").text
    assert "Usage statistics of the open data platform" in client.get(f"/datasets/{dataset.NAME}").text
    assert "Nutzungsstatistik der offenen Datenplattform" in client.get(f"/datasets/{dataset.NAME}?lang=de").text

    # idempotent: a second registration (every start does one) writes nothing
    before = _stamp(platform)
    assert asyncio.run(dataset.register(platform, ORG)) is True
    assert _stamp(platform) == before
    assert len(anon.action.package_show(id=dataset.NAME)["resources"]) == 2


def test_ensure_dataset_creates_patches_and_refuses_as_the_action_api(client: Any, platform: Any,
                                                                      admin_headers: dict[str, str]) -> None:
    admin = ckan(client, admin_headers["Authorization"].split()[1])
    for org in ("parks", "roads"):
        admin.action.organization_create(name=org, title=org.title())
    port: CatalogPort = platform.require(CatalogPort)
    attacker = asyncio.run(platform.gate.authenticate(api_token(client, "roads-pub", "publisher", "roads")))
    parks_pub = asyncio.run(platform.gate.authenticate(api_token(client, "parks-pub", "publisher", "parks")))
    data = {"name": "tree-register", "title": "Trees", "owner_org": "parks", "license_id": "CC-BY-4.0"}

    def ensure(identity: Any, body: Any) -> Any:
        return platform.db.write_sync(lambda c: port.ensure_dataset(c, identity, body))

    # another organisation's publisher may not create in parks, nor patch parks' dataset; nothing is written
    with pytest.raises(UrbanosError) as refused:
        ensure(attacker, data)
    assert refused.value.status == 403
    ref = ensure(parks_pub, data)
    assert (ref.name, ref.owner_org, ref.access_level) == ("tree-register", "parks", "open")
    with pytest.raises(UrbanosError) as refused:  # parks' open dataset: it may read it, not write it
        ensure(attacker, {**data, "title": "Defaced"})
    assert refused.value.status == 403
    with pytest.raises(UrbanosError):  # moving it to roads needs the publisher role for parks first
        ensure(attacker, {**data, "owner_org": "roads"})
    with pytest.raises(ValidationFailed) as bad:
        ensure(parks_pub, {**data, "theme": ["NO-SUCH-THEME"]})
    assert "theme" in str(bad.value.detail)
    with pytest.raises(ValidationFailed):
        ensure(parks_pub, ["not", "an", "object"])
    with pytest.raises(ValidationFailed):
        ensure(parks_pub, {"title": "no name"})
    shown = ckan(client).action.package_show(id="tree-register")
    assert shown["title"] == "Trees" and shown["license_id"] == "CC-BY-4.0"

    # the same call again changes nothing; a new title is a patch that keeps the rest
    modified = shown["metadata_modified"]
    assert ensure(parks_pub, data).id == ref.id
    assert ckan(client).action.package_show(id="tree-register")["metadata_modified"] == modified
    ensure(parks_pub, {"name": "tree-register", "title": "Street trees"})
    shown = ckan(client).action.package_show(id="tree-register")
    assert shown["title"] == "Street trees" and shown["license_id"] == "CC-BY-4.0"

    # resources by URL: created once, patched when they differ, refused for the attacker
    res = {"package_id": "tree-register", "url": "https://example.org/trees.csv", "format": "CSV", "name": "Register"}
    r1 = platform.db.write_sync(lambda c: port.ensure_resource(c, parks_pub, res))
    r2 = platform.db.write_sync(lambda c: port.ensure_resource(c, parks_pub, res))
    assert r1.id == r2.id
    r3 = platform.db.write_sync(lambda c: port.ensure_resource(c, parks_pub, {**res, "name": "Tree register"}))
    assert r3.id == r1.id and r3.name == "Tree register"
    with pytest.raises(UrbanosError) as refused:
        platform.db.write_sync(lambda c: port.ensure_resource(c, attacker, {**res, "name": "Defaced"}))
    assert refused.value.status == 403
    with pytest.raises(NotFound):
        platform.db.write_sync(lambda c: port.ensure_resource(c, parks_pub, {**res, "package_id": "no-such"}))
    assert [r["name"] for r in ckan(client).action.package_show(id="tree-register")["resources"]] == ["Tree register"]
    assert ADMIN.is_admin
