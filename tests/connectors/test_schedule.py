"""Schedules: intervals and cron (UTC), as connectors read them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from urbanos.connectors.mapping import instant, lookup, parse
from urbanos.connectors.schedule import Cron, next_run, parse_every
from urbanos.errors import ValidationFailed

T = datetime(2026, 3, 6, 10, 7, 30, tzinfo=UTC)  # a Friday


def test_intervals() -> None:
    assert [parse_every(x) for x in ("30s", "5m", "2h", "1d", "90")] == [30, 300, 7200, 86400, 90]
    for bad in ("", "0s", "5 minutes", "-5m", "²m", "400d", "5w"):
        with pytest.raises(ValidationFailed):
            parse_every(bad)


def test_cron_next_run() -> None:
    assert Cron.parse("*/5 * * * *").next_after(T) == datetime(2026, 3, 6, 10, 10, tzinfo=UTC)
    assert Cron.parse("0 8 * * 1-5").next_after(T) == datetime(2026, 3, 9, 8, 0, tzinfo=UTC)  # Monday
    assert Cron.parse("30 6 1 * *").next_after(T) == datetime(2026, 4, 1, 6, 30, tzinfo=UTC)
    # day of month OR day of week when both are restricted, as cron does
    assert Cron.parse("0 0 13 * 0").next_after(T) == datetime(2026, 3, 8, 0, 0, tzinfo=UTC)  # Sunday the 8th
    assert Cron.parse("0 12 * * 7").next_after(T) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 7 is Sunday too
    assert next_run(T, 60, None) == datetime(2026, 3, 6, 10, 8, 30, tzinfo=UTC)
    assert next_run(T, None, None) is None
    for bad in ("* * *", "61 * * * *", "*/0 * * * *", "a * * * *", "5-1 * * * *", "* * 31 2 *"):
        with pytest.raises(ValidationFailed):
            Cron.parse(bad).next_after(T)


def test_mappings_and_values() -> None:
    m = parse("observations:\n  - {datastream: 3, time: t, result: $.v.x}\nrecords: $.items\n")
    assert m.observations[0].datastream == 3 and m.records == "$.items"
    assert parse({"datastream": "Name", "time": "t", "result": "v"}).observations[0].datastream == "Name"
    assert parse({"collection": "c1", "id": "i", "lon": "x", "lat": "y"}).features is not None
    assert lookup({"v": {"x": [1, {"y": 2}]}}, "$.v.x[1].y") == 2 and lookup({"a": 1}, "b.c") is None
    assert instant("2026-01-01 10:00:00") == "2026-01-01T10:00:00.000000Z"
    assert instant(0) == "1970-01-01T00:00:00.000000Z" and instant("1767225600") == "2026-01-01T00:00:00.000000Z"
    for bad in (None, [], "x", {"observations": "x"}, {"datastream": True, "time": "t", "result": "v"},
                {"collection": "bad name", "id": "i", "lon": "x", "lat": "y"}, "a: [", {"records": "$.x"}):
        with pytest.raises(ValidationFailed):
            parse(bad)
