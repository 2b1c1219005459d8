"""The catalogue version is a change counter kept by triggers: every committed change of datasets and
grants moves it, in commit order, so no cached search or facet index outlives a change."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from urbanos.catalog import writes
from urbanos.catalog.facetindex import catalogue_version
from urbanos.core.time import now_stored
from urbanos.governance import ADMIN, Gate


def _create(c: Any, name: str, level: str = "open", gate: Gate | None = None) -> None:
    if not c.fetchone("SELECT 1 FROM organizations WHERE name = 'parks'"):
        writes.organization_create(c, ADMIN, {"name": "parks", "title": "Parks department"})
    writes.package_write(c, gate or _GATE[0], ADMIN, {"name": name, "title": name.title(), "owner_org": "parks", "access_level": level,
                                          "grounds": [] if level == "open" else ["security"]}, mode="create")


_GATE: list[Gate] = []  # the gate of the test's platform (the catalogue asks it for write checks)


def _version(platform: Any) -> int:
    return int(platform.db.read_sync(catalogue_version)[0])


def _anonymous_count(client: Any) -> int:
    r = client.get("/api/3/action/package_search", params={"q": "trees", "facet.field": '["access_level"]'})
    assert r.status_code == 200, r.text
    return int(r.json()["result"]["count"])


def test_every_committed_change_moves_the_version(platform: Any) -> None:
    v0 = _version(platform)
    _GATE[:] = [platform.gate]
    platform.db.write_sync(lambda c: _create(c, "street-trees"))
    v1 = _version(platform)
    assert v1 > v0
    platform.db.write_sync(lambda c: writes.package_write(
        c, _GATE[0], ADMIN, {"id": "street-trees", "access_level": "internal", "grounds": ["security"]}, mode="update"))
    v2 = _version(platform)
    assert v2 > v1
    ds_id = platform.db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = 'street-trees'"))
    assert platform.db.read_sync(lambda c: c.fetchval("SELECT seq FROM catalog_changes WHERE dataset_id = ?", (ds_id,))) == v2
    platform.db.write_sync(lambda c: c.execute(
        "INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, 'user:x', ?)", (ds_id, now_stored())))
    v3 = _version(platform)
    assert v3 > v2
    platform.db.write_sync(lambda c: c.execute("DELETE FROM dataset_grants WHERE dataset_id = ?", (ds_id,)))
    v4 = _version(platform)
    assert v4 > v3
    platform.db.write_sync(lambda c: writes.package_delete(c, Gate, ADMIN, "street-trees", purge=True))
    assert _version(platform) > v4
    assert platform.db.read_sync(lambda c: c.fetchval("SELECT COUNT(*) FROM catalog_changes WHERE dataset_id = ?", (ds_id,))) == 0
    # a read changes nothing
    v5 = _version(platform)
    platform.db.read_sync(lambda c: c.fetchall("SELECT * FROM datasets"))
    assert _version(platform) == v5


def test_a_change_committed_late_is_never_hidden(client: Any, platform: Any) -> None:
    """Writer A stamps its change first and commits last, after writer B. The search made between the two
    commits is cached; after A commits, the next search must see A's change (here: a dataset that is no
    longer open disappears for an anonymous caller). Only PostgreSQL runs writers concurrently."""
    if platform.db.dialect.name != "postgresql":
        pytest.skip("SQLite commits one writer at a time: commit order is stamp order")
    _GATE[:] = [platform.gate]
    platform.db.write_sync(lambda c: (_create(c, "street-trees"), _create(c, "park-trees")))
    assert _anonymous_count(client) == 2
    a_changed, a_may_commit = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def writer_a(c: Any) -> None:
        writes.package_write(c, _GATE[0], ADMIN, {"id": "street-trees", "access_level": "confidential",
                                              "grounds": ["security"]}, mode="update")
        a_changed.set()
        if not a_may_commit.wait(30):
            raise TimeoutError("writer A was never released")

    def run_a() -> None:
        try:
            platform.db.write_sync(writer_a)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failure.append(exc)

    thread = threading.Thread(target=run_a)
    thread.start()
    try:
        assert a_changed.wait(30)
        # writer B stamps later and commits first; it must not wait for A (no lock on the counter yet)
        platform.db.write_sync(lambda c: writes.package_write(
            c, _GATE[0], ADMIN, {"id": "park-trees", "title": "Park trees, renamed"}, mode="update"))
        assert _anonymous_count(client) == 2  # A is not committed: still open
    finally:
        a_may_commit.set()
        thread.join(30)
    assert not failure, failure
    assert _anonymous_count(client) == 1
