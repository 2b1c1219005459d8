"""Harvested copies get UUIDs of their own: two live instances that harvest each other end with distinct ids, each
copy keeps its source's UUID in ``harvest_remote_id``, and a source whose ids change (an urbanos source that moved
from integer ids to UUIDs) does not make the harvester withdraw the copies it still lists."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.catalog_harvest.harvest_helpers import ADMIN, InProcess, action
from tests.conftest import settings_for
from tests.local_http import serve
from urbanos.catalog.harvest import runner, store
from urbanos.governance import ADMIN as ADMIN_IDENTITY
from urbanos.platform import Platform
from urbanos.plugins import load_components

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _seed(url: str, org: str, names: list[str]) -> None:
    assert action(url, "organization_create", {"name": org, "title": org.title()}).status_code == 200
    for n in names:
        r = action(url, "package_create", {"name": n, "title": n.replace("-", " "), "owner_org": org,
                                           "resources": [{"name": "CSV", "url": f"http://example.org/{n}.csv", "format": "CSV"}]})
        assert r.status_code == 200, r.text


def _packages(url: str) -> dict[str, dict[str, Any]]:
    r = action(url, "package_search?rows=1000", headers=ADMIN)
    assert r.status_code == 200, r.text
    return {p["name"]: p for p in r.json()["result"]["results"]}


def _extra(pkg: dict[str, Any], key: str) -> Any:
    return next((e["value"] for e in pkg["extras"] if e["key"] == key), None)


def test_two_instances_that_harvest_each_other_keep_distinct_uuids(db_url: str, second_db: str,
                                                                  server_factory: Callable[..., Any],
                                                                  tmp_path: Path) -> None:
    north, south = server_factory(db_url), server_factory(second_db)
    _seed(north.url, "north", ["north-trees", "north-lamps"])
    _seed(south.url, "south", ["south-trees"])
    at_north = InProcess(settings_for(tmp_path / "n", db_url, harvest_timeout=10.0, harvest_retry_seconds=3600.0))
    at_south = InProcess(settings_for(tmp_path / "s", second_db, harvest_timeout=10.0, harvest_retry_seconds=3600.0))
    at_north.add("south", "ckan", south.url)
    at_south.add("north", "ckan", north.url)
    [first_n] = at_north.run("south")
    [first_s] = at_south.run("north")
    assert first_n["created"] == 1 and first_n["failed"] == 0, first_n
    # the north lists its copy of south-trees too: the south's own dataset of that name stays, and is not replaced
    assert first_s["created"] == 2 and first_s["failed"] == 1 and "south-trees" in first_s["message"], first_s

    n, s = _packages(north.url), _packages(south.url)
    assert set(n) == {"north-trees", "north-lamps", "south-trees"} and set(s) == set(n)
    every = [p["id"] for p in n.values()] + [p["id"] for p in s.values()]
    assert all(UUID4.match(i) for i in every) and len(set(every)) == 6, every
    for name in ("north-trees", "north-lamps"):  # the south's copies of the north's datasets
        assert s[name]["id"] != n[name]["id"] and _extra(s[name], "harvest_remote_id") == n[name]["id"]
        assert _extra(n[name], "harvest_remote_id") is None
    assert _extra(n["south-trees"], "harvest_remote_id") == s["south-trees"]["id"]
    assert _extra(s["south-trees"], "harvest_source") is None  # the south's own dataset, untouched
    # organisations too: the copy of "north" made at the south has its own UUID
    assert n["north-trees"]["owner_org"] != s["north-trees"]["owner_org"]
    assert s["north-trees"]["organization"]["name"] == "north"

    [again_n] = at_north.run("south")
    assert again_n["unchanged"] == 1 and again_n["created"] == again_n["deleted"] == 0, again_n
    assert {k: p["id"] for k, p in _packages(north.url).items()} == {k: p["id"] for k, p in n.items()}
    shown = action(south.url, f"package_show?id={s['north-lamps']['id']}").json()["result"]
    assert shown["name"] == "north-lamps" and shown["id"] == s["north-lamps"]["id"]


def _envelope(ids: dict[str, str]) -> bytes:
    results = [{"id": rid, "name": n, "title": n.title(), "organization": {"name": "orga", "title": "Organisation A"},
                "resources": [{"name": "CSV", "url": f"https://example.org/{n}.csv", "format": "CSV"}]}
               for n, rid in ids.items()]
    return json.dumps({"success": True, "result": {"count": len(results), "results": results}}).encode()


def test_a_source_whose_ids_change_keeps_its_copies(make_settings: Callable[..., Any]) -> None:
    platform = Platform.build(make_settings(harvest_timeout=10.0, outbound_allow="127.0.0.1"), load_components())
    platform.open()
    try:
        async def run(url: str) -> dict[str, Any]:  # the source as registered, answering at ``url`` now
            [src] = await store.sources(platform.db, "partner")
            return await runner.run_source(platform, {**src, "url": url})

        svc = platform.services["catalog"]
        old = {"oaks": "1", "limes": "2"}
        new = {"oaks": "8f14e45f-ceea-467a-9af5-8f5b5d0b1c01", "limes": "c9f0f895-fb98-4b91-a0e4-1a5f2cba0e02"}
        with serve({"/api/3/action/package_search": (200, {"Content-Type": "application/json"}, _envelope(old))}) as before:
            asyncio.run(store.add_source(platform.db, "partner", "ckan", before.url))
            first = asyncio.run(run(before.url))
        assert first["created"] == 2, first
        ids = {n: asyncio.run(svc.package_show(ADMIN_IDENTITY, n))["id"] for n in old}
        with serve({"/api/3/action/package_search": (200, {"Content-Type": "application/json"}, _envelope(new))}) as after:
            second = asyncio.run(run(after.url))
        assert second["deleted"] == 0 and second["failed"] == 0 and second["updated"] == 2, second
        for n in old:
            pkg = asyncio.run(svc.package_show(ADMIN_IDENTITY, n))
            assert pkg["state"] == "active" and pkg["id"] == ids[n], pkg
            assert _extra(pkg, "harvest_remote_id") == new[n]
        objects = asyncio.run(store.objects(platform.db, "partner"))
        assert set(objects) == set(new.values())  # only the records of the ids the source answers now
    finally:
        platform.close()
