"""Every write to feature collections and DataStore tables checks the organisation that owns the rows it touches:
OGC API Features Part 4, the DataStore actions, uploads (CKAN and portal) and the resource's ``collection`` field.
Tables are named by the collection's registry id, so two names never share one; ids in paths are ASCII digits."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from shapely.geometry import Point

from tests.conftest import ADMIN_TOKEN, api_token
from urbanos.core.time import now_stored
from urbanos.features import store
from urbanos.features.datastore import read_import

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FIELDS = [{"name": "name", "type": "string"}, {"name": "n", "type": "integer"}]
FEATURE = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.0, 53.5]}, "properties": {"name": "new", "n": 7}}
CSV = b"name,n,lat,lon\nuploaded,1,53.5,10.0\nuploaded,2,53.6,10.1\n"
WHO = ("owner", "other", "global", "reader", "anonymous")


@dataclass
class World:
    client: Any
    platform: Any
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    resources: dict[str, str] = field(default_factory=dict)

    def ckan(self, action: str, who: str = "admin", files: Any = None, **data: Any) -> Any:
        h = ADMIN if who == "admin" else self.headers[who]
        if files is not None:
            return self.client.post(f"/api/3/action/{action}", data=data, files=files, headers=h)
        return self.client.post(f"/api/3/action/{action}", json=data, headers=h)

    def snapshot(self, name: str) -> Any:
        """The registry record, every row and the catalogue rows that name the collection."""
        def read(c: Any) -> Any:
            meta = store.get_collection(c, name)
            if meta is None:
                return None
            rows = [(r.fid, r.properties, r.geometry.wkt if r.geometry is not None else None)
                    for r in store.iter_features(c, meta)]
            res = c.fetchall("SELECT id, dataset_id, collection, datastore_active, url, last_modified FROM catalog_resources"
                             " ORDER BY id")
            return (meta.table_name, meta.version, meta.item_count, meta.dataset_id, meta.updated_at), rows, res

        return self.platform.db.read_sync(read)


def _rows(prefix: str) -> list[tuple[dict[str, Any], Any]]:
    return [({"name": f"{prefix} {i}", "n": i}, Point(10 + i / 100, 53.5)) for i in range(1, 4)]


def _ok(r: Any) -> Any:
    assert r.status_code == 200, r.text
    return r.json()["result"]


def _dataset_id(platform: Any, name: str) -> int:
    return int(platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = ?", (name,))))


@pytest.fixture
def world(client: Any, platform: Any) -> World:
    w = World(client, platform)
    for org in ("org-a", "org-b"):
        _ok(w.ckan("organization_create", name=org))
    _ok(w.ckan("package_create", name="ds-a", owner_org="org-a"))
    _ok(w.ckan("package_create", name="ds-b", owner_org="org-b"))
    _ok(w.ckan("package_create", name="ds-hidden", owner_org="org-a", access_level="internal", grounds=["security"]))
    for name, ds in (("col-a", "ds-a"), ("col-b", "ds-b"), ("col-hidden", "ds-hidden"), ("col-free", None)):
        ds_id = _dataset_id(platform, ds) if ds else None
        platform.db.write_sync(lambda c, n=name, d=ds_id: store.replace_collection(c, n, FIELDS, _rows(n), dataset_id=d))
    for key, ds, col in (("a", "ds-a", "col-a"), ("b", "ds-b", "col-b"), ("hidden", "ds-hidden", "col-hidden")):
        w.resources[key] = _ok(w.ckan("resource_create", package_id=ds, name=key, url=f"https://example.org/{key}.csv",
                                      collection=col, datastore_active=True))["id"]
    w.headers = {
        "owner": {"Authorization": f"Bearer {api_token(client, 'owner', 'publisher', 'org-a')}"},
        "other": {"Authorization": f"Bearer {api_token(client, 'other', 'publisher', 'org-b')}"},
        "global": {"Authorization": f"Bearer {api_token(client, 'global', 'publisher')}"},
        "reader": {"Authorization": f"Bearer {api_token(client, 'reader', 'reader')}"},
        "anonymous": {},
    }
    return w


def _wait_import(w: World, rid: str, since: str | None) -> dict[str, Any]:
    """The import of ``rid`` that finished after ``since`` (polls: uploads import in the background)."""
    deadline = time.monotonic() + 60
    while True:
        got = w.platform.db.read_sync(lambda c: read_import(c, rid))
        if got is not None and got["status"] != "running" and (since is None or (got["finished_at"] or "") > since):
            return dict(got)
        assert time.monotonic() < deadline, got
        time.sleep(0.1)


def _import_mark(w: World, rid: str) -> str | None:
    got = w.platform.db.read_sync(lambda c: read_import(c, rid))
    return None if got is None else got["finished_at"]


# -- each write path × each kind of caller ----------------------------------------------------------------------

def _ogc(method: str, path: str, body: Any = None) -> Callable[[World, dict[str, str]], Any]:
    def go(w: World, h: dict[str, str]) -> Any:
        return w.client.request(method, f"/ogcapi/collections/col-a{path}", json=body,
                                headers={**h, "Content-Type": "application/geo+json"} if body is not None else h)
    return go


def _ds(action: str, **data: Any) -> Callable[[World, dict[str, str]], Any]:
    def go(w: World, h: dict[str, str]) -> Any:
        body = {k: (w.resources["a"] if v == "<rid>" else v) for k, v in data.items()}
        return w.client.post(f"/api/3/action/{action}", json=body, headers=h)
    return go


def _upload(w: World, h: dict[str, str]) -> Any:
    return w.client.post("/api/3/action/resource_patch", data={"id": w.resources["a"], "format": "CSV"},
                         files={"upload": ("a.csv", CSV, "text/csv")}, headers=h)


WRITES: dict[str, tuple[Callable[[World, dict[str, str]], Any], int]] = {
    "ogc POST items": (_ogc("POST", "/items", FEATURE), 201),
    "ogc PUT item": (_ogc("PUT", "/items/1", FEATURE), 204),
    "ogc PATCH item": (_ogc("PATCH", "/items/1", {"properties": {"n": 70}}), 204),
    "ogc DELETE item": (_ogc("DELETE", "/items/1"), 204),
    "datastore_create": (_ds("datastore_create", resource_id="<rid>", records=[{"name": "z", "n": 9}]), 200),
    "datastore_upsert": (_ds("datastore_upsert", resource_id="<rid>", method="insert", records=[{"name": "z", "n": 9}]), 200),
    "datastore_upsert by name": (_ds("datastore_upsert", resource_id="col-a", method="insert", records=[{"name": "z"}]), 200),
    "datastore_upsert update": (_ds("datastore_upsert", resource_id="<rid>", method="update",
                                    records=[{"_id": 1, "name": "changed"}]), 200),
    "datastore_delete rows": (_ds("datastore_delete", resource_id="<rid>", filters={"n": 1}), 200),
    "datastore_delete table": (_ds("datastore_delete", resource_id="<rid>"), 200),
    "upload replaces": (_upload, 200),
}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("path", list(WRITES))
def test_write_paths_check_the_owning_organisation(world: World, path: str, who: str) -> None:
    action, success = WRITES[path]
    before = world.snapshot("col-a")
    mark = _import_mark(world, world.resources["a"])
    r = action(world, world.headers[who])
    if who in ("owner", "global"):
        assert r.status_code == success, r.text
        if path == "upload replaces":
            done = _wait_import(world, world.resources["a"], mark)
            assert done["status"] == "done", done
            assert [p["name"] for _, p, _ in world.snapshot("col-a")[1]] == ["uploaded", "uploaded"]
        else:
            assert world.snapshot("col-a") != before
        return
    ckan = not path.startswith("ogc")
    expected = {"other": 403, "reader": 403, "anonymous": 403 if ckan else 401}[who]
    assert r.status_code == expected, r.text
    if ckan:
        assert r.json()["error"]["__type"] == "Authorization Error"
    else:
        assert r.json()["code"] == ("Unauthorized" if who == "anonymous" else "Forbidden")
    if who == "anonymous":
        assert "bearer token" in r.text
    assert world.snapshot("col-a") == before


def test_a_collection_without_dataset_needs_a_publisher_without_organisation(world: World) -> None:
    before = world.snapshot("col-free")
    for who in ("owner", "other"):
        r = world.client.post("/ogcapi/collections/col-free/items", json=FEATURE, headers=world.headers[who])
        assert r.status_code == 403 and "whole platform" in r.json()["description"], r.text
        r = world.ckan("datastore_upsert", who, resource_id="col-free", method="insert", records=[{"name": "z"}])
        assert r.status_code == 403, r.text
        r = world.ckan("datastore_delete", who, resource_id="col-free")
        assert r.status_code == 403, r.text
    assert world.snapshot("col-free") == before
    assert world.client.post("/ogcapi/collections/col-free/items", json=FEATURE, headers=world.headers["global"]).status_code == 201
    _ok(world.ckan("datastore_upsert", "global", resource_id="col-free", method="insert", records=[{"name": "z"}]))
    assert world.snapshot("col-free")[0][2] == 5


def test_a_target_the_caller_cannot_see_is_a_404_like_a_missing_one(world: World) -> None:
    before = world.snapshot("col-hidden")
    h = world.headers["other"]
    for method, suffix in (("POST", "/items"), ("PUT", "/items/1"), ("PATCH", "/items/1"), ("DELETE", "/items/1")):
        body = FEATURE if method != "DELETE" else None
        hidden = world.client.request(method, f"/ogcapi/collections/col-hidden{suffix}", json=body, headers=h)
        missing = world.client.request(method, f"/ogcapi/collections/col-nothing{suffix}", json=body, headers=h)
        assert hidden.status_code == missing.status_code == 404, (hidden.text, missing.text)
        assert hidden.json()["description"].replace("col-hidden", "X") == missing.json()["description"].replace("col-nothing", "X")
    for action, data in (("datastore_create", {"records": [{"name": "z"}]}), ("datastore_upsert", {"records": [{"name": "z"}], "method": "insert"}),
                         ("datastore_delete", {})):
        for rid in (world.resources["hidden"], "col-hidden"):
            hidden = world.ckan(action, "other", resource_id=rid, **data)
            missing = world.ckan(action, "other", resource_id="no-such-resource", **data)
            assert hidden.status_code == missing.status_code == 404, (hidden.text, missing.text)
            assert (hidden.json()["error"]["message"].replace(rid, "X")
                    == missing.json()["error"]["message"].replace("no-such-resource", "X"))
    assert world.snapshot("col-hidden") == before
    # the owner's publisher sees it and may write
    assert world.client.post("/ogcapi/collections/col-hidden/items", json=FEATURE, headers=world.headers["owner"]).status_code == 201


def test_a_resource_bound_to_another_datasets_collection_needs_both(world: World) -> None:
    """A resource of org B pointing at org A's collection (as older versions let anyone set): DataStore writes
    through it need the publisher role for both organisations."""
    rid = world.resources["b"]
    world.platform.db.write_sync(lambda c: c.execute("UPDATE catalog_resources SET collection = 'col-a' WHERE id = ?", (rid,)))
    before = world.snapshot("col-a")
    for who in ("owner", "other"):
        r = world.ckan("datastore_upsert", who, resource_id=rid, method="insert", records=[{"name": "z"}])
        assert r.status_code == 403, r.text
        r = world.ckan("datastore_delete", who, resource_id=rid)
        assert r.status_code == 403, r.text
    assert world.snapshot("col-a") == before
    _ok(world.ckan("datastore_upsert", "global", resource_id=rid, method="insert", records=[{"name": "z"}]))


# -- the resource's collection field --------------------------------------------------------------------------

def test_a_resource_may_not_name_a_collection_of_another_organisation(world: World) -> None:
    before = world.snapshot("col-a")
    rid_b = world.resources["b"]
    shown = _ok(world.ckan("resource_show", id=rid_b))
    for r in (
        world.ckan("resource_patch", "other", id=rid_b, collection="col-a"),
        world.ckan("resource_update", "other", id=rid_b, url="https://example.org/b.csv", collection="col-a"),
        world.ckan("resource_create", "other", package_id="ds-b", url="https://example.org/c.csv", collection="col-a"),
        world.ckan("resource_create", "other", package_id="ds-b", url="https://example.org/c.csv", collection="col-free"),
        world.ckan("resource_create", "other", package_id="ds-b", url="https://example.org/c.csv", collection="col-hidden"),
        world.ckan("package_patch", "other", id="ds-b", resources=[{**shown, "collection": "col-a"}]),
        world.ckan("resource_create", "other", package_id="ds-b", url="https://example.org/c.csv", files={"upload": ("x.csv", CSV)},
                   collection="col-a"),
    ):
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert err["__type"] == "Validation Error" and "collection" in err and "leave collection empty" in r.text
    assert world.snapshot("col-a") == before
    assert _ok(world.ckan("resource_show", id=rid_b))["collection"] == "col-b"
    assert len(_ok(world.ckan("package_show", id="ds-b"))["resources"]) == 1
    # a new name, a collection of the resource's own dataset, and (for a publisher of both) another one are fine
    assert _ok(world.ckan("resource_patch", "other", id=rid_b, collection="col-new"))["collection"] == "col-new"
    assert _ok(world.ckan("resource_patch", "other", id=rid_b, collection="col-b"))["collection"] == "col-b"
    assert _ok(world.ckan("resource_patch", "global", id=rid_b, collection="col-a"))["collection"] == "col-a"
    # an unrelated change to a resource whose name was set before stays possible
    assert _ok(world.ckan("resource_patch", "other", id=rid_b, description="still fine"))["description"] == "still fine"


def test_an_upload_does_not_replace_a_collection_named_before_it_existed(world: World) -> None:
    """Org B names a collection that does not exist yet; org A then creates it; B's next upload must not replace it."""
    rid_b = world.resources["b"]
    _ok(world.ckan("resource_patch", "other", id=rid_b, collection="later"))
    ds_a = _dataset_id(world.platform, "ds-a")
    world.platform.db.write_sync(lambda c: store.replace_collection(c, "later", FIELDS, _rows("org a"), dataset_id=ds_a))
    before = world.snapshot("later")
    r = world.ckan("resource_patch", "other", files={"upload": ("b.csv", CSV, "text/csv")}, id=rid_b, format="CSV")
    assert r.status_code == 200, r.text
    got = _wait_import(world, rid_b, None)
    assert got["status"] == "failed" and "may not publish" in got["failure"] and "Fix:" in got["failure"], got
    assert world.snapshot("later")[:2] == before[:2]
    # the owner's own upload to a resource of its dataset does replace its collection
    rid = _ok(world.ckan("resource_create", "owner", package_id="ds-a", url="https://example.org/l.csv", collection="later"))["id"]
    r = world.ckan("resource_patch", "owner", files={"upload": ("l.csv", CSV, "text/csv")}, id=rid, format="CSV")
    assert r.status_code == 200, r.text
    assert _wait_import(world, rid, None)["status"] == "done"
    assert [p["name"] for _, p, _ in world.snapshot("later")[1]] == ["uploaded", "uploaded"]


