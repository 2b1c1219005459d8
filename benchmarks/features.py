"""OGC API Features benchmark: the same 100,000 generated points served by urbanos (SQLite and PostGIS),
pygeoapi (PostgreSQL provider, storage CRS CRS84) and tipg, on the same PostGIS database, in one run.

Measured: ``items?limit=100``, a bbox query (``limit=100``) and ``items/{id}`` (random ids), each at
concurrency 1 and 4, for a fixed time per cell. Requests are sent with ``Accept-Encoding: identity`` to all
servers so that the figures compare query work, not compression.

Peers run from their own virtual environments (created when missing)::

    python -m venv /tmp/venv-pygeoapi && /tmp/venv-pygeoapi/bin/pip install pygeoapi psycopg2-binary uvicorn starlette geoalchemy2
    python -m venv /tmp/venv-tipg && /tmp/venv-tipg/bin/pip install tipg uvicorn

Usage::

    python benchmarks/features.py [--pg postgresql://postgres@127.0.0.1/postgres] [--seconds 3] [--n 100000]

A peer that cannot be installed or started is reported with the reason and skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, launch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "urbanos_bench"
BBOX = "9.9,53.5,10.0,53.56"  # about 3 % of the points
EXTENT = (9.7, 53.35, 10.3, 53.75)  # Hamburg


def points(n: int) -> list[tuple[int, str, float, str, float, float]]:
    rnd = random.Random(42)
    out = []
    for i in range(1, n + 1):
        x = rnd.uniform(EXTENT[0], EXTENT[2])
        y = rnd.uniform(EXTENT[1], EXTENT[3])
        out.append((i, f"point {i}", round(rnd.uniform(0, 1000), 3), rnd.choice(["tree", "lamp", "bench", "bin"]), x, y))
    return out


FIELDS = [{"name": "name", "type": "string"}, {"name": "value", "type": "number"}, {"name": "category", "type": "string"}]


def load_urbanos(db_url: str, data_dir: Path, pts: list[Any]) -> float:
    from shapely.geometry import Point

    from urbanos.features import store
    from urbanos.platform import Platform
    from urbanos.plugins import load_components, settings_registry
    from urbanos.settings import load

    settings = load(settings_registry(), env={}, overrides={"data_dir": str(data_dir), "db": db_url, "log_level": "warning"})
    p = Platform.build(settings, load_components())
    p.open()
    t0 = time.perf_counter()
    try:
        rows = (({"name": n, "value": v, "category": c}, Point(x, y)) for _, n, v, c, x, y in pts)
        p.db.write_sync(lambda c: store.replace_collection(c, "bench-points", FIELDS, rows, title="Benchmark points"))
    finally:
        p.close()
    return time.perf_counter() - t0


def load_peer_table(pg_url: str, pts: list[Any]) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        c.execute("DROP SCHEMA IF EXISTS peers CASCADE")
        c.execute("CREATE SCHEMA peers")
        c.execute("CREATE TABLE peers.bench_points (id integer PRIMARY KEY, name text, value double precision, category text,"
                  " geom geometry(Point, 4326))")
        with c.cursor().copy("COPY peers.bench_points (id, name, value, category, geom) FROM STDIN") as cp:
            for i, n, v, cat, x, y in pts:
                cp.write_row((i, n, v, cat, f"SRID=4326;POINT({x} {y})"))
        c.execute("CREATE INDEX bench_points_geom ON peers.bench_points USING GIST (geom)")
        c.execute("ANALYZE peers.bench_points")


def ensure_database(admin_url: str) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as c:
        if c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone() is None:
            c.execute(f"CREATE DATABASE {BENCH_DB}")
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{BENCH_DB}"
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        c.execute("DROP SCHEMA IF EXISTS public CASCADE")
        c.execute("CREATE SCHEMA public")
        c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


class Server:
    def __init__(self, name: str, proc: subprocess.Popen[bytes] | None, base: str, paths: dict[str, str], note: str = "") -> None:
        self.name, self.proc, self.base, self.paths, self.note = name, proc, base, paths, note

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def wait_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited: {log.read_text(errors='replace')[-1500:]}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"did not start: {log.read_text(errors='replace')[-1500:]}")


def start_urbanos(name: str, db: str, data_dir: Path, work: Path) -> Server:
    port = free_port()
    log = work / f"{name}.log"
    from urbanos.plugins import settings_registry

    proc = launch(port, data_dir, db=db, mqtt_port=0 if "mqtt_port" in settings_registry() else None,
                  stdout=log.open("wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/ogcapi/collections/bench-points"
    wait_up(f"http://127.0.0.1:{port}/healthz", proc, log)
    return Server(name, proc, base, {"items": "/items?limit=100", "bbox": f"/items?limit=100&bbox={BBOX}", "item": "/items/{id}"})


PYGEOAPI_CONFIG = """
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: 'https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png', attribution: 'OpenStreetMap'}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                   terms_of_service: 'https://example.org', url: 'https://example.org'}}
  license: {{name: CC-BY 4.0, url: 'https://creativecommons.org/licenses/by/4.0/'}}
  provider: {{name: bench, url: 'https://example.org'}}
  contact: {{name: bench, position: bench, address: bench, city: bench, stateorprovince: bench, postalcode: '0',
            country: bench, phone: '0', fax: '0', email: bench@example.org, url: 'https://example.org', hours: bench,
            instructions: bench, role: pointOfContact}}
