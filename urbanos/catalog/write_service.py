"""Catalogue writes as the Action API, the CLI and other capabilities call them: each runs its row writes
(:mod:`~urbanos.catalog.writes`, :mod:`~urbanos.catalog.resources`, :mod:`~urbanos.catalog.members`) in one
transaction, then answers what CKAN answers (the package, resource, organisation or group as stored).

Writes need a token with the publisher role for the dataset's organisation; admin for organisations, groups and
purges; the steward role for the users of an organisation.
"""

from __future__ import annotations

from typing import Any

from urbanos.catalog import members, resources, writes
from urbanos.catalog.dicts import resource_dict, site_base
from urbanos.catalog.read_service import CatalogReads
from urbanos.catalog.records import find_dataset
from urbanos.catalog.uploads import remove_upload, stage_upload
from urbanos.errors import ValidationFailed
from urbanos.governance import Identity
from urbanos.platform import Platform
from urbanos.ports import FeaturesPort
from urbanos.storage import Connection

Upload = tuple[str, bytes]
"""An uploaded file: (file name, content)."""


class CatalogWrites:
    def __init__(self, platform: Platform, reads: CatalogReads) -> None:
        self.db = platform.db
        self.gate = platform.gate
        self.platform = platform
        self.settings = platform.settings
        self.reads = reads
        self.upload_dir = reads.upload_dir

    def _features(self) -> FeaturesPort | None:
        """The features capability, which knows the collections a resource may name (None: a platform without it)."""
        return self.platform.optional(FeaturesPort)

    # -- packages -----------------------------------------------------------------------------------------------
    async def package_create(self, identity: Identity, data: dict[str, Any], base_url: str = "") -> dict[str, Any]:
        features = self._features()
        ds_id = await self.db.write(lambda c: writes.package_write(c, self.gate, identity, data, mode="create", features=features))
        return await self._show_id(ds_id, base_url)

    async def package_update(self, identity: Identity, data: dict[str, Any], base_url: str = "") -> dict[str, Any]:
        features = self._features()
        ds_id = await self.db.write(lambda c: writes.package_write(c, self.gate, identity, data, mode="update", features=features))
        return await self._show_id(ds_id, base_url)

    async def package_patch(self, identity: Identity, data: dict[str, Any], base_url: str = "") -> dict[str, Any]:
        def tx(c: Connection) -> int:
            row = find_dataset(c, data.get("id") or data.get("name"), deleted=True)
            current = self.reads.search.packages(c, [int(row["id"])])[0]
            return writes.package_write(c, self.gate, identity, writes.merge_patch(current, data), mode="update",
                                        features=self._features())
        ds_id = await self.db.write(tx)
        return await self._show_id(ds_id, base_url)

    async def _show_id(self, ds_id: int, base_url: str) -> dict[str, Any]:
        return (await self.db.read(lambda c: self.reads.search.packages(c, [ds_id], base_url)))[0]

    async def package_delete(self, identity: Identity, name_or_id: Any) -> None:
        await self.db.write(lambda c: writes.package_delete(c, self.gate, identity, name_or_id, purge=False))

    async def dataset_purge(self, identity: Identity, name_or_id: Any) -> None:
        paths = await self.db.write(lambda c: writes.package_delete(c, self.gate, identity, name_or_id, purge=True))
        for p in paths or []:
            remove_upload(self.upload_dir, p)

    # -- resources ------------------------------------------------------------------------------------------------
    async def resource_create(self, identity: Identity, data: dict[str, Any], upload: Upload | None = None,
                              base_url: str = "") -> dict[str, Any]:
        return await self._resource_write(identity, data, upload, "create", base_url)

    async def resource_update(self, identity: Identity, data: dict[str, Any], upload: Upload | None = None,
                              base_url: str = "") -> dict[str, Any]:
        return await self._resource_write(identity, data, upload, "update", base_url)

    async def resource_patch(self, identity: Identity, data: dict[str, Any], upload: Upload | None = None,
                             base_url: str = "") -> dict[str, Any]:
        return await self._resource_write(identity, data, upload, "patch", base_url)

    async def _resource_write(self, identity: Identity, data: dict[str, Any], upload: Upload | None,
                              mode: resources.ResourceMode, base_url: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationFailed("The resource must be a JSON object.", code="validation_error")
        staged = stage_upload(self.settings, self.upload_dir, upload) if upload else None
        try:
            rid, old = await self.db.write(lambda c: resources.resource_write(c, self.gate, identity, data, staged, mode, self._features()))
        except BaseException:
            if staged:
                remove_upload(self.upload_dir, staged["upload_path"])
            raise
        if old and (not staged or old != staged["upload_path"]):
            remove_upload(self.upload_dir, old)

        def tx(c: Connection) -> dict[str, Any]:
            r = c.rows("SELECT r.*, d.name AS package_name, u.uuid AS package_uuid FROM catalog_resources r JOIN datasets d ON d.id = r.dataset_id"
                       " LEFT JOIN catalog_dataset_ids u ON u.dataset_id = r.dataset_id WHERE r.id = ?", (rid,))
            return resource_dict(r[0], r[0]["package_name"], site_base(self.settings, base_url))
        return await self.db.read(tx)

    async def resource_delete(self, identity: Identity, resource_id: Any) -> None:
        path = await self.db.write(lambda c: resources.resource_delete(c, self.gate, identity, resource_id))
        if path:
            remove_upload(self.upload_dir, path)

    # -- organisations, groups, members ---------------------------------------------------------------------------
    async def organization_create(self, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
        name = await self.db.write(lambda c: writes.organization_create(c, identity, data))
        return await self.reads.organization_show(identity, name)

    async def group_create(self, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
        name = await self.db.write(lambda c: writes.group_create(c, identity, data))
        return await self.reads.group_show(identity, name)

    async def member_create(self, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
        out = await self.db.write(lambda c: members.member_create(c, self.gate, identity, data))
        if out["table_name"] == "user":
            self.gate.forget_tokens()  # cached identities carry the memberships they were verified with
        return out

    async def member_delete(self, identity: Identity, data: dict[str, Any]) -> None:
        await self.db.write(lambda c: members.member_delete(c, self.gate, identity, data))
        self.gate.forget_tokens()


__all__ = ["CatalogWrites", "Upload"]
