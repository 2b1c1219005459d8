"""CKAN DataStore actions on feature collections, and imports of files uploaded through resource_create.

Actions (dispatched by the catalogue's Action API with CKAN's envelope; see docs/import.md#datastore):

* ``datastore_search`` — filters, q, distinct, fields, sort, limit, offset, include_total, records_format;
* ``datastore_search_sql`` — one read-only SELECT, whitelisted functions, a timeout; off unless the setting
  ``datastore_sql_enabled`` is true (checks and database guard: :mod:`urbanos.features.datastore_sql`);
* ``datastore_create``, ``datastore_upsert`` (insert, update, upsert by primary key or ``_id``),
  ``datastore_delete`` (rows matching filters, or the whole table), ``datastore_info``. Writes need the publisher
  role for the organisation of every dataset they touch (the collection's and the resource's); a target the caller
  may not see is a 404 worded like a missing one.

A ``resource_id`` is a catalogue resource whose ``collection`` is set (uploads and datastore_create set it), or
the name of a collection. Every read goes through the gate and emits a usage event.

An uploaded (or, with ``datastore_fetch_urls``, fetched) resource is imported in the background when its catalogue
event arrives; the import's state and report are kept in the table ``feature_import_reports`` (running, done with
the report, failed with the reason), so every process on the database and a restarted one see them. The portal
reads them through ``platform.services["import_report"]``; reports quote cell values, so they are shown only to
callers who may publish to the dataset. An import replaces an existing collection only when the uploader may publish
to that collection's dataset (:func:`replace_guard`, checked in the import's transaction).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import orjson

from urbanos.core.ids import parse_id
from urbanos.errors import BadRequest, Forbidden, NotFound, Unauthorized, ValidationFailed
from urbanos.features import datastore_sql as dsql
from urbanos.features import store
from urbanos.features.downloads import check_read, transform_rows, usage_event
from urbanos.features.preview import feature_preview

log = logging.getLogger("urbanos.features.datastore")

# Settings (declared in the component): datastore_sql_enabled, datastore_sql_timeout, datastore_rows_max.

CKAN_TYPES = {"string": "text", "integer": "int", "number": "numeric", "boolean": "bool", "date": "date",
              "datetime": "timestamp", "json": "json"}
FROM_CKAN = {"text": "string", "varchar": "string", "char": "string", "string": "string", "int": "integer",
             "int4": "integer", "int8": "integer", "integer": "integer", "bigint": "integer", "smallint": "integer",
             "numeric": "number", "float": "number", "float4": "number", "float8": "number", "double precision": "number",
             "number": "number", "bool": "boolean", "boolean": "boolean", "timestamp": "datetime",
             "timestamptz": "datetime", "datetime": "datetime", "date": "date", "json": "json", "jsonb": "json",
             "nested": "json", "_text": "json", "_int4": "json", "_numeric": "json"}
TEXTUAL = ("string", "date", "datetime", "json")


def _setting(platform: Any, name: str, default: Any) -> Any:
    value = platform.settings.values.get(name) if hasattr(platform.settings, "values") else None
    return default if value is None else value


# -- argument parsing (CKAN accepts JSON bodies and GET strings) ------------------------------------------

def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", detail={field: [message]})


def _resource_id(data: dict[str, Any]) -> str:
    rid = data.get("resource_id", data.get("id"))
    if rid is None or rid == "":
        raise _invalid("resource_id", "Missing value")
    if not isinstance(rid, str):
        raise _invalid("resource_id", "Must be a string")
    return rid


def _json_arg(data: dict[str, Any], name: str) -> Any:
    v = data.get(name)
    if isinstance(v, str) and name in ("filters", "records", "fields") and v.strip()[:1] in ("{", "["):
        try:
            return orjson.loads(v)
        except orjson.JSONDecodeError:
            raise _invalid(name, "Not valid JSON") from None
    return v


def _int(data: dict[str, Any], name: str, default: int, maximum: int | None = None) -> int:
    v = data.get(name, default)
    if v is None or v == "":
        return default
    try:
        if isinstance(v, bool) or (isinstance(v, float) and not v.is_integer()):
            raise ValueError
        if isinstance(v, str):  # ASCII digits only (int() also reads "١٢"), an optional minus sign
            s = v.strip()
            parsed = parse_id(s[1:] if s.startswith("-") else s)
            if parsed is None:
                raise ValueError
            n = -parsed if s.startswith("-") else parsed
        else:
            n = int(v)
    except (TypeError, ValueError, OverflowError):
        raise _invalid(name, "Invalid integer") from None
    if n < 0:
        raise _invalid(name, "Must be a natural number")
    return min(n, maximum) if maximum is not None else n


def _bool(data: dict[str, Any], name: str, default: bool) -> bool:
    v = data.get(name, default)
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(v, str) and v.lower() in ("false", "0", "no", "off", ""):
        return False
    if isinstance(v, int):
        return bool(v)
    raise _invalid(name, "Must be true or false")


def _names(value: Any, name: str) -> list[str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return [s.strip().strip('"') for s in value.split(",") if s.strip()]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return list(value)
    raise _invalid(name, "Must be a list of field names or a comma-separated string")


def _field_map(meta: store.CollectionMeta) -> dict[str, str]:
    cols = {"_id": "fid"}
    cols.update({f.name: f.column for f in meta.fields})
    return cols


def _fields_out(meta: store.CollectionMeta, names: Sequence[str]) -> list[dict[str, str]]:
    types = {f.name: CKAN_TYPES[f.type] for f in meta.fields}
    return [{"id": n, "type": "int" if n == "_id" else types[n]} for n in names]


def _sort(value: Any, cols: dict[str, str]) -> list[tuple[str, bool]]:
    if value is None or value == "" or value == []:
        return []
    parts = value if isinstance(value, list) else str(value).split(",")
    out: list[tuple[str, bool]] = []
    for raw in parts:
        text = str(raw).strip()
        asc = True
        low = text.lower()
        if low.endswith(" desc"):
            asc, text = False, text[:-5].strip()
        elif low.endswith(" asc"):
            text = text[:-4].strip()
        name = text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
        if name not in cols:
            raise _invalid("sort", f'field "{name}" not in table')
        out.append((cols[name], asc))
    return out


# -- resolving resources --------------------------------------------------------------------------------

def _resource_row(c: Any, rid: str) -> tuple[Any, ...] | None:
    if not c.table_exists("catalog_resources"):
        return None
    return c.fetchone("SELECT id, dataset_id, collection FROM catalog_resources WHERE id = ?", (rid,))


def resolve(c: Any, rid: str) -> tuple[store.CollectionMeta | None, tuple[Any, ...] | None]:
    """The collection behind ``rid`` (catalogue resource id or collection name) and the resource row, if any."""
    row = _resource_row(c, rid)
    if row is not None:
        meta = store.get_collection(c, row[2]) if row[2] else None
        return meta, row
    return store.get_collection(c, rid), None


def _require_meta(c: Any, rid: str) -> tuple[store.CollectionMeta, tuple[Any, ...] | None]:
    meta, row = resolve(c, rid)
    if meta is None:
        raise NotFound(f'Resource "{rid}" was not found.' if row is None else f'Resource "{rid}" has no DataStore table.')
    return meta, row


def _require_write(platform: Any, c: Any, identity: Any, rid: str, meta: store.CollectionMeta | None,
                   row: tuple[Any, ...] | None) -> None:
    """The caller may change what ``rid`` names: the collection's dataset and the resource's dataset (the same one,
    unless a resource was bound to another dataset's collection) are each one the caller may publish to (what no
    dataset owns needs a publisher without organisation); a caller that may neither publish to nor read one gets
    the 404 of a missing resource, word for word (:meth:`Gate.authorize_write`)."""
    dataset_ids: list[int | None] = []
    if meta is not None:
        dataset_ids.append(meta.dataset_id)
    if row is not None and (row[1] is None or int(row[1]) not in dataset_ids):
        dataset_ids.append(None if row[1] is None else int(row[1]))
    missing = NotFound(f'Resource "{rid}" was not found.')
    for ds_id in dict.fromkeys(dataset_ids):
        ds, grants = platform.gate.dataset_access(c, ds_id) if ds_id is not None else (None, [])
        platform.gate.authorize_write(identity, ds, grants, missing)


def _record_usage(platform: Any, identity: Any, ds: Any, meta: store.CollectionMeta, rid: str, action: str) -> None:
    platform.gate.observe(identity, ds, f"{action} {meta.name}")
    usage_event(platform, identity, "datastore", meta.dataset_id, collection=meta.name, resource=rid, action=action,
                dataset=ds.name if ds is not None else None)


# -- datastore_search -----------------------------------------------------------------------------------

def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(c: Any, meta: store.CollectionMeta, filters: Any, q: Any) -> tuple[str, list[Any]]:
    cols = _field_map(meta)
    types = {f.name: f.type for f in meta.fields}
    types["_id"] = "integer"
    conds: list[str] = []
    params: list[Any] = []
    if filters not in (None, "", {}):
        if not isinstance(filters, dict):
            raise _invalid("filters", "Must be a JSON object of field names and values")
        for name, value in filters.items():
            if name not in cols:
                raise _invalid("filters", f'field "{name}" not in table')
            values = value if isinstance(value, list) else [value]
            try:
                if name == "_id":
                    coerced = [None if v is None else _row_id(v) for v in values]
                    if any(v is not None and f is None for v, f in zip(values, coerced, strict=True)):
                        raise ValueError
                else:
                    coerced = [store.coerce(types[name], v) for v in values]
            except (ValueError, TypeError, OverflowError):
                raise _invalid("filters", f'invalid value for field "{name}"') from None
            non_null = [v for v in coerced if v is not None]
            part = []
            if non_null:
                part.append(f"{cols[name]} IN ({', '.join('?' * len(non_null))})")
                params.extend(non_null)
            if len(non_null) < len(coerced):
                part.append(f"{cols[name]} IS NULL")
            conds.append("(" + " OR ".join(part) + ")" if part else "1=0")
    if q not in (None, "", {}):
        like = c.dialect.like_ci
        if isinstance(q, dict):
            items = list(q.items())
        elif isinstance(q, str):
            items = [(None, q)]
        else:
            raise _invalid("q", "Must be a string or an object of field names and strings")
        text_fields = [f for f in meta.fields if f.type in TEXTUAL]
        for name, text in items:
            if name is not None and name not in cols:
                raise _invalid("q", f'field "{name}" not in table')
            targets = [cols[name]] if name is not None else [f.column for f in text_fields]
            for word in str(text).split():
                if not targets:
                    conds.append("1=0")
                    continue
                ors = [f"{like(col)} ? ESCAPE '\\'" for col in targets]
                conds.append("(" + " OR ".join(ors) + ")")
                params.extend([f"%{_escape_like(word)}%"] * len(targets))
    return " AND ".join(conds), params


async def datastore_search(platform: Any, identity: Any, data: dict[str, Any]) -> dict[str, Any]:
    rid = _resource_id(data)
    rows_max = int(_setting(platform, "datastore_rows_max", 32000))
    limit = _int(data, "limit", 100, rows_max)
    offset = _int(data, "offset", 0)
    distinct = _bool(data, "distinct", False)
    include_total = _bool(data, "include_total", True)
    fmt = data.get("records_format") or "objects"
    if fmt not in ("objects", "lists", "csv", "tsv"):
        raise _invalid("records_format", "Must be one of objects, lists, csv, tsv")
    filters, q = _json_arg(data, "filters"), data.get("q")
    if isinstance(q, str) and q.strip()[:1] == "{":
        try:
            q = orjson.loads(q)
        except orjson.JSONDecodeError:
            pass
    wanted = _names(_json_arg(data, "fields"), "fields")

    def run(c: Any) -> tuple[Any, ...]:
        meta, _row = _require_meta(c, rid)
        ds = check_read(platform, c, identity, meta)
        cols = _field_map(meta)
        names = wanted if wanted is not None else (["_id"] if not distinct else []) + [f.name for f in meta.fields]
        for n in names:
            if n not in cols:
                raise _invalid("fields", f'field "{n}" not in table')
        order = _sort(data.get("sort"), cols)
        where, params = _where(c, meta, filters, q)
        select = ", ".join(cols[n] for n in names) or "fid"
        sql = f"SELECT {'DISTINCT ' if distinct else ''}{select} FROM {meta.table_name}"
        if where:
            sql += f" WHERE {where}"
        keys = [f"{col} {'ASC' if asc else 'DESC'}" for col, asc in order]
        if not distinct and not any(k.startswith("fid ") for k in keys):
            keys.append("fid ASC")
        if keys:
            sql += " ORDER BY " + ", ".join(keys)
        sql += " LIMIT ? OFFSET ?"
        rows = c.fetchall(sql, [*params, limit, offset])
        total = None
        if include_total:
            inner = f"SELECT {'DISTINCT ' if distinct else ''}{select} FROM {meta.table_name}" + (f" WHERE {where}" if where else "")
            total = int(c.fetchval(f"SELECT COUNT(*) FROM ({inner}) AS t", params) or 0)
        return meta, ds, names, rows, total

    meta, ds, names, rows, total = await platform.db.read(run)
    types = {f.name: f.type for f in meta.fields}
    decoded = [{n: (int(v) if n == "_id" and v is not None else store.decode(types[n], v)) if n != "_id" or v is not None else None
                for n, v in zip(names, r, strict=True)} for r in rows]
    feats = [store.FeatureRow(int(d.get("_id") or 0), {k: v for k, v in d.items() if k != "_id"}, None) for d in decoded]
    feats = transform_rows(platform, identity, ds, feats)
    records = [{**({"_id": f.fid} if "_id" in names else {}), **{n: f.properties.get(n) for n in names if n != "_id"}}
               for f in feats]
    _record_usage(platform, identity, ds, meta, rid, "datastore_search")
    result: dict[str, Any] = {
        "include_total": include_total, "resource_id": rid, "fields": _fields_out(meta, names),
        "records_format": fmt, "limit": limit,
        "_links": {"start": f"/api/3/action/datastore_search?resource_id={rid}",
                   "next": f"/api/3/action/datastore_search?offset={offset + limit}&resource_id={rid}"},
    }
    if offset:
        result["offset"] = offset
    for key in ("filters", "q", "sort", "distinct"):
        if data.get(key) not in (None, "", {}, []):
            result[key] = data[key]
    if fmt == "objects":
        result["records"] = records
    elif fmt == "lists":
        result["records"] = [[r[n] for n in names] for r in records]
    else:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        for r in records:
            w.writerow(["" if r[n] is None else (orjson.dumps(r[n]).decode() if isinstance(r[n], dict | list) else r[n])
                        for n in names])
        result["records"] = buf.getvalue()
    if total is not None:
        result["total"] = total
        result["total_was_estimated"] = False
    return result


async def datastore_info(platform: Any, identity: Any, data: dict[str, Any]) -> dict[str, Any]:
    rid = _resource_id(data)

    def run(c: Any) -> tuple[store.CollectionMeta, Any]:
        meta, _ = _require_meta(c, rid)
        return meta, check_read(platform, c, identity, meta)

    meta, ds = await platform.db.read(run)
    _record_usage(platform, identity, ds, meta, rid, "datastore_info")
    return {"meta": {"id": rid, "count": meta.item_count, "table_type": "BASE TABLE", "collection": meta.name},
            "fields": [{"id": f.name, "type": CKAN_TYPES[f.type], "schema": {"native_type": CKAN_TYPES[f.type]}}
                       for f in meta.fields]}


# -- writes ---------------------------------------------------------------------------------------------

def _guess_type(values: list[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "string"
    if kinds <= {int}:
        return "integer"
    if kinds <= {int, float}:
        return "number"
    if kinds <= {bool}:
        return "boolean"
    if kinds & {dict, list}:
        return "json"
    return "string"


def _parse_fields(raw: Any, records: list[dict[str, Any]]) -> list[store.Field]:
    out: list[store.Field] = []
    if raw is not None:
        if not isinstance(raw, list):
            raise _invalid("fields", "Must be a list of {id, type}")
        for f in raw:
            if not isinstance(f, dict) or not isinstance(f.get("id"), str) or not f["id"]:
                raise _invalid("fields", "Every field needs an id")
            if f["id"].startswith("_") or f["id"] == "_id":
                raise _invalid("fields", f'"{f["id"]}" is not a valid field name')
            ckan = str(f.get("type") or "").lower()
            kind = FROM_CKAN.get(ckan) if ckan else _guess_type([r.get(f["id"]) for r in records])
            if kind is None:
                raise _invalid("fields", f'"{ckan}" is not a valid field type')
            out.append(store.Field(f["id"], kind))
    seen = {f.name for f in out}
    for r in records:
        for k in r:
            if k not in seen and k != "_id":
                out.append(store.Field(k, _guess_type([x.get(k) for x in records])))
                seen.add(k)
    return out


def _records(data: dict[str, Any]) -> list[dict[str, Any]]:
    recs = _json_arg(data, "records")
    if recs is None:
        return []
    if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
        raise _invalid("records", "Must be a list of objects")
    return recs


def _pk(value: Any) -> list[str]:
    if value in (None, "", []):
        return []
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return value
    raise _invalid("primary_key", "Must be a field name or a list of them")


def _check_unique(records: list[dict[str, Any]], pk: list[str]) -> None:
    if not pk:
        return
    seen: set[tuple[Any, ...]] = set()
    for i, r in enumerate(records):
        key = tuple(orjson.dumps(r.get(k)) for k in pk)
        if key in seen:
            raise _invalid("records", f"record {i + 1}: duplicate key {', '.join(f'{k}={r.get(k)!r}' for k in pk)}")
        seen.add(key)


def _set_resource(c: Any, rid: str, collection: str | None) -> None:
    if c.table_exists("catalog_resources"):
        c.execute("UPDATE catalog_resources SET collection = ?, datastore_active = ? WHERE id = ?",
                  (collection or "", 1 if collection else 0, rid))


async def datastore_create(platform: Any, identity: Any, data: dict[str, Any]) -> dict[str, Any]:
    if data.get("resource_id") in (None, "") and data.get("resource") is not None:
        raise _invalid("resource", "Create the resource with resource_create first, then pass its resource_id")
    rid = _resource_id(data)
    records = _records(data)
    pk = _pk(data.get("primary_key"))
    fields = _parse_fields(_json_arg(data, "fields"), records)
    names = {f.name for f in fields}
    for k in pk:
        if k not in names:
            raise _invalid("primary_key", f'field "{k}" not in table')
    _check_unique(records, pk)

    def tx(c: Any) -> dict[str, Any]:
        meta, row = resolve(c, rid)
        dataset_id = meta.dataset_id if meta is not None else (int(row[1]) if row is not None and row[1] is not None else None)
        if meta is None and row is None:
            raise NotFound(f'Resource "{rid}" was not found.')
        _require_write(platform, c, identity, rid, meta, row)
        name = meta.name if meta is not None else _free_name(c, rid)
        old_fields = meta.fields if meta is not None else []
        merged = [store.Field(f.name, f.type, title=f.title) for f in old_fields]
        known = {f.name: f for f in old_fields}
        for f in fields:
            if f.name in known and known[f.name].type != f.type and data.get("fields") is not None:
                raise _invalid("fields", f'field "{f.name}" already exists with type {CKAN_TYPES[known[f.name].type]}')
            if f.name not in known:
                merged.append(f)
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
            raise _invalid("records", exc.message) from None
        if row is not None:
            _set_resource(c, rid, new.name)
        return {"resource_id": rid, "fields": [{"id": f.name, "type": CKAN_TYPES[f.type]} for f in new.fields],
                "primary_key": keys, "method": "insert", "records": records}

    return await platform.db.write(tx)


def _free_name(c: Any, rid: str) -> str:
    base = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in rid).strip("-.")[:90] or "table"
    name, n = base, 1
    while store.get_collection(c, name) is not None:
        n += 1
        name = f"{base}-{n}"
    return name


def _row_id(value: Any) -> int | None:
    """A record's ``_id`` (a JSON integer, or text of ASCII digits), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 2**63 - 1 else None
    if isinstance(value, float):
        return int(value) if value.is_integer() and 0 <= value <= 2**63 - 1 else None
    return parse_id(value) if isinstance(value, str) else None


