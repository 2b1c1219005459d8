"""SensorThings dataArray ingest (``POST CreateObservations`` to a live ``urbanos serve``, SQLite) against a raw
``executemany`` of the same rows into the same table of the same database, in one run.

    python benchmarks/sta_dataarray.py [--rows 200000] [--batch 10000]
"""

from __future__ import annotations

import argparse
import os
import platform as pyplatform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, wait  # noqa: E402
from sta_ingest import TOKEN, setup_stream  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=10_000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-bench-")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANOS_")}
    env.update({"URBANOS_ACCESS_LOG": "false", "URBANOS_LOG_LEVEL": "warning", "URBANOS_ADMIN_TOKEN": TOKEN,
                "URBANOS_MAX_BODY_BYTES": str(64 * 1024 * 1024)})
    srv = subprocess.Popen([sys.executable, "-m", "urbanos.cli.main", "serve", "--port", str(port), "--data-dir", tmp,
                            "--mqtt-port", "0"], env=env)
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    times = [(t0 + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(args.rows)]
    try:
        url = f"http://127.0.0.1:{port}"
        wait(f"{url}/healthz")
        ds = setup_stream(url)
        docs = []
        for i in range(0, args.rows, args.batch):
            docs.append(orjson.dumps([{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                                       "dataArray": [[times[k], k % 1000] for k in range(i, min(args.rows, i + args.batch))]}]))
        h = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        with httpx.Client(timeout=120) as cl:
            start = time.perf_counter()
            for body in docs:
                r = cl.post(f"{url}/sta/v1.1/CreateObservations", content=body, headers=h)
                r.raise_for_status()
            api = time.perf_counter() - start
            n = cl.get(f"{url}/sta/v1.1/Datastreams({ds})/Observations?$count=true&$top=0").json()["@iot.count"]
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    assert n == args.rows, n
    # baseline: the same rows with a raw executemany into the same table (FeatureOfInterest and Datastream ids given)
    from urbanos.platform import Platform
    from urbanos.plugins import load_components, settings_registry
    from urbanos.sensing.timefmt import store_instant
    from urbanos.settings import load

    s = load(settings_registry(), env={}, overrides={"data_dir": tmp, "log_level": "warning", "mqtt_port": 0})
    p = Platform.build(s, load_components())
    p.open()
    try:
        foi = p.db.read_sync(lambda c: c.fetchval("SELECT MIN(id) FROM sta_features"))
        rows = [(store_instant(times[k]), str(k % 1000), float(k % 1000), ds, foi) for k in range(args.rows)]
        start = time.perf_counter()
        for i in range(0, args.rows, args.batch):
            part = rows[i : i + args.batch]
            p.db.write_sync(lambda c, part=part: c.executemany(
                "INSERT INTO sta_observations (phen_start, result, result_num, datastream_id, feature_id)"
                " VALUES (?, ?, ?, ?, ?)", part))
        raw = time.perf_counter() - start
    finally:
        p.close()
    print(f"machine: {pyplatform.machine()}, {os.cpu_count()} cores, Python {pyplatform.python_version()}, SQLite")
    print(f"{'what':<58} {'rows/s':>10}")
    print(f"{'raw executemany (baseline, pre-formatted rows)':<58} {args.rows / raw:>10,.0f}")
    print(f"{f'POST CreateObservations over HTTP ({args.batch:,}-row documents)':<58} {args.rows / api:>10,.0f}")
    print(f"dataArray ingest reaches {raw / api:.0%} of the raw executemany rate (target >= 50 %)")


if __name__ == "__main__":
    main()
