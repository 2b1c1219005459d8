"""Reading features: pages (offset or key-set by fid), counts, single features and streams in fid order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import shapely

from urbanos.features.store.model import BATCH, REGISTRY, CollectionMeta, FeatureRow, Field
from urbanos.features.store.registry import require_collection
from urbanos.features.store.values import decode
from urbanos.storage import Connection


def select_list(conn: Connection, meta: CollectionMeta, fields: Sequence[Field] | None = None, geometry: bool = True,
                geojson: bool = False) -> str:
    cols = ["fid"] + [f.column for f in (meta.fields if fields is None else fields)]
    if geometry:
        if geojson and conn.dialect.name == "postgresql":
            cols.append(f"ST_AsGeoJSON({meta.table_name}.geom, 9) AS geom")
        else:
            cols.append(conn.spatial.select(f"{meta.table_name}.geom") + " AS geom")
    return ", ".join(cols)


_DECODERS = {"boolean": bool, "integer": int, "number": float}


def _to_rows(conn: Connection, raw: list[Any], fields: Sequence[Field], geometry: bool, geojson: bool) -> list[FeatureRow]:
    n = len(fields)
    decs = [(i + 1, f.name, _DECODERS.get(f.type), f.type == "json") for i, f in enumerate(fields)]
    out: list[FeatureRow] = []
    for r in raw:
        props: dict[str, Any] = {}
        for i, name, dec, js in decs:
            v = r[i]
            if v is not None and (dec is not None or js):
                v = decode("json", v) if js else dec(v)  # type: ignore[misc]
            props[name] = v
        out.append(FeatureRow(int(r[0]), props, None))
    if not geometry or not raw:
        return out
    col = [r[n + 1] for r in raw]
    if geojson and conn.dialect.name == "postgresql":
        for row, g in zip(out, col, strict=True):
            row.geojson = g
        return out
    shapes = shapely.from_wkb(np.array([None if g is None else bytes(g) for g in col], dtype=object))
    if geojson:
        for row, g in zip(out, shapely.to_geojson(shapes), strict=True):
            row.geojson = g
    else:
        for row, g in zip(out, shapes, strict=True):
            row.geometry = g
    return out


def query(
    conn: Connection,
    meta: CollectionMeta,
    *,
    where: str = "",
    params: Sequence[Any] = (),
    order: Sequence[tuple[str, bool]] = (),
    limit: int | None = None,
    offset: int = 0,
    after_fid: int | None = None,
    fields: Sequence[Field] | None = None,
    geometry: bool = True,
    geojson: bool = False,
) -> list[FeatureRow]:
    """Features of ``meta``: ``where`` is SQL on the data table (columns ``fid``, ``c0…``, ``t``, ``geom``;
    qualify with ``meta.table_name``), ``order`` is ``[(column, ascending)]`` (fid is always the last key),
    ``after_fid`` gives keyset paging by fid. ``fields`` limits the properties read. With ``geojson`` the rows carry
    the geometry as GeoJSON text (``FeatureRow.geojson``, CRS84) instead of a shapely geometry: faster for output."""
    flist = list(meta.fields if fields is None else fields)
    conds = [where] if where else []
    ps = list(params)
    if after_fid is not None:
        conds.append("fid > ?")
        ps.append(after_fid)
    pg = conn.dialect.name == "postgresql"
    wrap = pg and geometry and geojson  # serialise geometries only for the rows of the page
    cols = ", ".join(["fid"] + [f.column for f in flist] + (["geom"] if wrap else []))
    sql = f"SELECT {cols if wrap else select_list(conn, meta, flist, geometry, geojson)} FROM {meta.table_name}"
    if conds:
        sql += " WHERE " + " AND ".join(f"({c})" for c in conds)
    keys = [f"{col} {'ASC' if asc else 'DESC'} NULLS LAST" for col, asc in order if col != "fid"]
    fid_dir = next((asc for col, asc in order if col == "fid"), True)
    keys.append(f"fid {'ASC' if fid_dir else 'DESC'}")
    sql += " ORDER BY " + ", ".join(keys)
    if limit is not None:
        sql += " LIMIT ?"
        ps.append(int(limit))
    if offset:
        if limit is None:
            sql += " LIMIT -1" if not pg else " LIMIT ALL"
        sql += " OFFSET ?"
        ps.append(int(offset))
    if wrap:
        outer = ", ".join(["fid"] + [f.column for f in flist] + ["ST_AsGeoJSON(geom, 9)"])
        sql = f"SELECT {outer} FROM ({sql}) AS page ORDER BY {', '.join(keys)}"
    return _to_rows(conn, conn.fetchall(sql, ps), flist, geometry, geojson)


def count(conn: Connection, meta: CollectionMeta, where: str = "", params: Sequence[Any] = ()) -> int:
    if not where:
        return int(conn.fetchval(f"SELECT COUNT(*) FROM {meta.table_name}") or 0)
    return int(conn.fetchval(f"SELECT COUNT(*) FROM {meta.table_name} WHERE {where}", params) or 0)


def get_feature(conn: Connection, meta: CollectionMeta, fid: int, fields: Sequence[Field] | None = None) -> FeatureRow | None:
    rows = query(conn, meta, where="fid = ?", params=(fid,), limit=1, fields=fields)
    return rows[0] if rows else None


def iter_features(conn: Connection, collection: CollectionMeta | str, batch: int = BATCH, *, where: str = "",
                  params: Sequence[Any] = (), fields: Sequence[Field] | None = None, geometry: bool = True) -> Iterator[FeatureRow]:
    """Every feature in fid order, read ``batch`` rows at a time (keyset paging: constant memory)."""
    meta = require_collection(conn, collection) if isinstance(collection, str) else collection
    last = 0
    while True:
        rows = query(conn, meta, where=where, params=params, limit=batch, after_fid=last, fields=fields, geometry=geometry)
        if not rows:
            return
        yield from rows
        last = rows[-1].fid
        if len(rows) < batch:
            return


def feature_with_access(
    conn: Connection, meta: CollectionMeta, fid: int, *, geojson: bool = True
) -> tuple[tuple[str, int, str], tuple[Any, ...] | None, FeatureRow | None] | None:
    """One feature of a known (possibly stale) ``meta``, read in one query together with the registry stamp
    ``(table_name, version, updated_at)`` and the dataset's (id, name, owner_org, access_level).

    ``None`` when the collection does not exist. The caller compares the stamp with ``meta``: when they differ the
    row was read from a table that may no longer be current and must be discarded."""
    t = meta.table_name
    cols = [f"{t}.fid"] + [f"{t}.{f.column}" for f in meta.fields]
    cols.append(f"ST_AsGeoJSON({t}.geom, 9)" if geojson and conn.dialect.name == "postgresql" else conn.spatial.select(f"{t}.geom"))
    row = conn.fetchone(
        f"SELECT r.table_name, r.version, r.updated_at, d.id, d.name, d.owner_org, d.access_level, {', '.join(cols)}"
        f" FROM {REGISTRY} r LEFT JOIN datasets d ON d.id = r.dataset_id LEFT JOIN {t} ON {t}.fid = ?"
        " WHERE r.name = ?", (fid, meta.name))
    if row is None:
        return None
    stamp = (str(row[0]), int(row[1]), str(row[2]))
    access = None if row[3] is None else tuple(row[3:7])
    if row[7] is None:
        return stamp, access, None
    feats = _to_rows(conn, [row[7:]], meta.fields, True, geojson)
    return stamp, access, feats[0]


__all__ = ["select_list", "query", "count", "get_feature", "iter_features", "feature_with_access"]
