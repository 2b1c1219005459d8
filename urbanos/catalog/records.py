"""Rows of the catalogue as every part of it reads them: datasets, organisations and groups by UUID or name, JSON columns,
CKAN's time stamps, and the governance keys a package carries at its top level and in its extras.

Nothing here decides access (see :mod:`urbanos.catalog.access`) or changes a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from urbanos.catalog.uuids import as_uuid, id_of_uuid
from urbanos.errors import NotFound
from urbanos.storage import Connection

GOVERNANCE_KEYS = ("access_level", "grounds", "legal_basis", "review_date", "steward", "owner", "frequency", "theme",
                   "publisher", "contact_name", "contact_email", "spatial", "spatial_text", "temporal_start",
                   "temporal_end", "language", "issued", "conforms_to", "documentation", "rights")
"""Keys a package shows both at its top level and in its ``extras``; input may give them either way."""
LIST_KEYS = ("grounds", "theme", "language")

DatasetRow = dict[str, Any]
"""A ``datasets`` row as :func:`dataset_row` reads it: id, name, title, owner_org, access_level, state."""
_DATASET_SQL = "SELECT id, name, title, owner_org, access_level, state FROM datasets WHERE "


def jload(v: Any) -> Any:
    """A JSON column as Python values (``{}`` for NULL); JSONB columns arrive decoded already."""
    if v is None:
        return {}
    if isinstance(v, (dict, list)):
        return v
    if isinstance(v, (bytes, memoryview)):
        v = bytes(v)
    return orjson.loads(v)


def ckan_ts(ts: str | None) -> str | None:
    """A stored time stamp as CKAN writes it (no ``Z``)."""
    return ts.rstrip("Z") if ts else ts


def marks(values: Sequence[Any]) -> str:
    """The ``?`` placeholders of an ``IN (…)`` list (``NULL`` for none, which matches nothing)."""
    return ", ".join("?" * len(values)) or "NULL"


def dataset_row(c: Connection, key: Any) -> DatasetRow | None:
    """The dataset ``key`` names, deleted ones included: its UUID (as CKAN does, before the name) or its name. The
    integer id (a Python ``int``, as rows and ports carry it) resolves only inside the platform: public input is
    text, and text written in digits is a name."""
    if isinstance(key, int) and not isinstance(key, bool):
        return dataset_by_id(c, key)
    k = str(key or "")
    if (u := as_uuid(k)) is not None:
        rows = c.rows(_DATASET_SQL + "id = (SELECT dataset_id FROM catalog_dataset_ids WHERE uuid = ?)", (u,))
        if rows:
            return rows[0]
    rows = c.rows(_DATASET_SQL + "name = ?", (k,))
    return rows[0] if rows else None


def dataset_by_id(c: Connection, ds_id: int) -> DatasetRow | None:
    """The dataset with id ``ds_id``, deleted ones included."""
    rows = c.rows(_DATASET_SQL + "id = ?", (ds_id,))
    return rows[0] if rows else None


def find_dataset(c: Connection, key: Any, *, deleted: bool = False) -> DatasetRow:
    """:func:`dataset_row`, or NotFound; a deleted dataset counts as missing unless ``deleted``."""
    row = dataset_row(c, key)
    if row is None or (row["state"] == "deleted" and not deleted):
        raise NotFound("Dataset not found")
    return row


def org_name(c: Connection, key: Any) -> str | None:
    """The name of the organisation whose UUID or name ``key`` is, or None."""
    row = org_row(c, key)
    return str(row["name"]) if row else None


def org_row(c: Connection, key: Any) -> dict[str, Any] | None:
    """The ``organizations`` row (with its ``uuid``) whose UUID or name ``key`` is, or None."""
    return _entity_row(c, "organizations", key)


def group_row(c: Connection, key: Any) -> tuple[Any, ...] | None:
    """``(id, name)`` of the group whose UUID or name ``key`` is, or None."""
    row = group_full_row(c, key)
    return (row["id"], row["name"]) if row else None


def group_full_row(c: Connection, key: Any) -> dict[str, Any] | None:
    """The ``catalog_groups`` row (with its ``uuid``) whose UUID or name ``key`` is, or None."""
    return _entity_row(c, "catalog_groups", key)


ORG_SELECT = ("SELECT o.id, o.name, o.title, o.description, o.created_at, o.extras, u.uuid FROM organizations o"
              " LEFT JOIN catalog_org_ids u ON u.org_id = o.id")
"""Organisations with their UUIDs (``org_dict`` reads these columns)."""
GROUP_SELECT = ("SELECT o.id, o.name, o.title, o.description, o.image_url, o.created_at, u.uuid FROM catalog_groups o"
                " LEFT JOIN catalog_group_ids u ON u.group_id = o.id")
"""Groups with their UUIDs (``group_dict`` reads these columns)."""


def _entity_row(c: Connection, table: str, key: Any) -> dict[str, Any] | None:
    if key in (None, "") or isinstance(key, (dict, list)):
        return None
    k = str(key)
    select = ORG_SELECT if table == "organizations" else GROUP_SELECT
    if as_uuid(k) is not None and (row_id := id_of_uuid(c, table, k)) is not None:
        rows = c.rows(select + " WHERE o.id = ?", (row_id,))
        if rows:
            return rows[0]
    rows = c.rows(select + " WHERE o.name = ?", (k,))
    return rows[0] if rows else None


__all__ = ["GOVERNANCE_KEYS", "LIST_KEYS", "DatasetRow", "jload", "ckan_ts", "marks", "dataset_row", "dataset_by_id", "find_dataset",
           "org_name", "org_row", "group_row", "group_full_row", "ORG_SELECT", "GROUP_SELECT"]
