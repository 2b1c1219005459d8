"""The alert rule engine on its own, with a clock the tests drive: one notification per episode, hysteresis, pending,
no data, and state carried over a restart."""

from __future__ import annotations

from tests.conftest import SQLITE_RUN_ONLY
from urbanos.cockpit.alerts.engine import Engine, RuleSpec, RuleState, Transition

pytestmark = SQLITE_RUN_ONLY  # no database: the same on every back end


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def events(ts: list[Transition]) -> list[tuple[str, str]]:
    return [(t.track, t.event) for t in ts]


def feed(engine: Engine, clock: Clock, values: list[float | None], step: float = 10.0) -> list[Transition]:
    out: list[Transition] = []
    for v in values:
        clock.now += step
        out += engine.due()
        out += engine.observe(7, v)
    return out


def test_fires_once_and_clears_once_with_hysteresis() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, ">=", 80.0, 70.0))
    out = feed(e, clock, [50, 79.9, 80, 85, 79, 71, 75, 80, 90, 70, 72, 69.9, 60, 75, 79])
    assert events(out) == [("threshold", "fired"), ("threshold", "resolved")]
    assert [t.value for t in out] == [80, 69.9]
    # a new episode after clearing
    out = feed(e, clock, [81])
    assert events(out) == [("threshold", "fired")]


def test_values_between_clear_and_fire_never_refire() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, ">=", 80.0, 70.0))
    out = feed(e, clock, [80] + [70, 79.99] * 50)
    assert events(out) == [("threshold", "fired")]


def test_downward_operators() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, "<", 10.0, 15.0))
    out = feed(e, clock, [20, 9.9, 5, 14, 15, 12, 9])
    assert events(out) == [("threshold", "fired"), ("threshold", "resolved"), ("threshold", "fired")]


def test_pending_spike_shorter_than_pending_does_not_fire() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, ">", 80.0, 70.0, pending=60.0))
    out = feed(e, clock, [90, 95, 50], step=20.0)  # high for 20 s, then low
    clock.now += 600
    out += e.due()
    assert out == []
    assert e.rules[1].st.state == "ok"


def test_pending_fires_when_the_condition_holds_long_enough() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, ">", 80.0, 70.0, pending=60.0))
    start = clock.now
    assert feed(e, clock, [90], step=1.0) == []
    clock.now = start + 30
    assert e.due() == []
    clock.now = start + 61
    out = e.due()  # no new Observation: the timer fires at the end of the pending period
    assert events(out) == [("threshold", "fired")]
    assert out[0].at == start + 61 and out[0].value == 90
    assert feed(e, clock, [95, 99]) == []
    assert events(feed(e, clock, [60])) == [("threshold", "resolved")]


def test_pending_fires_on_an_observation_after_the_period() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, ">=", 80.0, pending=30.0))
    out = []
    for _ in range(5):
        clock.now += 10
        out += e.observe(7, 85)  # the loop has not run: the Observation itself sees the period ended
    assert events(out) == [("threshold", "fired")]


def test_no_data_reported_once_and_cleared_once() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, stale=300.0))
    assert feed(e, clock, [1, 2, 3], step=100) == []
    for _ in range(20):  # a long silence: one report
        clock.now += 120
        out = e.due()
        if out:
            assert events(out) == [("nodata", "fired")]
            break
    clock.now += 5000
    assert e.due() == []
    back = feed(e, clock, [None])  # any Observation counts, even one without a numeric result
    assert events(back) == [("nodata", "resolved")]
    assert feed(e, clock, [4, 5], step=10) == []


def test_heap_keeps_one_staleness_entry_per_rule() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, stale=60.0))
    feed(e, clock, [1.0] * 1000, step=0.01)
    assert len(e._heap) == 1


def test_threshold_and_no_data_are_separate_episodes() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, ">=", 80.0, 70.0, stale=60.0))
    out = feed(e, clock, [90])
    clock.now += 61
    out += e.due()
    out += feed(e, clock, [95, 10])
    assert events(out) == [("threshold", "fired"), ("nodata", "fired"), ("nodata", "resolved"),
                           ("threshold", "resolved")]


def test_restart_restores_state() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, ">=", 80.0, 70.0, stale=600.0))
    feed(e, clock, [90])
    saved = dict(e.take_dirty())[1]
    assert saved.state == "firing" and saved.last_seen == clock.now
    again = Engine(clock)  # a new process: the stored state comes back
    assert again.load(RuleSpec(1, 7, ">=", 80.0, 70.0, stale=600.0), saved) == []
    assert feed(again, clock, [95, 85]) == []  # still firing: no second notification
    clock.now += 601
    assert events(again.due()) == [("nodata", "fired")]  # the staleness timer was re-armed from last seen
    assert events(feed(again, clock, [50])) == [("nodata", "resolved"), ("threshold", "resolved")]


def test_restart_after_a_missed_deadline_reports_once() -> None:
    clock = Clock()
    st = RuleState(last_seen=clock.now - 3600)
    e = Engine(clock)
    e.load(RuleSpec(1, 7, stale=60.0), st)
    assert events(e.due()) == [("nodata", "fired")]
    assert e.due() == []


def test_removing_the_threshold_resolves_an_open_episode() -> None:
    clock = Clock()
    e = Engine(clock)
    e.load(RuleSpec(1, 7, ">=", 80.0))
    feed(e, clock, [90])
    assert events(e.load(RuleSpec(1, 7, stale=60.0))) == [("threshold", "resolved")]
    e.remove(1)
    assert e.observe(7, 100) == [] and 7 not in e.by_stream
