"""Reads for everyone: the same requests as the admin, anonymously and as a publisher of one organisation.

    python benchmarks/anon_reads.py [--seconds 3] [--backends sqlite,postgresql]
                                    [--pg postgresql://postgres@127.0.0.1:5432/urbanos_dev]

The data: 50,000 Observations in 100 Datastreams of one open dataset, and 300 more in 20 other datasets of
every access level (open, registered, internal and confidential, of two organisations; their Observations
come first by id, so that a caller who may not read them skips them on the first page, and their Datastreams
after the open ones, so that the first 100 Datastreams are the same for every caller), and an OGC API
collection of 1,500 points in the open dataset. On PostgreSQL the data goes into a fresh schema of the
database ``--pg`` (dropped afterwards). Against a live ``urbanos serve`` of each back end, interleaved request
by request, it times:

* ``GET /sta/v1.1/Observations?$top=1000``
* ``GET /sta/v1.1/Datastreams?$top=100&$expand=Observations($top=10)``
* ``GET /ogcapi/collections/bench_points/items?limit=1000``

each as the admin (the baseline), anonymously and with a publisher token of one organisation, and prints the
p50 of each and its ratio to the admin's, both back ends side by side. Target: every ratio <= 1.5.

To measure other code on the same data, put it first on the path: ``PYTHONPATH=/path/to/checkout``.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import platform as pyplatform
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, launch, wait  # noqa: E402

TOKEN = "bench-admin-token-0123456789"
LEVELS = ("open", "registered", "internal", "confidential")
OPEN_STREAMS = 100
PER_STREAM = 500
OTHER_DATASETS = 20
PER_OTHER = 15
POINTS = 1500
REQUESTS = (
    ("Observations?$top=1000", "/sta/v1.1/Observations?$top=1000"),
    ("Datastreams?$top=100&$expand=Observations($top=10)",
     "/sta/v1.1/Datastreams?$top=100&$expand=" + quote("Observations($top=10)")),
    ("OGC API items?limit=1000", "/ogcapi/collections/bench_points/items?limit=1000"),
)
WHO = ("admin", "anonymous", "publisher")


def _seed(c: Any) -> None:
    """Datasets, SensorThings entities and Observations, with plain SQL in one transaction."""
    now = "2024-01-01T00:00:00.000000Z"

    def dataset(name: str, level: str, org: str) -> int:
        return int(c.insert("datasets", {"name": name, "title": name, "owner_org": org, "access_level": level,
                                         "created_at": now, "modified_at": now}))

    sensor = c.insert("sta_sensors", {"name": "s", "description": "x", "encoding_type": "text/html", "metadata": "x"})
    prop = c.insert("sta_observed_properties", {"name": "p", "definition": "x", "description": "x"})
    foi = c.insert("sta_features", {"name": "f", "encoding_type": "application/geo+json",
                                    "feature": '{"type": "Point", "coordinates": [9.99, 53.55]}'})

    def streams(ds: int, n: int, label: str) -> list[int]:
        thing = c.insert("sta_things", {"name": f"thing {label}", "description": "x", "dataset_id": ds})
        return [int(c.insert("sta_datastreams", {
            "name": f"{label} {i}", "description": "x", "observation_type": "x", "unit": "{}", "thing_id": thing,
            "sensor_id": sensor, "observed_property_id": prop, "dataset_id": ds})) for i in range(n)]

    def observe(ds_ids: list[int], per: int) -> None:  # time-major, as live feeds arrive
        rows = [(f"2024-01-{1 + k // 1440:02d}T{k // 60 % 24:02d}:{k % 60:02d}:00.000000Z", str(k % 97), float(k % 97),
                 d, foi) for k in range(per) for d in ds_ids]
        c.executemany("INSERT INTO sta_observations (phen_start, result, result_num, datastream_id, feature_id)"
                      " VALUES (?, ?, ?, ?, ?)", rows)

    main_ds = dataset("bench-open-main", "open", "city")
    main_streams = streams(main_ds, OPEN_STREAMS, "open")  # the first Datastreams: the same page for every caller
    others = [dataset(f"bench-{LEVELS[i % 4]}-{i}", LEVELS[i % 4], ("city", "port")[i // 4 % 2])
              for i in range(OTHER_DATASETS)]
    other_streams = [s for i, ds in enumerate(others) for s in streams(ds, 1, f"other {i}")]
    observe(other_streams, PER_OTHER)  # the first Observations: a caller who may not read them skips them
    observe(main_streams, PER_STREAM)


def _points(c: Any) -> None:
    from shapely.geometry import Point

    from urbanos.features.store import replace_collection

    ds = c.fetchval("SELECT id FROM datasets WHERE name = ?", ("bench-open-main",))
    rows = (({"name": f"point {i}", "n": i}, Point(9.9 + (i % 50) / 500, 53.5 + (i // 50) / 500)) for i in range(POINTS))
    replace_collection(c, "bench_points", [{"name": "name", "type": "string"}, {"name": "n", "type": "integer"}],
                       rows, geometry_type="Point", dataset_id=int(ds), title="Bench points")


def build(data_dir: str, db: str) -> str:
    """Create the schema through the migrations, load the data; the publisher token of organisation ``city``."""
    from urbanos.governance.tokens import create_token
    from urbanos.platform import Platform
    from urbanos.plugins import BUILTIN, load_components, settings_registry
    from urbanos.settings import load

    s = load(settings_registry(), env={}, overrides={"data_dir": data_dir, "db": db, "log_level": "warning",
                                                     "mqtt_port": 0, "admin_token": TOKEN})
    p = Platform.build(s, load_components([b for b in BUILTIN if b.split(".")[1] in ("catalog", "features", "sensing")]))
    p.open()  # runs their migrations (the server runs the others')
    try:
        p.db.write_sync(_seed)
        p.db.write_sync(_points)
        token = p.db.write_sync(lambda c: create_token(c, "publisher", "city", "bench publisher"))
        if p.db.dialect.name == "postgresql":  # what autovacuum does soon after a load; SQLite stays without
            p.db.write_sync(lambda c: c.execute("ANALYZE"))  # statistics, as a server leaves it
    finally:
        p.close()
    return str(token)


class Backend:
    """One back end: its database (a fresh PostgreSQL schema, or SQLite in a temporary folder) and its server."""

    def __init__(self, kind: str, pg: str) -> None:
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"urbanos-anon-{kind}-")
        self.schema = ""
        self.db = ""
        self.pg = pg
        if kind == "postgresql":
            import psycopg

            self.schema = "bench_anon_" + secrets.token_hex(4)
            with psycopg.connect(pg, autocommit=True) as c:
                c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                c.execute(f"CREATE SCHEMA {self.schema}")
            sep = "&" if "?" in pg else "?"
            self.db = f"{pg}{sep}options={quote(f'-csearch_path={self.schema},public')}"
        t = time.perf_counter()
        self.publisher = build(self.dir, self.db)
        print(f"{kind}: built in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        self.port = free_port()
        import urbanos

        code = Path(urbanos.__file__).parent.parent  # the server runs the code this process imported (``-m`` puts
        # its working directory first on the path, before PYTHONPATH)
        self.proc = launch(self.port, self.dir, db=self.db, env={"URBANOS_ADMIN_TOKEN": TOKEN,
                                                                 "URBANOS_PG_POOL_MAX": "4"}, cwd=str(code))
        wait(f"http://127.0.0.1:{self.port}/healthz")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        if self.schema:
            import psycopg

            with psycopg.connect(self.pg, autocommit=True) as c:
                c.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def headers(self, who: str) -> dict[str, str]:
        h = {"Accept-Encoding": "gzip"}
        if who == "admin":
            h["Authorization"] = f"Bearer {TOKEN}"
        elif who == "publisher":
            h["Authorization"] = f"Bearer {self.publisher}"
        return h


def _getter(b: Backend, who: str, path: str) -> Any:
    """A function that GETs ``path`` as ``who`` over one keep-alive connection, checks the status and returns the
    number of entities (items) on the page."""
    conn = http.client.HTTPConnection("127.0.0.1", b.port)
    headers = b.headers(who)

    def get() -> int:
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        if r.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        assert r.status == 200, (who, path, r.status, body[:300])
        doc = orjson.loads(body)
        return len(doc.get("value") or doc.get("features") or [])

    return get


def measure(b: Backend, seconds: float) -> dict[tuple[str, str], float]:
    """p50 (ms) of every request as every caller, each request's callers interleaved call by call."""
    out: dict[tuple[str, str], float] = {}
    for label, path in REQUESTS:
        fns = [_getter(b, who, path) for who in WHO]
        sizes = [fn() for fn in fns]  # warm-up, and the page sizes
        assert all(n >= 100 for n in sizes), (label, sizes)
        xs: list[list[float]] = [[] for _ in fns]
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop or len(xs[0]) < 5:
            for fn, acc in zip(fns, xs, strict=True):
                t = time.perf_counter()
                fn()
                acc.append(time.perf_counter() - t)
        for who, acc in zip(WHO, xs, strict=True):
            out[(label, who)] = statistics.median(acc) * 1000
    return out


