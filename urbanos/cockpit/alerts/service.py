"""The alerts at run time: rules evaluated on the write path's events, episodes recorded, notifications delivered.

* **Events, not polling**: :meth:`AlertService.on_event` is a synchronous subscriber of the bus topic ``"sensing"``.
  An Observation ``created`` event carries its Datastream (``data["links"]["Datastream"]``) and its row
  (``data["row"]["result_num"]``: the numeric result); the engine evaluates the rules of that Datastream in memory.
  Events of Datastreams without rules cost one dict look-up. Observations created through a DataArray carry no
  row, nor do a feed's batch events (:func:`urbanos.events.batch`, one for many Observations of a Datastream): their
  results are read in one batch through :meth:`urbanos.ports.SensingPort.entities_json`, and they (and the events
  after them) are evaluated in the order they came.
* **Time**: one loop task waits for the engine's earliest deadline (pending periods, staleness) and calls
  :meth:`Engine.due`. The clock is injected (``AlertService(platform, clock=…)`` or ``service.engine.clock``), so tests
  drive time and call :meth:`AlertService.tick`.
* **Never blocking ingest**: transitions go to a queue; a worker records them (episode, deliveries) in one write and
  hands each delivery to :class:`~urbanos.cockpit.alerts.dispatch.Dispatcher`, which retries in the background.
* **Restart**: the engine's state (state, pending since, no data, last seen, last value) is written with each
  transition and every ``FLUSH_SECONDS``; at start-up the rules and their state are loaded back and the timers
  re-armed from ``last_seen`` (a deadline that passed while the platform was down fires at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from urbanos.cockpit.alerts import store
from urbanos.cockpit.alerts.dispatch import Dispatcher, Job
from urbanos.cockpit.alerts.engine import Engine, Transition
from urbanos.events import Event, batch_ids
from urbanos.governance import ADMIN
from urbanos.ports import SensingPort

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.alerts")

LATE_BATCH = 5000
"""Most Observations whose results one read fetches."""
FLUSH_SECONDS = 2.0
"""How often the engine's state (last seen, last value) is written back."""


