"""Running a connector: the lease, the attempts with back-off, the run log and the connector's health.

* Only one process runs a given connector at a time: a run first takes the connector's lease with one atomic
  ``UPDATE … WHERE lease is free or expired`` (:func:`urbanos.connectors.store.take_lease`), renews it while it runs
  and releases it at the end. A process that does not get the lease skips the run.
* A run reads the feed first (no writes), then writes everything in one transaction with the connector's
  bookkeeping: a feed that fails to arrive or to parse writes nothing. A type may go on reading while it writes
  (its writes' ``reading``, run beside the write: the SensorThings mirror's Observation pages,
  :mod:`urbanos.connectors.pipe`); a failure of either rolls the whole transaction back.
* Failures that may pass (unreachable, slow, HTTP 5xx or 429) are tried again, ``connectors_retries`` times, after
  ``connectors_backoff_seconds`` × 2^(attempt-1), plus up to half of it again at random (jitter).
* Every run is logged (started, finished, status, counts, the first errors, bytes fetched); after
  ``connectors_unhealthy_after`` failed runs in a row a connector is marked unhealthy, and healthy again after a run
  that does not fail.
* No exception of a run escapes it: a bug in a connector type fails that run and is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from urbanos.connectors import store
from urbanos.connectors.fetch import FeedError, Fetcher
from urbanos.connectors.live import Live
from urbanos.connectors.owner import check_publisher, rebuild
from urbanos.connectors.schedule import next_run
from urbanos.connectors.types import get_type
from urbanos.connectors.types.base import Counts, Job, Progress, Writes
from urbanos.core.time import format_stored
from urbanos.errors import UrbanosError

if TYPE_CHECKING:
    from urbanos.governance.outbound import OutboundPolicy
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.connectors")
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[Any]]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Runner:
    """Runs connectors for one process (``runner_id`` names it in leases)."""

    def __init__(self, platform: Platform, *, runner_id: str | None = None, clock: Clock | None = None,
                 sleep: Sleep | None = None) -> None:
        self.platform = platform
        self.id = runner_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.clock: Clock = clock or utc_now
        self.sleep: Sleep = sleep or asyncio.sleep
        self.policies: dict[str, OutboundPolicy] = {}  # per connector: the demo's own feed on this server
        self.rng = random.Random()  # nosec B311 - jitter of retry delays, not a secret
        self.locks: dict[int, asyncio.Lock] = {}
        self.active: dict[int, int] = {}  # connectors this process is running now: how many runs of each
        self.live = Live(self)

    def lock(self, conn_id: int) -> asyncio.Lock:
        """The lock of a connector's writes in this process: a run and its live link's writes never overlap."""
        return self.locks.setdefault(conn_id, asyncio.Lock())

    @property
    def settings(self) -> Any:
        return self.platform.settings

    def backoff(self, attempt: int) -> float:
        base = float(self.settings.connectors_backoff_seconds) * 2 ** (attempt - 1)
        return min(300.0, base * (1 + self.rng.uniform(0, 0.5)))

    # -- the lease -------------------------------------------------------------------------------------------
    async def _renew(self, conn_id: int, seconds: float) -> None:
        while True:
            await asyncio.sleep(max(0.5, seconds / 3))
            until = format_stored(self.clock() + timedelta(seconds=seconds))

            def renew(c: Connection, until: str = until) -> bool:
                return store.renew_lease(c, conn_id, self.id, until)

            try:
                await self.platform.db.write(renew)
            except Exception:  # noqa: BLE001 - a missed renewal is retried; the lease runs out only if all fail
                log.warning("connector lease %s: renewal failed", conn_id, exc_info=True)

    async def run(self, name: str, *, trigger: str = "manual", progress: Progress | None = None) -> dict[str, Any]:
        """Run connector ``name`` now, if no other process is running it (``status: skipped`` then)."""
        db = self.platform.db
        conn = await db.read(lambda c: store.require(c, name))
        seconds = float(self.settings.connectors_lease_seconds)
        now = self.clock()
        taken = await db.write(lambda c: store.take_lease(c, conn.id, self.id, format_stored(now),
                                                          format_stored(now + timedelta(seconds=seconds))))
        if not taken:
            return {"connector": name, "status": "skipped", "message": "another process is running this connector"}
        renewal = asyncio.create_task(self._renew(conn.id, seconds))
        self.active[conn.id] = self.active.get(conn.id, 0) + 1
        try:
            async with self.lock(conn.id):
                result = await self._logged(conn, trigger, progress)
            if result["status"] != "failed":
                try:
                    await self.live.after_run(conn)
                except Exception:  # noqa: BLE001 - the run is done; the next one starts the link again
                    log.warning("connector %s: starting the live link failed", conn.name, exc_info=True)
            return result
        finally:
            self.active[conn.id] -= 1
            if not self.active[conn.id]:
                del self.active[conn.id]
            renewal.cancel()
            if not self.live.holding(conn.id):  # a live link keeps the lease, and renews it
                await db.write(lambda c: store.release_lease(c, conn.id, self.id))

    async def _logged(self, conn: store.Connector, trigger: str, progress: Progress | None) -> dict[str, Any]:
        started = self.clock()
        run_id = await self.platform.db.write(lambda c: store.start_run(c, conn.id, format_stored(started), trigger))
        attempts, fetched = 0, 0
        while True:
            attempts += 1
            fetcher = Fetcher(self.settings, self.policies.get(conn.name) or self.platform.gate.outbound)
            try:
                counts = await self._attempt(conn, fetcher, progress)
                status = "partial" if counts.failed else "ok"
                break
            except FeedError as exc:
                if exc.retry and attempts <= int(self.settings.connectors_retries):
                    log.info("connector %s: attempt %d failed, retrying: %s", conn.name, attempts, exc.message)
                    fetched += fetcher.bytes
                    await self.sleep(self.backoff(attempts))
                    continue
                counts, status = Counts(errors=[exc.message]), "failed"
                break
            except UrbanosError as exc:
                counts, status = Counts(errors=[exc.message]), "failed"
                break
            except Exception as exc:  # noqa: BLE001 - a connector's bug fails its run, never the process
                log.exception("connector %s failed", conn.name)
                counts, status = Counts(errors=[f"internal error ({type(exc).__name__})"]), "failed"
                break
            finally:
                await fetcher.aclose()
        fetched += fetcher.bytes
        return await self._finish(conn, run_id, status, counts, fetched, attempts)

    async def _finish(self, conn: store.Connector, run_id: int, status: str, counts: Counts, fetched: int,
                      attempts: int) -> dict[str, Any]:
        finished = self.clock()
        limit = int(self.settings.connectors_unhealthy_after)

        def tx(c: Connection) -> store.Connector:
            store.finish_run(c, run_id, format_stored(finished), status, counts.as_dict(), counts.errors, fetched,
                             attempts)
            cur = store.require(c, conn.name)
            failures = cur.failures + 1 if status == "failed" else 0
            nxt = next_run(finished, cur.every_seconds, cur.cron) if cur.type != "webhook" else None
            store.update(c, conn.name, {"last_run_at": format_stored(finished), "last_status": status,
                                        "failures": failures, "healthy": int(failures < limit),
                                        "next_run_at": format_stored(nxt) if nxt else None})
            return cur

        await self.platform.db.write(tx)
        if status == "failed":
            log.warning("connector %s: run failed: %s", conn.name, "; ".join(counts.errors))
        return {"connector": conn.name, "run": run_id, "status": status, **counts.as_dict(), "errors": counts.errors,
                "bytes_fetched": fetched, "attempts": attempts}

    # -- one attempt ---------------------------------------------------------------------------------------------
    async def _job(self, conn: store.Connector, fetcher: Fetcher | None, progress: Progress | None) -> Job:
        gate = self.platform.gate

        def who(c: Connection) -> Job:
            identity = rebuild(gate, c, conn.owner_kind, conn.owner_subject, conn.owner_token_id)
            dataset = check_publisher(gate, c, identity, conn.dataset_id)
            return Job(self.platform, conn, identity, dataset, fetcher, self.clock(), dict(conn.state), progress)

        return await self.platform.db.read(who)

    async def _write(self, job: Job, writes: Writes) -> Counts:
        gate = self.platform.gate

        def tx(c: Connection) -> Counts:
            counts = Counts()
            # again, inside the writing transaction: the identity as the database describes it now (a token revoked
            # while the run fetched must write nothing), and its right to publish to the dataset
            conn = job.connector
            check_publisher(gate, c, rebuild(gate, c, conn.owner_kind, conn.owner_subject, conn.owner_token_id),
                            conn.dataset_id)
            writes.apply(c, job, counts)
            store.update(c, job.connector.name, {"state": job.state})
            return counts

        return await self.platform.db.write(tx)

    async def write(self, conn: store.Connector, writes: Writes) -> Counts:
        """Write ``writes`` as a run does (the connector's identity rebuilt and checked again in the transaction),
        outside a run: a live link's batch."""
        return await self._write(await self._job(conn, None, None), writes)

    async def _attempt(self, conn: store.Connector, fetcher: Fetcher, progress: Progress | None) -> Counts:
        job = await self._job(conn, fetcher, progress)
        writes = await get_type(conn.type).collect(job)
        reading = getattr(writes, "reading", None)
        reader = asyncio.ensure_future(reading()) if reading is not None else None
        try:
            counts = await self._write(job, writes)
        finally:
            if reader is not None and not reader.done():  # the write failed first: stop reading
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        after = getattr(writes, "after_commit", None)
        if after is not None:
            try:
                await after(job)
            except Exception:  # noqa: BLE001 - what is written stays written; a failed announcement is logged
                log.warning("connector %s: announcing the run's changes failed", conn.name, exc_info=True)
        return counts

    async def ingest(self, conn: store.Connector, body: bytes, content_type: str) -> dict[str, Any]:
        """Write a pushed body (the webhook), logged as a run; BadRequest for a body the mapping cannot read (logged
        as a failed run, nothing written)."""
        started = self.clock()
        run_id = await self.platform.db.write(lambda c: store.start_run(c, conn.id, format_stored(started), "webhook"))
        try:
            job = await self._job(conn, None, None)
            counts = await self._write(job, await get_type(conn.type).collect_body(job, body, content_type))
        except UrbanosError as exc:
            await self._finish(conn, run_id, "failed", Counts(errors=[exc.message]), len(body), 1)
            raise
        return await self._finish(conn, run_id, "partial" if counts.failed else "ok", counts, len(body), 1)


__all__ = ["Runner", "Clock", "utc_now", "log"]
