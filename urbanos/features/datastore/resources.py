"""What a DataStore ``resource_id`` names, and who may change it.

A ``resource_id`` is a catalogue resource whose data is a feature collection (uploads and datastore_create bind
them), or the name of a collection. The catalogue answers through :class:`~urbanos.ports.CatalogPort`; without the
catalogue, only collection names are resource ids.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from urbanos.errors import NotFound
from urbanos.features import store
from urbanos.ports import CatalogPort, ResourceRef

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection


def resolve(platform: Platform, c: Connection, rid: str) -> tuple[store.CollectionMeta | None, ResourceRef | None]:
    """The collection behind ``rid`` (catalogue resource id or collection name) and the resource, if any."""
    catalog = platform.optional(CatalogPort)
    ref = catalog.resource(c, rid) if catalog is not None else None
    if ref is not None:
        meta = store.get_collection(c, ref.collection) if ref.collection else None
        return meta, ref
    return store.get_collection(c, rid), None


def require_meta(platform: Platform, c: Connection, rid: str) -> tuple[store.CollectionMeta, ResourceRef | None]:
    meta, ref = resolve(platform, c, rid)
    if meta is None:
        raise NotFound(f'Resource "{rid}" was not found.' if ref is None else f'Resource "{rid}" has no DataStore table.')
    return meta, ref


def require_write(platform: Platform, c: Connection, identity: Identity, rid: str, meta: store.CollectionMeta | None,
                  ref: ResourceRef | None) -> None:
    """The caller may change what ``rid`` names: the collection's dataset and the resource's dataset (the same one,
    unless a resource was bound to another dataset's collection) are each one the caller may publish to (what no
    dataset owns needs a publisher without organisation); a caller that may neither publish to nor read one gets
    the 404 of a missing resource, word for word (:meth:`Gate.authorize_write`)."""
    dataset_ids: list[int | None] = []
    if meta is not None:
        dataset_ids.append(meta.dataset_id)
    if ref is not None and (ref.dataset_id is None or ref.dataset_id not in dataset_ids):
        dataset_ids.append(ref.dataset_id)
    missing = NotFound(f'Resource "{rid}" was not found.')
    for ds_id in dict.fromkeys(dataset_ids):
        ds, grants = platform.gate.dataset_access(c, ds_id) if ds_id is not None else (None, [])
        platform.gate.authorize_write(identity, ds, grants, missing)


def bind(platform: Platform, c: Connection, rid: str, collection: str | None) -> None:
    """Record in the catalogue that resource ``rid``'s data is ``collection`` (None: it has no DataStore table)."""
    catalog = platform.optional(CatalogPort)
    if catalog is not None:
        catalog.bind_collection(c, rid, collection, datastore_active=bool(collection))


def free_name(c: Connection, rid: str) -> str:
    """A collection name made from ``rid`` that no collection has yet."""
    base = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in rid).strip("-.")[:90] or "table"
    name, n = base, 1
    while store.get_collection(c, name) is not None:
        n += 1
        name = f"{base}-{n}"
    return name


__all__ = ["resolve", "require_meta", "require_write", "bind", "free_name"]
