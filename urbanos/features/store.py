"""The feature storage model: a registry of collections and one typed table per collection.

This is the API that importers, downloads, the DataStore and OGC API Features build on.
Every function takes a storage ``Connection`` (inside ``db.read``/``db.write`` or their ``_sync``
forms); nothing here knows the web.

Registry
--------
Table ``feature_collections`` (one row per collection; the collection id is ``name``)::

    name TEXT PRIMARY KEY     collection id, also the OGC API id
    id BIGINT UNIQUE          a number never given twice (from ``feature_collection_ids``): names the data tables
    dataset_id BIGINT NULL    → datasets.id (NULL = open, no dataset)
    title, description TEXT
    fields JSON               [{"name": "Sensor Name", "type": "string", "column": "c1"}, …]
    geometry_type TEXT        Point, MultiPolygon, … or "Geometry" (mixed) or "" (no geometry)
    source_crs TEXT           e.g. "EPSG:25832" (geometries are always stored in WGS84)
    time_field TEXT NULL      name of the field that is the features' time (drives datetime=)
    bbox JSON NULL            [minx, miny, maxx, maxy] in WGS84 (CRS84 axis order)
    t_min, t_max TEXT NULL    temporal extent, fixed-width UTC ISO 8601
    item_count BIGINT
    table_name TEXT           the current versioned data table
    version INTEGER           increases with every replace
    updated_at TEXT
    extras JSON               free-form metadata (resource id, licence, attribution, …)

Field types: ``string``, ``integer``, ``number``, ``boolean``, ``date`` (YYYY-MM-DD text),
``datetime`` (fixed-width UTC ISO text), ``json`` (JSON text). Columns are named ``c0, c1, …``
(``Field.column``) so any source header is safe; always map names through ``meta.field(name)``.

Data tables
-----------
``fc<id>_v<version>``, named by the registry ``id`` (never by the name, so two names cannot share a table;
tables made before ids existed keep their ``fc_<name>_v<version>`` until the next replace): ``fid`` integer
primary key (1…n, stable within a version), one typed column per field, ``t`` (the normalised time of
``time_field``, when set) and ``geom`` (WGS84, added with ``conn.spatial.add_geometry_column`` so it has a GiST
index or an R*Tree).

Writing
-------
``replace_collection(conn, name, fields, rows, *, geometry_type, source_crs, time_field, dataset_id, title)``
creates the next versioned table, bulk-inserts ``rows`` (an iterable of ``(properties: dict, geometry:
shapely geometry in WGS84 or None)``), then switches the registry row to it and drops the old table, all in
the caller's one write transaction: readers see the old or the new table, never half a table. Use it inside
``db.write_sync(lambda c: replace_collection(c, …))``. Values are coerced with :func:`coerce`; a value that
cannot be coerced raises ``ValidationFailed`` naming the row (1-based) and the field, and nothing is kept.

``insert_features``, ``replace_feature``, ``patch_feature``, ``delete_feature`` change single features (OGC
API Part 4) and keep the count and extent up to date. ``drop_collection`` removes a collection.

Every write emits ``Event(kind, "FeatureCollection"|"Feature", id, topic="features", dataset_id=…)``.

Reading
-------
``get_collection(conn, name) -> CollectionMeta | None``, ``list_collections(conn, where, params)``,
``query(conn, meta, where=…, params=…, order=…, limit=…, offset=… | after_fid=…) -> list[FeatureRow]``,
``count(conn, meta, where, params)`` and ``iter_features(conn, meta_or_name, batch=1000)`` (keyset by fid, for
streaming downloads in constant memory). Access control is not applied here: callers filter the registry
with ``gate.dataset_filter(identity, "dataset_id")`` and check ``gate.can_read`` for one collection.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
import shapely
from shapely.geometry.base import BaseGeometry

from urbanos.errors import NotFound, ValidationFailed
from urbanos.events import Event
from urbanos.storage import Connection, Migration
from urbanos.storage.spatial import to_wkb

REGISTRY = "feature_collections"
IDS = "feature_collection_ids"  # hands out registry ids (auto-increment, never reused)
IMPORT_REPORTS = "feature_import_reports"
TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "json")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
BATCH = 1000


# -- model ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    name: str
    type: str = "string"
    column: str = ""
    title: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = {"name": self.name, "type": self.type, "column": self.column}
        if self.title:
            d["title"] = self.title
        return d


@dataclass
class CollectionMeta:
    name: str
    table_name: str
    fields: list[Field]
    dataset_id: int | None = None
    title: str = ""
    description: str = ""
    geometry_type: str = ""
    source_crs: str = "OGC:CRS84"
    time_field: str | None = None
    bbox: list[float] | None = None
    t_min: str | None = None
    t_max: str | None = None
    item_count: int = 0
    version: int = 1
    updated_at: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # the registry id (None only for rows written before ids existed)

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    @property
    def has_geometry(self) -> bool:
        return bool(self.geometry_type)


@dataclass
class FeatureRow:
    fid: int
    properties: dict[str, Any]
    geometry: BaseGeometry | None
    geojson: str | None = None  # the geometry as GeoJSON text (CRS84) when read with ``geojson=True``


# -- time and values --------------------------------------------------------------------------------
def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_datetime(value: Any) -> datetime:
    """Parse an ISO 8601 date or date-time (naive means UTC); raises ValueError."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        s = str(value).strip()
        if not s:
            raise ValueError("empty date-time")
        if not s.isascii():  # fromisoformat takes any character between date and time ("2024-01-01²00:00")
            raise ValueError("not an ISO 8601 date-time (ASCII digits and separators only)")
        s = s.replace(" ", "T", 1) if re.match(r"^[0-9]{4}-[0-9][0-9]-[0-9][0-9] [0-9]", s) else s
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        s = s.replace("/", "-") if re.match(r"^[0-9]{4}/[0-9][0-9]/[0-9][0-9]", s) else s
        dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def format_datetime(dt: datetime) -> str:
    """Fixed-width UTC text, so that text order is time order."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def coerce(ftype: str, value: Any) -> Any:
    """Convert a value to the stored form of ``ftype``; None/'' → None; raises ValueError."""
    if value is None or (isinstance(value, str) and value.strip() == "" and ftype != "string"):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if ftype == "string":
        return value if isinstance(value, str) else (orjson.dumps(value).decode() if isinstance(value, dict | list) else str(value))
    if ftype == "integer":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"{value!r} is not an integer")
            return int(value)
        return int(str(value).strip())
    if ftype == "number":
        if isinstance(value, bool):
            return float(value)
        v = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
        if math.isinf(v):
            raise ValueError("infinite number")
        return v
    if ftype == "boolean":
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in ("true", "1", "yes", "t", "y", "ja"):
            return True
        if s in ("false", "0", "no", "f", "n", "nein"):
            return False
        raise ValueError(f"{value!r} is not a boolean")
    if ftype == "date":
        return parse_datetime(value).date().isoformat() if not isinstance(value, date) or isinstance(value, datetime) else value.isoformat()
    if ftype == "datetime":
        return format_datetime(parse_datetime(value))
    if ftype == "json":
        return orjson.dumps(value).decode()
    raise ValueError(f"unknown field type {ftype!r}")


def decode(ftype: str, value: Any) -> Any:
    """The stored form back to a JSON value."""
    if value is None:
        return None
    if ftype == "boolean":
        return bool(value)
    if ftype == "integer":
        return int(value)
    if ftype == "number":
        return float(value)
    if ftype == "json":
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def sql_type(conn: Connection, ftype: str) -> str:
    pg = conn.dialect.name == "postgresql"
    return {
        "integer": "BIGINT" if pg else "INTEGER",
        "number": "DOUBLE PRECISION" if pg else "REAL",
        "boolean": "BOOLEAN" if pg else "INTEGER",
    }.get(ftype, "TEXT")


def table_for(collection_id: int, version: int) -> str:
    """The data table of a collection version: ``fc<id>_v<version>``. Ids are never given twice, and the names
    tables had before ids existed (``fc_<name>_v<n>``) always have an underscore after ``fc``, so no two
    collections (nor an old and a new table) can share a name."""
    return f"fc{int(collection_id)}_v{int(version)}"


def check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationFailed(
            f"{name!r} is not a valid collection name: use letters, digits, '-', '_' or '.', at most 100 characters.",
            detail={"name": ["invalid"]},
        )


def normalise_fields(fields: Sequence[Field | dict[str, Any]]) -> list[Field]:
    out: list[Field] = []
    seen: set[str] = set()
    for i, f in enumerate(fields):
        if isinstance(f, dict):
            f = Field(name=str(f["name"]), type=str(f.get("type", "string")), title=str(f.get("title", "")))
        if f.type not in TYPES:
            raise ValidationFailed(f"field {f.name!r}: unknown type {f.type!r} (one of {', '.join(TYPES)}).")
        if f.name in seen:
            raise ValidationFailed(f"field {f.name!r} appears twice.")
        seen.add(f.name)
        out.append(Field(name=f.name, type=f.type, column=f"c{i}", title=f.title))
    return out


# -- migrations -------------------------------------------------------------------------------------
def _v1(c: Connection) -> None:
    j = c.dialect.json_type
    c.execute(
        f"CREATE TABLE {REGISTRY} (name TEXT PRIMARY KEY, dataset_id BIGINT REFERENCES datasets(id) ON DELETE SET NULL,"
        f" title TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', fields {j} NOT NULL,"
        " geometry_type TEXT NOT NULL DEFAULT '', source_crs TEXT NOT NULL DEFAULT 'OGC:CRS84', time_field TEXT,"
        f" bbox {j}, t_min TEXT, t_max TEXT, item_count BIGINT NOT NULL DEFAULT 0, table_name TEXT NOT NULL,"
        f" version INTEGER NOT NULL DEFAULT 1, updated_at TEXT NOT NULL, extras {j})"
    )
    c.execute(f"CREATE INDEX {REGISTRY}_dataset ON {REGISTRY} (dataset_id)")


def _v2(c: Connection) -> None:
    # one row per imported resource: the import's state and report, shared by every process on the database
    c.execute(
        f"CREATE TABLE {IMPORT_REPORTS} (resource_id TEXT PRIMARY KEY,"
        " dataset_id BIGINT REFERENCES datasets(id) ON DELETE CASCADE,"
        " status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),"
        f" report {c.dialect.json_type}, failure TEXT, started_at TEXT, finished_at TEXT)"
    )
    c.execute(f"CREATE INDEX {IMPORT_REPORTS}_dataset ON {IMPORT_REPORTS} (dataset_id)")


def _v3(c: Connection) -> None:
    # a registry id per collection: data tables are named by it, never by a (truncated, lower-cased) name
    c.execute(f"ALTER TABLE {REGISTRY} ADD COLUMN id BIGINT")
    c.execute(f"CREATE TABLE {IDS} (id {c.dialect.pk}, name TEXT NOT NULL)")
    for (name,) in c.fetchall(f"SELECT name FROM {REGISTRY} ORDER BY name"):
        c.execute(f"UPDATE {REGISTRY} SET id = ? WHERE name = ?", (c.insert(IDS, {"name": name}), name))
    c.execute(f"CREATE UNIQUE INDEX {REGISTRY}_id ON {REGISTRY} (id)")


MIGRATIONS = [
    Migration("features", 1, "feature collection registry", _v1),
    Migration("features", 2, "import reports of uploaded resources", _v2),
    Migration("features", 3, "registry ids; data tables named by id", _v3),
]


# -- registry ---------------------------------------------------------------------------------------
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


# -- writing ----------------------------------------------------------------------------------------
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


def _create_table(conn: Connection, table: str, fields: list[Field], with_time: bool, with_geom: bool) -> None:
    cols = ["fid BIGINT PRIMARY KEY" if conn.dialect.name == "postgresql" else "fid INTEGER PRIMARY KEY"]
    cols += [f"{f.column} {sql_type(conn, f.type)}" for f in fields]
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
    return format_datetime(parse_datetime(v))


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
) -> CollectionMeta:
    """Load ``rows`` into a new version of collection ``name`` and switch to it atomically.

    ``geometry_type`` may be empty: then it is detected from the rows ("" when no row has a geometry,
    "Geometry" when types are mixed). Returns the new registry record.
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
        batch.append(_params(n, flist, values, t, g, with_time, True))
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
        "table_name": table, "version": version, "updated_at": now_iso(), "extras": conn.dialect.json_param(extras or {}),
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


