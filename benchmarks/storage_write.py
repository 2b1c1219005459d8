"""Storage writes: single-row inserts from 8 concurrent tasks through the storage layer, beside a raw
``sqlite3`` ``executemany`` of the same rows into the same kind of database (WAL, synchronous=NORMAL).

    python benchmarks/storage_write.py [--rows 20000] [--db postgresql://…]

Target: the storage layer reaches at least 30 % of the raw rate on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from urbanos.plugins import settings_registry
from urbanos.settings import load
from urbanos.storage import Migration, open_database, upgrade

DDL = "CREATE TABLE obs (id {pk}, datastream_id INTEGER NOT NULL, t TEXT NOT NULL, result REAL)"


def rows(n: int) -> list[tuple[int, str, float]]:
    return [(i % 100, f"2024-01-01T00:00:{i % 60:02d}.{i:06d}Z", i * 0.5) for i in range(n)]


def raw_sqlite(path: Path, data: list[tuple[int, str, float]]) -> float:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(DDL.format(pk="INTEGER PRIMARY KEY AUTOINCREMENT"))
    t0 = time.perf_counter()
    con.execute("BEGIN")
    con.executemany("INSERT INTO obs (datastream_id, t, result) VALUES (?, ?, ?)", data)
    con.execute("COMMIT")
    dt = time.perf_counter() - t0
    con.close()
    return len(data) / dt


def through_storage(db_url: str, data_dir: str, data: list[tuple[int, str, float]], tasks: int = 8) -> float:
    settings = load(settings_registry(), env={}, overrides={"db": db_url, "data_dir": data_dir})
    db = open_database(settings)
    db.open()
    upgrade(db, [Migration("bench", 1, "obs", lambda c: c.execute(DDL.format(pk=c.dialect.pk)))])

    async def main() -> float:
        chunks = [data[i::tasks] for i in range(tasks)]

        async def worker(chunk: list[tuple[int, str, float]]) -> None:
            for row in chunk:
                await db.write(lambda c, row=row: c.execute("INSERT INTO obs (datastream_id, t, result) VALUES (?, ?, ?)", row))

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in chunks))
        return len(data) / (time.perf_counter() - t0)

    try:
        import uvloop

        return uvloop.run(main())
    finally:
        db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--db", default="", help="also measure a PostgreSQL URL through the storage layer")
    args = ap.parse_args()
    data = rows(args.rows)
    tmp = Path(tempfile.mkdtemp(prefix="urbanos-bench-"))
    raw = raw_sqlite(tmp / "raw.db", data)
    ours = through_storage(f"sqlite:///{tmp / 'ours.db'}", str(tmp), data)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")
    print(f"{'what':<52} {'rows/s':>10}")
    print(f"{'raw sqlite3 executemany, one transaction (baseline)':<52} {raw:>10.0f}")
    print(f"{'storage layer, 8 tasks, one INSERT per write':<52} {ours:>10.0f}")
    print(f"storage layer reaches {ours / raw:.0%} of the raw rate (target: at least 30 %)")
    if args.db:
        pg = through_storage(args.db, str(tmp), data)
        print(f"{'storage layer on PostgreSQL, 8 tasks':<52} {pg:>10.0f}")


if __name__ == "__main__":
    sys.exit(main())
