"""How the cockpit's usage part plugs into the platform (called by :class:`urbanos.cockpit.component.CockpitComponent`).

The counts themselves are the catalogue's (:class:`urbanos.ports.UsagePort`); this part only shows them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.cockpit.usage import dataset, routes
from urbanos.cockpit.usage.openapi import openapi_part

if TYPE_CHECKING:
    from urbanos.platform import Platform


def mount(app: Any, platform: Platform) -> None:
    """Add the usage cockpit's routes."""
    routes.mount(app, platform)


async def startup(platform: Platform) -> None:
    """Describe the usage statistics in the catalogue when ``cockpit_usage_dataset_org`` is set."""
    await dataset.startup(platform)


def demo(platform: Platform) -> None:
    dataset.demo(platform)


def openapi(platform: Platform) -> dict[str, Any]:
    return openapi_part()


def landing_links(platform: Platform) -> list[dict[str, str]]:
    return [{"title": "Usage of open data", "href": "/cockpit/public", "title_de": "Nutzung offener Daten",
             "description": "How the open datasets and the APIs are used, per day, dataset and API (also as CSV and JSON).",
             "description_de": "Wie die offenen Datensätze und Schnittstellen genutzt werden, je Tag, Datensatz und "
                               "Schnittstelle (auch als CSV und JSON)."}]