class AlertService:
    def __init__(self, platform: Platform, clock: Callable[[], float] = time.time) -> None:
        self.platform = platform
        self.engine = Engine(clock)
        self.dispatcher = Dispatcher(platform, lambda: self.engine.clock())
        self.queue: asyncio.Queue[list[Transition]] | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.late: list[tuple[int, Any, Any]] = []
        self.late_task: asyncio.Task[None] | None = None
        self.recording = asyncio.Lock()  # one recording at a time, in the order they came (the lock is fair)
        self.started = False

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def start(self) -> None:
        self.queue, self.recording = asyncio.Queue(), asyncio.Lock()  # bound to this loop (a restart has another)
        rows = await self.platform.db.read(lambda c: c.rows(f"SELECT {store.RULE_COLUMNS} FROM alert_rules r"
                                                            " WHERE r.enabled = 1 ORDER BY r.id"))
        for row in rows:
            self._emit(self.engine.load(store.spec_of(row), store.state_of(row)))
        self.platform.bus.subscribe(self.on_event, topic="sensing")
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._timers()), loop.create_task(self._work()),
                      loop.create_task(self._flush_every(FLUSH_SECONDS))]
        self.started = True

    async def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        self.platform.bus.unsubscribe(self.on_event)
        for task in [*self.tasks, *([self.late_task] if self.late_task is not None else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._drain()
            await self.flush()
        await self.dispatcher.close()

    # -- events and time --------------------------------------------------------------------------------------
    def on_event(self, ev: Event) -> None:
        if ev.entity != "Observation" or ev.kind != "created":
            return
        links = ev.data.get("links")
        ds = links.get("Datastream") if isinstance(links, dict) else None
        if ds is None or ds not in self.engine.by_stream:
            return
        row = ev.data.get("row")
        ids = batch_ids(ev)
        if ids is not None or not isinstance(row, dict) or (self.late_task is not None and not self.late_task.done()):
            # no row (a DataArray, a feed's batch): results are read through the sensing port; later events wait
            if ids is not None:
                self.late += [(ds, oid, None) for oid in ids]
            else:
                self.late.append((ds, ev.id if not isinstance(row, dict) else None, row))
            if self.late_task is None or self.late_task.done():
                self.late_task = asyncio.get_running_loop().create_task(self._late_results())
            return
        out = self.engine.observe(ds, number(row.get("result_num")))
        if out:
            self._emit(out)

    async def _late_results(self) -> None:
        """Evaluate the Observations whose events carried no row, in the order they came, with their results read
        through :meth:`urbanos.ports.SensingPort.entities_json` (as the admin: the platform's own read)."""
        while self.late:
            batch, self.late = self.late[:LATE_BATCH], self.late[LATE_BATCH:]
            ids = [int(oid) for _ds, oid, _row in batch if isinstance(oid, int)]
            results: dict[int, Any] = {}
            if ids:
                try:
                    got = await self.platform.require(SensingPort).entities_json(
                        "v1.1", "Observations", ids, ADMIN, "", select=["result"])
                    results = {i: (g or {}).get("result") for i, g in zip(ids, got, strict=True)}
                except Exception:  # noqa: BLE001 - they still count as data for staleness
                    log.exception("alerts: reading the results of %d Observations failed", len(ids))
            out: list[Transition] = []
            for ds, oid, row in batch:
                value = row.get("result_num") if isinstance(row, dict) else results.get(int(oid or 0))
                out += self.engine.observe(ds, number(value))
            self._emit(out)

    def _emit(self, transitions: list[Transition]) -> None:
        if transitions and self.queue is not None:
            self.queue.put_nowait(transitions)

    async def _timers(self) -> None:
        while True:
            self._emit(self.engine.due())
            nxt = self.engine.next_deadline()
            delay = 1.0 if nxt is None else min(1.0, max(0.005, nxt - self.engine.clock()))
            await asyncio.sleep(delay)

    async def tick(self) -> None:
        """Run what is due now (by the engine's clock), record it and wait until its deliveries are done."""
        self._emit(self.engine.due())
        await self.settle()

    async def settle(self) -> None:
        """Wait until every queued transition is recorded and every delivery has finished (tests)."""
        if self.late_task is not None:
            await self.late_task
        await self._drain()
        await self.dispatcher.idle()

    # -- recording ------------------------------------------------------------------------------------------
    async def _work(self) -> None:
        assert self.queue is not None
        while True:
            batches = [await self.queue.get()]
            while not self.queue.empty():  # what queued meanwhile goes into the same write
                batches.append(self.queue.get_nowait())
            try:
                await self._record([t for b in batches for t in b])
            except Exception:  # noqa: BLE001 - the next transitions are still recorded
                log.exception("alerts: recording transitions failed")
            finally:
                for _ in batches:
                    self.queue.task_done()

    async def _drain(self) -> None:
        if self.queue is None:
            return
        while not self.queue.empty():
            batch = self.queue.get_nowait()
            try:
                await self._record(batch)
            finally:
                self.queue.task_done()
        await self.queue.join()

    async def _record(self, transitions: list[Transition]) -> None:
        """Record transitions in one write. The worker and :meth:`_drain` (``settle``, ``stop``) both record; the lock
        keeps their writes in the order the transitions came, since on PostgreSQL two writes run on two connections
        and the later could commit first (a resolution before the firing it closes)."""
        async with self.recording:
            now = self.engine.clock()
            states = self.engine.snapshot({t.rule_id for t in transitions})  # the others: at the next flush
            base = str(self.platform.settings.base_url or "").rstrip("/")

            def tx(c: Connection) -> list[Job]:
                jobs: list[Job] = []
                for t in transitions:
                    jobs.extend(self._transition(c, t, now, base))
                store.save_states(c, states)
                return jobs

            for job in await self.platform.db.write(tx):
                self.dispatcher.submit(job)

    def _transition(self, c: Connection, t: Transition, now: float, base: str) -> list[Job]:
        row = store.rule_row(c, t.rule_id)
        if row is None:
            return []
        if t.event == "fired":
            eid: int | None = store.open_episode(c, t.rule_id, t.track, t.at, t.value)
        else:
            eid = store.close_episode(c, t.rule_id, t.track, t.at, t.value)
        if eid is None:
            return []
        body = notification(row, t, eid, base)
        return self._jobs(c, row, eid, t.event, body, now)

    def _jobs(self, c: Connection, row: dict[str, Any], eid: int, event: str, body: dict[str, Any],
              now: float) -> list[Job]:
        ch = orjson.loads(row["channels"])
        raw = orjson.dumps(body)
        rid = int(row["id"])
        jobs: list[Job] = []
        if ch.get("webhook"):
            secret = store.rule_secret(c, rid) or ""
            did = store.add_delivery(c, eid, event, "webhook", ch["webhook"], now)
            jobs.append(Job(did, "webhook", ch["webhook"], raw, secret=secret))
        if ch.get("mqtt"):
            # handed to the broker's queues in memory right after this commit: recorded as delivered now (a failure,
            # such as a platform without broker, is written over it), which spares ingest a write per notification
            topic = f"alerts/{rid}"
            did = store.add_delivery(c, eid, event, "mqtt", topic, now, status="delivered", attempts=1)
            jobs.append(Job(did, "mqtt", topic, raw, dataset_id=row["dataset_id"], recorded=True))
        if ch.get("email"):
            did = store.add_delivery(c, eid, event, "email", ", ".join(ch["email"]), now)
            jobs.append(Job(did, "email", ", ".join(ch["email"]), raw, mail=mail_text(body)))
        return jobs

    async def flush(self) -> None:
        states = self.engine.take_dirty()
        if states:
            await self.platform.db.write(lambda c: store.save_states(c, states))

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - tried again at the next flush
                log.exception("alerts: writing the rules' state failed")

    # -- rules changed through the API ----------------------------------------------------------------------------
    def reload(self, row: dict[str, Any] | None, rule_id: int) -> None:
        """Apply a rule written through the API (``row`` None or disabled: removed from the engine)."""
        if row is None or not row["enabled"]:
            self.engine.remove(rule_id)
            return
        self._emit(self.engine.load(store.spec_of(row)))


def number(value: Any) -> float | None:
    """A result as a number for thresholds (None: not a number)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def notification(row: dict[str, Any], t: Transition, episode_id: int, base: str) -> dict[str, Any]:
    """The JSON every channel carries for one transition."""
    th = None if row["operator"] is None else {
        "operator": row["operator"], "fire": row["fire_value"], "clear": row["clear_value"]}
    stale = row["stale_seconds"]
    return {
        "event": t.event, "kind": t.track, "at": store.stamp(t.at), "value": t.value,
        "rule": {"id": int(row["id"]), "name": row["name"], "datastream": int(row["datastream_id"]),
                 "threshold": th, "staleness_minutes": None if stale is None else float(stale) / 60.0},
        "episode": {"id": episode_id, "state": "firing" if t.event == "fired" else "resolved",
                    "url": f"{base}/alerts/episodes/{episode_id}"},
    }


_WHAT = {("threshold", "fired"): ("Alert fired", "Alarm ausgelöst"),
         ("threshold", "resolved"): ("Alert resolved", "Alarm aufgehoben"),
         ("nodata", "fired"): ("No data", "Keine Daten"),
         ("nodata", "resolved"): ("Data again", "Wieder Daten")}


def mail_text(body: dict[str, Any]) -> tuple[str, str]:
    """Subject and text of an alert e-mail, in English and German."""
    en, de = _WHAT[(body["kind"], body["event"])]
    rule = body["rule"]
    subject = f"[urbanos] {en} / {de}: {rule['name']}"
    value = "—" if body["value"] is None else f"{body['value']:g}"
    text = (f"{en}: {rule['name']} (Datastream {rule['datastream']})\nValue: {value}\nAt: {body['at']}\n"
            f"Episode: {body['episode']['url']}\n\n"
            f"{de}: {rule['name']} (Datenstrom {rule['datastream']})\nWert: {value}\nZeit: {body['at']}\n"
            f"Episode: {body['episode']['url']}\n")
    return subject, text


__all__ = ["AlertService", "FLUSH_SECONDS", "notification", "mail_text", "number"]
