"""The feature store's model: table names, field types, the registry record and a feature row."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from urbanos.errors import ValidationFailed

REGISTRY = "feature_collections"
IDS = "feature_collection_ids"  # hands out registry ids (auto-increment, never reused)
IMPORT_REPORTS = "feature_import_reports"
TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "json")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
BATCH = 1000


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


__all__ = ["REGISTRY", "IDS", "IMPORT_REPORTS", "TYPES", "NAME_RE", "BATCH", "Field", "CollectionMeta", "FeatureRow",
           "table_for", "check_name", "normalise_fields"]
