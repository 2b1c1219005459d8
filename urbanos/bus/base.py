"""Bus interface and the in-process implementation."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from typing import Any

from urbanos.events import Event, Handler

log = logging.getLogger("urbanos.bus")


class Bus:
    """Publish is thread-safe and never blocks; handlers run on the app's event loop.

    ``stop`` first lets running handlers finish for up to ``STOP_GRACE_SECONDS`` (an upload's import,
    say, runs in a worker thread that cancelling would not stop, and that would go on writing while the
    database closes), then cancels the rest."""

    STOP_GRACE_SECONDS = 5.0

    def __init__(self) -> None:
        self._handlers: list[tuple[str | None, Handler]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self.published = 0
        self.handler_errors = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    def subscribe(self, handler: Handler, topic: str | None = None) -> None:
        """Call ``handler(event)`` for every event (or only those of ``topic``)."""
        self._handlers.append((topic, handler))

    def unsubscribe(self, handler: Handler) -> None:
        self._handlers = [(t, h) for t, h in self._handlers if h is not handler]

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    async def stop(self) -> None:
        running = [t for t in self._tasks if not t.done()]
        if running:
            _done, pending = await asyncio.wait(running, timeout=self.STOP_GRACE_SECONDS)
            if pending:
                log.warning("stopping with %d event handler(s) still running", len(pending))
        for t in list(self._tasks):
            t.cancel()
        self._loop = None

    def publish(self, events: list[Event]) -> None:
        """Hand committed events to subscribers (of this process and, for cross-process buses, others)."""
        self.deliver_local(events)

    def deliver_local(self, events: list[Event]) -> None:
        if not events:
            return
        self.published += len(events)
        loop = self._loop
        if loop is None or loop.is_closed():
            # No running app loop (CLI import, tests): deliver synchronous handlers inline.
            for ev in events:
                for topic, h in self._handlers:
                    if topic is None or topic == ev.topic:
                        self._call_sync(h, ev)
            return
        if threading.get_ident() == self._loop_thread:
            self._dispatch(events)
        else:
            loop.call_soon_threadsafe(self._dispatch, events)

    def _call_sync(self, h: Handler, ev: Event) -> None:
        try:
            r = h(ev)
            if inspect.iscoroutine(r):
                r.close()
        except Exception:  # noqa: BLE001
            self.handler_errors += 1
            log.exception("event handler failed")

    def _dispatch(self, events: list[Event]) -> None:
        for ev in events:
            for topic, h in self._handlers:
                if topic is not None and topic != ev.topic:
                    continue
                try:
                    r = h(ev)
                    if inspect.iscoroutine(r):
                        task = asyncio.ensure_future(r)
                        self._tasks.add(task)
                        task.add_done_callback(self._done)
                except Exception:  # noqa: BLE001
                    self.handler_errors += 1
                    log.exception("event handler failed")

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.handler_errors += 1
            log.error("event handler failed: %r", task.exception())


class MemoryBus(Bus):
    """Events stay in this process."""


__all__ = ["Bus", "MemoryBus"]
