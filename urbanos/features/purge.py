"""Retention purges of features (asked by the privacy capability through
:meth:`urbanos.ports.FeaturesPort.purge_features`): the rows of a collection whose time is before a cut-off are
deleted, and the registry's count and time extent are computed again (the bounding box is kept: it still contains
every remaining feature)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from urbanos.core.time import now_stored
from urbanos.errors import NotFound, ValidationFailed
from urbanos.events import Event
from urbanos.features.store.model import REGISTRY
from urbanos.features.store.registry import get_collection

if TYPE_CHECKING:
    from urbanos.storage import Connection


def purge_features(c: Connection, collection: str, before: str, time_property: str | None = None) -> int:
    """Delete the features of ``collection`` whose time is before ``before``; see
    :meth:`urbanos.ports.FeaturesPort.purge_features`."""
    if c.dialect.name == "postgresql":
        c.execute(f"SELECT name FROM {REGISTRY} WHERE name = ? FOR UPDATE", (collection,))
    meta = get_collection(c, collection)
    if meta is None:
        raise NotFound(f"There is no collection {collection!r}.")
    if time_property is None or time_property == meta.time_field:
        if not meta.time_field:
            return 0
        column = "t"
    else:
        f = meta.field(time_property)
        if f is None or f.type not in ("datetime", "date"):
            raise ValidationFailed(f"{time_property!r} is not a date or date-time property of collection "
                                   f"{collection!r}.")
        column = f.column
    n = int(c.execute(f"DELETE FROM {meta.table_name} WHERE {column} < ?", (before,)).rowcount or 0)
    if n:
        count = int(c.fetchval(f"SELECT COUNT(*) FROM {meta.table_name}") or 0)
        t_min, t_max = c.fetchone(f"SELECT MIN(t), MAX(t) FROM {meta.table_name}") or (None, None) \
            if meta.time_field else (None, None)
        c.execute(f"UPDATE {REGISTRY} SET item_count = ?, t_min = ?, t_max = ?, updated_at = ? WHERE name = ?",
                  (count, t_min, t_max, now_stored(), collection))
        c.emit(Event("updated", "FeatureCollection", collection, topic="features", dataset_id=meta.dataset_id,
                     data={"collection": collection, "version": meta.version, "count": count, "purged": n}))
    return n


def dataset_collections(c: Connection, dataset_id: int) -> list[str]:
    return [str(r[0]) for r in c.fetchall(f"SELECT name FROM {REGISTRY} WHERE dataset_id = ? ORDER BY name",
                                          (dataset_id,))]


__all__ = ["purge_features", "dataset_collections"]
