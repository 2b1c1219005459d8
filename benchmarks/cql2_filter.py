"""CQL2 filter parse and compile time, and a filtered OGC API Features request, with baselines from the same run.

Baselines: the CQL2 compiler the platform had before CQL2 moved onto the shared query tree
(``benchmarks/cql2_baseline.py``: the same native parser, its own JSON-to-SQL compiler), and, for the request,
the same items request without a filter.

Run: python benchmarks/cql2_filter.py [--pg postgresql://postgres@127.0.0.1:5432/urbanos_dev] [--n 10000]
(about 30 s on 2 cores)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

sys.path.insert(0, str(Path(__file__).parent))
import cql2_baseline as baseline  # noqa: E402
from query_parse import per_call_us  # noqa: E402

from urbanos.features import store  # noqa: E402
from urbanos.storage.spatial import PostGISSpatial, SQLiteSpatial  # noqa: E402

TYPICAL = "pop > 250 AND kind = 'b' AND observed >= TIMESTAMP('2024-01-10T00:00:00Z')"
LONG = (
    "(CASEI(name) LIKE casei('place 1%') OR kind IN ('a', 'c')) AND pop BETWEEN 100 AND 900 "
    "AND S_INTERSECTS(geometry, POLYGON((9.89 53.49, 9.951 53.49, 9.951 53.53, 9.89 53.53, 9.89 53.49))) "
    "AND T_DURING(observed, INTERVAL('2024-01-05T00:00:00Z', '..')) AND score * 4 > pop / 10"
)
JSON = orjson.dumps({"op": "and", "args": [
    {"op": ">", "args": [{"property": "pop"}, 250]},
    {"op": "=", "args": [{"property": "kind"}, "b"]},
    {"op": ">=", "args": [{"property": "observed"}, {"timestamp": "2024-01-10T00:00:00Z"}]},
]}).decode()
FIELDS = [
    {"name": "name", "type": "string"}, {"name": "kind", "type": "string"}, {"name": "pop", "type": "integer"},
    {"name": "score", "type": "number"}, {"name": "active", "type": "boolean"}, {"name": "observed", "type": "datetime"},
]


class _Conn:
    """What the compilers read of a connection: the dialect's name and the spatial helper."""

    def __init__(self, name: str) -> None:
        self.dialect = type("Dialect", (), {"name": name})()
        self.spatial = PostGISSpatial() if name == "postgresql" else SQLiteSpatial()


def _meta() -> store.CollectionMeta:
    fields = store.normalise_fields(FIELDS)
    return store.CollectionMeta("places", "fc1_v1", fields, geometry_type="Point", time_field="observed")


def compile_rows() -> list[tuple[str, Callable[[], Any]]]:
    meta, pg, lite = _meta(), _Conn("postgresql"), _Conn("sqlite")
    rows: list[tuple[str, Callable[[], Any]]] = []
    if importlib.util.find_spec("urbanos.query.cql2") is not None:
        from urbanos.features.ogcapi import cql2 as shared

        t_typ, t_long, t_json = shared.parse(TYPICAL, "cql2-text"), shared.parse(LONG, "cql2-text"), shared.parse(JSON, "cql2-json")
        assert t_typ is not None and t_long is not None and t_json is not None
        rows += [
            ("shared: CQL2 text parse, typical (3 comparisons)", lambda: shared.parse(TYPICAL, "cql2-text")),
            ("shared: CQL2 text parse, long (LIKE, IN, spatial, temporal)", lambda: shared.parse(LONG, "cql2-text")),
            ("shared: CQL2 JSON parse, typical", lambda: shared.parse(JSON, "cql2-json")),
            ("shared: compile to PostgreSQL, typical", lambda: shared.where(pg, meta, t_typ)),
            ("shared: compile to SQLite, long", lambda: shared.where(lite, meta, t_long)),
            ("shared: text parse + compile to PostgreSQL, typical",
             lambda: shared.where(pg, meta, shared.parse(TYPICAL, "cql2-text"))),  # type: ignore[arg-type]
        ]
    b_typ, b_long = baseline.parse(TYPICAL, "cql2-text"), baseline.parse(LONG, "cql2-text")
    rows += [
        ("baseline: CQL2 text parse, typical", lambda: baseline.parse(TYPICAL, "cql2-text")),
        ("baseline: CQL2 text parse, long", lambda: baseline.parse(LONG, "cql2-text")),
        ("baseline: CQL2 JSON parse, typical", lambda: baseline.parse(JSON, "cql2-json")),
        ("baseline: compile to PostgreSQL, typical",
         lambda: baseline.Compiler(meta, "postgresql", pg.spatial).compile(b_typ)),
        ("baseline: compile to SQLite, long", lambda: baseline.Compiler(meta, "sqlite", lite.spatial).compile(b_long)),
        ("baseline: text parse + compile to PostgreSQL, typical",
         lambda: baseline.Compiler(meta, "postgresql", pg.spatial).compile(baseline.parse(TYPICAL, "cql2-text"))),
    ]
    return rows


