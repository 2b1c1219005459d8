"""How the cockpit's alerts plug into the platform (called by :class:`urbanos.cockpit.component.CockpitComponent`).

``platform.services["alerts"]`` holds the :class:`~urbanos.cockpit.alerts.service.AlertService` (its ``engine.clock``
can be replaced to drive time) and ``platform.services["alerts_api"]`` the :class:`~urbanos.cockpit.alerts.api.AlertsApi`.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from urbanos.cockpit.alerts import routes, store
from urbanos.cockpit.alerts.api import AlertsApi
from urbanos.cockpit.alerts.openapi import openapi_part
from urbanos.cockpit.alerts.rules import parse_rule
from urbanos.cockpit.alerts.service import AlertService
from urbanos.ports import SensingPort

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Connection

log = logging.getLogger("urbanos.alerts")


def _service(platform: Platform) -> AlertService | None:
    svc = platform.services.get("alerts")
    return svc if isinstance(svc, AlertService) else None


def setup(platform: Platform) -> None:
    """Build the alerts' services."""
    service = AlertService(platform)
    platform.services["alerts"] = service
    platform.services["alerts_api"] = AlertsApi(platform, service)


def mount(app: Any, platform: Platform) -> None:
    """Add the alerts' routes."""
    api = platform.services.get("alerts_api")
    if isinstance(api, AlertsApi):
        routes.mount(app, platform, api)


async def startup(platform: Platform) -> None:
    """Load the rules, subscribe to the write path's events, start the timer loop."""
    service = _service(platform)
    if service is not None:
        await service.start()


async def shutdown(platform: Platform) -> None:
    """Record what is pending, write the rules' state back, stop the deliveries."""
    service = _service(platform)
    if service is not None:
        await service.stop()


def openapi(platform: Platform) -> dict[str, Any]:
    """The alerts' part of ``/openapi.json`` (for the component's ``openapi`` hook)."""
    return openapi_part()


def landing_links(platform: Platform) -> list[dict[str, str]]:
    return [{"title": "Alerts", "title_de": "Alarme", "href": "/alerts", "nav": "",
             "description": "Threshold and no-data alerts on sensor data streams, and their history (publishers).",
             "description_de": "Schwellenwert- und Keine-Daten-Alarme auf Sensor-Datenströmen und ihre Geschichte "
                               "(für Publisher)."}]


DEMO_RULE = {"name": "Busy pedestrian counter", "datastream": 1,
             "threshold": {"operator": ">=", "fire": 2000, "clear": 1500}, "pending_seconds": 0,
             "staleness_minutes": 120, "channels": {"mqtt": True}}


def demo(platform: Platform) -> None:
    """A rule on the demo's first pedestrian counter, with MQTT notifications (idempotent)."""
    sensing = platform.optional(SensingPort)
    if sensing is None:
        return
    values = parse_rule(DEMO_RULE)

    def tx(c: Connection) -> None:
        if store.count_rules(c) > 0:
            return
        owner = sensing.datastream_owner(c, 1)
        if owner is not None:
            store.insert_rule(c, values, owner, secrets.token_urlsafe(32), "demo", time.time())

    platform.db.write_sync(tx)


async def demo_live(platform: Platform) -> None:
    """The alerts' live demo work: none (the sensing simulators' Observations drive the demo rule)."""


__all__ = ["setup", "mount", "startup", "shutdown", "openapi", "landing_links", "demo", "demo_live"]
