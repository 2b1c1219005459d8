"""What each process keeps in memory of consent and assessments, reloaded when the privacy stamp moves.

A poller reads the stamp every ``POLL_SECONDS`` (one primary-key read); a change made anywhere (another server
process, the command line) is seen within that time, a change made here at once. When the stamp cannot be read for
``STALE_SECONDS`` the consent transform fails closed (503) for consent-based datasets instead of serving from an old
state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from urbanos.privacy.retention.shared import read_stamp

if TYPE_CHECKING:
    from urbanos.storage import Connection, Database

log = logging.getLogger("urbanos.privacy.consent")
POLL_SECONDS = 0.25
STALE_SECONDS = 3.0


@dataclass(frozen=True)
class ConsentDataset:
    dataset: str
    org: str | None
    subject_field: str
    purpose: str
    recipient: str


@dataclass
class Snapshot:
    stamp: int = -1
    datasets: dict[str, ConsentDataset] = field(default_factory=dict)
    granted: frozenset[tuple[str, str, str]] = frozenset()
    """(principal, purpose, recipient) of every consent that holds."""
    blocked_properties: frozenset[int] = frozenset()
    """ObservedProperties marked person-related whose assessment is not approved."""


def load(c: Connection) -> Snapshot:
    stamp = read_stamp(c)
    datasets = {r[0]: ConsentDataset(r[0], r[1], r[2], r[3], r[4]) for r in c.fetchall(
        "SELECT dataset, org, subject_field, purpose, recipient FROM privacy_consent_datasets")}
    granted = frozenset((str(r[0]), str(r[1]), str(r[2])) for r in c.fetchall(
        "SELECT principal, purpose, recipient FROM privacy_consents WHERE state = 'granted'"))
    blocked = frozenset(int(r[0]) for r in c.fetchall(
        "SELECT m.ref FROM privacy_person_related m WHERE m.kind = 'observed_property' AND NOT EXISTS (SELECT 1 FROM"
        " privacy_dpias d WHERE d.kind = m.kind AND d.ref = m.ref AND d.state = 'approved')"))
    return Snapshot(stamp, datasets, granted, blocked)


class PrivacyState:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.snap = Snapshot()
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self.checked = time.monotonic()
        self.polling = False

    def reload_sync(self) -> None:
        snap = self.db.read_sync(load)
        with self._lock:
            self.snap = snap
            self.checked = time.monotonic()

    async def reload(self) -> None:
        snap = await self.db.read(load)
        with self._lock:
            self.snap = snap
            self.checked = time.monotonic()

    def stale(self) -> bool:
        return self.polling and time.monotonic() - self.checked > STALE_SECONDS

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            try:
                stamp = await self.db.read_one(read_stamp)
                if stamp != self.snap.stamp:
                    await self.reload()
                else:
                    self.checked = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - a database hiccup: fail closed after STALE_SECONDS, try again
                log.warning("could not read the privacy stamp", exc_info=True)

    def start(self) -> None:
        if self._task is None:
            self.polling = True
            self.checked = time.monotonic()
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self) -> None:
        task, self._task = self._task, None
        self.polling = False
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def subject_of(row: dict[str, Any], key: str) -> Any:
    """The subject id a row carries under ``key``: a top-level value, a feature's property or an Observation's
    parameter (None when it carries none)."""
    if key in row:
        return row[key]
    for holder in ("properties", "parameters"):
        inner = row.get(holder)
        if isinstance(inner, dict) and key in inner:
            return inner[key]
    return None


__all__ = ["PrivacyState", "Snapshot", "ConsentDataset", "load", "subject_of", "POLL_SECONDS"]
