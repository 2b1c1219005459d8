"""HTTP stack: a hello-world endpoint on the same stack (uvicorn + Starlette) beside urbanos' /healthz.

    python benchmarks/http_baseline.py [--seconds 5] [--concurrency 8]

Both servers run as separate processes on 127.0.0.1 with the same uvicorn settings; the same
load generator measures both in one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from _load import build_request, print_results, run_load  # noqa: E402

HELLO = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def hello(request):
    return JSONResponse({"hello": "world"})

app = Starlette(routes=[Route("/hello", hello)])
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="warning", access_log=False)
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str) -> None:
    for _ in range(150):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def launch(port: int, data_dir: str | Path, *, db: str = "", mqtt_port: int | None = 0, env: dict[str, str] | None = None,
           args: list[str] | None = None, **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``urbanos serve`` on 127.0.0.1:``port`` with no URBANOS_* setting inherited from the caller, the access
    log off and warnings only; ``env`` adds settings, ``args`` options, ``mqtt_port=None`` leaves the broker option out."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    environ.update({"URBANOS_ACCESS_LOG": "false", "URBANOS_LOG_LEVEL": "warning", **(env or {})})
    cmd = [sys.executable, "-m", "urbanos.cli.main", "serve", "--port", str(port), "--data-dir", str(data_dir)]
    if mqtt_port is not None:
        cmd += ["--mqtt-port", str(mqtt_port)]
    if db:
        cmd += ["--db", db]
    return subprocess.Popen(cmd + list(args or ()), env=environ, **popen)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-bench-")
    p_hello, p_urb = free_port(), free_port()
    hello = subprocess.Popen([sys.executable, "-c", HELLO, str(p_hello)])
    urb = launch(p_urb, tmp)
    try:
        wait(f"http://127.0.0.1:{p_hello}/hello")
        wait(f"http://127.0.0.1:{p_urb}/healthz")
        rows = []
        for name, port, path in (("hello-world (baseline)", p_hello, "/hello"), ("urbanos /healthz", p_urb, "/healthz")):
            req = build_request("GET", path, f"127.0.0.1:{port}")
            run_load("127.0.0.1", port, [req], concurrency=args.concurrency, seconds=1.0)  # warm-up
            r = run_load("127.0.0.1", port, [req], concurrency=args.concurrency, seconds=args.seconds)
            rows.append((name, r))
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print_results("endpoint", rows, 26)
        print(f"urbanos /healthz reaches {rows[1][1].rate / rows[0][1].rate:.0%} of the hello-world rate")
    finally:
        for p in (hello, urb):
            p.terminate()
            p.wait(timeout=10)


if __name__ == "__main__":
    main()
