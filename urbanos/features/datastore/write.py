"""The DataStore's writes: ``datastore_create``, ``datastore_upsert`` and ``datastore_delete``.

Writes need the publisher role for the organisation of every dataset they touch (the collection's and the
resource's); a target the caller may not see is a 404 worded like a missing one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from urbanos.errors import NotFound, ValidationFailed
from urbanos.features import store
from urbanos.features.datastore.args import (
    CKAN_TYPES,
    FROM_CKAN,
    guess_type,
    invalid,
    json_arg,
    resource_id_arg,
    row_id,
)
from urbanos.features.datastore.resources import bind, free_name, require_meta, require_write, resolve
from urbanos.features.datastore.search import filter_where
from urbanos.ports import CatalogPort

if TYPE_CHECKING:
    from urbanos.governance import Identity
    from urbanos.platform import Platform
    from urbanos.storage import Connection


def _parse_fields(raw: Any, records: list[dict[str, Any]]) -> list[store.Field]:
    out: list[store.Field] = []
    if raw is not None:
        if not isinstance(raw, list):
            raise invalid("fields", "Must be a list of {id, type}")
        for f in raw:
            if not isinstance(f, dict) or not isinstance(f.get("id"), str) or not f["id"]:
                raise invalid("fields", "Every field needs an id")
            if f["id"].startswith("_") or f["id"] == "_id":
                raise invalid("fields", f'"{f["id"]}" is not a valid field name')
            ckan = str(f.get("type") or "").lower()
            kind = FROM_CKAN.get(ckan) if ckan else guess_type([r.get(f["id"]) for r in records])
            if kind is None:
                raise invalid("fields", f'"{ckan}" is not a valid field type')
            out.append(store.Field(f["id"], kind))
    seen = {f.name for f in out}
    for r in records:
        for k in r:
            if k not in seen and k != "_id":
                out.append(store.Field(k, guess_type([x.get(k) for x in records])))
                seen.add(k)
    return out


def _records(data: dict[str, Any]) -> list[dict[str, Any]]:
    recs = json_arg(data, "records")
    if recs is None:
        return []
    if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
        raise invalid("records", "Must be a list of objects")
    return recs


def _pk(value: Any) -> list[str]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return value
    raise invalid("primary_key", "Must be a field name or a list of them")


def _check_unique(records: list[dict[str, Any]], pk: list[str]) -> None:
    if not pk:
        return
    seen: set[tuple[Any, ...]] = set()
    for i, r in enumerate(records):
        key = tuple(orjson.dumps(r.get(k)) for k in pk)
        if key in seen:
            raise invalid("records", f"record {i + 1}: duplicate key {', '.join(f'{k}={r.get(k)!r}' for k in pk)}")
        seen.add(key)


def _merged_fields(meta: store.CollectionMeta | None, fields: list[store.Field], typed: bool) -> list[store.Field]:
    """The collection's fields followed by the new ones; ``typed`` (the caller gave types): a known field may not
    change its type."""
    old_fields = meta.fields if meta is not None else []
    merged = [store.Field(f.name, f.type, title=f.title) for f in old_fields]
    known = {f.name: f for f in old_fields}
    for f in fields:
        if f.name in known and known[f.name].type != f.type and typed:
            raise invalid("fields", f'field "{f.name}" already exists with type {CKAN_TYPES[known[f.name].type]}')
        if f.name not in known:
            merged.append(f)
    return merged


async def datastore_create(platform: Platform, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
    """CKAN's datastore_create: a table for ``resource_id``, or, given ``resource`` (a resource dict with
    ``package_id``) and no ``resource_id``, the resource and its table in one transaction, with resource_create's
    checks (:meth:`~urbanos.ports.CatalogPort.create_resource`): a refusal or a bad value creates neither."""
    new_resource = data.get("resource_id") in (None, "") and data.get("resource") is not None
    rid = "" if new_resource else resource_id_arg(data)
    if new_resource and not isinstance(data["resource"], dict):
        raise invalid("resource", 'Must be an object: the resource to create, e.g. {"package_id": …, "name": …}')
    records = _records(data)
    pk = _pk(data.get("primary_key"))
    fields = _parse_fields(json_arg(data, "fields"), records)
    names = {f.name for f in fields}
    for k in pk:
        if k not in names:
            raise invalid("primary_key", f'field "{k}" not in table')
    _check_unique(records, pk)

    def tx(c: Connection) -> dict[str, Any]:
        target = _new_resource(platform, c, identity, data["resource"]) if new_resource else rid
        return _create_table(platform, c, identity, target, data, records, fields, pk)

    return await platform.db.write(tx)


def _new_resource(platform: Platform, c: Connection, identity: Identity, resource: dict[str, Any]) -> str:
    """The id of the resource datastore_create makes, in the caller's transaction."""
    catalog = platform.optional(CatalogPort)
    if catalog is None:
        raise invalid("resource", "This platform has no catalogue to create a resource in: give resource_id, the name of"
                      " a collection")
    return catalog.create_resource(c, identity, resource).id


