"""Overload: goodput (2xx a second), p50/p99 and the requests shed, under 200 and 700 connections of heavy
anonymous reads (``GET /sta/v1.1/Observations?$top=1000`` on the demo's data, SQLite), with the latency of
``/healthz`` and ``/readyz`` probed meanwhile; before (the overall limit only: every class budget 0) and after
(the per-class budgets with the expected-wait queue), in the same run.

    python benchmarks/overload.py [--seconds 10] [--rounds 3] [--connections 200,700] [--cache /tmp]

The load is a closed loop of keep-alive connections on 127.0.0.1 (asyncio sockets, as in _load.py): each sends
its next request as soon as it has an answer, 503s included, as a crowd of impatient clients does; the server's
answers are few enough a second that the client's own cost does not matter. The demo's data is loaded once with
``urbanos demo`` and kept under --cache. Goal: goodput under 700 connections at least the goodput at 200.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
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
)


def demo_data(cache: str) -> Path:
    """The demo's database, loaded once by ``urbanos demo`` (which then serves; it is stopped once ready)."""
    where = Path(cache) / "urbanos-overload-demo"
    if (where / "urbanos.db").is_file():
        return where
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
    """User and system CPU time of process ``pid`` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def window(srv: subprocess.Popen[bytes], port: int, connections: int, seconds: float) -> dict[str, float]:
    """One load of ``connections`` for ``seconds`` with the probes and the server's CPU time."""
    probes = [Prober(port, "/healthz"), Prober(port, "/readyz")]
    for p in probes:
        p.start()
    cpu = _cpu_seconds(srv.pid)
    row = load(port, connections, seconds)
    row["cpu"] = (_cpu_seconds(srv.pid) - cpu) / seconds
    for p in probes:
        p.stop.set()
        p.join()
    for p, name in zip(probes, ("healthz", "readyz"), strict=True):
        xs = sorted(p.latencies) or [float("nan")]
        row[f"{name}_p50"] = statistics.median(xs) * 1000
        row[f"{name}_max"] = xs[-1] * 1000
    return row


def merge(rows: list[dict[str, float]], seconds: float) -> dict[str, float]:
    """Rounds of one configuration and load: counts summed, rates over the whole time, medians of the rest."""
    total = seconds * len(rows)
    out = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    for k in ("ok", "shed", "other"):
        out[k] = sum(r[k] for r in rows)
    out["goodput"] = out["ok"] / total
    out["cpu"] = sum(r["cpu"] for r in rows) / len(rows)
    out["healthz_max"] = max(r["healthz_max"] for r in rows)
    out["readyz_max"] = max(r["readyz_max"] for r in rows)
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
    args = ap.parse_args()
    connections = [int(x) for x in args.connections.split(",")]
    data = demo_data(args.cache)
    servers = []
    try:
        for label, env in CONFIGS:
            port = free_port()
            srv = launch(port, data, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            servers.append((label, port, srv))
        for _, port, _ in servers:
            wait(f"http://127.0.0.1:{port}/healthz")
            load(port, 4, 2.0)  # warm-up
        results: dict[tuple[str, int], list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            for n in connections:
                for label, port, srv in servers:
                    for _, other, _ in servers:  # what an earlier load left in flight anywhere would steal the CPU
                        drained(other)
                    row = window(srv, port, n, args.seconds)
                    row["connections"] = n
                    results.setdefault((label, n), []).append(row)
        report(results, args.seconds, args.rounds)
    finally:
        for _, _, srv in servers:
            srv.terminate()
            srv.wait(timeout=30)


if __name__ == "__main__":
    main()
