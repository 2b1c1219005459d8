"""Access levels on every OGC API path, usage events, and Part 4 writes to a collection the caller may not see
(the Part 4 rules themselves: tests/conformance/ogcapi/test_part4_transactions.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN
from urbanos.core.time import now_stored
from urbanos.governance.tokens import create_token


def _token(platform: Any, role: str, org: str | None = None) -> dict[str, str]:
    secret = platform.db.write_sync(lambda c: create_token(c, role, org, f"{role} app"))
    return {"Authorization": f"Bearer {secret}"}


def _paths(name: str) -> list[str]:
    root = f"/ogcapi/collections/{name}"
    return [root, f"{root}?f=html", f"{root}/items", f"{root}/items?f=html", f"{root}/items?f=csv", f"{root}/items/1",
            f"{root}/items/1?f=html", f"{root}/queryables"]


LEVELS = ["open", "registered", "internal", "confidential"]


@pytest.fixture
def levels(platform: Any, fx: Any) -> dict[str, int]:
    ids = {}
    for level in LEVELS:
        ids[level] = fx.add_dataset(platform, f"ds-{level}", level, org="mobility")
        fx.add_points(platform, f"c-{level}", ids[level])
    return ids


def _visible(client: Any, headers: dict[str, str]) -> set[str]:
    listed = {c["id"] for c in client.get("/ogcapi/collections", headers=headers).json()["collections"]}
    for level in LEVELS:
        name = f"c-{level}"
        codes = {p: client.get(p, headers=headers).status_code for p in _paths(name)}
        if name in listed:
            assert set(codes.values()) == {200}, codes
        else:
            assert set(codes.values()) == {404}, codes
    api = client.get("/ogcapi/api", headers=headers).json()
    assert set(api["components"]["parameters"]["collectionId"]["schema"]["enum"]) == listed
    return listed


def test_every_path_respects_access_levels(client: Any, platform: Any, levels: dict[str, int]) -> None:
    assert _visible(client, {}) == {"c-open"}
    assert _visible(client, _token(platform, "reader")) == {"c-open", "c-registered"}
    assert _visible(client, _token(platform, "reader", "mobility")) == {"c-open", "c-registered", "c-internal"}
    assert _visible(client, _token(platform, "reader", "parks")) == {"c-open", "c-registered"}
    assert _visible(client, {"Authorization": f"Bearer {ADMIN_TOKEN}"}) == {f"c-{x}" for x in LEVELS}
    granted = _token(platform, "reader")
    ident = platform.gate.authenticate_sync(granted["Authorization"].split()[1])
    platform.db.write_sync(lambda c: c.execute(
        "INSERT INTO dataset_grants (dataset_id, subject, created_at) VALUES (?, ?, ?)",
        (levels["confidential"], ident.subject, now_stored())))
    assert _visible(client, granted) == {"c-open", "c-registered", "c-confidential"}


def test_usage_events_and_observer(client: Any, platform: Any, levels: dict[str, int]) -> None:
    events: list[Any] = []
    observed: list[tuple[str, str]] = []
    platform.bus.subscribe(events.append, topic="usage")
    platform.gate.add_observer(lambda ident, ds, action: observed.append((ds.name, action)))
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    client.get("/ogcapi/collections/c-open/items")
    client.get("/ogcapi/collections/c-internal/items/2", headers=headers)
    client.get("/ogcapi/collections/c-registered?f=html", headers=headers)
    kinds = [(e.data["collection"], e.data["action"], e.dataset_id) for e in events]
    assert ("c-open", "items", levels["open"]) in kinds
    assert ("c-internal", "item", levels["internal"]) in kinds
    assert ("c-registered", "collection", levels["registered"]) in kinds
    assert all(e.data["api"] == "ogcapi-features" and "ip" not in e.data for e in events)
    assert ("ds-internal", "ogcapi.item") in observed and not any(n == "ds-open" for n, _ in observed)


FEATURE = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.0, 53.55]},
           "properties": {"name": "New place", "kind": "z", "pop": 5, "observed": "2024-03-01T00:00:00Z"}}


def test_part4_on_invisible_collection_is_404(client: Any, platform: Any, fx: Any) -> None:
    ds = fx.add_dataset(platform, "secret", "confidential", org="mobility")
    fx.add_points(platform, "secret", ds)
    pub = _token(platform, "publisher", "parks")
    assert client.post("/ogcapi/collections/secret/items", json=FEATURE, headers=pub).status_code == 404
    assert client.delete("/ogcapi/collections/secret/items/1", headers=pub).status_code == 404
    assert client.post("/ogcapi/collections/places/items", data=b"not json", headers=pub).status_code in (400, 404)


def test_datastore_sql_reads_only_visible_collections(make_settings: Any, fx: Any) -> None:
    """The read leak matrix of the SQL path: each caller, each access level, a plain query and a join with an
    open table, and counts; only the collections the caller may read ever answer."""
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(make_settings(datastore_sql_enabled=True))
    with TestClient(app, raise_server_exceptions=False) as client:
        platform = app.state.platform
        for level in LEVELS:
            fx.add_points(platform, f"c-{level}", fx.add_dataset(platform, f"ds-{level}", level, org="mobility"))
        callers = {"anonymous": {}, "reader": _token(platform, "reader"), "member": _token(platform, "reader", "mobility"),
                   "other": _token(platform, "publisher", "parks"), "admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"}}
        readable = {"anonymous": {"open"}, "reader": {"open", "registered"}, "member": {"open", "registered", "internal"},
                    "other": {"open", "registered"}, "admin": set(LEVELS)}

        def sql(headers: dict[str, str], text: str) -> Any:
            return client.post("/api/3/action/datastore_search_sql", json={"sql": text}, headers=headers)

        for who, headers in callers.items():
            for level in LEVELS:
                for text in (f'SELECT COUNT(*) AS n FROM "c-{level}"',
                             f'SELECT o.name FROM "c-open" o JOIN "c-{level}" x ON x.pop = o.pop',
                             f'SELECT name FROM "c-open" WHERE pop IN (SELECT pop FROM "c-{level}")'):
                    r = sql(headers, text)
                    if level in readable[who]:
                        assert r.status_code == 200, (who, level, text, r.text)
                    else:
                        assert r.status_code in (403, 404), (who, level, text, r.text)
                        assert "Place" not in r.text, (who, level, text)
