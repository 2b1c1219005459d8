"""Open311 reads at scale: ``GET /open311/v2/requests.json`` with filters over 100,000 service requests (spread
over the last 90 days, 4 services, every workflow state), beside ``GET /open311/v2/discovery.json`` (no database
read: the hello-world of the same server, measured in the same run). Sequential requests from one client against a
live ``urbanos serve``; prints p50 and p95 per query. Target: p50 <= 20 ms for the filtered lists.

Then the write path: ``POST /open311/v2/requests.json`` (``--posts`` of them) on that server, which publishes no open
data (the baseline), the first publication of every request as the ``open311-requests`` collection (one full
load), and the same posts on a server that keeps the collection in step (one feature upserted per request).

    python benchmarks/open311.py [--n 100000] [--runs 200] [--posts 300] [--db postgresql://…  (an empty database)]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, launch, wait  # noqa: E402

TOKEN = "bench-admin-token-0123456789abcdef"
ORG = "bench-city"
LIMITS = {"URBANOS_ADMIN_TOKEN": TOKEN, "URBANOS_PARTICIPATION_POSTS_PER_MINUTE": "1000000",
          "URBANOS_PARTICIPATION_POSTS_PER_MINUTE_PER_ADDRESS": "1000000"}
STATES = ("open", "acknowledged", "in_progress", "closed", "duplicate", "referred")
CODES = ("pothole", "litter", "streetlight", "graffiti")


def _settings(db: str, data_dir: str) -> Any:
    from urbanos.plugins import settings_registry
    from urbanos.settings import load

    return load(settings_registry(), env={}, overrides={"data_dir": data_dir, "db": db, "log_level": "warning",
                                                        "mqtt_port": 0})


def fill(db: str, data_dir: str, n: int) -> None:
    from urbanos.core.time import format_stored
    from urbanos.participation.open311 import demo, store
    from urbanos.participation.open311.definitions import validate_service
    from urbanos.platform import Platform
    from urbanos.plugins import load_components

    platform = Platform.build(_settings(db, data_dir), load_components())
    platform.open()
    rnd = random.Random(7)
    now = datetime.now(UTC)
    rows = []
    for _ in range(n):
        at = now - timedelta(seconds=rnd.randint(60, 89 * 86400))
        state = rnd.choice(STATES)
        rows.append((rnd.choice(CODES), state, store.spec_status(state), "A report",
                     53.55 + rnd.uniform(-0.05, 0.05), 9.99 + rnd.uniform(-0.1, 0.1), "{}", "bench",
                     format_stored(at), format_stored(at), format_stored(at)))

    def tx(c: Any) -> None:
        for body in demo.SERVICES:
            store.insert_service(c, validate_service({**body, "organization": None}), format_stored(now))
        c.executemany("INSERT INTO participation_requests (service_code, state, status, description, lat, lon,"
                      " attributes, subject, requested_at, updated_at, state_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)

    t = time.perf_counter()
    platform.db.write_sync(tx)
    platform.db.write_sync(lambda c: c.execute("ANALYZE participation_requests"))
    print(f"filled {n} requests in {time.perf_counter() - t:.1f} s")
    platform.close()


def measure(client: httpx.Client, path: str, runs: int) -> tuple[float, float, int]:
    times = []
    size = 0
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
        size = len(orjson.loads(r.content)) if path.startswith("/open311/v2/requests") else 1
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], size


def posts(client: httpx.Client, key: str, n: int) -> tuple[float, float]:
    """p50 and p95 (ms) of ``n`` sequential service requests posted as FixMyStreet does."""
    rnd = random.Random(11)
    times = []
    for _ in range(n):
        form = {"api_key": key, "service_code": "graffiti", "lat": f"{53.55 + rnd.uniform(-0.05, 0.05):.6f}",
                "long": f"{9.99 + rnd.uniform(-0.1, 0.1):.6f}", "description": "Tags on the wall",
                "email": "someone@example.org"}
        t = time.perf_counter()
        r = client.post("/open311/v2/requests.json", data=form)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.text
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def publish(db: str, data_dir: str) -> None:
    """The first publication: every request into the collection, timed."""
    from urbanos.participation.open311.opendata import OpenData
    from urbanos.platform import Platform
    from urbanos.plugins import load_components

    platform = Platform.build(_settings(db, data_dir), load_components())
    platform.open()
    t = time.perf_counter()
    n = platform.db.write_sync(OpenData(platform, ORG).publish_all)
    print(f"first publication of {n} requests as open data: {time.perf_counter() - t:.1f} s")
    platform.close()


def write_path(db: str, tmp: str, port: int, server: Any, n: int) -> None:
    """POST latency without open data (on the running ``server``), then with the collection kept in step."""
    base = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.post("/api/3/action/organization_create", json={"name": ORG, "title": "Bench"},
                           headers=admin).status_code == 200
        r = client.post("/admin/tokens", json={"role": "reader", "name": "bench-app"}, headers=admin)
        key = r.json()["token"]
        posts(client, key, 10)  # warm up
        p50, p95 = posts(client, key, n)
    server.terminate()
    server.wait(timeout=30)
    print(f"{'POST requests.json, no open data (baseline)':<48}{p50:>9.2f}{p95:>9.2f}{n:>6}")
    publish(db, tmp)
    server = launch(port, tmp, db=db, env={**LIMITS, "URBANOS_PARTICIPATION_OPEN_DATA_ORG": ORG})
    try:
        wait(f"{base}/healthz")
        with httpx.Client(base_url=base, timeout=30) as client:
            posts(client, key, 10)
            p50, p95 = posts(client, key, n)
            count = client.get("/ogcapi/collections/open311-requests/items?limit=1").json()["numberMatched"]
        print(f"{'POST requests.json + feature upsert':<48}{p50:>9.2f}{p95:>9.2f}{n:>6}  ({count} features)")
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--posts", type=int, default=300)
    ap.add_argument("--db", default="")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-bench-open311-")
    db = args.db or f"sqlite:///{Path(tmp) / 'urbanos.db'}"
    fill(db, tmp, args.n)
    port = free_port()
    server = launch(port, tmp, db=db, env=LIMITS)
    week = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    paths = {
        "hello: discovery.json (no read)": "/open311/v2/discovery.json",
        "requests.json (90 days, 100 newest)": "/open311/v2/requests.json",
        "service_code=pothole&status=open": "/open311/v2/requests.json?service_code=pothole&status=open",
        "start_date=-7d, status=closed, page 2 of 50": f"/open311/v2/requests.json?start_date={week}&status=closed"
                                                        "&page=2&page_size=50",
        "service_request_id=10 ids": "/open311/v2/requests.json?service_request_id=" + ",".join(
            str(i) for i in range(1, 100_000, 10_000)),
        "extensions=true, service_code=litter": "/open311/v2/requests.json?extensions=true&service_code=litter",
    }
    try:
        wait(f"http://127.0.0.1:{port}/healthz")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for path in paths.values():
                measure(client, path, 5)  # warm up
            print(f"{'query (' + str(args.n) + ' requests, ' + ('PostgreSQL' if args.db else 'SQLite') + ')':<48}"
                  f"{'p50 ms':>9}{'p95 ms':>9}{'rows':>6}")
            for label, path in paths.items():
                p50, p95, rows = measure(client, path, args.runs)
                print(f"{label:<48}{p50:>9.2f}{p95:>9.2f}{rows:>6}")
        write_path(db, tmp, port, server, args.posts)
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
