"""SensorThings dataArray ingest (``POST CreateObservations`` to a live ``urbanos serve``, SQLite) against a raw
``executemany`` of the same rows into the same table of the same database, in one run.

The two are measured alternately, document by document, so that both see the same table size, the same
indexes and the same load on the machine; the figure reported is the median of the per-pair ratios.

* API: the rows, in documents of ``--batch`` rows, posted one after the other over HTTP (keep-alive).
* Baseline: the same rows, already in their stored form (fixed-width UTC text, result text and number,
  Datastream and FeatureOfInterest ids), inserted by a plain ``sqlite3`` connection to the same database
  file with the server's settings (WAL, synchronous=NORMAL, foreign keys on), with one ``executemany`` and
  one commit per ``--batch`` rows, as the server commits once per document.

    python benchmarks/sta_dataarray.py [--rows 100000] [--batch 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import platform as pyplatform
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).parent))
from http_baseline import free_port, launch, wait  # noqa: E402
from sta_ingest import TOKEN, setup_stream  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000, help="rows per round and per side")
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    from urbanos.sensing.timefmt import store_instant

    tmp = tempfile.mkdtemp(prefix="urbanos-bench-")
    port = free_port()
    srv = launch(port, tmp, env={"URBANOS_ADMIN_TOKEN": TOKEN, "URBANOS_MAX_BODY_BYTES": str(64 * 1024 * 1024)})
    t0 = datetime(2020, 1, 1, tzinfo=UTC)
    api_rates: list[float] = []
    raw_rates: list[float] = []
    try:
        url = f"http://127.0.0.1:{port}"
        wait(f"{url}/healthz")
        ds = setup_stream(url)
        h = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        raw = sqlite3.connect(str(Path(tmp) / "urbanos.db"), isolation_level=None)
        for pragma in ("busy_timeout = 30000", "foreign_keys = ON", "synchronous = NORMAL", "journal_mode = WAL"):
            raw.execute(f"PRAGMA {pragma}")
        with httpx.Client(timeout=120) as cl:
            # one warm-up document creates the FeatureOfInterest the rows share
            r = cl.post(f"{url}/sta/v1.1/CreateObservations", headers=h, content=orjson.dumps(
                [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                  "dataArray": [["2019-12-31T00:00:00Z", 0]]}]))
            r.raise_for_status()
            foi = raw.execute("SELECT MIN(id) FROM sta_features").fetchone()[0]
            for rnd in range(args.rounds):
                base_min = rnd * args.rows
                times = [(t0 + timedelta(minutes=base_min + i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(args.rows)]
                docs = [orjson.dumps([{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                                       "dataArray": [[times[k], k % 1000] for k in range(i, min(args.rows, i + args.batch))]}])
                        for i in range(0, args.rows, args.batch)]
                rows = [(store_instant(times[k]), str(k % 1000), float(k % 1000), ds, foi) for k in range(args.rows)]
                parts = [rows[i : i + args.batch] for i in range(0, args.rows, args.batch)]
                # document by document, API and raw in turn (alternating which goes first): each pair sees the
                # same table size and the same load on the machine
                for j, (body, part) in enumerate(zip(docs, parts, strict=True)):
                    pair: dict[str, float] = {}
                    for side in (("api", "raw") if (rnd + j) % 2 == 0 else ("raw", "api")):
                        start = time.perf_counter()
                        if side == "api":
                            cl.post(f"{url}/sta/v1.1/CreateObservations", content=body, headers=h).raise_for_status()
                        else:
                            raw.execute("BEGIN")
                            raw.executemany("INSERT INTO sta_observations (phen_start, result, result_num, datastream_id,"
                                            " feature_id) VALUES (?, ?, ?, ?, ?)", part)
                            raw.execute("COMMIT")
                        pair[side] = len(part) / (time.perf_counter() - start)
                    api_rates.append(pair["api"])
                    raw_rates.append(pair["raw"])
                k = len(parts)
                print(f"  round {rnd + 1}: raw {statistics.median(raw_rates[-k:]):,.0f} rows/s, API"
                      f" {statistics.median(api_rates[-k:]):,.0f} rows/s,"
                      f" {statistics.median([a / b for a, b in zip(api_rates[-k:], raw_rates[-k:], strict=True)]):.0%}",
                      file=sys.stderr)
            n = cl.get(f"{url}/sta/v1.1/Datastreams({ds})/Observations?$count=true&$top=0").json()["@iot.count"]
        raw.close()
    finally:
        srv.terminate()
        srv.wait(timeout=10)
    assert n == 1 + 2 * args.rounds * args.rows, n
    ratios = [a / b for a, b in zip(api_rates, raw_rates, strict=True)]
    print(f"machine: {pyplatform.machine()}, {os.cpu_count()} cores, Python {pyplatform.python_version()}, SQLite "
          f"{sqlite3.sqlite_version}; load average {os.getloadavg()[0]:.1f}")
    print(f"{args.rounds} rounds of {args.rows:,} rows per side, {len(ratios)} API/raw pairs of {args.batch:,} rows;"
          " medians over the pairs:")
    print(f"{'what':<58} {'rows/s':>10}")
    print(f"{'raw executemany (baseline, pre-formatted rows)':<58} {statistics.median(raw_rates):>10,.0f}")
    print(f"{f'POST CreateObservations over HTTP ({args.batch:,}-row documents)':<58} {statistics.median(api_rates):>10,.0f}")
    q = statistics.quantiles(ratios, n=4)
    print(f"dataArray ingest reaches {statistics.median(ratios):.0%} of the raw executemany rate (median of the per-pair"
          f" ratios; quartiles {q[0]:.0%}-{q[2]:.0%}; target >= 50 %)")


if __name__ == "__main__":
    main()
