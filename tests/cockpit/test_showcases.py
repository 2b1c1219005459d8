"""The registry of applications and showcases: ckanext-showcase's actions through ckanapi, who may write (publishers
of the owning organisation; the attacker holds another organisation's publisher token), which datasets may be linked
(open ones of any organisation, not those the caller may not read), bad input as CKAN's errors, the pages (en/de,
hostile text inert) and the usage cockpit's "applications using this dataset"."""

from __future__ import annotations

from typing import Any

import ckanapi
import pytest

from tests.conformance.ckan.inprocess import ckan
from tests.conftest import ADMIN_TOKEN, api_token

HOSTILE = "</script><script>alert(1)</script>"


def _dataset(admin: Any, name: str, org: str, access: str = "open") -> None:
    extra = {} if access == "open" else {"grounds": ["third-party-rights"], "legal_basis": "Contract 12/2025"}
    admin.action.package_create(name=name, title=f"Title of {name}", owner_org=org, license_id="CC-BY-4.0",
                                access_level=access, **extra)


@pytest.fixture
def world(client: Any) -> dict[str, Any]:
    admin = ckan(client, ADMIN_TOKEN)
    for org in ("parks", "roads"):
        admin.action.organization_create(name=org, title=org.title())
        _dataset(admin, f"{org}-open", org)
        _dataset(admin, f"{org}-internal", org, "internal")
    return {"admin": admin, "anon": ckan(client), "parks": ckan(client, api_token(client, "parks-pub", "publisher", "parks")),
            "attacker": ckan(client, api_token(client, "roads-pub", "publisher", "roads"))}


def test_showcases_round_trip_through_ckanapi(client: Any, world: dict[str, Any]) -> None:
    parks, anon, attacker = world["parks"], world["anon"], world["attacker"]
    made = parks.action.ckanext_showcase_create(name="tree-app", title="Tree app", owner_org="parks",
                                                notes="Find the trees of your street.", url="https://trees.example.org",
                                                image_url="https://trees.example.org/shot.png")
    assert made["type"] == "showcase" and made["owner_org"] == "parks" and made["num_datasets"] == 0
    for ds in ("parks-open", "parks-internal", "roads-open"):  # another organisation's OPEN dataset is fine
        assert parks.action.ckanext_showcase_package_association_create(showcase_id="tree-app", package_id=ds) == {
            "showcase_id": made["id"], "package_id": ds}
    with pytest.raises(ckanapi.NotFound):  # another organisation's internal dataset: as if it did not exist
        parks.action.ckanext_showcase_package_association_create(showcase_id="tree-app", package_id="roads-internal")
    with pytest.raises(ckanapi.ValidationError):
        parks.action.ckanext_showcase_package_association_create(showcase_id="tree-app", package_id="roads-open")

    # readers see the datasets they may read
    assert [d["name"] for d in anon.action.ckanext_showcase_package_list(showcase_id="tree-app")] == [
        "parks-open", "roads-open"]
    assert len(parks.action.ckanext_showcase_package_list(showcase_id=made["id"])) == 3
    assert anon.action.ckanext_showcase_show(id="tree-app")["num_datasets"] == 2
    assert "applications" not in anon.action.ckanext_showcase_show(id="tree-app")
    assert [s["name"] for s in anon.action.ckanext_package_showcase_list(package_id="roads-open")] == ["tree-app"]
    with pytest.raises(ckanapi.NotFound):
        anon.action.ckanext_package_showcase_list(package_id="parks-internal")
    assert [s["name"] for s in anon.action.ckanext_showcase_list()] == ["tree-app"]

    # the attacker (roads' publisher) changes nothing of parks' showcase
    for call in (lambda: attacker.action.ckanext_showcase_update(id="tree-app", name="tree-app", title="Defaced",
                                                                 owner_org="parks"),
                 lambda: attacker.action.ckanext_showcase_patch(id="tree-app", owner_org="roads"),
                 lambda: attacker.action.ckanext_showcase_delete(id="tree-app"),
                 lambda: attacker.action.ckanext_showcase_package_association_create(showcase_id="tree-app",
                                                                                     package_id="roads-internal"),
                 lambda: attacker.action.ckanext_showcase_package_association_delete(showcase_id="tree-app",
                                                                                     package_id="roads-open"),
                 lambda: attacker.action.ckanext_showcase_create(name="fake", title="Fake", owner_org="parks"),
                 lambda: anon.action.ckanext_showcase_create(name="anon", title="Anon", owner_org="parks")):
        with pytest.raises(ckanapi.NotAuthorized):
            call()
    shown = parks.action.ckanext_showcase_show(id="tree-app")
    assert shown["title"] == "Tree app" and shown["num_datasets"] == 3 and shown["owner_org"] == "parks"
    assert [s["name"] for s in anon.action.ckanext_showcase_list()] == ["tree-app"]

    # moving it to roads needs the publisher role there too
    with pytest.raises(ckanapi.NotAuthorized):
        parks.action.ckanext_showcase_patch(id="tree-app", owner_org="roads")
    updated = parks.action.ckanext_showcase_update(id="tree-app", name="tree-app", title="Street trees", owner_org="parks")
    assert updated["title"] == "Street trees" and updated["notes"] == ""  # update replaces, as CKAN's
    parks.action.ckanext_showcase_package_association_delete(showcase_id="tree-app", package_id="roads-open")
    assert anon.action.ckanext_package_showcase_list(package_id="roads-open") == []
    parks.action.ckanext_showcase_delete(id="tree-app")
    with pytest.raises(ckanapi.NotFound):
        anon.action.ckanext_showcase_show(id="tree-app")
    assert anon.action.ckanext_package_showcase_list(package_id="parks-open") == []


