"""Import reports of uploaded resources live in the database: they survive a restart, every server on the database
shows them, failures keep their message, deleting the resource removes them, and only the dataset's publishers see
them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from urbanos.features import store
from urbanos.features.datastore import read_import, record_import
from urbanos.ports import FeaturesPort

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CSV = b"name,lat,lon,count\nA,53.55,10.0,1\nB,53.56,10.01,2\nC,not-a-number,10.02,3\nD,53.57,10.03,4\n"
BROKEN = b"name,lat,lon\nA,53.5\nB\n"


@contextmanager
def _app(settings: Any) -> Iterator[Any]:
    from starlette.testclient import TestClient

    from urbanos.web.app import create_app

    app = create_app(settings)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.state.platform.close()


def _wait(fn: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _token(client: Any, role: str, org: str | None) -> str:
    r = client.post("/admin/tokens", json={"role": role, "org": org, "name": f"{role} reports"}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return str(r.json()["token"])


def _setup(client: Any) -> dict[str, str]:
    for org in ("parks", "police"):
        r = client.post("/api/3/action/organization_create", json={"name": org}, headers=ADMIN)
        assert r.status_code == 200, r.text
    r = client.post("/api/3/action/package_create", headers=ADMIN,
                    json={"name": "street-trees", "title": "Street trees", "owner_org": "parks"})
    assert r.status_code == 200, r.text
    return {"publisher": _token(client, "publisher", "parks"), "other": _token(client, "publisher", "police"),
            "reader": _token(client, "reader", None)}


def _upload(client: Any, content: bytes, name: str = "counts.csv") -> str:
    r = client.post("/api/3/action/resource_create", headers=ADMIN, data={"package_id": "street-trees", "name": name,
                    "format": "CSV"}, files={"upload": (name, content, "text/csv")})
    assert r.status_code == 200, r.text
    return str(r.json()["result"]["id"])


def _sign_in(client: Any, token: str | None) -> None:
    client.cookies.clear()
    if token is None:
        return
    m = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
    assert m
    r = client.post("/signin", data={"csrf": m.group(1), "token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _fragment(client: Any, rid: str) -> Any:
    return client.get(f"/datasets/street-trees/imports/{rid}?n=1")


def _state(client: Any, rid: str) -> dict[str, Any] | None:
    return client.app.state.platform.db.read_sync(lambda c: read_import(c, rid))  # type: ignore[no-any-return]


def _lookup(client: Any, rid: str) -> Any:
    return client.portal.call(client.app.state.platform.require(FeaturesPort).import_report, rid)


def _nobody_else_sees(client: Any, tokens: dict[str, str], rid: str) -> None:
    for who in (None, tokens["reader"], tokens["other"]):
        _sign_in(client, who)
        assert _fragment(client, rid).status_code in (403, 404)
        page = client.get(f"/datasets/street-trees?imported={rid}").text
        assert "import-rows" not in page and "not-a-number" not in page and "import-state" not in page


def test_report_survives_a_restart_and_only_publishers_see_it(make_settings: Any) -> None:
    settings = make_settings()
    with _app(settings) as client:
        tokens = _setup(client)
        rid = _upload(client, CSV)
        done = _wait(lambda: (_state(client, rid) or {}).get("status") == "done")
        assert done, _state(client, rid)
        found = _lookup(client, rid)
        assert found["status"] == "done" and found["failure"] is None and found["started_at"] <= found["finished_at"]
        assert found["report"]["rows"] == 3 and found["report"]["bad_rows"] == 1
        assert _lookup(client, "no-such-resource") is None
    with _app(settings) as client:  # a new process on the same database: nothing in memory
        _sign_in(client, tokens["publisher"])
        frag = _fragment(client, rid)
        assert frag.status_code == 200
        assert re.search(r'id="import-rows">3<', frag.text) and re.search(r'id="import-bad-rows">1<', frag.text)
        assert "hx-get" not in frag.text  # finished: no more polling
        assert "Import finished" in client.get(f"/datasets/street-trees?imported={rid}").text
        assert "Import abgeschlossen" in client.get(f"/datasets/street-trees?imported={rid}&lang=de").text
        _nobody_else_sees(client, tokens, rid)

        # a new upload to the same resource replaces the report
        r = client.post("/api/3/action/resource_update", headers=ADMIN, data={"id": rid, "name": "counts", "format": "CSV"},
                        files={"upload": ("counts.csv", CSV + b"E,53.58,10.04,5\n", "text/csv")})
        assert r.status_code == 200, r.text
        assert _wait(lambda: ((_state(client, rid) or {}).get("report") or {}).get("rows") == 4), _state(client, rid)
        n = client.app.state.platform.db.read_sync(
            lambda c: c.fetchval(f"SELECT COUNT(*) FROM {store.IMPORT_REPORTS} WHERE resource_id = ?", (rid,)))
        assert int(n) == 1

        # deleting the resource removes its report
        r = client.post("/api/3/action/resource_delete", json={"id": rid}, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert _wait(lambda: _state(client, rid) is None)
        assert _lookup(client, rid) is None


def test_failure_is_recorded_with_its_message_and_running_is_shown(make_settings: Any) -> None:
    settings = make_settings()
    with _app(settings) as client:
        tokens = _setup(client)
        rid = _upload(client, BROKEN, "broken.csv")
        assert _wait(lambda: (_state(client, rid) or {}).get("status") == "failed"), _state(client, rid)
        failed = _lookup(client, rid)
        assert failed["report"] is None and failed["failure"] and failed["finished_at"]
    with _app(settings) as client:
        _sign_in(client, tokens["publisher"])
        frag = _fragment(client, rid).text
        assert "The import failed" in frag and failed["failure"].split(":")[0] in frag and "hx-get" not in frag
        _nobody_else_sees(client, tokens, rid)

        # a running import (as another process records it) polls and says so
        platform = client.app.state.platform
        db = platform.db
        ds_id = db.read_sync(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = 'street-trees'"))
        db.write_sync(lambda c: record_import(platform, c, rid, int(ds_id), "running"))
        assert _lookup(client, rid)["status"] == "running" and _lookup(client, rid)["failure"] is None
        _sign_in(client, tokens["publisher"])
        frag = _fragment(client, rid).text
        assert "The file is being imported" in frag and "hx-get" in frag and "The import failed" not in frag
        assert "Die Datei wird importiert" in client.get(f"/datasets/street-trees/imports/{rid}?n=1&lang=de").text

        # a report of a resource that no longer exists is not recorded
        db.write_sync(lambda c: record_import(platform, c, "gone", int(ds_id), "done", report={"rows": 1}))
        assert _lookup(client, "gone") is None

        # purging the dataset removes its reports
        r = client.post("/api/3/action/dataset_purge", json={"id": "street-trees"}, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert _lookup(client, rid) is None


@pytest.mark.live
def test_a_second_server_on_the_database_shows_the_report(db_url: str, server_factory: Any) -> None:
    first = server_factory(db_url)
    second = server_factory(db_url)
    with httpx.Client(base_url=first.url, timeout=30) as one, httpx.Client(base_url=second.url, timeout=30) as two:
        tokens = _setup(one)
        rid = _upload(one, CSV)
        _sign_in(two, tokens["publisher"])

        def finished() -> bool:
            frag = _fragment(two, rid)
            assert frag.status_code == 200, frag.text
            return "import-rows" in frag.text

        assert _wait(finished), _fragment(two, rid).text
        frag = _fragment(two, rid).text
        assert re.search(r'id="import-rows">3<', frag) and re.search(r'id="import-bad-rows">1<', frag)
        assert "Import finished" in two.get(f"/datasets/street-trees?imported={rid}").text
        for who in (None, tokens["reader"], tokens["other"]):
            _sign_in(two, who)
            assert _fragment(two, rid).status_code in (403, 404)
            assert "import-rows" not in two.get(f"/datasets/street-trees?imported={rid}").text

        # deleting the resource on the second server removes the report the first one made
        assert two.post("/api/3/action/resource_delete", json={"id": rid}, headers=ADMIN).status_code == 200
        _sign_in(one, tokens["publisher"])
        assert one.get(f"/datasets/street-trees/imports/{rid}").status_code in (403, 404)