def report(results: dict[str, dict[tuple[str, str], float]]) -> bool:
    kinds = list(results)
    head = f"{'request':<52} {'caller':<10}"
    for k in kinds:
        head += f" {k + ' p50 ms':>18} {'x admin':>8}"
    print(head)
    ok = True
    for label, _path in REQUESTS:
        for who in WHO:
            line = f"{label:<52} {who:<10}"
            for k in kinds:
                v, base = results[k][(label, who)], results[k][(label, "admin")]
                ratio = v / base if base else float("nan")
                ok = ok and ratio <= 1.5
                line += f" {v:>18.2f} {ratio:>8.2f}"
            print(line)
    print(f"target: every ratio <= 1.5 -> {'met' if ok else 'NOT met'}")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0, help="time per request (all callers together)")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--pg", default=os.environ.get("URBANOS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/urbanos_dev"))
    args = ap.parse_args()
    results: dict[str, dict[tuple[str, str], float]] = {}
    for kind in args.backends.split(","):
        b = Backend(kind.strip(), args.pg)
        try:
            results[b.kind] = measure(b, args.seconds)
        finally:
            b.close()
    import urbanos

    print(f"machine: {pyplatform.machine()}, {os.cpu_count()} cores, Python {pyplatform.python_version()}, SQLite "
          f"{sqlite3.sqlite_version}; code: {Path(urbanos.__file__).parent.parent}; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{OPEN_STREAMS * PER_STREAM:,} observations in one open dataset, {OTHER_DATASETS * PER_OTHER} in "
          f"{OTHER_DATASETS} datasets of mixed access levels; {POINTS:,} points")
    report(results)


if __name__ == "__main__":
    main()
