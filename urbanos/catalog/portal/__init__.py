"""Portal pages: ``/`` (home with search and facets), ``/datasets``, ``/datasets/{name}``,
``/organizations/{name}`` and ``/inventory``, in English and German."""

from __future__ import annotations

from typing import TYPE_CHECKING

from urbanos.settings import Setting

if TYPE_CHECKING:  # types only: the platform and the web framework load when a hook runs
    import click
    from fastapi import FastAPI

    from urbanos.platform import Platform

SETTINGS: tuple[Setting, ...] = (
    Setting("portal_page_size", int, 20, "Datasets per page of the portal's search results.", section="catalog",
            minimum=1),
    Setting("portal_tile_url", str, "", "Map tile URL template for the dataset preview map "
            "(e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png); empty shows the geometry without a base map.",
            section="catalog"),
)


def mount(app: FastAPI, platform: Platform) -> None:
    from urbanos.catalog.portal.routes import mount_routes  # lazily: this module is imported for its settings

    mount_routes(app)


async def startup(platform: Platform) -> None:
    return None


async def shutdown(platform: Platform) -> None:
    return None


def cli_commands() -> list[click.Command]:
    return []
