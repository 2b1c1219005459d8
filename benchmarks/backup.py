"""Backup and restore of a database with N Observations (default 1,000,000), beside the raw copy in the same run.

    python benchmarks/backup.py                                    # SQLite: beside `cp` of the file
    python benchmarks/backup.py --db postgresql://postgres@127.0.0.1:5432/postgres   # beside plain pg_dump

On PostgreSQL a database ``urbanos_bench_backup_<random>`` (and one for the restore) is created on the server the
URL names and dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from starlette.testclient import TestClient

from urbanos.cli import backup_io
from urbanos.plugins import settings_registry
from urbanos.settings import load
from urbanos.web.app import create_app

TOKEN = "bench-admin-token-0123456789"
STATION = {
    "name": "counter", "description": "c",
    "Locations": [{"name": "c", "description": "c", "encodingType": "application/geo+json",
                   "location": {"type": "Point", "coordinates": [9.99, 53.55]}}],
    "Datastreams": [{"name": "n", "description": "n",
                     "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                     "unitOfMeasurement": {"name": "n", "symbol": "n", "definition": "http://example.org/n"},
                     "Sensor": {"name": "s", "description": "s", "encodingType": "application/pdf", "metadata": "x"},
                     "ObservedProperty": {"name": "p", "definition": "http://example.org/p", "description": "p"},
                     "Observations": [{"result": 1, "phenomenonTime": "2024-01-01T00:00:00Z"}]}],
}
FILL = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) "
              "INSERT INTO sta_observations (phen_start, result, result_num, datastream_id, feature_id) "
              "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-01', '+' || i || ' seconds'), i, i, {ds}, {foi} FROM n",
    "postgresql": "INSERT INTO sta_observations (phen_start, result, result_num, datastream_id, feature_id) "
                  "SELECT to_char(timestamp '2024-01-01' + i * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                  " i::text, i, {ds}, {foi} FROM generate_series(1, {n}) i",
}


def build(settings_db: str, data_dir: Path, n: int) -> None:
    settings = load(settings_registry(), overrides={"db": settings_db, "data_dir": str(data_dir), "admin_token": TOKEN,
                                                    "log_level": "warning", "mqtt_port": 0,
                                                    "statement_timeout": 3600})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        r = client.post("/sta/v1.1/Things", json=STATION, headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 201, r.text
        platform = client.app.state.platform  # type: ignore[attr-defined]
        ds, foi = platform.db.read_sync(lambda c: c.fetchone("SELECT datastream_id, feature_id FROM sta_observations"))
        backend = "postgresql" if settings_db.startswith("postgres") else "sqlite"
        platform.db.write_sync(lambda c: c.execute(FILL[backend].format(n=n - 1, ds=ds, foi=foi)))


def timed(fn: object, *args: object) -> float:
    t = time.perf_counter()
    fn(*args)  # type: ignore[operator]
    return time.perf_counter() - t


def run(db: str, n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="urbanos-bench-backup-") as tmp:
        work = Path(tmp)
        src_dir, out = work / "src", work / "backup.tar.gz"
        t = time.perf_counter()
        build(db, src_dir, n)
        print(f"built {n:,} Observations in {time.perf_counter() - t:.1f} s")
        settings = load(settings_registry(), overrides={"db": db, "data_dir": str(src_dir)})
        if db.startswith("postgres"):
            raw = work / "raw.dump"
            base = timed(subprocess.run, ["pg_dump", "--format=custom", f"--file={raw}", f"--dbname={db}"])
            raw_size, label = raw.stat().st_size, "pg_dump --format=custom"
        else:
            raw = work / "copy.db"
            base = timed(shutil.copyfile, src_dir / "urbanos.db", raw)
            raw_size, label = raw.stat().st_size, "cp of the SQLite file"
        took = timed(backup_io.create, settings, out)
        with tarfile.open(out) as tar:
            members = json.load(tar.extractfile("manifest.json"))["members"]  # type: ignore[arg-type]
        print("members:", ", ".join(f"{k} {v['size'] / 1e6:.1f} MB" for k, v in members.items()))
        print(f"{'':<28} {'seconds':>8} {'MB':>8}")
        print(f"{label:<28} {base:>8.2f} {raw_size / 1e6:>8.2f}   (baseline)")
        print(f"{'urbanos backup':<28} {took:>8.2f} {out.stat().st_size / 1e6:>8.2f}   ({took / base:.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default="", help="PostgreSQL server URL (empty: SQLite)")
    ap.add_argument("-n", type=int, default=1_000_000, help="Observations (default 1,000,000)")
    args = ap.parse_args()
    if not args.db:
        run("", args.n)
        return
    import psycopg

    name = "urbanos_bench_backup_" + secrets.token_hex(4)
    with psycopg.connect(args.db, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    try:
        run(urlsplit(args.db)._replace(path="/" + name).geturl(), args.n)
    finally:
        with psycopg.connect(args.db, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    os.environ.setdefault("URBANOS_LOG_LEVEL", "warning")
    sys.exit(main())
