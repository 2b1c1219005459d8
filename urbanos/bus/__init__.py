"""The event bus: storage publishes committed events, subscribers react.

``MemoryBus`` serves one process. A cross-process bus (PostgreSQL LISTEN/NOTIFY
or Redis) implements the same :class:`Bus` interface, so several workers see
each other's events.
"""

from __future__ import annotations

from urbanos.bus.base import Bus, MemoryBus

__all__ = ["Bus", "MemoryBus"]
