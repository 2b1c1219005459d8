"""GBFS poll of a 1,000-station system (v3.0, 200 free-floating vehicles) by the ``gbfs`` connector, against a local
HTTP server, in-process on a fresh database (SQLite unless --db is given): the first run (every station, Location,
Datastream and Observation created), an unchanged rerun, and a rerun where 10 % of the stations changed, beside the
raw fetch time of the same five files in the same run (the baseline: what any poller must spend on the network).

    python benchmarks/gbfs_poll.py [--stations 1000] [--db postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson

from urbanos.core.time import now_stored
from urbanos.platform import Platform
from urbanos.plugins import load_components, settings_registry
from urbanos.settings import load

FILES: dict[str, bytes] = {}


def system(base: str, n: int, shift: int = 0) -> None:
    """The feed's files at ``base``; ``shift`` changes the availability of every tenth station."""
    t = "2026-01-01T00:00:00Z"

    def doc(data: dict[str, Any]) -> bytes:
        return orjson.dumps({"last_updated": t, "ttl": 0, "version": "3.0", "data": data})

    names = ["system_information", "station_information", "station_status", "vehicle_status"]
    FILES["/gbfs.json"] = doc({"feeds": [{"name": f, "url": f"{base}/{f}.json"} for f in names]})
    FILES["/system_information.json"] = doc({"system_id": "bench", "name": [{"text": "Bench", "language": "en"}],
                                             "languages": ["en"], "timezone": "Europe/Berlin"})
    FILES["/station_information.json"] = doc({"stations": [
        {"station_id": f"s{i}", "name": [{"text": f"Station {i}", "language": "en"}], "lat": 53.5 + i * 1e-4,
         "lon": 9.9 + i * 1e-4, "capacity": 20} for i in range(n)]})
    FILES["/station_status.json"] = doc({"stations": [
        {"station_id": f"s{i}", "num_vehicles_available": (i + (shift if i % 10 == 0 else 0)) % 20,
         "num_docks_available": 20 - (i + (shift if i % 10 == 0 else 0)) % 20, "is_installed": True,
         "is_renting": True, "is_returning": True, "last_reported": t} for i in range(n)]})
    FILES["/vehicle_status.json"] = doc({"vehicles": [
        {"vehicle_id": f"v{i}", "lat": 53.55 + i * 1e-4, "lon": 10.0 + i * 1e-4, "is_reserved": False,
         "is_disabled": False} for i in range(200)]})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        body = FILES.get(self.path, b"")
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


async def raw_fetch(base: str) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    async with httpx.AsyncClient() as client:
        for path in FILES:
            size += len((await client.get(base + path)).content)
    return time.perf_counter() - started, size


async def bench(platform: Platform, base: str, n: int) -> None:
    service = platform.services["connectors"]
    now = now_stored()
    platform.db.write_sync(lambda c: c.insert("datasets", {"name": "bench", "title": "bench", "owner_org": None,
                                                           "access_level": "open", "created_at": now,
                                                           "modified_at": now}))
    from urbanos.governance import ADMIN

    await service.add(ADMIN, {"name": "bench", "type": "gbfs", "url": f"{base}/gbfs.json", "dataset": "bench"})
    rows = []
    for label, shift in (("first run (all created)", 0), ("unchanged rerun", 0), ("10 % of stations changed", 3)):
        system(base, n, shift)
        fetch, size = await raw_fetch(base)
        started = time.perf_counter()
        r = await service.runner.run("bench")
        took = time.perf_counter() - started
        assert r["status"] == "ok", r
        rows.append((label, took, fetch, size, r))
    print(f"GBFS poll, {n} stations + 200 vehicles, {platform.db.dialect.name}, Python {sys.version.split()[0]}")
    print(f"{'run':28} {'poll s':>8} {'raw fetch s':>12} {'bytes':>9}  created updated unchanged")
    for label, took, fetch, size, r in rows:
        print(f"{label:28} {took:8.3f} {fetch:12.3f} {size:9d}  {r['created']:7d} {r['updated']:7d} {r['unchanged']:9d}")
    print("target: under 1 s per poll")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--stations", type=int, default=1000)
    ap.add_argument("--db", default="")
    args = ap.parse_args()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = load(settings_registry(), env={}, overrides={
            "data_dir": str(Path(tmp) / "data"), "db": args.db or f"sqlite:///{Path(tmp) / 'bench.db'}",
            "outbound_allow": "127.0.0.1", "connectors_scheduler": False, "log_level": "warning", "mqtt_port": 0})
        platform = Platform.build(settings, load_components())
        platform.open()

        async def go() -> None:
            await platform.bus.start()
            try:
                await bench(platform, base, args.stations)
            finally:
                await platform.bus.stop()

        try:
            asyncio.run(go())
        finally:
            platform.close()
            httpd.shutdown()


if __name__ == "__main__":
    main()
