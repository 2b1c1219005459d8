"""The catalogue capability: metadata model, CKAN Action API, search, quality, usage; plus the
DCAT export, harvesting and portal sub-packages, whose hooks it calls.

Contracts: it provides :class:`urbanos.ports.CatalogPort` (:mod:`urbanos.catalog.provider`), serves the extra CKAN
actions of an optional :class:`~urbanos.ports.CkanActionsPort`, shows previews and import reports of an optional
:class:`~urbanos.ports.FeaturesPort`, and counts the :class:`~urbanos.events.Usage` events of every API.

This module is imported to read the settings of every component (``urbanos --help``, the settings reference), so
the hooks import the catalogue's service, routes, CLI and demo when they run: those load numpy, shapely, rdflib and
the web framework, which only a running platform needs.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

from urbanos.catalog import dcat, harvest, portal
from urbanos.catalog.model import MIGRATIONS
from urbanos.plugins import Component
from urbanos.ports import CatalogPort
from urbanos.settings import Setting

if TYPE_CHECKING:  # types only, not loaded for the settings (see the module's docstring)
    import click

    from urbanos.catalog.service import CatalogService
    from urbanos.platform import Platform
    from urbanos.storage import Migration

OWN_SETTINGS = (
    Setting("catalog_upload_max_bytes", int, 50 * 1024 * 1024,
            "Largest file accepted by resource_create/resource_update uploads, in bytes (the request body limit max_body_bytes also applies).",
            section="catalog", minimum=1),
    Setting("catalog_upload_types", str, "csv,tsv,json,geojson,xml,rdf,ttl,jsonld,gml,kml,txt,zip,pdf,parquet,gpkg,xlsx,xls,ods",
            "File extensions accepted for resource uploads (comma-separated).", section="catalog"),
    Setting("catalog_search_cache", int, 1024,
            "Search results (counts, facet counts, page ids) kept per query, caller's access and catalogue version; 0 turns it off.",
            section="catalog", minimum=0),
    Setting("catalog_usage_flush_seconds", float, 10.0,
            "Seconds between writes of the aggregate usage counts (views, downloads, API reads); 0 writes only at shutdown.",
            section="catalog", minimum=0),
)


def _subs() -> list[ModuleType]:
    """The sub-packages, whose ``__init__`` modules hold their settings and hooks (and load the rest lazily)."""
    return [dcat, harvest, portal]


class CatalogComponent(Component):
    name = "catalog"
    settings = (*OWN_SETTINGS, *dcat.SETTINGS, *harvest.SETTINGS, *portal.SETTINGS)

    def migrations(self) -> list[Migration]:
        return list(MIGRATIONS)

    def setup(self, platform: Platform) -> None:
        from urbanos.catalog import usage_provider  # lazily: heavy
        from urbanos.catalog.members import memberships_of  # lazily: heavy (see the module's docstring)
        from urbanos.catalog.provider import CatalogProvider  # lazily: heavy
        from urbanos.catalog.service import CatalogService  # lazily: heavy

        svc = CatalogService(platform)
        platform.services["catalog"] = svc
        provider: CatalogPort = CatalogProvider(svc.writes)  # checked against the contract by mypy
        platform.provide(CatalogPort, provider)
        usage_provider.register(platform, svc.usage, svc.search)
        svc.usage.subscribe()
        platform.gate.add_membership_source(memberships_of)

    def mount(self, app: Any, platform: Platform) -> None:
        from urbanos.catalog import routes  # lazily: heavy (see the module's docstring)

        routes.mount(app, platform)
        for sub in _subs():
            sub.mount(app, platform)

    async def startup(self, platform: Platform) -> None:
        svc: CatalogService = platform.services["catalog"]
        svc.usage.start(float(platform.settings.get("catalog_usage_flush_seconds") or 0))
        for sub in _subs():
            await sub.startup(platform)

    async def shutdown(self, platform: Platform) -> None:
        for sub in reversed(_subs()):
            await sub.shutdown(platform)
        svc: CatalogService | None = platform.services.get("catalog")
        if svc is not None:
            await svc.usage.stop()

    def openapi(self, platform: Platform) -> dict[str, Any]:
        from urbanos.catalog.openapi import openapi_part  # lazily: heavy (see the module's docstring)

        return openapi_part()

    def landing_links(self, platform: Platform) -> list[dict[str, str]]:
        return [{"title": "Data catalogue API", "href": "/api/3/action/package_search",
                 "description": "CKAN Action API: search, show and publish datasets.",
                 "title_de": "Datenkatalog-API",
                 "description_de": "CKAN Action API: Datensätze suchen, ansehen und veröffentlichen."}]

    def cli_commands(self) -> list[click.Command]:
        from urbanos.catalog.cli import commands  # lazily: heavy (see the module's docstring)

        out = list(commands())
        for sub in _subs():
            out.extend(sub.cli_commands())
        return out

    def demo(self, platform: Platform) -> None:
        from urbanos.catalog.demo import load_demo  # lazily: heavy (see the module's docstring)

        load_demo(platform)


__all__ = ["CatalogComponent"]
