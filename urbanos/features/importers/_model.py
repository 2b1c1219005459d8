"""What every reader returns: a schema, a row iterator and the bad rows it skipped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

# Column types a reader infers. The store maps them to SQL types.
TYPES = ("integer", "number", "boolean", "date", "datetime", "string", "json")


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # one of TYPES
    title: str = ""  # the column name as written in the file, when it had to be changed


@dataclass(frozen=True)
class RowError:
    """A bad row: ``row`` is the 1-based line (CSV, XLSX: header is row 1) or feature number."""

    row: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


@dataclass
class Row:
    row: int
    properties: dict[str, Any]
    geometry: BaseGeometry | None = None
    fid: Any = None  # the feature id given by the file, if any


@dataclass
class Source:
    """A readable file. ``rows()`` may be called more than once (each call reads the file again);
    rows that cannot be read are skipped and recorded in ``errors`` (reset at each call)."""

    path: str
    format: str
    fields: list[Field]
    reader: Callable[[Source], Iterator[Row]]
    source_crs: str | None = None  # e.g. "EPSG:25832"; None when the file has no geometry
    geometry_type: str | None = None
    count: int | None = None  # number of rows, when known without reading them all
    errors: list[RowError] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)  # encoding, delimiter, geometry columns, sheet …

    def rows(self) -> Iterator[Row]:
        self.errors = []
        return self.reader(self)

    @property
    def has_geometry(self) -> bool:
        return self.geometry_type is not None


__all__ = ["TYPES", "Field", "RowError", "Row", "Source"]
