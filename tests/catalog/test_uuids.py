"""Datasets, organisations and groups answer UUIDs as their ids (as CKAN does), and every action that reads a name
reads a UUID too; the integer keys stay inside the platform. The UUID of a row never changes, migration 4 gives
existing rows theirs, and rows other capabilities insert get one from the triggers, on both back ends."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import ckanapi
import pytest

from tests.conftest import ADMIN_TOKEN
from urbanos.catalog.uuids import DATASET_UUID_SQL, as_uuid
from urbanos.platform import Platform
from urbanos.plugins import load_components
from urbanos.storage import open_database, upgrade

ADMIN = {"Authorization": ADMIN_TOKEN}
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TS = "2024-01-01T00:00:00.000000Z"


def _post(client: Any, action: str, **data: Any) -> Any:
    return client.post(f"/api/3/action/{action}", json=data, headers=ADMIN)


def _ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()["result"]


def _get(client: Any, action: str, **params: Any) -> Any:
    return client.get(f"/api/3/action/{action}", params=params, headers=ADMIN)


@pytest.fixture
def cat(client: Any) -> dict[str, Any]:
    """An organisation ``parks``, a group ``trees`` and a dataset ``street-trees`` in both, with one resource."""
    org = _ok(_post(client, "organization_create", name="parks", title="Parks"))
    group = _ok(_post(client, "group_create", name="trees", title="Trees"))
    pkg = _ok(_post(client, "package_create", name="street-trees", title="Street trees", owner_org="parks",
                    groups=[{"name": "trees"}],
                    resources=[{"name": "Register", "url": "https://example.org/trees.csv", "format": "CSV"}]))
    return {"org": org, "group": group, "pkg": pkg, "client": client}


def test_ids_are_uuids(cat: dict[str, Any]) -> None:
    client, org, group, pkg = cat["client"], cat["org"], cat["group"], cat["pkg"]
    ids = {org["id"], group["id"], pkg["id"]}
    assert all(UUID4.match(i) for i in ids) and len(ids) == 3, ids
    assert pkg["owner_org"] == org["id"] and pkg["organization"]["id"] == org["id"]
    assert pkg["groups"][0]["id"] == group["id"]
    assert pkg["resources"][0]["package_id"] == pkg["id"] and UUID4.match(pkg["resources"][0]["id"])
    res = _ok(_get(client, "resource_show", id=pkg["resources"][0]["id"]))
    assert res["package_id"] == pkg["id"]
    new_res = _ok(_post(client, "resource_create", package_id="street-trees", url="https://example.org/t.json"))
    assert new_res["package_id"] == pkg["id"]
    found = _ok(_get(client, "package_search", fq="name:street-trees"))["results"]
    assert [p["id"] for p in found] == [pkg["id"]] and found[0]["owner_org"] == org["id"]
    assert [o["id"] for o in _ok(_get(client, "organization_list", all_fields="true"))] == [org["id"]]
    assert [g["id"] for g in _ok(_get(client, "group_list", all_fields="true"))] == [group["id"]]
    assert [o["id"] for o in _ok(_get(client, "organization_list_for_user"))] == [org["id"]]
    shown = _ok(_get(client, "organization_show", id="parks", include_datasets="true"))
    assert shown["id"] == org["id"] and [p["id"] for p in shown["packages"]] == [pkg["id"]]
    assert _ok(_get(client, "member_list", id="trees")) == [[pkg["id"], "package", "public"]]
    assert _ok(_get(client, "member_list", id="parks", object_type="package")) == [[pkg["id"], "package", "organization"]]
    member = _ok(_post(client, "member_create", id="trees", object="street-trees", object_type="package", capacity="public"))
    assert member["group_id"] == group["id"] and member["table_id"] == pkg["id"]
    user = _ok(_post(client, "member_create", id="parks", object="alice", object_type="user", capacity="editor"))
    assert user["group_id"] == org["id"] and user["table_id"] == "alice"
    inventory = {i["name"]: i for i in _ok(_get(client, "inventory_list"))}
    assert inventory["street-trees"]["owner_org"] == org["id"]


def test_uuids_and_names_resolve_everywhere(cat: dict[str, Any]) -> None:
    client, org, group, pkg = cat["client"], cat["org"], cat["group"], cat["pkg"]
    for key in (pkg["id"], pkg["id"].upper(), "street-trees"):
        assert _ok(_get(client, "package_show", id=key))["id"] == pkg["id"]
    for key in (org["id"], org["id"].upper(), "parks"):
        assert _ok(_get(client, "organization_show", id=key))["name"] == "parks"
    for key in (group["id"], "trees"):
        assert _ok(_get(client, "group_show", id=key))["name"] == "trees"
    assert _ok(_post(client, "package_patch", id=pkg["id"], title="Street trees 2"))["title"] == "Street trees 2"
    full = _ok(_get(client, "package_show", id=pkg["id"]))
    full["notes"] = "All street trees."
    updated = _ok(_post(client, "package_update", **full))  # a package as shown, sent back: ids, owner_org UUID
    assert updated["notes"] == "All street trees." and updated["id"] == pkg["id"] and updated["owner_org"] == org["id"]
    assert _ok(_post(client, "resource_create", package_id=pkg["id"], url="https://example.org/a.csv"))["package_id"] == pkg["id"]
    assert _ok(_get(client, "member_list", id=group["id"])) == [[pkg["id"], "package", "public"]]
    assert _ok(_post(client, "member_delete", id=group["id"], object=pkg["id"], object_type="package")) is None
    assert _ok(_post(client, "member_create", id=group["id"], object=pkg["id"], object_type="package", capacity="public"))
    assert _ok(_get(client, "member_list", id=org["id"], object_type="package")) == [[pkg["id"], "package", "organization"]]
    # an owner_org and groups given by UUID
    other = _ok(_post(client, "package_create", name="park-benches", owner_org=org["id"], groups=[{"id": group["id"]}]))
    assert other["organization"]["name"] == "parks" and other["groups"][0]["name"] == "trees"
    for fq, names in ((f"id:{pkg['id']}", ["street-trees"]), (f"id:{pkg['id'].upper()}", ["street-trees"]),
                      (f'id:"{other["id"]}"', ["park-benches"]), (f"owner_org:{org['id']}", ["park-benches", "street-trees"]),
                      ("owner_org:parks", ["park-benches", "street-trees"]), (f"organization:{org['id']}", ["park-benches", "street-trees"]),
                      ("id:00000000-0000-4000-8000-000000000000", []), ("id:1", []), ("id:street-trees", [])):
        res = _ok(_get(client, "package_search", fq=fq, sort="name asc"))
        assert [p["name"] for p in res["results"]] == names, fq
    assert _ok(_post(client, "package_delete", id=other["id"])) is None
    assert _get(client, "package_show", id="park-benches").json()["result"]["state"] == "deleted"
    assert _ok(_post(client, "dataset_purge", id=other["id"])) is None
    assert _get(client, "package_show", id=other["id"]).status_code == 404


def test_integer_keys_are_not_public(cat: dict[str, Any], platform: Any) -> None:
    client = cat["client"]
    ds_id = platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = 'street-trees'"))
    org_id = platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM organizations WHERE name = 'parks'"))
    assert _get(client, "package_show", id=str(ds_id)).status_code == 404
    assert _get(client, "organization_show", id=str(org_id)).status_code == 404
    text = client.get("/api/3/action/package_show", params={"id": "street-trees"}).text
    assert f'"id":"{ds_id}"' not in text and f'"package_id":"{ds_id}"' not in text


def test_sort_by_id_is_the_uuid_order(client: Any) -> None:
    _ok(_post(client, "organization_create", name="city"))
    made = [_ok(_post(client, "package_create", name=f"ds-{i}", owner_org="city")) for i in range(6)]
    ids = sorted(p["id"] for p in made)
    asc = _ok(_get(client, "package_search", sort="id asc", rows=10))["results"]
    desc = _ok(_get(client, "package_search", sort="id desc", rows=10))["results"]
    assert [p["id"] for p in asc] == ids and [p["id"] for p in desc] == ids[::-1]
    page = _ok(_get(client, "package_search", sort="id asc", rows=2, start=2))["results"]
    assert [p["id"] for p in page] == ids[2:4]


def test_a_uuid_never_changes(cat: dict[str, Any], make_settings: Callable[..., Any]) -> None:
    client, pkg, org = cat["client"], cat["pkg"], cat["org"]
    _ok(_post(client, "organization_create", name="roads"))
    moved = _ok(_post(client, "package_patch", id="street-trees", name="city-trees", owner_org="roads", title="Trees"))
    assert moved["id"] == pkg["id"] and moved["name"] == "city-trees" and moved["owner_org"] != org["id"]
    _ok(_post(client, "package_delete", id="city-trees"))
    assert _get(client, "package_show", id=pkg["id"]).json()["result"]["id"] == pkg["id"]
    # another platform process on the same database (a restart) answers the same ids
    platform = Platform.build(make_settings(), load_components())
    platform.open()
    try:
        def read(c: Any) -> Any:
            return c.fetchall(f"SELECT d.name, {DATASET_UUID_SQL} FROM datasets d ORDER BY d.name")
        assert platform.db.read_sync(read) == [("city-trees", pkg["id"])]
        assert platform.db.read_sync(lambda c: c.fetchval(
            "SELECT u.uuid FROM catalog_org_ids u JOIN organizations o ON o.id = u.org_id WHERE o.name = 'parks'")) == org["id"]
    finally:
        platform.close()


def test_rows_other_capabilities_insert_get_a_uuid(client: Any, platform: Any) -> None:
    """The features and sensing capabilities insert ``datasets`` rows themselves: the trigger gives each its UUID."""
    def insert(c: Any) -> None:
        c.execute("INSERT INTO organizations (name, title, created_at) VALUES (?, ?, ?)", ("water", "Water", TS))
        for name in ("gauges", "wells"):
            c.insert("datasets", {"name": name, "title": name, "owner_org": "water", "access_level": "open",
                                  "created_at": TS, "modified_at": TS})
    platform.db.write_sync(insert)
    shown = [_ok(_get(client, "package_show", id=n)) for n in ("gauges", "wells")]
    org = _ok(_get(client, "organization_show", id="water"))
    assert all(UUID4.match(p["id"]) for p in shown) and shown[0]["id"] != shown[1]["id"] and UUID4.match(org["id"])
    assert {p["owner_org"] for p in shown} == {org["id"]}
    assert _ok(_get(client, "package_show", id=shown[1]["id"]))["name"] == "wells"


@pytest.mark.parametrize("key", ["00000000-0000-4000-8000-000000000000", "../", "..%2F..", "x" * 2000, "a\u0000b",
                                 "\u0000", "ABCDEFGH-0000-4000-8000-000000000000", "12345678-1234-1234-1234-1234567890123"],
                         ids=["unknown", "dots", "escaped", "long", "nul-inside", "nul", "not-hex", "too-long"])
def test_unknown_and_malformed_ids_are_4xx(cat: dict[str, Any], key: str) -> None:
    client = cat["client"]
    before = _ok(_get(client, "package_search", rows=100))
    for action in ("package_show", "organization_show", "group_show", "member_list"):
        r = _get(client, action, id=key)
        if "\u0000" in key:  # refused before it reaches the database, as every text with a NUL (tests/features/test_nul_text.py)
            assert r.status_code == 400 and "NUL" in r.json()["error"]["message"], r.text[:300]
            continue
        assert r.status_code in (404, 409), (action, r.status_code, r.text[:300])
        assert r.json()["success"] is False and r.json()["error"]["__type"] in ("Not Found Error", "Validation Error")
    for action, body in (("package_patch", {"id": key, "title": "x"}), ("package_update", {"id": key, "name": "x"}),
                         ("package_delete", {"id": key}), ("resource_create", {"package_id": key, "url": "https://e.org/a"}),
                         ("member_create", {"id": key, "object": "street-trees", "object_type": "package", "capacity": "public"}),
                         ("member_create", {"id": "trees", "object": key, "object_type": "package", "capacity": "public"}),
                         ("package_create", {"name": "new-one", "owner_org": key})):
        r = client.post(f"/api/3/action/{action}", json=body, headers=ADMIN)
        assert r.status_code in (400, 404, 409), (action, r.status_code, r.text[:300])  # 400: a NUL in a JSON body
        assert r.json()["success"] is False
    r = _get(client, "package_search", fq=f'id:"{key}"')
    assert r.status_code in (200, 400), r.text[:300]
    assert r.status_code == 400 or r.json()["result"]["count"] == 0
    assert _ok(_get(client, "package_search", rows=100)) == before


def test_unknown_uuid_is_ckans_not_found(cat: dict[str, Any]) -> None:
    r = _get(cat["client"], "package_show", id="00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error"
    r = _get(cat["client"], "organization_show", id="00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error"


def test_portal_and_dcat_take_the_uuid(cat: dict[str, Any]) -> None:
    client, pkg = cat["client"], cat["pkg"]
    page = client.get(f"/datasets/{pkg['id']}")
    assert page.status_code == 200 and "Street trees" in page.text
    ttl = client.get(f"/dataset/{pkg['id']}.ttl")
    assert ttl.status_code == 200 and pkg["id"] in ttl.text and "/dataset/street-trees" in ttl.text
    assert client.get("/dataset/00000000-0000-4000-8000-000000000000.ttl").status_code == 404
    by_name = client.get("/dataset/street-trees.jsonld")
    assert by_name.status_code == 200 and pkg["id"] in by_name.text  # dct:identifier is the UUID


@pytest.mark.empty_db  # migrates step by step from an empty database
def test_migration_gives_existing_rows_uuids(make_settings: Callable[..., Any]) -> None:
    """A database at catalogue version 3 with rows in it: migration 4 gives each row a UUID of its own."""
    settings = make_settings()
    probe = Platform.build(settings, load_components())
    older = [m for m in probe.migrations() if not (m.component == "catalog" and m.version >= 4)]
    db = open_database(settings)
    db.open()
    try:
        upgrade(db, older)

        def old_rows(c: Any) -> None:
            for name in ("parks", "roads"):
                c.execute("INSERT INTO organizations (name, title, created_at) VALUES (?, ?, ?)", (name, name, TS))
            for i in range(5):
                c.insert("datasets", {"name": f"old-{i}", "title": f"Old {i}", "owner_org": "parks", "access_level": "open",
                                      "created_at": TS, "modified_at": TS})
            c.execute("INSERT INTO catalog_groups (name, title, created_at) VALUES (?, ?, ?)", ("trees", "Trees", TS))
        db.write_sync(old_rows)
        assert not db.read_sync(lambda c: c.table_exists("catalog_dataset_ids"))
        upgrade(db, probe.migrations())
        rows = db.read_sync(lambda c: [
            *c.fetchall("SELECT 'd', dataset_id, uuid FROM catalog_dataset_ids"),
            *c.fetchall("SELECT 'o', org_id, uuid FROM catalog_org_ids"),
            *c.fetchall("SELECT 'g', group_id, uuid FROM catalog_group_ids")])
        assert sorted(r[0] for r in rows) == ["d"] * 5 + ["g"] + ["o"] * 2
        assert all(UUID4.match(r[2]) for r in rows) and len({r[2] for r in rows}) == len(rows)
        # after the migration the triggers give new rows theirs
        db.write_sync(lambda c: c.insert("datasets", {"name": "new-0", "title": "", "access_level": "open",
                                                      "created_at": TS, "modified_at": TS}))
        new = db.read_sync(lambda c: c.fetchval(
            "SELECT u.uuid FROM catalog_dataset_ids u JOIN datasets d ON d.id = u.dataset_id WHERE d.name = 'new-0'"))
        assert UUID4.match(new) and new not in {r[2] for r in rows}
    finally:
        db.close()
    platform = Platform.build(settings, load_components())
    platform.open()
    try:
        before = platform.db.read_sync(lambda c: c.fetchall("SELECT dataset_id, uuid FROM catalog_dataset_ids ORDER BY dataset_id"))
    finally:
        platform.close()
    assert len(before) == 6  # opening the platform again changes none of them


def test_the_triggers_write_version_4_uuids(platform: Any) -> None:
    def insert(c: Any) -> list[Any]:
        for i in range(200):
            c.insert("datasets", {"name": f"many-{i}", "title": "", "access_level": "open", "created_at": TS, "modified_at": TS})
        return [r[0] for r in c.fetchall("SELECT uuid FROM catalog_dataset_ids")]
    made = platform.db.write_sync(insert)
    assert len(made) == 200 and len(set(made)) == 200 and all(UUID4.match(u) for u in made)
    assert {u[19] for u in made} <= set("89ab")


def test_as_uuid_reads_ascii_only() -> None:
    assert as_uuid("0123ABCD-0000-4000-8000-00000000000F") == "0123abcd-0000-4000-8000-00000000000f"
    for bad in ("", None, 12, "0123abcd-0000-4000-8000-00000000000", "0123abcd_0000-4000-8000-000000000000",
                "٠١٢٣abcd-0000-4000-8000-000000000000", "0123abcd-0000-4000-8000-00000000000g"):
        assert as_uuid(bad) is None, bad


def test_ckanapi_reads_a_package_by_uuid(live_server: Any) -> None:
    ck = ckanapi.RemoteCKAN(live_server.url, apikey=ADMIN_TOKEN)
    org = ck.action.organization_create(name="transport")
    pkg = ck.action.package_create(name="bike-counts", title="Bike counts", owner_org="transport")
    assert UUID4.match(pkg["id"]) and pkg["owner_org"] == org["id"]
    anon = ckanapi.RemoteCKAN(live_server.url)
    shown = anon.action.package_show(id=pkg["id"])
    assert shown["name"] == "bike-counts" and shown["id"] == pkg["id"]
    assert anon.action.organization_show(id=org["id"])["name"] == "transport"
    with pytest.raises(ckanapi.NotFound):
        anon.action.package_show(id="00000000-0000-4000-8000-000000000000")
    ck.action.package_patch(id=pkg["id"], notes="Counted hourly.")
    assert anon.action.package_show(id="bike-counts")["notes"] == "Counted hourly."