def _find_fid(c: Any, meta: store.CollectionMeta, keys: list[str], rec: dict[str, Any]) -> int | None:
    if "_id" in rec and rec["_id"] is not None:
        fid = _row_id(rec["_id"])
        if fid is None:
            raise _invalid("records", f"_id {rec['_id']!r} is not an integer") from None
        return fid if c.fetchone(f"SELECT 1 FROM {meta.table_name} WHERE fid = ?", (fid,)) else None
    conds, params = [], []
    for k in keys:
        f = meta.field(k)
        assert f is not None
        if k not in rec:
            raise _invalid("records", f'fields "{k}" are missing but needed as key')
        try:
            conds.append(f"{f.column} = ?")
            params.append(store.coerce(f.type, rec[k]))
        except (ValueError, TypeError, OverflowError):
            raise _invalid("records", f'invalid value for key "{k}"') from None
    row = c.fetchone(f"SELECT fid FROM {meta.table_name} WHERE {' AND '.join(conds)}", params)
    return None if row is None else int(row[0])


async def datastore_upsert(platform: Any, identity: Any, data: dict[str, Any]) -> dict[str, Any]:
    rid = _resource_id(data)
    records = _records(data)
    method = data.get("method") or "upsert"
    if method not in ("upsert", "insert", "update"):
        raise _invalid("method", 'Must be one of "upsert", "insert", "update"')

    def tx(c: Any) -> dict[str, Any]:
        meta, row = _require_meta(c, rid)
        _require_write(platform, c, identity, rid, meta, row)
        known = {f.name for f in meta.fields}
        unknown = sorted({k for r in records for k in r if k not in known and k != "_id"})
        if unknown:
            raise _invalid("records", f'fields "{", ".join(unknown)}" do not exist')
        keys = list(meta.extras.get("primary_key") or [])
        try:
            if method == "insert":
                store.insert_features(c, meta.name, [(r, None) for r in records])
            else:
                for i, r in enumerate(records, start=1):
                    if not keys and "_id" not in r:
                        raise _invalid("records", f"record {i}: the table has no primary key; give _id")
                    fid = _find_fid(c, meta, keys, r)
                    props = {k: v for k, v in r.items() if k != "_id"}
                    if fid is not None:
                        store.patch_feature(c, meta.name, fid, props)
                    elif method == "update":
                        raise _invalid("records", f"record {i}: key not found")
                    else:
                        store.insert_features(c, meta.name, [(props, None)])
        except ValidationFailed as exc:
            if exc.detail and "records" in exc.detail:
                raise
            raise _invalid("records", exc.message) from None
        except NotFound as exc:
            raise _invalid("records", exc.message) from None
        if keys:
            dup = c.fetchone(f"SELECT COUNT(*) FROM {meta.table_name} GROUP BY "
                             f"{', '.join(meta.field(k).column for k in keys)} HAVING COUNT(*) > 1")  # type: ignore[union-attr]
            if dup is not None:
                raise _invalid("records", "duplicate key value violates the primary key")
        return {"resource_id": rid, "method": method, "records": records}

    return await platform.db.write(tx)


