"""Dashboards benchmark on the demo: a dashboard page's first render (server time) beside ``/healthz``, and an
Observation's latency from the POST's return to the browser's chart (Playwright in headless Chromium), in one run.

* Render: one client on a kept-alive connection requests each demo dashboard (``/dashboards/{slug}``, complete HTML
  with every panel's values read as the anonymous viewer) and ``/healthz`` alternately, so both see the same load
  (the demo's simulated feeds keep writing); p50 and p95 of each. Target: at most 300 ms.
* Live: the bins dashboard open in Chromium; an Observation is POSTed to one bin's Datastream, and the time from the
  POST's return to the page's ``dashboard:update`` event (after the chart, map, table and KPI are updated), both
  read from this machine's clock. Baseline: the same POST's own duration. Target: at most 50 ms p50.

    python benchmarks/dashboards.py [--rounds 20] [--posts 30] [--db postgresql://…]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port  # noqa: E402

TOKEN = "bench-admin-token-0123456789"
H = {"Authorization": f"Bearer {TOKEN}"}
SLUGS = ("pedestrians", "parking", "bins", "air-quality")


def start_demo(port: int, data_dir: str, db: str) -> subprocess.Popen[bytes]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    environ.update({"URBANOS_ACCESS_LOG": "false", "URBANOS_LOG_LEVEL": "warning", "URBANOS_ADMIN_TOKEN": TOKEN})
    cmd = [sys.executable, "-m", "urbanos.cli.main", "demo", "--port", str(port), "--data-dir", data_dir,
           "--mqtt-port", "0"]
    if db:
        cmd += ["--db", db]
    return subprocess.Popen(cmd, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait(url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the demo at {url} did not start")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * q))] if s else float("nan")


def render(url: str, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in (*SLUGS, "healthz")}
    with httpx.Client(timeout=60) as c:
        for slug in SLUGS:  # warm the connection and the server's caches of code, not of data
            c.get(f"{url}/dashboards/{slug}")
        for _ in range(rounds):
            for slug in SLUGS:
                t0 = time.perf_counter()
                r = c.get(f"{url}/dashboards/{slug}")
                out[slug].append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text[:300]
                t0 = time.perf_counter()
                r = c.get(f"{url}/healthz")
                out["healthz"].append((time.perf_counter() - t0) * 1000)
    return out


def live(url: str, posts: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    lat: list[float] = []
    post_ms: list[float] = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = b.new_page()
        page.goto(f"{url}/dashboards/bins")
        page.wait_for_selector("body[data-live='on']", state="attached", timeout=30000)
        ds = int(page.locator("#p1-table tr[data-ds]").first.get_attribute("data-ds") or 0)
        page.evaluate("() => { window.__seen = []; document.addEventListener('dashboard:update', "
                      "e => window.__seen.push(e.detail)); }")
        with httpx.Client(timeout=30) as c:
            for i in range(posts):
                value = 50 + i / 100
                t0 = time.time() * 1000
                r = c.post(f"{url}/sta/v1.1/Datastreams({ds})/Observations", json={"result": value}, headers=H)
                done = time.time() * 1000
                assert r.status_code == 201, r.text
                post_ms.append(done - t0)
                seen: Any = None
                while seen is None and time.time() * 1000 - done < 5000:
                    got = page.evaluate("() => window.__seen")
                    seen = next((e for e in got if e["ds"] == ds and e["value"] == value), None)
                    if seen is None:
                        page.wait_for_timeout(2)
                if seen is not None:
                    lat.append(seen["at"] - done)
                page.wait_for_timeout(100)
        b.close()
    return lat, post_ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--posts", type=int, default=30)
    ap.add_argument("--db", default="")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-bench-dash-")
    port = free_port()
    proc = start_demo(port, tmp, args.db)
    url = f"http://127.0.0.1:{port}"
    try:
        wait(url + "/dashboards/bins")
        times = render(url, args.rounds)
        lat, post_ms = live(url, args.posts)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"dashboards benchmark — {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{'PostgreSQL' if args.db else 'SQLite'}; {args.rounds} rounds")
    print(f"{'page':<24}{'p50 ms':>10}{'p95 ms':>10}")
    for name, vals in times.items():
        label = "/healthz (baseline)" if name == "healthz" else f"/dashboards/{name}"
        print(f"{label:<24}{statistics.median(vals):>10.1f}{pct(vals, 0.95):>10.1f}")
    worst = max(statistics.median(times[s]) for s in SLUGS)
    print(f"slowest dashboard p50 {worst:.1f} ms (target ≤ 300 ms): {'ok' if worst <= 300 else 'OVER'}")
    if lat:
        print(f"POST → chart p50 {statistics.median(lat):.1f} ms, p95 {pct(lat, 0.95):.1f} ms over {len(lat)} of "
              f"{args.posts} Observations (target ≤ 50 ms p50); baseline: the POST itself p50 "
              f"{statistics.median(post_ms):.1f} ms")
    else:
        print("POST → chart: no Observation reached the page")


if __name__ == "__main__":
    main()
