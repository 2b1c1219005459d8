"""Catalogue search: ``package_search`` over the facet index (:mod:`urbanos.catalog.facetindex`), full text and the
spatial index, always under the gate's dataset filter, with a cache of counts, facets and pages per query, caller's
access and catalogue version.

``q``/``fq`` are parsed by :mod:`urbanos.catalog.search` (bad ones raise ``SearchQueryError``, a 400).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from urbanos.catalog import index, writes
from urbanos.catalog import search as S
from urbanos.catalog.dicts import package_dicts, site_base
from urbanos.catalog.facetindex import FacetIndex, FacetIndexHolder, catalogue_version
from urbanos.catalog.model import FACET_FIELDS, GROUNDS, LICENSE_BY_ID, THEMES
from urbanos.catalog.records import marks
from urbanos.catalog.validation import parse_bbox
from urbanos.governance import Identity
from urbanos.platform import Platform
from urbanos.storage import Connection

Scores = Callable[[], list[tuple[Any, Any]]]


@dataclass
class _Where:
    """The SQL of one search: the caller's access filter, the ``q``/``fq``/bounding-box matches, and the compiler
    that collected the ranking terms."""

    sql: str
    params: list[Any]
    acc: str
    acc_params: list[Any]
    narrow: list[str]
    narrow_params: list[Any]
    comp: S.Compiler


class CatalogSearch:
    def __init__(self, platform: Platform) -> None:
        self.db = platform.db
        self.gate = platform.gate
        self.settings = platform.settings
        self.version: tuple[Any, ...] = ()
        """The catalogue version the cache belongs to (empty: not known yet, nothing is cached)."""
        self.cache: OrderedDict[Any, dict[str, Any]] = OrderedDict()
        self.cache_size = int(platform.settings.get("catalog_search_cache") or 0)
        self.facet_index = FacetIndexHolder()

    def packages(self, c: Connection, ids: list[int], base_url: str = "") -> list[dict[str, Any]]:
        """The packages of these dataset ids (the caller checked access)."""
        return package_dicts(c, ids, site_base(self.settings, base_url))

    async def ensure_indexed(self, force: bool = False) -> None:
        """Index datasets other capabilities inserted or changed (checked when the catalogue version moves)."""
        version = await self.db.read(catalogue_version)
        if version == self.version and not force:
            return
        stale = await self.db.read(index.stale_ids)
        if stale:
            while stale:  # in batches of STALE_LIMIT (after a migration that rebuilds the index: every dataset)
                await self.db.write(_reindex_stale)
                left = await self.db.read(index.stale_ids)
                stale = [] if left == stale else left  # a row that will not index must not keep the loop going
            version = ()  # the reindex changed rows: compute the version again next time
        self.version = version
        self.cache.clear()

    async def package_search(self, identity: Identity, q: str = "", fq: str = "", facet_fields: Iterable[str] = (),
                             rows: int = 10, start: int = 0, sort: str | None = None, facet_limit: int = 50,
                             include_private: bool = True, base_url: str = "", ext_bbox: Any = None,
                             facet_mincount: int = 1, prefix: bool = False) -> dict[str, Any]:
        """``prefix``: read ``q`` as the portal's search box does (every word also as a prefix)."""
        await self.ensure_indexed()
        return await self.db.read(lambda c: self.search_sync(
            c, identity, q=q, fq=fq, facet_fields=facet_fields, rows=rows, start=start, sort=sort, facet_limit=facet_limit,
            include_private=include_private, base_url=base_url, ext_bbox=ext_bbox, facet_mincount=facet_mincount,
            prefix=prefix))

    async def all_packages(self, identity: Identity, base_url: str = "", page: int = 1,
                           page_size: int = 100) -> tuple[list[dict[str, Any]], int]:
        """Packages the caller may see, by name, one page at a time (for DCAT export and harvesting)."""
        res = await self.package_search(identity, rows=page_size, start=(max(1, page) - 1) * page_size, sort="name asc",
                                        base_url=base_url)
        return res["results"], res["count"]

    def search_sync(self, c: Connection, identity: Identity, *, q: str = "", fq: str = "", facet_fields: Iterable[str] = (),
                    rows: int = 10, start: int = 0, sort: str | None = None, facet_limit: int = 50,
                    include_private: bool = True, base_url: str = "", ext_bbox: Any = None, facet_mincount: int = 1,
                    ids_only: bool = False, prefix: bool = False) -> dict[str, Any]:
        """``package_search`` inside a read transaction: {count, facets, search_facets, sort, results}."""
        rows = max(0, min(int(rows), 1000))
        start = max(0, int(start))
        fields = list(facet_fields or [])
        bad = [f for f in fields if f not in FACET_FIELDS]
        if bad:
            raise S.SearchQueryError(f"Cannot facet on {', '.join(map(repr, bad))}: use {', '.join(FACET_FIELDS)}.")
        w = self._where(c, identity, q, fq, include_private, ext_bbox, prefix)
        order = S.parse_sort(sort)
        ckey = (self.version, w.sql, tuple(w.params), tuple(fields)) if self.version and self.cache_size else None
        rank = w.comp.rank_query()
        page_order = [(col, direction) for col, _field, direction in order]
        scores = self._scores(c, rank) if rank and any(col is None for col, _d in page_order) else None
        idx = self.facet_index.get(c)
        hit = self.cache.get(ckey) if ckey else None
        mask: np.ndarray | None = None
        if hit is None or hit["version"] != idx.version:
            mask = self._mask(c, idx, w, include_private, scores)
            hit = {"version": idx.version, "count": int(mask.sum()), "facets": idx.counts(mask, fields),
                   "packed": np.packbits(mask), "pages": {}}
            if ckey:
                self._cache_put(ckey, hit)
        pkey = (tuple(page_order), rank, rows, start)
        page_ids = hit["pages"].get(pkey)
        if page_ids is None:
            if mask is None:
                mask = np.unpackbits(hit["packed"], count=len(idx.ids)).astype(bool)
            page_ids = idx.page(c, mask, page_order, scores, start, rows)
            if len(hit["pages"]) < 64:
                hit["pages"][pkey] = page_ids
        facets, search_facets = self._facets(c, fields, hit["facets"], facet_limit, facet_mincount)
        result: dict[str, Any] = {"count": hit["count"], "facets": facets, "search_facets": search_facets,
                                  "sort": sort or "score desc, metadata_modified desc"}
        result["results"] = page_ids if ids_only else self.packages(c, page_ids, base_url)
        return result

    def _where(self, c: Connection, identity: Identity, q: str, fq: str, include_private: bool, ext_bbox: Any,
               prefix: bool = False) -> _Where:
        comp = S.Compiler(c.dialect.name, prefix=prefix)
        where: list[str] = ["d.state = 'active'"]
        params: list[Any] = []
        acc, acc_params = self.gate.dataset_row_filter(identity, "d")
        where.append(acc)
        params += acc_params
        if not include_private:
            where.append("d.access_level = 'open'")
        narrow: list[str] = []  # q, fq and a bounding box: the database finds their matches
        narrow_params: list[Any] = []
        for text, words_as_prefixes in ((q, prefix), (fq, False)):
            comp.prefix = words_as_prefixes
            if text and text.strip() and text.strip() != "*:*":
                sql, p = comp.compile(S.parse(text))
                narrow.append(sql)
                narrow_params += p
        if ext_bbox:
            sql, p = c.spatial.bbox("catalog_spatial", "geom", parse_bbox(ext_bbox))
            narrow.append(f"d.id IN (SELECT id FROM catalog_spatial WHERE {sql})")
            narrow_params += p
        return _Where(" AND ".join(where + narrow), params + narrow_params, acc, acc_params, narrow, narrow_params, comp)

    @staticmethod
    def _mask(c: Connection, idx: FacetIndex, w: _Where, include_private: bool, scores: Scores | None) -> np.ndarray:
        """The datasets a search matches, as a mask over the facet index's positions."""
        mask = idx.active & idx.visible((w.acc, tuple(w.acc_params)), lambda: [r[0] for r in c.fetchall(
            f"SELECT d.id FROM datasets d WHERE {w.acc}", w.acc_params)])
        if not include_private:
            mask = mask & idx.level_mask("open")
        # one full-text term and nothing else: the datasets it ranks are its matches, read once with their scores
        comp = w.comp
        ranked_only = scores is not None and len(comp.rank_terms) == 1 and (" AND ".join(w.narrow), w.narrow_params) == \
            comp.fts_sql(comp.rank_terms[0])
        if ranked_only and scores is not None:
            mask = mask & idx.mask_of([r[0] for r in scores()])
        elif w.narrow:  # state and access are in the mask already
            mask = mask & idx.mask_of([r[0] for r in c.fetchall(
                f"SELECT d.id FROM datasets d WHERE {' AND '.join(w.narrow)}", w.narrow_params)])
        return mask

    @staticmethod
    def _scores(c: Connection, rank: str) -> Scores:
        """Relevance of the datasets matching ``rank``, as the page order reads it: smaller is better
        (bm25 on SQLite; ts_rank_cd, negated, on PostgreSQL). Read at most once."""
        params: tuple[str, ...]
        if c.dialect.name == "sqlite":
            sql, params = (f"SELECT rowid, bm25(catalog_fts, {', '.join(map(str, index.RANK_WEIGHTS))}) FROM catalog_fts"
                           " WHERE catalog_fts MATCH ?", (rank,))
        else:
            sql, params = ("SELECT dataset_id, -ts_rank_cd(tsv, CAST(? AS tsquery)) FROM catalog_search"
                           " WHERE tsv @@ CAST(? AS tsquery)", (rank, rank))
        memo: list[list[tuple[Any, Any]]] = []

        def read() -> list[tuple[Any, Any]]:
            if not memo:
                memo.append(c.fetchall(sql, params))
            return memo[0]
        return read

    def _cache_put(self, key: Any, value: dict[str, Any]) -> None:
        self.cache[key] = value
        while len(self.cache) > self.cache_size:
            try:
                self.cache.popitem(last=False)
            except KeyError:  # emptied by another reader thread
                break

    @staticmethod
    def _facets(c: Connection, fields: list[str], counts: dict[str, list[tuple[str, int]]], limit: int,
                mincount: int) -> tuple[dict[str, Any], dict[str, Any]]:
        labels: dict[str, dict[str, str]] = {}
        if "organization" in fields and counts["organization"]:
            names = [v for v, _ in counts["organization"]]
            labels["organization"] = {r[0]: r[1] or r[0] for r in c.fetchall(
                f"SELECT name, title FROM organizations WHERE name IN ({marks(names)})", names)}
        if "groups" in fields and counts["groups"]:
            names = [v for v, _ in counts["groups"]]
            labels["groups"] = {r[0]: r[1] or r[0] for r in c.fetchall(
                f"SELECT name, title FROM catalog_groups WHERE name IN ({marks(names)})", names)}
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


def _reindex_stale(c: Connection) -> None:
    for ds_id in index.stale_ids(c):
        writes.reindex(c, ds_id)


__all__ = ["CatalogSearch"]
