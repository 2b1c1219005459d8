"""Portal pages: ``/`` (home with search and facets), ``/datasets``, ``/datasets/{name}``,
``/organizations/{name}`` and ``/inventory``, in English and German."""

from __future__ import annotations

from typing import Any

from urbanos.settings import Setting

SETTINGS: tuple[Any, ...] = (
    Setting("portal_page_size", int, 20, "Datasets per page of the portal's search results.", section="catalog",
            minimum=1),
    Setting("portal_tile_url", str, "", "Map tile URL template for the dataset preview map "
            "(e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png); empty shows the geometry without a base map.",
            section="catalog"),
)


def mount(app: Any, platform: Any) -> None:
    from urbanos.catalog.portal.routes import mount_routes

    mount_routes(app)


async def startup(platform: Any) -> None:
    return None


async def shutdown(platform: Any) -> None:
    return None


def cli_commands() -> list[Any]:
    return []
