"""The cockpit capability's component: alerts on Datastreams (:mod:`urbanos.cockpit.alerts`), live dashboards
(:mod:`urbanos.cockpit.dashboards`) and the usage cockpit (:mod:`urbanos.cockpit.usage`). Every command of the ``urbanos`` CLI loads this module for its settings, so each
part's own modules are imported by the hook that needs them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.cockpit.alerts.settings import SETTINGS as ALERT_SETTINGS
from urbanos.cockpit.dashboards.settings import SETTINGS as DASHBOARD_SETTINGS
from urbanos.cockpit.usage.settings import SETTINGS as USAGE_SETTINGS
from urbanos.plugins import Component

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Migration


class CockpitComponent(Component):
    name = "cockpit"
    settings = ALERT_SETTINGS + DASHBOARD_SETTINGS + USAGE_SETTINGS

    def migrations(self) -> list[Migration]:
        from urbanos.cockpit.schema import MIGRATIONS

        return list(MIGRATIONS)

    def setup(self, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards
        from urbanos.cockpit.showcases import wiring as showcases

        alerts.setup(platform)
        dashboards.setup(platform)
        showcases.setup(platform)

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards
        from urbanos.cockpit.showcases import wiring as showcases
        from urbanos.cockpit.usage import wiring as usage

        alerts.mount(app, platform)
        dashboards.mount(app, platform)
        usage.mount(app, platform)
        showcases.mount(app, platform)

    async def startup(self, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards
        from urbanos.cockpit.usage import wiring as usage

        await alerts.startup(platform)
        await dashboards.startup(platform)
        await usage.startup(platform)

    async def shutdown(self, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards

        await dashboards.shutdown(platform)
        await alerts.shutdown(platform)

    def openapi(self, platform: Platform) -> dict[str, Any]:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards.openapi import openapi_part
        from urbanos.cockpit.showcases import wiring as showcases
        from urbanos.cockpit.usage import wiring as usage

        ours, theirs, used = alerts.openapi(platform), openapi_part(), usage.openapi(platform)
        shown = showcases.openapi(platform)
        return {"paths": {**ours.get("paths", {}), **theirs["paths"], **used["paths"], **shown["paths"]},
                "components": ours.get("components", {}),
                "tags": [*ours.get("tags", []), *theirs["tags"], *used["tags"], *shown["tags"]]}

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards
        from urbanos.cockpit.showcases import wiring as showcases
        from urbanos.cockpit.usage import wiring as usage

        return (alerts.landing_links(platform) + dashboards.landing_links(platform) + usage.landing_links(platform)
                + showcases.landing_links(platform))

    def demo(self, platform: Platform) -> None:
        from urbanos.cockpit.alerts import wiring as alerts
        from urbanos.cockpit.dashboards import wiring as dashboards
        from urbanos.cockpit.showcases import wiring as showcases
        from urbanos.cockpit.usage import wiring as usage

        dashboards.demo(platform)
        alerts.demo(platform)
        usage.demo(platform)
        showcases.demo(platform)

    async def demo_live(self, platform: Platform) -> None:
        from urbanos.cockpit.dashboards import wiring as dashboards

        await dashboards.demo_live(platform)
