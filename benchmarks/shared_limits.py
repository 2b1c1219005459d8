"""The cost of counting one post against the participation limits (two keys: the token's and the address's),
in the stores urbanos/governance/counters.py chooses: the in-memory token buckets of one process (the baseline),
Redis (a ``redis://`` bus) and the UNLOGGED table on PostgreSQL (the ``postgres`` bus), in the same run.

    python benchmarks/shared_limits.py [--posts 2000] [--redis redis://127.0.0.1:6379/0]
                                       [--pg postgresql://postgres@127.0.0.1:5432/urbanos_bench]

Prints microseconds per post (sequential, one client: the latency a post adds) and, for comparison, per request
for the middleware's per-token limit, which stays in memory (see docs/operations.md, Rate limits).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform as pyplatform
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from urbanos.governance.counters import Counter, MemoryCounter, PostgresCounter, RedisCounter  # noqa: E402
from urbanos.platform import Platform  # noqa: E402
from urbanos.plugins import load_components, settings_registry  # noqa: E402
from urbanos.settings import load  # noqa: E402
from urbanos.web.middleware import TokenBuckets  # noqa: E402


async def per_post(counter: Counter, posts: int) -> float:
    """µs per post, every post admitted (a limit far above the posts, keys spread as many clients would)."""
    t0 = time.perf_counter()
    for i in range(posts):
        wait = await counter.take([("posts", f"user-{i % 500}", 10**9), ("address", f"198.51.100.{i % 250}", 10**9)])
        assert wait == 0
    return (time.perf_counter() - t0) / posts * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=2000)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--pg", default="", help="a PostgreSQL database to migrate and count in (omit: not measured)")
    args = ap.parse_args()
    rows: list[tuple[str, float]] = []
    buckets = TokenBuckets(10**9)
    t0 = time.perf_counter()
    for i in range(args.posts * 10):
        buckets.take(f"token-{i % 500}")
    rows.append(("middleware per-token bucket, in memory (per request)", (time.perf_counter() - t0) / (args.posts * 10) * 1e6))

    async def run() -> None:
        rows.append(("participation, one process: token buckets in memory", await per_post(MemoryCounter(), args.posts)))
        redis = RedisCounter(args.redis, "urbanos_bench_" + secrets.token_hex(4))
        try:
            rows.append(("participation, redis:// bus: Redis INCR/EXPIRE/GET", await per_post(redis, args.posts)))
        except OSError as exc:
            rows.append((f"participation, Redis: not measured ({exc})", float("nan")))
        finally:
            await redis.close()
        if args.pg:
            settings = load(settings_registry(), overrides={"db": args.pg, "data_dir": tempfile.mkdtemp(),
                                                            "log_level": "warning"}, env={})
            platform: Any = Platform.build(settings, load_components())
            platform.open()
            try:
                rows.append(("participation, postgres bus: UNLOGGED table upsert", await per_post(
                    PostgresCounter(platform.db), args.posts)))
            finally:
                platform.close()

    asyncio.run(run())
    print(f"machine: {pyplatform.machine()}, {os.cpu_count()} cores, Python {pyplatform.python_version()}; load average "
          f"{os.getloadavg()[0]:.1f}; {args.posts} posts, sequential")
    base = rows[1][1]
    for label, us in rows:
        print(f"{label:<56} {us:9.1f} µs" + (f"  ({us / base:.0f}× the in-memory buckets)" if us == us and us > base
                                                 else ""))


if __name__ == "__main__":
    main()
