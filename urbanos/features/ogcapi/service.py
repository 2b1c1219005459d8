"""The features service: what a caller may see, items queries, single features and Part 4 writes.

Every read goes through the gate: the collection list is filtered with ``gate.dataset_filter``; a single
collection is checked with ``gate.can_read`` (an invisible collection is a 404, exactly like a missing one),
rows pass ``gate.transform`` and non-open reads are reported with ``gate.observe``. Each read also publishes
an anonymous :class:`~urbanos.events.Usage` event (dataset, collection, API, action, application — never an address).

Nothing is served from a cache: the registry is read in the same transaction as the data, so a collection
imported by another process is served on the next request. For single features the registry record of a
collection is kept by name, but each read checks it against the registry row (table, version, update time) and
reads the dataset's access level in the same query as the feature; a changed record is read again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shapely.geometry import box as make_box
from shapely.geometry.base import BaseGeometry

from urbanos.core.ids import parse_id
from urbanos.errors import NotFound, UrbanosError
from urbanos.features import store
from urbanos.features.ogcapi import cql2
from urbanos.features.ogcapi import crs as crsmod
from urbanos.features.ogcapi.documents import RawGeoJSON
from urbanos.features.ogcapi.params import ItemsQuery, bad
from urbanos.features.store import CollectionMeta, FeatureRow
from urbanos.features.usage import publish_usage
from urbanos.governance import DatasetAccess, Identity, Release
from urbanos.storage import Connection

if TYPE_CHECKING:
    from urbanos.platform import Platform

log = logging.getLogger("urbanos.features")


@dataclass
class ItemsResult:
    meta: CollectionMeta
    features: list[dict[str, Any]]
    number_matched: int
    number_returned: int
    query: ItemsQuery
    fields: list[store.Field] = field(default_factory=list)
    next_after: int | None = None  # the last feature id of a page in id order: the key of the next page


@dataclass
class Visible:
    meta: CollectionMeta
    ds: DatasetAccess | None = None


class FeaturesService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db
        self.gate = platform.gate
        self._metas: dict[str, CollectionMeta] = {}  # registry records by name, for single-feature reads

    @property
    def default_limit(self) -> int:
        return int(getattr(self.platform.settings, "features_default_limit", 10))

    @property
    def max_limit(self) -> int:
        return int(getattr(self.platform.settings, "features_max_limit", 10000))

    # -- access -----------------------------------------------------------------------------------
    def _visible(self, c: Connection, identity: Identity, name: str) -> Visible:
        meta, acc = store.get_collection_access(c, name)
        if meta is None:
            raise NotFound(f"There is no collection {name!r}.", code="NotFound")
        return self._check(c, identity, meta, acc)

    def _check(self, c: Connection, identity: Identity, meta: CollectionMeta, acc: tuple[Any, ...] | None) -> Visible:
        name = meta.name
        if acc is None:
            return Visible(meta, None)
        ds = DatasetAccess(int(acc[0]), acc[1], acc[2], acc[3])
        grants: list[str] = []
        if ds.access_level != "open" and not identity.is_anonymous and not identity.is_admin:
            grants = [r[0] for r in c.fetchall("SELECT subject FROM dataset_grants WHERE dataset_id = ?", (ds.id,))]
        if not self.gate.can_read(identity, ds, grants):
            raise NotFound(f"There is no collection {name!r}.", code="NotFound")
        return Visible(meta, ds)

    def _used(self, identity: Identity, vis: Visible, action: str) -> None:
        if vis.ds is not None:
            self.gate.observe(identity, vis.ds, f"ogcapi.{action}")
        publish_usage(self.platform, identity, "api_read", "ogcapi-features", vis.meta, vis.ds, action=action)

    def _transform(self, identity: Identity, vis: Visible, feats: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if vis.ds is None:
            return feats
        return self.gate.transform(identity, vis.ds, feats,
                                   Release(shape="feature", meta=[{"collection": vis.meta.name}] * len(feats)))

    # -- collections ------------------------------------------------------------------------------
    async def collections(self, identity: Identity) -> list[CollectionMeta]:
        def run(c: Connection) -> list[CollectionMeta]:
            where, params = self.gate.dataset_filter(identity, "dataset_id", c)  # the lists of the gate's cache
            return store.list_collections(c, where, params)

        return await self.db.read(run)

    async def collection(self, identity: Identity, name: str, action: str = "collection") -> CollectionMeta:
        vis = await self.db.read(lambda c: self._visible(c, identity, name))
        self._used(identity, vis, action)
        return vis.meta

    # -- items ------------------------------------------------------------------------------------
    def _where(self, c: Connection, meta: CollectionMeta, q: ItemsQuery) -> tuple[str, list[Any]]:
        conds: list[str] = []
        params: list[Any] = []
        sp = c.spatial
        if q.bbox:
            ors = []
            for b in q.bbox:
                if meta.geometry_type == "Point":  # for points the index box test is exact
                    s, p = sp.bbox(meta.table_name, "geom", b, id_column="fid")
                else:
                    s, p = sp.predicate("intersects", meta.table_name, "geom", make_box(*b), id_column="fid")
                ors.append(f"({s})")
                params.extend(p)
            conds.append(" OR ".join(ors))
        if q.datetime is not None and meta.time_field:
            conds.append(f"{meta.table_name}.t >= ? AND {meta.table_name}.t <= ?")
            params.extend(q.datetime)
        for name, raw in q.equals.items():
            f = meta.field(name)
            assert f is not None
            try:
                v = store.coerce(f.type, raw)
            except (ValueError, TypeError, OverflowError):
                raise bad(name, f"{raw!r} is not a valid {f.type}.") from None
            if v is None:
                conds.append(f"{meta.table_name}.{f.column} IS NULL")
            else:
                conds.append(f"{meta.table_name}.{f.column} = ?")
                params.append(v if not (f.type == "boolean" and c.dialect.name == "sqlite") else int(v))
        if q.filter is not None:
            s, p = cql2.where(c, meta, q.filter)
            conds.append(s)
            params.extend(p)
        return " AND ".join(f"({x})" for x in conds), params

    def _order(self, meta: CollectionMeta, q: ItemsQuery) -> list[tuple[str, bool]]:
        out = []
        for name, asc in q.sortby:
            f = meta.field(name)
            out.append((f.column if f is not None else "fid", asc))
        return out

    def _fields(self, meta: CollectionMeta, q: ItemsQuery) -> list[store.Field]:
        if q.properties is None:
            return list(meta.fields)
        return [f for f in meta.fields if f.name in q.properties]

    def feature_dict(self, row: FeatureRow, target_crs: str, skip_geometry: bool = False) -> dict[str, Any]:
        if row.geojson is not None and not skip_geometry:
            return {"type": "Feature", "id": row.fid, "geometry": RawGeoJSON(row.geojson), "properties": row.properties}
        geom: BaseGeometry | None = None if skip_geometry else row.geometry
        if geom is not None and target_crs != crsmod.CRS84:
            geom = crsmod.transform_geometry(geom, crsmod.CRS84, target_crs)
        return {"type": "Feature", "id": row.fid, "geometry": geom, "properties": row.properties}

    async def items(self, identity: Identity, name: str, parse: Callable[[set[str]], ItemsQuery]) -> ItemsResult:
        """``parse(field names)`` validates the request parameters once the collection is known (and visible)."""
        box: list[ItemsQuery] = []

        def run(c: Connection) -> tuple[Visible, list[FeatureRow], int, list[store.Field]]:
            vis = self._visible(c, identity, name)
            meta = vis.meta
            q = parse({f.name for f in meta.fields})
            box.append(q)
            where, params = self._where(c, meta, q)
            fields = self._fields(meta, q)
            rows = store.query(c, meta, where=where, params=params, order=self._order(meta, q), limit=q.limit,
                               offset=0 if q.after is not None else q.offset, after_fid=q.after, fields=fields,
                               geometry=not q.skip_geometry, geojson=q.crs == crsmod.CRS84)
            if not where:
                matched = meta.item_count
            elif q.offset == 0 and q.after is None and len(rows) < q.limit:
                matched = len(rows)
            else:
                matched = store.count(c, meta, where, params)
            return vis, rows, matched, fields

        vis, rows, matched, fields = await self.db.read(run)
        q = box[0]
        next_after = rows[-1].fid if rows and not q.sortby else None
        feats = [self.feature_dict(r, q.crs, q.skip_geometry) for r in rows]
        feats = self._transform(identity, vis, feats)
        self._used(identity, vis, "items")
        return ItemsResult(vis.meta, feats, matched, len(feats), q, fields, next_after)

    async def item(self, identity: Identity, name: str, fid_text: str, target_crs: str = crsmod.CRS84,
                   properties: list[str] | None = None) -> tuple[CollectionMeta, dict[str, Any]]:
        fid = _fid(fid_text)
        geojson = target_crs == crsmod.CRS84
        got: tuple[Visible, FeatureRow | None] | None = None
        known = self._metas.get(name) if properties is None else None
        if known is not None:
            def quick(c: Connection) -> tuple[Visible, FeatureRow | None] | None:
                found = store.feature_with_access(c, known, -1 if fid is None else fid, geojson=geojson)
                if found is None:
                    self._metas.pop(name, None)
                    raise NotFound(f"There is no collection {name!r}.", code="NotFound")
                stamp, acc, row = found
                if stamp != (known.table_name, known.version, known.updated_at):
                    return None
                return self._check(c, identity, known, acc), row

            try:
                got = await self.db.read_one(quick)
            except UrbanosError:
                raise
            except Exception:  # noqa: BLE001 - e.g. the table of the kept record was dropped by a re-import
                log.debug("kept record of %s is stale", name, exc_info=True)
            if got is None:
                self._metas.pop(name, None)

        def run(c: Connection) -> tuple[Visible, FeatureRow | None]:
            vis = self._visible(c, identity, name)
            if fid is None:
                return vis, None
            fields = vis.meta.fields if properties is None else [f for f in vis.meta.fields if f.name in properties]
            rows = store.query(c, vis.meta, where="fid = ?", params=(fid,), limit=1, fields=fields, geojson=geojson)
            return vis, rows[0] if rows else None

        if got is None:
            got = await self.db.read(run)
            if properties is None:
                if len(self._metas) >= 4096:
                    self._metas.clear()
                self._metas[name] = got[0].meta
        vis, row = got
        if row is None:
            raise NotFound(f"There is no feature {fid_text!r} in collection {name!r}.", code="NotFound")
        feats = self._transform(identity, vis, [self.feature_dict(row, target_crs)])
        if not feats:
            raise NotFound(f"There is no feature {fid_text!r} in collection {name!r}.", code="NotFound")
        self._used(identity, vis, "item")
        return vis.meta, feats[0]

    # -- Part 4 -----------------------------------------------------------------------------------
    def _check_write(self, c: Connection, identity: Identity, name: str) -> Visible:
        """The caller may publish to the organisation owning the collection's dataset (a collection without dataset
        needs a publisher without organisation), whether or not it may read the collection; a caller that may
        neither gets the 404 of a missing collection (:meth:`Gate.authorize_write`)."""
        meta, acc = store.get_collection_access(c, name)
        missing = NotFound(f"There is no collection {name!r}.", code="NotFound")
        if meta is None:
            raise missing
        ds = DatasetAccess(int(acc[0]), acc[1], acc[2], acc[3]) if acc is not None else None
        grants = [] if ds is None else [r[0] for r in c.fetchall(
            "SELECT subject FROM dataset_grants WHERE dataset_id = ?", (ds.id,))]
        self.gate.authorize_write(identity, ds, grants, missing)
        return Visible(meta, ds)

    async def writable(self, identity: Identity, name: str) -> Visible:
        """An early check (before a body is read); every write checks again in its own transaction."""
        return await self.db.read(lambda c: self._check_write(c, identity, name))

    async def create(self, identity: Identity, name: str, features: list[tuple[dict[str, Any], BaseGeometry | None]]) -> list[int]:
        def tx(c: Connection) -> list[int]:
            self._check_write(c, identity, name)
            return store.insert_features(c, name, features)

        return await self.db.write(tx)

    async def replace(self, identity: Identity, name: str, fid_text: str, props: dict[str, Any], geom: BaseGeometry | None) -> None:
        def tx(c: Connection) -> None:
            self._check_write(c, identity, name)
            store.replace_feature(c, name, _require_fid(fid_text, name), props, geom)

        await self.db.write(tx)

    async def patch(self, identity: Identity, name: str, fid_text: str, props: dict[str, Any], geom: BaseGeometry | None,
                    set_geom: bool) -> None:
        def tx(c: Connection) -> None:
            self._check_write(c, identity, name)
            store.patch_feature(c, name, _require_fid(fid_text, name), props, geom, set_geom=set_geom)

        await self.db.write(tx)

    async def delete(self, identity: Identity, name: str, fid_text: str) -> None:
        def tx(c: Connection) -> None:
            self._check_write(c, identity, name)
            store.delete_feature(c, name, _require_fid(fid_text, name))

        await self.db.write(tx)


def _fid(text: str) -> int | None:
    """A feature id from a path: ASCII digits only (``"²"`` is a digit to ``str.isdigit`` but not to ``int``)."""
    return parse_id(text)


def _require_fid(text: str, name: str) -> int:
    fid = _fid(text)
    if fid is None:
        raise NotFound(f"There is no feature {text!r} in collection {name!r}.", code="NotFound")
    return fid


__all__ = ["FeaturesService", "ItemsResult", "Visible"]
