"""A planning project's contributions as open data: the dataset and OGC API Features collection ``planning-<name>``
of the project's organisation, kept in step with every contribution, edit, rating, comment and moderation in the
same transaction; never an author; another organisation's collection of that name is never written; OWSLib reads
it from a running server."""

from __future__ import annotations

from typing import Any

from tests.participation.planning.helpers import ADMIN, PREFIX, contribute, make_project, org, token

ITEMS = "/ogcapi/collections/planning-{}/items"


def _features(client: Any, name: str, **params: str) -> dict[int, dict[str, Any]]:
    r = client.get(ITEMS.format(name), params={"limit": "1000", **params})
    assert r.status_code == 200, r.text
    return {f["id"]: f for f in r.json()["features"]}


def test_contributions_are_an_open_collection_kept_in_step(client: Any) -> None:
    org(client, "plan-od")
    h = token(client, "st-od", "steward", "plan-od")
    anna, ben = token(client, "anna-od"), token(client, "ben-od")
    make_project(client, "od", "plan-od", h, rubrics={"Traffic": ["Cycling", "Parking"]})
    ds = client.get("/api/3/action/package_show", params={"id": "planning-od"}).json()["result"]
    assert ds["organization"]["name"] == "plan-od" and ds["access_level"] == "open"
    assert client.get(ITEMS.format("od")).json()["numberMatched"] == 0
    line = {"type": "LineString", "coordinates": [[9.990, 53.550], [9.995, 53.555]]}
    a = contribute(client, "od", anna, title="Bike lane", category="Traffic", rubric="Cycling", geometry=line)
    b = contribute(client, "od", ben, title="Trees")
    feats = _features(client, "od")
    assert set(feats) == {a["id"], b["id"]}
    props = feats[a["id"]]["properties"]
    assert props["title"] == "Bike lane" and props["category"] == "Traffic" and props["rubric"] == "Cycling"
    assert props["id"] == a["id"] and props["up"] == 0 and props["comments"] == 0
    assert feats[a["id"]]["geometry"]["type"] == "LineString" and feats[b["id"]]["geometry"]["type"] == "Point"
    # ratings and comments follow
    base = f"{PREFIX}/od/contributions/{a['id']}"
    assert client.put(f"{base}/rating", json={"value": 1}, headers=ben).status_code == 200
    assert client.put(f"{base}/rating", json={"value": -1}, headers=anna).status_code == 200
    c1 = client.post(f"{base}/comments", json={"text": "Yes"}, headers=ben).json()["id"]
    one = client.get(f"{ITEMS.format('od')}/{a['id']}")
    assert one.status_code == 200
    assert {k: one.json()["properties"][k] for k in ("up", "down", "comments")} == {"up": 1, "down": 1, "comments": 1}
    # the author's edit follows
    r = client.patch(base, json={"title": "Protected bike lane"}, headers=anna)
    assert r.status_code == 200, r.text
    assert client.get(f"{ITEMS.format('od')}/{a['id']}").json()["properties"]["title"] == "Protected bike lane"
    # filters: bbox and datetime
    assert set(_features(client, "od", bbox="9.989,53.549,9.991,53.551")) == {a["id"]}
    assert _features(client, "od", bbox="9.0,53.0,9.1,53.1") == {}
    assert set(_features(client, "od", datetime="2020-01-01T00:00:00Z/..")) == {a["id"], b["id"]}
    assert _features(client, "od", datetime="../2020-01-01T00:00:00Z") == {}
    # moderation: a hidden comment leaves the count, a hidden contribution leaves the collection (and comes back)
    mod = f"{base}/moderation"
    assert client.post(mod, json={"comment": c1, "reason": "Off topic"}, headers=h).status_code == 200
    assert client.get(f"{ITEMS.format('od')}/{a['id']}").json()["properties"]["comments"] == 0
    assert client.post(mod, json={"reason": "Insulting"}, headers=h).status_code == 200
    assert client.get(f"{ITEMS.format('od')}/{a['id']}").status_code == 404
    assert set(_features(client, "od")) == {b["id"]}
    assert client.get(ITEMS.format("od")).json()["numberMatched"] == 1
    assert client.post(mod, json={"hidden": False}, headers=h).status_code == 200
    assert set(_features(client, "od")) == {a["id"], b["id"]}
    # the project's new title: the dataset's too
    assert client.patch(f"{PREFIX}/od", json={"title": "Old town 2030"}, headers=h).status_code == 200
    ds = client.get("/api/3/action/package_show", params={"id": "planning-od"}).json()["result"]
    assert ds["title"] == "Contributions: Old town 2030"
    # never an author, nor anything that links contributions of one person
    for text in (client.get(ITEMS.format("od")).text, client.get("/download/planning-od.csv").text,
                 client.get("/download/planning-od.geojson").text):
        assert "Contributor" not in text and "author" not in text and "anna" not in text, text[:300]


