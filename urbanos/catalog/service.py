"""The catalogue service: ``platform.services["catalog"]``.

Stable methods for the portal, DCAT export and harvesting (``identity`` is a governance ``Identity``;
every read is filtered by the gate; errors are ``urbanos.errors`` classes):

Reads
  ``await package_show(identity, name_or_id, base_url="")`` -> CKAN package dict. Governance fields
      (access_level, grounds, legal_basis, review_date, steward, owner, frequency, theme, publisher,
      contact_name, contact_email, spatial, spatial_text, temporal_start, temporal_end) appear both as
      top-level keys and in ``extras``. 404 unknown, 403 when the caller may not read it.
  ``await package_search(identity, q="", fq="", facet_fields=(), rows=10, start=0, sort=None,
      facet_limit=50, include_private=True, base_url="", ext_bbox=None)`` -> {count, results, facets,
      search_facets, sort}. Bad q/fq/sort raise ``SearchQueryError`` (400).
  ``await package_list(identity, limit=None, offset=0)`` -> names
  ``await organization_show(identity, name, include_datasets=False)``, ``await organization_list(identity, all_fields=False)``
  ``await group_show(identity, name, include_datasets=False)``, ``await group_list(identity, all_fields=False)``
  ``await resource_show(identity, resource_id, base_url="")`` -> resource dict
  ``await resource_file(identity, resource_id)`` -> (Path, filename, media type, package name) for downloads
  ``await tag_list(identity, query="")``, ``license_list()``, ``status_show()``
  ``await quality(identity, name)`` -> MQA breakdown (see ``quality.py``)
  ``await freshness(name)`` -> {status, last_update, frequency, max_age_days, age_days}
  ``await inventory(identity)`` -> every active dataset with metadata only (title, publisher,
      access_level, grounds, legal_basis, review_date, steward, frequency; resource URLs only when open)
  ``await data_service_list(identity)`` -> DCAT data services the caller may see
  ``await all_packages(identity, base_url="", page=1, page_size=100)`` -> (packages, total) for exports
Writes (need a token with the publisher role for the organisation; admin for organisations/groups)
  ``package_create/package_update/package_patch(identity, data)``, ``package_delete(identity, id)``,
  ``dataset_purge(identity, id)``, ``resource_create/resource_update/resource_patch(identity, data,
  upload=None)`` with ``upload=(filename, bytes)``, ``resource_delete(identity, id)``,
  ``organization_create(identity, data)``, ``group_create(identity, data)``, ``member_create(identity, data)``,
  ``member_delete(identity, data)`` (organisation members get roles: see ``members.py``)
Usage
  ``record_usage(identity, kind, dataset="", resource="", api="")`` kind: view | download | api_read | search
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from urbanos.catalog import members, writes
from urbanos.catalog import search as S
from urbanos.catalog.facetindex import FacetIndexHolder, catalogue_version
from urbanos.catalog.model import GROUNDS, LICENSE_BY_ID, LICENSES, THEMES
from urbanos.catalog.usage import UsageRecorder
from urbanos.core.ids import is_ascii_digits, parse_id
from urbanos.errors import Forbidden, NotFound, ValidationFailed
from urbanos.governance import Identity
from urbanos.governance.gate import DatasetAccess
from urbanos.storage import Connection

if TYPE_CHECKING:
    from urbanos.platform import Platform

GOVERNANCE_KEYS = ("access_level", "grounds", "legal_basis", "review_date", "steward", "owner", "frequency", "theme",
                   "publisher", "contact_name", "contact_email", "spatial", "spatial_text", "temporal_start",
                   "temporal_end", "language", "issued", "conforms_to", "documentation", "rights")
LIST_KEYS = ("grounds", "theme", "language")


def jload(v: Any) -> Any:
    if v is None:
        return {}
    if isinstance(v, (dict, list)):
        return v
    if isinstance(v, (bytes, memoryview)):
        v = bytes(v)
    return orjson.loads(v)


def ckan_ts(ts: str | None) -> str | None:
    return ts.rstrip("Z") if ts else ts


def _in(ids: list[Any]) -> str:
    return ", ".join("?" * len(ids)) or "NULL"


class CatalogService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db
        self.gate = platform.gate
        self.settings = platform.settings
        self.usage = UsageRecorder(platform)
        self._sig: tuple[Any, ...] = ()
        self._cache: OrderedDict[Any, dict[str, Any]] = OrderedDict()
        self._cache_size = int(platform.settings.get("catalog_search_cache") or 0)
        self._facet_index = FacetIndexHolder()

    # -- helpers ----------------------------------------------------------------------------------------
    def base(self, base_url: str = "") -> str:
        return (base_url or str(self.settings.get("base_url") or "")).rstrip("/")

    @property
    def upload_dir(self) -> Path:
        return Path(self.settings.data_path) / "catalog" / "uploads"

    async def ensure_indexed(self, force: bool = False) -> None:
        """Index datasets other capabilities inserted or changed (checked when the catalogue version moves)."""
        sig = await self.db.read(catalogue_version)
        if sig == self._sig and not force:
            return
        stale = await self.db.read(writes.stale_ids)
        if stale:
            await self.db.write(lambda c: [writes.reindex(c, i) for i in writes.stale_ids(c)])
            sig = ()  # the reindex changed rows: compute the version again next time
        self._sig = sig
        self._cache.clear()

    def _resolve(self, c: Connection, name_or_id: Any, *, deleted: bool = False) -> dict[str, Any]:
        key = str(name_or_id or "")
        row = c.rows("SELECT id, name, owner_org, access_level, state FROM datasets WHERE name = ?", (key,))
        if not row and is_ascii_digits(key) and (ds_id := parse_id(key)) is not None:  # "²" or "١٢" is no id
            row = c.rows("SELECT id, name, owner_org, access_level, state FROM datasets WHERE id = ?", (ds_id,))
        if not row or (row[0]["state"] == "deleted" and not deleted):
            raise NotFound("Dataset not found")
        return row[0]

    def _check_read(self, c: Connection, identity: Identity, row: dict[str, Any], action: str) -> DatasetAccess:
        ds, grants = self.gate.dataset_access(c, int(row["id"]))
        if ds is None:
            raise NotFound("Dataset not found")
        if row["state"] == "deleted" and not identity.is_admin:
            raise NotFound("Dataset not found")
        if not self.gate.can_read(identity, ds, grants):
            raise Forbidden(f"Access denied: you may not read dataset {row['name']}.")
        self.gate.observe(identity, ds, action)
        return ds

    # -- package dicts ----------------------------------------------------------------------------------
    def packages(self, c: Connection, ids: list[int], base_url: str = "") -> list[dict[str, Any]]:
        if not ids:
            return []
        base = self.base(base_url)
        marks = _in(ids)
        rows = c.rows(
            "SELECT d.id, d.name, d.title, d.owner_org, d.access_level, d.created_at, d.modified_at, d.state, m.doc"
            f" FROM datasets d LEFT JOIN catalog_meta m ON m.dataset_id = d.id WHERE d.id IN ({marks})", ids)
        res: dict[int, list[dict[str, Any]]] = {}
        for r in c.rows(f"SELECT * FROM catalog_resources WHERE dataset_id IN ({marks}) ORDER BY dataset_id, position, created", ids):
            res.setdefault(int(r["dataset_id"]), []).append(r)
        groups: dict[int, list[dict[str, Any]]] = {}
        for g in c.rows("SELECT m.dataset_id, g.id, g.name, g.title, g.description, g.image_url FROM catalog_group_members m"
                        f" JOIN catalog_groups g ON g.id = m.group_id WHERE m.dataset_id IN ({marks}) ORDER BY g.name", ids):
            groups.setdefault(int(g["dataset_id"]), []).append(
                {"id": str(g["id"]), "name": g["name"], "title": g["title"] or g["name"], "display_name": g["title"] or g["name"],
                 "description": g["description"], "image_display_url": g["image_url"]})
        org_names = sorted({r["owner_org"] for r in rows if r["owner_org"]})
        orgs = {o["name"]: self._org_dict(o) for o in c.rows(
            f"SELECT id, name, title, description, created_at, extras FROM organizations WHERE name IN ({_in(org_names)})", org_names)}
        by_id = {int(r["id"]): self._package(r, res.get(int(r["id"]), []), groups.get(int(r["id"]), []), orgs, base) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    @staticmethod
    def _org_dict(o: dict[str, Any]) -> dict[str, Any]:
        extras = jload(o.get("extras")) or {}
        return {"id": str(o["id"]), "name": o["name"], "title": o["title"] or o["name"], "display_name": o["title"] or o["name"],
                "description": o["description"], "type": "organization", "is_organization": True, "state": "active",
                "approval_status": "approved", "created": ckan_ts(o["created_at"]),
                "image_url": extras.get("image_url", "") if isinstance(extras, dict) else ""}

    def resource_dict(self, r: dict[str, Any], package_name: str, base: str) -> dict[str, Any]:
        url = r["url"]
        if url.startswith("/"):
            url = base + url
        extras = jload(r.get("extras")) or {}
        out = {"id": r["id"], "package_id": str(r["dataset_id"]), "package_name": package_name, "name": r["name"],
               "description": r["description"], "url": url, "format": r["format"], "mimetype": r["mimetype"] or None,
               "size": r["size"], "url_type": r["url_type"] or None, "created": ckan_ts(r["created"]),
               "last_modified": ckan_ts(r["last_modified"]), "position": r["position"], "state": "active",
               "datastore_active": bool(r["datastore_active"]), "collection": r["collection"] or None}
        if isinstance(extras, dict):
            for k, v in extras.items():
                out.setdefault(k, v)
        return out

    def _package(self, r: dict[str, Any], resources: list[dict[str, Any]], groups: list[dict[str, Any]],
                 orgs: dict[str, dict[str, Any]], base: str) -> dict[str, Any]:
        doc = jload(r.get("doc")) or {}
        lic = LICENSE_BY_ID.get(doc.get("license_id") or "", {})
        org = orgs.get(r["owner_org"]) if r["owner_org"] else None
        tags = sorted(doc.get("tags") or [])
        pkg: dict[str, Any] = {
            "id": str(r["id"]), "name": r["name"], "title": r["title"] or r["name"], "type": "dataset", "state": r["state"],
            "private": r["access_level"] != "open", "owner_org": r["owner_org"], "organization": org,
            "notes": doc.get("notes", ""), "url": doc.get("url", ""), "version": doc.get("version", ""),
            "author": doc.get("author", ""), "author_email": doc.get("author_email", ""),
            "maintainer": doc.get("maintainer", ""), "maintainer_email": doc.get("maintainer_email", ""),
            "license_id": doc.get("license_id", ""), "license_title": lic.get("title", doc.get("license_id", "")),
            "license_url": lic.get("url", ""),
            "isopen": r["access_level"] == "open" and lic.get("od_conformance") == "approved",
            "metadata_created": ckan_ts(r["created_at"]), "metadata_modified": ckan_ts(r["modified_at"]),
            "tags": [{"name": t, "display_name": t, "state": "active", "vocabulary_id": None} for t in tags],
            "num_tags": len(tags), "groups": groups,
            "resources": [self.resource_dict(x, r["name"], base) for x in resources], "num_resources": len(resources),
            "relationships_as_object": [], "relationships_as_subject": [],
        }
        gov: dict[str, Any] = {}
        for k in GOVERNANCE_KEYS:
            v = doc.get(k)
            if k == "access_level":
                v = r["access_level"]
            elif k in LIST_KEYS:
                v = list(v or [])
            elif k == "spatial":
                v = orjson.dumps(v).decode() if v else ""
            elif k == "publisher":
                v = v or (org["title"] if org else "")
            elif v is None:
                v = ""
            gov[k] = v
        pkg.update(gov)
        pkg["grounds_labels"] = [GROUNDS.get(g, g) for g in gov["grounds"]]
        pkg["theme_labels"] = [THEMES.get(t, t) for t in gov["theme"]]
        extras = dict(doc.get("extras") or {})
        for k, v in gov.items():
            if v not in ("", []):
                extras[k] = ",".join(v) if isinstance(v, list) else str(v)
        pkg["extras"] = [{"key": k, "value": extras[k]} for k in sorted(extras)]
        return pkg

    # -- reads ------------------------------------------------------------------------------------------
    async def package_show(self, identity: Identity, name_or_id: Any, base_url: str = "", *, usage_api: str = "") -> dict[str, Any]:
        await self.ensure_indexed()

        def tx(c: Connection) -> dict[str, Any]:
            row = self._resolve(c, name_or_id, deleted=identity.is_admin)
            self._check_read(c, identity, row, "catalog.package_show")
            return self.packages(c, [int(row["id"])], base_url)[0]

        pkg = await self.db.read(tx)
        if usage_api:
            self.record_usage(identity, "api_read", pkg["name"], api=usage_api)
        return pkg

    async def resource_show(self, identity: Identity, resource_id: str, base_url: str = "", *, usage_api: str = "") -> dict[str, Any]:
        def tx(c: Connection) -> dict[str, Any]:
            r = c.rows("SELECT * FROM catalog_resources WHERE id = ?", (str(resource_id or ""),))
            if not r:
                raise NotFound("Resource was not found.")
            row = self._resolve(c, r[0]["dataset_id"], deleted=identity.is_admin)
            self._check_read(c, identity, row, "catalog.resource_show")
            return self.resource_dict(r[0], row["name"], self.base(base_url))

        res = await self.db.read(tx)
        if usage_api:
            self.record_usage(identity, "api_read", res["package_name"], res["id"], api=usage_api)
        return res

    async def resource_file(self, identity: Identity, resource_id: str, package: str | None = None) -> tuple[Path, str, str, str]:
        """The uploaded file of a resource, after the gate said yes (records a download)."""
        def tx(c: Connection) -> tuple[dict[str, Any], dict[str, Any]]:
            r = c.rows("SELECT * FROM catalog_resources WHERE id = ?", (str(resource_id or ""),))
            if not r or not r[0]["upload_path"]:
                raise NotFound("Resource file was not found.")
            row = self._resolve(c, r[0]["dataset_id"])
            if package is not None and package not in (row["name"], str(row["id"])):
                raise NotFound("Resource file was not found.")
            self._check_read(c, identity, row, "catalog.download")
            return r[0], row

        r, row = await self.db.read(tx)
        path = self.upload_dir / r["upload_path"]
        if not path.is_file():
            raise NotFound("Resource file was not found.")
        self.record_usage(identity, "download", row["name"], r["id"], api="download")
        return path, path.name, r["mimetype"] or "application/octet-stream", row["name"]

    async def package_list(self, identity: Identity, limit: int | None = None, offset: int = 0) -> list[str]:
        await self.ensure_indexed()
        acc, params = self.gate.dataset_filter(identity, "d.id")
        sql = f"SELECT d.name FROM datasets d WHERE d.state = 'active' AND {acc} ORDER BY d.name"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        elif offset:
            sql += f" LIMIT -1 OFFSET {int(offset)}" if self.db.dialect.name == "sqlite" else f" OFFSET {int(offset)}"
        return await self.db.read(lambda c: [r[0] for r in c.fetchall(sql, params)])

    async def package_search(self, identity: Identity, q: str = "", fq: str = "", facet_fields: Any = (), rows: int = 10,
                             start: int = 0, sort: str | None = None, facet_limit: int = 50, include_private: bool = True,
                             base_url: str = "", ext_bbox: Any = None, facet_mincount: int = 1) -> dict[str, Any]:
        await self.ensure_indexed()
        return await self.db.read(lambda c: self.search_sync(
            c, identity, q=q, fq=fq, facet_fields=facet_fields, rows=rows, start=start, sort=sort, facet_limit=facet_limit,
            include_private=include_private, base_url=base_url, ext_bbox=ext_bbox, facet_mincount=facet_mincount))

    def search_sync(self, c: Connection, identity: Identity, *, q: str = "", fq: str = "", facet_fields: Any = (), rows: int = 10,
                    start: int = 0, sort: str | None = None, facet_limit: int = 50, include_private: bool = True,
                    base_url: str = "", ext_bbox: Any = None, facet_mincount: int = 1, ids_only: bool = False) -> dict[str, Any]:
        rows = max(0, min(int(rows), 1000))
        start = max(0, int(start))
        facet_fields = list(facet_fields or [])
        from urbanos.catalog.model import FACET_FIELDS

        bad = [f for f in facet_fields if f not in FACET_FIELDS]
        if bad:
            raise S.SearchQueryError(f"Cannot facet on {', '.join(map(repr, bad))}: use {', '.join(FACET_FIELDS)}.")
        comp = S.Compiler(c.dialect.name)
        where: list[str] = ["d.state = 'active'"]
        params: list[Any] = []
        acc, acc_params = self.gate.dataset_row_filter(identity, "d")
        where.append(acc)
        params += acc_params
        if not include_private:
            where.append("d.access_level = 'open'")
        narrow: list[str] = []  # q, fq and a bounding box: the database finds their matches
        narrow_params: list[Any] = []
        for text in (q, fq):
            if text and text.strip() and text.strip() != "*:*":
                sql, p = comp.compile(S.parse(text))
                narrow.append(sql)
                narrow_params += p
        if ext_bbox:
            box = writes.parse_bbox(ext_bbox)
            sql, p = c.spatial.bbox("catalog_spatial", "geom", box)
            narrow.append(f"d.id IN (SELECT id FROM catalog_spatial WHERE {sql})")
            narrow_params += p
        where += narrow
        params += narrow_params
        order = S.parse_sort(sort)
        wsql = " AND ".join(where)
        ckey = (self._sig, wsql, tuple(params), tuple(facet_fields)) if self._sig and self._cache_size else None
        rank = comp.rank_query()
        page_order = [(col, direction) for col, _field, direction in order]
        scores = self._scores(c, rank) if rank and any(col is None for col, _d in page_order) else None
        # one full-text term and nothing else: the datasets it ranks are its matches, read once with their scores
        ranked_only = scores is not None and len(comp.rank_terms) == 1 and (" AND ".join(narrow), narrow_params) == \
            comp.fts_sql(comp.fts_query(*comp.rank_terms[0]) or "")
        idx = self._facet_index.get(c)
        hit = self._cache.get(ckey) if ckey else None
        mask: np.ndarray | None = None
        if hit is None or hit["version"] != idx.version:
            mask = idx.active & idx.visible((acc, tuple(acc_params)), lambda: [r[0] for r in c.fetchall(
                f"SELECT d.id FROM datasets d WHERE {acc}", acc_params)])
            if not include_private:
                mask = mask & idx.level_mask("open")
            if ranked_only and scores is not None:
                mask = mask & idx.mask_of([r[0] for r in scores()])
            elif narrow:  # state and access are in the mask already
                mask = mask & idx.mask_of([r[0] for r in c.fetchall(
                    f"SELECT d.id FROM datasets d WHERE {' AND '.join(narrow)}", narrow_params)])
            hit = {"version": idx.version, "count": int(mask.sum()), "facets": idx.counts(mask, facet_fields),
                   "packed": np.packbits(mask), "pages": {}}
            if ckey:
                self._cache_put(ckey, hit)
        count = hit["count"]
        pkey = (tuple(page_order), rank, rows, start)
        page_ids = hit["pages"].get(pkey)
        if page_ids is None:
            if mask is None:
                mask = np.unpackbits(hit["packed"], count=len(idx.ids)).astype(bool)
            page_ids = idx.page(c, mask, page_order, scores, start, rows)
            if len(hit["pages"]) < 64:
                hit["pages"][pkey] = page_ids
        facets, search_facets = self._facets(c, facet_fields, hit["facets"], facet_limit, facet_mincount)
        result: dict[str, Any] = {"count": count, "facets": facets, "search_facets": search_facets,
                                  "sort": sort or "score desc, metadata_modified desc"}
        result["results"] = page_ids if ids_only else self.packages(c, page_ids, base_url)
        return result

    @staticmethod
    def _scores(c: Connection, rank: str) -> Callable[[], list[tuple[Any, Any]]]:
        """Relevance of the datasets matching ``rank``, as the page order reads it: smaller is better
        (bm25 on SQLite; ts_rank_cd, negated, on PostgreSQL). Read at most once."""
        if c.dialect.name == "sqlite":
            sql, params = ("SELECT rowid, bm25(catalog_fts, 4.0, 10.0, 2.0, 5.0, 1.0) FROM catalog_fts"
                           " WHERE catalog_fts MATCH ?", (rank,))
        else:
            sql, params = ("SELECT dataset_id, -ts_rank_cd(tsv, to_tsquery('simple', ?)) FROM catalog_search"
                           " WHERE tsv @@ to_tsquery('simple', ?)", (rank, rank))
        memo: list[list[tuple[Any, Any]]] = []

        def read() -> list[tuple[Any, Any]]:
            if not memo:
                memo.append(c.fetchall(sql, params))
            return memo[0]
        return read

    def _cache_put(self, key: Any, value: dict[str, Any]) -> None:
        self._cache[key] = value
        while len(self._cache) > self._cache_size:
            try:
                self._cache.popitem(last=False)
            except KeyError:  # emptied by another reader thread
                break

    def _facets(self, c: Connection, fields: list[str], counts: dict[str, list[tuple[str, int]]], limit: int,
                mincount: int) -> tuple[dict[str, Any], dict[str, Any]]:
        labels: dict[str, dict[str, str]] = {}
        if "organization" in fields and counts["organization"]:
            names = [v for v, _ in counts["organization"]]
            labels["organization"] = {r[0]: r[1] or r[0] for r in c.fetchall(
                f"SELECT name, title FROM organizations WHERE name IN ({_in(names)})", names)}
        if "groups" in fields and counts["groups"]:
            names = [v for v, _ in counts["groups"]]
            labels["groups"] = {r[0]: r[1] or r[0] for r in c.fetchall(
                f"SELECT name, title FROM catalog_groups WHERE name IN ({_in(names)})", names)}
        labels["theme"] = THEMES
        labels["license_id"] = {k: v["title"] for k, v in LICENSE_BY_ID.items()}
        labels["grounds"] = GROUNDS
        facets: dict[str, Any] = {}
        search_facets: dict[str, Any] = {}
        for f in fields:
            items = sorted((x for x in counts[f] if x[1] >= mincount), key=lambda x: (-x[1], x[0]))
            if limit is not None and int(limit) >= 0:
                items = items[: int(limit)]
            facets[f] = {v: n for v, n in items}
            lab = labels.get(f, {})
            search_facets[f] = {"title": f, "items": [{"name": v, "display_name": lab.get(v, v), "count": n} for v, n in items]}
        return facets, search_facets

    async def all_packages(self, identity: Identity, base_url: str = "", page: int = 1, page_size: int = 100) -> tuple[list[dict[str, Any]], int]:
        """Packages the caller may see, by name, one page at a time (for DCAT export and harvesting)."""
        res = await self.package_search(identity, rows=page_size, start=(max(1, page) - 1) * page_size, sort="name asc", base_url=base_url)
        return res["results"], res["count"]

    async def organization_list(self, identity: Identity, all_fields: bool = False, limit: int | None = None, offset: int = 0) -> list[Any]:
        def tx(c: Connection) -> list[Any]:
            orgs = c.rows("SELECT id, name, title, description, created_at, extras FROM organizations ORDER BY name")
            orgs = orgs[offset: (offset + limit) if limit is not None else None]
            if not all_fields:
                return [o["name"] for o in orgs]
            counts = self._org_counts(c, identity)
            return [{**self._org_dict(o), "package_count": counts.get(o["name"], 0)} for o in orgs]
        return await self.db.read(tx)

    def _org_counts(self, c: Connection, identity: Identity) -> dict[str, int]:
        acc, params = self.gate.dataset_filter(identity, "d.id")
        return {r[0]: int(r[1]) for r in c.fetchall(
            f"SELECT d.owner_org, COUNT(*) FROM datasets d WHERE d.state = 'active' AND {acc} GROUP BY d.owner_org", params)}

    async def organization_show(self, identity: Identity, name_or_id: Any, include_datasets: bool = False, base_url: str = "") -> dict[str, Any]:
        await self.ensure_indexed()

        def tx(c: Connection) -> dict[str, Any]:
            key = str(name_or_id or "")
            o = c.rows("SELECT id, name, title, description, created_at, extras FROM organizations WHERE name = ? OR CAST(id AS TEXT) = ?", (key, key))
            if not o:
                raise NotFound("Organization was not found.")
            out = self._org_dict(o[0])
            out["package_count"] = self._org_counts(c, identity).get(o[0]["name"], 0)
            out["users"] = [{"name": r[0], "capacity": r[1]} for r in c.fetchall(
                "SELECT subject, capacity FROM catalog_org_members WHERE org = ? ORDER BY subject", (o[0]["name"],))] if identity.is_admin else []
            if include_datasets:
                res = self.search_sync(c, identity, fq=f'organization:"{o[0]["name"]}"', rows=1000, sort="name asc", base_url=base_url)
                out["packages"] = res["results"]
            return out
        return await self.db.read(tx)

    async def group_list(self, identity: Identity, all_fields: bool = False) -> list[Any]:
        def tx(c: Connection) -> list[Any]:
            groups = c.rows("SELECT id, name, title, description, image_url, created_at FROM catalog_groups ORDER BY name")
            if not all_fields:
                return [g["name"] for g in groups]
            counts = self._group_counts(c, identity)
            return [{**self._group_dict(g), "package_count": counts.get(int(g["id"]), 0)} for g in groups]
        return await self.db.read(tx)

    @staticmethod
    def _group_dict(g: dict[str, Any]) -> dict[str, Any]:
        return {"id": str(g["id"]), "name": g["name"], "title": g["title"] or g["name"], "display_name": g["title"] or g["name"],
                "description": g["description"], "image_url": g["image_url"], "type": "group", "is_organization": False,
                "state": "active", "created": ckan_ts(g["created_at"])}

    def _group_counts(self, c: Connection, identity: Identity) -> dict[int, int]:
        acc, params = self.gate.dataset_filter(identity, "d.id")
        return {int(r[0]): int(r[1]) for r in c.fetchall(
            "SELECT m.group_id, COUNT(*) FROM catalog_group_members m JOIN datasets d ON d.id = m.dataset_id"
            f" WHERE d.state = 'active' AND {acc} GROUP BY m.group_id", params)}

    async def group_show(self, identity: Identity, name_or_id: Any, include_datasets: bool = False, base_url: str = "") -> dict[str, Any]:
        await self.ensure_indexed()

        def tx(c: Connection) -> dict[str, Any]:
            key = str(name_or_id or "")
            g = c.rows("SELECT id, name, title, description, image_url, created_at FROM catalog_groups WHERE name = ? OR CAST(id AS TEXT) = ?", (key, key))
            if not g:
                raise NotFound("Group was not found.")
            out = self._group_dict(g[0])
            out["package_count"] = self._group_counts(c, identity).get(int(g[0]["id"]), 0)
            if include_datasets:
                out["packages"] = self.search_sync(c, identity, fq=f'groups:"{g[0]["name"]}"', rows=1000, sort="name asc", base_url=base_url)["results"]
            return out
        return await self.db.read(tx)

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
        from urbanos import __version__

        return {"site_title": f"urbanos — {self.settings.city_name}", "site_url": self.base(), "site_description": "",
                "ckan_version": "2.10.0", "urbanos_version": __version__, "api_version": 3, "locale_default": "en",
                "error_emails_to": None, "extensions": ["urbanos-catalog", "dcat", "harvest", "datastore"]}

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
        await self.ensure_indexed()

        def tx(c: Connection) -> list[dict[str, Any]]:
            ids = [int(r[0]) for r in c.fetchall("SELECT id FROM datasets WHERE state = 'active' ORDER BY name")]
            out = []
            for p in self.packages(c, ids, base_url):
                item = {k: p[k] for k in ("name", "title", "access_level", "grounds", "grounds_labels", "legal_basis",
                                          "review_date", "steward", "frequency", "theme", "metadata_modified", "owner_org")}
                item["publisher"] = p["publisher"]
                org = p["organization"]
                item["organization"] = {"name": org["name"], "title": org["title"]} if org else None
                item["notes"] = p["notes"] if p["access_level"] == "open" else p["notes"][:500]
                item["formats"] = sorted({r["format"] for r in p["resources"] if r["format"]})
                if p["access_level"] == "open":
                    item["resources"] = [{"name": r["name"], "url": r["url"], "format": r["format"]} for r in p["resources"]]
                out.append(item)
            return out
        return await self.db.read(tx)

    # -- quality ----------------------------------------------------------------------------------------
    async def quality(self, identity: Identity, name: str) -> dict[str, Any]:
        from urbanos.catalog.quality import assess

        pkg = await self.package_show(identity, name)
        return assess(pkg, self.upload_dir)

    async def freshness(self, name: str) -> dict[str, Any]:
        from urbanos.catalog.quality import freshness

        def tx(c: Connection) -> dict[str, Any]:
            row = self._resolve(c, name)
            return self.packages(c, [int(row["id"])])[0]
        return freshness(await self.db.read(tx))

    # -- writes (see writes.py) -------------------------------------------------------------------------
    async def package_create(self, identity: Identity, data: dict[str, Any], base_url: str = "") -> dict[str, Any]:
        ds_id = await self.db.write(lambda c: writes.package_write(c, self.gate, identity, data, mode="create"))
        return await self._show_id(ds_id, base_url)

    async def package_update(self, identity: Identity, data: dict[str, Any], base_url: str = "") -> dict[str, Any]:
        ds_id = await self.db.write(lambda c: writes.package_write(c, self.gate, identity, data, mode="update"))
        return await self._show_id(ds_id, base_url)

    async def package_patch(self, identity: Identity, data: dict[str, Any], base_url: str = "") -> dict[str, Any]:
        def tx(c: Connection) -> int:
            row = self._resolve(c, data.get("id") or data.get("name"), deleted=True)
            current = self.packages(c, [int(row["id"])])[0]
            return writes.package_write(c, self.gate, identity, writes.merge_patch(current, data), mode="update")
        ds_id = await self.db.write(tx)
        return await self._show_id(ds_id, base_url)

    async def _show_id(self, ds_id: int, base_url: str) -> dict[str, Any]:
        return (await self.db.read(lambda c: self.packages(c, [ds_id], base_url)))[0]

    async def package_delete(self, identity: Identity, name_or_id: Any) -> None:
        await self.db.write(lambda c: writes.package_delete(c, self.gate, identity, name_or_id, purge=False))

    async def dataset_purge(self, identity: Identity, name_or_id: Any) -> None:
        paths = await self.db.write(lambda c: writes.package_delete(c, self.gate, identity, name_or_id, purge=True))
        for p in paths or []:
            writes.remove_upload(self.upload_dir, p)

    async def resource_create(self, identity: Identity, data: dict[str, Any], upload: tuple[str, bytes] | None = None,
                              base_url: str = "") -> dict[str, Any]:
        return await self._resource_write(identity, data, upload, "create", base_url)

    async def resource_update(self, identity: Identity, data: dict[str, Any], upload: tuple[str, bytes] | None = None,
                              base_url: str = "") -> dict[str, Any]:
        return await self._resource_write(identity, data, upload, "update", base_url)

    async def resource_patch(self, identity: Identity, data: dict[str, Any], upload: tuple[str, bytes] | None = None,
                             base_url: str = "") -> dict[str, Any]:
        return await self._resource_write(identity, data, upload, "patch", base_url)

    async def _resource_write(self, identity: Identity, data: dict[str, Any], upload: tuple[str, bytes] | None, mode: str,
                              base_url: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationFailed("The resource must be a JSON object.", code="validation_error")
        staged = writes.stage_upload(self.settings, self.upload_dir, upload) if upload else None
        try:
            rid, old = await self.db.write(lambda c: writes.resource_write(c, self.gate, identity, data, staged, mode, self.upload_dir))
        except BaseException:
            if staged:
                writes.remove_upload(self.upload_dir, staged["upload_path"])
            raise
        if old and (not staged or old != staged["upload_path"]):
            writes.remove_upload(self.upload_dir, old)

        def tx(c: Connection) -> dict[str, Any]:
            r = c.rows("SELECT r.*, d.name AS package_name FROM catalog_resources r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?", (rid,))
            return self.resource_dict(r[0], r[0]["package_name"], self.base(base_url))
        return await self.db.read(tx)

    async def resource_delete(self, identity: Identity, resource_id: Any) -> None:
        path = await self.db.write(lambda c: writes.resource_delete(c, self.gate, identity, resource_id))
        if path:
            writes.remove_upload(self.upload_dir, path)

    async def organization_create(self, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
        name = await self.db.write(lambda c: writes.organization_create(c, identity, data))
        return await self.organization_show(identity, name)

    async def group_create(self, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
        name = await self.db.write(lambda c: writes.group_create(c, identity, data))
        return await self.group_show(identity, name)

    async def member_create(self, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
        out = await self.db.write(lambda c: members.member_create(c, self.gate, identity, data))
        if out["table_name"] == "user":
            self.gate.forget_tokens()  # cached identities carry the memberships they were verified with
        return out

    async def member_delete(self, identity: Identity, data: dict[str, Any]) -> None:
        await self.db.write(lambda c: members.member_delete(c, self.gate, identity, data))
        self.gate.forget_tokens()

    # -- usage ------------------------------------------------------------------------------------------
    def record_usage(self, identity: Identity, kind: str, dataset: str = "", resource: str = "", api: str = "") -> None:
        self.usage.record(kind, dataset=dataset, resource=resource, api=api, application=identity.application or "")


__all__ = ["CatalogService", "GOVERNANCE_KEYS", "jload", "ckan_ts"]
