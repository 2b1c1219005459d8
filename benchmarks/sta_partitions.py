"""SensorThings reads on a large partitioned Observation table (PostgreSQL), against a live ``urbanos serve --db``:

* ``Datastreams(id)/Observations?$top=100&$orderby=phenomenonTime desc`` (target p50 <= 5 ms at 100 M rows);
* the latest value of 1,000 Datastreams in one request (target p50 <= 50 ms);

each interleaved request by request with its baselines: ``/healthz`` (the HTTP round trip) and the bare SQL of the
same question on the same database. Then single-Observation POSTs (8 clients) into a small partitioned database and
a small non-partitioned one, in the same run.

    python benchmarks/sta_partitions.py --db postgresql://postgres@127.0.0.1:5432/urbanos_bench \\
        [--rows 100000000] [--streams 1000] [--years 3] [--months 12] [--seconds 3] [--build-only]

The Observations are generated in SQL (``generate_series``, one statement per partition-sized time slice, the
indexes and primary key dropped during the load and built after it, then ANALYZE) into schema
``sta_bench_<rows>_<months>`` of the database, once: a marker table there says the build finished, and later runs
with the same --rows, --streams, --years and --months reuse it.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import platform as pyplatform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _load import build_request, print_results, run_load  # noqa: E402
from http_baseline import free_port, launch, wait  # noqa: E402

TOKEN = "bench-admin-token-0123456789"
STAMP = "YYYY-MM-DD\"T\"HH24:MI:SS\".000000Z\""


def schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema},public')}"


def migrate(url: str, data_dir: str) -> None:
    """The schema through the platform's migrations (the partitioned table on PostgreSQL)."""
    from urbanos.platform import Platform
    from urbanos.plugins import load_components, settings_registry
    from urbanos.settings import load

    s = load(settings_registry(), env={}, overrides={"data_dir": data_dir, "db": url, "log_level": "warning",
                                                     "mqtt_port": 0})
    p = Platform.build(s, load_components())
    p.open()
    p.close()


