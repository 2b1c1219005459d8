"""What read paths hand to the privacy rules beside their rows (:class:`Release`), the rules' hook in the gate
(:class:`RulesHook`), the notes of what the rules did to an answer (:data:`RELEASE_NOTES`) and how the gate fails
closed when a rule cannot be evaluated (:func:`failing_closed`)."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from urbanos.errors import ServiceUnavailable, UrbanosError
from urbanos.governance.identity import Identity

log = logging.getLogger("urbanos.governance")


@dataclass(frozen=True)
class DatasetAccess:
    """What the gate needs to know about a dataset."""

    id: int
    name: str
    owner_org: str | None
    access_level: str


@dataclass(frozen=True)
class Release:
    """What a read path hands to the privacy rules beside its rows (:meth:`Gate.transform`).

    ``shape`` names the rows' form: ``sta:Observation``, ``sta:Thing``, ``sta:Datastream``, ``sta:MultiDatastream``
    (SensorThings JSON), ``feature`` (GeoJSON Features), ``datastore`` (flat records), ``datastore:sql``, ``download``
    (flat records of an export, in batches) or ``rows`` (anything else). ``meta`` (parallel to the rows, optional)
    tells what the path knows of each row: ``time`` (stored instant), ``point`` ((lon, lat)), ``value`` (number),
    ``datastream`` (id), ``collection`` (name); it may be a function, called only when a rule needs it. ``window(start, end)`` (optional) answers the ``meta`` of every row
    of the dataset whose time is in [start, end): a path that offers it can be released as complete aggregates.
    ``stream`` is true where rows go out one by one as they arrive (MQTT), so nothing can be aggregated."""

    shape: str = "rows"
    meta: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]] | None = None
    window: Callable[[str, str], list[dict[str, Any]]] | None = None
    stream: bool = False

    def rows_meta(self) -> list[dict[str, Any]] | None:
        return self.meta() if callable(self.meta) else self.meta


class RulesHook(Protocol):
    """The privacy rules (one per platform): rows in, the rows the caller may see out; raises an UrbanosError (403
    naming the rule) where the path cannot release the rows under a rule. ``applying`` names the rules that change
    what ``identity`` gets of ``ds`` (empty: it sees the rows as stored)."""

    def __call__(self, identity: Identity, ds: DatasetAccess, rows: list[dict[str, Any]],
                 release: Release) -> list[dict[str, Any]]: ...

    def applying(self, identity: Identity, ds: DatasetAccess) -> list[str]: ...

    def check(self, identity: Identity, ds: DatasetAccess, release: Release) -> None: ...

RELEASE_NOTES: contextvars.ContextVar[list[dict[str, Any]] | None] = contextvars.ContextVar("urbanos_release_notes",
                                                                                          default=None)
"""What the privacy rules did to the answer of the request being served (suppressed cells, aggregation), set to a
fresh list per request by the privacy capability's middleware; read into response headers."""


@contextlib.contextmanager
def failing_closed(ds: DatasetAccess) -> Iterator[None]:
    """Errors the rules raise on purpose pass; anything else becomes 503 naming the dataset (never the raw rows)."""
    try:
        yield
    except UrbanosError:
        raise
    except Exception as exc:
        log.exception("privacy rules of dataset %s could not be evaluated", ds.name)
        raise ServiceUnavailable(f"The privacy rules of dataset {ds.name!r} could not be evaluated; no data is served "
                                 "until they can be.", code="privacy_rule_unavailable") from exc


__all__ = ["DatasetAccess", "Release", "RulesHook", "RELEASE_NOTES", "failing_closed"]
