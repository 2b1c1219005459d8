"""The in-process bus: handlers on the app's loop, and a stop that lets running handlers finish."""

from __future__ import annotations

import asyncio

from urbanos.bus import MemoryBus
from urbanos.events import Event


def _event() -> Event:
    return Event("created", "Resource", "r1", topic="catalog")


def test_stop_lets_running_handlers_finish() -> None:
    finished: list[str] = []

    async def slow(ev: Event) -> None:
        await asyncio.sleep(0.2)
        finished.append(str(ev.id))

    async def run() -> None:
        bus = MemoryBus()
        bus.subscribe(slow, topic="catalog")
        await bus.start()
        bus.publish([_event()])
        await asyncio.sleep(0)  # the handler starts
        await bus.stop()

    asyncio.run(run())
    assert finished == ["r1"]


def test_stop_cancels_handlers_past_the_grace_period() -> None:
    cancelled: list[bool] = []

    async def endless(ev: Event) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def run() -> None:
        bus = MemoryBus()
        bus.STOP_GRACE_SECONDS = 0.1
        bus.subscribe(endless)
        await bus.start()
        bus.publish([_event()])
        await asyncio.sleep(0)
        await bus.stop()
        await asyncio.sleep(0)  # the cancellation is delivered

    asyncio.run(run())
    assert cancelled == [True]
