"""Components: how capabilities plug into the platform.

Built-in capabilities register through the same :class:`Component` interface
that third-party packages use (entry point group ``urbanos.components``).
Components are loaded lazily by dotted name, so nothing is built at import time.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from urbanos.settings import CORE_SETTINGS, Setting, build_registry

if TYPE_CHECKING:
    import click
    from starlette.applications import Starlette

    from urbanos.platform import Platform
    from urbanos.storage import Migration

# Order matters: migrations run in this order (catalog owns metadata the others refer to).
BUILTIN = (
    "urbanos.catalog.component:CatalogComponent",
    "urbanos.features.component:FeaturesComponent",
    "urbanos.sensing.component:SensingComponent",
    "urbanos.privacy.component:PrivacyComponent",
    "urbanos.cockpit.component:CockpitComponent",
    "urbanos.connectors.component:ConnectorsComponent",
    "urbanos.participation.component:ParticipationComponent",
)


class Component:
    """A capability. Override what you need; every hook is optional."""

    name: str = ""
    settings: tuple[Setting, ...] = ()

    def migrations(self) -> list[Migration]:
        return []

    def setup(self, platform: Platform) -> None:
        """Build services (after the database is open and migrated); store them in ``platform.services``."""

    def mount(self, app: Starlette, platform: Platform) -> None:
        """Add routes and error renderers to the web app (import your ``routes`` module here)."""

    async def startup(self, platform: Platform) -> None:
        """Start background work (runs inside the app's event loop)."""

    async def shutdown(self, platform: Platform) -> None:
        """Stop background work."""

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        """Links for the landing page: dicts with title, href, description."""
        return []

    def openapi(self, platform: Platform) -> dict[str, Any]:
        """What this capability serves over HTTP, as a part of ``/openapi.json``: a dict with ``paths``, and
        optionally ``components`` and ``tags`` (OpenAPI 3.1). The web layer merges the parts on the first request
        for ``/openapi.json``; it prefixes the names of a part's components with the component's name (write
        ``#/components/schemas/Error``, not a name another part might use), and ``bearer`` in a security
        requirement is the platform's bearer token scheme."""
        return {}

    def cli_commands(self) -> list[click.Command]:
        return []

    def importers(self) -> list[Importer]:
        """File importers offered to ``urbanos import`` (the best-scoring one runs)."""
        return []

    def demo(self, platform: Platform) -> None:
        """Load demo data (idempotent). Runs synchronously before the demo server starts."""

    async def demo_live(self, platform: Platform) -> None:
        """Long-running demo work (simulated live feeds), started with the demo server."""


class Importer:
    """Loads a file into the platform. ``urbanos import PATH --dataset NAME`` picks the importer whose
    ``score(path)`` is highest (0 means it cannot read the file)."""

    name: str = ""
    description: str = ""

    def score(self, path: str) -> int:
        return 0

    def run(self, platform: Platform, path: str, dataset: str, options: dict[str, Any]) -> dict[str, Any]:
        """Import synchronously (show a progress bar on a TTY); return a report dict with counts."""
        raise NotImplementedError


def _load(spec: str) -> Component:
    module, _, attr = spec.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    return cls()  # type: ignore[no-any-return]


@functools.cache
def _installed() -> tuple[Any, ...]:
    """The components installed through entry points, found once per process (the search reads every installed
    package's metadata: about 4 ms, and the command line and each app ask several times)."""
    return tuple(entry_points(group="urbanos.components"))


def load_components(specs: Iterable[str] | None = None) -> list[Component]:
    """Instantiate the built-in components plus any installed through entry points."""
    comps: list[Component] = []
    names: set[str] = set()
    for spec in list(specs if specs is not None else BUILTIN):
        try:
            c = _load(spec)
        except ModuleNotFoundError as exc:
            if exc.name and spec.startswith(exc.name.rsplit(".", 1)[0]) and exc.name.endswith("component"):
                continue  # capability not present in this build
            raise
        comps.append(c)
        names.add(c.name)
    if specs is None:
        for ep in _installed():
            c = ep.load()()
            if c.name not in names:
                comps.append(c)
    return comps


def settings_registry(components: Iterable[Component] | None = None) -> dict[str, Setting]:
    comps = list(components) if components is not None else load_components()
    items: list[Setting] = list(CORE_SETTINGS)
    for c in comps:
        items.extend(c.settings)
    return build_registry(items)


__all__ = ["Component", "Importer", "BUILTIN", "load_components", "settings_registry"]
