"""Group commit: small writes that arrive while others are being written run together, in one transaction.

A back end hands :class:`Grouper` a function that runs a list of write jobs in one transaction on a worker thread
and returns each job's outcome. The first write of a quiet moment goes at once (a group of one, no waiting);
writes that arrive while ``concurrency`` groups are in flight queue, and the next group takes them all (up to
``size``). Under load a commit, its round trips and its wait for the disk are shared by many writes; idle, nothing
is added to a write's latency.

A worker thread that finishes a group takes the next one itself when writes are waiting, and hands each group's
outcomes to the event loop as it goes: the loop is not asked to start every group (under load that hand-over, a
loop iteration and a thread wake-up, cost about a third of each group's cycle).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Job = Callable[[Any], Any]
Outcome = tuple[Any, BaseException | None]
Queued = tuple[Job, "asyncio.Future[Any]"]


class Grouper:
    def __init__(self, run: Callable[[list[Job]], list[Outcome]], executor: Callable[[], Any], *, size: int = 64,
                 concurrency: int = 1) -> None:
        """``run(jobs)``: the jobs in one transaction, on the calling (worker) thread; one ``(result, error)``
        per job, in order. ``executor()``: where ``run`` is called (a ``concurrent.futures`` executor)."""
        self.run = run
        self.executor = executor
        self.size = max(1, size)
        self.concurrency = max(1, concurrency)
        self._lock = threading.Lock()  # the queues and counts below: the loop adds, worker threads take
        self._queued: dict[asyncio.AbstractEventLoop, deque[Queued]] = {}
        self._running: dict[asyncio.AbstractEventLoop, int] = {}
        self.groups = 0
        self.jobs = 0

    async def submit(self, fn: Callable[[Any], T]) -> T:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._queued.setdefault(loop, deque()).append((fn, fut))
            start = self._running.get(loop, 0) < self.concurrency
            if start:
                self._running[loop] = self._running.get(loop, 0) + 1
        if start:
            try:
                loop.run_in_executor(self.executor(), self._drain, loop)  # not awaited: the futures answer
            except BaseException:
                with self._lock:
                    self._stopped(loop)
                raise
        return await fut

    def _stopped(self, loop: asyncio.AbstractEventLoop) -> None:
        """One worker of ``loop`` less (with the lock held)."""
        self._running[loop] -= 1
        if not self._running[loop]:
            del self._running[loop]
            if not self._queued.get(loop):
                self._queued.pop(loop, None)

    def _take(self, loop: asyncio.AbstractEventLoop) -> list[Queued]:
        with self._lock:
            queued = self._queued.get(loop)
            group = [queued.popleft() for _ in range(min(self.size, len(queued)))] if queued else []
            if not group:
                self._stopped(loop)
            return group

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On a worker thread: write groups while writes are queued for ``loop``."""
        while group := self._take(loop):
            try:
                outcomes = self.run([fn for fn, _ in group])
            except Exception as exc:  # noqa: BLE001 - every writer of the group learns of it
                outcomes = [(None, exc)] * len(group)
            except BaseException:
                with self._lock:
                    self._stopped(loop)
                raise
            self.groups += 1
            self.jobs += len(group)
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits for these answers any more
                loop.call_soon_threadsafe(_settle, group, outcomes)


def _settle(group: list[Queued], outcomes: list[Outcome]) -> None:
    for (_, fut), (result, error) in zip(group, outcomes, strict=True):
        if fut.done():  # the writer went away (its request was cancelled): the write stands
            continue
        if error is None:
            fut.set_result(result)
        else:
            fut.set_exception(error)


__all__ = ["Grouper"]
