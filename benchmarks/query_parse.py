"""OData $filter parse and compile time, with a baseline from the same run.

Baseline: pygeofilter's CQL2-text parser (lark) on the equivalent CQL2 expression.
Run: python benchmarks/query_parse.py   (about 10 s on 2 cores)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from urbanos.query.odata import parse_filter, parse_query
from urbanos.query.odata.parser import _parse_filter
from urbanos.storage.compile import Column, compile_filter

TYPICAL = "result gt 5 and Datastream/Thing/name eq 'Station 12' and phenomenonTime ge 2016-01-01T00:00:00Z"
LONG = (
    "(substringof('air', tolower(Datastream/name)) or startswith(Datastream/Thing/properties/kind, 'weather')) "
    "and phenomenonTime gt now() sub duration'P1D' and round(result mul 1.8 add 32) ge 50 "
    "and st_within(FeatureOfInterest/feature, geography'POLYGON((144.9 -37.9, 145.1 -37.9, 145.1 -37.7, "
    "144.9 -37.7, 144.9 -37.9))')"
)
QUERY = {
    "$filter": TYPICAL, "$top": "100", "$orderby": "phenomenonTime desc", "$count": "true",
    "$expand": "Datastream($select=name;$expand=Thing($select=name))",
}
TREE: Any = None
CQL2 = "result > 5 AND name = 'Station 12' AND phenomenonTime >= TIMESTAMP('2016-01-01T00:00:00Z')"


def per_call_us(fn: Callable[[], Any], seconds: float = 1.5) -> tuple[float, float, float]:
    """(minimum, median, p95) of batches, in microseconds per call (the minimum is least disturbed by
    other load on a shared machine)."""
    fn()
    batch = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        if time.perf_counter() - t0 > 0.02:
            break
        batch *= 2
    samples: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t0) / batch * 1e6)
    samples.sort()
    return samples[0], statistics.median(samples), samples[int(len(samples) * 0.95) - 1 if len(samples) > 1 else 0]


def resolve(path: tuple[str, ...]) -> Column:
    if path[0] == "phenomenonTime":
        return Column("o.pt_start", "interval", start="o.pt_start", end="o.pt_end", nullable=False)
    if path[0] == "result":
        return Column("o.result", "json")
    if path[-1] == "feature":
        return Column("f.geom", "geometry")
    return Column(f"x.{path[-1]}", "text")


class _Dialect:
    name = "postgresql"


def main() -> None:
    global TREE
    TREE = _parse_filter(TYPICAL, "$filter")
    rows = [
        ("parse_filter, typical (3 comparisons)", lambda: _parse_filter(TYPICAL, "$filter")),
        ("parse_filter, long (functions, duration, polygon)", lambda: _parse_filter(LONG, "$filter")),
        ("parse_filter, typical, repeated (cache hit)", lambda: parse_filter(TYPICAL)),
        ("parse_query, typical request with nested $expand", lambda: parse_query(QUERY)),
        ("compile_filter to PostgreSQL, typical (parsed once)", lambda: compile_filter(TREE, resolve, _Dialect())),
    ]
    try:
        from pygeofilter.parsers.cql2_text import parse as cql2_parse

        rows.append(("baseline: pygeofilter CQL2-text parse, same typical filter", lambda: cql2_parse(CQL2)))
    except ImportError:  # pragma: no cover
        print("pygeofilter is not installed: no baseline")
    print(f"{'measurement':58} {'min µs':>10} {'median µs':>10} {'p95 µs':>10}")
    for name, fn in rows:
        low, med, p95 = per_call_us(fn, 1.0 if name.startswith("baseline") else 1.5)
        print(f"{name:58} {low:10.1f} {med:10.1f} {p95:10.1f}")


if __name__ == "__main__":
    main()
