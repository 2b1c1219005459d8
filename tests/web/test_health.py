"""Liveness (/healthz, from memory) and readiness (/readyz, the database checked outside the request pools), on
both back ends; storage that turns read-only answers 503 naming the cause, in each standard's format, and
recovers by itself."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import BACKEND
from urbanos.web.app import create_app

ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}


def test_healthz_answers_from_memory(client: Any, platform: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_query(*args: Any, **kw: Any) -> Any:
        raise AssertionError("/healthz must not query the database")

    monkeypatch.setattr(platform.db, "read", no_query)
    monkeypatch.setattr(platform.db, "read_one", no_query)
    monkeypatch.setattr(platform.db, "ping", no_query)
    r = client.get("/healthz")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["status"] == "ok" and body["database"] == platform.db.dialect.name and body["version"]
    assert r.headers["cache-control"] == "no-store"


def _asked(client: Any, path: str, **kwargs: Any) -> Any:
    """GET ``path``, asked again while /readyz's probe of the database runs out of its 1 s on a loaded machine
    (the product's limit, not what the test checks; a CI run got that 503 once)."""
    for _ in range(5):
        r = client.get(path, **kwargs)
        if r.status_code != 503 or "did not answer within" not in r.text:
            break
    return r


def test_readyz_reports_each_check(client: Any, platform: Any) -> None:
    r = _asked(client, "/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and set(body["checks"]) >= {"database", "storage"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["backend"] == platform.db.dialect.name
    assert body["checks"]["storage"]["status"] == "ok"


def test_health_endpoints_answer_any_host_and_refuse_other_methods(client: Any) -> None:
    for path in ("/healthz", "/readyz"):
        r = _asked(client, path, headers={"host": "10.9.8.7:8000"})
        assert r.status_code == 200, r.text
        r = client.post(path)
        assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"


def test_health_is_served_when_every_slot_is_taken(make_settings: Any) -> None:
    app = create_app(make_settings(max_concurrent_requests=1, budget_other=1, shed_max_wait=0))
    release, entered = threading.Event(), threading.Event()

    @app.get("/hold-health-test")
    async def hold() -> dict[str, str]:
        entered.set()
        while not release.is_set():
            import asyncio

            await asyncio.sleep(0.01)
        return {}

    with TestClient(app) as c:
        t = threading.Thread(target=lambda: c.get("/hold-health-test"))
        t.start()
        try:
            assert entered.wait(30)
            busy = c.get("/docs")
            assert busy.status_code == 503 and busy.headers["retry-after"]
            assert c.get("/healthz").status_code == 200
            assert _asked(c, "/readyz").status_code == 200
            assert c.get("/metrics").status_code == 200
        finally:
            release.set()
            t.join()
    app.state.platform.close()


def test_openapi_describes_health_and_readiness(client: Any) -> None:
    doc = client.get("/openapi.json").json()
    ready = doc["paths"]["/readyz"]["get"]
    assert set(ready["responses"]) >= {"200", "503"}
    schema = ready["responses"]["503"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["status", "checks"]
    assert "200" in doc["paths"]["/healthz"]["get"]["responses"]


# -- read-only storage -----------------------------------------------------------------------------------------
# Tests run as root, for whom a chmod'ed file stays writable, and a mounted file system cannot be remounted
# read-only while the database holds its files open for writing (EBUSY). The writer's connection is therefore
# switched to query_only: SQLite then refuses every write, BEGIN IMMEDIATE included, with SQLITE_READONLY, as it
# does for a file it could open read-only only. PostgreSQL's read-only case (SQLSTATE 25006) is tested on a
# cluster of its own in tests/faults/test_postgres_faults.py: the shared test cluster must not turn read-only.

STA_THING = {"name": "read-only probe", "description": "d"}


def _query_only(platform: Any, on: bool) -> None:
    # between the writer's batches (SQLite serialises calls on one connection); BEGIN would refuse it as a job
    platform.db._wraw.execute(f"PRAGMA query_only = {1 if on else 0}")  # noqa: SLF001 - the writer's connection


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's read-only file; PostgreSQL's is in tests/faults")
def test_read_only_storage_answers_503_naming_it_and_recovers(client: Any, platform: Any) -> None:
    assert client.post("/sta/v1.1/Things", json=STA_THING, headers=ADMIN).status_code == 201
    before = platform.db.read_sync(lambda c: c.fetchval("SELECT count(*) FROM sta_things"))
    _query_only(platform, True)
    try:
        r = client.post("/sta/v1.1/Things", json=STA_THING, headers=ADMIN)
        assert r.status_code == 503, r.text
        assert int(r.headers["retry-after"]) >= 1
        assert r.json() == {"code": 503, "type": "error", "message": "The database is read-only; writes fail until "
                                                                      "it is writable again."}
        ckan = client.post("/api/3/action/organization_create", json={"name": "ro-org"}, headers=ADMIN)
        assert ckan.status_code == 503 and ckan.json()["success"] is False and ckan.headers["retry-after"]
        problem = client.post("/admin/tokens", json={"role": "reader", "name": "ro"}, headers=ADMIN)
        assert problem.status_code == 503 and problem.headers["content-type"] == "application/problem+json"
        assert problem.json()["code"] == "read_only"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["storage"]["reason"] == "read_only"
        assert client.get("/healthz").status_code == 200  # alive: no restart would help
        assert client.get("/sta/v1.1/Things").status_code == 200  # reads go on
    finally:
        _query_only(platform, False)
    assert _asked(client, "/readyz").status_code == 200  # the probe write finds it writable: no write needed first
    assert client.post("/sta/v1.1/Things", json=STA_THING, headers=ADMIN).status_code == 201
    after = platform.db.read_sync(lambda c: c.fetchval("SELECT count(*) FROM sta_things"))
    assert after == before + 1  # nothing refused was stored
