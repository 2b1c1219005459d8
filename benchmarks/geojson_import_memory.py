"""GeoJSON import memory: peak resident-memory growth and time for reading a large FeatureCollection.

    python benchmarks/geojson_import_memory.py [--mb 200] [--json results.json]

Writes a FeatureCollection of points with four properties (about ``--mb`` MB, seed 42, Hamburg extent) to a
temporary directory, deleted afterwards, then runs each variant in its own subprocess and reports how far
that process's peak RSS (``ru_maxrss``) rose above its RSS just before the work, and the seconds taken:

- ``orjson.loads``: the whole file decoded at once (what the importer did before streaming; the baseline);
- ``stream scan``: the features streamed by ``_geojson_stream.iter_features`` and dropped (scanner alone);
- ``open_source``: the first pass alone (the whole document checked, column types inferred, features counted);
- ``open_source + rows``: the streaming importer, as ``urbanos import`` uses it: the first pass (check,
  type inference, count) and then every row (properties converted, shapely geometry, CRS check).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

VARIANTS = {
    "orjson.loads": "import orjson\n"
                    "with open(path, 'rb') as fh:\n"
                    "    doc = orjson.loads(fh.read())\n"
                    "n = len(doc['features'])\n",
    "stream scan": "from urbanos.features.importers._geojson_stream import iter_features\n"
                   "with open(path, 'rb') as fh:\n"
                   "    n = sum(1 for _ in iter_features(fh))\n",
    "open_source": "from urbanos.features.importers.readers import open_source\n"
                   "n = open_source(path).count\n",
    "open_source + rows": "from urbanos.features.importers.readers import open_source\n"
                          "src = open_source(path)\n"
                          "n = sum(1 for _ in src.rows())\n"
                          "assert n == src.count and not src.errors\n",
}

_RUNNER = '''
import json, resource, sys, time
import orjson, shapely.geometry, pyproj  # imported before the measurement starts
import urbanos.features.importers.readers

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

path = sys.argv[1]
before = rss()
t0 = time.perf_counter()
exec(sys.argv[2])
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"features": n, "seconds": seconds, "rss_before": before, "peak_growth": peak - before}))
'''


def write_points(path: str, target_bytes: int) -> int:
    rnd = random.Random(42)
    n = 0
    size = 0
    with open(path, "w") as fh:
        fh.write('{"type": "FeatureCollection", "name": "bench-points", "features": [\n')
        while size < target_bytes:
            n += 1
            active = "true" if n % 2 else "false"
            line = (f'{{"type": "Feature", "id": {n}, "properties": {{"name": "sensor {n}", '
                    f'"value": {rnd.uniform(0, 100):.3f}, "count": {rnd.randint(0, 1000)}, "active": {active}}}, '
                    f'"geometry": {{"type": "Point", "coordinates": [{rnd.uniform(9.7, 10.3):.6f}, '
                    f'{rnd.uniform(53.4, 53.7):.6f}]}}}}')
            fh.write(("" if n == 1 else ",\n") + line)
            size += len(line) + 2
        fh.write('\n],\n"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}\n')
    return n


def load_average() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=200.0, help="file size in MB (default 200)")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="urbanos-geojson-bench-")
    results: dict[str, object] = {"load_start": load_average()}
    try:
        path = os.path.join(tmp, "points.geojson")
        t0 = time.perf_counter()
        features = write_points(path, int(args.mb * 1_000_000))
        size = os.path.getsize(path)
        print(f"{size / 1e6:.0f} MB, {features:,} point features, written in {time.perf_counter() - t0:.1f} s; "
              f"load average {results['load_start']}")
        runs = {}
        for name, code in VARIANTS.items():
            out = subprocess.run([sys.executable, "-c", _RUNNER, path, code], check=True, capture_output=True,
                                 text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            assert r["features"] == features, r
            runs[name] = r
            print(f"  {name:<20} peak RSS growth {r['peak_growth'] / 1e6:8.0f} MB   {r['seconds']:6.1f} s")
        results.update(size=size, features=features, runs=runs, load_end=load_average())
        print(f"load average at the end {results['load_end']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