def _create_table(platform: Platform, c: Connection, identity: Identity, rid: str, data: dict[str, Any],
                  records: list[dict[str, Any]], fields: list[store.Field], pk: list[str]) -> dict[str, Any]:
    meta, ref = resolve(platform, c, rid)
    if meta is None and ref is None:
        raise NotFound(f'Resource "{rid}" was not found.')
    dataset_id = meta.dataset_id if meta is not None else (ref.dataset_id if ref is not None else None)
    require_write(platform, c, identity, rid, meta, ref)
    name = meta.name if meta is not None else free_name(c, rid)
    merged = _merged_fields(meta, fields, data.get("fields") is not None)
    old_rows: list[tuple[dict[str, Any], Any]] = []
    if meta is not None:
        old_rows = [(r.properties, r.geometry) for r in store.iter_features(c, meta)]
    keys = pk or (meta.extras.get("primary_key", []) if meta is not None else [])
    if keys and old_rows:
        _check_unique([p for p, _ in old_rows] + records, keys)
    try:
        new = store.replace_collection(
            c, name, merged, old_rows + [(r, None) for r in records],
            geometry_type=meta.geometry_type if meta is not None else "",
            source_crs=meta.source_crs if meta is not None else "OGC:CRS84",
            time_field=meta.time_field if meta is not None else None, dataset_id=dataset_id,
            title=meta.title if meta is not None else str(data.get("title") or name),
            description=meta.description if meta is not None else "",
            extras={**(meta.extras if meta is not None else {}), "resource_id": rid, "primary_key": keys})
    except ValidationFailed as exc:
        raise invalid("records", exc.message) from None
    if ref is not None:
        bind(platform, c, rid, new.name)
    return {"resource_id": rid, "fields": [{"id": f.name, "type": CKAN_TYPES[f.type]} for f in new.fields],
            "primary_key": keys, "method": "insert", "records": records}


def _find_fid(c: Connection, meta: store.CollectionMeta, keys: list[str], rec: dict[str, Any]) -> int | None:
    if "_id" in rec and rec["_id"] is not None:
        fid = row_id(rec["_id"])
        if fid is None:
            raise invalid("records", f"_id {rec['_id']!r} is not an integer") from None
        return fid if c.fetchone(f"SELECT 1 FROM {meta.table_name} WHERE fid = ?", (fid,)) else None
    conds, params = [], []
    for k in keys:
        f = meta.field(k)
        assert f is not None
        if k not in rec:
            raise invalid("records", f'fields "{k}" are missing but needed as key')
        try:
            conds.append(f"{f.column} = ?")
            params.append(store.coerce(f.type, rec[k]))
        except (ValueError, TypeError, OverflowError):
            raise invalid("records", f'invalid value for key "{k}"') from None
    row = c.fetchone(f"SELECT fid FROM {meta.table_name} WHERE {' AND '.join(conds)}", params)
    return None if row is None else int(row[0])


def _upsert_rows(c: Connection, meta: store.CollectionMeta, records: list[dict[str, Any]], method: str,
                 keys: list[str]) -> None:
    if method == "insert":
        store.insert_features(c, meta.name, [(r, None) for r in records])
        return
    for i, r in enumerate(records, start=1):
        if not keys and "_id" not in r:
            raise invalid("records", f"record {i}: the table has no primary key; give _id")
        fid = _find_fid(c, meta, keys, r)
        props = {k: v for k, v in r.items() if k != "_id"}
        if fid is not None:
            store.patch_feature(c, meta.name, fid, props)
        elif method == "update":
            raise invalid("records", f"record {i}: key not found")
        else:
            store.insert_features(c, meta.name, [(props, None)])


async def datastore_upsert(platform: Platform, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
    rid = resource_id_arg(data)
    records = _records(data)
    method = data.get("method") or "upsert"
    if method not in ("upsert", "insert", "update"):
        raise invalid("method", 'Must be one of "upsert", "insert", "update"')

    def tx(c: Connection) -> dict[str, Any]:
        meta, ref = require_meta(platform, c, rid)
        require_write(platform, c, identity, rid, meta, ref)
        known = {f.name for f in meta.fields}
        unknown = sorted({k for r in records for k in r if k not in known and k != "_id"})
        if unknown:
            raise invalid("records", f'fields "{", ".join(unknown)}" do not exist')
        keys = list(meta.extras.get("primary_key") or [])
        try:
            _upsert_rows(c, meta, records, method, keys)
        except ValidationFailed as exc:
            if exc.detail and "records" in exc.detail:
                raise
            raise invalid("records", exc.message) from None
        except NotFound as exc:
            raise invalid("records", exc.message) from None
        if keys:
            key_cols = ", ".join(meta.field(k).column for k in keys)  # type: ignore[union-attr]
            dup = c.fetchone(f"SELECT COUNT(*) FROM {meta.table_name} GROUP BY {key_cols} HAVING COUNT(*) > 1")
            if dup is not None:
                raise invalid("records", "duplicate key value violates the primary key")
        return {"resource_id": rid, "method": method, "records": records}

    return await platform.db.write(tx)


async def datastore_delete(platform: Platform, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
    rid = resource_id_arg(data)
    filters = json_arg(data, "filters")

    def tx(c: Connection) -> dict[str, Any]:
        meta, ref = require_meta(platform, c, rid)
        require_write(platform, c, identity, rid, meta, ref)
        if filters in (None, "", {}):
            store.drop_collection(c, meta.name)
            if ref is not None:
                bind(platform, c, rid, None)
            return {"resource_id": rid}
        where, params = filter_where(c, meta, filters, None)
        fids = [int(r[0]) for r in c.fetchall(f"SELECT fid FROM {meta.table_name} WHERE {where}", params)]
        for fid in fids:
            store.delete_feature(c, meta.name, fid)
        return {"resource_id": rid, "filters": filters}

    return await platform.db.write(tx)


__all__ = ["datastore_create", "datastore_upsert", "datastore_delete"]
