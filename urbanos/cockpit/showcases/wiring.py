"""How the showcases plug into the platform (called by :class:`urbanos.cockpit.component.CockpitComponent`): the
service, the ``ckanext_showcase_*`` actions contributed to the CKAN Action API, the pages and the demo's showcases."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from urbanos.cockpit.showcases import routes
from urbanos.cockpit.showcases.actions import ShowcaseActions
from urbanos.cockpit.showcases.openapi import openapi_part
from urbanos.cockpit.showcases.service import ShowcaseService
from urbanos.errors import UrbanosError
from urbanos.governance import ADMIN
from urbanos.ports import CkanActionsPort

if TYPE_CHECKING:
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.cockpit.showcases")

DEMO = (
    ({"name": "melbourne-pedestrian-dashboard", "title": "Melbourne pedestrian dashboard", "owner_org": "city-of-melbourne",
      "notes": "Pedestrian counts on a map, each sensor coloured against the same hour on the four preceding same "
               "weekdays, with an hourly chart per sensor: the view Melbourne used to follow the city's recovery.",
      "url": "/dashboards/pedestrians"}, ("melbourne-pedestrian-counts", "pedestrian-sensors")),
    ({"name": "air-quality-and-waste-live", "title": "Air quality and waste bins, live", "owner_org": "demo-environment",
      "notes": "The latest NO2, PM10 and PM2.5 values against the EU limit values, and the waste bins above 80 %, "
               "updated live over MQTT.", "url": "/dashboards/air-quality"}, ("demo-air-quality", "demo-waste-bins")),
)


def setup(platform: Platform) -> None:
    platform.services["showcases"] = ShowcaseService(platform)
    platform.contribute(CkanActionsPort, ShowcaseActions())


def mount(app: Any, platform: Platform) -> None:
    routes.mount(app, platform)


def openapi(platform: Platform) -> dict[str, Any]:
    return openapi_part()


def landing_links(platform: Platform) -> list[dict[str, str]]:
    return [{"title": "Applications", "href": "/showcases", "title_de": "Anwendungen",
             "description": "Applications and showcases built with the platform's data, and the datasets they use.",
             "description_de": "Anwendungen und Showcases, die mit den Daten der Plattform gebaut wurden, und die "
                               "Datensätze, die sie nutzen."}]


async def _demo(platform: Platform) -> int:
    """Create the demo's showcases that are missing and link the datasets that exist and are not linked yet."""
    svc: ShowcaseService = platform.services["showcases"]
    linked = 0
    for data, datasets in DEMO:
        try:
            have = {d["name"] for d in (await svc.show(ADMIN, data["name"]))["datasets"]}
        except UrbanosError:
            try:
                await svc.create(ADMIN, data)
            except UrbanosError as exc:  # e.g. the catalogue's demo did not make the organisation
                log.warning("showcases demo: %s not created: %s", data["name"], exc.message)
                continue
            have = set()
        for ds in datasets:
            if ds in have:
                continue
            try:
                await svc.link(ADMIN, data["name"], ds, add=True)
                linked += 1
            except UrbanosError as exc:  # a dataset the demo did not load
                log.warning("showcases demo: %s not linked to %s: %s", ds, data["name"], exc.message)
    return linked


def demo(platform: Platform) -> None:
    """The demo's showcases (once): the dashboards, linked to the datasets they show."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        log.info("showcases demo: %d datasets linked", asyncio.run(_demo(platform)))
    else:
        log.warning("showcases demo: not created (called on a running event loop)")


__all__ = ["setup", "mount", "openapi", "landing_links", "demo"]
