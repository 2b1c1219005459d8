"""The ``ogcapi`` connector: an OGC API Features collection of a second live urbanos server mirrored into a local
collection (full: replaced atomically when anything changed; incremental by a last-modified property through
``datetime`` or a CQL2 filter), and bad remotes that fail the run and write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from shapely.geometry import Point

from tests.conftest import ADMIN_TOKEN, fresh_db_url, settings_for, start_server
from tests.connectors.feeds import Files
from tests.connectors.helpers import ADMIN, add, counts, dataset, run
from tests.features.places import add_dataset
from tests.local_http import Server

H = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FIELDS = [{"name": "name", "type": "string"}, {"name": "modified", "type": "datetime"}]


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second ``urbanos serve`` whose open collection ``trees`` has 25 points, ``modified`` its time field; the
    OGC API root."""
    from urbanos.features import store
    from urbanos.platform import Platform
    from urbanos.plugins import load_components

    folder = tmp_path_factory.mktemp("ogc-remote")
    with fresh_db_url(folder) as url:
        platform = Platform.build(settings_for(folder / "prep", url), load_components())
        platform.open()
        try:
            ds = add_dataset(platform, "trees", "open", None)
            rows = [({"name": f"tree {i}", "modified": f"2025-01-01T00:00:{i:02d}Z"}, Point(9.9 + i / 1000, 53.5))
                    for i in range(25)]
            platform.db.write_sync(lambda c: store.replace_collection(c, "trees", FIELDS, rows, time_field="modified",
                                                                      dataset_id=ds, title="Trees"))
        finally:
            platform.close()
        server = start_server(folder / "srv", url)
        try:
            yield f"{server.url}/ogcapi"
        finally:
            server.stop()


def local_features(client: Any, collection: str) -> dict[str, dict[str, Any]]:
    r = client.get(f"/ogcapi/collections/{collection}/items?limit=1000")
    assert r.status_code == 200, r.text
    return {f["properties"]["name"]: f for f in r.json()["features"]}


def remote_id(root: str, name: str) -> Any:
    got = httpx.get(f"{root}/collections/trees/items", params={"limit": 1000}, timeout=30).json()["features"]
    return next(f["id"] for f in got if f["properties"]["name"] == name)


def patch(root: str, name: str, props: dict[str, Any]) -> None:
    fid = remote_id(root, name)
    r = httpx.patch(f"{root}/collections/trees/items/{fid}", json={"properties": props}, timeout=30,
                    headers={**H, "Content-Type": "application/merge-patch+json"})
    assert r.status_code in (200, 204), r.text


def test_full_mirror_replaces_only_on_change(cclient: Any, cplatform: Any, remote: str) -> None:
    dataset(cplatform, "trees-full")
    assert add(cclient, ADMIN, name="ogc-full", type="ogcapi", url=f"{remote}/collections/trees", dataset="trees-full",
               mapping={"collection": "trees-full", "page_size": 10}).status_code == 201
    assert counts(run(cclient, "ogc-full")) == (25, 0, 0, 0)
    got = local_features(cclient, "trees-full")
    assert len(got) == 25 and got["tree 3"]["geometry"]["coordinates"] == [9.903, 53.5]
    assert counts(run(cclient, "ogc-full")) == (0, 0, 25, 0)
    patch(remote, "tree 24", {"name": "tree 24b"})
    fid = remote_id(remote, "tree 23")
    assert httpx.delete(f"{remote}/collections/trees/items/{fid}", headers=H, timeout=30).status_code == 204
    assert counts(run(cclient, "ogc-full")) == (0, 1, 23, 0)  # the same id: an update
    got = local_features(cclient, "trees-full")
    assert len(got) == 24 and "tree 24b" in got and "tree 23" not in got


