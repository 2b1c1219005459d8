"""Writing features: a whole collection replaced atomically (a new versioned table), single features changed.

Every write emits ``Event(kind, "FeatureCollection"|"Feature", id, topic="features", dataset_id=…)`` and keeps the
registry's count and extent up to date.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from urbanos.core.time import format_stored, now_stored
from urbanos.errors import NotFound, ValidationFailed
from urbanos.events import Event
from urbanos.features.store.model import (
    BATCH,
    IDS,
    REGISTRY,
    CollectionMeta,
    Field,
    check_name,
    normalise_fields,
    table_for,
)
from urbanos.features.store.registry import get_collection, require_collection
from urbanos.features.store.values import coerce, parse_datetime
from urbanos.storage import Connection
from urbanos.storage.spatial import to_wkb


class _Extent:
    def __init__(self, bbox: Sequence[float] | None = None, t_min: str | None = None, t_max: str | None = None) -> None:
        self.box = list(bbox) if bbox else None
        self.t_min, self.t_max = t_min, t_max
        self.types: set[str] = set()

    def add(self, geom: BaseGeometry | None, t: str | None) -> None:
        if geom is not None and not geom.is_empty:
            b = geom.bounds
            if self.box is None:
                self.box = list(b)
            else:
                bx = self.box
                bx[0], bx[1], bx[2], bx[3] = min(bx[0], b[0]), min(bx[1], b[1]), max(bx[2], b[2]), max(bx[3], b[3])
            self.types.add(geom.geom_type)
        if t is not None:
            self.t_min = t if self.t_min is None or t < self.t_min else self.t_min
            self.t_max = t if self.t_max is None or t > self.t_max else self.t_max


def _sql_type(conn: Connection, ftype: str) -> str:
    pg = conn.dialect.name == "postgresql"
    return {
        "integer": "BIGINT" if pg else "INTEGER",
        "number": "DOUBLE PRECISION" if pg else "REAL",
        "boolean": "BOOLEAN" if pg else "INTEGER",
    }.get(ftype, "TEXT")



def _create_table(conn: Connection, table: str, fields: list[Field], with_time: bool, with_geom: bool) -> None:
    cols = ["fid BIGINT PRIMARY KEY" if conn.dialect.name == "postgresql" else "fid INTEGER PRIMARY KEY"]
    cols += [f"{f.column} {_sql_type(conn, f.type)}" for f in fields]
    if with_time:
        cols.append("t TEXT")
    conn.execute(f"CREATE TABLE {table} ({', '.join(cols)})")
    if with_geom:
        conn.spatial.add_geometry_column(conn, table, "geom", id_column="fid")
    if with_time:
        conn.execute(f"CREATE INDEX {table}_t ON {table} (t)")


def _drop_table(conn: Connection, table: str) -> None:
    if conn.dialect.name == "sqlite":
        conn.spatial.drop_geometry_index(conn, table, "geom")
    conn.execute(f"DROP TABLE IF EXISTS {table}")


def _time_value(meta_fields: list[Field], time_field: str | None, values: dict[str, Any]) -> str | None:
    if not time_field:
        return None
    v = values.get(time_field)
    if v is None:
        return None
    return format_stored(parse_datetime(v))


def _row_values(fields: list[Field], props: dict[str, Any], rowno: int | str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        try:
            out[f.name] = coerce(f.type, props.get(f.name))
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValidationFailed(
                f"row {rowno}: field {f.name!r}: {props.get(f.name)!r} is not a valid {f.type} ({exc}).",
                detail={f.name: [f"not a valid {f.type}"]},
            ) from None
    return out


def _check_geom(geom: Any, rowno: int | str) -> BaseGeometry | None:
    if geom is None:
        return None
    if not isinstance(geom, BaseGeometry):
        raise ValidationFailed(f"row {rowno}: the geometry is not a geometry object.")
    if geom.is_empty:
        return None
    coords = shapely.get_coordinates(geom)
    if not (coords.size and math.isfinite(float(coords.min())) and math.isfinite(float(coords.max()))):
        raise ValidationFailed(f"row {rowno}: the geometry has coordinates that are not finite numbers.")
    return geom


def _insert_sql(conn: Connection, table: str, fields: list[Field], with_time: bool, with_geom: bool) -> str:
    cols = ["fid"] + [f.column for f in fields] + (["t"] if with_time else []) + (["geom"] if with_geom else [])
    marks = ["?"] * (1 + len(fields) + (1 if with_time else 0)) + ([conn.spatial.param()] if with_geom else [])
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(marks)})"


def _params(fid: int, fields: list[Field], values: dict[str, Any], t: str | None, geom: BaseGeometry | None,
             with_time: bool, with_geom: bool) -> list[Any]:
    p: list[Any] = [fid] + [values[f.name] for f in fields]
    if with_time:
        p.append(t)
    if with_geom:
        p.append(None if geom is None else to_wkb(geom))
    return p


def replace_collection(
    conn: Connection,
    name: str,
    fields: Sequence[Field | dict[str, Any]],
    rows: Iterable[tuple[dict[str, Any], BaseGeometry | None]],
    *,
    geometry_type: str = "",
    source_crs: str = "OGC:CRS84",
    time_field: str | None = None,
    dataset_id: int | None = None,
    title: str = "",
    description: str = "",
    extras: dict[str, Any] | None = None,
    fids: Sequence[int] | None = None,
) -> CollectionMeta:
    """Load ``rows`` into a new version of collection ``name`` and switch to it atomically.

    ``geometry_type`` may be empty: then it is detected from the rows ("" when no row has a geometry,
    "Geometry" when types are mixed). ``fids`` gives the rows' feature ids (unique; default 1…n). Returns the new
    registry record.
    """
    check_name(name)
    flist = normalise_fields(fields)
    if time_field and not any(f.name == time_field for f in flist):
        raise ValidationFailed(f"time field {time_field!r} is not one of the fields.")
    old = get_collection(conn, name)
    version = (old.version + 1) if old else 1
    cid = old.id if old is not None and old.id is not None else int(conn.insert(IDS, {"name": name}))
    table = table_for(cid, version)
    if conn.table_exists(table):  # only a version of this very collection can have this name
        _drop_table(conn, table)
    with_time = bool(time_field)
    _create_table(conn, table, flist, with_time, True)
    sql = _insert_sql(conn, table, flist, with_time, True)
    ext = _Extent()
    batch: list[list[Any]] = []
    n = 0
    for n, (props, geom) in enumerate(rows, start=1):
        values = _row_values(flist, props, n)
        g = _check_geom(geom, n)
        try:
            t = _time_value(flist, time_field, values)
        except ValueError:
            raise ValidationFailed(f"row {n}: the time field {time_field!r} is not a date-time.") from None
        ext.add(g, t)
        batch.append(_params(n if fids is None else int(fids[n - 1]), flist, values, t, g, with_time, True))
        if len(batch) >= BATCH:
            conn.executemany(sql, batch)
            batch = []
    if batch:
        conn.executemany(sql, batch)
    gtype = geometry_type or (("Geometry" if len(ext.types) > 1 else next(iter(ext.types))) if ext.types else "")
    record = {
        "dataset_id": dataset_id, "title": title or name, "description": description,
        "fields": conn.dialect.json_param([f.to_dict() for f in flist]), "geometry_type": gtype,
        "source_crs": source_crs or "OGC:CRS84", "time_field": time_field,
        "bbox": conn.dialect.json_param(ext.box), "t_min": ext.t_min, "t_max": ext.t_max, "item_count": n,
        "table_name": table, "version": version, "updated_at": now_stored(), "extras": conn.dialect.json_param(extras or {}),
        "id": cid,
    }
    if conn.dialect.name == "postgresql":
        conn.execute(f"ANALYZE {table}")
    if old is None:
        conn.insert(REGISTRY, {"name": name, **record}, returning="name")
    else:
        sets = ", ".join(f"{k} = ?" for k in record)
        conn.execute(f"UPDATE {REGISTRY} SET {sets} WHERE name = ?", [*record.values(), name])
        _drop_table(conn, old.table_name)
    conn.emit(Event("updated" if old else "created", "FeatureCollection", name, topic="features", dataset_id=dataset_id,
                    data={"collection": name, "version": version, "count": n}))
    meta = get_collection(conn, name)
    assert meta is not None
    return meta


def drop_collection(conn: Connection, name: str) -> bool:
    meta = get_collection(conn, name)
    if meta is None:
        return False
    conn.execute(f"DELETE FROM {REGISTRY} WHERE name = ?", (name,))
    _drop_table(conn, meta.table_name)
    conn.emit(Event("deleted", "FeatureCollection", name, topic="features", dataset_id=meta.dataset_id, data={"collection": name}))
    return True


def _lock(conn: Connection, name: str) -> CollectionMeta:
    if conn.dialect.name == "postgresql":
        conn.execute(f"SELECT name FROM {REGISTRY} WHERE name = ? FOR UPDATE", (name,))
    return require_collection(conn, name)


def _touch(conn: Connection, meta: CollectionMeta, ext: _Extent | None, delta: int | None = None) -> None:
    """Keep the registry's count (``delta``: the change when the caller knows it; else counted) and extent."""
    count = meta.item_count + delta if delta is not None else \
        int(conn.fetchval(f"SELECT COUNT(*) FROM {meta.table_name}") or 0)
    vals: dict[str, Any] = {"item_count": count, "updated_at": now_stored()}
    if ext is not None:
        vals["bbox"] = conn.dialect.json_param(ext.box)
        vals["t_min"], vals["t_max"] = ext.t_min, ext.t_max
        if ext.types and meta.geometry_type and meta.geometry_type != "Geometry" and ext.types - {meta.geometry_type}:
            vals["geometry_type"] = "Geometry"
        elif ext.types and not meta.geometry_type:
            vals["geometry_type"] = next(iter(ext.types)) if len(ext.types) == 1 else "Geometry"
    sets = ", ".join(f"{k} = ?" for k in vals)
    conn.execute(f"UPDATE {REGISTRY} SET {sets} WHERE name = ?", [*vals.values(), meta.name])


