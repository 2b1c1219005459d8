"""SensorThings reads on a large Observation table, against a live ``urbanos serve`` (SQLite by default):

* ``Datastreams(id)/Observations?$top=100&$orderby=phenomenonTime desc`` (target p50 <= 5 ms at 10 M rows);
* the latest value of 1,000 Datastreams in one request (target p50 <= 50 ms).

The baselines, in the same run and interleaved request by request with what they are the baseline of, are
the HTTP round trip of ``/healthz`` and the bare SQL of the same question on the same database file.

    python benchmarks/sta_query.py [--rows 10000000] [--streams 1000] [--seconds 3] [--cache /tmp]

The database is built once per (rows, streams) under --cache and reused by later runs.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import platform as pyplatform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, launch, wait  # noqa: E402

TOKEN = "bench-admin-token-0123456789"


OBS_INDEXES = [  # the Observation indexes of the sensing migration, rebuilt after the bulk load
    "CREATE INDEX sta_obs_ds_phen ON sta_observations (datastream_id, phen_start DESC, id)",
    "CREATE INDEX sta_obs_mds_phen ON sta_observations (multi_datastream_id, phen_start DESC, id)",
    "CREATE INDEX sta_obs_result_time ON sta_observations (result_time)",
    "CREATE INDEX sta_obs_phen ON sta_observations (phen_start)",
    "CREATE INDEX sta_obs_feature ON sta_observations (feature_id)",
]


def build(data_dir: str, rows: int, streams: int) -> str:
    """Create the real schema through the migrations, then bulk-load Observations with plain SQL.

    The rows are generated inside SQLite (a recursive CTE crossed with the Datastreams), with the
    Observation indexes dropped during the load and rebuilt after it, then ANALYZE and the latest
    pointers. The result is the same as inserting through the schema row by row.
    """
    from urbanos.platform import Platform
    from urbanos.plugins import load_components, settings_registry
    from urbanos.settings import load

    s = load(settings_registry(), env={}, overrides={"data_dir": data_dir, "log_level": "warning", "mqtt_port": 0})
    p = Platform.build(s, load_components())
    p.open()  # runs the migrations
    try:
        def base(c):  # one Thing, Sensor, ObservedProperty and FeatureOfInterest, and the Datastreams
            t = c.insert("sta_things", {"name": "Bench", "description": "x"})
            sn = c.insert("sta_sensors", {"name": "s", "description": "x", "encoding_type": "text/html", "metadata": "x"})
            op = c.insert("sta_observed_properties", {"name": "p", "definition": "x", "description": "x"})
            f = c.insert("sta_features", {"name": "f", "encoding_type": "application/geo+json",
                                          "feature": '{"type": "Point", "coordinates": [144.96, -37.81]}'})
            c.executemany("INSERT INTO sta_datastreams (name, description, observation_type, unit, thing_id, sensor_id,"
                          " observed_property_id) VALUES (?, 'x', 'x', '{}', ?, ?, ?)",
                          [(f"ds{i}", t, sn, op) for i in range(streams)])
            return f

        foi = p.db.write_sync(base)
    finally:
        p.close()
    path = str(Path(data_dir) / "urbanos.db")
    per = rows // streams
    t_end = int(time.time()) // 3600 * 3600
    t0 = t_end - per * 3600
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA cache_size = -1000000")
        con.execute("PRAGMA temp_store = MEMORY")
        con.execute("BEGIN")
        for ddl in OBS_INDEXES:
            con.execute(f"DROP INDEX {ddl.split()[2]}")
        step = max(1, 1_000_000 // streams)  # about a million rows per statement, time-major like a live feed
        done = 0
        t_load = time.perf_counter()
        for k0 in range(0, per, step):
            k1 = min(per, k0 + step)
            con.execute(
                "WITH RECURSIVE k(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM k WHERE x + 1 < ?)"
                " INSERT INTO sta_observations (phen_start, result, result_num, datastream_id, feature_id)"
                " SELECT strftime('%Y-%m-%dT%H:%M:%S.000000Z', ? + x * 3600, 'unixepoch'), v, v, d, ?"
                " FROM (SELECT x, d.id AS d, (x * 7919 + d.id * 104729) % 2001 AS v FROM k, sta_datastreams d ORDER BY x, d.id)",
                (k0, k1, t0, foi))
            done += (k1 - k0) * streams
            rate = done / (time.perf_counter() - t_load)
            print(f"\r  loaded {done:,} of {per * streams:,} observations ({rate:,.0f}/s)", end="", file=sys.stderr)
        print(file=sys.stderr)
        for ddl in OBS_INDEXES:
            t_ix = time.perf_counter()
            con.execute(ddl)
            print(f"  {ddl.split()[2]} built in {time.perf_counter() - t_ix:.0f} s", file=sys.stderr)
        con.execute("UPDATE sta_datastreams SET last_obs_id = (SELECT o.id FROM sta_observations o WHERE"
                    " o.datastream_id = sta_datastreams.id ORDER BY o.phen_start DESC, o.id ASC LIMIT 1)")
        con.execute("UPDATE sta_datastreams SET last_phen = (SELECT phen_start FROM sta_observations"
                    " WHERE id = last_obs_id)")
        con.execute("COMMIT")
        con.execute("ANALYZE")
        con.execute("PRAGMA journal_mode = WAL")
    finally:
        con.close()
    return path


def cached_build(rows: int, streams: int, cache: str) -> tuple[str, str]:
    """The database for (rows, streams), built once and reused from ``cache`` by later runs."""
    data_dir = Path(cache) / f"urbanos-sta-query-{rows}x{streams}"
    done = data_dir / "complete"
    if done.exists():
        print(f"reusing {data_dir}", file=sys.stderr)
        return str(data_dir), str(data_dir / "urbanos.db")
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    t = time.perf_counter()
    path = build(str(data_dir), rows, streams)
    done.write_text(f"{rows} observations in {streams} datastreams\n")
    print(f"built {rows:,} observations in {streams:,} datastreams in {time.perf_counter() - t:.0f} s",
          file=sys.stderr)
    return str(data_dir), path


def timed(fns: list[Any], seconds: float) -> list[list[float]]:
    """Call the functions in turn for ``seconds``; the durations of each, in seconds."""
    out: list[list[float]] = [[] for _ in fns]
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        for fn, xs in zip(fns, out, strict=True):
            t = time.perf_counter()
            fn()
            xs.append(time.perf_counter() - t)
    return out


def p50(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--cache", default=tempfile.gettempdir(),
                    help="directory where the built database is kept and reused, keyed by row and stream count")
    args = ap.parse_args()
    tmp, path = cached_build(args.rows, args.streams, args.cache)
    port = free_port()
    srv = launch(port, tmp, env={"URBANOS_ADMIN_TOKEN": TOKEN})
    try:
        wait(f"http://127.0.0.1:{port}/healthz")
        rnd = random.Random(2)
        # A plain keep-alive http.client connection: its own cost per request is far below httpx's, so the
        # figures show the server rather than the client. Answers are checked after the timed loop.
        conn = http.client.HTTPConnection("127.0.0.1", port)
        answers: list[bytes] = []

        def get(path: str, query: dict[str, str] | None = None) -> bytes:
            conn.request("GET", path + ("?" + urlencode(query) if query else ""),
                         headers={"Accept-Encoding": "gzip"})
            r = conn.getresponse()
            body = r.read()
            if r.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            assert r.status == 200, (r.status, body[:200])
            return body

        def top100() -> None:
            body = get(f"/sta/v1.1/Datastreams({rnd.randint(1, args.streams)})/Observations",
                       {"$top": "100", "$orderby": "phenomenonTime desc"})
            if len(answers) < 5:
                answers.append(body)

        def latest() -> None:
            v = orjson.loads(get("/sta/v1.1/Datastreams", {
                "$top": str(args.streams), "$select": "id,name",
                "$expand": "Observations($top=1;$orderby=phenomenonTime desc;$select=result,phenomenonTime)"}))["value"]
            assert len(v) == args.streams and v[0]["Observations"]

        def hello() -> None:
            get("/healthz")

        raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        q1 = ("SELECT id, phen_start, phen_end, result, result_time FROM sta_observations WHERE datastream_id = ?"
              " ORDER BY phen_start DESC, id ASC LIMIT 101")
        q2 = ("SELECT d.id, d.name, o.result, o.phen_start FROM sta_datastreams d JOIN sta_observations o"
              " ON o.id = d.last_obs_id LIMIT ?")

        def bare_top() -> None:
            raw.execute(q1, (rnd.randint(1, args.streams),)).fetchall()

        def bare_latest() -> None:
            raw.execute(q2, (args.streams,)).fetchall()

        # Each request is timed interleaved with its baselines, so that all of them see the same load.
        timed([top100, hello, bare_top], 0.5)
        a, h, ra = timed([top100, hello, bare_top], args.seconds)
        b, rb = timed([latest, bare_latest], args.seconds)
        raw.close()
        conn.close()
        assert all(len(orjson.loads(body)["value"]) == 100 for body in answers)
        print(f"machine: {pyplatform.machine()}, {os.cpu_count()} cores, Python {pyplatform.python_version()}, SQLite "
              f"{sqlite3.sqlite_version}; {args.rows:,} observations, {args.streams:,} datastreams; load average "
              f"{os.getloadavg()[0]:.1f}")
        print(f"{'request':<70} {'p50 ms':>8} {'p95 ms':>8} {'n':>6}")
        for label, xs in (("GET /healthz (HTTP round trip floor)", h),
                          ("Datastreams(id)/Observations?$top=100&$orderby=phenomenonTime desc", a),
                          ("  baseline: bare SQL of the same rows", ra),
                          ("latest value of every Datastream ($expand, one request)", b),
                          ("  baseline: bare SQL join on the latest pointer", rb)):
            print(f"{label:<70} {p50(xs):>8.2f} {p95(xs):>8.2f} {len(xs):>6}")
        print("targets: top-100 p50 <= 5 ms (10 M rows); latest of 1,000 Datastreams p50 <= 50 ms")
    finally:
        srv.terminate()
        srv.wait(timeout=10)


if __name__ == "__main__":
    main()
