"""A Datastream's envelope and latest pointer stay right whatever order concurrent writes commit in: a
recomputation (after a delete, a move or a purge) waits for a widening it cannot see yet instead of overwriting it
(PostgreSQL: two writers at once), and of equal starts the smallest id is the latest however the widenings
arrive (both back ends)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.sensing.sta_helpers import Sta, thing
from urbanos.core.time import format_stored, parse_instant
from urbanos.sensing.envelope import retrack, track


def _stream(sta: Sta) -> int:
    tid = sta.create("/Things", thing("Envelope"))["@iot.id"]
    return int(sta.ok(f"/Things({tid})/Datastreams")["value"][0]["@iot.id"])


def _pointer(platform: Any, ds: int) -> tuple[Any, ...]:
    return tuple(platform.db.read_sync(lambda c: c.fetchone(
        "SELECT phen_start, phen_end, last_obs_id, last_phen FROM sta_datastreams WHERE id = ?", (ds,))))


def _at(text: str) -> str:
    """An instant in the form the Observations' table keeps."""
    return format_stored(parse_instant(text))


def _copy(c: Any, obs_id: int, start: str) -> int:
    """A new Observation like ``obs_id`` that starts (and ends) at ``start``, widening its Datastream as a POST does."""
    cols = [n for n in c.columns("sta_observations") if n not in ("id", "phen_start", "phen_end")]
    new = int(c.fetchone(f"INSERT INTO sta_observations ({', '.join(cols)}, phen_start, phen_end)"
                         f" SELECT {', '.join(cols)}, ?, NULL FROM sta_observations WHERE id = ? RETURNING id",
                         (start, obs_id))[0])
    ds = c.fetchone("SELECT datastream_id FROM sta_observations WHERE id = ?", (new,))[0]
    track(c, "sta_datastreams", ds, new, start, None, None)
    return new


@pytest.mark.postgres
def test_a_recomputation_waits_for_a_widening_it_cannot_see(sta: Sta, platform: Any) -> None:
    if platform.db.dialect.name != "postgresql":
        pytest.skip("SQLite writes one transaction at a time")
    ds = _stream(sta)
    keep = sta.observe(ds, 1, "2024-03-01T10:05:00Z")["@iot.id"]
    gone = sta.observe(ds, 2, "2024-03-01T10:10:00Z")["@iot.id"]
    widened, go = threading.Event(), threading.Event()
    added: list[int] = []

    def widen(c: Any) -> None:  # inserted and widened, not committed until the recomputation is under way
        added.append(_copy(c, keep, _at("2024-03-01T10:00:00Z")))
        widened.set()
        assert go.wait(60)

    def delete(c: Any) -> None:
        c.execute("DELETE FROM sta_observations WHERE id = ?", (gone,))
        retrack(c, "sta_datastreams", ds)

    writer = threading.Thread(target=platform.db.write_sync, args=(widen,))
    writer.start()
    assert widened.wait(60)
    deleter = threading.Thread(target=platform.db.write_sync, args=(delete,))
    deleter.start()
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE application_name = current_setting('application_name')" \
              " AND wait_event_type = 'Lock'"
    deadline = time.monotonic() + 60
    while not platform.db.read_sync(lambda c: c.fetchone(waiting)[0]) and time.monotonic() < deadline:
        time.sleep(0.02)  # until the delete's transaction waits for the widening's row lock
    go.set()
    writer.join(60)
    deleter.join(60)
    # the delete's recomputation saw the new Observation: the envelope starts at it, the latest is the one kept
    start, end, last_id, last_phen = _pointer(platform, ds)
    assert (start, end, last_id, last_phen) == (_at("2024-03-01T10:00Z"), _at("2024-03-01T10:05Z"), keep,
                                                _at("2024-03-01T10:05Z"))
    got = sta.ok(f"/Datastreams({ds})")["phenomenonTime"]
    assert got == "2024-03-01T10:00:00Z/2024-03-01T10:05:00Z"
    assert added and sta.ok(f"/Observations({added[0]})")["phenomenonTime"] == "2024-03-01T10:00:00Z"


@pytest.mark.parametrize("grouped", [False, True], ids=["one by one", "in one group"])
def test_equal_starts_point_at_the_smallest_id_in_any_order(sta: Sta, platform: Any, grouped: bool) -> None:
    ds = _stream(sta)
    first = sta.observe(ds, 1, "2024-03-01T10:00:00Z")["@iot.id"]
    second = sta.observe(ds, 2, "2024-03-01T10:00:00Z")["@iot.id"]
    assert first < second

    def out_of_order(c: Any) -> None:  # as if the second's write committed first
        c.execute("UPDATE sta_datastreams SET last_obs_id = NULL, last_phen = NULL WHERE id = ?", (ds,))
        if grouped:
            c.deferred = {}
        for oid in (second, first):
            track(c, "sta_datastreams", ds, oid, _at("2024-03-01T10:00:00Z"), None, None)
        if grouped:
            c.run_deferred()

    platform.db.write_sync(out_of_order)
    assert _pointer(platform, ds)[2] == first
    latest = sta.ok(f"/Datastreams({ds})?$expand=Observations($top=1;$orderby=phenomenonTime desc)")
    assert [o["@iot.id"] for o in latest["Observations"]] == [first]
