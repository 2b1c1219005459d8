"""Catalogue reads: packages, resources and their files, organisations, groups, tags, licences, data services, the
inventory, quality and freshness.

Every read is filtered by the gate (``access.check_read`` for one dataset, the gate's dataset filter for lists and
counts). Reads served to a caller through an API publish their :class:`~urbanos.events.Usage` (``usage_api``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from urbanos import __version__
from urbanos.catalog.access import check_read
from urbanos.catalog.dicts import group_dict, org_dict, resource_dict, site_base
from urbanos.catalog.model import LICENSES
from urbanos.catalog.quality import assess, fetch_downloads, freshness, platform_fetch
from urbanos.catalog.records import (
    GROUP_SELECT,
    ORG_SELECT,
    dataset_row,
    find_dataset,
    group_full_row,
    jload,
    org_row,
)
from urbanos.catalog.search_service import CatalogSearch
from urbanos.catalog.uploads import upload_dir
from urbanos.catalog.usage import publish_usage
from urbanos.errors import NotFound
from urbanos.governance import DatasetAccess, Identity
from urbanos.platform import Platform
from urbanos.storage import Connection

RESOURCE_SELECT = ("SELECT r.*, u.uuid AS package_uuid FROM catalog_resources r"
                   " LEFT JOIN catalog_dataset_ids u ON u.dataset_id = r.dataset_id")
"""Resources with the UUID of their dataset (``resource_dict`` answers it as ``package_id``)."""
ListSort = tuple[str, bool]
"""The order of an organisation or group list: (``name`` | ``title`` | ``package_count``, descending)."""


class CatalogReads:
    def __init__(self, platform: Platform, search: CatalogSearch) -> None:
        self.platform = platform
        self.db = platform.db
        self.gate = platform.gate
        self.bus = platform.bus
        self.settings = platform.settings
        self.search = search
        self.upload_dir = upload_dir(platform.settings)

    # -- packages and resources -------------------------------------------------------------------------------
    async def package_show(self, identity: Identity, name_or_id: Any, base_url: str = "", *,
                           usage_api: str = "") -> dict[str, Any]:
        """One package (404 unknown, 403 when the caller may not read it); ``usage_api`` counts it as a read."""
        await self.search.ensure_indexed()

        def tx(c: Connection) -> tuple[dict[str, Any], int]:
            row = find_dataset(c, name_or_id, deleted=True)  # check_read: deleted ones to their editors
            check_read(c, self.gate, identity, row, "catalog.package_show")
            return self.search.packages(c, [int(row["id"])], base_url)[0], int(row["id"])

        pkg, ds_id = await self.db.read(tx)
        if usage_api:
            publish_usage(self.bus, identity, "api_read", usage_api, dataset=pkg["name"], dataset_id=ds_id)
        return pkg

    async def resource_show(self, identity: Identity, resource_id: str, base_url: str = "", *,
                            usage_api: str = "") -> dict[str, Any]:
        def tx(c: Connection) -> tuple[dict[str, Any], int]:
            r = c.rows(RESOURCE_SELECT + " WHERE r.id = ?", (str(resource_id or ""),))
            if not r:
                raise NotFound("Resource was not found.")
            row = find_dataset(c, int(r[0]["dataset_id"]), deleted=True)
            check_read(c, self.gate, identity, row, "catalog.resource_show")
            return resource_dict(r[0], row["name"], site_base(self.settings, base_url)), int(row["id"])

        res, ds_id = await self.db.read(tx)
        if usage_api:
            publish_usage(self.bus, identity, "api_read", usage_api, dataset=res["package_name"],
                          dataset_id=ds_id, resource=res["id"])
        return res

    async def resource_file(self, identity: Identity, resource_id: str,
                            package: str | None = None) -> tuple[Path, str, str, str]:
        """The uploaded file of a resource, after the gate said yes (counts a download): (path, file name, media
        type, package name)."""
        def tx(c: Connection) -> tuple[dict[str, Any], dict[str, Any]]:
            r = c.rows("SELECT * FROM catalog_resources WHERE id = ?", (str(resource_id or ""),))
            if not r or not r[0]["upload_path"]:
                raise NotFound("Resource file was not found.")
            row = find_dataset(c, int(r[0]["dataset_id"]))
            named = dataset_row(c, str(package)) if package is not None else row  # the dataset's name or UUID
            if named is None or int(named["id"]) != int(row["id"]):
                raise NotFound("Resource file was not found.")
            check_read(c, self.gate, identity, row, "catalog.download")
            return r[0], row

        r, row = await self.db.read(tx)
        path = self.upload_dir / r["upload_path"]
        if not path.is_file():
            raise NotFound("Resource file was not found.")
        publish_usage(self.bus, identity, "download", "download", dataset=row["name"], dataset_id=int(row["id"]),
                      resource=r["id"])
        return path, path.name, r["mimetype"] or "application/octet-stream", row["name"]

    async def internal_id(self, key: Any) -> int | None:
        """The integer id of the dataset a UUID or name names (for usage counts and other internal references), or
        None."""
        row = await self.db.read(lambda c: dataset_row(c, key))
        return int(row["id"]) if row else None

    async def package_list(self, identity: Identity, limit: int | None = None, offset: int = 0) -> list[str]:
        await self.search.ensure_indexed()
        acc, params = self.gate.dataset_filter(identity, "d.id")
        sql = f"SELECT d.name FROM datasets d WHERE d.state = 'active' AND {acc} ORDER BY d.name"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        elif offset:
            sql += f" LIMIT -1 OFFSET {int(offset)}" if self.db.dialect.name == "sqlite" else f" OFFSET {int(offset)}"
        return await self.db.read(lambda c: [r[0] for r in c.fetchall(sql, params)])

    # -- organisations and groups -----------------------------------------------------------------------------
    async def organization_list(self, identity: Identity, all_fields: bool = False, limit: int | None = None,
                                offset: int = 0, *, sort: ListSort = ("name", False)) -> list[Any]:
        """Organisations in CKAN's order ``sort`` (field, descending); ``package_count`` counts the active datasets the
        caller may read."""
        def tx(c: Connection) -> list[Any]:
            counts = self.org_counts(c, identity) if all_fields or sort[0] == "package_count" else {}
            orgs = [{**o, "package_count": counts.get(o["name"], 0)} for o in c.rows(ORG_SELECT)]
            orgs = sorted_page(orgs, sort, limit, offset)
            if not all_fields:
                return [o["name"] for o in orgs]
            return [{**org_dict(o), "package_count": o["package_count"]} for o in orgs]
        return await self.db.read(tx)

    def org_counts(self, c: Connection, identity: Identity) -> dict[str, int]:
        """Active datasets per organisation that the caller may read."""
        acc, params = self.gate.dataset_filter(identity, "d.id")
        return {r[0]: int(r[1]) for r in c.fetchall(
            f"SELECT d.owner_org, COUNT(*) FROM datasets d WHERE d.state = 'active' AND {acc} GROUP BY d.owner_org", params)}

    async def organization_show(self, identity: Identity, name_or_id: Any, include_datasets: bool = False,
                                base_url: str = "") -> dict[str, Any]:
        await self.search.ensure_indexed()

        def tx(c: Connection) -> dict[str, Any]:
            found = org_row(c, name_or_id)
            if found is None:
                raise NotFound("Organization was not found.")
            o = [found]
            out = org_dict(o[0])
            out["package_count"] = self.org_counts(c, identity).get(o[0]["name"], 0)
            out["users"] = [{"name": r[0], "capacity": r[1]} for r in c.fetchall(
                "SELECT subject, capacity FROM catalog_org_members WHERE org = ? ORDER BY subject", (o[0]["name"],))] if identity.is_admin else []
            if include_datasets:
                res = self.search.search_sync(c, identity, fq=f'organization:"{o[0]["name"]}"', rows=1000, sort="name asc",
                                              base_url=base_url)
                out["packages"] = res["results"]
            return out
        return await self.db.read(tx)

    async def group_list(self, identity: Identity, all_fields: bool = False, limit: int | None = None, offset: int = 0,
                         *, sort: ListSort = ("name", False)) -> list[Any]:
        """Groups in CKAN's order ``sort``, counted as :meth:`organization_list` counts."""
        def tx(c: Connection) -> list[Any]:
            counts = self.group_counts(c, identity) if all_fields or sort[0] == "package_count" else {}
            groups = [{**g, "package_count": counts.get(int(g["id"]), 0)} for g in c.rows(GROUP_SELECT)]
            groups = sorted_page(groups, sort, limit, offset)
            if not all_fields:
                return [g["name"] for g in groups]
            return [{**group_dict(g), "package_count": g["package_count"]} for g in groups]
        return await self.db.read(tx)

    def group_counts(self, c: Connection, identity: Identity) -> dict[int, int]:
        """Active datasets per group id that the caller may read."""
        acc, params = self.gate.dataset_filter(identity, "d.id")
        return {int(r[0]): int(r[1]) for r in c.fetchall(
            "SELECT m.group_id, COUNT(*) FROM catalog_group_members m JOIN datasets d ON d.id = m.dataset_id"
            f" WHERE d.state = 'active' AND {acc} GROUP BY m.group_id", params)}

    async def group_show(self, identity: Identity, name_or_id: Any, include_datasets: bool = False,
                         base_url: str = "") -> dict[str, Any]:
        await self.search.ensure_indexed()

        def tx(c: Connection) -> dict[str, Any]:
            found = group_full_row(c, name_or_id)
            if found is None:
                raise NotFound("Group was not found.")
            g = [found]
            out = group_dict(g[0])
            out["package_count"] = self.group_counts(c, identity).get(int(g[0]["id"]), 0)
            if include_datasets:
                out["packages"] = self.search.search_sync(c, identity, fq=f'groups:"{g[0]["name"]}"', rows=1000,
                                                          sort="name asc", base_url=base_url)["results"]
            return out
        return await self.db.read(tx)

    # -- vocabularies, services, inventory --------------------------------------------------------------------
    async def tag_list(self, identity: Identity, query: str = "") -> list[str]:
        acc, params = self.gate.dataset_filter(identity, "d.id")
        sql = ("SELECT DISTINCT f.value FROM catalog_facets f JOIN datasets d ON d.id = f.dataset_id"
               f" WHERE f.field = 'tags' AND d.state = 'active' AND {acc}")
        if query:
            sql += " AND LOWER(f.value) LIKE ?"
            params = [*params, f"%{query.lower()}%"]
        return await self.db.read(lambda c: [r[0] for r in c.fetchall(sql + " ORDER BY f.value", params)])

    @staticmethod
    def license_list() -> list[dict[str, Any]]:
        return [{**lic, "status": "active", "is_okd_compliant": lic["od_conformance"] == "approved",
                 "is_generic": False, "maintainer": "", "family": "", "domain_content": False, "domain_data": True,
                 "domain_software": False} for lic in LICENSES]

    def status_show(self) -> dict[str, Any]:
        return {"site_title": f"urbanos — {self.settings.city_name}", "site_url": site_base(self.settings),
                "site_description": "", "ckan_version": "2.10.0", "urbanos_version": __version__, "api_version": 3,
                "locale_default": "en", "error_emails_to": None,
                "extensions": ["urbanos-catalog", "dcat", "harvest", "datastore"]}

    async def data_service_list(self, identity: Identity) -> list[dict[str, Any]]:
        def tx(c: Connection) -> list[dict[str, Any]]:
            out = []
            for r in c.rows("SELECT * FROM catalog_data_services ORDER BY name"):
                ds = DatasetAccess(0, r["name"], r["owner_org"], r["access_level"])
                if self.gate.can_read(identity, ds):
                    out.append({**r, "serves": jload(r["serves"]) or []})
            return out
        return await self.db.read(tx)

    async def inventory(self, identity: Identity, base_url: str = "") -> list[dict[str, Any]]:
        """Every active dataset, metadata only; resource URLs only for datasets the caller may read and that are open."""
        await self.search.ensure_indexed()

        def tx(c: Connection) -> list[dict[str, Any]]:
            ids = [int(r[0]) for r in c.fetchall("SELECT id FROM datasets WHERE state = 'active' ORDER BY name")]
            return [_inventory_item(p) for p in self.search.packages(c, ids, base_url)]
        return await self.db.read(tx)

    # -- quality ------------------------------------------------------------------------------------------------
    async def quality(self, identity: Identity, name: str) -> dict[str, Any]:
        """The MQA breakdown of a dataset the caller may read (see :mod:`urbanos.catalog.quality`)."""
        pkg = await self.package_show(identity, name)
        return assess(pkg, self.upload_dir, await fetch_downloads(pkg, self.upload_dir, platform_fetch(self.platform, identity)))

    async def freshness(self, name: str) -> dict[str, Any]:
        """{status, last_update, frequency, max_age_days, age_days} of a dataset (no metadata beyond dates)."""
        def tx(c: Connection) -> dict[str, Any]:
            row = find_dataset(c, name)
            return self.search.packages(c, [int(row["id"])])[0]
        return freshness(await self.db.read(tx))