def _event(conn: Connection, kind: str, meta: CollectionMeta, fid: int) -> None:
    conn.emit(Event(kind, "Feature", fid, topic="features", dataset_id=meta.dataset_id, data={"collection": meta.name}))  # type: ignore[arg-type]


def insert_features(conn: Connection, name: str, features: Iterable[tuple[dict[str, Any], BaseGeometry | None]]) -> list[int]:
    """Append features; returns their new fids. Unknown properties are ignored."""
    meta = _lock(conn, name)
    nxt = int(conn.fetchval(f"SELECT COALESCE(MAX(fid), 0) FROM {meta.table_name}") or 0) + 1
    with_time = bool(meta.time_field)
    sql = _insert_sql(conn, meta.table_name, meta.fields, with_time, True)
    ext = _Extent(meta.bbox, meta.t_min, meta.t_max)
    fids: list[int] = []
    batch: list[list[Any]] = []
    for i, (props, geom) in enumerate(features, start=1):
        values = _row_values(meta.fields, props, i)
        g = _check_geom(geom, i)
        try:
            t = _time_value(meta.fields, meta.time_field, values)
        except ValueError:
            raise ValidationFailed(f"feature {i}: the time field {meta.time_field!r} is not a date-time.") from None
        ext.add(g, t)
        batch.append(_params(nxt, meta.fields, values, t, g, with_time, True))
        fids.append(nxt)
        nxt += 1
    if batch:
        conn.executemany(sql, batch)
    _touch(conn, meta, ext)
    for fid in fids:
        _event(conn, "created", meta, fid)
    return fids


