"""The one interface every connector type implements, and what a run hands it.

A type reads (``collect``: fetch and parse, no writes) and returns :class:`Writes`; the runner applies them in one
database transaction together with the connector's own bookkeeping, so a run that fails writes nothing. A type that
receives pushes (the webhook) reads a body instead of fetching (``collect_body``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from urbanos.errors import BadRequest

if TYPE_CHECKING:
    from urbanos.connectors.fetch import Fetcher
    from urbanos.connectors.owner import Dataset
    from urbanos.connectors.store import Connector
    from urbanos.governance import Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection

Progress = Callable[[int, int], None]


@dataclass
class Counts:
    """What a run did, counted by item (a station, a row, an Observation, a feature)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def fail(self, message: str, n: int = 1) -> None:
        self.failed += n
        self.note(message)

    def note(self, message: str) -> None:
        """A line for the run log's errors that is not a failed item (what a run left aside, and why)."""
        if len(self.errors) < 10:
            self.errors.append(message[:500])

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged, "failed": self.failed}


@dataclass
class Job:
    """One run of one connector: who it writes as, into which dataset, with which client and clock."""

    platform: Platform
    connector: Connector
    identity: Identity
    dataset: Dataset
    fetcher: Fetcher | None
    now: datetime
    state: dict[str, Any] = field(default_factory=dict)
    progress: Progress | None = None

    def tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


class Writes(Protocol):
    """What a run writes. One may also have ``reading``: a coroutine function the runner runs beside ``apply``,
    which goes on reading the feed while ``apply`` writes what it has read (:mod:`urbanos.connectors.pipe`)."""

    def apply(self, c: Connection, job: Job, counts: Counts) -> None:
        """Write, in the run's transaction (raise to roll the whole run back)."""
        ...


class NoWrites:
    def apply(self, c: Connection, job: Job, counts: Counts) -> None:
        return None


class ConnectorType:
    """A kind of connector. ``check`` validates the URL and mapping at configuration and returns the mapping as
    stored; ``collect`` reads the feed; ``collect_body`` reads a pushed body."""

    name: str = ""
    pulls: bool = True

    def check(self, url: str, mapping: Any) -> dict[str, Any]:
        return dict(mapping or {}) if isinstance(mapping, dict) else {}

    async def collect(self, job: Job) -> Writes:
        return NoWrites()

    async def collect_body(self, job: Job, body: bytes, content_type: str) -> Writes:
        raise BadRequest(f"A {self.name} connector does not receive pushes.")


__all__ = ["Counts", "Job", "Writes", "NoWrites", "ConnectorType", "Progress"]
