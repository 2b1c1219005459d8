"""The feature storage model: a registry of collections and one typed table per collection.

This is the API that importers, downloads, the DataStore and OGC API Features build on; this module states it,
and the modules beside it hold it by responsibility: ``model`` (records, names), ``values`` (field types),
``migrations``, ``registry`` (reading the registry), ``rows`` (writing) and ``query`` (reading features).
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
API Part 4) and keep the count and extent up to date; ``put_feature`` (insert with a given fid, or replace) and
``remove_feature`` (delete when present) keep a collection in step with records of another capability, one id each. ``drop_collection`` removes a collection.

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

from urbanos.features.store.migrations import MIGRATIONS
from urbanos.features.store.model import (
    IDS,
    IMPORT_REPORTS,
    REGISTRY,
    TYPES,
    CollectionMeta,
    FeatureRow,
    Field,
    check_name,
    normalise_fields,
    table_for,
)
from urbanos.features.store.query import (
    count,
    feature_with_access,
    get_feature,
    iter_features,
    query,
    select_list,
)
from urbanos.features.store.registry import (
    get_collection,
    get_collection_access,
    list_collections,
    registry_stamp,
    require_collection,
)
from urbanos.features.store.rows import (
    delete_feature,
    drop_collection,
    insert_features,
    patch_feature,
    put_feature,
    remove_feature,
    replace_collection,
    replace_feature,
)
from urbanos.features.store.values import coerce, decode, parse_datetime

__all__ = [
    "REGISTRY", "IDS", "IMPORT_REPORTS", "TYPES", "MIGRATIONS", "table_for", "Field", "CollectionMeta", "FeatureRow",
    "coerce", "decode", "parse_datetime", "check_name", "normalise_fields",
    "get_collection", "require_collection", "list_collections", "registry_stamp", "get_collection_access",
    "replace_collection", "drop_collection", "insert_features", "replace_feature", "patch_feature", "delete_feature",
    "put_feature", "remove_feature", "query", "count", "get_feature", "iter_features", "select_list", "feature_with_access",
]
