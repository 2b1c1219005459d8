"""Overload: goodput (2xx a second), p50/p99 and the requests shed, under 200 and 700 connections of heavy
anonymous reads (``GET /sta/v1.1/Observations?$top=1000`` on the demo's data, SQLite), with the latency of
``/healthz`` and ``/readyz`` probed meanwhile, on the main port and on the health listener (setting health_port:
a thread of its own, outside the event loop); before (the overall limit only: every class budget 0) and after
(the per-class budgets with the expected-wait queue), in the same run.

    python benchmarks/overload.py [--seconds 10] [--rounds 3] [--connections 200,700] [--cache /tmp] [--only after]

The load is a closed loop of keep-alive connections on 127.0.0.1 (asyncio sockets, as in _load.py): each sends
its next request as soon as it has an answer, 503s included, as a crowd of impatient clients does; the server's
answers are few enough a second that the client's own cost does not matter. The demo's data is loaded once with
``urbanos demo`` and kept under --cache. Goal: goodput under 700 connections at least the goodput at 200.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import multiprocessing
import os
import platform as pyplatform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _load import build_request  # noqa: E402
from http_baseline import free_port, launch, wait  # noqa: E402

HEAVY = "/sta/v1.1/Observations?$top=1000"
CONFIGS = (
    ("before: overall limit only", {"URBANOS_BUDGET_HEAVY_READS": "0", "URBANOS_BUDGET_WRITES": "0",
                                    "URBANOS_BUDGET_MQTT": "0", "URBANOS_BUDGET_OTHER": "0",
                                    "URBANOS_SHED_ANSWERS_PER_SECOND": "0"}),
    ("after: class budgets, expected-wait queue", {}),
    ("after, --workers 1: listener in parent", {}),
)
ARGS = {"after, --workers 1: listener in parent": ["--workers", "1"]}  # else one process, no supervisor


def demo_data(cache: str) -> Path:
    """The demo's database, loaded once by ``urbanos demo`` (which then serves; it is stopped once ready)."""
    where = Path(cache) / "urbanos-overload-demo"
    if (where / "urbanos.db").is_file():
        return where
    Path(cache).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="urbanos-overload-", dir=cache))
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    environ.update({"URBANOS_LOG_LEVEL": "warning", "URBANOS_ACCESS_LOG": "false"})
    proc = subprocess.Popen([sys.executable, "-m", "urbanos.cli.main", "demo", "--data-dir", str(tmp), "--port",
                             str(port), "--mqtt-port", "0"], env=environ, stdout=subprocess.DEVNULL)
    try:
        wait(f"http://127.0.0.1:{port}/healthz")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    shutil.rmtree(where, ignore_errors=True)
    tmp.rename(where)
    return where


