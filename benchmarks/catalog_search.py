"""Catalogue search benchmark: package_search with facets over 10,000 datasets, beside the raw FTS query.

    python benchmarks/catalog_search.py                       # SQLite in a temporary directory
    python benchmarks/catalog_search.py --db postgresql://postgres@127.0.0.1/test

Loads N datasets (default 10,000) through the catalogue's own write path (validation, facets, full-text
index), then times, inside one read transaction each:

* ``search+facets``: ``package_search`` as the API runs it (q, access filter for an anonymous caller, 7
  facet fields, 10 result dicts with resources);
* ``facets only``: the portal's home page (no q, all facets);
* ``cached s+f`` / ``cached facets``: the same with the search cache on (counts, facet counts and page
  ids cached per query, access and catalogue version; result dicts are still built);
* ``index rebuild``: building the in-memory facet index from scratch (first search, or after a purge);
* ``index update``: bringing it up to date after one dataset changed, which the first search after a
  write pays once;
* ``search box``: the portal's search box, the first five letters of a word as a prefix, with its English
  and German stems (same facets and results);
* ``raw FTS``: the bare full-text query (FTS5 MATCH ordered by bm25, or tsvector @@ ordered by ts_rank_cd),
  top 10 ids.

A database kept from an older version (``--keep``) is upgraded when it opens; the datasets its migrations
mark for reindexing are reindexed before the timings (``reindex``, printed once).

Bounded: stays well under two minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WORDS = ("traffic parking bicycle pedestrian air quality noise water tree park school hospital budget election population "
         "housing rent energy solar waste recycling bus tram metro road bridge flood heat weather sensor district "
         "boundary zoning permit tourism culture library museum sport crime fire ambulance").split()
FACETS = ["organization", "access_level", "tags", "theme", "res_format", "license_id", "frequency"]


def _settings(db: str, data_dir: str) -> Any:
    from urbanos.plugins import settings_registry
    from urbanos.settings import load

    overrides = {"data_dir": data_dir, "db": db, "log_level": "warning"}
    if "mqtt_port" in settings_registry():
        overrides["mqtt_port"] = 0
    return load(settings_registry(), env={}, overrides=overrides)


def load(platform: Any, n: int, seed: int = 7) -> float:
    from urbanos.catalog import writes
    from urbanos.governance.gate import ADMIN, Gate

    rnd = random.Random(seed)
    # Zipf-like background vocabulary for descriptions, so that a query word matches a realistic share of datasets
    vocab = [f"w{k}" for k in range(5000)]
    weights = [1 / (k + 1) for k in range(5000)]
    places = [f"place{k}" for k in range(200)]
    levels = ["open"] * 7 + ["registered", "internal", "confidential"]
    fmts = ["CSV", "JSON", "GEOJSON", "XLSX", "PDF", "WMS_SRVC"]
    t0 = time.perf_counter()

    def orgs(c: Any) -> None:
        for i in range(20):
            writes.organization_create(c, ADMIN, {"name": f"org-{i}", "title": f"Department {i}"})

    platform.db.write_sync(orgs)
    batch = 500
    for start in range(0, n, batch):
        def tx(c: Any, start: int = start) -> None:
            for i in range(start, min(n, start + batch)):
                words = rnd.sample(WORDS, 6)
                level = rnd.choice(levels)
                writes.package_write(c, Gate, ADMIN, {
                    "name": f"ds-{i:05d}", "title": " ".join([*words[:3], rnd.choice(places)]).title(), "owner_org": f"org-{rnd.randrange(20)}",
                    "notes": " ".join([*rnd.choices(vocab, weights, k=30), *rnd.sample(WORDS, 2)]), "tags": words[3:],
                    "theme": [rnd.choice(["TRAN", "ENVI", "ECON", "SOCI", "REGI"]), rnd.choice(["mobility", "environment", "people"])],
                    "license_id": rnd.choice(["CC-BY-4.0", "dl-de-by-2.0", "CC0-1.0"]),
                    "frequency": rnd.choice(["DAILY", "MONTHLY", "ANNUAL", "IRREG"]), "access_level": level,
                    "grounds": [] if level == "open" else ["not-yet-processed"],
                    "resources": [{"url": f"https://example.org/{i}/{k}", "format": rnd.choice(fmts)} for k in range(rnd.randint(1, 3))],
                }, mode="create")
        platform.db.write_sync(tx)
    return time.perf_counter() - t0


def reindex(platform: Any) -> None:
    """Reindex what the migrations marked (as the first search after an upgrade does)."""
    from urbanos.catalog import index, writes

    def tx(c: Any) -> int:
        ids = index.stale_ids(c)
        for ds_id in ids:
            writes.reindex(c, ds_id)
        return len(ids)

    t0, n = time.perf_counter(), 0
    while done := platform.db.write_sync(tx):
        n += done
    if n:
        print(f"reindexed {n} datasets in {time.perf_counter() - t0:.1f} s ({n / (time.perf_counter() - t0):.0f}/s)")


def bench(platform: Any, runs: int) -> dict[str, list[float]]:
    from urbanos.governance import ANONYMOUS

    svc = platform.services["catalog"]
    rnd = random.Random(11)
    dialect = platform.db.dialect.name
    out: dict[str, list[float]] = {"search+facets": [], "search box": [], "facets only": [], "raw FTS": [], "cached s+f": [],
                                   "cached facets": [], "index rebuild": [], "index update": []}
    from urbanos.catalog import writes
    from urbanos.catalog.facetindex import FacetIndex, catalogue_version
    from urbanos.governance.gate import ADMIN, Gate

    sig = platform.db.read_sync(catalogue_version)

    def timed(key: str, fn: Any) -> None:
        def tx(c: Any) -> None:
            t = time.perf_counter()
            fn(c)
            out[key].append(time.perf_counter() - t)
        platform.db.read_sync(tx)

    for _ in range(max(3, runs // 10)):  # what the first search after a write pays once
        timed("index rebuild", lambda c: FacetIndex.build(c, catalogue_version(c)))
    current = [platform.db.read_sync(lambda c: FacetIndex.build(c, catalogue_version(c)))]
    rebuilds: list[int] = []
    for i in range(max(3, runs // 10)):  # one dataset changed: the index is updated, not rebuilt
        def touch(c: Any, name: str = f"ds-{i:05d}") -> None:
            pkg = svc.packages(c, [int(c.fetchval("SELECT id FROM datasets WHERE name = ?", (name,)))])[0]
            writes.package_write(c, Gate, ADMIN, writes.merge_patch(pkg, {"title": pkg["title"]}), mode="update")
        platform.db.write_sync(touch)

        def update(c: Any) -> None:
            nxt = current[0].updated(c, catalogue_version(c))
            if nxt is None:  # more than half the datasets changed since the index: the service rebuilds
                rebuilds.append(1)
                nxt = FacetIndex.build(c, catalogue_version(c))
            current[0] = nxt
        timed("index update", update)
    if rebuilds:
        print(f"note: {len(rebuilds)} 'index update' samples were full rebuilds")
    for _ in range(runs):
        word = rnd.choice(WORDS)
        svc.search.version = ()  # cache off: every query computed
        timed("search+facets", lambda c, w=word: svc.search_sync(c, ANONYMOUS, q=w, facet_fields=FACETS, rows=10))
        timed("search box", lambda c, w=word: svc.search_sync(c, ANONYMOUS, q=w[:5], facet_fields=FACETS, rows=10, prefix=True))
        timed("facets only", lambda c: svc.search_sync(c, ANONYMOUS, facet_fields=FACETS, rows=10))
        svc.search.version = sig  # cache on (as the service runs it after its version check)
        timed("cached s+f", lambda c, w=word: svc.search_sync(c, ANONYMOUS, q=w, facet_fields=FACETS, rows=10))
        timed("cached facets", lambda c: svc.search_sync(c, ANONYMOUS, facet_fields=FACETS, rows=10))
        if dialect == "sqlite":
            timed("raw FTS", lambda c, w=word: c.fetchall(
                "SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH ? ORDER BY bm25(catalog_fts) LIMIT 10", (f'"{w}"',)))
        else:
            timed("raw FTS", lambda c, w=word: c.fetchall(
                "SELECT dataset_id FROM catalog_search WHERE tsv @@ to_tsquery('simple', ?)"
                " ORDER BY ts_rank_cd(tsv, to_tsquery('simple', ?)) DESC LIMIT 10", (w, w)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="", help="database URL (default: SQLite in a temporary directory)")
    ap.add_argument("-n", type=int, default=10_000, help="number of datasets (default 10000)")
    ap.add_argument("--runs", type=int, default=60, help="timed queries per kind (default 60)")
    ap.add_argument("--keep", default="", help="keep the database and reuse it when it is already loaded: a directory"
                    " (SQLite) or a schema name (PostgreSQL)")
    args = ap.parse_args()

    from urbanos.platform import Platform
    from urbanos.plugins import load_components

    pg = args.db.startswith("postgres")
    tmp = args.keep if args.keep and not pg else tempfile.mkdtemp(prefix="urbanos-catbench-")
    Path(tmp).mkdir(parents=True, exist_ok=True)
    db = args.db
    schema = None
    if db.startswith("postgres"):
        from urllib.parse import quote

        import psycopg

        schema = args.keep or "bench_" + secrets.token_hex(4)
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        db = f"{db}{'&' if '?' in db else '?'}options={quote(f'-csearch_path={schema},public')}"
    elif not db:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
    platform = Platform.build(_settings(db, tmp), load_components())
    platform.open()
    try:
        have = platform.db.read_sync(lambda c: int(c.fetchval("SELECT COUNT(*) FROM datasets") or 0))
        if have and args.keep:
            print(f"reusing {have} datasets in {tmp}")
            reindex(platform)
        else:
            secs = load(platform, args.n)
            print(f"loaded {args.n} datasets in {secs:.1f} s ({args.n / secs:.0f}/s) on {platform.db.dialect.name}")
        if platform.db.dialect.name == "postgresql":
            platform.db.write_sync(lambda c: c.execute("ANALYZE"))
        res = bench(platform, args.runs)
        for key, vals in res.items():
            vals.sort()
            print(f"{key:<14} p50 {statistics.median(vals) * 1000:7.2f} ms   p95 {vals[int(len(vals) * 0.95)] * 1000:7.2f} ms   (n={len(vals)})")
    finally:
        platform.close()
        if schema and not args.keep:
            import psycopg

            with psycopg.connect(args.db, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    return 0


if __name__ == "__main__":
    sys.exit(main())
