"""Public ids of datasets, organisations and groups: a random UUID (version 4) per row, as CKAN answers them.

The rows keep their integer primary keys (``datasets.id``, ``organizations.id``, ``catalog_groups.id``): other
capabilities, the governance tables and every internal reference use them. The catalogue shows only the UUID
(``id`` of a package, organisation or group, ``owner_org``, a resource's ``package_id``, member lists) and reads a
UUID wherever it reads a name. Migration 4 keeps them in three tables:

* ``catalog_dataset_ids (dataset_id, uuid)``, ``catalog_org_ids (org_id, uuid)`` and
  ``catalog_group_ids (group_id, uuid)``; each ``uuid`` is unique, and the row goes with its entity
  (``ON DELETE CASCADE``);
* ``AFTER INSERT`` triggers give every new row its UUID, whoever inserts it: the catalogue's Action API, the
  harvester and the demo, and also the features and sensing capabilities, which insert ``datasets`` rows of their
  own (SQLite: 16 bytes of ``randomblob`` written as a version 4 UUID; PostgreSQL: ``gen_random_uuid()``);
* rows that exist when the migration runs get theirs from Python's ``uuid.uuid4()``.

A UUID never changes: not when the dataset is renamed, updated, moved to another organisation or when the
platform restarts. Two platforms that harvest each other give each copy its own UUID; the harvester keeps the
remote one in the copy's ``harvest_remote_id`` extra.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from urbanos.storage import Connection

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
"""A UUID as the catalogue writes it: 36 characters, lower-case hexadecimal digits and hyphens."""

ID_TABLES = {"datasets": ("catalog_dataset_ids", "dataset_id"), "organizations": ("catalog_org_ids", "org_id"),
             "catalog_groups": ("catalog_group_ids", "group_id")}
"""Entity table -> (its UUID table, the column there that holds the entity's integer id)."""

DATASET_UUID_SQL = "(SELECT u.uuid FROM catalog_dataset_ids u WHERE u.dataset_id = d.id)"
"""The UUID of dataset ``d`` as an SQL expression (``sort=id`` orders by it)."""

# A version 4 UUID from 16 random bytes on SQLite: version nibble 4, variant 8, 9, a or b.
_SQLITE_UUID = ("substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-4' || substr(h, 14, 3) || '-'"
                " || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(h, 18, 3) || '-' || substr(h, 21, 12)")


def as_uuid(key: Any) -> str | None:
    """``key`` as the catalogue stores a UUID (lower case), when it is written as one; None otherwise. Only ASCII
    hexadecimal digits count, so a look-alike character is no UUID."""
    if not isinstance(key, str) or len(key) != 36 or not key.isascii():
        return None
    k = key.lower()
    return k if UUID_RE.match(k) else None


def public_id(row: dict[str, Any], uuid_key: str = "uuid", id_key: str = "id") -> str:
    """The id a row shows: its UUID (read with the row, ``LEFT JOIN`` on its UUID table). Every row gets one when it
    is inserted (the triggers) or migrated, so the integer id written as text is only a last resort."""
    v = row.get(uuid_key)
    return str(v) if v else str(row[id_key])


def new_uuid() -> str:
    return str(uuid.uuid4())


def dataset_uuids(c: Connection, ids: list[int]) -> dict[int, str]:
    """The UUIDs of these dataset ids (ids without one are left out)."""
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    return {int(r[0]): str(r[1]) for r in c.fetchall(
        f"SELECT dataset_id, uuid FROM catalog_dataset_ids WHERE dataset_id IN ({marks})", list(ids))}


def dataset_uuid(c: Connection, ds_id: int) -> str | None:
    v = c.fetchval("SELECT uuid FROM catalog_dataset_ids WHERE dataset_id = ?", (int(ds_id),))
    return str(v) if v is not None else None


def id_of_uuid(c: Connection, table: str, key: Any) -> int | None:
    """The integer id of the row of ``table`` (``datasets``, ``organizations`` or ``catalog_groups``) whose UUID
    ``key`` is, or None (also for a key that is no UUID)."""
    u = as_uuid(key)
    if u is None:
        return None
    ids_table, column = ID_TABLES[table]
    v = c.fetchval(f"SELECT {column} FROM {ids_table} WHERE uuid = ?", (u,))
    return int(v) if v is not None else None


def migrate(c: Connection) -> None:
    """Migration 4: the UUID tables, their triggers, and a UUID for every row that exists now."""
    for table, (ids_table, column) in ID_TABLES.items():
        c.execute(f"CREATE TABLE {ids_table} ({column} BIGINT PRIMARY KEY REFERENCES {table}(id) ON DELETE CASCADE,"
                  " uuid TEXT NOT NULL UNIQUE)")
    if c.dialect.name == "sqlite":
        for table, (ids_table, column) in ID_TABLES.items():
            c.execute(f"CREATE TRIGGER {ids_table}_new AFTER INSERT ON {table} BEGIN"
                      f" INSERT INTO {ids_table} ({column}, uuid) SELECT NEW.id, {_SQLITE_UUID}"
                      " FROM (SELECT lower(hex(randomblob(16))) AS h); END")
    else:
        branches = " ELS".join(
            f"IF TG_TABLE_NAME = '{table}' THEN INSERT INTO {ids_table} ({column}, uuid)"
            " VALUES (NEW.id, CAST(gen_random_uuid() AS TEXT));"
            for table, (ids_table, column) in ID_TABLES.items())
        c.execute("CREATE FUNCTION catalog_new_uuid() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$"
                  f" BEGIN {branches} END IF; RETURN NULL; END $$")
        for table, (ids_table, _column) in ID_TABLES.items():
            c.execute(f"CREATE TRIGGER {ids_table}_new AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION catalog_new_uuid()")
    backfill(c)


def backfill(c: Connection) -> int:
    """Give every row without a UUID one (uuid4, made in Python: the same on both back ends); returns how many."""
    n = 0
    for table, (ids_table, column) in ID_TABLES.items():
        missing = [int(r[0]) for r in c.fetchall(
            f"SELECT t.id FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM {ids_table} x WHERE x.{column} = t.id) ORDER BY t.id")]
        if missing:
            c.executemany(f"INSERT INTO {ids_table} ({column}, uuid) VALUES (?, ?)", [(i, new_uuid()) for i in missing])
        n += len(missing)
    return n


__all__ = ["UUID_RE", "ID_TABLES", "DATASET_UUID_SQL", "as_uuid", "public_id", "new_uuid", "dataset_uuids", "dataset_uuid",
           "id_of_uuid", "migrate", "backfill"]