async def datastore_delete(platform: Any, identity: Any, data: dict[str, Any]) -> dict[str, Any]:
    rid = _resource_id(data)
    filters = _json_arg(data, "filters")

    def tx(c: Any) -> dict[str, Any]:
        meta, row = _require_meta(c, rid)
        _require_write(platform, c, identity, rid, meta, row)
        if filters in (None, "", {}):
            store.drop_collection(c, meta.name)
            if row is not None:
                _set_resource(c, rid, None)
            return {"resource_id": rid}
        where, params = _where(c, meta, filters, None)
        fids = [int(r[0]) for r in c.fetchall(f"SELECT fid FROM {meta.table_name} WHERE {where}", params)]
        for fid in fids:
            store.delete_feature(c, meta.name, fid)
        return {"resource_id": rid, "filters": filters}

    return await platform.db.write(tx)


# -- datastore_search_sql (the checks and the database guard: urbanos/features/datastore_sql.py) ----------------

def _ckan_type(values: list[Any]) -> str:
    return CKAN_TYPES.get(_guess_type(values), "text")


async def datastore_search_sql(platform: Any, identity: Any, data: dict[str, Any]) -> dict[str, Any]:
    if not _setting(platform, "datastore_sql_enabled", False):
        raise Forbidden("datastore_search_sql is turned off on this site (an operator turns it on with "
                        "URBANOS_DATASTORE_SQL_ENABLED=true).")
    sql = data.get("sql")
    plan = dsql.plan(sql)
    rows_max = int(_setting(platform, "datastore_rows_max", 32000))
    timeout_ms = int(float(_setting(platform, "datastore_sql_timeout", 5.0)) * 1000)
    setup_tried = False

    def run(c: Any) -> tuple[list[str], list[tuple[Any, ...]], list[Any]] | list[str]:
        if c.dialect.name == "postgresql":
            c.execute("SET TRANSACTION READ ONLY")
        metas = []
        tables = []
        for name in plan.resources:
            meta, _ = resolve(c, name)
            if meta is None:
                raise NotFound(f'Resource "{name}" was not found.')
            ds = check_read(platform, c, identity, meta)
            metas.append((meta, ds, name))
            tables.append((meta.table_name, [("fid", "_id")] + [(f.column, f.name) for f in meta.fields]))
        final = dsql.build(plan, tables, c.dialect.name)
        names = sorted({t for t, _ in tables})
        role = False
        if c.dialect.name == "postgresql":
            role = dsql.pg_guard_ready(c, names)
            if not role and not setup_tried:
                return names  # the role cannot read these tables yet: grant (a write of its own), then run again
        cols, rows = dsql.execute(c, final, names, limit=rows_max + 1, timeout_ms=timeout_ms, role=role)
        return cols, rows, metas

    async def attempt() -> Any:
        try:
            return await platform.db.read(run)
        except (ValidationFailed, NotFound, Forbidden, Unauthorized):
            raise
        except Exception as exc:  # noqa: BLE001 - database errors on user SQL are the caller's error
            status = getattr(exc, "status", 400)
            if status == 503 or "cancel" in str(exc).lower() or "took too long" in str(exc):
                raise _invalid("sql", "The query took too long and was stopped") from None
            text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise _invalid("sql", f"query failed: {text}") from None

    got = await attempt()
    if not isinstance(got, tuple):
        setup_tried = True
        state = platform.services.setdefault("datastore_sql_guard", {})
        if time.monotonic() - state.get("failed_at", float("-inf")) > 60:  # a database user that may not: once a minute
            try:
                await platform.db.write(lambda c: dsql.pg_guard_setup(c, got))
            except Exception as exc:  # noqa: BLE001 - without the role the other layers still hold; warned once
                state["failed_at"] = time.monotonic()
                log.debug("the datastore_search_sql role could not be set up: %s", exc)
        got = await attempt()
    names, rows, metas = got
    truncated = len(rows) > rows_max
    rows = rows[:rows_max]
    records = [dict(zip(names, r, strict=True)) for r in rows]
    for meta, ds, name in metas:
        if ds is not None:
            feats = transform_rows(platform, identity, ds, [store.FeatureRow(0, rec, None) for rec in records])
            records = [f.properties for f in feats]
        _record_usage(platform, identity, ds, meta, name, "datastore_search_sql")
    fields = [{"id": n, "type": _ckan_type([r.get(n) for r in records[:100]])} for n in names]
    out: dict[str, Any] = {"sql": sql, "records": records, "fields": fields}
    if truncated:
        out["records_truncated"] = True
    return out


