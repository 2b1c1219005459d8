"""Rows of the catalogue as every part of it reads them: datasets and organisations by name or id, JSON columns,
CKAN's time stamps, and the governance keys a package carries at its top level and in its extras.

Nothing here decides access (see :mod:`urbanos.catalog.access`) or changes a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from urbanos.core.ids import is_ascii_digits, parse_id
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
    """The dataset named ``key``, or whose id ``key`` is (written in ASCII digits), deleted ones included."""
    k = str(key or "")
    rows = c.rows(_DATASET_SQL + "name = ?", (k,))
    if not rows and is_ascii_digits(k) and (ds_id := parse_id(k)) is not None:  # "²" or "١٢" is no id
        rows = c.rows(_DATASET_SQL + "id = ?", (ds_id,))
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
    """The name of the organisation named ``key`` or whose id ``key`` is, or None."""
    if key in (None, ""):
        return None
    r = c.fetchone("SELECT name FROM organizations WHERE name = ? OR CAST(id AS TEXT) = ?", (str(key), str(key)))
    return str(r[0]) if r else None


def group_row(c: Connection, key: Any) -> tuple[Any, ...] | None:
    """``(id, name)`` of the group named ``key`` or whose id ``key`` is, or None."""
    return c.fetchone("SELECT id, name FROM catalog_groups WHERE name = ? OR CAST(id AS TEXT) = ?", (key, key))


__all__ = ["GOVERNANCE_KEYS", "LIST_KEYS", "DatasetRow", "jload", "ckan_ts", "marks", "dataset_row", "dataset_by_id", "find_dataset",
           "org_name", "group_row"]
