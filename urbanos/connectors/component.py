"""The connectors capability's component: its settings, migrations and hooks. Every command of the ``urbanos`` CLI loads
this module, so the capability's own modules are imported by the hook that needs them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from urbanos.plugins import Component
from urbanos.settings import Setting

if TYPE_CHECKING:
    import click

    from urbanos.platform import Platform
    from urbanos.storage import Migration

SETTINGS = (
    Setting("connectors_scheduler", bool, True, "Run due connectors in the server process (off: only `urbanos worker` "
            "runs them).", section="connectors"),
    Setting("connectors_tick_seconds", float, 5.0, "Seconds between two looks of the scheduler for due connectors.",
            section="connectors", minimum=0.05),
    Setting("connectors_concurrency", int, 4, "Connector runs one process runs at once.", section="connectors", minimum=1),
    Setting("connectors_lease_seconds", float, 60.0, "Seconds a run's lease lasts before it is renewed (a process that "
            "dies gives its connectors back after this).", section="connectors", minimum=1),
    Setting("connectors_retries", int, 2, "Retries of a run whose feed could not be reached (unreachable, slow, HTTP "
            "5xx or 429).", section="connectors", minimum=0),
    Setting("connectors_backoff_seconds", float, 2.0, "Wait before the first retry; doubled for each further one, plus "
            "up to half again at random.", section="connectors", minimum=0),
    Setting("connectors_unhealthy_after", int, 3, "Failed runs in a row after which a connector is marked unhealthy.",
            section="connectors", minimum=1),
    Setting("connectors_max_bytes", int, 50 * 1024 * 1024, "Largest feed a connector fetches, in bytes.",
            section="connectors", minimum=1),
    Setting("connectors_timeout", float, 30.0, "Seconds a connector's fetch waits to connect or for more data.",
            section="connectors", minimum=0.1),
    Setting("connectors_transfer_seconds", float, 120.0, "Longest time one fetch of a connector may take.",
            section="connectors", minimum=0.1),
    Setting("connectors_gtfs_max_unzipped_bytes", int, 512 * 1024 * 1024, "Largest size a member of a GTFS zip, and "
            "the members a gtfs connector reads together, may unzip to, in bytes (checked before extracting).",
            section="connectors", minimum=1),
    Setting("connectors_file", str, "", "A TOML file of [connector.NAME] tables (the members of POST /connectors): "
            "the server creates or updates these connectors when it starts (empty: none).", section="connectors"),
    Setting("connectors_webhook_max_bytes", int, 1024 * 1024, "Largest body a webhook connector accepts, in bytes.",
            section="connectors", minimum=1),
)


class ConnectorsComponent(Component):
    name = "connectors"
    settings = SETTINGS

    def migrations(self) -> list[Migration]:
        from urbanos.connectors.schema import MIGRATIONS

        return list(MIGRATIONS)

    def setup(self, platform: Platform) -> None:
        from urbanos.connectors.service import ConnectorService

        platform.services["connectors"] = ConnectorService(platform)
        from urbanos.connectors.health import provide  # the health port, for the cockpit's freshness view
        provide(platform)

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.connectors import routes

        routes.mount(app, platform)

    def openapi(self, platform: Platform) -> dict[str, Any]:
        from urbanos.connectors.openapi import openapi_part

        return openapi_part()

    async def startup(self, platform: Platform) -> None:
        from urbanos.connectors import demo

        service = platform.services["connectors"]
        if platform.settings.connectors_file:
            from urbanos.connectors import declared

            await declared.apply(service, Path(str(platform.settings.connectors_file)))
        if platform.services.get("demo"):
            demo.trust_own_feed(platform, service.runner)
        if platform.settings.connectors_scheduler:
            service.scheduler.start()

    async def shutdown(self, platform: Platform) -> None:
        service = platform.services.get("connectors")
        if service is not None:
            await service.scheduler.stop()
            await service.runner.live.stop_all()

    def cli_commands(self) -> list[click.Command]:
        from urbanos.connectors.cli import connector, worker

        return [connector, worker]

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        return [{"title": "Delivery systems", "title_de": "Zuliefersysteme", "href": "/connectors", "nav": "",
                 "description": "Connectors that keep city data flowing in, their schedules and last runs (publishers).",
                 "description_de": "Konnektoren, die Daten der Stadt laufend liefern, ihre Zeitpläne und letzten Läufe "
                                   "(für Publisher)."}]

    def demo(self, platform: Platform) -> None:
        from urbanos.connectors import demo

        demo.load_demo(platform)


__all__ = ["ConnectorsComponent", "SETTINGS"]
