"""The features capability: feature storage, OGC API Features, imports, downloads and the DataStore.

Provides :class:`~urbanos.ports.FeaturesPort` (previews and import reports for the portal) and
:class:`~urbanos.ports.CkanActionsPort` (the DataStore actions of the CKAN Action API); asks the catalogue through
:class:`~urbanos.ports.CatalogPort` when it is installed; reports reads as :class:`~urbanos.events.Usage` events.

This module is imported with the settings registry (``urbanos --help`` included), so it stays light: each hook
imports the part of the capability it starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from urbanos.plugins import Component, Importer
from urbanos.ports import CatalogPort, CkanActionsPort, FeaturesPort
from urbanos.settings import Setting

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Migration


class FeaturesComponent(Component):
    name = "features"
    settings = (
        Setting("features_max_limit", int, 10000, "Largest page size of OGC API Features items (limit=).", section="features", minimum=1),
        Setting("features_default_limit", int, 10, "Page size of OGC API Features items when no limit is given.", section="features", minimum=1),
        # DataStore (urbanos/features/datastore/)
        Setting("datastore_sql_enabled", bool, False,
                "Serve the CKAN action datastore_search_sql (one read-only SELECT over DataStore tables).", section="features"),
        Setting("datastore_sql_timeout", float, 5.0, "Seconds a datastore_search_sql query may run (on PostgreSQL; on SQLite "
                "the statement_timeout setting applies).", section="features", minimum=0.1),
        Setting("datastore_rows_max", int, 32000, "Largest limit of datastore_search, and most rows datastore_search_sql returns.",
                section="features", minimum=1),
        Setting("datastore_fetch_urls", bool, False, "Fetch and import tabular and geodata resources created with a URL "
                "(http/https) into the DataStore.", section="features"),
        Setting("datastore_fetch_private", bool, False, "Allow fetching resource URLs on loopback, private and link-local "
                "addresses (off: protects internal services).", section="features"),
    )

    def migrations(self) -> list[Migration]:
        from urbanos.features.store import MIGRATIONS

        return list(MIGRATIONS)

    def setup(self, platform: Platform) -> None:
        from urbanos.features.datastore import DatastoreActions, watch_catalog
        from urbanos.features.ogcapi.service import FeaturesService
        from urbanos.features.port import Features

        service = FeaturesService(platform)
        platform.services["features"] = service  # this capability's own routes and fast path read it
        platform.provide(FeaturesPort, Features(platform, service))
        platform.provide(CkanActionsPort, DatastoreActions())
        watch_catalog(platform)

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.features.downloads import routes as downloads
        from urbanos.features.ogcapi import routes as ogcapi

        ogcapi.mount(app, platform)
        downloads.mount(app, platform)

    def openapi(self, platform: Platform) -> dict[str, Any]:
        from urbanos.features.datastore import ACTIONS
        from urbanos.features.openapi import openapi_part

        s = platform.settings
        # the DataStore actions are served by the catalogue's CKAN Action API, when there is one
        actions = sorted(ACTIONS) if platform.optional(CatalogPort) is not None else []
        return openapi_part(int(s.features_default_limit), int(s.features_max_limit), actions)

    def importers(self) -> list[Importer]:
        from urbanos.features.importers import importers

        return importers()

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        return [{"title": "Maps & geodata", "href": "/ogcapi/collections",
                 "description": "OGC API Features: collections of geodata as GeoJSON, CSV and HTML maps.",
                 "title_de": "Karten & Geodaten",
                 "description_de": "OGC API Features: Geodaten-Sammlungen als GeoJSON, CSV und HTML-Karten."}]

    def demo(self, platform: Platform) -> None:
        from urbanos.features.demo import load_demo

        load_demo(platform)


__all__ = ["FeaturesComponent"]
