"""Group commit: small writes that arrive while others are being written run together, in one transaction.

A back end hands :class:`Grouper` a function that runs a list of write jobs in one transaction on a worker thread
and returns each job's outcome. The first write of a quiet moment goes at once (a group of one, no waiting);
writes that arrive while ``concurrency`` groups are in flight queue, and the next group takes them all (up to
``size``). Under load a commit, its round trips and its wait for the disk are shared by many writes; idle, nothing
is added to a write's latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Job = Callable[[Any], Any]
Outcome = tuple[Any, BaseException | None]


class Grouper:
    def __init__(self, run: Callable[[list[Job]], list[Outcome]], executor: Callable[[], Any], *, size: int = 64,
                 concurrency: int = 1) -> None:
        """``run(jobs)``: the jobs in one transaction, on the calling (worker) thread; one ``(result, error)``
        per job, in order. ``executor()``: where ``run`` is called (a ``concurrent.futures`` executor)."""
        self.run = run
        self.executor = executor
        self.size = max(1, size)
        self.concurrency = max(1, concurrency)
        self._queued: dict[asyncio.AbstractEventLoop, list[tuple[Job, asyncio.Future[Any]]]] = {}
        self._running: dict[asyncio.AbstractEventLoop, int] = {}
        self.groups = 0
        self.jobs = 0

    async def submit(self, fn: Callable[[Any], T]) -> T:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queued.setdefault(loop, []).append((fn, fut))
        self._start(loop)
        return await fut

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        queued = self._queued.get(loop)
        while queued and self._running.get(loop, 0) < self.concurrency:
            group, queued[:] = queued[: self.size], queued[self.size :]
            self._running[loop] = self._running.get(loop, 0) + 1
            loop.create_task(self._write(loop, group))
        if not queued:
            self._queued.pop(loop, None)

    async def _write(self, loop: asyncio.AbstractEventLoop, group: list[tuple[Job, asyncio.Future[Any]]]) -> None:
        try:
            outcomes = await loop.run_in_executor(self.executor(), self.run, [fn for fn, _ in group])
        except asyncio.CancelledError:
            for _, fut in group:
                fut.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - every writer of the group learns of it
            outcomes = [(None, exc)] * len(group)
        finally:
            self._running[loop] -= 1
            if not self._running[loop]:
                del self._running[loop]
        self.groups += 1
        self.jobs += len(group)
        for (_, fut), (result, error) in zip(group, outcomes, strict=True):
            if fut.done():
                continue
            if error is None:
                fut.set_result(result)
            else:
                fut.set_exception(error)
        self._start(loop)


__all__ = ["Grouper"]
