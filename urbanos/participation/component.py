"""The participation capability's component: its settings, migrations and hooks. Every command of the ``urbanos`` CLI
loads this module, so the capability's own modules are imported by the hook that needs them.

Open311 GeoReport v2 lives in ``open311/``; participatory budgets are built in ``budget/`` and wired in beside it
(``budget/wiring.py``: its settings, migrations, services, routes and demo join the hooks below), and planning
projects with map contributions in ``planning/`` (``planning/wiring.py``, alike)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.plugins import Component
from urbanos.ports import PersonalDataPort
from urbanos.settings import Setting

if TYPE_CHECKING:
    import click

    from urbanos.platform import Platform
    from urbanos.storage import Migration

SETTINGS = (
    Setting("participation_posts_per_minute", int, 30, "Posts one API token (or budget voter key) may send a minute: "
            "Open311 service requests, planning contributions, comments and ratings, budget ballots, together (a "
            "burst of this many, then one every 60/N seconds); more answer 429 with Retry-After.",
            section="participation", minimum=1),
    Setting("participation_posts_per_minute_per_address", int, 60, "Posts one client address may send a minute: "
            "the same kinds, the report, contribution and ballot forms and letter codes included.",
            section="participation", minimum=1),
    Setting("participation_media_max_bytes", int, 8 * 1024 * 1024, "Largest photo a service request may upload, in "
            "bytes.", section="participation", minimum=1024),
    Setting("participation_open_data_org", str, "", "Organisation (its name in the catalogue) that publishes the "
            "Open311 service requests as the open dataset open311-requests (an OGC API Features collection, CSV and "
            "GeoJSON; coarsened locations, no contact details); empty: not published.", section="participation"),
    Setting("participation_open_data_license", str, "dl-de-by-2.0", "Licence id of the participation's open datasets "
            "(open311-requests, and planning-<project> of each planning project's contributions).",
            section="participation"),
    Setting("participation_contact_retention_days", int, 90, "Days after a service request is closed until its "
            "contact details (e-mail, names, phone, device and account ids) are erased by the retention purge.",
            section="participation", minimum=1),
    Setting("participation_jurisdiction_id", str, "", "The Open311 jurisdiction_id this endpoint serves; empty: any "
            "jurisdiction_id is accepted and ignored.", section="participation"),
)


class ParticipationComponent(Component):
    name = "participation"
    settings = SETTINGS

    def migrations(self) -> list[Migration]:
        from urbanos.participation.budget import wiring
        from urbanos.participation.planning import wiring as planning
        from urbanos.participation.schema import MIGRATIONS

        return [*MIGRATIONS, *wiring.migrations(), *planning.migrations()]

    def setup(self, platform: Platform) -> None:
        from urbanos.participation.budget import wiring
        from urbanos.participation.open311.contacts import ContactRetention
        from urbanos.participation.open311.service import Open311Service
        from urbanos.participation.planning import wiring as planning
        from urbanos.participation.throttle import SERVICE, Limits

        platform.services[SERVICE] = Limits(platform.settings, platform.db)  # before the services that post through it
        platform.services["open311"] = Open311Service(platform)
        platform.contribute(PersonalDataPort, ContactRetention(platform))
        wiring.setup(platform)
        planning.setup(platform)

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.participation.budget import wiring
        from urbanos.participation.open311 import pages, routes, service_pages
        from urbanos.participation.planning import wiring as planning

        routes.mount(app, platform)
        pages.mount(app, platform)
        service_pages.mount(app)
        wiring.mount(app, platform)
        planning.mount(app, platform)

    def openapi(self, platform: Platform) -> dict[str, Any]:
        from urbanos.participation.budget import wiring
        from urbanos.participation.open311.openapi import openapi_part
        from urbanos.participation.planning import wiring as planning

        part = openapi_part()
        for extra in (wiring.openapi_part(), planning.openapi_part()):
            part.setdefault("paths", {}).update(extra.get("paths", {}))
            for kind, items in extra.get("components", {}).items():  # schemas, responses, parameters …
                part.setdefault("components", {}).setdefault(kind, {}).update(items)
            part["tags"] = [*part.get("tags", []), *extra.get("tags", [])]
        return part

    async def startup(self, platform: Platform) -> None:
        from urbanos.participation.open311 import opendata
        from urbanos.participation.planning import opendata as planning_data

        await opendata.startup(platform)
        await planning_data.startup(platform)

    async def shutdown(self, platform: Platform) -> None:
        from urbanos.participation.throttle import SERVICE

        limits = platform.services.get(SERVICE)
        if limits is not None:
            await limits.counter.close()  # a Redis counter's connections

    def cli_commands(self) -> list[click.Command]:
        from urbanos.participation.budget import wiring

        return wiring.cli_commands()

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        from urbanos.participation.budget import wiring
        from urbanos.participation.planning import wiring as planning

        return [{"title": "Report a problem", "href": "/participation/report", "title_de": "Ein Problem melden",
                 "description": "Tell the city about a pothole, litter or a broken light (Open311 at /open311/v2/).",
                 "description_de": "Melden Sie der Stadt ein Schlagloch, Müll oder eine defekte Leuchte (Open311 unter "
                                   "/open311/v2/)."}, *wiring.landing_links(platform), *planning.landing_links(platform)]

    def demo(self, platform: Platform) -> None:
        from urbanos.participation.budget import wiring
        from urbanos.participation.open311 import demo
        from urbanos.participation.planning import wiring as planning

        demo.load_demo(platform)
        wiring.demo(platform)
        planning.demo(platform)


__all__ = ["ParticipationComponent", "SETTINGS"]
