"""Reading and writing at once: a run's reader (a coroutine on the event loop, fetching pages) hands what it read to
the run's writer (its one transaction, in the database's thread) while it fetches the next page.

The writer takes the items in order (``for item in pipe``) until the reader closes the pipe; a reader that fails
closes it with its error, which the writer raises (the transaction rolls back: nothing of the run is written). At
most ``depth`` items wait, so a fast reader does not fill the memory ahead of a slow writer. A writer that fails first
leaves the reader to be cancelled by the runner.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from urbanos.connectors.fetch import FeedError

WAIT_SECONDS = 0.5
"""How often a waiting writer looks whether the reader was stopped without closing the pipe."""


class _End:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class Pipe:
    """Items from the reader (:meth:`put`, :meth:`close`, on the event loop) to the writer (iteration, in a
    thread). Made on the event loop."""

    def __init__(self, depth: int = 2) -> None:
        self._items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._room = asyncio.Semaphore(depth)
        self._loop = asyncio.get_running_loop()
        self._closed = False

    async def put(self, item: Any) -> None:
        await self._room.acquire()
        self._items.put(item)

    def close(self, error: BaseException | None = None) -> None:
        """No more items; ``error``: the reader failed (the writer raises it). Only the first close counts."""
        if not self._closed:
            self._closed = True
            self._items.put(_End(error))

    async def feed(self, read: Callable[[Pipe], Awaitable[None]]) -> None:
        """Run the reader ``read(pipe)`` and close the pipe after it, with its error if it fails or is cancelled
        (never raises: the writer reports the error)."""
        try:
            await read(self)
        except asyncio.CancelledError:
            self.close(FeedError("the run was stopped while it read the feed"))
            raise
        except BaseException as exc:  # noqa: BLE001 - handed to the writer, which raises it in the run
            self.close(exc)
        else:
            self.close()

    def __iter__(self) -> Iterator[Any]:
        while True:
            try:
                item = self._items.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                if self._loop.is_closed():
                    raise FeedError("the run was stopped while it read the feed") from None
                continue
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            try:
                self._loop.call_soon_threadsafe(self._room.release)
            except RuntimeError:  # the loop has closed: nobody is reading any more
                raise FeedError("the run was stopped while it read the feed") from None
            yield item


__all__ = ["Pipe"]