# -- registration and uploads ---------------------------------------------------------------------------

IMPORTABLE = {"csv", "tsv", "geojson", "json", "gpkg", "xlsx", "zip", "shp"}


def _upload_format(path: str, declared: str) -> str | None:
    from urbanos.features.importers.readers import detect_format

    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in IMPORTABLE and (declared or "").lower() not in IMPORTABLE:
        return None
    return detect_format(path)


def replace_guard(platform: Any, dataset_id: int | None, publisher_orgs: Sequence[str | None] | None) -> Any:
    """The check an upload runs, in its write transaction, before it replaces collection ``old``: a new name, a
    collection of the resource's own dataset, or one of a dataset whose organisation the uploader may publish to
    (``publisher_orgs``: the uploader's publisher scopes as the catalogue recorded them; None is every
    organisation). Anything else refuses the import and changes nothing."""
    from urbanos.governance import Identity
    from urbanos.governance.identity import Membership

    uploader = Identity(subject="uploader", kind="token",
                        memberships=frozenset(Membership("publisher", o) for o in publisher_orgs or ()))

    def guard(c: Any, old: store.CollectionMeta | None) -> None:
        if old is None or (old.dataset_id is not None and old.dataset_id == dataset_id):
            return
        owner = None
        if old.dataset_id is not None:
            row = c.fetchone("SELECT owner_org FROM datasets WHERE id = ?", (old.dataset_id,))
            owner = row[0] if row is not None else None
        if not platform.gate.can_write(uploader, owner):
            raise Forbidden(f"The resource names the collection {old.name!r}, which belongs to another dataset that the "
                            "uploader may not publish to; nothing was imported. Fix: clear the resource's collection "
                            "(resource_patch with collection=\"\") and upload the file again.")

    return guard


