"""The SensorThings mirror in live mode: latency from an Observation POSTed on the remote to its row in the local
mirror, beside the remote's own MQTT notification latency for the same POST (the baseline: what any live mirror must
wait for before it can write).

Two real ``urbanos serve`` processes on this machine: the remote (SQLite, its embedded broker on a free port) and the
local one (SQLite unless --db is given) with a ``sta`` connector in live mode on the remote. Observations are POSTed
one at a time (the next once both sides saw the previous one); per Observation, two subscribers in this process time

* the remote's notification on ``v1.1/Datastreams(<remote id>)/Observations`` (baseline), and
* the local notification of the mirrored row on ``v1.1/Datastreams(<local id>)/Observations``: sent after the local
  transaction committed, so the row existed at least that early (the figure is an upper bound of POST → row).

    python benchmarks/connectors_sta_live.py [--n 300] [--db postgresql://…]
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, launch, wait  # noqa: E402

TOKEN = "bench-admin-token-0123456789"  # noqa: S105 - a throwaway token of throwaway servers
H = {"Authorization": f"Bearer {TOKEN}"}


class Sub:
    """A subscriber putting (arrival time, result) of each Observation on its queue."""

    def __init__(self, port: int, topic: str) -> None:
        self.q: queue.Queue[tuple[float, Any]] = queue.Queue()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="b-" + secrets.token_hex(4))
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.on_message = lambda c, u, m: self.q.put((time.perf_counter(), orjson.loads(m.payload)["result"]))
        self.c.connect("127.0.0.1", port, keepalive=60)
        self.c.loop_start()
        self.c.subscribe(topic, 0)
        assert done.wait(10)

    def until(self, result: Any, timeout: float = 30.0) -> float:
        deadline = time.monotonic() + timeout
        while True:
            at, got = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            if got == result:
                return at

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--db", default="", help="the local mirror's database (default: SQLite)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="urbanos-bench-live-"))
    rport, rmqtt, lport, lmqtt = free_port(), free_port(), free_port(), free_port()
    env = {"URBANOS_ADMIN_TOKEN": TOKEN}
    remote = launch(rport, tmp / "remote", mqtt_port=rmqtt, env=env)
    local = launch(lport, tmp / "local", db=args.db, mqtt_port=lmqtt,
                   env={**env, "URBANOS_OUTBOUND_ALLOW": "127.0.0.1", "URBANOS_CONNECTORS_SCHEDULER": "false"})
    subs: list[Sub] = []
    try:
        rroot, lurl = f"http://127.0.0.1:{rport}/sta/v1.1", f"http://127.0.0.1:{lport}"
        wait(f"http://127.0.0.1:{rport}/healthz")
        wait(f"{lurl}/healthz")
        with httpx.Client(timeout=60, headers=H) as cl:
            thing = {"name": "Bench", "description": "x", "Locations": [{
                "name": "here", "description": "x", "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [9.9, 53.5]}}],
                "Datastreams": [{"name": "bench live", "description": "x", "observationType":
                                 "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                                 "unitOfMeasurement": {"name": "degree", "symbol": "°C", "definition": "x"},
                                 "Sensor": {"name": "s", "description": "s", "encodingType": "text/html", "metadata": "x"},
                                 "ObservedProperty": {"name": "p", "definition": "x", "description": "p"}}]}
            r = cl.post(f"{rroot}/Things", json=thing)
            r.raise_for_status()
            rds = int(cl.get(f"{r.headers['location']}/Datastreams").json()["value"][0]["@iot.id"])
            cl.post(f"{lurl}/api/3/action/organization_create", json={"name": "city", "title": "City"}
                    ).raise_for_status()
            cl.post(f"{lurl}/api/3/action/package_create", json={"name": "mirror", "title": "Mirror",
                                                                 "owner_org": "city"}).raise_for_status()
            cl.post(f"{lurl}/connectors", json={"name": "live", "type": "sta", "url": rroot, "dataset": "mirror",
                                                "mapping": {"live": True, "mqtt": f"mqtt://127.0.0.1:{rmqtt}"}}
                    ).raise_for_status()
            assert cl.post(f"{lurl}/connectors/live/run").json()["status"] == "ok"
            deadline = time.monotonic() + 30
            while not cl.get(f"{lurl}/connectors/live").json()["live"]["connected"]:
                assert time.monotonic() < deadline, "the live link did not connect"
                time.sleep(0.1)
            lds = int(cl.get(f"{lurl}/sta/v1.1/Datastreams", params={"$filter": "name eq 'bench live'"}
                             ).json()["value"][0]["@iot.id"])
            subs = [Sub(rmqtt, f"v1.1/Datastreams({rds})/Observations"),
                    Sub(lmqtt, f"v1.1/Datastreams({lds})/Observations")]
            time.sleep(1.0)  # the gap-closing run after connecting is done
            base, mirror = [], []
            for i in range(args.n + 20):
                t0 = time.perf_counter()
                at = f"2025-01-01T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z"
                cl.post(f"{rroot}/Observations", json={"Datastream": {"@iot.id": rds}, "result": i,
                                                       "phenomenonTime": at}).raise_for_status()
                a, b = subs[0].until(i), subs[1].until(i)
                if i >= 20:  # warm-up
                    base.append((a - t0) * 1000)
                    mirror.append((b - t0) * 1000)
            count = cl.get(f"{lurl}/sta/v1.1/Datastreams({lds})/Observations",
                           params={"$count": "true", "$top": 0}).json()["@iot.count"]
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"load {os.getloadavg()[0]:.1f}; local database: {'PostgreSQL' if args.db else 'SQLite'}")
        print(f"{args.n} Observations POSTed one at a time on the remote; {count} rows in the local mirror")
        for name, xs in (("remote MQTT notification (baseline)", base), ("local mirrored row (live mode)", mirror)):
            print(f"  {name:38s} p50 {statistics.median(xs):7.1f} ms   p95 {pct(xs, 95):7.1f} ms   "
                  f"max {max(xs):7.1f} ms")
        extra = [m - b for m, b in zip(mirror, base, strict=True)]
        print(f"  {'mirror minus baseline':38s} p50 {statistics.median(extra):7.1f} ms   p95 {pct(extra, 95):7.1f} ms")
    finally:
        for s in subs:
            s.close()
        for p in (local, remote):
            p.terminate()
            p.wait(timeout=15)


if __name__ == "__main__":
    main()
