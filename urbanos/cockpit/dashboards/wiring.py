"""How the cockpit's dashboards plug into the platform (called by :class:`urbanos.cockpit.component.CockpitComponent`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from urbanos.cockpit.dashboards import demo as demo_data
from urbanos.cockpit.dashboards import routes, simulate
from urbanos.cockpit.dashboards.service import DashboardService

if TYPE_CHECKING:
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.cockpit.dashboards")


def setup(platform: Platform) -> None:
    """Build the dashboards' services."""
    platform.services["dashboards"] = DashboardService(platform)


def mount(app: Any, platform: Platform) -> None:
    """Add the dashboards' routes."""
    routes.mount(app, platform)


async def startup(platform: Platform) -> None:
    """Read the dashboard files and check them, so that their problems are logged at start."""
    svc = platform.services.get("dashboards")
    if svc is None:
        return
    try:
        await svc.refresh(force=True)
    except Exception:  # noqa: BLE001 - the pages read the files again; a start never fails on a dashboard
        log.exception("dashboard files could not be checked")


async def shutdown(platform: Platform) -> None:
    """Stop the dashboards' background work (there is none besides the demo's feeds, which the platform stops)."""


def landing_links(platform: Platform) -> list[dict[str, str]]:
    return [{"title": "Dashboards", "href": "/dashboards", "title_de": "Dashboards",
             "description": "Live views of sensors and data: maps, charts, key figures and tables.",
             "description_de": "Live-Ansichten von Sensoren und Daten: Karten, Diagramme, Kennzahlen und Tabellen."}]


def demo(platform: Platform) -> None:
    """Load the dashboards' demo data (idempotent): the parking, bins and air-quality sensors and the demo's
    dashboard files."""
    demo_data.load(platform)


async def demo_live(platform: Platform) -> None:
    """The dashboards' live demo work: simulated parking, bins and air quality."""
    await simulate.run(platform)