def import_upload(platform: Any, resource_id: str, dataset_id: int | None, path: str, declared: str,
                  publisher_orgs: Sequence[str | None] | None = None) -> dict[str, Any] | None:
    """Import an uploaded file into a collection attached to its dataset and resource (runs in a thread).
    ``publisher_orgs``: see :func:`replace_guard`."""
    from urbanos.features.importers.run import import_file

    fmt = _upload_format(path, declared)
    if fmt is None:
        return None

    def pick(c: Any) -> str:
        meta, _ = resolve(c, resource_id)
        if meta is not None:
            return meta.name
        ds = c.fetchone("SELECT name FROM datasets WHERE id = ?", (dataset_id,)) if dataset_id is not None else None
        base = str(ds[0]) if ds is not None else resource_id
        existing = store.get_collection(c, base)
        if existing is None or existing.extras.get("resource_id") == resource_id:
            return base
        return _free_name(c, f"{base}-{resource_id[:8]}")

    name = platform.db.read_sync(pick)
    platform.db.write_sync(lambda c: record_import(c, resource_id, dataset_id, "running"))
    report = import_file(platform, path, name, {}, fmt=fmt, dataset_id=dataset_id, progress=False,
                         extras={"resource_id": resource_id}, guard=replace_guard(platform, dataset_id, publisher_orgs))
    platform.db.write_sync(lambda c: _set_resource(c, resource_id, name))
    return report