def _exists(conn: Connection, meta: CollectionMeta, fid: int) -> bool:
    return conn.fetchone(f"SELECT 1 FROM {meta.table_name} WHERE fid = ?", (fid,)) is not None


def replace_feature(conn: Connection, name: str, fid: int, props: dict[str, Any], geom: BaseGeometry | None) -> None:
    meta = _lock(conn, name)
    if not _exists(conn, meta, fid):
        raise NotFound(f"There is no feature {fid} in collection {name!r}.")
    values = _row_values(meta.fields, props, fid)
    g = _check_geom(geom, fid)
    _update(conn, meta, fid, values, g, set_geom=True)


def patch_feature(conn: Connection, name: str, fid: int, props: dict[str, Any], geom: BaseGeometry | None = None,
                  *, set_geom: bool = False) -> None:
    """Change only the given properties (and the geometry when ``set_geom``)."""
    meta = _lock(conn, name)
    if not _exists(conn, meta, fid):
        raise NotFound(f"There is no feature {fid} in collection {name!r}.")
    known = {f.name for f in meta.fields}
    sub = [f for f in meta.fields if f.name in props]
    unknown = set(props) - known
    if unknown:
        raise ValidationFailed(f"unknown properties: {', '.join(sorted(unknown))}.")
    values = _row_values(sub, props, fid)
    g = _check_geom(geom, fid) if set_geom else None
    _update(conn, meta, fid, values, g, set_geom=set_geom, only=sub)


