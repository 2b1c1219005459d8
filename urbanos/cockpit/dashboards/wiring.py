"""How the cockpit's dashboards plug into the platform (called by :class:`urbanos.cockpit.component.CockpitComponent`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from urbanos.platform import Platform


def setup(platform: Platform) -> None:
    """Build the dashboards' services."""


def mount(app: Any, platform: Platform) -> None:
    """Add the dashboards' routes."""


async def startup(platform: Platform) -> None:
    """Start the dashboards' background work."""


async def shutdown(platform: Platform) -> None:
    """Stop the dashboards' background work."""


def landing_links(platform: Platform) -> list[dict[str, str]]:
    return []


def demo(platform: Platform) -> None:
    """Load the dashboards' demo data (idempotent)."""


async def demo_live(platform: Platform) -> None:
    """The dashboards' live demo work."""
