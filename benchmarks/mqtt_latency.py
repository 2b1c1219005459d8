"""MQTT benchmark: HTTP POST → MQTT subscriber latency and notification throughput to 10 subscribers.

Each figure is measured beside its baseline in the same run, through the same embedded broker:
a bare paho publish → subscribe round trip (latency) and a bare publisher fanning out to the
same 10 subscribers (throughput). Throughput is reported as notifications/s (messages that reached
every one of the 10 subscribers) and deliveries/s (messages received, all subscribers together).

    python benchmarks/mqtt_latency.py            # SQLite in a temporary directory, about 60 s
    python benchmarks/mqtt_latency.py --db postgresql://postgres@127.0.0.1/bench --seconds 5

The server is a real `urbanos serve` process. Latency clients run in this process; in the throughput
phases every subscriber, publisher and ingest client runs in its own process, so the figures are
the server's and not this process's.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
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

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, launch  # noqa: E402
from sta_ingest import TOKEN, setup_stream  # noqa: E402

H = {"Authorization": f"Bearer {TOKEN}"}


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
    proc = launch(port, data, db=db or "", mqtt_port=mqtt_port, env={"URBANOS_ADMIN_TOKEN": TOKEN},
                  stdout=subprocess.DEVNULL, stderr=open(data.parent / "server.log", "wb"))  # noqa: SIM115
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


# -- throughput: every client in its own process, so that the figures measure the server -------------------


def _raw_sub(port: int, topic: str, token: str | None, idx: int, ready: Any, stop: Any, stats: Any) -> None:
    """A minimal MQTT subscriber in its own process: counts PUBLISH packets, keeps first/last arrival time."""
    from urbanos.sensing.mqtt import codec

    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(codec.connect(f"bench-sub-{idx}-{os.getpid()}", keepalive=0,
                            username="bench" if token else None, password=token))
    s.sendall(codec.subscribe(1, [(topic, 0)]))
    buf = b""
    while len(buf) < 4 + 5:  # CONNACK (4 bytes) + SUBACK (5 bytes)
        buf += s.recv(64)
    buf = buf[9:]
    ready.set()
    s.settimeout(0.2)
    count, first, last = 0, 0.0, 0.0
    while not stop.is_set():
        try:
            data = s.recv(1 << 20)
        except TimeoutError:
            continue
        if not data:
            break
        now = time.monotonic()
        buf = buf + data if buf else data
        pos, n = 0, len(buf)
        got = 0
        while pos + 2 <= n:
            ptype = buf[pos] >> 4
            i, mult, length = pos + 1, 1, 0
            while i < n:
                b = buf[i]
                length += (b & 0x7F) * mult
                i += 1
                if not b & 0x80:
                    break
                mult *= 128
            else:
                break
            if i + length > n:
                break
            if ptype == 3:
                got += 1
            pos = i + length
        buf = buf[pos:]
        if got:
            if not count:
                first = now
            count += got
            last = now
            stats[idx * 3], stats[idx * 3 + 1], stats[idx * 3 + 2] = count, first, last
    s.close()


def _raw_pub(port: int, token: str, topic: str, seconds: float, ready: Any, go: Any, result: Any) -> None:
    """A bare publisher in its own process: QoS 0 publishes as fast as TCP takes them."""
    from urbanos.sensing.mqtt import codec

    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(codec.connect(f"bench-pub-{os.getpid()}", keepalive=0, username="bench", password=token))
    s.recv(4)
    payload = orjson.dumps({"@iot.id": 1, "@iot.selfLink": "http://127.0.0.1:8000/sta/v1.1/Observations(1)",
                            "phenomenonTime": "2024-01-01T00:00:00Z", "resultTime": None, "result": 1,
                            "Datastream@iot.navigationLink": "http://127.0.0.1:8000/sta/v1.1/Observations(1)/Datastream"})
    chunk = codec.publish(topic, payload) * 50
    ready.set()
    go.wait()
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.sendall(chunk)
        sent += 50
    result.value = sent
    s.sendall(codec.DISCONNECT_BYTES)
    s.close()


def _ingest(url: str, ds: int, size: int, w: int, seconds: float, ready: Any, go: Any, result: Any) -> None:
    """CreateObservations with ``size`` observations per request, sequentially, in its own process."""
    rows_done = 0
    with httpx.Client(headers=H, timeout=60) as http:
        ready.set()
        go.wait()
        end = time.monotonic() + seconds
        i = 0
        while time.monotonic() < end:
            rows = [[f"20{10 + w:02d}-01-{1 + i % 28:02d}T{(i // 28) % 24:02d}:{(k // 60) % 60:02d}:{k % 60:02d}Z", k]
                    for k in range(size)]
            i += 1
            body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                     "dataArray@iot.count": size, "dataArray": rows}]
            r = http.post(f"{url}/sta/v1.1/CreateObservations", json=body)
            if r.status_code == 201:
                rows_done += size
    result.value = rows_done


def _mqtt_ingest(port: int, token: str, topic: str, seconds: float, ready: Any, go: Any, result: Any) -> None:
    """Creates via MQTT: QoS 1 publishes of single Observations, 100 at a time, each window waiting for its
    PUBACKs (sent after the commit), in its own process. Returns the acknowledged creates."""
    from urbanos.sensing.mqtt import codec

    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(codec.connect(f"bench-ingest-{os.getpid()}", keepalive=0, username="bench", password=token))
    s.recv(4)
    ready.set()
    go.wait()
    acked = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s.sendall(b"".join(codec.publish(topic, b'{"result": %d}' % (acked + k), 1, k + 1) for k in range(100)))
        need = 100 * 4  # PUBACK: 4 bytes each
        while need > 0:
            data = s.recv(need)
            if not data:
                raise SystemExit("the broker closed the connection")
            need -= len(data)
        acked += 100
    result.value = acked
    s.sendall(codec.DISCONNECT_BYTES)
    s.close()


def _metric(url: str, line: str) -> float:
    for row in httpx.get(url + "/metrics", timeout=10).text.splitlines():
        if row.startswith(line + " "):
            return float(row.split()[-1])
    return 0.0


DROPPED = 'urbanos_mqtt_events_total{event="dropped",reason="queue_full"}'


def fanout(mport: int, topic: str, sub_token: str | None, producers: list[tuple[Any, tuple[Any, ...]]],
           seconds: float, url: str | None = None) -> dict[str, float]:
    """10 subscriber processes on ``topic``; ``producers`` (function, args) run in their own processes.

    Returns produced, per-subscriber counts, window and rates; the window runs from the start signal
    to the last message any subscriber received.
    """
    ctx = mp.get_context("spawn")
    stop, go = ctx.Event(), ctx.Event()
    stats = ctx.Array("d", 30, lock=False)
    subs = []
    for i in range(10):
        ready = ctx.Event()
        p = ctx.Process(target=_raw_sub, args=(mport, topic, sub_token, i, ready, stop, stats), daemon=True)
        p.start()
        subs.append((p, ready))
    for _p, ready in subs:
        if not ready.wait(60):
            raise SystemExit("a subscriber did not start")
    prods = []
    for fn, args in producers:
        ready, result = ctx.Event(), ctx.Value("q", 0, lock=False)
        p = ctx.Process(target=fn, args=(*args, seconds, ready, go, result), daemon=True)
        p.start()
        prods.append((p, ready, result))
    for _p, ready, _r in prods:
        if not ready.wait(60):
            raise SystemExit("a producer did not start")
    dropped0 = _metric(url, DROPPED) if url else 0.0
    time.sleep(0.3)
    t0 = time.monotonic()
    go.set()
    for p, _ready, _r in prods:
        p.join(seconds + 120)
    produced = sum(r.value for _p, _ready, r in prods)
    # wait until the subscribers stop receiving
    last = -1.0
    for _ in range(40):
        time.sleep(0.5)
        total = sum(stats[i * 3] for i in range(10))
        if total >= produced * 10 or total == last:
            break
        last = total
    stop.set()
    for p, _ready in subs:
        p.join(5)
    counts = [stats[i * 3] for i in range(10)]
    end = max(stats[i * 3 + 2] for i in range(10)) or time.monotonic()
    window = max(end - t0, 1e-9)
    dropped = (_metric(url, DROPPED) - dropped0) if url else float("nan")
    return {"produced": produced, "min": min(counts), "sum": sum(counts), "window": window,
            "notifications": min(counts) / window, "deliveries": sum(counts) / window, "dropped": dropped,
            "ingest": produced / seconds}


def _show(name: str, r: dict[str, float], unit: str) -> None:
    print(f"  ({name}: {r['produced']:.0f} {unit} in the run ({r['ingest']:.0f}/s); each of 10 subscribers got "
          f"{r['min']:.0f}..{r['sum'] / 10:.0f}; last delivery {r['window']:.1f} s after the start; "
          f"queue-full drops {r['dropped']:.0f})", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary directory)")
    ap.add_argument("--n", type=int, default=300, help="round trips for each latency figure")
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput phase")
    ap.add_argument("--ingest", type=int, default=2, help="CreateObservations client processes")
    ap.add_argument("--mqtt-ingest", type=int, default=2, help="processes creating Observations via MQTT publishes")
    ap.add_argument("--skip-latency", action="store_true", help="throughput phases only")
    ap.add_argument("--skip-baseline", action="store_true", help="no bare fan-out phase (for profiling the server)")
    ap.add_argument("--skip-throughput", action="store_true", help="latency figures only")
    args = ap.parse_args()
    args.n = min(args.n, 2000)
    args.seconds = min(args.seconds, 15.0)
    args.ingest = max(1, min(args.ingest, 8))
    args.mqtt_ingest = max(0, min(args.mqtt_ingest, 8))
    tmp = Path(tempfile.mkdtemp(prefix="urbanos-mqtt-bench-"))
    mport = free_port()
    proc, url = start_server(tmp / "data", args.db, mport)
    base_lat: list[float] = []
    post_lat: list[float] = []
    responses: list[float] = []
    try:
        ds = setup_stream(url)
        topic = f"v1.1/Datastreams({ds})/Observations"
        if not args.skip_latency:
            latency_post(url, mport, ds, 20)  # warm-up
            base_lat = latency_baseline(mport, args.n)
            post_lat = latency_post(url, mport, ds, args.n, responses)
        base: dict[str, float] | None = None
        arr: dict[str, float] | None = None
        mq: dict[str, float] | None = None
        if not args.skip_throughput:
            if not args.skip_baseline:
                base = fanout(mport, "bench/fanout", TOKEN, [(_raw_pub, (mport, TOKEN, "bench/fanout"))],
                              args.seconds, url)
                _show("baseline", base, "messages published")
            arr = fanout(mport, topic, None, [(_ingest, (url, ds, 200, w)) for w in range(args.ingest)],
                         args.seconds, url)
            _show(f"CreateObservations x{args.ingest}", arr, "observations created")
            if args.mqtt_ingest:
                mq = fanout(mport, topic, None, [(_mqtt_ingest, (mport, TOKEN, topic))
                                                 for _ in range(args.mqtt_ingest)], args.seconds, url)
                _show(f"MQTT creates x{args.mqtt_ingest}", mq, "creates acknowledged")
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{'PostgreSQL' if args.db else 'SQLite'}, embedded broker; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if post_lat:
        print(f"baseline  paho publish → subscribe, p50:            {p50(base_lat):7.2f} ms  (n={len(base_lat)})")
        print(f"measured  HTTP POST → MQTT subscriber, p50:         {p50(post_lat):7.2f} ms  (n={len(post_lat)})")
        print(f"  (of which the HTTP POST response alone, p50:       {p50(responses):7.2f} ms)")
    if base is not None:
        print(f"baseline  bare publisher fan-out to 10 subscribers:  {base['notifications']:9.0f} messages/s to all, "
              f"{base['deliveries']:9.0f} deliveries/s")
    if arr is not None:
        print(f"measured  CreateObservations x{args.ingest} → 10 subscribers:    {arr['notifications']:9.0f} "
              f"notifications/s, {arr['deliveries']:9.0f} deliveries/s")
    if mq is not None:
        print(f"measured  MQTT creates x{args.mqtt_ingest} → 10 subscribers:          {mq['notifications']:9.0f} "
              f"notifications/s, {mq['deliveries']:9.0f} deliveries/s")


if __name__ == "__main__":
    main()
