"""A privacy-transformed read against the raw read of the same rows, in one run: the Melbourne pedestrian counts of the
demo (two months, hourly, about 60 sensors) read as SensorThings Observations pages of 1,000 rows, raw (as the
dataset's admin) and released as aggregates per 15 minutes and H3 cell of resolution 7 (districts' size) for a reader
below the rule's role. The aggregate read computes each cell over every Observation of its bucket (the window), not
over the page. Target: the transformed read takes at most 3× the raw read.

    python benchmarks/privacy_rules.py [--seconds 20] [--db postgresql://…]

In process, through the SensorThings service (no HTTP), alternating raw and transformed reads of the same pages."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from urbanos.governance import ADMIN, Identity, Membership  # noqa: E402
from urbanos.platform import Platform  # noqa: E402
from urbanos.plugins import load_components, settings_registry  # noqa: E402
from urbanos.ports import SensingPort  # noqa: E402
from urbanos.privacy.rules.model import parse_declaration  # noqa: E402
from urbanos.sensing.melbourne import DEMO_DIR, import_melbourne  # noqa: E402
from urbanos.settings import load  # noqa: E402

DATASET = "melbourne-pedestrian-counts"
READER = Identity(subject="token:bench", kind="token", memberships=frozenset({Membership("reader")}), name="bench")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0, help="time spent reading (both kinds together)")
    ap.add_argument("--db", default=None, help="database URL (an empty one; default: SQLite in a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = {"data_dir": tmp, "log_level": "warning", "admin_token": "bench-admin-token-0123456789"}
        if args.db:
            overrides["db"] = args.db
        platform = Platform.build(load(settings_registry(), env={}, overrides=overrides), load_components())
        platform.open()
        try:
            t0 = time.perf_counter()
            loaded = import_melbourne(platform, str(DEMO_DIR), DATASET, progress=False)
            print(f"loaded {loaded['observations']} Observations of {loaded['things']} sensors in "
                  f"{time.perf_counter() - t0:.1f} s ({platform.db.dialect.name})")
            asyncio.run(_measure(platform, args.seconds))
        finally:
            platform.close()


async def _measure(platform: Platform, seconds: float) -> None:
    service = platform.services["privacy_rules"]
    ds_id = int(await platform.db.read(lambda c: c.fetchval("SELECT id FROM datasets WHERE name = ?", (DATASET,))))
    rules = parse_declaration({"rules": [{"kind": "aggregate", "bucket_minutes": 15, "h3_resolution": 7}]})
    await service.store.refresh()
    service.store.remember(await platform.db.write(lambda c: service.store.save(c, ds_id, DATASET, rules, "bench")))
    sta = platform.require(SensingPort)
    days = [f"2017-03-{d:02d}T00:00:00Z" for d in range(2, 29, 3)]

    async def read(who: Identity, day: str) -> int:
        body = await sta.read_path("v1.1", "Observations", {"$top": "1000", "$orderby": "phenomenonTime asc",
                                                            "$filter": f"phenomenonTime ge {day}"}, who, "http://bench")
        return len(body["value"])

    n_raw, n_agg = await read(ADMIN, days[0]), await read(READER, days[0])
    print(f"one page: {n_raw} raw Observations -> {n_agg} aggregate cells (15 minutes x H3 resolution 7)")
    raw: list[float] = []
    agg: list[float] = []
    stop = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < stop:
        day = days[i % len(days)]
        for who, out in ((ADMIN, raw), (READER, agg)) if i % 2 == 0 else ((READER, agg), (ADMIN, raw)):
            t = time.perf_counter()
            await read(who, day)
            out.append(time.perf_counter() - t)
        i += 1
    r, a = statistics.median(raw) * 1000, statistics.median(agg) * 1000
    print(f"raw read (baseline):          p50 {r:7.1f} ms  ({len(raw)} reads of 1,000 rows)")
    print(f"aggregated to 15 min x H3 r7: p50 {a:7.1f} ms  ({len(agg)} reads of the same rows)")
    print(f"ratio {a / r:.2f}x (target <= 3x: {'met' if a / r <= 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
