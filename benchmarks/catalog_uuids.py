"""Public UUIDs of the catalogue: what they cost beside what the same work costs by name, in the same run.

    python benchmarks/catalog_uuids.py                       # SQLite in a temporary directory
    python benchmarks/catalog_uuids.py --db postgresql://postgres@127.0.0.1/test

Makes N datasets (default 5,000) with plain ``datasets`` inserts, as other capabilities make them, once with the
catalogue's UUID trigger and once on a database still at catalogue migration 3 (baseline), then migrates that
one (the backfill of migration 4). Then times, inside one read transaction each:

* ``show by UUID`` beside ``show by name``: the dataset lookup of package_show and every write;
* ``page sort=id`` beside ``page sort=name``: one page of 10 package dicts of package_search, first call (the
  sort ranks are read once per catalogue version) and then the steady state;
* ``fq=id:<uuid>`` beside ``fq=name:<name>``.

Bounded: well under two minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

TS = "2024-01-01T00:00:00.000000Z"


def _settings(db: str, data_dir: str) -> Any:
    from urbanos.plugins import settings_registry
    from urbanos.settings import load

    overrides = {"data_dir": data_dir, "db": db, "log_level": "warning"}
    if "mqtt_port" in settings_registry():
        overrides["mqtt_port"] = 0
    return load(settings_registry(), env={}, overrides=overrides)


def _db_url(base: str, tmp: str, label: str) -> tuple[str, str | None]:
    if not base.startswith("postgres"):
        return f"sqlite:///{Path(tmp) / f'{label}.db'}", None
    from urllib.parse import quote

    import psycopg

    schema = f"bench_{label}_" + secrets.token_hex(4)
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema},public')}", schema


def _insert(db: Any, n: int) -> float:
    def tx(c: Any) -> None:
        c.executemany("INSERT INTO datasets (name, title, owner_org, access_level, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?)",
                      [(f"ds-{i:05d}", f"Dataset {i}", None, "open", TS, TS) for i in range(n)])
    t = time.perf_counter()
    db.write_sync(tx)
    return time.perf_counter() - t


def _ms(xs: list[float]) -> str:
    return f"median {statistics.median(xs) * 1000:8.3f} ms   p95 {sorted(xs)[int(len(xs) * 0.95) - 1] * 1000:8.3f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="", help="database URL (default: SQLite in a temporary directory)")
    ap.add_argument("-n", type=int, default=5000, help="number of datasets (default 5000)")
    ap.add_argument("--runs", type=int, default=200, help="timed calls per kind (default 200)")
    args = ap.parse_args()

    from urbanos.catalog.records import dataset_row
    from urbanos.governance import ANONYMOUS
    from urbanos.platform import Platform
    from urbanos.plugins import load_components
    from urbanos.storage import open_database, upgrade

    tmp = tempfile.mkdtemp(prefix="urbanos-uuidbench-")
    schemas: list[str] = []

    # baseline: the same inserts on a database at catalogue migration 3 (no trigger), then migration 4's backfill
    old_url, schema = _db_url(args.db, tmp, "old")
    schemas += [schema] if schema else []
    old_settings = _settings(old_url, tmp)
    probe = Platform.build(old_settings, load_components())
    old = open_database(old_settings)
    old.open()
    upgrade(old, [m for m in probe.migrations() if not (m.component == "catalog" and m.version >= 4)])
    t_plain = _insert(old, args.n)
    t = time.perf_counter()
    upgrade(old, probe.migrations())
    t_backfill = time.perf_counter() - t
    old.close()

    url, schema = _db_url(args.db, tmp, "new")
    schemas += [schema] if schema else []
    platform = Platform.build(_settings(url, tmp), load_components())
    platform.open()
    try:
        t_trigger = _insert(platform.db, args.n)
        svc = platform.services["catalog"]
        import asyncio

        asyncio.run(svc.ensure_indexed())
        names = [f"ds-{i:05d}" for i in random.Random(5).sample(range(args.n), min(args.runs, args.n))]
        uuids = platform.db.read_sync(lambda c: {r[0]: r[1] for r in c.fetchall(
            "SELECT d.name, u.uuid FROM datasets d JOIN catalog_dataset_ids u ON u.dataset_id = d.id")})
        out: dict[str, list[float]] = {k: [] for k in ("show by name", "show by UUID", "page sort=name", "page sort=id",
                                                       "fq=name:<name>", "fq=id:<uuid>")}
        first: dict[str, float] = {}

        def timed(key: str, fn: Any) -> None:
            def tx(c: Any) -> None:
                t0 = time.perf_counter()
                fn(c)
                elapsed = time.perf_counter() - t0
                if key.startswith("page") and key not in first:
                    first[key] = elapsed
                else:
                    out[key].append(elapsed)
            platform.db.read_sync(tx)

        svc.search.version = ()  # the search cache off: every query computed
        for name in names:
            timed("show by name", lambda c, k=name: dataset_row(c, k))
            timed("show by UUID", lambda c, k=uuids[name]: dataset_row(c, k))
            timed("page sort=name", lambda c: svc.search_sync(c, ANONYMOUS, rows=10, start=100, sort="name asc"))
            timed("page sort=id", lambda c: svc.search_sync(c, ANONYMOUS, rows=10, start=100, sort="id asc"))
            timed("fq=name:<name>", lambda c, k=name: svc.search_sync(c, ANONYMOUS, fq=f"name:{k}", rows=10))
            timed("fq=id:<uuid>", lambda c, k=uuids[name]: svc.search_sync(c, ANONYMOUS, fq=f"id:{k}", rows=10))
    finally:
        platform.close()
        if schemas:
            import psycopg

            with psycopg.connect(args.db, autocommit=True) as conn:
                for s in schemas:
                    conn.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE")

    backend = "postgresql" if args.db.startswith("postgres") else "sqlite"
    print(f"catalogue UUIDs on {backend}, {args.n} datasets, {len(names)} calls per kind")
    print(f"insert {args.n} rows with the UUID trigger   {t_trigger * 1000:9.1f} ms   baseline without it {t_plain * 1000:9.1f} ms")
    print(f"migration 4 backfill of {args.n} rows       {t_backfill * 1000:9.1f} ms")
    for key, base in (("show by UUID", "show by name"), ("page sort=id", "page sort=name"), ("fq=id:<uuid>", "fq=name:<name>")):
        print(f"{key:16s} {_ms(out[key])}   baseline {base:15s} {_ms(out[base])}")
    print(f"first page sort=id {first['page sort=id'] * 1000:8.3f} ms (reads the sort ranks)   "
          f"baseline first page sort=name {first['page sort=name'] * 1000:8.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
