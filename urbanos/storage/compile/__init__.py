"""Compile a neutral expression tree (``urbanos.query.ast``) into SQL for SQLite or PostgreSQL.

The caller maps property paths to SQL with a *resolver*::

    def resolve(path: tuple[str, ...]) -> Column: ...      # BadRequest for unknown properties

    sql, params = compile_filter(options.filter, resolve, conn)
    order = compile_orderby(options.orderby, resolve, conn)
    conn.rows(f"SELECT … FROM obs o WHERE {sql} ORDER BY {order}", params)

:class:`Column` types: ``text``, ``number`` (``id`` is accepted as a number), ``bool``, ``time``
(one instant stored as fixed-width UTC text ``YYYY-MM-DDTHH:MM:SS.ffffffZ``), ``date`` (``YYYY-MM-DD``),
``interval`` (``start``/``end`` expressions of that form; ``end`` may equal ``start``), ``json`` (``sql`` is a
JSON document — TEXT on SQLite, JSONB on PostgreSQL — and ``json_path`` the keys inside it) and
``geometry`` (a WKB / PostGIS geometry column, with its :class:`SpatialIndex` when predicates may use it).

OData ``$filter`` and CQL2 trees compile here alike; where the two languages mean different things the
:class:`Rules` say so (``rules=ODATA``, the default, or ``rules=CQL2``), and a :class:`Properties` object
resolves a property by the part it plays (value, geometry, instant) and, for
:class:`urbanos.query.ast.AnyRelated`, the entities a to-many navigation leads to (:meth:`Properties.related`:
an ``EXISTS`` subquery, true when one of them satisfies the condition). Semantics are described in
``docs/query.md``.

The pieces: :mod:`.expr` (Column, E, Rules), :mod:`.base` (parameters, literals, properties, JSON, coercion),
:mod:`.compare`, :mod:`.arith`, :mod:`.functions` (OData functions), :mod:`.predicates` (CQL2 predicates),
:mod:`.compiler` (the assembled :class:`Compiler`) and :mod:`.orderby`.
"""

from __future__ import annotations

from urbanos.storage.compile.base import CQL2, ODATA
from urbanos.storage.compile.compiler import Compiler, compile_expression, compile_filter
from urbanos.storage.compile.expr import (
    Column,
    E,
    Properties,
    Related,
    Resolver,
    Rules,
    Scoped,
    SpatialIndex,
    fmt,
)
from urbanos.storage.compile.orderby import compile_orderby, compile_orderby_params, inline

__all__ = [
    "Column", "SpatialIndex", "Resolver", "Properties", "Related", "Scoped", "Rules", "ODATA", "CQL2", "E", "Compiler", "compile_filter",
    "compile_expression", "compile_orderby", "compile_orderby_params", "inline", "fmt",
]