resources:
  bench-points:
    type: collection
    title: bench
    description: bench
    keywords: [bench]
    extents:
      spatial: {{bbox: [9.7, 53.35, 10.3, 53.75], crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}
    providers:
      - type: feature
        name: PostgreSQL
        data: {{host: 127.0.0.1, port: 5432, dbname: {db}, user: postgres, password: '', search_path: [peers, public]}}
        id_field: id
        table: bench_points
        geom_field: geom
        storage_crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'
"""


def start_pygeoapi(work: Path, venv: Path) -> Server:
    if not (venv / "bin" / "pygeoapi").exists():
        raise RuntimeError(f"pygeoapi is not installed in {venv} (see the module docstring)")
    port = free_port()
    cfg = work / "pygeoapi.yml"
    cfg.write_text(PYGEOAPI_CONFIG.format(port=port, db=BENCH_DB))
    oas = work / "pygeoapi-openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(oas)}
    subprocess.run([str(venv / "bin" / "pygeoapi"), "openapi", "generate", str(cfg), "--output-file", str(oas)],
                   check=True, env=env, capture_output=True, timeout=120)
    log = work / "pygeoapi.log"
    proc = subprocess.Popen([str(venv / "bin" / "uvicorn"), "pygeoapi.starlette_app:APP", "--port", str(port), "--host", "127.0.0.1",
                             "--log-level", "error", "--no-access-log"], stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/collections/bench-points"
    wait_up(f"http://127.0.0.1:{port}/conformance?f=json", proc, log)
    return Server("pygeoapi (PostGIS)", proc, base,
                  {"items": "/items?limit=100&f=json", "bbox": f"/items?limit=100&bbox={BBOX}&f=json", "item": "/items/{id}?f=json"})


def start_tipg(work: Path, venv: Path, pg_url: str) -> Server:
    if not (venv / "bin" / "uvicorn").exists():
        raise RuntimeError(f"tipg is not installed in {venv} (see the module docstring)")
    port = free_port()
    log = work / "tipg.log"
    env = {**os.environ, "DATABASE_URL": pg_url, "TIPG_DB_SCHEMAS": '["peers"]', "TIPG_MAX_FEATURES_PER_QUERY": "10000"}
    proc = subprocess.Popen([str(venv / "bin" / "uvicorn"), "tipg.main:app", "--port", str(port), "--host", "127.0.0.1",
                             "--log-level", "error", "--no-access-log"], stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/collections/peers.bench_points"
    wait_up(f"http://127.0.0.1:{port}/collections", proc, log)
    return Server("tipg (PostGIS)", proc, base, {"items": "/items?limit=100", "bbox": f"/items?limit=100&bbox={BBOX}",
                                                 "item": "/items/{id}"})


async def measure(server: Server, kind: str, concurrency: int, seconds: float, n: int) -> dict[str, Any]:
    rnd = random.Random(7)
    path = server.paths[kind]
    headers = {"Accept": "application/geo+json", "Accept-Encoding": "identity"}
    done = 0
    errors = 0
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.base, headers=headers, limits=limits, timeout=30) as client:
        # warm up
        for _ in range(3):
            await client.get(path.replace("{id}", str(rnd.randint(1, n))))
        end = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                r = await client.get(path.replace("{id}", str(rnd.randint(1, n))))
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors += 1
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    latencies.sort()
    return {"rps": done / elapsed, "requests": done, "errors": errors,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None}


def measure_wrk(server: Server, kind: str, concurrency: int, seconds: float, n: int, work: Path) -> dict[str, Any]:
    """The same measurement with wrk (C, Lua for random ids): the client costs far less CPU than Python."""
    import re
    from urllib.parse import urlsplit

    parts = urlsplit(server.base)
    path = parts.path + server.paths[kind]
    script = work / f"wrk-{kind}.lua"
    pre, _, post = path.partition("{id}")
    script.write_text(
        "math.randomseed(7)\n"
        'wrk.headers["Accept"] = "application/geo+json"\n'
        'wrk.headers["Accept-Encoding"] = "identity"\n'
        "request = function()\n"
        + (f'  return wrk.format("GET", "{pre}" .. math.random(1, {n}) .. "{post}")\n' if "{id}" in path
           else f'  return wrk.format("GET", "{path}")\n')
        + "end\n"
    )
    out = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency", "-s", str(script),
                          f"{parts.scheme}://{parts.netloc}"], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"rps": rps, "requests": total, "errors": int(bad.group(1)) if bad else 0,
            "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else None}


def check(server: Server, n: int) -> str:
    r = httpx.get(server.base + server.paths["items"], headers={"Accept": "application/geo+json"}, timeout=30)
    doc = r.json()
    b = httpx.get(server.base + server.paths["bbox"], headers={"Accept": "application/geo+json"}, timeout=30).json()
    return f"items={len(doc.get('features', []))} matched={doc.get('numberMatched')} bbox_returned={len(b.get('features', []))}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1/postgres", help="an admin connection (creates urbanos_bench)")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--pygeoapi-venv", default="/tmp/venv-pygeoapi")
    ap.add_argument("--tipg-venv", default="/tmp/venv-tipg")
    ap.add_argument("--json", default="", help="write the results to this file")
    ap.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto", help="load generator (auto: wrk if installed)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="urbanos-bench-"))
    pts = points(args.n)
    pg_url = ensure_database(args.pg)
    t_sqlite = load_urbanos("", work / "sqlite", pts)
    t_pg = load_urbanos(pg_url, work / "pg", pts)
    load_peer_table(pg_url, pts)
    print(f"loaded {args.n} points: urbanos SQLite {t_sqlite:.1f}s, urbanos PostGIS {t_pg:.1f}s", flush=True)

    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk") is not None)
    print(f"load generator: {'wrk' if use_wrk else 'httpx (Python)'}", flush=True)
    servers: list[Server] = []
    skipped: dict[str, str] = {}
    starters = [
        ("urbanos (SQLite)", lambda: start_urbanos("urbanos-sqlite", "", work / "sqlite", work)),
        ("urbanos (PostGIS)", lambda: start_urbanos("urbanos-pg", pg_url, work / "pg", work)),
        ("pygeoapi (PostGIS)", lambda: start_pygeoapi(work, Path(args.pygeoapi_venv))),
        ("tipg (PostGIS)", lambda: start_tipg(work, Path(args.tipg_venv), pg_url)),
    ]
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, start in starters:
            try:
                servers.append(start())
            except Exception as exc:  # noqa: BLE001 - a peer that fails is reported, not fatal
                skipped[name] = str(exc)[:500]
                print(f"SKIPPED {name}: {exc}", flush=True)
        for s in servers:
            print(f"{s.name}: {check(s, args.n)}", flush=True)
            results[s.name] = {}
            for kind in ("items", "bbox", "item"):
                for conc in (1, 4):
                    if use_wrk:
                        res = measure_wrk(s, kind, conc, args.seconds, args.n, work)
                    else:
                        res = asyncio.run(measure(s, kind, conc, args.seconds, args.n))
                    results[s.name][f"{kind}@{conc}"] = res
                    print(f"  {kind:5s} c={conc}: {res['rps']:8.1f} req/s  p50 {res['p50_ms']:.1f} ms  errors {res['errors']}", flush=True)
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(work, ignore_errors=True)

    print("\n| server | items?limit=100 c1 | c4 | bbox c1 | c4 | items/{id} c1 | c4 |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        cells = [f"{r[k]['rps']:.0f}" for k in ("items@1", "items@4", "bbox@1", "bbox@4", "item@1", "item@4")]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for name, why in skipped.items():
        print(f"| {name} | not run: {why[:120]} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"n": args.n, "seconds": args.seconds, "results": results, "skipped": skipped}, indent=2))


if __name__ == "__main__":
    main()