def test_application_token_names_link_only_within_the_organisation(client: Any, world: dict[str, Any]) -> None:
    parks, admin, attacker = world["parks"], world["admin"], world["attacker"]
    api_token(client, "parks-client", "reader", "parks")
    api_token(client, "roads-client", "reader", "roads")
    api_token(client, "consumer-app", "reader")
    parks.action.ckanext_showcase_create(name="tree-app", title="Tree app", owner_org="parks")
    assert parks.action.ckanext_showcase_patch(id="tree-app", applications=["parks-client"])["applications"] == [
        "parks-client"]
    for names in (["roads-client"], ["consumer-app"], ["no-such-token"]):
        with pytest.raises(ckanapi.ValidationError):
            parks.action.ckanext_showcase_patch(id="tree-app", applications=names)
    assert admin.action.ckanext_showcase_patch(id="tree-app", applications=["parks-client", "consumer-app"])[
        "applications"] == ["consumer-app", "parks-client"]
    attacker.action.ckanext_showcase_create(name="road-app", title="Road app", owner_org="roads")
    with pytest.raises(ckanapi.ValidationError):  # parks' token name is not roads' to claim
        attacker.action.ckanext_showcase_patch(id="road-app", applications=["parks-client"])
    with pytest.raises(ckanapi.ValidationError):  # one token name, one showcase
        admin.action.ckanext_showcase_patch(id="road-app", applications=["consumer-app"])


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "Bad Name!", "owner_org": "parks"}, "name"),
    ({"name": "ok-name", "owner_org": "parks", "url": "javascript:alert(1)"}, "url"),
    ({"name": "ok-name", "owner_org": "parks", "image_url": "data:image/png;base64,AAAA"}, "image_url"),
    ({"name": "ok-name", "owner_org": "parks", "title": "x" * 201}, "title"),
    ({"name": "ok-name", "owner_org": "parks", "title": 12}, "title"),
    ({"name": "ok-name", "owner_org": "parks", "applications": "parks-client"}, "applications"),
    ({"name": "ok-name"}, "owner_org"),
])
def test_bad_input_is_a_validation_error_and_writes_nothing(client: Any, world: dict[str, Any], body: dict[str, Any],
                                                            field: str) -> None:
    with pytest.raises(ckanapi.ValidationError) as err:
        world["admin"].action.ckanext_showcase_create(**body)
    assert field in err.value.error_dict
    assert world["anon"].action.ckanext_showcase_list() == []


