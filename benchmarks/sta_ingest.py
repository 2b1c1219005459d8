"""SensorThings ingest: single-Observation POSTs from 8 concurrent clients against a live ``urbanos serve``
(SQLite unless --db is given), beside a hello-world baseline on the same stack, in one run.

    python benchmarks/sta_ingest.py [--seconds 5] [--concurrency 8] [--db postgresql://…]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _load import build_request, print_results, run_load  # noqa: E402
from http_baseline import HELLO, free_port, launch, wait  # noqa: E402

TOKEN = "bench-admin-token-0123456789"


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--db", default="")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-bench-")
    p_hello, p_urb = free_port(), free_port()
    hello = subprocess.Popen([sys.executable, "-c", HELLO, str(p_hello)])
    urb = launch(p_urb, tmp, db=args.db, env={"URBANOS_ADMIN_TOKEN": TOKEN})
    try:
        wait(f"http://127.0.0.1:{p_hello}/hello")
        wait(f"http://127.0.0.1:{p_urb}/healthz")
        url = f"http://127.0.0.1:{p_urb}"
        ds = setup_stream(url)
        host = f"127.0.0.1:{p_urb}"
        posts = []
        for i in range(200):
            body = orjson.dumps({"result": i, "phenomenonTime": f"2024-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
                                 "Datastream": {"@iot.id": ds}})
            posts.append(build_request("POST", "/sta/v1.1/Observations", host, body,
                                       {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}))
        hello_req = build_request("GET", "/hello", f"127.0.0.1:{p_hello}")
        run_load("127.0.0.1", p_hello, [hello_req], concurrency=args.concurrency, seconds=1.0)
        base = run_load("127.0.0.1", p_hello, [hello_req], concurrency=args.concurrency, seconds=args.seconds)
        run_load("127.0.0.1", p_urb, posts, concurrency=args.concurrency, seconds=1.0)
        r = run_load("127.0.0.1", p_urb, posts, concurrency=args.concurrency, seconds=args.seconds)
        n = httpx.get(f"{url}/sta/v1.1/Datastreams({ds})/Observations?$count=true&$top=0", timeout=30).json()["@iot.count"]
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"database: {'PostgreSQL' if args.db else 'SQLite'}")
        print_results("what", [("hello-world GET (baseline)", base), ("POST /sta/v1.1/Observations", r)], 40)
        print(f"observations stored: {n} (target: >= 2,000 POSTs/s on SQLite; GOST published 542/s)")
        print(f"ingest reaches {r.rate / base.rate:.0%} of the hello-world rate")
    finally:
        for p in (hello, urb):
            p.terminate()
            p.wait(timeout=10)


if __name__ == "__main__":
    main()
