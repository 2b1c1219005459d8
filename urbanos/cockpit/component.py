"""The cockpit capability's component: alerts on Datastreams (:mod:`urbanos.cockpit.alerts`) and live dashboards
(:mod:`urbanos.cockpit.dashboards`). Every command of the ``urbanos`` CLI loads this module for its settings, so each
part's own modules are imported by the hook that needs them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.cockpit.alerts.settings import SETTINGS as ALERT_SETTINGS
from urbanos.cockpit.dashboards.settings import SETTINGS as DASHBOARD_SETTINGS
from urbanos.plugins import Component

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Migration


class CockpitComponent(Component):
    name = "cockpit"
    settings = ALERT_SETTINGS + DASHBOARD_SETTINGS

    def migrations(self) -> list[Migration]:
        from urbanos.cockpit.schema import MIGRATIONS

        return list(MIGRATIONS)

    def setup(self, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards

        alerts.setup(platform)
        dashboards.setup(platform)

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards

        alerts.mount(app, platform)
        dashboards.mount(app, platform)

    async def startup(self, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards

        await alerts.startup(platform)
        await dashboards.startup(platform)

    async def shutdown(self, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards

        await dashboards.shutdown(platform)
        await alerts.shutdown(platform)

    def openapi(self, platform: Platform) -> dict[str, Any]:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards.openapi import openapi_part

        ours, theirs = alerts.openapi(platform), openapi_part()
        return {"paths": {**ours.get("paths", {}), **theirs["paths"]},
                "components": ours.get("components", {}),
                "tags": [*ours.get("tags", []), *theirs["tags"]]}

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards

        return alerts.landing_links(platform) + dashboards.landing_links(platform)

    def demo(self, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards

        dashboards.demo(platform)
        alerts.demo(platform)

    async def demo_live(self, platform: Platform) -> None:
        from urbanos.cockpit.dashboards import wiring as dashboards

        await dashboards.demo_live(platform)
