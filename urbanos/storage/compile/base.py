"""The compiler's core: parameters, literals, properties, JSON values, coercions and the walk over the tree.

Comparisons (:mod:`.compare`), arithmetic (:mod:`.arith`) and the functions (:mod:`.functions`,
:mod:`.predicates`) build on :class:`CompilerBase`; :mod:`urbanos.storage.compile` puts them together.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from urbanos.core.time import format_stored
from urbanos.errors import BadRequest
from urbanos.query import ast
from urbanos.query.odata.unparse import to_text
from urbanos.storage.compile.expr import Column, E, Properties, Resolver, Rules, Scoped, Target, fmt
from urbanos.storage.spatial import PostGISSpatial, Spatial, SQLiteSpatial, to_wkb

ODATA = Rules(show=to_text)
"""OData ``$filter`` (SensorThings): the rules ``docs/query.md`` describes."""
CQL2 = Rules(ne_includes_null=False, coerce=False, decimal=False)
"""CQL2 (OGC API Features Part 3): one type per comparison, SQL arithmetic, ``<>`` unknown with null."""
COMPARE = ("eq", "ne", "gt", "ge", "lt", "le")
_INT = re.compile(r"-?[0-9]{1,18}")

Function = Callable[["CompilerBase", ast.Call], E]


class CompilerBase:
    functions: ClassVar[Mapping[str, Function]] = {}

    def __init__(self, resolve: Resolver | Properties, conn: Target, where: str = "$filter", rules: Rules = ODATA) -> None:
        self.props = resolve if isinstance(resolve, Properties) else Properties(resolve)
        self.target = conn
        dialect = getattr(conn, "dialect", conn)
        self.pg = getattr(dialect, "name", "") == "postgresql"
        sp: Spatial | None = getattr(conn, "spatial", None)
        self.sp: Spatial = sp if sp is not None else (PostGISSpatial() if self.pg else SQLiteSpatial())
        self.where = where
        self.rules = rules
        self.false = "FALSE" if self.pg else "0"

    @property
    def resolve(self) -> Properties:
        return self.props

    # -- helpers --------------------------------------------------------------------------------
    def bad(self, node: ast.Node | None, message: str) -> BadRequest:
        shown = ""
        if node is not None and self.rules.show is not None:
            try:
                shown = f" in {self.rules.show(node)[:120]!r}"
            except ValueError:
                pass
        return BadRequest(f"{self.where}: {message}{shown}.", detail={"option": self.where})

    def e(self, template: str, *parts: E, type: str, nullable: bool | None = None, numeric: bool | None = None) -> E:
        sql, params = fmt(template, *parts)
        if nullable is None:
            nullable = False
            for p in parts:
                if p.nullable:
                    nullable = True
                    break
        if not self.pg:
            numeric = False
        elif numeric is None:
            numeric = type in ("number", "duration") and any(p.numeric for p in parts)
        return E(sql, params, type, nullable=nullable, numeric=bool(numeric))

    def param(self, value: Any, type: str) -> E:
        if value is None:
            return E("NULL", (), "null")
        if type == "geometry":
            return E(self.sp.param(), (to_wkb(value),), "geometry", const=value, nullable=False)
        if isinstance(value, str):
            if "\x00" in value:
                raise self.bad(None, "text cannot contain the NUL character")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise self.bad(None, "the text is not valid Unicode") from None
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) < value < 2**63:
            value = float(value)
        sql = "?"
        if self.pg:
            if type == "number":
                sql = "CAST(? AS BIGINT)" if isinstance(value, int) else "CAST(? AS DOUBLE PRECISION)"
            elif type == "bool":
                sql = "CAST(? AS BOOLEAN)"
            else:
                sql = "CAST(? AS TEXT)"
        return E(sql, (value,), type, const=value, nullable=False)

    def time_param(self, dt: datetime) -> E:
        try:
            text = format_stored(dt)
        except (OverflowError, ValueError):
            raise self.bad(None, "the time is out of range") from None
        e = self.param(text, "time")
        e.const = dt
        return e

    def typed_null(self, type: str) -> E:
        if not self.pg:
            return E("NULL", (), type)
        sqltype = {"number": "DOUBLE PRECISION", "bool": "BOOLEAN"}.get(type, "TEXT")
        return E(f"CAST(NULL AS {sqltype})", (), type)

    # -- JSON -----------------------------------------------------------------------------------
    def _jpath(self, e: E) -> str:
        """The path literal for ``e.path`` (keys are checked: they are written into the SQL)."""
        for k in e.path:
            if "'" in k or '"' in k or "\\" in k or "{" in k:
                raise self.bad(None, f"the property name {k!r} cannot be used in expressions")
        if self.pg:
            return "ARRAY[" + ", ".join(f"'{k}'" for k in e.path) + "]::text[]" if e.path else ""
        return "'$" + "".join(f'."{k}"' for k in e.path) + "'"

    def json_value(self, e: E) -> E:
        """PostgreSQL: the jsonb value at the path; SQLite: the SQL value at the path."""
        path = self._jpath(e)
        doc = E(e.sql, e.params, "json")
        if self.pg:
            return self.e("({0} #> " + path + ")" if path else "({0})", doc, type="json")
        return self.e("json_extract({0}, " + path + ")", doc, type="json")

    def json_as(self, e: E, want: str) -> E:
        """The JSON value as number / text / bool (NULL when it has another JSON type), or ``isnull``."""
        path = self._jpath(e)
        doc = E(e.sql, e.params, "json")
        t = _json_as_pg(path, want) if self.pg else _json_as_sqlite(path, want)
        if want == "isnull":
            return self.e(t, doc, type="bool", nullable=False)
        return self.e(t, doc, type=want, numeric=want == "number")

    # -- coercions ------------------------------------------------------------------------------
    def as_type(self, e: E, want: str, node: ast.Node, what: str) -> E:
        if e.type == want:
            return e
        if e.type == "null":
            return self.typed_null(want)
        if self.rules.coerce:
            coerced = self._coerce(e, want)
            if coerced is not None:
                return coerced
        raise self.bad(node, f"{what} needs {want.replace('tod', 'time of day')}, not {e.type}")

    def _coerce(self, e: E, want: str) -> E | None:
        if e.type == "json" and want in ("number", "text", "bool"):
            return self.json_as(e, want)
        if want == "time":
            if e.type == "interval" and e.start is not None:
                return e.start
            if e.type == "date" and isinstance(e.const, date):
                return self.time_param(datetime(e.const.year, e.const.month, e.const.day, tzinfo=UTC))
        if want == "number" and e.type == "text" and isinstance(e.const, str):
            try:
                v: float | int = int(e.const) if _INT.fullmatch(e.const) else float(e.const)
            except ValueError:
                return None
            return self.param(v, "number")
        return None

    # -- nodes ----------------------------------------------------------------------------------
    def compile(self, node: ast.Node) -> E:
        if isinstance(node, ast.BinOp):
            if node.op in ("and", "or"):
                a = self.as_type(self.compile(node.left), "bool", node, node.op)
                b = self.as_type(self.compile(node.right), "bool", node, node.op)
                return self.e("({0} " + node.op.upper() + " {1})", a, b, type="bool")
            if node.op in COMPARE:
                return self.compare(node)
            return self.arith(node)
        if isinstance(node, ast.Property):
            return self.property(node)
        if isinstance(node, ast.Literal):
            return self.literal(node)
        if isinstance(node, ast.Not):
            a = self.as_type(self.compile(node.operand), "bool", node, "not")
            return self.e("(NOT COALESCE({0}, " + self.false + "))", a, type="bool", nullable=False)
        if isinstance(node, ast.Neg):
            return self.neg(node)
        if isinstance(node, ast.Call):
            fn = self.functions.get(node.name)
            if fn is None:
                raise self.bad(node, f"the function {node.name} is not supported")
            return fn(self, node)
        if isinstance(node, ast.AnyRelated):
            return self.any_related(node)
        raise self.bad(None, f"unsupported expression {type(node).__name__}")

    def any_related(self, node: ast.AnyRelated) -> E:
        """``EXISTS`` over the related entities of ``node.path``, with ``node.predicate`` compiled for them."""
        try:
            rel = self.props.related(node.path)
        except NotImplementedError:
            raise self.bad(node, f"{'/'.join(node.path)!r} cannot be followed here") from None
        inner = type(self)(Scoped(self.props, node.path, rel.props), self.target, self.where, self.rules)
        e = inner.as_type(inner.compile(node.predicate), "bool", node.predicate, "a condition")
        return E(f"EXISTS (SELECT 1 FROM {rel.source} WHERE {rel.where} AND {e.sql})", e.params, "bool",
                 nullable=False)

    def compare(self, node: ast.BinOp) -> E:
        raise NotImplementedError

    def compatible(self, node: ast.Node, what: str, a: E, b: E) -> None:
        raise NotImplementedError

    def arith(self, node: ast.BinOp) -> E:
        raise NotImplementedError

    def neg(self, node: ast.Neg) -> E:
        raise NotImplementedError

    def seconds(self, d: E) -> E:
        raise NotImplementedError

    def literal(self, lit: ast.Literal) -> E:
        k, v = lit.kind, lit.value
        if k == ast.STRING:
            return self.param(v, "text")
        if k in (ast.INT, ast.FLOAT):
            return self.param(v, "number")
        if k == ast.BOOL:
            return self.param(bool(v), "bool")
        if k == ast.NULL:
            return E("NULL", (), "null")
        if k == ast.DATETIME:
            return self.time_param(v)
        if k == ast.DATE:
            e = self.param(v.isoformat(), "date")
            e.const = v
            return e
        if k == ast.TIME:
            e = self.param(v.strftime("%H:%M:%S.%f"), "tod")
            e.const = v
            return e
        if k == ast.DURATION:
            return E("", (), "duration", const=v, nullable=False)
        if k == ast.INTERVAL and v[0] is not None and v[1] is not None:
            s, en = self.time_param(v[0]), self.time_param(v[1])
            return E(s.sql, s.params, "interval", start=s, end=en, const=v, nullable=False)
        if k == ast.GEOMETRY:
            return self.param(v, "geometry")
        raise self.bad(lit, f"unsupported literal kind {k}")

    def property(self, node: ast.Property) -> E:
        return self.column(self.props.column(node.path), node)

    def column(self, col: Column, node: ast.Node) -> E:
        """The expression of a resolved column."""
        t = "number" if col.type == "id" else col.type
        if t == "interval":
            s = E(col.start or col.sql, (), "time", nullable=col.nullable)
            en = E(col.end or col.start or col.sql, (), "time", nullable=col.nullable)
            return E(s.sql, (), "interval", start=s, end=en, nullable=col.nullable)
        if t == "json":
            return E(col.sql, (), "json", path=tuple(col.json_path))
        if t not in ("text", "number", "bool", "time", "date", "geometry"):
            raise self.bad(node, f"the property type {col.type!r} is not supported")
        return E(col.sql, (), t, nullable=col.nullable)


# A JSON value as a number, text or boolean (NULL for another JSON type), or whether it is missing or null:
# templates over {v} (PostgreSQL: the jsonb value) or {jt} and {x} (SQLite: its json_type and its value).
_JSON_AS_PG = {
    "number": "CASE WHEN jsonb_typeof({v}) = 'number' THEN CAST({v} #>> '{{}}' AS NUMERIC) END",
    "text": "CASE WHEN jsonb_typeof({v}) = 'string' THEN {v} #>> '{{}}' END",
    "bool": "CASE WHEN jsonb_typeof({v}) = 'boolean' THEN CAST({v} #>> '{{}}' AS BOOLEAN) END",
    "isnull": "(COALESCE(jsonb_typeof({v}), 'null') = 'null')",
}
_JSON_AS_SQLITE = {
    "number": "CASE WHEN {jt} IN ('integer', 'real') THEN {x} END",
    "text": "CASE WHEN {jt} = 'text' THEN {x} END",
    "bool": "CASE {jt} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END",
    "isnull": "(COALESCE({jt}, 'null') = 'null')",
}


def _json_as_pg(path: str, want: str) -> str:
    return _JSON_AS_PG[want].format(v="({0} #> " + path + ")" if path else "({0})")


def _json_as_sqlite(path: str, want: str) -> str:
    return _JSON_AS_SQLITE[want].format(jt="json_type({0}, " + path + ")", x="json_extract({0}, " + path + ")")


__all__ = ["CompilerBase", "Function", "ODATA", "CQL2", "COMPARE"]
