"""Titles and descriptions in two languages: what the German texts cost on write and on search.

    python benchmarks/catalog_translated.py                   # SQLite in a temporary directory
    python benchmarks/catalog_translated.py --db postgresql://postgres@127.0.0.1/test

Loads N datasets (default 2,000) through the catalogue's own write path, alternating between a dataset with an
English title and description only (the baseline) and one that also has a German title and description
(``title_translated``, ``notes_translated``), then prints, each beside its baseline measured in the same run:

* ``write``: package_create (validation, document, facets, full text with stems) per dataset;
* ``search``: package_search for an anonymous caller (a word of the English texts, the baseline, and a word of
  the German texts, which is matched through the German stems), 10 results with facets.

Bounded: well under a minute on a 2-core machine.
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

EN = "district boundary school hospital park tree traffic noise water election".split()
DE = "Bezirke Grenzen Schulen Krankenhäuser Parkanlagen Straßenbäume Verkehrszählungen Lärmkarten Gewässer Wahlen".split()


def _platform(db: str, tmp: str) -> Any:
    from urbanos.platform import Platform
    from urbanos.plugins import load_components, settings_registry
    from urbanos.settings import load

    overrides = {"data_dir": tmp, "db": db, "log_level": "warning"}
    if "mqtt_port" in settings_registry():
        overrides["mqtt_port"] = 0
    platform = Platform.build(load(settings_registry(), env={}, overrides=overrides), load_components())
    platform.open()
    return platform


def load(platform: Any, n: int) -> dict[str, list[float]]:
    from urbanos.catalog import writes
    from urbanos.governance.gate import ADMIN, Gate

    rnd = random.Random(5)
    platform.db.write_sync(lambda c: writes.organization_create(c, ADMIN, {"name": "city", "title": "City"}))
    times: dict[str, list[float]] = {"plain": [], "two languages": []}

    def tx(c: Any, i: int) -> None:
        words = rnd.sample(range(len(EN)), 3)
        pkg: dict[str, Any] = {"name": f"ds-{i:05d}", "title": " ".join(EN[k] for k in words).title(), "owner_org": "city",
                               "notes": " ".join(EN[k] for k in rnd.sample(range(len(EN)), 6)), "tags": ["bench"]}
        if i % 2:
            pkg["title_translated"] = {"de": " ".join(DE[k] for k in words)}
            pkg["notes_translated"] = {"de": " ".join(DE[k] for k in rnd.sample(range(len(DE)), 6))}
        t = time.perf_counter()
        writes.package_write(c, Gate, ADMIN, pkg, mode="create")
        times["two languages" if i % 2 else "plain"].append(time.perf_counter() - t)

    for i in range(n):
        platform.db.write_sync(lambda c, i=i: tx(c, i))
    return times


def search(platform: Any, runs: int) -> dict[str, list[float]]:
    from urbanos.governance import ANONYMOUS

    svc = platform.services["catalog"]
    rnd = random.Random(9)
    out: dict[str, list[float]] = {"English word": [], "German word": []}
    for _ in range(runs):
        k = rnd.randrange(len(EN))
        for key, word in (("English word", EN[k]), ("German word", DE[k])):
            svc.search.version = ()  # cache off: every query computed

            def tx(c: Any, key: str = key, word: str = word) -> None:
                t = time.perf_counter()
                svc.search_sync(c, ANONYMOUS, q=word, facet_fields=["tags", "organization"], rows=10)
                out[key].append(time.perf_counter() - t)
            platform.db.read_sync(tx)
    return out


def _line(name: str, values: list[float], base: list[float]) -> str:
    med, bmed = statistics.median(values), statistics.median(base)
    return f"{name:<28} median {med * 1000:7.2f} ms   baseline {bmed * 1000:7.2f} ms   ({med / bmed:.2f}x)"


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--db", default="", help="database URL (default: SQLite in a temporary directory)")
    ap.add_argument("-n", type=int, default=2000, help="number of datasets (default 2000)")
    ap.add_argument("--runs", type=int, default=40, help="timed searches per kind (default 40)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-translated-")
    db, schema = args.db, None
    if db.startswith("postgres"):
        from urllib.parse import quote

        import psycopg

        schema = "bench_" + secrets.token_hex(4)
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        db = f"{db}{'&' if '?' in db else '?'}options={quote(f'-csearch_path={schema},public')}"
    elif not db:
        db = f"sqlite:///{Path(tmp) / 'bench.db'}"
    platform = _platform(db, tmp)
    try:
        writes = load(platform, args.n)
        found = search(platform, args.runs)
        print(f"{args.n} datasets ({platform.db.dialect.name}), half of them with German title and description")
        print(_line("write, two languages", writes["two languages"], writes["plain"]), "<- baseline: English only")
        print(_line("search, German word", found["German word"], found["English word"]), "<- baseline: English word")
    finally:
        platform.close()
        if schema:
            import psycopg

            with psycopg.connect(args.db, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
