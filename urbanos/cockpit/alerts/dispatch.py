"""Deliveries in the background: each notification of each channel is a task that tries, records and backs off.

A delivery is tried up to ``alerts_webhook_attempts`` times; after a failed attempt it waits
``alerts_webhook_backoff`` seconds, then twice as long before each further attempt (exponential back-off). Every attempt
is recorded on the delivery (``attempts``, ``status``: ``pending`` → ``retrying`` → ``delivered`` or ``failed``,
``last_error``), which the episode shows. At most ``CONCURRENCY`` deliveries run at once, and the deliveries to one
place (a webhook URL, a topic, a list of recipients) one after the other, in the order of their episodes' events.
None of them runs on the write path, so a slow or failing receiver never slows ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from urbanos.cockpit.alerts import store
from urbanos.cockpit.alerts.channels import DeliveryFailed, post_webhook, send_mail
from urbanos.ports import MessagePort

if TYPE_CHECKING:
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.alerts")

CONCURRENCY = 32


@dataclass(frozen=True)
class Job:
    """One delivery: its row id, channel, where it goes (URL, topic, recipients) and what it carries."""

    delivery_id: int
    channel: str
    target: str
    body: bytes
    secret: str = ""
    dataset_id: int | None = None
    mail: tuple[str, str] | None = None
    recorded: bool = False  # already recorded as delivered: only a failure is written


class Dispatcher:
    def __init__(self, platform: Platform, clock: Callable[[], float]) -> None:
        self.platform = platform
        self.clock = clock
        s = platform.settings
        self.attempts = int(s.get("alerts_webhook_attempts", 6))
        self.backoff = float(s.get("alerts_webhook_backoff", 2.0))
        self.timeout = float(s.get("alerts_webhook_timeout", 10.0))
        self.running: set[asyncio.Task[None]] = set()
        self.chains: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._slots: asyncio.Semaphore | None = None

    def submit(self, job: Job) -> None:
        """Deliver ``job`` in the background, after the deliveries submitted before it to the same place (a channel's
        notifications arrive in order: never a "resolved" before its "fired")."""
        key = (job.channel, job.target)
        before = self.chains.get(key)
        task = asyncio.get_running_loop().create_task(self._after(before, job))
        self.chains[key] = task
        self.running.add(task)
        task.add_done_callback(lambda t: self._done(key, t))

    def _done(self, key: tuple[str, str], task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        if self.chains.get(key) is task:
            del self.chains[key]

    async def _after(self, before: asyncio.Task[None] | None, job: Job) -> None:
        if before is not None:
            await asyncio.wait([before])
        await self._run(job)

    async def idle(self) -> None:
        """Wait until every delivery submitted so far has finished (delivered or failed)."""
        while self.running:
            await asyncio.gather(*list(self.running), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self.running):
            task.cancel()
        for task in list(self.running):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self, job: Job) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(CONCURRENCY)
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                async with self._slots:
                    await self._send(job)
            except DeliveryFailed as exc:
                final = exc.final or attempt >= self.attempts
                await self._note(job, "failed" if final else "retrying", attempt, str(exc))
                if final:
                    log.warning("alerts: delivery %d (%s) failed: %s", job.delivery_id, job.channel, exc)
                    return
                await asyncio.sleep(delay)
                delay *= 2
                continue
            except Exception as exc:  # noqa: BLE001 - recorded on the delivery, never raised into the loop
                await self._note(job, "failed", attempt, f"{type(exc).__name__}: {str(exc)[:200]}")
                log.exception("alerts: delivery %d failed", job.delivery_id)
                return
            if not (job.recorded and attempt == 1):
                await self._note(job, "delivered", attempt, None)
            return

    async def _note(self, job: Job, status: str, attempts: int, error: str | None) -> None:
        now = self.clock()
        with contextlib.suppress(Exception):
            await self.platform.db.write(lambda c: store.record_delivery(c, job.delivery_id, status, attempts, error,
                                                                         now))

    async def _send(self, job: Job) -> None:
        if job.channel == "webhook":
            await post_webhook(self.platform.gate.outbound, job.target, job.body, job.secret, timeout=self.timeout,
                               headers={"X-Urbanos-Delivery": str(job.delivery_id)})
        elif job.channel == "mqtt":
            messages = self.platform.optional(MessagePort)
            if messages is None:
                raise DeliveryFailed("the platform has no MQTT broker", final=True)
            await messages.publish(job.target, job.body, job.dataset_id)
        elif job.channel == "email" and job.mail is not None:
            subject, text = job.mail
            await asyncio.to_thread(send_mail, self.platform.settings, job.target.split(", "), subject, text,
                                    timeout=self.timeout)


__all__ = ["Job", "Dispatcher", "CONCURRENCY"]