@pytest.mark.parametrize("by", ["datetime", "filter"])
def test_incremental_mirror_asks_only_for_changes(cclient: Any, cplatform: Any, remote: str, by: str) -> None:
    name = f"trees-{by}"
    dataset(cplatform, name)
    assert add(cclient, ADMIN, name=f"ogc-{by}", type="ogcapi", url=f"{remote}/collections/trees/items",
               dataset=name, mapping={"collection": name, "modified": "modified", "by": by}).status_code == 201
    first = run(cclient, f"ogc-{by}")
    assert first["created"] >= 23 and first["failed"] == 0, first
    n = first["created"]
    again = run(cclient, f"ogc-{by}")
    assert again["created"] == again["updated"] == 0 and again["unchanged"] <= 2, again  # only those at the mark
    stamp = "2025-02-01T00:00:00Z" if by == "datetime" else "2025-03-01T00:00:00Z"
    tree = "tree 5" if by == "datetime" else "tree 6"
    patch(remote, tree, {"modified": stamp, "name": f"{tree} {by}"})
    third = run(cclient, f"ogc-{by}")
    assert (third["created"], third["updated"]) == (0, 1) and third["unchanged"] <= 2, third
    got = local_features(cclient, name)
    assert len(got) == n and f"{tree} {by}" in got and tree not in got


@pytest.mark.parametrize(("case", "reason"), [
    ("malformed", "not valid JSON"),
    ("not-features", "features is not a list"),
    ("too-many", "more than 3 features"),
    ("elsewhere", "leaves the server"),
    ("too-large", "connectors_max_bytes"),
    ("slow", "no answer within the time allowed"),
])
def test_bad_remote_fails_and_writes_nothing(cclient: Any, cplatform: Any, feed: Server, files: Files, case: str,
                                            reason: str) -> None:
    name = f"ogc-bad-{case}"
    dataset(cplatform, name)
    feats = [{"type": "Feature", "id": i, "properties": {}, "geometry": {"type": "Point", "coordinates": [9, 53]}}
             for i in range(5)]
    files.values["/c/items"] = {
        "malformed": b"{\"type\": \"FeatureCollection\", \"features\": [{", "not-features": {"features": 3},
        "too-many": {"type": "FeatureCollection", "features": feats},
        "elsewhere": {"type": "FeatureCollection", "features": feats[:1],
                      "links": [{"rel": "next", "href": "http://127.0.0.2:9/c/items?offset=1"}]},
        "too-large": {"type": "FeatureCollection", "features": [
            {**f, "properties": {"text": "x" * 1000}} for f in feats * 300]},
        "slow": {"type": "FeatureCollection", "features": feats[:1]},
    }[case]
    if case == "slow":
        files.delay["/c/items"] = 2.5
    assert add(cclient, ADMIN, name=name, type="ogcapi", url=f"{feed.url}/c", dataset=name,
               mapping={"collection": name, "max_features": 3}).status_code == 201
    result = run(cclient, name)
    assert result["status"] == "failed" and reason in result["errors"][0], result
    assert cclient.get(f"/ogcapi/collections/{name}").status_code == 404


def test_features_without_id_or_geometry_are_counted(cclient: Any, cplatform: Any, feed: Server, files: Files) -> None:
    dataset(cplatform, "ogc-partial")
    files.values["/p/items"] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a", "properties": {"x": 1}, "geometry": {"type": "Point", "coordinates": [9, 53]}},
        {"type": "Feature", "properties": {"x": 2}, "geometry": None},
        {"type": "Feature", "id": "c", "properties": {"x": 3}, "geometry": {"type": "Point", "coordinates": "no"}}]}
    assert add(cclient, ADMIN, name="ogc-partial", type="ogcapi", url=f"{feed.url}/p/items",
               dataset="ogc-partial", mapping={"collection": "ogc-partial"}).status_code == 201
    result = run(cclient, "ogc-partial")
    assert result["status"] == "partial" and counts(result) == (1, 0, 0, 2), result


@pytest.mark.parametrize(("url", "reason"), [("http://192.168.1.1/ogcapi/collections/x", "not a public address"),
                                           ("http://127.0.0.1:9/ogcapi/collections/x", "cannot fetch")])
def test_forbidden_or_unreachable_address(cclient: Any, cplatform: Any, url: str, reason: str) -> None:
    name = f"ogc-addr-{url.split('//')[1].split('/')[0].replace('.', '-').replace(':', '-')}"
    dataset(cplatform, name)
    assert add(cclient, ADMIN, name=name, type="ogcapi", url=url, dataset=name).status_code == 201
    result = run(cclient, name)
    assert result["status"] == "failed" and reason in result["errors"][0], result
