"""Calls into the catalogue service (``platform.services["catalog"]``) with the caller's identity.

The DCAT export, the portal and the harvester read and write packages only through this module, so
every read passes the catalogue's access enforcement.
"""

from __future__ import annotations

from typing import Any

from urbanos.catalog.service import CatalogService
from urbanos.catalog.usage import publish_usage
from urbanos.errors import Forbidden, NotFound, ServiceUnavailable
from urbanos.governance import Identity
from urbanos.platform import Platform
from urbanos.routing import base_url, identity_of, platform_of


def service(platform: Platform) -> CatalogService:
    svc: CatalogService | None = platform.services.get("catalog")
    if svc is None:
        raise ServiceUnavailable("The catalogue service is not available on this platform.")
    return svc


async def search(platform: Platform, identity: Identity, *, base_url: str = "", **params: Any) -> dict[str, Any]:
    """``package_search``: q, fq, facet_fields, rows, start, sort, facet_limit."""
    return dict(await service(platform).package_search(identity, base_url=base_url, **params))


async def show(platform: Platform, identity: Identity, name: str, base_url: str = "") -> dict[str, Any]:
    """One package the caller may see; NotFound for a package that is missing or hidden from the caller, with
    one message for both, so the answer does not tell them apart."""
    try:
        return dict(await service(platform).package_show(identity, name, base_url=base_url))
    except (Forbidden, NotFound):
        raise NotFound(f"Dataset {name!r} not found.") from None


async def page(platform: Platform, identity: Identity, *, base_url: str, page: int,
               page_size: int) -> tuple[list[dict[str, Any]], int]:
    """One page of every package the caller may see (for the DCAT catalogue), and the total."""
    packages, total = await service(platform).all_packages(identity, base_url=base_url, page=page, page_size=page_size)
    return list(packages), int(total)


async def organization(platform: Platform, identity: Identity, name: str) -> dict[str, Any]:
    return dict(await service(platform).organization_show(identity, name))


async def inventory(platform: Platform, identity: Identity, base_url: str = "") -> list[dict[str, Any]]:
    return list(await service(platform).inventory(identity, base_url=base_url))


async def quality(platform: Platform, identity: Identity, name: str) -> Any:
    return await service(platform).quality(identity, name)


async def freshness(platform: Platform, name: str) -> Any:
    return await service(platform).freshness(name)


async def record_view(platform: Platform, identity: Identity, pkg: dict[str, Any], api: str) -> None:
    """Count a view of package ``pkg`` (shown by a page or an export, ``api`` ``portal`` or ``dcat``). The usage
    event carries the dataset's internal id, looked up by its UUID (the package's public ``id``)."""
    ds_id = await service(platform).reads.internal_id(str(pkg["id"]))
    publish_usage(platform.bus, identity, "view", api, dataset=str(pkg["name"]), dataset_id=ds_id)


async def write(platform: Platform, action: str, identity: Identity, data: Any) -> Any:
    """package_create / package_update / package_delete / organization_create."""
    return await getattr(service(platform), action)(identity, data)


__all__ = ["platform_of", "identity_of", "base_url", "service", "search", "show", "page", "organization",
           "inventory", "quality", "freshness", "record_view", "write"]