def _csrf(client: Any, path: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert m
    return m.group(1)


@pytest.mark.parametrize("who", ["owner", "other", "global", "reader"])
def test_portal_upload_checks_the_owning_organisation(world: World, who: str) -> None:
    token = world.headers[who]["Authorization"].removeprefix("Bearer ")
    c = world.client
    assert c.post("/signin", data={"csrf": _csrf(c, "/signin"), "token": token}, follow_redirects=False).status_code == 303
    before = [world.snapshot(n) for n in ("col-a", "col-b")]
    resources = len(_ok(world.ckan("package_show", id="ds-a"))["resources"])
    r = c.post("/datasets/ds-a/upload", data={"csrf": _csrf(c, "/datasets/ds-a")}, files={"file": ("p.csv", CSV, "text/csv")},
               follow_redirects=False)
    if who in ("owner", "global"):
        assert r.status_code == 303, r.text
        rid = r.headers["location"].split("imported=")[1]
        assert _wait_import(world, rid, None)["status"] == "done"
        # a collection of its own: the others are as they were
        assert [world.snapshot(n)[:2] for n in ("col-a", "col-b")] == [b[:2] for b in before]
        assert len(_ok(world.ckan("package_show", id="ds-a"))["resources"]) == resources + 1
        return
    assert r.status_code == 403, r.text
    assert len(_ok(world.ckan("package_show", id="ds-a"))["resources"]) == resources
    assert [world.snapshot(n) for n in ("col-a", "col-b")] == before


# -- table names ------------------------------------------------------------------------------------------------

def test_table_names_never_collide(platform: Any) -> None:
    long = "x" * 45
    names = ["air_quality", "air-quality", "Air.Quality", f"{long}-one", f"{long}-two", "7", "c"]
    for i, name in enumerate(names):
        platform.db.write_sync(lambda c, n=name, i=i: store.replace_collection(c, n, FIELDS, [({"name": n, "n": i}, None)]))
    # replacing one collection never touches another
    platform.db.write_sync(lambda c: store.replace_collection(c, "air-quality", FIELDS, [({"name": "again", "n": 0}, None)]))

    def read(c: Any) -> Any:
        metas = [store.get_collection(c, n) for n in names]
        return [(m.table_name, [r.properties["name"] for r in store.iter_features(c, m)]) for m in metas if m is not None]

    got = platform.db.read_sync(read)
    tables = [t for t, _ in got]
    assert len(set(tables)) == len(names) and all(re.fullmatch(r"fc[0-9]+_v[0-9]+", t) for t in tables), tables
    assert [rows for _, rows in got] == [[n] if n != "air-quality" else ["again"] for n in names]


@pytest.mark.empty_db  # migrates step by step from an empty database
def test_tables_made_before_ids_keep_their_names_until_replaced(make_settings: Any) -> None:
    """The migration gives every collection an id; its current table keeps its old name, the next version is new."""
    from urbanos.governance.migrations import MIGRATIONS as GOVERNANCE
    from urbanos.storage import open_database, upgrade

    db = open_database(make_settings())
    db.open()
    try:
        upgrade(db, GOVERNANCE + store.MIGRATIONS[:2])

        def legacy(c: Any) -> None:
            for name, table in (("air_quality", "fc_air_quality_v1"), ("7", "fc_7_v1")):
                c.execute(f"CREATE TABLE {table} (fid INTEGER PRIMARY KEY, c0 TEXT)")
                c.execute(f"INSERT INTO {table} (fid, c0) VALUES (1, ?)", (f"legacy {name}",))
                c.execute(f"INSERT INTO {store.REGISTRY} (name, fields, table_name, version, updated_at, item_count)"
                          " VALUES (?, ?, ?, 1, ?, 1)", (name, c.dialect.json_param([{"name": "name", "type": "string",
                                                                                   "column": "c0"}]), table, now_stored()))

        db.write_sync(legacy)
        upgrade(db, GOVERNANCE + store.MIGRATIONS)

        def state(c: Any) -> Any:
            metas = [store.get_collection(c, n) for n in ("air_quality", "7")]
            return [(m.id, m.table_name, [r.properties["name"] for r in store.query(c, m, geometry=False)]) for m in metas if m]

        (id1, t1, rows1), (id2, t2, rows2) = db.read_sync(state)
        assert (t1, rows1, t2, rows2) == ("fc_air_quality_v1", ["legacy air_quality"], "fc_7_v1", ["legacy 7"])
        assert id1 is not None and id2 is not None and id1 != id2
        db.write_sync(lambda c: store.replace_collection(c, "7", FIELDS, [({"name": "new 7", "n": 1}, None)]))
        (_, t1, rows1), (id2b, t2, rows2) = db.read_sync(state)
        assert (t1, rows1) == ("fc_air_quality_v1", ["legacy air_quality"])
        assert id2b == id2 and t2 == f"fc{id2}_v2" and rows2 == ["new 7"]
        assert db.read_sync(lambda c: c.table_exists("fc_7_v1")) is False
    finally:
        db.close()


# -- ids read from paths and queries ----------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("fid", ["%C2%B2", "%D9%A1", "1%C2%B2", "%EF%BC%91"])
def test_non_ascii_feature_ids_are_unknown(world: World, method: str, fid: str) -> None:
    body = FEATURE if method in ("PUT", "PATCH") else None
    for accept in ("application/geo+json", "text/html"):
        r = world.client.request(method, f"/ogcapi/collections/col-a/items/{fid}", json=body,
                                 headers={**world.headers["owner"], "Accept": accept})
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "NotFound"
    assert world.snapshot("col-a")[0][2] == 3


@pytest.mark.parametrize("value", ["%C2%B2", "%D9%A1", "-1", "1.5"])
def test_non_ascii_after_is_a_400(world: World, value: str) -> None:
    r = world.client.get(f"/ogcapi/collections/col-a/items?after={value}")
    assert r.status_code == 400 and r.json()["code"] == "InvalidParameterValue", r.text


def test_non_ascii_ids_in_the_datastore(world: World) -> None:
    for rid in ("²", "١", "%C2%B2"):
        r = world.client.get(f"/api/3/action/datastore_search?resource_id={rid}")
        assert r.status_code == 404 and r.json()["error"]["__type"] == "Not Found Error", r.text
        r = world.ckan("datastore_upsert", "owner", resource_id=rid, records=[{"name": "z"}])
        assert r.status_code == 404, r.text
    for bad in ("²", "١", "1²"):
        r = world.ckan("datastore_search", resource_id=world.resources["a"], filters={"_id": bad})
        assert r.status_code == 409 and "filters" in r.json()["error"], r.text
        r = world.ckan("datastore_upsert", "owner", resource_id=world.resources["a"], method="update",
                       records=[{"_id": bad, "name": "z"}])
        assert r.status_code == 409 and "records" in r.json()["error"], r.text
        r = world.ckan("datastore_search", resource_id=world.resources["a"], limit=bad)
        assert r.status_code == 409 and "limit" in r.json()["error"], r.text
    got = _ok(world.ckan("datastore_search", resource_id=world.resources["a"], filters={"_id": "2"}))
    assert [rec["name"] for rec in got["records"]] == ["col-a 2"]
    assert world.snapshot("col-a")[0][2] == 3


@pytest.mark.live
def test_ckanapi_client_cannot_take_over_another_organisations_table(live_server: Any) -> None:
    import io

    import ckanapi

    admin = ckanapi.RemoteCKAN(live_server.url, apikey=ADMIN_TOKEN)
    for org in ("org-a", "org-b"):
        admin.action.organization_create(name=org)
    admin.action.package_create(name="ds-a", owner_org="org-a")
    admin.action.package_create(name="ds-b", owner_org="org-b")
    owner = ckanapi.RemoteCKAN(live_server.url, apikey=api_token(live_server.url, "owner", "publisher", "org-a"))
    other = ckanapi.RemoteCKAN(live_server.url, apikey=api_token(live_server.url, "other", "publisher", "org-b"))
    rid = owner.action.resource_create(package_id="ds-a", name="a", upload=("a.csv", io.BytesIO(CSV)))["id"]
    deadline = time.monotonic() + 60
    while not owner.action.resource_show(id=rid).get("collection"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    table = owner.action.resource_show(id=rid)["collection"]

    with pytest.raises(ckanapi.ValidationError) as exc:
        other.action.resource_create(package_id="ds-b", name="b", url="https://example.org/b.csv", collection=table)
    assert "collection" in exc.value.error_dict
    mine = other.action.resource_create(package_id="ds-b", name="b", url="https://example.org/b.csv")["id"]
    with pytest.raises(ckanapi.ValidationError):
        other.action.resource_patch(id=mine, collection=table)
    for action, data in (("datastore_upsert", {"method": "insert", "records": [{"name": "x"}]}), ("datastore_delete", {}),
                         ("datastore_create", {"records": [{"name": "x"}]})):
        for target in (rid, table):
            with pytest.raises(ckanapi.NotAuthorized):
                other.call_action(action, {"resource_id": target, **data})
    found = admin.action.datastore_search(resource_id=rid)
    assert found["total"] == 2 and [r["name"] for r in found["records"]] == ["uploaded", "uploaded"]
    assert other.action.resource_show(id=mine)["collection"] is None
