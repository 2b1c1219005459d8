"""The sensing capability: SensorThings API v1.1 and v1.0 over HTTP (MQTT in ``urbanos.sensing.mqtt``).

It provides :class:`urbanos.ports.SensingPort`. Every command of the ``urbanos`` CLI loads this module for its
settings, so the capability's own modules (the service and its SQL, shapely, the web routes, the demo importer) are
imported by the hook that needs them; none of them imports this module back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.plugins import Component, Importer
from urbanos.ports import SensingPort
from urbanos.sensing.mqtt import SETTINGS as MQTT_SETTINGS
from urbanos.settings import Setting

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Migration

SETTINGS = (
    Setting("sta_max_top", int, 1000, "Largest $top a SensorThings request may ask for.", section="sensing", minimum=1),
    Setting("sta_default_top", int, 100, "Page size of SensorThings collections without $top.", section="sensing", minimum=1),
    Setting("sta_count_mode", str, "exact", "How $count=true counts: exact, or estimate beyond sta_count_cap "
            "(PostgreSQL planner estimate).", section="sensing", choices=("exact", "estimate")),
    Setting("sta_count_cap", int, 0, "Count at most this many rows for $count (0: no cap).", section="sensing", minimum=0),
    Setting("sta_max_batch", int, 1000, "Most requests in one $batch.", section="sensing", minimum=1),
    Setting("sta_expand_max_entities", int, 20000, "Most entities $expand may read in one request (all levels "
            "together); beyond it the request is a 400 that suggests $top inside $expand.", section="sensing", minimum=1),
    Setting("sta_expand_max_queries", int, 2000, "Most queries $expand may run in one request (one per expanded "
            "parent and level); beyond it the request is a 400 that suggests $top inside $expand.", section="sensing",
            minimum=1),
    Setting("sta_partition_months", int, 12, "Width in months of each time-range partition of the Observations table "
            "(PostgreSQL only; partitions made before keep their width).", section="sensing", minimum=1),
    Setting("sta_partitions_ahead", int, 1, "How many partitions of Observations after the current one are kept "
            "created ahead, at start and hourly (PostgreSQL only).", section="sensing", minimum=1),
)


class SensingComponent(Component):
    name = "sensing"
    settings = SETTINGS + MQTT_SETTINGS

    def migrations(self) -> list[Migration]:
        from urbanos.sensing.schema import MIGRATIONS

        return list(MIGRATIONS)

    def setup(self, platform: Platform) -> None:
        from urbanos.sensing.service import SensingService

        platform.provide(SensingPort, SensingService(platform))

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.sensing import routes
        from urbanos.sensing.fast import CreateFastPath
        from urbanos.sensing.mqtt import wiring

        routes.mount(app, platform)
        app.add_middleware(CreateFastPath, platform=platform)
        wiring.mount(app, platform)

    async def startup(self, platform: Platform) -> None:
        from urbanos.sensing.mqtt import wiring

        await wiring.startup(platform)
        if platform.db.dialect.name == "postgresql":
            import asyncio

            from urbanos.sensing.partitions import keep_ahead

            platform.services["sta_partitions_task"] = asyncio.get_running_loop().create_task(keep_ahead(platform))

    async def shutdown(self, platform: Platform) -> None:
        from urbanos.sensing.mqtt import wiring

        await wiring.shutdown(platform)
        task = platform.services.pop("sta_partitions_task", None)
        if task is not None:
            task.cancel()

    def openapi(self, platform: Platform) -> dict[str, Any]:
        from urbanos.sensing.openapi import openapi_fragment

        s = platform.settings
        return openapi_fragment(int(s.sta_max_top), int(s.sta_default_top), int(s.sta_max_batch))

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        return [{"title": "SensorThings API", "href": "/sta/v1.1/",
                 "description": "Real-time sensor data (OGC SensorThings API v1.1; v1.0 at /sta/v1.0/).",
                 "description_de": "Sensordaten in Echtzeit (OGC SensorThings API v1.1; v1.0 unter /sta/v1.0/)."}]

    def cli_commands(self) -> list[Any]:
        from urbanos.sensing.cli import commands

        return commands()

    def importers(self) -> list[Importer]:
        from urbanos.sensing.melbourne import MelbourneImporter

        return [MelbourneImporter()]

    def demo(self, platform: Platform) -> None:
        from urbanos.sensing.melbourne import load_demo

        load_demo(platform)

    async def demo_live(self, platform: Platform) -> None:
        from urbanos.sensing.melbourne import live

        await live(platform)


__all__ = ["SensingComponent", "SETTINGS"]
