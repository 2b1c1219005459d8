"""CQL2 (OGC 21-065, OGC API Features Part 3) text and JSON to the neutral tree of :mod:`urbanos.query.ast`.

    >>> from urbanos.query.cql2 import parse
    >>> parse("pop > 250 AND S_INTERSECTS(geometry, BBOX(9.9, 53.5, 10, 53.6))", "cql2-text")
    BinOp(op='and', left=BinOp(op='gt', ...), right=Call(name='s_intersects', ...))

CQL2 text is measured by :mod:`urbanos.query.limits` before the native ``cql2`` parser sees it, and turned into
CQL2 JSON by it; CQL2 JSON is bounded in nesting and decoded. :class:`~urbanos.query.cql2.reader.Reader` then
checks the shape and builds the tree, which :func:`urbanos.storage.compile.compile_filter` compiles with
``rules=CQL2``. Every error is a :class:`urbanos.errors.BadRequest` with the OGC code ``InvalidParameterValue``.
Pure: no I/O.
"""

from __future__ import annotations

from urbanos.query.cql2.reader import MAX_DEPTH, Reader, Reproject, ReprojectBox
from urbanos.query.cql2.text import (
           LANGUAGES,
           MAX_JSON_NESTING,
           MAX_LENGTH,
           MAX_NESTING,
           MAX_OPERATORS,
           parse,
           read,
)

__all__ = ["parse", "read", "Reader", "Reproject", "ReprojectBox", "LANGUAGES", "MAX_DEPTH", "MAX_LENGTH",
           "MAX_NESTING", "MAX_OPERATORS", "MAX_JSON_NESTING"]
