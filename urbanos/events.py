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


Handler = Callable[[Event], Awaitable[None] | None]


class EventSink(Protocol):
    """Where storage hands committed events. Must be safe to call from any thread."""

    def publish(self, events: list[Event]) -> None: ...


__all__ = ["Event", "Kind", "Handler", "EventSink"]