def _url_of(c: Any, resource_id: str) -> tuple[str, str] | None:
    if not c.table_exists("catalog_resources"):
        return None
    row = c.fetchone("SELECT url, format, url_type FROM catalog_resources WHERE id = ?", (resource_id,))
    if row is None or row[2] == "upload" or not str(row[0]).startswith(("http://", "https://")):
        return None
    return str(row[0]), str(row[1] or "")


def import_url(platform: Any, resource_id: str, dataset_id: int | None,
               publisher_orgs: Sequence[str | None] | None = None) -> dict[str, Any] | None:
    """Fetch and import a resource created with a URL (when ``datastore_fetch_urls`` is on)."""
    found = platform.db.read_sync(lambda c: _url_of(c, resource_id))
    if found is None:
        return None
    url, declared = found
    ext = os.path.splitext(url.split("?", 1)[0])[1].lstrip(".").lower()
    if ext not in IMPORTABLE and declared.lower() not in IMPORTABLE:
        return None
    from urbanos.features.importers.fetch import fetch_url

    path = fetch_url(platform, url, resource_id, max_bytes=int(_setting(platform, "catalog_upload_max_bytes", 50 << 20)),
                     allow_private=bool(_setting(platform, "datastore_fetch_private", False)))
    try:
        return import_upload(platform, resource_id, dataset_id, path, declared, publisher_orgs)
    finally:
        os.unlink(path)


