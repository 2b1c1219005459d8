"""SensorThings ingest: single-Observation POSTs from 8 concurrent clients against a live ``urbanos serve``
(SQLite unless --db is given), beside a hello-world baseline on the same stack, in one run.

On PostgreSQL (``--db postgresql://…``) the same run also measures a raw psycopg loop (8 threads, one INSERT per
transaction into a table like the Observations', the floor for one POST per transaction), and with
``--compare`` the server again with every POST in a transaction of its own (``pg_group_size=1``) in the same
minutes. Each server line says how many POSTs were acknowledged and how many rows were stored (they must be
equal), and the CPU the server process and its database connections spent per POST (from /proc: a figure that
depends less on other work on the machine than the rate does).

    python benchmarks/sta_ingest.py [--seconds 5] [--concurrency 8] [--db postgresql://…] [--compare]
                                    [--workers N] [--set NAME=VALUE …]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _load import Result, build_request, print_results, run_load  # noqa: E402
from http_baseline import HELLO, free_port, launch, wait  # noqa: E402

TOKEN = "bench-admin-token-0123456789"
TICK = os.sysconf("SC_CLK_TCK")


def setup_stream(url: str) -> int:
    h = {"Authorization": f"Bearer {TOKEN}"}
    thing = {
        "name": "Bench", "description": "benchmark",
        "Locations": [{"name": "here", "description": "x", "encodingType": "application/geo+json",
                       "location": {"type": "Point", "coordinates": [144.96, -37.81]}}],
        "Datastreams": [{
            "name": "count", "description": "x", "observationType":
            "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
            "unitOfMeasurement": {"name": "persons per hour", "symbol": "1/h", "definition": "x"},
            "Sensor": {"name": "s", "description": "s", "encodingType": "text/html", "metadata": "x"},
            "ObservedProperty": {"name": "p", "definition": "x", "description": "p"}}]}
    r = httpx.post(f"{url}/sta/v1.1/Things", json=thing, headers=h, timeout=10)
    r.raise_for_status()
    tid = r.json()["@iot.id"]
    return int(httpx.get(f"{url}/sta/v1.1/Things({tid})/Datastreams", timeout=10).json()["value"][0]["@iot.id"])


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of processes ``pids`` so far (those gone count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the workers of ``urbanos serve --workers N``)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                continue
    return out


def backends(db: str) -> list[int]:
    """The server processes of the connections to ``db``'s database (other than this query's)."""
    import psycopg

    with psycopg.connect(db, autocommit=True) as c:
        return [r[0] for r in c.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                        " AND pid <> pg_backend_pid()").fetchall()]


def stored(url: str, ds: int) -> int:
    return int(httpx.get(f"{url}/sta/v1.1/Datastreams({ds})/Observations?$count=true&$top=0",
                         timeout=60).json()["@iot.count"])


def serve_posts(tmp: str, db: str, settings: dict[str, str], seconds: float, concurrency: int,
                workers: int = 0) -> tuple[Result, str]:
    """One server: warm up, then ``seconds`` of POSTs; the result and a line on storage and CPU."""
    port = free_port()
    urb = launch(port, tempfile.mkdtemp(dir=tmp), db=db, env={"URBANOS_ADMIN_TOKEN": TOKEN, **settings},
                 args=["--workers", str(workers)] if workers else [])
    try:
        wait(f"http://127.0.0.1:{port}/healthz")
        url = f"http://127.0.0.1:{port}"
        ds = setup_stream(url)
        host = f"127.0.0.1:{port}"
        posts = []
        for i in range(200):
            body = orjson.dumps({"result": i, "phenomenonTime": f"2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
                                 "Datastream": {"@iot.id": ds}})
            posts.append(build_request("POST", "/sta/v1.1/Observations", host, body,
                                       {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}))
        warm = run_load("127.0.0.1", port, posts, concurrency=concurrency, seconds=1.0)
        before = stored(url, ds)
        pg, server = backends(db) if db else [], tree(urb.pid)
        cpu0 = cpu_seconds(server), cpu_seconds(pg)
        r = run_load("127.0.0.1", port, posts, concurrency=concurrency, seconds=seconds)
        cpu = cpu_seconds(server) - cpu0[0], cpu_seconds(pg) - cpu0[1]
        n = stored(url, ds) - before
        acked = r.requests - r.errors
        per = [c / max(1, r.requests) * 1e6 for c in cpu]
        note = (f"acknowledged {acked}, stored {n}{'' if n == acked else '  <-- MISMATCH'}; CPU per POST: "
                f"server {per[0]:.0f} µs{f', its PostgreSQL connections {per[1]:.0f} µs' if db else ''}; "
                f"warm-up {warm.requests}")
        return r, note
    finally:
        urb.terminate()
        urb.wait(timeout=10)


def raw_inserts(db: str, seconds: float, concurrency: int) -> Result:
    """``concurrency`` threads, each INSERTing one row per transaction into a scratch copy of the Observations'
    shape (with the same index), for ``seconds``: what the driver and the database do without the platform."""
    import psycopg

    with psycopg.connect(db, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS bench_raw_obs")
        c.execute("CREATE TABLE bench_raw_obs (id BIGSERIAL PRIMARY KEY, phen_start TEXT NOT NULL, phen_end TEXT,"
                  " result TEXT, result_num DOUBLE PRECISION, datastream_id BIGINT, feature_id BIGINT)")
        c.execute("CREATE INDEX ON bench_raw_obs (datastream_id, phen_start DESC, id)")
    lat: list[float] = []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def work(k: int) -> None:
        mine = []
        with psycopg.connect(db, autocommit=True) as c:
            i = 0
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                with c.transaction():
                    c.execute("INSERT INTO bench_raw_obs (phen_start, result, result_num, datastream_id, feature_id)"
                              " VALUES (%s, %s, %s, 1, 1) RETURNING id", (f"2024-01-01T00:00:{i % 60:02d}Z", str(i), i))
                mine.append(time.perf_counter() - t0)
                i += 1
        with lock:
            lat.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    with psycopg.connect(db, autocommit=True) as c:
        c.execute("DROP TABLE bench_raw_obs")
    return Result(len(lat), took, lat, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--db", default="", help="postgresql://… (default: SQLite in a temporary folder)")
    ap.add_argument("--compare", action="store_true",
                    help="PostgreSQL: also run with every POST in a transaction of its own (pg_group_size=1)")
    ap.add_argument("--workers", type=int, default=0, help="urbanos serve --workers N (0: one process, no supervisor)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for the server, e.g. --set pg_group_concurrency=4")
    args = ap.parse_args()
    settings = {f"URBANOS_{k.strip().upper()}": v for k, _, v in (x.partition("=") for x in args.set)}
    tmp = tempfile.mkdtemp(prefix="urbanos-bench-")
    p_hello = free_port()
    hello = subprocess.Popen([sys.executable, "-c", HELLO, str(p_hello)])
    try:
        wait(f"http://127.0.0.1:{p_hello}/hello")
        hello_req = build_request("GET", "/hello", f"127.0.0.1:{p_hello}")
        run_load("127.0.0.1", p_hello, [hello_req], concurrency=args.concurrency, seconds=1.0)
        base = run_load("127.0.0.1", p_hello, [hello_req], concurrency=args.concurrency, seconds=args.seconds)
        rows: list[tuple[str, Result]] = [("hello-world GET (baseline)", base)]
        notes = []
        if args.db:
            rows.append(("raw psycopg INSERT, one per transaction", raw_inserts(args.db, args.seconds, args.concurrency)))
        runs = [("POST /sta/v1.1/Observations", settings)]
        if args.db and args.compare:
            runs.append(("  … each in its own transaction", {**settings, "URBANOS_PG_GROUP_SIZE": "1"}))
        for name, env in runs:
            r, note = serve_posts(tmp, args.db, env, args.seconds, args.concurrency, args.workers)
            rows.append((name, r))
            notes.append(f"{name.strip(' …')}: {note}")
        load = os.getloadavg()[0]
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"database: {'PostgreSQL' if args.db else 'SQLite'}, workers: {args.workers or 'one process'}, "
              f"load average {load:.1f}")
        print_results("what", rows, 44)
        for n in notes:
            print(n)
        print(f"ingest reaches {rows[-len(runs)][1].rate / base.rate:.0%} of the hello-world rate "
              "(target: >= 2,000 POSTs/s with 8 clients; GOST published 542/s on PostgreSQL)")
    finally:
        hello.terminate()
        hello.wait(timeout=10)


if __name__ == "__main__":
    main()