class Prober(threading.Thread):
    """GET ``path`` every 100 ms on a connection of its own while the load runs; latencies in seconds."""

    def __init__(self, port: int, path: str) -> None:
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("GET", self.path)
                r = conn.getresponse()
                r.read()
                self.statuses.append(r.status)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.statuses.append(0)
            self.latencies.append(time.perf_counter() - t0)
            self.stop.wait(0.1)
        conn.close()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` and its children (a supervisor's workers) so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return own + sum(_cpu_seconds(int(c)) for c in children)


async def read_response(reader: asyncio.StreamReader) -> int:
    """The status of one HTTP/1.1 answer, its body read (Content-Length or chunked)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, chunked = 0, False
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        elif line.startswith(b"transfer-encoding:") and b"chunked" in line:
            chunked = True
    while chunked:
        size = int((await reader.readline()).strip(), 16)
        await reader.readexactly(size + 2)
        chunked = size != 0
    if length:
        await reader.readexactly(length)
    return status


async def _client(port: int, request: bytes, stop_at: float, out: list[tuple[int, float]]) -> None:
    """One connection in a closed loop: the next request as soon as an answer came (503s included)."""
    writer = None
    while time.perf_counter() < stop_at:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            t0 = time.perf_counter()
            writer.write(request)
            status = await asyncio.wait_for(read_response(reader), timeout=max(0.1, stop_at - t0))
            out.append((status, time.perf_counter() - t0))
        except TimeoutError:  # the window closed with this request unanswered
            break
        except (OSError, asyncio.IncompleteReadError, ValueError):
            out.append((0, 0.0))
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.05)
    if writer is not None:
        writer.close()


def load(port: int, connections: int, seconds: float) -> dict[str, float]:
    """``connections`` clients for ``seconds``: goodput, latency percentiles of the 2xx, and the 503s."""
    request = build_request("GET", HEAVY, f"127.0.0.1:{port}")
    out: list[tuple[int, float]] = []

    async def run() -> None:
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(*(_client(port, request, stop_at, out) for _ in range(connections)))

    asyncio.run(run())
    ok = sorted(t for s, t in out if 200 <= s < 300)
    shed = [t for s, t in out if s == 503]

    def pct(xs: list[float], q: float) -> float:
        return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else float("nan")

    return {"ok": len(ok), "shed": len(shed), "goodput": len(ok) / seconds, "p50": pct(ok, 0.5), "p99": pct(ok, 0.99),
            "other": sum(1 for s, _ in out if not (200 <= s < 300 or s == 503)),
            "shed_p50": statistics.median(shed) * 1000 if shed else float("nan")}


def drained(port: int, limit: float = 120.0) -> None:
    """Wait until the server has finished what an earlier load left in flight."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
        except httpx.HTTPError:
            text = ""
        m = re.search(r'urbanos_load\{class="all",figure="in_flight"\} ([\d.]+)', text)
        if m and float(m.group(1)) <= 1:
            return
        time.sleep(0.5)


class FreshProber(Prober):
    """GET ``path`` every 100 ms on a new connection each time (as Kubernetes' and systemd's probes do)."""

    def run(self) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                conn.request("GET", self.path)
                r = conn.getresponse()
                r.read()
                self.statuses.append(r.status)
            except (OSError, http.client.HTTPException):
                self.statuses.append(0)
            finally:
                conn.close()
            self.latencies.append(time.perf_counter() - t0)
            self.stop.wait(0.1)


# (name, where: main port | health listener | floor, a new connection per probe); the floor is a health listener
# alone in an idle process of its own: what the machine's scheduling costs any probe
PROBES = (("healthz", "main", False), ("readyz", "main", False), ("healthz_new_connection", "main", True),
          ("healthz_listener", "health", True), ("readyz_listener", "health", True), ("healthz_floor", "floor", True))
SAMPLES: dict[tuple[str, int, str], list[float]] = {}  # (configuration, connections, probe) -> latencies, all rounds


def _probe(ports: dict[str, int], stop: Any, out: Any) -> None:  # runs in a process of its own
    """The probes of one window, in a process of their own (the load generator's interpreter lock would delay
    them): their latencies and statuses are sent to ``out`` once ``stop`` is set."""
    probes = [(FreshProber if fresh else Prober)(ports[where], "/" + name.split("_")[0]) for name, where, fresh in PROBES]
    for p in probes:
        p.start()
    stop.wait()
    for p in probes:
        p.stop.set()
        p.join()
    out.send([(p.latencies, p.statuses) for p in probes])
    out.close()


def floor_listener(port: int) -> None:  # runs in a process of its own
    from urbanos.web.probes import ProbeServer

    ProbeServer("127.0.0.1", port, lambda path: (200, b'{"status":"ok"}')).start()
    threading.Event().wait()


def window(label: str, srv: subprocess.Popen[bytes], ports: dict[str, int], connections: int,
           seconds: float) -> dict[str, float]:
    """One load of ``connections`` for ``seconds`` with the probes and the server's CPU time."""
    ctx = multiprocessing.get_context("fork")
    stop, (receive, send) = ctx.Event(), ctx.Pipe(duplex=False)
    prober = ctx.Process(target=_probe, args=(ports, stop, send), daemon=True)
    prober.start()
    cpu = _cpu_seconds(srv.pid)
    row = load(ports["main"], connections, seconds)
    row["cpu"] = (_cpu_seconds(srv.pid) - cpu) / seconds
    stop.set()
    results = receive.recv()
    prober.join()
    for (latencies, statuses), (name, _, _) in zip(results, PROBES, strict=True):
        xs = sorted(latencies) or [float("nan")]
        row[f"{name}_p50"] = statistics.median(xs) * 1000
        row[f"{name}_max"] = xs[-1] * 1000
        SAMPLES.setdefault((label, connections, name), []).extend(latencies)
        if any(st != 200 for st in statuses):
            bad = SAMPLES.setdefault((label, connections, name + " not 200"), [])
            bad.extend(float(st) for st in statuses if st != 200)
    return row


def probe_report() -> None:
    """Latency percentiles of each probe over every round (ms): the main port's and the health listener's."""
    print(f"{'configuration':<42} {'conns':>5} {'probe':<34} {'n':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    for (label, n, name), xs in SAMPLES.items():
        if name.endswith("not 200"):
            print(f"{label:<42} {n:>5} {name:<34} {len(xs):>5} statuses {sorted(set(xs))}")
            continue
        xs = sorted(xs)
        where = "health port" if "listener" in name else "floor: idle listener" if "floor" in name else "main port"
        what = f"{name.split('_')[0]} ({where}{', new connection' if 'new_connection' in name else ''})"

        def pct(q: float, xs: list[float] = xs) -> float:
            return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000

        print(f"{label:<42} {n:>5} {what:<34} {len(xs):>5} {pct(0.5):>7.1f} {pct(0.95):>7.1f} {pct(0.99):>7.1f} "
              f"{xs[-1] * 1000:>7.1f}")
    print("probes every 100 ms during the load: the main port's /healthz and /readyz on a keep-alive connection of "
          "their own, /healthz also on a new connection each time; the health listener's (setting health_port) on a "
          "new connection each time, as orchestrators probe; the floor: a health listener alone in an idle process, "
          "what the machine's scheduling costs any probe. The probes run in a process of their own.")


def merge(rows: list[dict[str, float]], seconds: float) -> dict[str, float]:
    """Rounds of one configuration and load: counts summed, rates over the whole time, medians of the rest."""
    total = seconds * len(rows)
    out = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    for k in ("ok", "shed", "other"):
        out[k] = sum(r[k] for r in rows)
    out["goodput"] = out["ok"] / total
    out["cpu"] = sum(r["cpu"] for r in rows) / len(rows)
    for name, _, _ in PROBES:
        out[f"{name}_max"] = max(r[f"{name}_max"] for r in rows)
    return out


def report(results: dict[tuple[str, int], list[dict[str, float]]], seconds: float, rounds: int) -> None:
    print(f"machine: {pyplatform.machine()}, {os.cpu_count()} cores, Python {pyplatform.python_version()}; load "
          f"average {os.getloadavg()[0]:.1f}; GET {HEAVY} anonymous on the demo's data (SQLite); {rounds} rounds "
          f"of {seconds:g} s per line, the configurations interleaved")
    print(f"{'configuration':<42} {'conns':>5} {'goodput/s':>9} {'per cpu-s':>9} {'2xx':>6} {'503':>6} {'other':>5} "
          f"{'2xx p50':>8} {'2xx p99':>8} {'503 p50':>8} {'cpu':>5} {'healthz p50/max':>17} {'readyz p50/max':>16}")
    merged = {key: merge(rows, seconds) for key, rows in results.items()}
    for (label, n), r in merged.items():
        per_cpu = r["goodput"] / r["cpu"] if r["cpu"] else float("nan")
        print(f"{label:<42} {n:>5} {r['goodput']:>9.1f} {per_cpu:>9.1f} {int(r['ok']):>6} {int(r['shed']):>6} "
              f"{int(r['other']):>5} {r['p50']:>8.0f} {r['p99']:>8.0f} {r['shed_p50']:>8.0f} {r['cpu']:>5.2f} "
              f"{r['healthz_p50']:>7.1f}/{r['healthz_max']:<9.1f}{r['readyz_p50']:>6.1f}/{r['readyz_max']:<9.1f}")
    for label, _ in CONFIGS:
        ns = sorted(n for (lab, n) in merged if lab == label)
        if len(ns) < 2:
            continue
        lo, hi = merged[(label, ns[0])], merged[(label, ns[-1])]
        ratio = hi["goodput"] / lo["goodput"] if lo["goodput"] else float("nan")
        print(f"{label}: goodput at {int(hi['connections'])} connections = {ratio:.0%} of the goodput at "
              f"{int(lo['connections'])}")
    print("goal (after): goodput at 700 connections at least the goodput at 200. Latencies in ms: 2xx p50/p99 of the "
          "successful answers, 503 p50 of the shed ones (held back by shed_answers_per_second after); cpu: server "
          "CPU seconds a second (the machine is shared: compare goodput per cpu-s too); healthz/readyz probed every "
          "100 ms on a connection of their own during the load.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0, help="length of one load window")
    ap.add_argument("--rounds", type=int, default=3, help="rounds; each runs every configuration and load once")
    ap.add_argument("--connections", default="200,700")
    ap.add_argument("--cache", default=tempfile.gettempdir())
    ap.add_argument("--only", choices=("before", "after"), help="run one configuration only")
    args = ap.parse_args()
    connections = [int(x) for x in args.connections.split(",")]
    data = demo_data(args.cache)
    servers = []
    try:
        for label, env in CONFIGS:
            if args.only and not label.startswith(args.only) and args.only not in label:
                continue
            port, health = free_port(), free_port()
            srv = launch(port, data, env={**env, "URBANOS_HEALTH_PORT": str(health)}, args=ARGS.get(label),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            servers.append((label, port, health, srv))
        for _, port, health, _ in servers:
            wait(f"http://127.0.0.1:{port}/healthz")
            wait(f"http://127.0.0.1:{health}/readyz")
            load(port, 4, 2.0)  # warm-up
        floor = free_port()
        idle = multiprocessing.get_context("fork").Process(target=floor_listener, args=(floor,), daemon=True)
        idle.start()
        wait(f"http://127.0.0.1:{floor}/healthz")
        results: dict[tuple[str, int], list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            for n in connections:
                for label, port, health, srv in servers:
                    for _, other, _, _ in servers:  # what an earlier load left in flight anywhere would steal the CPU
                        drained(other)
                    row = window(label, srv, {"main": port, "health": health, "floor": floor}, n, args.seconds)
                    row["connections"] = n
                    results.setdefault((label, n), []).append(row)
        report(results, args.seconds, args.rounds)
        probe_report()
    finally:
        for _, _, _, srv in servers:
            srv.terminate()
            srv.wait(timeout=30)


if __name__ == "__main__":
    main()
