"""Reads of a collection's rows outside OGC API Features (downloads, the DataStore): the gate's checks on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from urbanos.errors import Forbidden, Unauthorized
from urbanos.features.store import CollectionMeta, FeatureRow
from urbanos.governance import Release

if TYPE_CHECKING:
    from urbanos.governance import DatasetAccess, Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection


def check_read(platform: Platform, conn: Connection, identity: Identity, meta: CollectionMeta) -> DatasetAccess | None:
    """Raise 401/403 unless ``identity`` may read the collection's dataset; returns its DatasetAccess."""
    if meta.dataset_id is None:
        return None
    ds, grants = platform.gate.dataset_access(conn, meta.dataset_id)
    if not platform.gate.can_read(identity, ds, grants):
        if identity.is_anonymous:
            raise Unauthorized(f"Collection {meta.name!r} is not open: send a bearer token that may read it.")
        raise Forbidden(f"Your token may not read collection {meta.name!r} ({ds.access_level if ds else 'restricted'}).")
    return ds


def transform_rows(platform: Platform, identity: Identity, ds: DatasetAccess | None,
                   rows: list[FeatureRow], shape: str = "datastore", collection: str | None = None) -> list[FeatureRow]:
    """Apply the gate's privacy transforms to feature rows (as ``{"id", "properties", "geometry"}`` dicts) read by a
    path of ``shape`` (``datastore``, ``datastore:sql``, ``download``) from ``collection``."""
    if ds is None:
        return rows
    dicts = [{"id": r.fid, "properties": r.properties, "geometry": r.geometry} for r in rows]
    meta = [{"collection": collection}] * len(dicts) if collection else None
    out = platform.gate.transform(identity, ds, dicts, Release(shape=shape, meta=meta))
    if out is dicts:
        return rows
    return [FeatureRow(int(d.get("id", 0)), d.get("properties") or {}, d.get("geometry")) for d in out]


__all__ = ["check_read", "transform_rows"]
