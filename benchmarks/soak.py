"""Soak: the demo under steady ingest and reads for --minutes (default 10), its memory sampled all along.

    python benchmarks/soak.py [--minutes 10] [--posts 50] [--reads 20] [--db postgresql://…] [--set NAME=VALUE …]

Starts ``urbanos demo`` (its live simulators feed parking, bins, air quality and the pedestrian replay) on free
ports of 127.0.0.1, then for the whole run POSTs ``--posts`` Observations a second and makes ``--reads`` reads a
second, mixed over SensorThings, OGC API items, the CKAN search, DCAT, a dashboard and the cockpit's public page.
Every 5 s it reads the server's resident memory (VmRSS). It prints the baseline (the demo idle after its start,
measured in the same run), the peak, and the trend over the second half of the run (least-squares slope, MB per
minute): the promise is under 300 MB with no growth trend. Loops are bounded by the run's end; traffic goes to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, wait  # noqa: E402

ADMIN = "soak-admin-token-0123456789abcdef"
READS = ("/sta/v1.1/Observations?$top=100&$orderby=phenomenonTime%20desc", "/sta/v1.1/Datastreams?$top=50",
         "/ogcapi/collections", "/api/3/action/package_search?q=hamburg", "/catalog.ttl?page=1",
         "/dashboards/parking", "/cockpit/public", "/sta/v1.1/Things?$expand=Locations&$top=20")


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A figure of ``/proc/<pid>/status`` in MB: VmRSS (all resident memory), RssAnon (the heap) or RssFile."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) points, in MB per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return 60 * sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else 0.0


def paced(rate: float, stop: float, fn: object) -> tuple[int, int]:
    """Call ``fn`` ``rate`` times a second until ``stop`` (monotonic); (calls, failures)."""
    calls = fails = 0
    start = time.monotonic()
    while (now := time.monotonic()) < stop:
        due = start + calls / rate
        if due > now:
            time.sleep(min(due - now, stop - now))
            continue
        calls += 1
        try:
            if not fn():  # type: ignore[operator]
                fails += 1
        except httpx.HTTPError:
            fails += 1
    return calls, fails


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--posts", type=float, default=50.0, help="Observation POSTs a second")
    ap.add_argument("--reads", type=float, default=20.0, help="reads a second")
    ap.add_argument("--db", default="", help="database URL (default: SQLite in a temporary folder)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a setting for the demo, e.g. --set sqlite_cache_mb=16")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-soak-")
    port, mqtt = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    env.update({"URBANOS_ACCESS_LOG": "false", "URBANOS_LOG_LEVEL": "warning", "URBANOS_ADMIN_TOKEN": ADMIN})
    env.update({"URBANOS_" + k.upper(): v for k, _, v in (item.partition("=") for item in args.set)})
    cmd = [sys.executable, "-m", "urbanos.cli.main", "demo", "--port", str(port), "--mqtt-port", str(mqtt),
           "--data-dir", tmp] + (["--db", args.db] if args.db else [])
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        t0 = time.monotonic()
        wait(url + "/healthz")
        started = time.monotonic() - t0
        h = {"Authorization": f"Bearer {ADMIN}"}
        with httpx.Client(base_url=url, timeout=30) as c:
            thing = c.post("/sta/v1.1/Things", headers=h, json={
                "name": "soak", "description": "soak test station",
                "Locations": [{"name": "here", "description": "h", "encodingType": "application/geo+json",
                               "location": {"type": "Point", "coordinates": [9.99, 53.55]}}],
                "Datastreams": [{"name": "soak", "description": "d", "observationType": "OM_Measurement",
                                 "unitOfMeasurement": {"name": "n", "symbol": "n", "definition": "n"},
                                 "Sensor": {"name": "s", "description": "s", "encodingType": "text/plain", "metadata": "m"},
                                 "ObservedProperty": {"name": "p", "definition": "p", "description": "p"}}]})
            thing.raise_for_status()
            ds = c.get(thing.headers["Location"] + "/Datastreams").json()["value"][0]["@iot.id"]
        time.sleep(10)  # the demo settles (its first simulator ticks, caches)
        baseline = rss_mb(server.pid)
        print(f"demo up in {started:.1f} s; baseline (idle) RSS {baseline:.1f} MB")
        stop = time.monotonic() + args.minutes * 60
        counter = itertools.count()
        samples: list[tuple[float, float]] = []
        heap: list[tuple[float, float]] = []
        post_client = httpx.Client(base_url=url, timeout=30, headers=h)
        read_client = httpx.Client(base_url=url, timeout=30)

        def post() -> bool:
            r = post_client.post(f"/sta/v1.1/Datastreams({ds})/Observations", json={"result": next(counter) % 1000})
            return r.status_code == 201

        paths = itertools.cycle(READS)

        def read() -> bool:
            return read_client.get(next(paths)).status_code == 200

        outcome: dict[str, tuple[int, int]] = {}
        threads = [threading.Thread(target=lambda: outcome.__setitem__("posts", paced(args.posts, stop, post))),
                   threading.Thread(target=lambda: outcome.__setitem__("reads", paced(args.reads, stop, read)))]
        for t in threads:
            t.start()
        begin = time.monotonic()
        while time.monotonic() < stop:
            samples.append((time.monotonic() - begin, rss_mb(server.pid)))
            heap.append((samples[-1][0], rss_mb(server.pid, "RssAnon")))
            time.sleep(min(5.0, max(0.0, stop - time.monotonic())))
        for t in threads:
            t.join()
        post_client.close()
        read_client.close()
        samples.append((time.monotonic() - begin, rss_mb(server.pid)))
        second_half = [p for p in samples if p[0] >= samples[-1][0] / 2]
        heap_half = [p for p in heap if p[0] >= samples[-1][0] / 2]
        peak = max(m for _, m in samples)
        posts, post_fails = outcome.get("posts", (0, 0))
        reads, read_fails = outcome.get("reads", (0, 0))
        print(f"{args.minutes:g} min: {posts} POSTs ({post_fails} failed), {reads} reads ({read_fails} failed)")
        print(f"RSS baseline {baseline:.1f} MB | peak {peak:.1f} MB | end {samples[-1][1]:.1f} MB | trend over the "
              f"second half {slope(second_half):+.2f} MB/min (target: peak < 300 MB, no growth)")
        print(f"of which the heap (RssAnon): {heap[0][1]:.1f} MB at the start, {heap[-1][1]:.1f} MB at the end, trend "
              f"over the second half {slope(heap_half):+.2f} MB/min")
        print("samples (s, MB):", " ".join(f"{s:.0f}:{m:.0f}" for s, m in samples[:: max(1, len(samples) // 24)]))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
