"""What the catalogue answers for other capabilities: its implementation of :class:`urbanos.ports.CatalogPort`,
registered by the catalogue's component with ``platform.provide(CatalogPort, …)``.

It owns every statement on ``catalog_resources`` that another capability needs: the features capability reads a
resource's dataset, collection, URL and format, binds a resource to the feature collection that holds its data, and
describes a collection it imported as a distribution of its dataset.
"""

from __future__ import annotations

from typing import Any

from urbanos.catalog.records import dataset_by_id, dataset_row
from urbanos.catalog.write_service import CatalogWrites
from urbanos.governance import ADMIN
from urbanos.ports import DatasetRef, ResourceRef
from urbanos.storage import Connection

_RESOURCE_COLUMNS = "id, dataset_id, name, url, format, url_type, collection, datastore_active"


def _resource_ref(r: dict[str, Any]) -> ResourceRef:
    return ResourceRef(id=str(r["id"]), dataset_id=None if r["dataset_id"] is None else int(r["dataset_id"]),
                       name=str(r["name"] or ""), url=str(r["url"] or ""), format=str(r["format"] or ""),
                       url_type=str(r["url_type"] or ""), collection=str(r["collection"]) if r["collection"] else None,
                       datastore_active=bool(r["datastore_active"]))


class CatalogProvider:
    """:class:`urbanos.ports.CatalogPort` over the catalogue's tables and writes."""

    def __init__(self, writes: CatalogWrites) -> None:
        self.writes = writes

    def dataset(self, c: Connection, key: str | int) -> DatasetRef | None:
        """The dataset named ``key`` or with id ``key`` (deleted ones too: ``state`` says so), or None."""
        d = dataset_by_id(c, key) if isinstance(key, int) else dataset_row(c, key)
        if d is None:
            return None
        return DatasetRef(id=int(d["id"]), name=str(d["name"]), title=str(d["title"] or ""), owner_org=d["owner_org"],
                          access_level=str(d["access_level"]), state=str(d["state"]))

    def resource(self, c: Connection, resource_id: str) -> ResourceRef | None:
        rows = c.rows(f"SELECT {_RESOURCE_COLUMNS} FROM catalog_resources WHERE id = ?", (str(resource_id),))
        return _resource_ref(rows[0]) if rows else None

    def resources_of_collection(self, c: Connection, collection: str) -> list[ResourceRef]:
        rows = c.rows(f"SELECT {_RESOURCE_COLUMNS} FROM catalog_resources WHERE collection = ? ORDER BY created, id",
                      (collection,))
        return [_resource_ref(r) for r in rows]

    def bind_collection(self, c: Connection, resource_id: str, collection: str | None, *, datastore_active: bool) -> None:
        """Record that the data of resource ``resource_id`` is collection ``collection`` (None or "": none), in the
        caller's transaction. A plain column update, as the DataStore has always made it: the resource's dataset is
        not touched, so no catalogue event is emitted and the search index (which holds no collection) stays."""
        c.execute("UPDATE catalog_resources SET collection = ?, datastore_active = ? WHERE id = ?",
                  (collection or "", 1 if datastore_active else 0, str(resource_id)))

    async def describe_collection(self, dataset: str, collection: str, *, fmt: str, url: str, title: str = "") -> None:
        """Add a distribution for collection ``collection`` to dataset ``dataset`` as the platform admin, unless a
        resource already names the collection. ``title`` is the distribution's name (the collection's by default).
        Raises what resource_create raises (NotFound for a missing dataset, ValidationFailed for bad values)."""
        if await self.writes.db.read(lambda c: bool(self.resources_of_collection(c, collection))):
            return
        await self.writes.resource_create(ADMIN, {
            "package_id": dataset, "name": title or collection, "url": url, "format": fmt, "collection": collection,
            "datastore_active": True,
            "description": f"Collection {collection}: OGC API Features, DataStore and downloads (/download/{collection}.csv).",
        })


__all__ = ["CatalogProvider"]
