"""What the catalogue answers for other capabilities: its implementation of :class:`urbanos.ports.CatalogPort`,
registered by the catalogue's component with ``platform.provide(CatalogPort, …)``.

It owns every statement on ``catalog_resources`` that another capability needs: the features capability reads a
resource's dataset, collection, URL and format, binds a resource to the feature collection that holds its data, and
describes a collection it imported as a distribution of its dataset.
"""

from __future__ import annotations

from typing import Any

from urbanos.catalog import ensure, resources
from urbanos.catalog.records import dataset_by_id, dataset_row
from urbanos.catalog.validation import invalid
from urbanos.catalog.write_service import CatalogWrites
from urbanos.errors import NotFound
from urbanos.governance import ADMIN, Identity
from urbanos.ports import DatasetRef, FeaturesPort, ResourceRef
from urbanos.storage import Connection

_RESOURCE_COLUMNS = "id, dataset_id, name, url, format, url_type, collection, datastore_active"
DATASTORE_ONLY_URL = "/datastore/dump"
"""The URL of a DataStore-only resource before its table is bound (CKAN writes ``_datastore_only_resource``)."""


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
        """The dataset with internal id ``key`` (an ``int``), or whose UUID or name ``key`` is (deleted ones too:
        ``state`` says so), or None."""
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
        if collection:  # a DataStore-only resource links its table's download
            c.execute("UPDATE catalog_resources SET url = ? WHERE id = ? AND url_type = 'datastore'",
                      (f"/download/{collection}.csv", str(resource_id)))

    def create_resource(self, c: Connection, identity: Identity, data: dict[str, Any]) -> ResourceRef:
        """resource_create as ``identity`` in the caller's transaction (see :meth:`urbanos.ports.CatalogPort.create_resource`).
        A resource without ``url`` is DataStore-only, as CKAN's datastore_create makes it: ``url_type`` ``datastore``,
        its URL the download of the table :meth:`bind_collection` binds to it."""
        if not isinstance(data, dict):
            raise invalid("resource", "Must be an object: the resource to create, e.g. {\"package_id\": …, \"name\": …}")
        datastore_only = data.get("url") in (None, "")
        src = {**data, "url": DATASTORE_ONLY_URL} if datastore_only else dict(data)
        src.pop("id", None)
        rid, _ = resources.resource_write(c, self.writes.gate, identity, src, None, "create",
                                          self.writes.platform.optional(FeaturesPort))
        if datastore_only:
            c.execute("UPDATE catalog_resources SET url_type = 'datastore' WHERE id = ?", (rid,))
        ref = self.resource(c, rid)
        if ref is None:  # written just now, in this transaction
            raise NotFound("Resource was not found.")
        return ref

    def ensure_dataset(self, c: Connection, identity: Identity, data: dict[str, Any]) -> DatasetRef:
        """Create-or-update dataset ``data["name"]`` (see :func:`urbanos.catalog.ensure.ensure_dataset`)."""
        ds_id = ensure.ensure_dataset(c, self.writes.gate, identity, data, self.writes.reads.search.packages,
                                      self.writes.platform.optional(FeaturesPort))
        ref = self.dataset(c, ds_id)
        if ref is None:  # written just now, in this transaction
            raise NotFound("Dataset not found")
        return ref

    def ensure_resource(self, c: Connection, identity: Identity, data: dict[str, Any]) -> ResourceRef:
        """Create-or-update the resource of a dataset with a given URL (see :func:`urbanos.catalog.ensure.ensure_resource`)."""
        rid = ensure.ensure_resource(c, self.writes.gate, identity, data, self.writes.platform.optional(FeaturesPort))
        ref = self.resource(c, rid)
        if ref is None:  # written just now, in this transaction
            raise NotFound("Resource was not found.")
        return ref

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


    async def describe_service(self, dataset: str, *, url: str, title: str, conforms_to: str, endpoint_url: str,
                               endpoint_description: str = "", description: str = "") -> None:
        """Add a distribution read through an API (its ``dcat:accessService`` from ``conforms_to``, ``endpoint_url``
        and ``endpoint_description``, see :mod:`urbanos.catalog.dcat.mapping`) to dataset ``dataset`` as the platform
        admin, unless the dataset is missing or a distribution of it already has ``url``."""
        def existing(c: Connection) -> bool | None:
            d = dataset_row(c, dataset)
            if d is None:
                return None
            return bool(c.fetchone("SELECT 1 FROM catalog_resources WHERE dataset_id = ? AND url = ?", (d["id"], url)))

        if await self.writes.db.read(existing) is not False:
            return
        await self.writes.resource_create(ADMIN, {
            "package_id": dataset, "name": title, "url": url, "format": "JSON", "mimetype": "application/json",
            "description": description, "conforms_to": conforms_to, "endpoint_url": endpoint_url,
            "endpoint_description": endpoint_description or endpoint_url,
        })


__all__ = ["CatalogProvider"]