def sorted_page(rows: list[dict[str, Any]], sort: ListSort, limit: int | None, offset: int) -> list[dict[str, Any]]:
    """Rows of organisations or groups (with their ``package_count``) in the order ``sort``, ties by name; then the
    page from ``offset``, at most ``limit`` rows."""
    field, desc = sort
    rows = sorted(rows, key=lambda r: r["name"])
    if field == "title":
        rows.sort(key=lambda r: str(r["title"] or r["name"]).casefold(), reverse=desc)
    elif field == "package_count":
        rows.sort(key=lambda r: int(r["package_count"]), reverse=desc)
    else:
        rows.sort(key=lambda r: r["name"], reverse=desc)
    return rows[offset: (offset + limit) if limit is not None else None]


def _inventory_item(p: dict[str, Any]) -> dict[str, Any]:
    item = {k: p[k] for k in ("name", "title", "access_level", "grounds", "grounds_labels", "legal_basis",
                              "review_date", "steward", "frequency", "theme", "metadata_modified", "owner_org")}
    item["publisher"] = p["publisher"]
    org = p["organization"]
    item["organization"] = {"name": org["name"], "title": org["title"]} if org else None
    item["notes"] = p["notes"] if p["access_level"] == "open" else p["notes"][:500]
    item["formats"] = sorted({r["format"] for r in p["resources"] if r["format"]})
    if p["access_level"] == "open":
        item["resources"] = [{"name": r["name"], "url": r["url"], "format": r["format"]} for r in p["resources"]]
    return item


__all__ = ["CatalogReads", "ListSort", "sorted_page", "RESOURCE_SELECT"]
