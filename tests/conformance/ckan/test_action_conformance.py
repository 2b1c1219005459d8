"""What real CKAN clients (ckanapi, harvesters) rely on, answered as CKAN 2.10/2.11 answers it: datastore_create that
makes its resource, group and organisation lists sorted by package count, deleted datasets kept for their editors,
the field a ``_show`` without id names."""

from __future__ import annotations

from typing import Any

import ckanapi
import pytest

from tests.conformance.ckan.inprocess import ckan
from tests.conftest import ADMIN_TOKEN
from urbanos.features import store
from urbanos.governance.tokens import create_token


@pytest.fixture
def city(client: Any, platform: Any) -> dict[str, Any]:
    """Two organisations, a publisher token for each, and open and internal datasets."""
    admin = ckan(client, ADMIN_TOKEN)
    admin.action.organization_create(name="roads", title="Roads office")
    admin.action.organization_create(name="parks", title="Arboretum")
    admin.action.organization_create(name="water", title="Zoning")
    admin.action.group_create(name="mobility", title="Mobility")
    admin.action.group_create(name="nature", title="Green city")
    for name, org, level, groups in (("traffic", "roads", "open", ["mobility"]), ("bridges", "roads", "open", ["mobility"]),
                                     ("potholes", "roads", "open", ["mobility"]),
                                     ("trees", "parks", "internal", ["nature"]), ("lawns", "parks", "internal", ["nature"]),
                                     ("ponds", "parks", "internal", ["nature"]), ("benches", "parks", "open", ["nature"]),
                                     ("pipes", "water", "open", [])):
        extra = {"grounds": ["security"]} if level != "open" else {}
        admin.action.package_create(name=name, owner_org=org, access_level=level, groups=[{"name": g} for g in groups],
                                    **extra)
    tokens = {org: platform.db.write_sync(lambda c, o=org: create_token(c, "publisher", o, f"{o}-publisher"))
              for org in ("roads", "parks")}
    return {"admin": admin, "anon": ckan(client), "roads": ckan(client, tokens["roads"]),
            "parks": ckan(client, tokens["parks"])}


def _collections(platform: Any) -> set[str]:
    return {m.name for m in platform.db.read_sync(store.list_collections)}


# -- datastore_create with a resource dict ---------------------------------------------------------------------
def test_datastore_create_makes_its_resource(city: dict[str, Any], client: Any) -> None:
    roads = city["roads"]
    out = roads.action.datastore_create(resource={"package_id": "traffic", "name": "Counts", "format": "CSV"},
                                        fields=[{"id": "station", "type": "text"}, {"id": "n", "type": "int"}],
                                        records=[{"station": "A", "n": 3}, {"station": "B", "n": 5}], primary_key="station")
    rid = out["resource_id"]
    res = city["anon"].action.resource_show(id=rid)
    assert res["name"] == "Counts" and res["format"] == "CSV" and res["datastore_active"] is True
    assert res["url_type"] == "datastore" and res["url"].startswith("http://testserver/")
    assert [r["id"] for r in city["anon"].action.package_show(id="traffic")["resources"]] == [rid]
    found = city["anon"].action.datastore_search(resource_id=rid, sort="station")
    assert [(r["station"], r["n"]) for r in found["records"]] == [("A", 3), ("B", 5)]
    # the resource's URL is its table's download
    got = client.get(res["url"])
    assert got.status_code == 200 and got.text.splitlines()[1:] == ["A,3", "B,5"], got.text


def test_datastore_create_resource_refused_for_another_organisation(city: dict[str, Any], platform: Any) -> None:
    before = _collections(platform)
    with pytest.raises(ckanapi.NotAuthorized):
        city["parks"].action.datastore_create(resource={"package_id": "traffic", "name": "Sneaky"},
                                              records=[{"a": 1}])
    with pytest.raises(ckanapi.NotAuthorized):
        city["anon"].action.datastore_create(resource={"package_id": "traffic", "name": "Sneaky"}, records=[{"a": 1}])
    assert city["admin"].action.package_show(id="traffic")["num_resources"] == 0
    assert _collections(platform) == before


@pytest.mark.parametrize("body, field", [
    ({"resource": "traffic"}, "resource"),
    ({"resource": {"package_id": "traffic"}, "records": [{"a": 1}], "fields": [{"id": "a", "type": "blob"}]}, "fields"),
    ({"resource": {"package_id": "traffic"}, "records": [{"n": "x"}], "fields": [{"id": "n", "type": "int"}]}, "records"),
    ({"resource": {"package_id": "traffic", "url": "not a url"}}, "url"),
])
def test_datastore_create_bad_resource_changes_nothing(city: dict[str, Any], platform: Any, body: dict[str, Any],
                                                       field: str) -> None:
    before = _collections(platform)
    with pytest.raises(ckanapi.ValidationError) as err:
        city["roads"].action.datastore_create(**body)
    assert field in err.value.error_dict
    assert city["admin"].action.package_show(id="traffic")["num_resources"] == 0
    assert _collections(platform) == before


def test_datastore_create_resource_of_missing_dataset(city: dict[str, Any]) -> None:
    with pytest.raises(ckanapi.NotFound):
        city["roads"].action.datastore_create(resource={"package_id": "nowhere"}, records=[{"a": 1}])