def _touch(conn: Connection, meta: CollectionMeta, ext: _Extent | None) -> None:
    count = int(conn.fetchval(f"SELECT COUNT(*) FROM {meta.table_name}") or 0)
    vals: dict[str, Any] = {"item_count": count, "updated_at": now_iso()}
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
            set_geom: bool, only: list[Field] | None = None) -> None:
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
    _touch(conn, meta, ext)
    _event(conn, "updated", meta, fid)


def delete_feature(conn: Connection, name: str, fid: int) -> None:
    meta = _lock(conn, name)
    if not _exists(conn, meta, fid):
        raise NotFound(f"There is no feature {fid} in collection {name!r}.")
    conn.execute(f"DELETE FROM {meta.table_name} WHERE fid = ?", (fid,))
    _touch(conn, meta, None)
    _event(conn, "deleted", meta, fid)


# -- reading ----------------------------------------------------------------------------------------
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
    import numpy as np

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


__all__ = [
    "REGISTRY", "IDS", "IMPORT_REPORTS", "table_for", "TYPES", "MIGRATIONS", "Field", "CollectionMeta", "FeatureRow", "coerce", "decode", "parse_datetime",
    "format_datetime", "check_name", "normalise_fields", "get_collection", "require_collection", "list_collections",
    "registry_stamp", "get_collection_access", "replace_collection", "drop_collection", "insert_features", "replace_feature", "patch_feature",
    "delete_feature", "query", "count", "get_feature", "iter_features", "select_list", "now_iso",
]