def _drop_for_resource(c: Any, resource_id: str) -> None:
    """A deleted resource takes its DataStore table (as in CKAN) and its import report with it."""
    for meta in store.list_collections(c):
        if meta.extras.get("resource_id") == resource_id:
            store.drop_collection(c, meta.name)
    c.execute(f"DELETE FROM {store.IMPORT_REPORTS} WHERE resource_id = ?", (resource_id,))


# -- import reports (table feature_import_reports; rows quote cell values: shown only to the dataset's publishers) --

def record_import(c: Any, resource_id: str, dataset_id: int | None, status: str, report: dict[str, Any] | None = None,
                  failure: str | None = None) -> None:
    """Record the state of the import of a resource: ``running``, ``done`` (with its report) or ``failed`` (with the
    reason). A new import of the resource replaces the row; a resource deleted meanwhile keeps none."""
    t = store.IMPORT_REPORTS
    if c.table_exists("catalog_resources") and c.fetchone("SELECT 1 FROM catalog_resources WHERE id = ?",
                                                           (resource_id,)) is None:
        c.execute(f"DELETE FROM {t} WHERE resource_id = ?", (resource_id,))
        return
    now = store.now_iso()
    if status == "running":
        started, finished = now, None
    else:
        row = c.fetchone(f"SELECT status, started_at FROM {t} WHERE resource_id = ?", (resource_id,))
        started, finished = (row[1] if row is not None and row[0] == "running" else now), now
    ds = c.fetchone("SELECT id FROM datasets WHERE id = ?", (dataset_id,)) if dataset_id is not None else None
    c.execute(
        f"INSERT INTO {t} (resource_id, dataset_id, status, report, failure, started_at, finished_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) "
        + c.dialect.upsert_suffix(("resource_id",), ("dataset_id", "status", "report", "failure", "started_at", "finished_at")),
        (resource_id, None if ds is None else ds[0], status, c.dialect.json_param(report), failure, started, finished),
    )


