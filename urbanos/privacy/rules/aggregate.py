"""Aggregation-only release: rows become cells of a time bucket × an area (an H3 cell, or a polygon of a boundary
collection), computed over every row of the dataset in the buckets the request touched (never over a page or a
filter's subset, which would give single rows away), with an optional k below which a cell is withheld."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from urbanos.core.time import format_stored, parse_utc
from urbanos.errors import Forbidden
from urbanos.privacy.rules.model import Rule

Areas = Callable[[float, float], str | None]
"""Which area a point (lon, lat) falls in (None: outside every area)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GAP = 16
"""Buckets at most this many apart are read in one window (the rows between them are read and skipped)."""


def h3_areas(resolution: int) -> Areas:
    import h3

    def area(lon: float, lat: float) -> str | None:
        return str(h3.latlng_to_cell(lat, lon, resolution))

    return area


@functools.lru_cache(maxsize=65536)
def _minute(prefix: str) -> int:
    """Seconds since 1970 of a stored instant's first 16 characters (``2017-03-01T10:15``)."""
    return calendar.timegm((int(prefix[0:4]), int(prefix[5:7]), int(prefix[8:10]), int(prefix[11:13]),
                            int(prefix[14:16]), 0, 0, 0, 0))


def bucket_of(stored: str, minutes: int) -> int:
    """The bucket number of a stored instant (seconds since 1970 divided by the bucket's length)."""
    if len(stored) == 27 and stored[10] == "T" and stored[26] == "Z":  # the stored form: no parsing
        secs = float(_minute(stored[:16]) + int(stored[17:19]))
    else:
        secs = (parse_utc(stored) - _EPOCH).total_seconds()
    return int(secs // (minutes * 60))


def bucket_bounds(b: int, minutes: int) -> tuple[str, str]:
    start = _EPOCH + timedelta(minutes=b * minutes)
    return format_stored(start), format_stored(start + timedelta(minutes=minutes))


def _iso(stored: str) -> str:
    return stored[:19] + "Z" if stored.endswith(".000000Z") else stored


def aggregate(rule: Rule, meta: list[dict[str, Any]], window: Callable[[str, str], list[dict[str, Any]]],
              areas: Areas) -> tuple[list[dict[str, Any]], int]:
    """The cells the rows ``meta`` fall in, each computed over the whole ``window`` of its buckets, as
    SensorThings-like aggregate Observations in the order first touched; and how many cells were withheld (k)."""
    minutes = rule.bucket_minutes
    known: dict[tuple[float, float], str | None] = {}

    def area_of(p: tuple[float, float] | None) -> str | None:
        if p is None:
            return None
        found = known.get(p, "")
        if found == "":
            found = known[p] = areas(*p)
        return found

    touched: list[tuple[int, str | None]] = []
    seen: set[tuple[int, str | None]] = set()
    for m in meta:
        t, p = m.get("time"), m.get("point")
        if t is None:
            raise Forbidden(f"Privacy {rule.label}: a row without a time cannot be aggregated, so it is not served.",
                            code="privacy_rule")
        key = (bucket_of(t, minutes), area_of(p))
        if key not in seen:
            seen.add(key)
            touched.append(key)
    if not touched:
        return [], 0
    buckets = sorted({b for b, _ in touched})
    cells: dict[tuple[int, str | None], list[float]] = {}
    # one window per run of buckets at most GAP apart (a page usually spans one run)
    runs: list[tuple[int, int]] = []
    for b in buckets:
        if runs and b - runs[-1][1] <= GAP:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((b, b))
    for lo, hi in runs:
        start, _ = bucket_bounds(lo, minutes)
        _, end = bucket_bounds(hi, minutes)
        for w in window(start, end):
            if not rule.covers(w):
                continue
            key = (bucket_of(w["time"], minutes), area_of(w.get("point")))
            if key in seen:
                v = w.get("value")
                cells.setdefault(key, []).append(float(v) if isinstance(v, (int, float)) else 0.0)
    out: list[dict[str, Any]] = []
    withheld = 0
    for key in touched:
        values = cells.get(key, [])
        total = sum(values)
        n = len(values)
        value = n if rule.statistic == "count" else (total / n if rule.statistic == "mean" and n else total)
        if rule.k and (total if rule.statistic != "count" else n) < rule.k:
            withheld += 1
            continue
        start, end = bucket_bounds(key[0], minutes)
        out.append({"phenomenonTime": f"{_iso(start)}/{_iso(end)}", "resultTime": _iso(end), "result": value,
                    "parameters": {"urbanos:aggregate": rule.statistic, "urbanos:observations": n,
                                   "urbanos:area": key[1], "urbanos:bucketMinutes": minutes,
                                   "urbanos:rule": rule.label}})
    return out, withheld


__all__ = ["aggregate", "h3_areas", "bucket_of", "bucket_bounds", "Areas"]
