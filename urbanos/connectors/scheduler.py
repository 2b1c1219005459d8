"""The scheduler: runs due connectors, in the server process (unless ``connectors_scheduler`` is off) and in
``urbanos worker``. Every ``connectors_tick_seconds`` it reads the connectors whose next run is due and whose lease
is free, and starts each as a task of its own (at most ``connectors_concurrency`` at once), and a run of each mirror in
live mode that no process keeps live (:mod:`urbanos.connectors.live`). A run that fails, hangs
or raises affects only itself; the lease makes sure that two processes never run the same connector at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from urbanos.connectors import store
from urbanos.connectors.live import wanted
from urbanos.core.time import format_stored

if TYPE_CHECKING:
    from urbanos.connectors.runner import Runner
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.connectors")


def unlinked_live(c: Connection, now: str) -> list[store.Connector]:
    """Mirrors in live mode that no process keeps live (their lease is free): a run starts the link (after a
    restart, or when the process holding it went away); not those whose last run failed (they wait for their
    schedule) or whose link was refused with their present configuration."""
    out = []
    for conn in store.all_connectors(c):
        if wanted(conn) and conn.last_status != "failed" and (conn.lease_until is None or conn.lease_until < now):
            saved = store.live(c, conn.id)
            if not (saved and saved.get("state") == "refused" and saved.get("config") == conn.updated_at):
                out.append(conn)
    return out


class Scheduler:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.loop_task: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()

    def start(self) -> None:
        if self.loop_task is None:
            self.stopping.clear()
            self.loop_task = asyncio.get_running_loop().create_task(self.loop())

    async def stop(self) -> None:
        self.stopping.set()
        tasks = [t for t in [self.loop_task, *self.tasks.values()] if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                await t
        self.loop_task = None
        self.tasks.clear()

    async def loop(self) -> None:
        tick = float(self.runner.settings.connectors_tick_seconds)
        while not self.stopping.is_set():
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - the scheduler outlives a failed read (the database restarting)
                log.warning("connector scheduler: tick failed", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=tick)

    async def tick(self) -> list[str]:
        """Start the due connectors; the names started."""
        self.tasks = {k: t for k, t in self.tasks.items() if not t.done()}
        room = int(self.runner.settings.connectors_concurrency) - len(self.tasks)
        if room <= 0:
            return []
        now = format_stored(self.runner.clock())
        due = await self.runner.platform.db.read(lambda c: store.due(c, now, self.runner.id))
        unlinked = await self.runner.platform.db.read(lambda c: unlinked_live(c, now))
        started: list[str] = []
        for conn, trigger in [*((d, "schedule") for d in due), *((u, "live") for u in unlinked)]:
            if conn.name in self.tasks or conn.type == "webhook" or (
                    trigger == "live" and self.runner.live.holding(conn.id)):
                continue
            if len(started) >= room:
                break
            self.tasks[conn.name] = asyncio.get_running_loop().create_task(self.guarded(conn.name, trigger))
            started.append(conn.name)
        return started

    async def guarded(self, name: str, trigger: str = "schedule") -> None:
        try:
            await self.runner.run(name, trigger=trigger)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - one connector never stops the others
            log.exception("connector %s: run failed", name)


__all__ = ["Scheduler"]
