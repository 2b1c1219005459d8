"""Reads on a streaming read replica (setting ``db_read``) beside the same reads on the primary only.

    python benchmarks/read_replica.py --primary postgresql://postgres@127.0.0.1:5433/postgres \\
                                      --standby postgresql://postgres@127.0.0.1:5434/postgres [--seconds 3]

``--standby`` must be a streaming standby of ``--primary`` (``pg_basebackup -R``, see docs/scaling.md); the
benchmark writes into the primary's database (a Thing, a Datastream and 20,000 Observations), so give it a scratch
one. Two apps run in this process, served through the in-process ASGI client: one with ``db`` = primary (the
baseline) and one with ``db`` = primary and ``db_read`` = standby, interleaved request by request. It prints the
p50 and p95 of

* ``GET Datastreams(id)/Observations?$top=100`` (a read);
* ``POST Observations`` followed at once by ``GET Datastreams(id)/Observations?$top=1`` (read-your-writes: with a
  replica the write reads its WAL position after commit, and the read goes to the primary until the standby has
  replayed it);

and how many reads the standby served. On one machine the standby competes with the primary for the same cores:
the figure shows the routing's cost, not the capacity a standby host adds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from starlette.testclient import TestClient

from urbanos.plugins import settings_registry
from urbanos.settings import load
from urbanos.web.app import create_app

TOKEN = "bench-admin-token-0123456789abcdef"
H = {"Authorization": f"Bearer {TOKEN}"}
V = "/sta/v1.1"


def app_for(folder: Path, primary: str, standby: str = "") -> Any:
    values = {"data_dir": str(folder), "db": primary, "db_read": standby, "admin_token": TOKEN, "log_level": "warning",
              "access_log": False, "allowed_hosts": "testserver", "mqtt_port": 0, "pg_pool_min": 2, "pg_pool_max": 4,
              "db_read_max_lag_seconds": 5.0, "rate_limit_per_token": 0.0}
    return create_app(load(settings_registry(), env={}, overrides=values))


def build(c: TestClient, primary: str) -> int:
    body = {"name": "replica bench", "description": "d", "Locations": [{
        "name": "corner", "description": "d", "encodingType": "application/geo+json",
        "location": {"type": "Point", "coordinates": [9.99, 53.55]}}], "Datastreams": [{
        "name": "count", "description": "d", "observationType":
        "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
        "unitOfMeasurement": {"name": "n", "symbol": "1", "definition": "https://example.org/n"},
        "Sensor": {"name": "s", "description": "d", "encodingType": "text/html", "metadata": "https://example.org/s"},
        "ObservedProperty": {"name": "p", "definition": "https://example.org/p", "description": "d"}}]}
    r = c.post(f"{V}/Things", json=body, headers=H)
    r.raise_for_status()
    ds = int(c.get(f"{V}/Things", params={"$top": "1", "$orderby": "id desc", "$expand": "Datastreams($select=id)"},
                   headers=H).json()["value"][0]["Datastreams"][0]["@iot.id"])
    r = c.post(f"{V}/Observations", json={"result": 0, "Datastream": {"@iot.id": ds}}, headers=H)
    r.raise_for_status()
    with psycopg.connect(primary, autocommit=True) as p:
        p.execute("INSERT INTO sta_observations (phen_start, result, result_num, datastream_id, feature_id) "
                  "SELECT to_char(timestamp '2026-01-01' + g * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                  "(g %% 97)::text, g %% 97, o.datastream_id, o.feature_id FROM generate_series(1, 20000) g, "
                  "(SELECT datastream_id, feature_id FROM sta_observations WHERE datastream_id = %s LIMIT 1) o", (ds,))
        p.execute("ANALYZE sta_observations")
    return ds


def caught_up(primary: str, standby: str) -> None:
    with psycopg.connect(primary, autocommit=True) as p:
        target = p.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
    with psycopg.connect(standby, autocommit=True) as s:
        for _ in range(600):
            if s.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()[0]:  # type: ignore[index]
                return
            time.sleep(0.05)
    sys.exit("the standby does not replay the primary's writes: is it a streaming standby of --primary?")


def timed(pairs: list[tuple[str, Callable[[], None]]], seconds: float) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {name: [] for name, _ in pairs}
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        for name, fn in pairs:
            t0 = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--primary", required=True)
    ap.add_argument("--standby", required=True)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="urbanos-replica-bench-"))
    base_app, rep_app = app_for(tmp / "a", args.primary), app_for(tmp / "b", args.primary, args.standby)
    with TestClient(base_app) as a, TestClient(rep_app) as b:
        ds = build(a, args.primary)
        caught_up(args.primary, args.standby)
        top = {"$top": "100", "$orderby": "phenomenonTime desc"}

        def read(c: TestClient) -> Callable[[], None]:
            def go() -> None:
                r = c.get(f"{V}/Datastreams({ds})/Observations", params=top)
                assert r.status_code == 200 and len(r.json()["value"]) == 100  # nosec B101 - a benchmark's check

            return go

        def write_read(c: TestClient) -> Callable[[], None]:
            def go() -> None:
                r = c.post(f"{V}/Observations", json={"result": 1, "Datastream": {"@iot.id": ds}}, headers=H)
                assert r.status_code == 201  # nosec B101 - a benchmark's check
                r = c.get(f"{V}/Observations({r.headers['location'].rsplit('(', 1)[1].rstrip(')')})")
                assert r.status_code == 200  # nosec B101 - read-your-writes: the new Observation is there

            return go

        timed([("primary", read(a)), ("replica", read(b))], 0.5)  # warm both
        before = rep_app.state.platform.db.pool_stats()
        reads = timed([("primary", read(a)), ("replica", read(b))], args.seconds)
        mid = rep_app.state.platform.db.pool_stats()
        writes = timed([("primary", write_read(a)), ("replica", write_read(b))], args.seconds)
        after = rep_app.state.platform.db.pool_stats()
    base_app.state.platform.close()
    rep_app.state.platform.close()

    def row(label: str, ms: list[float]) -> str:
        q = statistics.quantiles(ms, n=20)
        return f"{label:<58} p50 {statistics.median(ms):7.2f} ms   p95 {q[18]:7.2f} ms   n={len(ms)}"

    print(row("GET Observations?$top=100, primary only (baseline)", reads["primary"]))
    print(row("GET Observations?$top=100, db_read = standby", reads["replica"]))
    print(f"  database reads on the standby: {mid['replica_reads'] - before['replica_reads']:.0f} "
          f"(for {len(reads['replica'])} requests), on the primary: "
          f"{mid['replica_fallbacks'] + mid['replica_own_write_reads'] - before['replica_fallbacks'] - before['replica_own_write_reads']:.0f}")
    print(row("POST + GET of it at once, primary only (baseline)", writes["primary"]))
    print(row("POST + GET of it at once, db_read = standby", writes["replica"]))
    print(f"  database reads on the standby: {after['replica_reads'] - mid['replica_reads']:.0f}, "
          f"sent to the primary for read-your-writes: {after['replica_own_write_reads'] - mid['replica_own_write_reads']:.0f}")


if __name__ == "__main__":
    main()