def test_malformed_requests_answer_ckan_errors(client: Any, world: dict[str, Any]) -> None:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    r = client.post("/api/3/action/ckanext_showcase_create", content=b"[1, 2]", headers={**auth, "content-type": "application/json"})
    assert r.status_code == 400 and r.json()["success"] is False
    r = client.post("/api/3/action/ckanext_showcase_create", content=b"{not json", headers={**auth, "content-type": "application/json"})
    assert r.status_code == 400
    r = client.post("/api/3/action/ckanext_showcase_show", json={}, headers=auth)
    assert r.status_code == 409 and "id" in r.json()["error"]
    r = client.post("/api/3/action/ckanext_showcase_show", json={"id": "nope"})
    assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error"
    r = client.post("/api/3/action/ckanext_showcase_package_association_create",
                    json={"showcase_id": "nope", "package_id": "parks-open"})
    assert r.status_code == 404
    r = client.post("/api/3/action/ckanext_showcase_create", json={"name": "big", "owner_org": "parks",
                                                                    "notes": "x" * 20_000}, headers=auth)
    assert r.status_code == 409 and "notes" in r.json()["error"]  # bodies above max_body_bytes: 413 before any action
    assert world["anon"].action.ckanext_showcase_list() == []


def test_pages_in_english_and_german_show_only_readable_datasets(client: Any, world: dict[str, Any]) -> None:
    parks = world["parks"]
    parks.action.ckanext_showcase_create(name="tree-app", title=f"Trees {HOSTILE}", owner_org="parks",
                                         notes=f"Notes {HOSTILE}", url="https://trees.example.org")
    for ds in ("parks-open", "parks-internal"):
        parks.action.ckanext_showcase_package_association_create(showcase_id="tree-app", package_id=ds)
    page = client.get("/showcases")
    assert page.status_code == 200 and "<h1>Applications and showcases</h1>" in page.text
    assert HOSTILE not in page.text and "&lt;/script&gt;" in page.text
    de = client.get("/showcases/tree-app?lang=de")
    assert de.status_code == 200 and 'lang="de"' in de.text and "Genutzte Datensätze" in de.text
    assert "Title of parks-open" in de.text and "Title of parks-internal" not in de.text and HOSTILE not in de.text
    assert client.get("/showcases/tree-app", headers={"accept-language": "de-DE,de;q=0.9"}).headers[
        "content-language"] == "de"
    using = client.get("/showcases?dataset=parks-open")
    assert using.status_code == 200 and "/showcases/tree-app" in using.text
    assert "/showcases/tree-app" not in client.get("/showcases?dataset=roads-open").text
    for path in ("/showcases?dataset=parks-internal", "/showcases/nope"):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/showcases?dataset=").status_code == 400


def test_the_usage_cockpit_shows_the_applications_using_each_dataset(client: Any, world: dict[str, Any]) -> None:
    parks = world["parks"]
    token = api_token(client, "parks-client", "reader", "parks")
    parks.action.ckanext_showcase_create(name="tree-app", title="Tree app", owner_org="parks",
                                         applications=["parks-client"])
    parks.action.ckanext_showcase_package_association_create(showcase_id="tree-app", package_id="parks-open")
    assert client.get("/datasets/parks-open", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    figures = client.get("/cockpit", params={"f": "json", "days": "7"},
                         headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    item = next(d for d in figures["datasets"] if d["dataset"] == "parks-open")
    assert item["showcases"] == [{"name": "tree-app", "title": "Tree app"}]
    app = next(a for a in item["applications"] if a["application"] == "parks-client")
    assert app["showcase"] == {"name": "tree-app", "title": "Tree app"}
    public = client.get("/cockpit/public", params={"f": "json", "days": "7"}).json()
    assert next(d for d in public["datasets"] if d["dataset"] == "parks-open")["showcases"][0]["name"] == "tree-app"
    assert "parks-client" not in str(public)