# -- group_list and organization_list sort -----------------------------------------------------------------------
def test_organization_list_sort(city: dict[str, Any]) -> None:
    anon, admin, parks = city["anon"], city["admin"], city["parks"]
    # CKAN's default order is the title
    assert anon.action.organization_list() == ["parks", "roads", "water"]
    assert anon.action.organization_list(sort="name desc") == ["water", "roads", "parks"]
    assert anon.action.organization_list(sort="title desc") == ["water", "roads", "parks"]
    # counts are the datasets the caller may read: anonymous sees one of parks' four
    assert anon.action.organization_list(sort="package_count desc") == ["roads", "parks", "water"]
    assert admin.action.organization_list(sort="package_count desc") == ["parks", "roads", "water"]
    assert parks.action.organization_list(sort="package_count asc") == ["water", "roads", "parks"]
    listed = anon.action.organization_list(sort="package_count desc", all_fields=True)
    assert [(o["name"], o["package_count"]) for o in listed] == [("roads", 3), ("parks", 1), ("water", 1)]
    assert [o["package_count"] for o in admin.action.organization_list(sort="package_count", all_fields=True)] == [4, 3, 1]


def test_group_list_sort(city: dict[str, Any]) -> None:
    anon, admin = city["anon"], city["admin"]
    assert anon.action.group_list() == ["nature", "mobility"]  # titles "Green city", "Mobility"
    assert anon.action.group_list(sort="name") == ["mobility", "nature"]
    assert anon.action.group_list(sort="package_count desc") == ["mobility", "nature"]
    assert admin.action.group_list(sort="package_count desc") == ["nature", "mobility"]
    assert [(g["name"], g["package_count"]) for g in anon.action.group_list(sort="package_count desc", all_fields=True)] \
        == [("mobility", 3), ("nature", 1)]
    assert anon.action.group_list(sort="name", limit=1, offset=1) == ["nature"]


@pytest.mark.parametrize("action", ["organization_list", "group_list"])
@pytest.mark.parametrize("sort, message", [("colour", "Cannot sort by field `colour`"),
                                           ("name upwards", "Invalid sort direction `upwards`"),
                                           ("name asc, title desc", "Too many sort criteria provided only 1 allowed")])
def test_list_bad_sort_is_a_validation_error(city: dict[str, Any], action: str, sort: str, message: str) -> None:
    with pytest.raises(ckanapi.ValidationError) as err:
        city["anon"].call_action(action, {"sort": sort})
    assert err.value.error_dict["message"] == message


# -- package_delete keeps the dataset --------------------------------------------------------------------------
def test_deleted_dataset_shown_to_its_editors_only(city: dict[str, Any]) -> None:
    admin, roads, parks, anon = city["admin"], city["roads"], city["parks"], city["anon"]
    roads.action.package_delete(id="bridges")
    assert admin.action.package_show(id="bridges")["state"] == "deleted"
    assert roads.action.package_show(id="bridges")["state"] == "deleted"
    for who in (parks, anon):
        with pytest.raises(ckanapi.NotFound):
            who.action.package_show(id="bridges")
    for who in (admin, roads, anon):
        assert "bridges" not in {p["name"] for p in who.action.package_search(rows=100)["results"]}
        assert "bridges" not in {p["name"] for p in who.action.package_search(rows=100, include_deleted=True)["results"]}
        assert "bridges" not in who.action.package_list()
    assert [(o["name"], o["package_count"]) for o in anon.action.organization_list(all_fields=True)
            if o["name"] == "roads"] == [("roads", 2)]
    # deleting it again is a 404, as for a missing one; a purge removes it for good
    with pytest.raises(ckanapi.NotFound):
        roads.action.package_delete(id="bridges")
    with pytest.raises(ckanapi.NotAuthorized):
        roads.action.dataset_purge(id="bridges")
    admin.action.dataset_purge(id="bridges")
    for who in (admin, roads):
        with pytest.raises(ckanapi.NotFound):
            who.action.package_show(id="bridges")


def test_deleted_dataset_resources_follow_it(city: dict[str, Any]) -> None:
    admin, roads, parks = city["admin"], city["roads"], city["parks"]
    rid = admin.action.resource_create(package_id="potholes", url="https://example.org/p.csv", name="p")["id"]
    roads.action.package_delete(id="potholes")
    assert roads.action.resource_show(id=rid)["id"] == rid
    with pytest.raises(ckanapi.NotFound):
        parks.action.resource_show(id=rid)


# -- _show without an id -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("action, field", [("package_show", "name_or_id"), ("resource_show", "id"),
                                           ("organization_show", "id"), ("group_show", "id")])
def test_show_without_id_names_ckans_field(city: dict[str, Any], action: str, field: str) -> None:
    with pytest.raises(ckanapi.ValidationError) as err:
        city["anon"].call_action(action, {})
    assert err.value.error_dict == {"__type": "Validation Error", field: ["Missing value"]}


def test_package_show_reads_name_or_id(city: dict[str, Any]) -> None:
    assert city["anon"].action.package_show(name_or_id="traffic")["name"] == "traffic"
