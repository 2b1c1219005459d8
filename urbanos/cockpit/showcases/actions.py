"""ckanext-showcase's actions, served through the catalogue's CKAN Action API (a contribution to
:class:`urbanos.ports.CkanActionsPort`), so that ``ckanapi`` and CKAN clients manage showcases as on CKAN."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from urbanos.cockpit.showcases.service import ShowcaseService
from urbanos.errors import ValidationFailed
from urbanos.ports import CkanAction

if TYPE_CHECKING:
    from urbanos.governance import Identity


def _svc(platform: Any) -> ShowcaseService:
    return platform.services["showcases"]  # type: ignore[no-any-return]


def _key(data: dict[str, Any], *names: str) -> Any:
    for n in names:
        if data.get(n) not in (None, ""):
            return data[n]
    raise ValidationFailed(f"Validation error: {names[0]}: Missing value", code="validation_error",
                           detail={names[0]: ["Missing value"]})


async def showcase_create(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    return await _svc(platform).create(ident, data)


async def showcase_update(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    _key(data, "id", "name")
    return await _svc(platform).update(ident, data, patch=False)


async def showcase_patch(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    _key(data, "id", "name")
    return await _svc(platform).update(ident, data, patch=True)


async def showcase_show(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    return await _svc(platform).show(ident, _key(data, "id", "name"))


async def showcase_list(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    return await _svc(platform).showcases(ident)


async def showcase_delete(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    await _svc(platform).delete(ident, _key(data, "id", "name"))
    return None


async def association_create(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    return await _svc(platform).link(ident, _key(data, "showcase_id"), _key(data, "package_id"), add=True)


async def association_delete(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    await _svc(platform).link(ident, _key(data, "showcase_id"), _key(data, "package_id"), add=False)
    return None


async def showcase_package_list(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    refs = await _svc(platform).datasets(ident, _key(data, "showcase_id"))
    return [{"name": d.name, "title": d.title, "owner_org": d.owner_org, "type": "dataset"} for d in refs]


async def package_showcase_list(platform: Any, ident: Identity, data: dict[str, Any]) -> Any:
    return await _svc(platform).showcases(ident, dataset=_key(data, "package_id"))


ACTIONS: Mapping[str, CkanAction] = MappingProxyType({
    "ckanext_showcase_create": showcase_create, "ckanext_showcase_update": showcase_update,
    "ckanext_showcase_patch": showcase_patch, "ckanext_showcase_show": showcase_show,
    "ckanext_showcase_list": showcase_list, "ckanext_showcase_delete": showcase_delete,
    "ckanext_showcase_package_association_create": association_create,
    "ckanext_showcase_package_association_delete": association_delete,
    "ckanext_showcase_package_list": showcase_package_list,
    "ckanext_showcase_package_association_list": showcase_package_list,
    "ckanext_package_showcase_list": package_showcase_list,
})


class ShowcaseActions:
    """:class:`~urbanos.ports.CkanActionsPort`: the ``ckanext_showcase_*`` actions by name."""

    def ckan_actions(self) -> Mapping[str, CkanAction]:
        return ACTIONS


__all__ = ["ACTIONS", "ShowcaseActions"]
