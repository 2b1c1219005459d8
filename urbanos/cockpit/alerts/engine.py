"""The rule engine: pure, in memory, driven by Observations and by an injected clock.

Each rule has two independent tracks:

* **threshold** (when the rule has one): ``ok`` → ``pending`` (the fire condition holds, for at most
  ``pending`` seconds) → ``firing`` → ``ok`` once the clear condition holds. A value that stops meeting the fire
  condition while pending returns to ``ok`` without a notification (a short spike). The clear condition is the
  fire operator applied to the clear value and negated: ``>= 80`` clearing at ``70`` resolves on a value ``< 70``, so
  values between 70 and 80 neither resolve nor fire again (hysteresis).
* **no data** (when the rule has a staleness): no Observation for ``stale`` seconds turns it on, once; the next
  Observation turns it off, once.

A transition to ``firing`` or back, and into or out of no data, is a :class:`Transition` (an episode starts or ends:
one notification each). Time-driven transitions (a pending period that ends, a deadline without data) come from
:meth:`Engine.due`, which a single loop calls at :meth:`Engine.next_deadline`: one heap of deadlines, at most one
staleness entry per rule (an Observation only moves ``last_seen``; the entry is re-armed when it comes due).
"""

from __future__ import annotations

import heapq
import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}

Track = Literal["threshold", "nodata"]


@dataclass(frozen=True)
class RuleSpec:
    """What the engine needs of a rule."""

    id: int
    datastream_id: int
    operator: str | None = None
    fire: float | None = None
    clear: float | None = None
    pending: float = 0.0
    stale: float | None = None

    def fires(self, value: float) -> bool:
        op, fire = self.operator, self.fire
        if op is None or fire is None:
            return False
        if op == ">=":
            return value >= fire
        if op == ">":
            return value > fire
        return value <= fire if op == "<=" else value < fire

    def clears(self, value: float) -> bool:
        if self.operator is None:
            return True
        limit = self.clear if self.clear is not None else self.fire
        return limit is not None and not OPERATORS[self.operator](value, limit)


@dataclass
class RuleState:
    """Where a rule stands (persisted, so that a restart goes on from here)."""

    state: str = "ok"  # ok | pending | firing
    pending_since: float | None = None
    nodata: bool = False
    last_seen: float | None = None
    last_value: float | None = None


@dataclass(frozen=True)
class Transition:
    """An episode starts (``fired``) or ends (``resolved``) on ``track`` of rule ``rule_id`` at ``at``."""

    rule_id: int
    track: Track
    event: Literal["fired", "resolved"]
    at: float
    value: float | None


@dataclass
class _Entry:
    spec: RuleSpec
    st: RuleState
    stale_armed: float | None = None
    pending_armed: float | None = None
    dirty: bool = field(default=False)


