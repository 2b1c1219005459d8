"""MQTT benchmark: HTTP POST → MQTT subscriber latency and notification throughput to 10 subscribers.

Each figure is measured beside its baseline in the same run, through the same embedded broker:
a bare paho publish → subscribe round trip (latency) and a bare paho publisher fanning out to the
same 10 subscribers (throughput).

    python benchmarks/mqtt_latency.py            # SQLite in a temporary directory, about 60 s
    python benchmarks/mqtt_latency.py --db postgresql://postgres@127.0.0.1/bench --seconds 5

The server is a real `urbanos serve` process; the clients run in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import queue
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt

TOKEN = "bench-admin-token-0123456789"
H = {"Authorization": f"Bearer {TOKEN}"}
STATION = {
    "name": "bench counter", "description": "benchmark",
    "Locations": [{"name": "c", "description": "c", "encodingType": "application/geo+json",
                   "location": {"type": "Point", "coordinates": [144.96, -37.81]}}],
    "Datastreams": [{
        "name": "count", "description": "people per hour",
        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_CountObservation",
        "unitOfMeasurement": {"name": "count", "symbol": "{people}", "definition": "http://unitsofmeasure.org/ucum.html"},
        "Sensor": {"name": "s", "description": "s", "encodingType": "application/pdf", "metadata": "x"},
        "ObservedProperty": {"name": "p", "definition": "http://example.org/p", "description": "p"},
    }],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sub:
    """A paho subscriber that timestamps (or just counts) what it receives."""

    def __init__(self, port: int, topics: list[str], token: str | None = None, keep: bool = True) -> None:
        self.q: queue.Queue[tuple[float, bytes]] = queue.Queue()
        self.count = 0
        self.keep = keep
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="b-" + secrets.token_hex(4),
                             protocol=mqtt.MQTTv311)
        if token:
            self.c.username_pw_set("bench", token)
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.on_message = self._on
        self.c.connect("127.0.0.1", port, keepalive=60)
        self.c.loop_start()
        self.c.subscribe([(t, 0) for t in topics])
        done.wait(10)

    def _on(self, c: Any, u: Any, m: Any) -> None:
        self.count += 1
        if self.keep:
            self.q.put((time.perf_counter(), m.payload))

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def start_server(data: Path, db: str | None, mqtt_port: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    env.update({"URBANOS_ADMIN_TOKEN": TOKEN, "URBANOS_LOG_LEVEL": "warning", "URBANOS_ACCESS_LOG": "false"})
    cmd = [sys.executable, "-m", "urbanos.cli.main", "serve", "--port", str(port), "--data-dir", str(data),
           "--mqtt-port", str(mqtt_port)]
    if db:
        cmd += ["--db", db]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(data.parent / "server.log", "wb"))  # noqa: SIM115
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit("server exited early; see " + str(data.parent / "server.log"))
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def p50(xs: list[float]) -> float:
    return statistics.median(xs) * 1000 if xs else float("nan")


def latency_baseline(mport: int, n: int) -> list[float]:
    sub = Sub(mport, ["bench/latency"], token=TOKEN)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    pub.username_pw_set("bench", TOKEN)
    pub.connect("127.0.0.1", mport)
    pub.loop_start()
    time.sleep(0.2)
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        pub.publish("bench/latency", str(i).encode())
        t1, _ = sub.q.get(timeout=10)
        out.append(t1 - t0)
    pub.disconnect()
    pub.loop_stop()
    sub.close()
    return out


def latency_post(url: str, mport: int, ds: int, n: int, responses: list[float] | None = None) -> list[float]:
    sub = Sub(mport, [f"v1.1/Datastreams({ds})/Observations"])
    out = []
    with httpx.Client(headers=H, timeout=30) as http:
        for i in range(n):
            t0 = time.perf_counter()
            r = http.post(f"{url}/sta/v1.1/Datastreams({ds})/Observations", json={"result": i})
            if responses is not None:
                responses.append(time.perf_counter() - t0)
            r.raise_for_status()
            t1, _ = sub.q.get(timeout=10)
            out.append(t1 - t0)
    sub.close()
    return out


def fanout_baseline(mport: int, seconds: float) -> tuple[float, float]:
    """Bare paho: one publisher, 10 subscribers; (messages/s published, deliveries/s)."""
    subs = [Sub(mport, ["bench/fanout"], token=TOKEN, keep=False) for _ in range(10)]
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    pub.username_pw_set("bench", TOKEN)
    pub.connect("127.0.0.1", mport)
    pub.loop_start()
    time.sleep(0.2)
    payload = orjson.dumps({"result": 1, "phenomenonTime": "2024-01-01T00:00:00Z", "@iot.id": 1,
                            "@iot.selfLink": "http://127.0.0.1/sta/v1.1/Observations(1)"})
    sent = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            pub.publish("bench/fanout", payload)
        sent += 100
        time.sleep(0.001)
    pub_end = time.perf_counter()
    _drain(subs, sent * 10)
    elapsed = time.perf_counter() - t0
    got = sum(s.count for s in subs)
    for s in subs:
        s.close()
    pub.disconnect()
    pub.loop_stop()
    return sent / (pub_end - t0), got / elapsed


def _drain(subs: list[Sub], expected: int, wait: float = 10.0) -> None:
    end = time.monotonic() + wait
    last = -1
    while time.monotonic() < end:
        got = sum(s.count for s in subs)
        if got >= expected or got == last:
            return
        last = got
        time.sleep(0.5)


async def _post_load(url: str, ds: int, seconds: float, concurrency: int) -> int:
    done = 0
    end = time.perf_counter() + seconds
    async with httpx.AsyncClient(headers=H, timeout=30) as http:
        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < end:
                r = await http.post(f"{url}/sta/v1.1/Datastreams({ds})/Observations", json={"result": done})
                if r.status_code == 201:
                    done += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


async def _array_load(url: str, ds: int, seconds: float, concurrency: int, size: int = 200) -> int:
    done = 0
    end = time.perf_counter() + seconds
    async with httpx.AsyncClient(headers=H, timeout=60) as http:
        async def worker(w: int) -> None:
            nonlocal done
            i = 0
            while time.perf_counter() < end:
                rows = [[f"2024-01-01T{(w * 7 + i) % 24:02d}:{(k // 60) % 60:02d}:{k % 60:02d}Z", k] for k in range(size)]
                i += 1
                body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                         "dataArray@iot.count": size, "dataArray": rows}]
                r = await http.post(f"{url}/sta/v1.1/CreateObservations", json=body)
                if r.status_code == 201:
                    done += size
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return done


def fanout_post(url: str, mport: int, ds: int, seconds: float, array: bool = False) -> tuple[float, float]:
    """HTTP POSTs (concurrent) → notifications to 10 subscribers; (notifications/s, deliveries/s)."""
    subs = [Sub(mport, [f"v1.1/Datastreams({ds})/Observations"], keep=False) for _ in range(10)]
    t0 = time.perf_counter()
    created = asyncio.run(_array_load(url, ds, seconds, 2) if array else _post_load(url, ds, seconds, 8))
    ingest = created / (time.perf_counter() - t0)
    _drain(subs, created * 10)
    elapsed = time.perf_counter() - t0
    got = sum(s.count for s in subs)
    for s in subs:
        s.close()
    print(f"  ({'CreateObservations' if array else 'POST'} ingest: {ingest:.0f} entities/s, "
          f"{got / 10:.0f} of {created} notified)", file=sys.stderr)
    return got / 10 / elapsed, got / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary directory)")
    ap.add_argument("--n", type=int, default=300, help="round trips for each latency figure")
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput phase")
    args = ap.parse_args()
    args.n = min(args.n, 2000)
    args.seconds = min(args.seconds, 15.0)
    tmp = Path(tempfile.mkdtemp(prefix="urbanos-mqtt-bench-"))
    mport = free_port()
    proc, url = start_server(tmp / "data", args.db, mport)
    try:
        r = httpx.post(url + "/sta/v1.1/Things", json=STATION, headers=H, timeout=30)
        r.raise_for_status()
        thing = r.headers["Location"].rsplit("(", 1)[1].rstrip(")")
        ds = httpx.get(f"{url}/sta/v1.1/Things({thing})/Datastreams").json()["value"][0]["@iot.id"]
        latency_post(url, mport, ds, 20)  # warm-up
        base_lat = latency_baseline(mport, args.n)
        responses: list[float] = []
        post_lat = latency_post(url, mport, ds, args.n, responses)
        base_pub, base_del = fanout_baseline(mport, args.seconds)
        post_not, post_del = fanout_post(url, mport, ds, args.seconds)
        arr_not, arr_del = fanout_post(url, mport, ds, args.seconds, array=True)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{'PostgreSQL' if args.db else 'SQLite'}, embedded broker")
    print(f"baseline  paho publish → subscribe, p50:            {p50(base_lat):7.2f} ms  (n={len(base_lat)})")
    print(f"measured  HTTP POST → MQTT subscriber, p50:         {p50(post_lat):7.2f} ms  (n={len(post_lat)})")
    print(f"  (of which the HTTP POST response alone, p50:       {p50(responses):7.2f} ms)")
    print(f"baseline  paho fan-out to 10 subscribers:           {base_pub:9.0f} msg/s published, "
          f"{base_del:9.0f} deliveries/s")
    print(f"measured  HTTP POST notifications to 10 subscribers: {post_not:9.0f} notifications/s, "
          f"{post_del:9.0f} deliveries/s")
    print(f"measured  CreateObservations (200 per request) to 10:  {arr_not:9.0f} notifications/s, "
          f"{arr_del:9.0f} deliveries/s")


if __name__ == "__main__":
    main()
