"""What the features capability answers for others (:class:`~urbanos.ports.FeaturesPort`): the portal's previews
and import reports.

A preview reads through the same service call as an OGC API Features items request (``FeaturesService.items``), so
the same gate check (a collection the caller may not read is a NotFound, exactly like a missing one), the same
privacy transforms and the same read audit (``ogcapi.items``) and usage event apply. The answer carries no links: the
portal serves it to signed-in browsers, for which the OGC API links (read without the portal's sign-in) would not
work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shapely.geometry import shape

from urbanos.errors import Conflict, NotFound
from urbanos.features import purge, store
from urbanos.features.access import check_read, transform_rows
from urbanos.features.datastore import read_import
from urbanos.features.datastore.args import guess_type
from urbanos.features.downloads.encoders import FORMATS, encoder, parse_format
from urbanos.features.ogcapi.documents import feature_collection
from urbanos.features.ogcapi.params import ItemsQuery, parse_items

if TYPE_CHECKING:
    from urbanos.features.ogcapi.service import FeaturesService
    from urbanos.governance import Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection


HEAD_ROWS = 20  # rows encoded for a download's first bytes


class Features:
    """:class:`~urbanos.ports.FeaturesPort` over the features service of one platform."""

    def __init__(self, platform: Platform, service: FeaturesService) -> None:
        self.platform = platform
        self.service = service

    async def preview(self, identity: Identity, collection: str, limit: int) -> dict[str, Any]:
        """Up to ``limit`` features of ``collection`` (in feature id order, CRS84) as a FeatureCollection dict."""
        size = max(1, min(int(limit), int(self.service.max_limit)))

        def parse(fields: set[str]) -> ItemsQuery:
            return parse_items({"limit": str(size)}, fields=fields, default_limit=size, max_limit=size)

        res = await self.service.items(identity, collection, parse)
        return feature_collection(res.features, res.number_matched)

    async def import_report(self, resource_id: str) -> dict[str, Any] | None:
        """The import of ``resource_id`` as ``{status, report, failure, ...}`` (None: no import recorded). The report
        quotes cell values: callers show it only to those who may publish to the resource's dataset."""
        return await self.platform.db.read(lambda c: read_import(c, str(resource_id)))

    async def download_head(self, identity: Identity, collection: str, fmt: str, size: int) -> tuple[str, bytes]:
        """The media type and first ``size`` bytes of the download of ``collection`` as ``fmt``, encoded from its
        first rows by the download's own encoder (the whole file of a format written at its end: Parquet, XLSX)."""
        kind = parse_format(fmt)

        def read(c: Connection) -> bytes:
            meta = store.get_collection(c, collection)
            if meta is None:
                raise NotFound(f"There is no collection {collection!r}.", code="NotFound")
            ds = check_read(self.platform, c, identity, meta)
            enc = encoder(kind, meta)
            rows = transform_rows(self.platform, identity, ds, store.query(c, meta, limit=HEAD_ROWS), "download", meta.name)
            data = enc.start() + enc.add(rows)
            return (data + b"".join(enc.finish()))[: max(0, size)]

        return FORMATS[kind][0], await self.platform.db.read(read)

    def replace_collection(self, c: Connection, identity: Identity, dataset: str, collection: str,
                           features: list[dict[str, Any]], *, fields: list[dict[str, str]] | None = None,
                           time_field: str | None = None, title: str = "", description: str = "") -> int:
        """Replace ``collection`` of ``dataset`` with ``features`` in the caller's transaction (the store's atomic
        replace: a new versioned table, switched to at commit). Field types follow the values unless ``fields``
        declares them."""
        row = c.fetchone("SELECT id FROM datasets WHERE name = ?", (dataset,))
        missing = NotFound(f"There is no dataset {dataset!r}.", code="NotFound")
        if row is None:
            raise missing
        ds, grants = self.platform.gate.dataset_access(c, int(row[0]))
        self.platform.gate.authorize_write(identity, ds, grants, missing)
        meta = store.get_collection(c, collection)
        if meta is not None and meta.dataset_id != int(row[0]):
            raise Conflict(f"Collection {collection!r} belongs to another dataset.")
        rows = [(dict(f.get("properties") or {}), shape(f["geometry"]) if f.get("geometry") else None) for f in features]
        ids = [f.get("id") for f in features]
        fids = [int(i) for i in ids if isinstance(i, int) and not isinstance(i, bool)]
        fids_given = fids if ids and len(fids) == len(ids) else None
        if fields is None:
            names = list(dict.fromkeys(k for props, _ in rows for k in props))
            fields = [{"name": k, "type": guess_type([p.get(k) for p, _ in rows])} for k in names]
        store.replace_collection(c, collection, fields, rows, dataset_id=int(row[0]), time_field=time_field,
                                 title=meta.title if meta else title, fids=fids_given,
                                 description=meta.description if meta else description)
        return len(rows)

    def put_feature(self, c: Connection, identity: Identity, collection: str, fid: int,
                    feature: dict[str, Any] | None) -> bool:
        """Insert-or-replace (or, for None, delete) one feature by id, after the dataset's write check."""
        meta = store.get_collection(c, collection)
        missing = NotFound(f"There is no collection {collection!r}.", code="NotFound")
        if meta is None:
            raise missing
        ds, grants = self.platform.gate.dataset_access(c, meta.dataset_id) if meta.dataset_id is not None else (None, [])
        self.platform.gate.authorize_write(identity, ds, grants, missing)
        if feature is None:
            return store.remove_feature(c, collection, fid)
        geom = shape(feature["geometry"]) if feature.get("geometry") else None
        store.put_feature(c, collection, fid, dict(feature.get("properties") or {}), geom)
        return True

    def collection_dataset(self, c: Connection, name: str) -> tuple[bool, int | None]:
        """(exists, dataset id) of collection ``name``, read in the caller's transaction."""
        row = c.fetchone("SELECT dataset_id FROM feature_collections WHERE name = ?", (name,))
        if row is None:
            return False, None
        return True, None if row[0] is None else int(row[0])

    # -- retention (privacy) --------------------------------------------------------------------------------
    def purge_features(self, c: Connection, collection: str, before: str, time_property: str | None = None) -> int:
        return purge.purge_features(c, collection, before, time_property)

    def dataset_collections(self, c: Connection, dataset_id: int) -> list[str]:
        return purge.dataset_collections(c, dataset_id)


__all__ = ["Features"]
