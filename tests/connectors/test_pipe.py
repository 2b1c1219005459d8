"""The pipe between a run's reader (on the event loop) and its writer (in a thread): items in order, at most
``depth`` waiting, the reader's failure raised in the writer, a stopped reader never leaving the writer waiting."""

from __future__ import annotations

import asyncio

import pytest

from urbanos.connectors.fetch import FeedError
from urbanos.connectors.pipe import Pipe


def _writer(pipe: Pipe) -> list[int]:
    return list(pipe)


def test_items_arrive_in_order_with_bounded_room() -> None:
    async def main() -> tuple[list[int], int]:
        pipe = Pipe(depth=2)
        most = [0]

        async def read(p: Pipe) -> None:
            for i in range(50):
                await p.put(i)
                most[0] = max(most[0], p._items.qsize())

        writing = asyncio.get_running_loop().run_in_executor(None, _writer, pipe)
        await pipe.feed(read)
        return await writing, most[0]

    got, most = asyncio.run(main())
    assert got == list(range(50)) and most <= 2


def test_the_readers_failure_is_raised_in_the_writer() -> None:
    async def main() -> None:
        pipe = Pipe()

        async def read(p: Pipe) -> None:
            await p.put(1)
            raise FeedError("page 2: not valid JSON")

        writing = asyncio.get_running_loop().run_in_executor(None, _writer, pipe)
        await pipe.feed(read)
        with pytest.raises(FeedError, match="page 2"):
            await writing

    asyncio.run(main())


def test_a_cancelled_reader_stops_the_writer_and_a_failed_writer_lets_the_reader_be_cancelled() -> None:
    async def main() -> None:
        pipe = Pipe(depth=1)

        async def read(p: Pipe) -> None:
            while True:
                await p.put(0)  # nobody takes: waits for room

        reader = asyncio.ensure_future(pipe.feed(read))
        await asyncio.sleep(0.05)
        reader.cancel()  # what the runner does when the write failed first
        with pytest.raises(asyncio.CancelledError):
            await reader
        with pytest.raises(FeedError, match="stopped"):
            await asyncio.get_running_loop().run_in_executor(None, _writer, pipe)

    asyncio.run(main())