def build(base: str, schema: str, rows: int, streams: int, years: float, months: int) -> None:
    from urbanos.sensing import partitions as P

    with psycopg.connect(base, autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        con.execute(f"CREATE SCHEMA {schema}")
    url = schema_url(base, schema)
    migrate(url, tempfile.mkdtemp(prefix="urbanos-bench-"))
    per = rows // streams
    t_end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    t0 = t_end - timedelta(days=365.25 * years)
    step = (t_end - t0).total_seconds() / per
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("SET maintenance_work_mem = '1GB'")
        con.execute("SET work_mem = '256MB'")
        t = con.execute("INSERT INTO sta_things (name, description) VALUES ('Bench', 'x') RETURNING id").fetchone()[0]
        sn = con.execute("INSERT INTO sta_sensors (name, description, encoding_type, metadata)"
                         " VALUES ('s', 'x', 'text/html', 'x') RETURNING id").fetchone()[0]
        op = con.execute("INSERT INTO sta_observed_properties (name, definition, description)"
                         " VALUES ('p', 'x', 'x') RETURNING id").fetchone()[0]
        foi = con.execute("INSERT INTO sta_features (name, encoding_type, feature) VALUES ('f',"
                          " 'application/geo+json', '{\"type\": \"Point\", \"coordinates\": [144.96, -37.81]}')"
                          " RETURNING id").fetchone()[0]
        con.execute("INSERT INTO sta_datastreams (name, description, observation_type, unit, thing_id, sensor_id,"
                    " observed_property_id) SELECT 'ds' || i, 'x', 'x', '{}', %s, %s, %s"
                    " FROM generate_series(1, %s) i", (t, sn, op, streams))
        if months:
            with con.transaction():
                from urbanos.storage.postgres import PostgresConnection

                c = PostgresConnection(con)
                lo = f"{t0:%Y-%m-%dT%H:%M:%S}.000000Z"
                made = P.ensure_range(c, lo, f"{t_end + timedelta(days=1):%Y-%m-%dT%H:%M:%S}.000000Z", months)
            print(f"  {len(made)} partitions of {months} months", file=sys.stderr)
        else:
            unpartition(url)
            print("  a plain table (no partitions), the baseline", file=sys.stderr)
        con.execute("ALTER TABLE sta_observations DROP CONSTRAINT sta_observations_pkey")
        for name, _cols in P.INDEXES:
            con.execute(f"DROP INDEX {name}")
        chunk = max(1, 2_000_000 // streams)  # about two million rows per statement, time-major like a live feed
        done, t_load = 0, time.perf_counter()
        for k0 in range(0, per, chunk):
            k1 = min(per, k0 + chunk)
            con.execute(
                "INSERT INTO sta_observations (phen_start, result, result_num, datastream_id, feature_id)"
                " SELECT ts, v::text, v, d, %s FROM (SELECT t.ts, d.id AS d, (t.k * 7919 + d.id * 104729) %% 2001 AS v"
                f"  FROM (SELECT k, to_char(to_timestamp(%s + k * %s) AT TIME ZONE 'UTC', '{STAMP}') AS ts"
                "        FROM generate_series(%s::bigint, %s::bigint) k) t"
                "  CROSS JOIN sta_datastreams d ORDER BY t.k, d.id) x",
                (foi, t0.timestamp(), step, k0, k1 - 1))
            done += (k1 - k0) * streams
            rate = done / (time.perf_counter() - t_load)
            print(f"\r  loaded {done:,} of {per * streams:,} observations ({rate:,.0f}/s)", end="", file=sys.stderr)
        print(file=sys.stderr)
        for name, ddl in [("primary key", f"ALTER TABLE sta_observations ADD PRIMARY KEY ({'id, phen_start' if months else 'id'})")] + [
                (n, f"CREATE INDEX {n} ON sta_observations {cols}") for n, cols in P.INDEXES]:
            t_ix = time.perf_counter()
            con.execute(ddl)
            print(f"  {name} built in {time.perf_counter() - t_ix:.0f} s", file=sys.stderr)
        con.execute("UPDATE sta_datastreams d SET (last_obs_id, last_phen) = (SELECT o.id, o.phen_start"
                    " FROM sta_observations o WHERE o.datastream_id = d.id ORDER BY o.phen_start DESC, o.id LIMIT 1)")
        con.execute("ANALYZE")
        con.execute("CREATE TABLE bench_marker (rows BIGINT, streams INT, years REAL, months INT, built_at TEXT)")
        con.execute("INSERT INTO bench_marker VALUES (%s, %s, %s, %s, %s)",
                    (rows, streams, years, months, datetime.now(UTC).isoformat()))


def cached_build(base: str, rows: int, streams: int, years: float, months: int) -> str:
    schema = f"sta_bench_{rows}_{months}"
    with psycopg.connect(base, autocommit=True) as con:
        row = con.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{schema}.bench_marker",)).fetchone()
        if row and row[0] and con.execute(f"SELECT 1 FROM {schema}.bench_marker WHERE rows = %s AND streams = %s"
                                          " AND years = %s AND months = %s", (rows, streams, years, months)).fetchone():
            print(f"reusing schema {schema}", file=sys.stderr)
            return schema
    t = time.perf_counter()
    build(base, schema, rows, streams, years, months)
    print(f"built {rows:,} observations in {streams:,} datastreams in {time.perf_counter() - t:.0f} s",
          file=sys.stderr)
    return schema


def timed(fns: list[Any], seconds: float) -> list[list[float]]:
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


def reads(url: str, streams: int, seconds: float) -> list[tuple[str, list[float]]]:
    port = free_port()
    srv = launch(port, tempfile.mkdtemp(prefix="urbanos-bench-"), db=url, env={"URBANOS_ADMIN_TOKEN": TOKEN})
    try:
        wait(f"http://127.0.0.1:{port}/healthz")
        rnd = random.Random(2)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        answers: list[bytes] = []

        def get(path: str, query: dict[str, str] | None = None) -> bytes:
            conn.request("GET", path + ("?" + urlencode(query) if query else ""), headers={"Accept-Encoding": "gzip"})
            r = conn.getresponse()
            body = r.read()
            if r.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            assert r.status == 200, (r.status, body[:200])
            return body

        def top100() -> None:
            body = get(f"/sta/v1.1/Datastreams({rnd.randint(1, streams)})/Observations",
                       {"$top": "100", "$orderby": "phenomenonTime desc"})
            if len(answers) < 5:
                answers.append(body)

        def latest() -> None:
            v = orjson.loads(get("/sta/v1.1/Datastreams", {
                "$top": str(streams), "$select": "id,name",
                "$expand": "Observations($top=1;$orderby=phenomenonTime desc;$select=result,phenomenonTime)"}))["value"]
            assert len(v) == streams and v[0]["Observations"]

        def hello() -> None:
            get("/healthz")

        raw = psycopg.connect(url, autocommit=True)
        raw.execute("SET jit = off")  # as the server's own connections (urbanos.storage.postgres)
        q1 = ("SELECT id, phen_start, phen_end, result, result_time FROM sta_observations WHERE datastream_id = %s"
              " ORDER BY phen_start DESC, id ASC LIMIT 101")
        q2 = ("SELECT d.id, d.name, o.result, o.phen_start FROM sta_datastreams d JOIN sta_observations o"
              " ON o.datastream_id = d.id AND o.phen_start = d.last_phen AND o.id = d.last_obs_id LIMIT %s")
        q3 = ("SELECT d.id, d.name, o.result, o.phen_start FROM sta_datastreams d JOIN sta_observations o"
              " ON o.id = d.last_obs_id LIMIT %s")

        def bare_top() -> None:
            raw.execute(q1, (rnd.randint(1, streams),), prepare=False).fetchall()

        def bare_latest() -> None:
            raw.execute(q2, (streams,), prepare=False).fetchall()

        def bare_latest_by_id() -> None:
            raw.execute(q3, (streams,), prepare=False).fetchall()

        timed([top100, hello, bare_top], 0.5)
        a, h, ra = timed([top100, hello, bare_top], seconds)
        b, rb, rc = timed([latest, bare_latest, bare_latest_by_id], seconds)
        raw.close()
        conn.close()
        assert all(len(orjson.loads(body)["value"]) == 100 for body in answers)
        return [("GET /healthz (HTTP round trip floor)", h),
                ("Datastreams(id)/Observations?$top=100&$orderby=phenomenonTime desc", a),
                ("  baseline: bare SQL of the same rows", ra),
                ("latest value of every Datastream ($expand, one request)", b),
                ("  baseline: bare SQL join on (datastream, last_phen, id)", rb),
                ("  for comparison: bare SQL join on the id alone", rc)]
    finally:
        srv.terminate()
        srv.wait(timeout=10)


def unpartition(url: str) -> None:
    """Make the freshly migrated schema's Observation table a plain one again (the ingest comparison)."""
    from urbanos.sensing import partitions as P

    with psycopg.connect(url, autocommit=True) as con, con.transaction():
        con.execute("DROP TABLE sta_observations")
        cols = P._COLUMNS.replace("GENERATED BY DEFAULT AS IDENTITY", "GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
        con.execute(f"CREATE TABLE sta_observations ({cols})")
        for name, ix in P.INDEXES:
            con.execute(f"CREATE INDEX {name} ON sta_observations {ix}")


def ingest(base: str, seconds: float, rounds: int = 3, concurrency: int = 8) -> list[tuple[str, Any]]:
    """Single-Observation POSTs into a fresh partitioned schema and a fresh plain one, both served at once and
    measured in turns (``rounds`` each, alternating), so that both see the same load."""
    from sta_ingest import setup_stream

    servers, out = [], []
    try:
        for schema in ("sta_ingest_part", "sta_ingest_plain"):
            with psycopg.connect(base, autocommit=True) as con:
                con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                con.execute(f"CREATE SCHEMA {schema}")
            url = schema_url(base, schema)
            migrate(url, tempfile.mkdtemp(prefix="urbanos-bench-"))
            if schema.endswith("plain"):
                unpartition(url)
            port = free_port()
            servers.append(launch(port, tempfile.mkdtemp(prefix="urbanos-bench-"), db=url,
                                  env={"URBANOS_ADMIN_TOKEN": TOKEN}))
            wait(f"http://127.0.0.1:{port}/healthz")
            ds = setup_stream(f"http://127.0.0.1:{port}")
            now = datetime.now(UTC)
            posts = [build_request("POST", "/sta/v1.1/Observations", f"127.0.0.1:{port}", orjson.dumps({
                "result": i, "phenomenonTime": f"{now - timedelta(seconds=i):%Y-%m-%dT%H:%M:%S}Z",
                "Datastream": {"@iot.id": ds}}), {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
                for i in range(200)]
            run_load("127.0.0.1", port, posts, concurrency=concurrency, seconds=1.0)
            out.append((schema, port, posts))
        results = []
        for k in range(rounds):
            for schema, port, posts in out:
                label = f"round {k + 1}: {'partitioned' if schema.endswith('part') else 'plain'} table"
                results.append((label, run_load("127.0.0.1", port, posts, concurrency=concurrency, seconds=seconds)))
        return results
    finally:
        for srv in servers:
            srv.terminate()
            srv.wait(timeout=10)
        with psycopg.connect(base, autocommit=True) as con:
            for schema in ("sta_ingest_part", "sta_ingest_plain"):
                con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, help="postgresql:// URL of a database this benchmark may fill")
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--years", type=float, default=3.0)
    ap.add_argument("--months", type=int, default=12,
                    help="partition width (the setting sta_partition_months); 0: a plain table, the baseline")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--ingest-seconds", type=float, default=5.0)
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--no-ingest", action="store_true", help="the reads only")
    args = ap.parse_args()
    schema = cached_build(args.db, args.rows, args.streams, args.years, args.months)
    if args.build_only:
        return
    with psycopg.connect(schema_url(args.db, schema)) as con:
        size = con.execute("SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c"
                           " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
                           (schema,)).fetchone()[0]
        nparts = con.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'sta_observations'::regclass"
                             ).fetchone()[0]
        kind = f"{nparts} partitions ({args.months} months and DEFAULT)" if args.months else "a plain table"
        version = con.execute("SHOW server_version").fetchone()[0]
    results = reads(schema_url(args.db, schema), args.streams, args.seconds)
    load_reads = os.getloadavg()[0]
    posts = [] if args.no_ingest else ingest(args.db, args.ingest_seconds)
    print(f"machine: {pyplatform.machine()}, {os.cpu_count()} cores, Python {pyplatform.python_version()}, "
          f"PostgreSQL {version}; {args.rows:,} observations, {args.streams:,} datastreams over {args.years:g} years,"
          f" {kind}, {size} on disk; load average {load_reads:.1f}")
    print(f"{'request':<70} {'p50 ms':>8} {'p95 ms':>8} {'n':>6}")
    for label, xs in results:
        print(f"{label:<70} {p50(xs):>8.2f} {p95(xs):>8.2f} {len(xs):>6}")
    print("targets: top-100 p50 <= 5 ms; latest of 1,000 Datastreams p50 <= 50 ms (100 M rows)")
    if posts:
        print_results("single-Observation POSTs, 8 clients, small database", posts, 40)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
