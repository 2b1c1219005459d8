"""The SensorThings mirror (``sta`` connector) copying N Observations from a second local urbanos (``urbanos
serve`` on SQLite, ``sta_max_top`` 10,000), in-process on a fresh local database (SQLite unless --db is given),
beside the raw fetch of the same pages in the same run (the baseline: plain httpx GETs of the same Observation pages,
following the same next links, parsed with orjson: what any mirror must spend on the network).

The remote holds ``--streams`` Datastreams of N / streams Observations each (one Thing each). The connector runs
until a run copies nothing more (each run copies at most its ``max_observations``, 200,000 by default); the figure is
Observations copied per second over all runs, and the part spent writing (``create_observations_bulk``).

    python benchmarks/connectors_sta_mirror.py [--n 1000000] [--streams 10] [--page 10000] [--db postgresql://…]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, launch, wait  # noqa: E402

from urbanos.core.time import now_stored  # noqa: E402
from urbanos.platform import Platform  # noqa: E402
from urbanos.plugins import load_components, settings_registry  # noqa: E402
from urbanos.settings import load  # noqa: E402

TOKEN = "bench-admin-token-0123456789"  # noqa: S105 - a throwaway token of a throwaway server
H = {"Authorization": f"Bearer {TOKEN}"}


def fill(root: str, n: int, streams: int) -> list[int]:
    """Things with one Datastream each on the remote, N Observations spread over them; the Datastreams' ids."""
    ids = []
    per = n // streams
    with httpx.Client(timeout=300, headers=H) as cl:
        for s in range(streams):
            thing = {"name": f"Bench {s}", "description": "benchmark", "Locations": [{
                "name": "here", "description": "x", "encodingType": "application/geo+json",
                "location": {"type": "Point", "coordinates": [9.9 + s / 1000, 53.5]}}],
                "Datastreams": [{"name": f"stream {s}", "description": "x", "observationType":
                                 "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                                 "unitOfMeasurement": {"name": "degree Celsius", "symbol": "°C", "definition": "x"},
                                 "Sensor": {"name": "s", "description": "s", "encodingType": "text/html", "metadata": "x"},
                                 "ObservedProperty": {"name": "p", "definition": "x", "description": "p"}}]}
            r = cl.post(f"{root}/Things", json=thing)
            r.raise_for_status()
            ds = int(cl.get(f"{r.headers['location']}/Datastreams").json()["value"][0]["@iot.id"])
            ids.append(ds)
            for start in range(0, per, 20_000):
                rows = [[f"2020-01-{1 + i // 86400:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                         round(i * 0.01, 2)] for i in range(start, min(per, start + 20_000))]
                cl.post(f"{root}/CreateObservations", json=[{"Datastream": {"@iot.id": ds}, "dataArray": rows,
                                                             "components": ["phenomenonTime", "result"]}]
                        ).raise_for_status()
    return ids


async def raw_fetch(root: str, ids: list[int], page: int) -> tuple[float, int, list[list[tuple[Any, ...]]]]:
    """The same Observation pages the connector reads, fetched and parsed: seconds, bytes, and per Datastream its
    rows ``(phenomenonTime, result, resultTime)``."""
    started, size = time.perf_counter(), 0
    out: list[list[tuple[Any, ...]]] = []
    async with httpx.AsyncClient(timeout=300) as client:
        for ds in ids:
            rows: list[tuple[Any, ...]] = []
            url: str | None = (f"{root}/Datastreams({ds})/Observations?$select=id,phenomenonTime,resultTime,result"
                               f"&$orderby=phenomenonTime asc,id asc&$top={page}")
            while url:
                body = (await client.get(url)).content
                size += len(body)
                doc = orjson.loads(body)
                rows += [(o["phenomenonTime"], o["result"], o.get("resultTime")) for o in doc["value"]]
                url = doc.get("@iot.nextLink")
            out.append(rows)
    return time.perf_counter() - started, size, out


def raw_insert(platform: Platform, fetched: list[list[tuple[Any, ...]]]) -> float:
    """Seconds to insert the same rows into ``sta_observations`` (of the mirrored Datastreams, with their
    FeatureOfInterest) the plainest way the back end offers, in one transaction: ``executemany`` on SQLite, ``COPY``
    on PostgreSQL; no checks, no ids returned, no envelope, no events. The rows are deleted again afterwards."""
    from urbanos.sensing.timefmt import plain_utc

    db = platform.db
    local = db.read_sync(lambda c: c.fetchall("SELECT datastream_id, MIN(feature_id) FROM sta_observations"
                                              " GROUP BY datastream_id ORDER BY datastream_id"))
    cols = ("phen_start", "result_time", "result", "result_num", "datastream_id", "feature_id")
    rows = [(plain_utc(t), rt, orjson.dumps(v).decode(), float(v), int(ds), int(foi))
            for (ds, foi), stream in zip(local, fetched, strict=True) for t, v, rt in stream]
    top = db.read_sync(lambda c: c.fetchval("SELECT MAX(id) FROM sta_observations"))

    def insert(c: Any) -> None:
        if db.dialect.name == "sqlite":
            c.executemany(f"INSERT INTO sta_observations ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                          rows)
            return
        c.execute("SET LOCAL statement_timeout = 0")  # one COPY of all rows may outlast the server's default limit
        with c.raw.cursor() as cur, cur.copy(f"COPY sta_observations ({', '.join(cols)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)

    started = time.perf_counter()
    db.write_sync(insert)
    took = time.perf_counter() - started
    db.write_sync(lambda c: c.execute("DELETE FROM sta_observations WHERE id > ?", [top]))
    return took


async def bench(platform: Platform, root: str, ids: list[int], page: int, profile: str) -> None:
    service = platform.services["connectors"]
    from urbanos.ports import SensingPort

    sensing: Any = platform.require(SensingPort)
    spent = [0.0]
    create = sensing.create_observations_bulk

    def timed(*args: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return create(*args, **kw)
        finally:
            spent[0] += time.perf_counter() - t

    sensing.create_observations_bulk = timed
    now = now_stored()
    platform.db.write_sync(lambda c: c.insert("datasets", {"name": "bench", "title": "bench", "owner_org": None,
                                                           "access_level": "open", "created_at": now,
                                                           "modified_at": now}))
    from urbanos.governance import ADMIN

    await service.add(ADMIN, {"name": "mirror", "type": "sta", "url": root, "dataset": "bench",
                              "mapping": {"page_size": page}})
    fetch, size, rows = await raw_fetch(root, ids, page)
    fetched = sum(map(len, rows))
    if profile:
        import yappi  # not a dependency: pip install yappi

        yappi.set_clock_type("cpu")
        yappi.start()
    started, copied, runs = time.perf_counter(), 0, 0
    while True:
        r = await service.runner.run("mirror")
        assert r["status"] == "ok", r
        runs += 1
        got = r["created"] - (5 * len(ids) if runs == 1 else 0)  # Location, Thing, Datastream per stream; 2 shared
        copied += got
        if got <= 0:
            break
    took = time.perf_counter() - started
    if profile:
        yappi.stop()
        yappi.get_func_stats().save(profile, type="pstat")
    again = await service.runner.run("mirror")
    assert again["status"] == "ok" and again["created"] == again["updated"] == 0, again
    assert copied == fetched, (copied, fetched)
    insert = raw_insert(platform, rows)
    print(f"SensorThings mirror, {copied} Observations in {len(ids)} Datastreams, local {platform.db.dialect.name}, "
          f"remote sqlite, Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.1f}")
    print(f"raw fetch of the same pages:  {fetch:8.2f} s {fetched / fetch:10.0f} Observations/s  ({size / 1e6:.1f} MB)")
    print(f"raw insert of the same rows:  {insert:8.2f} s {fetched / insert:10.0f} Observations/s")
    print(f"raw fetch + raw insert:       {fetch + insert:8.2f} s {fetched / (fetch + insert):10.0f} Observations/s")
    print(f"mirror ({runs} runs):            {took:8.2f} s {copied / took:10.0f} Observations/s"
          f"  (writing {spent[0]:.2f} s, {copied / max(spent[0], 1e-9):.0f}/s)")
    print(f"mirror / (raw fetch + raw insert): {took / (fetch + insert):.2f}; mirror / the slower of the two (the floor"
          f" of a copy that fetches while it writes): {took / max(fetch, insert):.2f}; target >= 20,000 Observations/s")


@contextlib.contextmanager
def local_db(db: str, folder: Path) -> Iterator[str]:
    """The mirror's local database: SQLite in ``folder``, or a fresh schema of the PostgreSQL database ``db``
    (dropped afterwards), so runs do not see each other's rows."""
    if not db.startswith("postgres"):
        yield db or f"sqlite:///{folder / 'local.db'}"
        return
    import psycopg

    schema = "bench_" + secrets.token_hex(4)
    with psycopg.connect(db, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{db}{'&' if '?' in db else '?'}options={quote(f'-csearch_path={schema},public')}"
    finally:
        with psycopg.connect(db, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--observations", "--n", dest="n", type=int, default=1_000_000)
    ap.add_argument("--streams", type=int, default=10)
    ap.add_argument("--page", type=int, default=10_000)
    ap.add_argument("--db", default="")
    ap.add_argument("--profile", default="", help="write a profile (CPU time, all threads; pstats format) of the mirror runs to this file; needs yappi")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-bench-")
    port = free_port()
    srv = launch(port, Path(tmp) / "remote", env={"URBANOS_ADMIN_TOKEN": TOKEN, "URBANOS_STA_MAX_TOP": "10000",
                                                  "URBANOS_MAX_BODY_BYTES": str(64 * 1024 * 1024)})
    try:
        root = f"http://127.0.0.1:{port}/sta/v1.1"
        wait(f"http://127.0.0.1:{port}/healthz")
        t = time.perf_counter()
        ids = fill(root, args.n, args.streams)
        print(f"remote filled in {time.perf_counter() - t:.1f} s")
        with local_db(args.db, Path(tmp)) as db:
            settings = load(settings_registry(), env={}, overrides={
                "data_dir": str(Path(tmp) / "data"), "db": db,
                "outbound_allow": "127.0.0.1", "connectors_scheduler": False, "log_level": "warning", "mqtt_port": 0,
                "connectors_max_bytes": 256 * 1024 * 1024, "connectors_transfer_seconds": 600})
            platform = Platform.build(settings, load_components())
            platform.open()

            async def go() -> None:
                await platform.bus.start()
                try:
                    await bench(platform, root, ids, args.page, args.profile)
                finally:
                    await platform.bus.stop()

            try:
                asyncio.run(go())
            finally:
                platform.close()
    finally:
        srv.terminate()
        srv.wait(timeout=20)


if __name__ == "__main__":
    main()
