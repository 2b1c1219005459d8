"""Reading the collection registry (table ``feature_collections``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from urbanos.errors import NotFound
from urbanos.features.store.model import REGISTRY, CollectionMeta, Field
from urbanos.storage import Connection

_COLS = (
    "name, dataset_id, title, description, fields, geometry_type, source_crs, time_field, bbox, t_min, t_max,"
    " item_count, table_name, version, updated_at, extras, id"
)
_NCOLS = 17


def _json(v: Any) -> Any:
    if v is None or isinstance(v, dict | list):
        return v
    return orjson.loads(v)


def _meta(r: Sequence[Any]) -> CollectionMeta:
    fields = [Field(name=f["name"], type=f["type"], column=f["column"], title=f.get("title", "")) for f in _json(r[4]) or []]
    return CollectionMeta(
        name=r[0], dataset_id=None if r[1] is None else int(r[1]), title=r[2] or "", description=r[3] or "", fields=fields,
        geometry_type=r[5] or "", source_crs=r[6] or "OGC:CRS84", time_field=r[7], bbox=_json(r[8]), t_min=r[9], t_max=r[10],
        item_count=int(r[11] or 0), table_name=r[12], version=int(r[13]), updated_at=r[14], extras=_json(r[15]) or {},
        id=None if r[16] is None else int(r[16]),
    )


def get_collection(conn: Connection, name: str) -> CollectionMeta | None:
    row = conn.fetchone(f"SELECT {_COLS} FROM {REGISTRY} WHERE name = ?", (name,))
    return None if row is None else _meta(row)


def get_collection_access(conn: Connection, name: str) -> tuple[CollectionMeta | None, tuple[Any, ...] | None]:
    """The registry record and its dataset's (id, name, owner_org, access_level) in one query."""
    cols = ", ".join(f"f.{c.strip()}" for c in _COLS.split(","))
    row = conn.fetchone(
        f"SELECT {cols}, d.id, d.name, d.owner_org, d.access_level FROM {REGISTRY} f"
        " LEFT JOIN datasets d ON d.id = f.dataset_id WHERE f.name = ?", (name,))
    if row is None:
        return None, None
    return _meta(row[:_NCOLS]), (None if row[_NCOLS] is None else tuple(row[_NCOLS:_NCOLS + 4]))


def require_collection(conn: Connection, name: str) -> CollectionMeta:
    meta = get_collection(conn, name)
    if meta is None:
        raise NotFound(f"There is no collection {name!r}.")
    return meta


def list_collections(conn: Connection, where: str = "", params: Sequence[Any] = ()) -> list[CollectionMeta]:
    """All collections (``where`` filters the registry, e.g. a gate.dataset_filter on ``dataset_id``)."""
    sql = f"SELECT {_COLS} FROM {REGISTRY}" + (f" WHERE {where}" if where else "") + " ORDER BY name"
    return [_meta(r) for r in conn.fetchall(sql, params)]


def registry_stamp(conn: Connection) -> tuple[int, str]:
    """A cheap fingerprint of the registry (count, latest update): changes when any collection changes."""
    row = conn.fetchone(f"SELECT COUNT(*), MAX(updated_at) FROM {REGISTRY}")
    return (int(row[0]), row[1] or "") if row else (0, "")


__all__ = ["get_collection", "get_collection_access", "require_collection", "list_collections", "registry_stamp"]
