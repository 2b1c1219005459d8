"""PostgreSQL stopped and started under a serving app, and turned read-only, on a cluster of the test's own:
requests fail fast while the database is down, /readyz says why, the first write after its return succeeds at
once, and nothing acknowledged is lost.

Each test takes 5-10 s (initdb, start, stop); they run in the PostgreSQL pass of the suite
(``URBANOS_TEST_DB=... pytest tests/faults``), and skip with the reason when no cluster can be made here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, free_port, settings_for
from tests.faults.cluster import Cluster, cluster_or_skip
from urbanos.web.app import create_app

pytestmark = pytest.mark.postgres
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    c = cluster_or_skip(free_port())
    try:
        yield c
    finally:
        c.remove()


@pytest.fixture
def served(cluster: Cluster, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings_for(tmp_path, cluster.url, pg_pool_min=2, pg_pool_max=4))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.platform.close()


def _post(c: TestClient, n: int) -> tuple[int, float, Any]:
    t0 = time.monotonic()
    r = c.post("/sta/v1.1/Things", json={"name": f"fault-{n}", "description": "d"}, headers=ADMIN)
    return r.status_code, time.monotonic() - t0, r


def _stored(c: TestClient) -> int:
    r = c.get("/sta/v1.1/Things", params={"$count": "true", "$top": "1", "$filter": "startswith(name,'fault-')"})
    assert r.status_code == 200, r.text
    return int(r.json()["@iot.count"])


def test_database_stopped_and_started(cluster: Cluster, served: TestClient) -> None:
    c = served
    acked = 0
    for n in range(5):
        status, _, r = _post(c, n)
        assert status == 201, r.text
        acked += 1
    cluster.stop("immediate")
    # the first request after the loss finds out (a broken connection, confirmed by a direct probe)
    deadline = time.monotonic() + 10
    status = 201
    n = 100
    while status != 503 and time.monotonic() < deadline:
        status, _, r = _post(c, n)
        acked += status == 201
        n += 1
    assert status == 503, "the loss of the database was never noticed"
    # from then on: 503 at once, with Retry-After, in the standard's format, while health stays alive
    took = []
    for _ in range(10):
        status, seconds, r = _post(c, n)
        n += 1
        assert status == 503 and r.headers["retry-after"] == "1", r.text
        assert r.json()["message"] == "The database is unavailable."
        took.append(seconds)
    assert max(took) < 1.0, took
    t0 = time.monotonic()
    ready = c.get("/readyz")
    assert time.monotonic() - t0 < 2.0
    assert ready.status_code == 503 and ready.json()["checks"]["database"]["reason"] == "database_down"
    assert c.get("/healthz").status_code == 200
    assert c.get("/sta/v1.1/Things").status_code == 503  # reads too, at once
    time.sleep(3)  # an outage longer than the pool's first reconnection delays
    cluster.start()
    back = time.monotonic()
    while True:
        status, _, r = _post(c, n)
        n += 1
        if status == 201:
            acked += 1
            break
        assert status == 503 and time.monotonic() - back < 10, r.text
        time.sleep(0.05)
    recovered = time.monotonic() - back
    print(f"first write {recovered:.2f} s after the database returned; 503s took at most {max(took) * 1000:.0f} ms")
    assert recovered < 2.0
    assert c.get("/readyz").status_code == 200
    assert _stored(c) == acked  # every acknowledged write is there, none refused is


def test_read_only_database(cluster: Cluster, served: TestClient) -> None:
    c = served
    assert _post(c, 1)[0] == 201

    def read_only(on: bool) -> None:
        with psycopg.connect(cluster.url, autocommit=True, options="-c default_transaction_read_only=off") as conn:
            conn.execute(f"ALTER SYSTEM SET default_transaction_read_only = {'on' if on else 'off'}")
            conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)  # the reload reaches every session

    read_only(True)
    status, _, r = _post(c, 2)
    assert status == 503 and int(r.headers["retry-after"]) >= 1, r.text
    assert r.json()["message"] == "The database is read-only; writes fail until it is writable again."
    token = c.post("/admin/tokens", json={"role": "reader", "name": "x"}, headers=ADMIN)
    assert token.status_code == 503 and token.json()["code"] == "read_only"
    ready = c.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["storage"]["reason"] == "read_only"
    assert c.get("/sta/v1.1/Things").status_code == 200  # reads go on
    read_only(False)
    assert c.get("/readyz").status_code == 200
    assert _post(c, 3)[0] == 201
    assert _stored(c) == 2