@contextlib.contextmanager
def database(pg: str, folder: Path) -> Iterator[str]:
    """A fresh SQLite file, or a PostgreSQL schema of its own (dropped afterwards)."""
    if not pg:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    import psycopg

    schema = "bench_cql2_" + secrets.token_hex(4)
    with psycopg.connect(pg, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        c.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in pg else "?"
        yield f"{pg}{sep}options={quote(f'-csearch_path={schema},public')}"
    finally:
        with psycopg.connect(pg, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def request_rows(stack: contextlib.ExitStack, db: str, n: int, folder: Path) -> list[tuple[str, Callable[[], Any]]]:
    """In-process requests (the whole middleware stack and the service) on ``n`` generated points."""
    from shapely.geometry import Point
    from starlette.testclient import TestClient

    from urbanos.plugins import settings_registry
    from urbanos.settings import load
    from urbanos.web.app import create_app

    overrides = {"data_dir": str(folder / "data"), "db": db, "log_level": "warning", "access_log": False,
                 "allowed_hosts": "testserver", "mqtt_port": 0}
    app = create_app(load(settings_registry(), env={}, overrides=overrides))
    stack.callback(app.state.platform.close)
    client = stack.enter_context(TestClient(app))
    rows = (({"name": f"Place {i:05d}", "kind": "abc"[i % 3], "pop": i % 1000, "score": i / 40, "active": i % 2 == 0,
              "observed": f"2024-01-{1 + i % 28:02d}T12:00:00Z"}, Point(9.9 + (i % 100) * 0.001, 53.5 + (i // 100) * 0.0005))
            for i in range(n))
    app.state.platform.db.write_sync(lambda c: store.replace_collection(
        c, "places", FIELDS, rows, time_field="observed", title="Places"))
    items = "/ogcapi/collections/places/items"

    def get(params: dict[str, str]) -> None:
        r = client.get(items, params=params)
        assert r.status_code == 200, r.text

    kind = db.split(":", 1)[0]
    return [
        (f"{kind}: items?limit=100&filter=<typical CQL2 text>", lambda: get({"filter": TYPICAL, "limit": "100"})),
        (f"{kind}: items?limit=100&filter=<typical CQL2 JSON>",
         lambda: get({"filter": JSON, "filter-lang": "cql2-json", "limit": "100"})),
        (f"{kind}: items?limit=100&filter=<long CQL2 text>", lambda: get({"filter": LONG, "limit": "100"})),
        (f"baseline {kind}: items?limit=100&kind=b (no filter)", lambda: get({"kind": "b", "limit": "100"})),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default="", help="a PostgreSQL/PostGIS URL: measure the request there too")
    ap.add_argument("--n", type=int, default=10000, help="points in the collection of the request figures")
    args = ap.parse_args()
    print(f"{'measurement':62} {'min µs':>10} {'median µs':>10} {'p95 µs':>10}")
    for name, fn in compile_rows():
        low, med, p95 = per_call_us(fn, 1.5)
        print(f"{name:62} {low:10.1f} {med:10.1f} {p95:10.1f}")
    for pg in [""] + ([args.pg] if args.pg else []):
        with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
            db = stack.enter_context(database(pg, Path(tmp)))
            for name, fn in request_rows(stack, db, args.n, Path(tmp)):
                low, med, p95 = per_call_us(fn, 2.0)
                print(f"{name:62} {low:10.1f} {med:10.1f} {p95:10.1f}")


if __name__ == "__main__":
    main()