def _update(conn: Connection, meta: CollectionMeta, fid: int, values: dict[str, Any], geom: BaseGeometry | None, *,
            set_geom: bool, only: list[Field] | None = None, delta: int | None = None) -> None:
    flist = meta.fields if only is None else only
    sets = [f"{f.column} = ?" for f in flist]
    params: list[Any] = [values[f.name] for f in flist]
    t: str | None = None
    if meta.time_field and meta.time_field in values:
        try:
            t = _time_value(meta.fields, meta.time_field, values)
        except ValueError:
            raise ValidationFailed(f"the time field {meta.time_field!r} is not a date-time.") from None
        sets.append("t = ?")
        params.append(t)
    if set_geom:
        sets.append(f"geom = {conn.spatial.param()}")
        params.append(None if geom is None else to_wkb(geom))
    if sets:
        conn.execute(f"UPDATE {meta.table_name} SET {', '.join(sets)} WHERE fid = ?", [*params, fid])
    ext = _Extent(meta.bbox, meta.t_min, meta.t_max)
    ext.add(geom if set_geom else None, t)
    _touch(conn, meta, ext, delta)
    _event(conn, "updated", meta, fid)


def delete_feature(conn: Connection, name: str, fid: int) -> None:
    meta = _lock(conn, name)
    if not _exists(conn, meta, fid):
        raise NotFound(f"There is no feature {fid} in collection {name!r}.")
    conn.execute(f"DELETE FROM {meta.table_name} WHERE fid = ?", (fid,))
    _touch(conn, meta, None)
    _event(conn, "deleted", meta, fid)


def put_feature(conn: Connection, name: str, fid: int, props: dict[str, Any], geom: BaseGeometry | None) -> bool:
    """Feature ``fid`` made to hold ``props`` (unknown properties ignored) and ``geom``: inserted with that id when
    missing, replaced otherwise. Keeps the count (without counting the table) and extent. True when inserted."""
    meta = _lock(conn, name)
    values = _row_values(meta.fields, props, fid)
    g = _check_geom(geom, fid)
    if _exists(conn, meta, fid):
        _update(conn, meta, fid, values, g, set_geom=True, delta=0)
        return False
    with_time = bool(meta.time_field)
    try:
        t = _time_value(meta.fields, meta.time_field, values)
    except ValueError:
        raise ValidationFailed(f"feature {fid}: the time field {meta.time_field!r} is not a date-time.") from None
    conn.execute(_insert_sql(conn, meta.table_name, meta.fields, with_time, True),
                 _params(fid, meta.fields, values, t, g, with_time, True))
    ext = _Extent(meta.bbox, meta.t_min, meta.t_max)
    ext.add(g, t)
    _touch(conn, meta, ext, 1)
    _event(conn, "created", meta, fid)
    return True


def remove_feature(conn: Connection, name: str, fid: int) -> bool:
    """Delete feature ``fid`` when it exists (True), else nothing (False); the count kept without counting."""
    meta = _lock(conn, name)
    if not _exists(conn, meta, fid):
        return False
    conn.execute(f"DELETE FROM {meta.table_name} WHERE fid = ?", (fid,))
    _touch(conn, meta, None, -1)
    _event(conn, "deleted", meta, fid)
    return True


__all__ = ["replace_collection", "drop_collection", "insert_features", "replace_feature", "patch_feature",
           "delete_feature", "put_feature", "remove_feature"]
