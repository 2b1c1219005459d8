"""The features capability: feature storage, OGC API Features, imports, downloads and the DataStore."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from urbanos.plugins import Component, Importer
from urbanos.settings import Setting

if TYPE_CHECKING:
    from urbanos.platform import Platform
    from urbanos.storage import Migration


def _optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise


class FeaturesComponent(Component):
    name = "features"
    settings = (
        Setting("features_max_limit", int, 10000, "Largest page size of OGC API Features items (limit=).", section="features", minimum=1),
        Setting("features_default_limit", int, 10, "Page size of OGC API Features items when no limit is given.", section="features", minimum=1),
        # DataStore (urbanos/features/datastore.py)
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
        from urbanos.features.ogcapi.service import FeaturesService

        platform.services["features"] = FeaturesService(platform)
        ds = _optional("urbanos.features.datastore")
        if ds is not None and hasattr(ds, "register"):
            ds.register(platform)

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.features.ogcapi import routes

        routes.mount(app, platform)
        dl = _optional("urbanos.features.downloads")
        if dl is not None and hasattr(dl, "mount"):
            dl.mount(app, platform)

    def importers(self) -> list[Importer]:
        mod = _optional("urbanos.features.importers")
        if mod is None or not hasattr(mod, "importers"):
            return []
        return list(mod.importers())

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        return [{"title": "Maps & geodata", "href": "/ogcapi/collections",
                 "description": "OGC API Features: collections of geodata as GeoJSON, CSV and HTML maps."}]

    def demo(self, platform: Platform) -> None:
        from urbanos.features.demo import load_demo

        load_demo(platform)
