"""A read replica (setting ``db_read``) on a real streaming standby of a throwaway primary cluster: reads are served
by the standby, a client reads its own writes at once, reads fall back to the primary while the standby is paused
behind or stopped, and nothing is ever written on the standby.

About 15-25 s (two clusters, a base backup); runs in the PostgreSQL pass of the suite and skips with the reason when
no cluster can be made here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_TOKEN, free_port, settings_for
from tests.faults.cluster import Cluster, Standby, cluster_or_skip, standby_or_skip
from tests.sensing.sta_helpers import V, thing
from urbanos.web.app import create_app

pytestmark = pytest.mark.postgres
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def pair() -> Iterator[tuple[Cluster, Standby]]:
    primary = cluster_or_skip(free_port())
    try:
        standby = standby_or_skip(primary, free_port())
        try:
            yield primary, standby
        finally:
            standby.remove()
    finally:
        primary.remove()


def _stats(c: TestClient) -> dict[str, float]:
    return c.app.state.platform.db.pool_stats()  # type: ignore[attr-defined,no-any-return]


def _count(c: TestClient, ds: int) -> int:
    r = c.get(f"{V}/Datastreams({ds})/Observations", params={"$count": "true", "$top": "1"})
    assert r.status_code == 200, r.text
    return int(r.json()["@iot.count"])


def _replayed(standby: Standby, primary: Cluster) -> None:
    """Wait until the standby has replayed all the primary wrote."""
    with psycopg.connect(primary.url, autocommit=True) as p:
        target = p.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
        # WAL inserted after the last commit may wait in a partial page until the next flush: a transaction of
        # our own, committed and flushed locally, sends everything up to the target to the standby
        p.execute("SET synchronous_commit = local")
        p.execute("SELECT txid_current()")
    with psycopg.connect(standby.url, autocommit=True) as s:
        for _ in range(600):
            if s.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()[0]:  # type: ignore[index]
                return
            time.sleep(0.05)
    raise AssertionError("the standby never caught up")


def test_reads_on_the_standby_with_read_your_writes(pair: tuple[Cluster, Standby], tmp_path: Path) -> None:
    primary, standby = pair
    app = create_app(settings_for(tmp_path, primary.url, db_read=standby.url, db_read_max_lag_seconds=60.0,
                                  pg_pool_min=1, pg_pool_max=4))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post(f"{V}/Things", json=thing("Replica"), headers=ADMIN)
        assert r.status_code == 201, r.text
        ds = c.get(f"{V}/Datastreams", params={"$select": "id"}).json()["value"][0]["@iot.id"]
        _replayed(standby, primary)

        # a write and the read right after it: the read sees the write, every time (on the primary while the
        # standby has not replayed it, on the standby once it has)
        for n in range(20):
            r = c.post(f"{V}/Observations", json={"result": n, "Datastream": {"@iot.id": ds}}, headers=ADMIN)
            assert r.status_code == 201, r.text
            assert _count(c, ds) == n + 1
        _replayed(standby, primary)
        before = _stats(c)
        for _ in range(10):
            assert _count(c, ds) == 20
        after = _stats(c)
        assert after["replica_reads"] - before["replica_reads"] >= 10, (before, after)

        # proof that those reads ran on the standby: with its replay paused, a row written on the primary by
        # another process stays invisible to the app's reads ...
        with psycopg.connect(standby.url, autocommit=True) as s:
            s.execute("SELECT pg_wal_replay_pause()")
        with psycopg.connect(primary.url, autocommit=True) as p:
            p.execute("INSERT INTO sta_observations (phen_start, result, result_num, datastream_id, feature_id) "
                      "SELECT phen_start, result, result_num, datastream_id, feature_id FROM sta_observations "
                      "WHERE datastream_id = %s LIMIT 1", (ds,))
        time.sleep(0.05)
        assert _count(c, ds) == 20, "the read did not run on the standby"
        # a standby lagging more than db_read_max_lag_seconds serves nothing: the read sees the primary's row
        replica = c.app.state.platform.db.replica  # type: ignore[attr-defined]
        replica.max_lag, fallbacks = 0.01, _stats(c)["replica_fallbacks"]
        time.sleep(0.02)
        assert _count(c, ds) == 21
        assert _stats(c)["replica_fallbacks"] > fallbacks and _stats(c)["replica_lag_seconds"] > 0.01
        replica.max_lag = 60.0
        # ... while the app's own write is seen at once: its reads go to the primary until the standby replays it
        r = c.post(f"{V}/Observations", json={"result": 99, "Datastream": {"@iot.id": ds}}, headers=ADMIN)
        assert r.status_code == 201, r.text
        own = _stats(c)["replica_own_write_reads"]
        assert _count(c, ds) == 22
        assert _stats(c)["replica_own_write_reads"] > own
        with psycopg.connect(standby.url, autocommit=True) as s:
            s.execute("SELECT pg_wal_replay_resume()")
        _replayed(standby, primary)
        time.sleep(0.02)
        served = _stats(c)["replica_reads"]
        assert _count(c, ds) == 22
        assert _stats(c)["replica_reads"] > served  # back on the standby once it caught up

        # the standby stops: reads still answer (on the primary), at once after the first notices
        standby.stop("immediate")
        took = []
        for _ in range(10):
            t0 = time.monotonic()
            assert _count(c, ds) == 22
            took.append(time.monotonic() - t0)
        stats = _stats(c)
        assert stats["replica_serving"] == 0 and stats["replica_fallbacks"] >= 9, stats
        assert sorted(took)[-2] < 0.5, took
        r = c.post(f"{V}/Observations", json={"result": 100, "Datastream": {"@iot.id": ds}}, headers=ADMIN)
        assert r.status_code == 201, r.text
        assert _count(c, ds) == 23

        # the standby returns: reads go back to it
        standby.start()
        _replayed(standby, primary)
        deadline = time.monotonic() + 10
        served = _stats(c)["replica_reads"]
        while _stats(c)["replica_reads"] == served and time.monotonic() < deadline:
            assert _count(c, ds) == 23
            time.sleep(0.1)
        assert _stats(c)["replica_reads"] > served, _stats(c)
        assert _stats(c)["replica_refused"] == 0  # no read tried to write on the standby
    app.state.platform.close()
    # writes never reached the standby other than by replication: it is still a standby, never promoted
    with psycopg.connect(standby.url, autocommit=True) as s:
        assert s.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True  # type: ignore[index]