class Engine:
    """The rules of the platform, indexed by Datastream."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.rules: dict[int, _Entry] = {}
        self.by_stream: dict[int, list[int]] = {}
        self._heap: list[tuple[float, int, int, str]] = []
        self._seq = itertools.count()

    # -- rules ----------------------------------------------------------------------------------------------
    def load(self, spec: RuleSpec, st: RuleState | None = None) -> list[Transition]:
        """Add or replace a rule. A replaced rule keeps its state; a track the new spec no longer has ends."""
        now = self.clock()
        old = self.rules.get(spec.id)
        if old is not None:
            self._unindex(old.spec)
        state = st if st is not None else (old.st if old is not None else RuleState(last_seen=now))
        if state.last_seen is None:
            state.last_seen = now
        entry = _Entry(spec, state)
        self.rules[spec.id] = entry
        self.by_stream.setdefault(spec.datastream_id, []).append(spec.id)
        out: list[Transition] = []
        if spec.operator is None and state.state != "ok":
            if state.state == "firing":
                out.append(Transition(spec.id, "threshold", "resolved", now, state.last_value))
            state.state, state.pending_since = "ok", None
        if spec.stale is None and state.nodata:
            state.nodata = False
            out.append(Transition(spec.id, "nodata", "resolved", now, state.last_value))
        if state.state == "pending" and state.pending_since is not None:
            self._arm_pending(entry, state.pending_since + spec.pending)
        if spec.stale is not None and not state.nodata:
            self._arm_stale(entry, state.last_seen + spec.stale)
        entry.dirty = bool(out)
        return out

    def remove(self, rule_id: int) -> None:
        entry = self.rules.pop(rule_id, None)
        if entry is not None:
            self._unindex(entry.spec)

    def _unindex(self, spec: RuleSpec) -> None:
        ids = self.by_stream.get(spec.datastream_id)
        if ids and spec.id in ids:
            ids.remove(spec.id)
            if not ids:
                del self.by_stream[spec.datastream_id]

    def _arm_pending(self, entry: _Entry, at: float) -> None:
        entry.pending_armed = at
        heapq.heappush(self._heap, (at, next(self._seq), entry.spec.id, "pending"))

    def _arm_stale(self, entry: _Entry, at: float) -> None:
        if entry.stale_armed is not None and entry.stale_armed <= at:
            return  # an earlier entry is in the heap; it re-arms itself when it comes due
        entry.stale_armed = at
        heapq.heappush(self._heap, (at, next(self._seq), entry.spec.id, "stale"))

    # -- Observations -------------------------------------------------------------------------------------------
    def observe(self, datastream_id: int, value: float | None) -> list[Transition]:
        """An Observation of ``datastream_id`` arrived now with numeric result ``value`` (None: not a number)."""
        ids = self.by_stream.get(datastream_id)
        if not ids:
            return []
        now = self.clock()
        out: list[Transition] = []
        rules = self.rules
        for rid in ids:
            entry = rules[rid]
            st = entry.st
            st.last_seen = now
            entry.dirty = True
            if st.nodata:
                st.nodata = False
                out.append(Transition(rid, "nodata", "resolved", now, value))
                if entry.spec.stale is not None:
                    self._arm_stale(entry, now + entry.spec.stale)
            if value is None:
                continue
            st.last_value = value
            spec = entry.spec
            if spec.operator is None or (st.state == "ok" and not spec.fires(value)):
                continue  # the common case: nothing changes
            self._threshold(entry, value, now, out)
        return out

    def _threshold(self, entry: _Entry, value: float, now: float, out: list[Transition]) -> None:
        spec, st = entry.spec, entry.st
        if spec.operator is None:
            return
        if st.state == "firing":
            if spec.clears(value):
                st.state, st.pending_since = "ok", None
                out.append(Transition(spec.id, "threshold", "resolved", now, value))
            return
        if not spec.fires(value):
            st.state, st.pending_since = "ok", None
            return
        if st.state == "ok":
            if spec.pending <= 0:
                st.state = "firing"
                out.append(Transition(spec.id, "threshold", "fired", now, value))
                return
            st.state, st.pending_since = "pending", now
            self._arm_pending(entry, now + spec.pending)
            return
        if st.pending_since is not None and now >= st.pending_since + spec.pending:
            st.state, st.pending_since = "firing", None
            out.append(Transition(spec.id, "threshold", "fired", now, value))

    # -- time -----------------------------------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def due(self) -> list[Transition]:
        """The transitions whose time has come (pending periods that ended, deadlines without data)."""
        now = self.clock()
        out: list[Transition] = []
        while self._heap and self._heap[0][0] <= now:
            at, _seq, rid, what = heapq.heappop(self._heap)
            entry = self.rules.get(rid)
            if entry is None:
                continue
            if what == "pending":
                self._pending_due(entry, at, out)
            else:
                self._stale_due(entry, at, now, out)
        return out

    def _pending_due(self, entry: _Entry, at: float, out: list[Transition]) -> None:
        st, spec = entry.st, entry.spec
        if entry.pending_armed != at or st.state != "pending" or st.pending_since is None:
            return
        if at < st.pending_since + spec.pending:
            return
        st.state, st.pending_since = "firing", None
        entry.dirty = True
        out.append(Transition(spec.id, "threshold", "fired", at, st.last_value))

    def _stale_due(self, entry: _Entry, at: float, now: float, out: list[Transition]) -> None:
        if entry.stale_armed != at:
            return
        entry.stale_armed = None
        spec, st = entry.spec, entry.st
        if spec.stale is None or st.nodata:
            return
        deadline = (st.last_seen if st.last_seen is not None else now) + spec.stale
        if deadline > now:
            self._arm_stale(entry, deadline)
            return
        st.nodata = True
        entry.dirty = True
        out.append(Transition(spec.id, "nodata", "fired", deadline, st.last_value))

    def snapshot(self, rule_ids: set[int]) -> list[tuple[int, RuleState]]:
        """A copy of the state of the rules ``rule_ids`` (those still loaded), which are then no longer dirty."""
        out: list[tuple[int, RuleState]] = []
        for rid in sorted(rule_ids):
            entry = self.rules.get(rid)
            if entry is not None:
                entry.dirty = False
                s = entry.st
                out.append((rid, RuleState(s.state, s.pending_since, s.nodata, s.last_seen, s.last_value)))
        return out

    def take_dirty(self) -> list[tuple[int, RuleState]]:
        """The rules whose state changed since the last call, with a copy of their state."""
        out: list[tuple[int, RuleState]] = []
        for rid, entry in self.rules.items():
            if entry.dirty:
                entry.dirty = False
                s = entry.st
                out.append((rid, RuleState(s.state, s.pending_since, s.nodata, s.last_seen, s.last_value)))
        return out


__all__ = ["OPERATORS", "RuleSpec", "RuleState", "Transition", "Engine", "Track"]
