"""CQL2 filters (OGC API Features Part 3) over a collection: parsed by :mod:`urbanos.query.cql2` into the shared
tree, compiled by :mod:`urbanos.storage.compile` (``rules=CQL2``) with the collection's queryables as resolver.

The queryables are the collection's fields, ``id`` (the feature id) and the geometry (``geometry``, also
``geom`` and ``the_geom``, usable in spatial predicates and ``IS NULL`` only). Features carry one time instant
(the collection's time field, stored in the indexed column ``t``): temporal operators compare it (``datetime``
and ``time`` name it too when no field has that name) or another datetime or date field, as the interval
[t, t], with the Allen relations against the literal (an instant, a date or an interval with open ends ``..``).
Anything the compiler does not understand is a 400 (``InvalidParameterValue``), never a database error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shapely.geometry.base import BaseGeometry

from urbanos.errors import BadRequest
from urbanos.features.ogcapi import crs as crsmod
from urbanos.features.store import CollectionMeta
from urbanos.query import ast
from urbanos.query import cql2 as cql2_query
from urbanos.query.cql2 import MAX_DEPTH, MAX_JSON_NESTING, MAX_LENGTH, MAX_NESTING, MAX_OPERATORS
from urbanos.storage.compile import CQL2, Column, Properties, SpatialIndex, compile_filter

GEOM_NAMES = ("geometry", "geom", "the_geom")
_TYPES = {"integer": "number", "number": "number", "boolean": "bool", "datetime": "time", "date": "date"}


def _bad(msg: str) -> BadRequest:
    return BadRequest(f"filter: {msg}", code="InvalidParameterValue")


def parse(text: str | None, lang: str | None, filter_crs: str = crsmod.CRS84) -> ast.Node | None:
    """The tree of a ``filter`` parameter (``filter-lang`` cql2-text or cql2-json); geometry literals are read in
    ``filter_crs`` and kept in WGS84."""
    if filter_crs == crsmod.CRS84:
        return cql2_query.parse(text, lang)

    def to_storage(g: BaseGeometry) -> BaseGeometry:
        return crsmod.to_storage(g, filter_crs)

    def bbox_to_storage(b: Sequence[float]) -> Sequence[float]:
        return crsmod.bbox_to_storage(b, filter_crs)

    return cql2_query.parse(text, lang, to_storage=to_storage, bbox_to_storage=bbox_to_storage)


class Queryables(Properties):
    """The properties of one collection, as its data table ``meta.table_name`` holds them."""

    def __init__(self, meta: CollectionMeta) -> None:
        super().__init__()
        self.meta = meta
        self.table = meta.table_name
        self.geom_names = GEOM_NAMES if meta.field("geometry") is None else GEOM_NAMES[1:]

    def column(self, path: tuple[str, ...]) -> Column:
        name = path[0]
        f = self.meta.field(name)
        if f is not None:
            return Column(f"{self.table}.{f.column}", _TYPES.get(f.type, "text"))
        if name == "id":
            return Column(f"{self.table}.fid", "number")
        if name in self.geom_names:
            raise _bad(f"the geometry {name!r} can only be used in spatial operators.")
        raise _bad(f"{name!r} is not a queryable of collection {self.meta.name!r}.")

    def geometry(self, path: tuple[str, ...]) -> Column | None:
        if path[0] not in self.geom_names:
            return None
        return Column(f"{self.table}.geom", "geometry", index=SpatialIndex(self.table, "geom", "fid"))

    def instant(self, path: tuple[str, ...]) -> Column:
        name, meta = path[0], self.meta
        if name in ("datetime", "time") and meta.time_field and meta.field(name) is None:
            return Column(f"{self.table}.t", "time")
        f = meta.field(name)
        if f is None:
            raise _bad(f"{name!r} is not a queryable of collection {meta.name!r}.")
        if meta.time_field == name:
            return Column(f"{self.table}.t", "time")
        if f.type in ("datetime", "date"):
            return Column(f"{self.table}.{f.column}", _TYPES[f.type])
        raise _bad(f"{name!r} is not a temporal property.")


def where(conn: Any, meta: CollectionMeta, tree: ast.Node) -> tuple[str, list[Any]]:
    """SQL and parameters of a parsed filter over the data table of ``meta`` (``conn``: a Connection)."""
    try:
        return compile_filter(tree, Queryables(meta), conn, where="filter", rules=CQL2)
    except BadRequest as exc:
        if exc.code == "InvalidParameterValue":
            raise
        raise _bad(exc.message.removeprefix("filter: ")) from None


__all__ = ["parse", "where", "Queryables", "GEOM_NAMES", "MAX_DEPTH", "MAX_LENGTH", "MAX_NESTING", "MAX_OPERATORS",
           "MAX_JSON_NESTING"]
