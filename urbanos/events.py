"""Domain events.

Storage collects events during a write and hands them to the bus only after the
transaction has committed. A rolled-back write publishes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Kind = Literal["created", "updated", "deleted"]


@dataclass(frozen=True)
class Event:
    """Something changed: ``kind`` of ``entity`` ``id``.

    ``data`` is a small JSON-able payload chosen by the capability (never secrets),
    ``dataset_id`` lets subscribers apply access rules, ``topic`` groups events
    (e.g. "sensing", "catalog").

    A **batch**: many entities of one kind created together with the same links and dataset (a feed's
    Observations of one Datastream) may come as one ``created`` event whose ``data["ids"]`` lists their ids in the
    order they were created (``id`` is the first of them). :func:`batch_ids` tells a batch apart;
    :func:`each` gives its single events, as they would have been emitted one by one.
    """

    kind: Kind
    entity: str
    id: Any
    topic: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    dataset_id: int | None = None
    changed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "entity": self.entity,
            "id": self.id,
            "topic": self.topic,
            "data": self.data,
            "dataset_id": self.dataset_id,
            "changed": list(self.changed),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        return cls(
            kind=d["kind"],
            entity=d["entity"],
            id=d["id"],
            topic=d.get("topic", ""),
            data=d.get("data") or {},
            dataset_id=d.get("dataset_id"),
            changed=tuple(d.get("changed") or ()),
        )


def batch_ids(ev: Event) -> list[Any] | None:
    """The ids of a batch event (see :class:`Event`), or None for an event of one entity."""
    if ev.kind != "created" or not isinstance(ev.data, dict):
        return None
    ids = ev.data.get("ids")
    return ids if isinstance(ids, list) else None


def batch(kind: Kind, entity: str, ids: list[Any], *, topic: str, data: dict[str, Any],
          dataset_id: int | None) -> Event:
    """One event for the entities ``ids`` (non-empty), created with the same ``data`` (their links)."""
    return Event(kind, entity, ids[0], topic=topic, data={**data, "ids": ids}, dataset_id=dataset_id)


def each(ev: Event) -> list[Event]:
    """The single events of a batch (sharing one ``data`` dict, which subscribers only read); ``[ev]`` for any
    other event. Built from a template: the frozen dataclass's ``__init__`` would cost more than a subscriber's work."""
    ids = batch_ids(ev)
    if ids is None:
        return [ev]
    data = {k: v for k, v in ev.data.items() if k != "ids"}
    template = {**ev.__dict__, "data": data}
    out = []
    new = object.__new__
    for i in ids:
        one = new(Event)
        fields = one.__dict__
        fields.update(template)
        fields["id"] = i
        out.append(one)
    return out


USAGE = "usage"
"""Topic of :class:`Usage` events: one per read of an API, delivered in the process that served it."""
USAGE_COUNTS = "usage.counts"
"""Topic of the aggregate usage rows the catalogue writes (one event per row and flush), for live dashboards."""

UsageKind = Literal["view", "download", "api_read", "search"]


@dataclass(frozen=True)
class Usage:
    """A read of data through an API, counted by the catalogue's usage statistics (anonymous aggregates).

    ``api`` names the interface (``sta``, ``mqtt``, ``ogcapi-features``, ``datastore``, ``ckan``, ``dcat``,
    ``download``, ``portal``); ``application`` the registered application (the token's name), never a person.
    Publish it with ``bus.deliver_local([usage.to_event()])``: each process counts the reads it served. ``count``: how
    many reads it stands for (an aggregate, such as the MQTT notifications delivered in a few seconds)."""

    kind: UsageKind
    api: str
    dataset: str = ""
    dataset_id: int | None = None
    resource: str = ""
    collection: str = ""
    action: str = ""
    application: str = ""
    count: int = 1

    def to_event(self) -> Event:
        data: dict[str, Any] = {
            "kind": self.kind, "api": self.api, "dataset": self.dataset, "resource": self.resource,
            "collection": self.collection, "action": self.action, "application": self.application}
        if self.count != 1:
            data["count"] = self.count
        return Event("created", "Usage", None, topic=USAGE, dataset_id=self.dataset_id, data=data)

    @classmethod
    def of(cls, ev: Event) -> Usage | None:
        """The usage an event carries, or None for any other event."""
        if ev.topic != USAGE or ev.entity != "Usage":
            return None
        d = ev.data
        kind = d.get("kind")
        if kind not in ("view", "download", "api_read", "search"):
            return None
        return cls(kind=kind, api=str(d.get("api") or ""), dataset=str(d.get("dataset") or ""),
                   dataset_id=ev.dataset_id, resource=str(d.get("resource") or ""),
                   collection=str(d.get("collection") or ""), action=str(d.get("action") or ""),
                   application=str(d.get("application") or ""), count=int(d.get("count") or 1))


Handler = Callable[[Event], Awaitable[None] | None]


class EventSink(Protocol):
    """Where storage hands committed events. Must be safe to call from any thread."""

    def publish(self, events: list[Event]) -> None: ...


__all__ = ["Event", "batch", "batch_ids", "each", "Kind", "Handler", "EventSink", "Usage", "UsageKind", "USAGE", "USAGE_COUNTS"]
