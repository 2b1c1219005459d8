"""Downloads stream in constant memory: a 1-million-row export must not grow the process by more than 50 MB.

Each measurement runs in its own subprocess, which reports how much its resident memory grew between the
first chunks and the end of the export: the heap (``RssAnon``) and the whole resident memory (``VmRSS``) must both
stay under the limit, on both back ends (SQLite maps no file into memory and its page caches share
``sqlite_cache_mb``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import BACKEND

LIMIT = 50_000_000
ROWS = 1_000_000
PG_ROWS = 250_000

_MEM = '''
def mem():
    d = {}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "RssAnon"):
            d[k] = int(v.split()[0]) * 1024
    return d
'''

STORE_SCRIPT = _MEM + '''
import asyncio, json, sys
from shapely.geometry import Point
from urbanos.features import store
from urbanos.features.downloads import stream
from urbanos.governance.identity import ANONYMOUS
from urbanos.platform import Platform
from urbanos.plugins import load_components, settings_registry
from urbanos.settings import load

url, data_dir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
p = Platform.build(load(settings_registry(), env={}, overrides={"db": url, "data_dir": data_dir}), load_components())
p.open()
fields = [{"name": "name", "type": "string"}, {"name": "n", "type": "integer"}, {"name": "v", "type": "number"},
          {"name": "t", "type": "datetime"}]

def bulk(c):
    meta = store.replace_collection(c, "big", fields, [({"name": "first", "n": 1, "v": 0.5, "t": "2024-01-01T00:00:00Z"},
                                                        Point(9.9, 53.5))])
    if c.dialect.name == "sqlite":
        gen = "WITH RECURSIVE s(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM s WHERE i < ?) SELECT i FROM s"
    else:
        gen = "SELECT generate_series(2, ?) AS i"
    c.execute(f"INSERT INTO {meta.table_name} (fid, c0, c1, c2, c3) SELECT i, 'feature ' || i, i, i / 7.0,"
              f" '2024-01-01T00:00:00.000000Z' FROM ({gen}) AS g", (n,))
    c.execute("UPDATE feature_collections SET item_count = ? WHERE name = 'big'", (n,))
    return store.get_collection(c, "big")

meta = p.db.write_sync(bulk)

async def main():
    await p.start()
    total = lines = k = 0
    base = peak = None
    async for chunk in stream(p, ANONYMOUS, meta, None, "csv"):
        total += len(chunk)
        lines += chunk.count(b"\\n")
        k += 1
        if k == 3:
            base = mem()
            peak = dict.fromkeys(base, 0)
        elif base:
            m = mem()
            peak = {key: max(peak[key], m[key] - base[key]) for key in m}
    await p.stop()
    return {"bytes": total, "lines": lines, "growth": peak}

print(json.dumps(asyncio.run(main())))
p.close()
'''

ENCODER_SCRIPT = _MEM + '''
import json, sys
from shapely.geometry import Point
from urbanos.features import store
from urbanos.features.downloads import encoder

fmt, n = sys.argv[1], int(sys.argv[2])
fields = [store.Field("name", "string", "c0"), store.Field("n", "integer", "c1"), store.Field("v", "number", "c2"),
          store.Field("t", "datetime", "c3")]
meta = store.CollectionMeta(name="big", table_name="t", fields=fields, geometry_type="Point", bbox=[9, 53, 10, 54])
pts = [Point(9 + i / 5000, 53 + i / 5000) for i in range(5000)]
enc = encoder(fmt, meta)
total = len(enc.start())
base = peak = None
for b in range(n // 5000):
    rows = [store.FeatureRow(b * 5000 + i + 1, {"name": f"feature {b}-{i}", "n": i, "v": i / 7,
            "t": "2024-01-01T00:00:00.000000Z"}, pts[i]) for i in range(5000)]
    total += len(enc.add(rows))
    if b == 2:
        base = mem()
        peak = dict.fromkeys(base, 0)
    elif base:
        m = mem()
        peak = {k: max(peak[k], m[k] - base[k]) for k in m}
for chunk in enc.finish():
    total += len(chunk)
m = mem()
peak = {k: max(peak[k], m[k] - base[k]) for k in m}
print(json.dumps({"bytes": total, "growth": peak}))
'''


def _run(script: str, *args: str) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_million_row_csv_export_from_the_store(db_url: str, tmp_path: Any) -> None:
    """The real path: key-set reads from the back end under test, encoding, streaming. A million rows on SQLite;
    on PostgreSQL (the same reader and encoder, another driver) :data:`PG_ROWS`, enough that memory growing with
    the rows (200 bytes a row) breaks the limit."""
    rows = ROWS if BACKEND == "sqlite" else PG_ROWS
    out = _run(STORE_SCRIPT, db_url, str(tmp_path / "data"), str(rows))
    assert out["lines"] == rows + 1
    assert out["growth"]["RssAnon"] < LIMIT and out["growth"]["VmRSS"] < LIMIT, out


@pytest.mark.skipif(BACKEND == "postgresql", reason="no database involved: runs once, with the SQLite suite")
@pytest.mark.parametrize("fmt,rows", [("geojson", ROWS), ("parquet", ROWS), ("xlsx", 100_000)])
def test_encoders_stream_in_constant_memory(fmt: str, rows: int) -> None:
    out = _run(ENCODER_SCRIPT, fmt, str(rows))
    assert out["bytes"] > rows  # something real was written
    assert out["growth"]["VmRSS"] < LIMIT and out["growth"]["RssAnon"] < LIMIT, out