def read_import(c: Any, resource_id: str) -> dict[str, Any] | None:
    """The recorded import of a resource: ``{status, report, failure, started_at, finished_at}``, or None."""
    row = c.fetchone(f"SELECT status, report, failure, started_at, finished_at FROM {store.IMPORT_REPORTS}"
                     " WHERE resource_id = ?", (resource_id,))
    if row is None:
        return None
    report = orjson.loads(row[1]) if isinstance(row[1], str | bytes) else row[1]
    return {"status": row[0], "report": report, "failure": row[2], "started_at": row[3], "finished_at": row[4]}


def _import_report(platform: Any) -> Any:
    async def lookup(resource_id: str) -> dict[str, Any] | None:
        """The import of ``resource_id`` as ``{status, report, failure, ...}`` (None: no import recorded). The report
        quotes cell values: callers show it only to those who may publish to the resource's dataset."""
        return await platform.db.read(lambda c: read_import(c, str(resource_id)))  # type: ignore[no-any-return]

    return lookup


def _on_catalog_event(platform: Any) -> Any:
    async def handle(ev: Any) -> None:
        if ev.entity == "Resource" and ev.kind == "deleted":
            await platform.db.write(lambda c: _drop_for_resource(c, str(ev.id)))
            return
        if ev.entity != "Resource" or ev.kind not in ("created", "updated"):
            return
        path = (ev.data or {}).get("path")
        if not path and not _setting(platform, "datastore_fetch_urls", False):
            return
        rid = str(ev.id)
        scopes = (ev.data or {}).get("publisher_orgs")
        scopes = [o for o in scopes if o is None or isinstance(o, str)] if isinstance(scopes, list) else []
        try:
            if path:
                report = await asyncio.to_thread(import_upload, platform, rid, ev.dataset_id, str(path),
                                                 str((ev.data or {}).get("format") or ""), scopes)
            else:
                report = await asyncio.to_thread(import_url, platform, rid, ev.dataset_id, scopes)
        except Exception as exc:  # noqa: BLE001 - a failed import is logged and recorded, never raised
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            log.warning("import of uploaded resource %s failed: %s", ev.id, message)
            await _record(platform, rid, ev.dataset_id, "failed", failure=str(message))
            return
        if report is not None:
            await _record(platform, rid, ev.dataset_id, "done", report=report)
            log.info("imported resource %s: %s rows, %s bad", ev.id, report["rows"], report["bad_rows"])

    return handle


async def _record(platform: Any, resource_id: str, dataset_id: int | None, status: str, **kw: Any) -> None:
    try:
        await platform.db.write(lambda c: record_import(c, resource_id, dataset_id, status, **kw))
    except Exception:  # noqa: BLE001 - the import itself is done; a lost report is logged, never raised
        log.exception("the %s import of resource %s could not be recorded", status, resource_id)


def register(platform: Any) -> None:
    """Register the datastore_* actions in ``platform.services["ckan_actions"]``, the upload importer, the lookup
    of import reports (``platform.services["import_report"]``, read by the portal) and the first features of a
    collection for the portal's preview (``platform.services["feature_preview"]``, see :mod:`urbanos.features.preview`)."""
    actions = platform.services.setdefault("ckan_actions", {})
    actions.update({
        "datastore_search": datastore_search, "datastore_search_sql": datastore_search_sql,
        "datastore_create": datastore_create, "datastore_upsert": datastore_upsert,
        "datastore_delete": datastore_delete, "datastore_info": datastore_info,
    })
    platform.services["import_report"] = _import_report(platform)
    platform.services["feature_preview"] = feature_preview(platform)
    platform.bus.subscribe(_on_catalog_event(platform), topic="catalog")


__all__ = ["register", "datastore_search", "datastore_create", "datastore_upsert", "datastore_delete",
           "datastore_info", "import_upload", "record_import", "read_import", "resolve", "Forbidden",
           "BadRequest"]
