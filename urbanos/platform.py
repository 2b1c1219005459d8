"""The platform object: settings, database, bus, gate and components of one app."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

from prometheus_client import CollectorRegistry

from urbanos.bus import Bus, MemoryBus
from urbanos.errors import ConfigError
from urbanos.governance import Gate
from urbanos.governance.migrations import MIGRATIONS as GOVERNANCE_MIGRATIONS
from urbanos.settings import Settings
from urbanos.storage import Database, Migration, open_database, upgrade

if TYPE_CHECKING:
    from typing_extensions import TypeForm  # a Protocol is no concrete type[P] to mypy (PEP 747)

    from urbanos.events import Event
    from urbanos.plugins import Component

log = logging.getLogger("urbanos")
P = TypeVar("P")


def make_bus(settings: Settings, db: Database) -> Bus:
    kind = settings.bus
    if kind == "memory":
        return MemoryBus()
    if kind == "postgres" or kind.startswith("redis://"):
        from urbanos.bus.remote import make_remote_bus

        return make_remote_bus(settings, db)
    raise ConfigError(f"setting URBANOS_BUS: {kind!r} is not a bus. Fix: use memory, postgres or a redis:// URL.")


@dataclass
class Platform:
    settings: Settings
    db: Database
    bus: Bus
    gate: Gate
    components: list[Component]
    services: dict[str, Any] = field(default_factory=dict)
    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))
    opened: bool = False
    ports: dict[object, object] = field(default_factory=dict)
    contributed: dict[object, list[object]] = field(default_factory=dict)

    # -- contracts between capabilities (urbanos.ports) -----------------------------------------------------
    def provide(self, port: TypeForm[P], impl: P) -> None:
        """Register ``impl`` as this platform's implementation of ``port`` (a Protocol of :mod:`urbanos.ports`);
        a capability does this in its ``setup``."""
        if port in self.ports and self.ports[port] is not impl:
            raise ConfigError(f"{port.__name__} is provided twice; a platform has one provider per contract.")
        self.ports[port] = impl

    def require(self, port: TypeForm[P]) -> P:
        """The implementation of ``port``; ConfigError naming the contract when no capability provides it."""
        impl = self.ports.get(port)
        if impl is None:
            raise ConfigError(f"No capability provides {port.__name__}. Fix: install and enable the capability that "
                              "implements it (see docs/architecture.md).")
        return cast(P, impl)

    def optional(self, port: TypeForm[P]) -> P | None:
        """The implementation of ``port``, or None: for what a platform may run without (extra CKAN actions)."""
        return cast("P | None", self.ports.get(port))

    def contribute(self, port: TypeForm[P], impl: P) -> None:
        """Add ``impl`` to the contributions to an additive contract (:class:`urbanos.ports.CkanActionsPort`: each
        capability that serves CKAN actions of its own adds them here, besides the one provider)."""
        self.contributed.setdefault(port, []).append(impl)

    def contributions(self, port: TypeForm[P]) -> list[P]:
        """The provider of ``port`` (when there is one) and then every contribution to it, in setup order."""
        first = [cast(P, self.ports[port])] if port in self.ports else []
        return first + [cast(P, impl) for impl in self.contributed.get(port, [])]

    @classmethod
    def build(cls, settings: Settings, components: list[Component]) -> Platform:
        db = open_database(settings)
        bus = make_bus(settings, db)
        db.sink = bus
        return cls(settings=settings, db=db, bus=bus, gate=Gate(settings, db), components=components)

    def migrations(self) -> list[Migration]:
        out = list(GOVERNANCE_MIGRATIONS)
        for c in self.components:
            out.extend(c.migrations())
        return out

    def open(self) -> None:
        """Open the database, run migrations and set up every component."""
        if self.opened:
            return
        self.db.open()
        try:
            upgrade(self.db, self.migrations())
            # a token revoked in another process (a worker, the command line through the database's bus) stops
            # counting here as soon as its event arrives, not only at the gate's next credentials check
            self.bus.subscribe(self._on_governance, topic="governance")
            for c in self.components:
                c.setup(self)
        except Exception:
            self.db.close()
            raise
        self.opened = True

    def _on_governance(self, ev: Event) -> None:
        if ev.entity == "ApiToken" and ev.kind == "deleted":
            self.gate.forget_tokens()

    async def start(self) -> None:
        await self.bus.start()
        for c in self.components:
            await c.startup(self)
        if self.services.get("demo"):  # `urbanos demo`: start the simulated live feeds
            loop = asyncio.get_running_loop()
            self.services["demo_tasks"] = [loop.create_task(c.demo_live(self)) for c in self.components]

    async def stop(self) -> None:
        for task in self.services.pop("demo_tasks", []):
            task.cancel()
        for c in reversed(self.components):
            try:
                await c.shutdown(self)
            except Exception:  # noqa: BLE001
                log.exception("component %s failed to stop", c.name)
        await self.bus.stop()

    def close(self) -> None:
        self.gate.close()
        if self.opened:
            self.db.close()
            self.opened = False





def render_html(platform: Platform, template: str, **context: Any) -> str:
    """Render a page with the shared layout. ``web`` installs the Jinja environment at app creation, with the
    filters for untrusted data: ``tojson_script`` / ``json_text_script`` for JSON inside ``<script>`` and
    ``safe_href`` for stored links. Pages carry no inline script (the Content-Security-Policy refuses it)."""
    env = platform.services["jinja"]
    base = {
        "city_name": platform.settings.city_name,
        "attribution": platform.settings.attribution,
        "nav": platform.services.get("nav", []),
        "map_tile_url": platform.settings.get("map_tile_url") or "",
    }
    base.update(context)
    return str(env.get_template(template).render(**base))
__all__ = ["Platform", "make_bus", "render_html"]
