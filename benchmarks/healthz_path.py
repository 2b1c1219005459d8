"""The main port's ``GET /healthz`` through the app's middleware stack, in process (no sockets): answered by
PlatformMiddleware's fast path (after) against the same app with the fast path off, routed through CORS, gzip, the
middleware's checks and FastAPI as before (baseline), in the same run, interleaved.

    python benchmarks/healthz_path.py [--requests 20000] [--rounds 5]

Prints microseconds per request (median of the rounds) and the ratio. No database query is made by either.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform as pyplatform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from urbanos.plugins import load_components, settings_registry  # noqa: E402
from urbanos.settings import load  # noqa: E402
from urbanos.web.app import create_app  # noqa: E402
from urbanos.web.middleware import PlatformMiddleware  # noqa: E402

SCOPE: dict[str, Any] = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
                         "scheme": "http", "path": "/healthz", "raw_path": b"/healthz", "query_string": b"",
                         "root_path": "", "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"kube-probe/1.29"),
                                                      (b"accept", b"*/*"), (b"connection", b"close")],
                         "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _middleware(app: Any) -> PlatformMiddleware:
    node = app.middleware_stack
    while not isinstance(node, PlatformMiddleware):
        node = node.app
    return node


async def _run(app: Any, n: int) -> float:
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    t0 = time.perf_counter()
    for _ in range(n):
        await app({**SCOPE, "headers": list(SCOPE["headers"])}, _receive, send)
    elapsed = time.perf_counter() - t0
    assert statuses == [200] * n, set(statuses)
    return elapsed / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="urbanos-healthz-")
    settings = load(settings_registry(), toml_path=None, overrides={
        "data_dir": data, "db": "", "access_log": "false", "log_level": "warning", "mqtt_port": "0",
        "cors_origins": "https://dash.example"}, env={})
    app = create_app(settings, components=load_components())
    app.middleware_stack = app.build_middleware_stack()
    middleware = _middleware(app)
    alive = middleware.alive
    fast, routed = [], []

    async def rounds() -> None:
        for _ in range(args.rounds):
            middleware.alive = alive
            fast.append(await _run(app, args.requests))
            middleware.alive = None  # the fast path off: routed as before
            routed.append(await _run(app, args.requests))

    asyncio.run(rounds())
    app.state.platform.close()
    print(f"machine: {pyplatform.machine()}, {os.cpu_count()} cores, Python {pyplatform.python_version()}; load "
          f"average {os.getloadavg()[0]:.1f}; {args.rounds} rounds of {args.requests} GET /healthz, CORS configured, "
          "access log off")
    a, b = statistics.median(fast), statistics.median(routed)
    print(f"baseline, routed (CORS, gzip, middleware checks, FastAPI): {b:8.1f} µs per request")
    print(f"after, PlatformMiddleware's fast path:                     {a:8.1f} µs per request ({b / a:.1f}× faster)")


if __name__ == "__main__":
    main()