def test_another_organisations_collection_of_that_name_is_never_written(client: Any, platform: Any) -> None:
    from urbanos.governance import ADMIN as ADMIN_ID
    from urbanos.ports import FeaturesPort

    org(client, "plan-own")
    org(client, "plan-foreign")
    h = token(client, "st-own", "steward", "plan-own")
    foreign_steward = token(client, "st-foreign", "steward", "plan-foreign")
    resident = token(client, "res-own")
    # a collection "planning-taken" in another organisation's dataset
    r = client.post("/api/3/action/package_create", json={"name": "foreign-data", "owner_org": "plan-foreign",
                                                          "license_id": "cc-by"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    foreign = {"type": "Feature", "properties": {"name": "not a contribution"},
               "geometry": {"type": "Point", "coordinates": [9.993, 53.553]}}
    port = platform.require(FeaturesPort)
    platform.db.write_sync(lambda c: port.replace_collection(c, ADMIN_ID, "foreign-data", "planning-taken",
                                                             [foreign]))
    # a dataset "planning-squat" of another organisation (no collection)
    r = client.post("/api/3/action/package_create", json={"name": "planning-squat", "owner_org": "plan-foreign",
                                                          "license_id": "cc-by"}, headers=foreign_steward)
    assert r.status_code == 200, r.text
    for name in ("taken", "squat"):
        make_project(client, name, "plan-own", h)  # its publication is refused (logged), the project works
        k = contribute(client, name, resident)
        assert client.put(f"{PREFIX}/{name}/contributions/{k['id']}/rating", json={"value": 1},
                          headers=resident).status_code == 200
        assert client.post(f"{PREFIX}/{name}/contributions/{k['id']}/moderation", json={"reason": "x"},
                           headers=h).status_code == 200
    assert [f["properties"] for f in _features(client, "taken").values()] == [{"name": "not a contribution"}]
    assert client.get(ITEMS.format("squat")).status_code == 404
    ds = client.get("/api/3/action/package_show", params={"id": "planning-squat"}).json()["result"]
    assert ds["organization"]["name"] == "plan-foreign" and ds["resources"] == []


def test_owslib_reads_a_projects_collection(server_factory: Any, db_url: str) -> None:
    """A real OGC API Features client (OWSLib) reads the contributions of a running server."""
    import httpx
    from owslib.ogcapi.features import Features

    server = server_factory(db_url)
    with httpx.Client(base_url=server.url, timeout=30) as c:
        org(c, "plan-live")
        h = token(c, "st-live", "steward", "plan-live")
        make_project(c, "live", "plan-live", h)
        k = contribute(c, "live", token(c, "res-live"), title="Benches at the water")
    api = Features(server.url + "/ogcapi")
    assert "planning-live" in {col["id"] for col in api.collections()["collections"]}
    items = api.collection_items("planning-live", limit=10)
    assert items["numberMatched"] == 1 and items["features"][0]["properties"]["title"] == "Benches at the water"
    one = api.collection_item("planning-live", str(k["id"]))
    assert one["geometry"]["coordinates"] == [9.993, 53.553] and "Contributor" not in str(one)


def test_a_closed_dataset_of_the_projects_name_is_never_opened(client: Any) -> None:
    """The project's organisation holds an internal dataset named like the project's collection: the publication is
    refused (logged) rather than opening it with what else it holds; the project works."""
    org(client, "plan-closed")
    h = token(client, "st-closed", "steward", "plan-closed")
    r = client.post("/api/3/action/package_create", json={"name": "planning-inner", "owner_org": "plan-closed",
                                                          "access_level": "internal", "license_id": "cc-by",
                                                          "grounds": ["third-party-rights"]}, headers=ADMIN)
    assert r.status_code == 200, r.text
    make_project(client, "inner", "plan-closed", h)
    contribute(client, "inner", token(client, "res-closed"))
    ds = client.get("/api/3/action/package_show", params={"id": "planning-inner"}, headers=ADMIN).json()["result"]
    assert ds["access_level"] == "internal" and ds["resources"] == []
    assert client.get(ITEMS.format("inner"), headers=ADMIN).status_code == 404
