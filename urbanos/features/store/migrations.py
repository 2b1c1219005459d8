"""The feature store's tables: the collection registry, import reports and registry ids."""

from __future__ import annotations

from urbanos.features.store.model import IDS, IMPORT_REPORTS, REGISTRY
from urbanos.storage import Connection, Migration


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

__all__ = ["MIGRATIONS"]
