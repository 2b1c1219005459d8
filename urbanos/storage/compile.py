"""Compile a neutral expression tree (``urbanos.query.ast``) into SQL for SQLite or PostgreSQL.

The caller maps property paths to SQL with a *resolver*::

    def resolve(path: tuple[str, ...]) -> Column: ...      # BadRequest for unknown properties

    sql, params = compile_filter(options.filter, resolve, conn)
    order = compile_orderby(options.orderby, resolve, conn)
    conn.rows(f"SELECT … FROM obs o WHERE {sql} ORDER BY {order}", params)

:class:`Column` types: ``text``, ``number`` (``id`` is accepted as a number), ``bool``, ``time``
(one instant stored as fixed-width UTC text ``YYYY-MM-DDTHH:MM:SS.ffffffZ``), ``interval``
(``start``/``end`` expressions of that form; ``end`` may equal ``start``), ``json`` (``sql`` is a
JSON document — TEXT on SQLite, JSONB on PostgreSQL — and ``json_path`` the keys inside it) and
``geometry`` (a WKB / PostGIS geometry column). Semantics are described in ``docs/query.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from urbanos.errors import BadRequest, NotImplementedFeature
from urbanos.query import ast
from urbanos.query.odata.unparse import to_text

STORE_FMT = "%Y-%m-%dT%H:%M:%S.%fZ"
MIN_TIME = "0001-01-01T00:00:00.000000Z"
MAX_TIME = "9999-12-31T23:59:59.999999Z"
COMPARE = ("eq", "ne", "gt", "ge", "lt", "le")
_SQL_OP = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_MIRROR = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
_RELATE = re.compile(r"[TF*012]{9}")
_SLOT = re.compile(r"\{([0-9])\}")
_NOCONST = object()


@dataclass(frozen=True)
class Column:
    """What a property path means in SQL (returned by the caller's resolver)."""

    sql: str
    type: str  # text | number | id | bool | time | interval | json | geometry
    start: str = ""  # interval: start expression
    end: str = ""  # interval: end expression (may be the same as start)
    json_path: tuple[str, ...] = ()  # json: keys inside the document ``sql``
    nullable: bool = True


Resolver = Callable[[tuple[str, ...]], Column]


@dataclass
class E:
    """A compiled expression: SQL text, its ``?`` parameters in order, and its type."""

    sql: str
    params: tuple[Any, ...]
    type: str  # text number bool time interval json geometry null date tod duration
    start: E | None = None
    end: E | None = None
    path: tuple[str, ...] = ()
    const: Any = field(default=_NOCONST)
    nullable: bool = True
    numeric: bool = False  # PostgreSQL: the SQL value is NUMERIC (may exceed the float8 range)


def fmt(template: str, *parts: E) -> tuple[str, tuple[Any, ...]]:
    """Fill ``{0}``, ``{1}``… in ``template`` with the parts' SQL, collecting parameters in order."""
    params: list[Any] = []

    def repl(m: re.Match[str]) -> str:
        e = parts[int(m.group(1))]
        params.extend(e.params)
        return e.sql

    sql = _SLOT.sub(repl, template)
    return sql, tuple(params)


def store_time(dt: datetime) -> str:
    """Fixed-width UTC text (``strftime('%Y')`` does not pad years before 1000 on every platform)."""
    u = dt.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"


class Compiler:
    def __init__(self, resolve: Resolver, conn: Any, where: str = "$filter") -> None:
        self.resolve = resolve
        dialect = getattr(conn, "dialect", conn)
        self.pg = getattr(dialect, "name", "") == "postgresql"
        sp = getattr(conn, "spatial", None)
        if sp is None:
            from urbanos.storage.spatial import PostGISSpatial, SQLiteSpatial

            sp = PostGISSpatial() if self.pg else SQLiteSpatial()
        self.sp = sp
        self.where = where
        self.false = "FALSE" if self.pg else "0"

    # -- helpers --------------------------------------------------------------------------------
    def bad(self, node: ast.Node | None, message: str) -> BadRequest:
        try:
            shown = f" in {to_text(node)[:120]!r}" if node is not None else ""
        except ValueError:
            shown = ""
        return BadRequest(f"{self.where}: {message}{shown}.", detail={"option": self.where})

    def e(self, template: str, *parts: E, type: str, nullable: bool | None = None, numeric: bool | None = None) -> E:
        sql, params = fmt(template, *parts)
        n = any(p.nullable for p in parts) if nullable is None else nullable
        if numeric is None:
            numeric = self.pg and type in ("number", "duration") and any(p.numeric for p in parts)
        return E(sql, params, type, nullable=n, numeric=bool(numeric and self.pg))

    def param(self, value: Any, type: str) -> E:
        if value is None:
            return E("NULL", (), "null")
        if type == "geometry":
            from urbanos.storage.spatial import to_wkb

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
            text = store_time(dt)
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
        if self.pg:
            v = "({0} #> " + path + ")" if path else "({0})"
            if want == "number":
                t = f"CASE WHEN jsonb_typeof({v}) = 'number' THEN CAST({v} #>> '{{}}' AS NUMERIC) END"
            elif want == "text":
                t = f"CASE WHEN jsonb_typeof({v}) = 'string' THEN {v} #>> '{{}}' END"
            elif want == "bool":
                t = f"CASE WHEN jsonb_typeof({v}) = 'boolean' THEN CAST({v} #>> '{{}}' AS BOOLEAN) END"
            else:
                t = f"(COALESCE(jsonb_typeof({v}), 'null') = 'null')"
        else:
            jt = "json_type({0}, " + path + ")"
            x = "json_extract({0}, " + path + ")"
            if want == "number":
                t = f"CASE WHEN {jt} IN ('integer', 'real') THEN {x} END"
            elif want == "text":
                t = f"CASE WHEN {jt} = 'text' THEN {x} END"
            elif want == "bool":
                t = f"CASE {jt} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"
            else:
                t = f"(COALESCE({jt}, 'null') = 'null')"
        if want == "isnull":
            return self.e(t, doc, type="bool", nullable=False)
        return self.e(t, doc, type=want, numeric=want == "number")

    # -- coercions ------------------------------------------------------------------------------
    def as_type(self, e: E, want: str, node: ast.Node, what: str) -> E:
        if e.type == want:
            return e
        if e.type == "null":
            return self.typed_null(want)
        if e.type == "json" and want in ("number", "text", "bool"):
            return self.json_as(e, want)
        if want == "time":
            if e.type == "interval" and e.start is not None:
                return e.start
            if e.type == "date" and isinstance(e.const, date):
                return self.time_param(datetime(e.const.year, e.const.month, e.const.day, tzinfo=UTC))
        if want == "number" and e.type == "text" and isinstance(e.const, str):
            try:
                v: float | int = int(e.const) if re.fullmatch(r"-?[0-9]{1,18}", e.const) else float(e.const)
            except ValueError:
                pass
            else:
                return self.param(v, "number")
        raise self.bad(node, f"{what} needs {want.replace('tod', 'time of day')}, not {e.type}")

    # -- nodes ----------------------------------------------------------------------------------
    def compile(self, node: ast.Node) -> E:
        if isinstance(node, ast.Literal):
            return self.literal(node)
        if isinstance(node, ast.Property):
            return self.property(node)
        if isinstance(node, ast.BinOp):
            if node.op in ("and", "or"):
                a = self.as_type(self.compile(node.left), "bool", node, node.op)
                b = self.as_type(self.compile(node.right), "bool", node, node.op)
                return self.e("({0} " + node.op.upper() + " {1})", a, b, type="bool")
            if node.op in COMPARE:
                return self.compare(node)
            return self.arith(node)
        if isinstance(node, ast.Not):
            a = self.as_type(self.compile(node.operand), "bool", node, "not")
            return self.e("(NOT COALESCE({0}, " + self.false + "))", a, type="bool", nullable=False)
        if isinstance(node, ast.Neg):
            a = self.compile(node.operand)
            if a.type == "duration":
                if a.const is _NOCONST:
                    return self.e("(-{0})", a, type="duration")
                return E("", (), "duration", const=-a.const, nullable=False)
            a = self.as_type(a, "number", node, "-")
            if isinstance(a.const, (int, float)) and not isinstance(a.const, bool):
                return self.param(-a.const, "number")
            return self.e("(-{0})", a, type="number")
        if isinstance(node, ast.Call):
            from urbanos.storage.compile_fn import call

            return call(self, node)
        raise self.bad(None, f"unsupported expression {type(node).__name__}")

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
        if k == ast.INTERVAL:
            s, en = self.time_param(v[0]), self.time_param(v[1])
            return E(s.sql, s.params, "interval", start=s, end=en, const=v, nullable=False)
        if k == ast.GEOMETRY:
            return self.param(v, "geometry")
        raise self.bad(lit, f"unsupported literal kind {k}")

    def property(self, node: ast.Property) -> E:
        col = self.resolve(node.path)
        t = "number" if col.type == "id" else col.type
        if t == "interval":
            s = E(col.start or col.sql, (), "time", nullable=col.nullable)
            en = E(col.end or col.start or col.sql, (), "time", nullable=col.nullable)
            return E(s.sql, (), "interval", start=s, end=en, nullable=col.nullable)
        if t == "json":
            return E(col.sql, (), "json", path=tuple(col.json_path))
        if t not in ("text", "number", "bool", "time", "geometry"):
            raise self.bad(node, f"the property type {col.type!r} is not supported")
        return E(col.sql, (), t, nullable=col.nullable)

    # -- comparisons ----------------------------------------------------------------------------
    def cmp(self, op: str, a: E, b: E) -> E:
        if a.numeric or b.numeric:  # compare in NUMERIC: a cast to float8 could overflow
            a = self.e("CAST({0} AS NUMERIC)", a, type=a.type, numeric=True)
            b = self.e("CAST({0} AS NUMERIC)", b, type=b.type, numeric=True)
        if op == "ne":
            tmpl = "({0} IS DISTINCT FROM {1})" if self.pg else "({0} IS NOT {1})"
            return self.e(tmpl, a, b, type="bool", nullable=False)
        return self.e("({0} " + _SQL_OP[op] + " {1})", a, b, type="bool")

    def compare(self, node: ast.BinOp) -> E:
        op = node.op
        a, b = self.compile(node.left), self.compile(node.right)
        if b.type == "null" or a.type == "null":
            x = a if b.type == "null" else b
            if op not in ("eq", "ne"):
                raise self.bad(node, "null can only be compared with eq or ne")
            if x.type == "null":
                return E("(1 = 1)" if op == "eq" else "(1 = 0)", (), "bool", nullable=False)
            if x.type == "json":
                isnull = self.json_as(x, "isnull")
                return isnull if op == "eq" else self.e("(NOT {0})", isnull, type="bool", nullable=False)
            if x.type == "interval" and x.start is not None:
                x = x.start
            if x.type == "duration" and x.const is not _NOCONST:
                raise self.bad(node, "a duration cannot be null")
            return self.e("({0} IS " + ("NULL)" if op == "eq" else "NOT NULL)"), x, type="bool", nullable=False)
        if "interval" in (a.type, b.type) or ("time" in (a.type, b.type) and "date" in (a.type, b.type)):
            return self.compare_times(op, a, b, node)
        if a.type == "json" and b.type == "json":
            num = self.cmp(op, self.json_as(a, "number"), self.json_as(b, "number"))
            txt = self.cmp(op, self.json_as(a, "text"), self.json_as(b, "text"))
            return self.e("({0} OR {1})", num, txt, type="bool")
        if a.type == "json" or b.type == "json":
            other = b if a.type == "json" else a
            want = {"time": "text", "date": "text", "tod": "text"}.get(other.type, other.type)
            if want not in ("number", "text", "bool"):
                raise self.bad(node, f"cannot compare a JSON value with {other.type}")
            a = self.as_type(a, want, node, op)
            b = self.as_type(b, want, node, op)
            return self.cmp(op, a, b)
        if a.type == "duration" and b.type == "duration":
            return self.cmp(op, self.seconds(a), self.seconds(b))
        if a.type in ("geometry", "duration") or b.type in ("geometry", "duration"):
            raise self.bad(node, f"{a.type if a.type in ('geometry', 'duration') else b.type} values cannot be "
                                 f"compared with {op} (use st_equals or geo functions)")
        if a.type != b.type:
            if a.type == "number" or b.type == "number":
                a = self.as_type(a, "number", node, op)
                b = self.as_type(b, "number", node, op)
            else:
                raise self.bad(node, f"cannot compare {a.type} with {b.type}")
        return self.cmp(op, a, b)

    def compare_times(self, op: str, a: E, b: E, node: ast.Node) -> E:
        """Interval semantics (half-open [start, end); an instant is start = end); see docs/query.md."""

        def parts(x: E) -> tuple[E, E, bool]:
            if x.type == "interval" and x.start is not None and x.end is not None:
                return x.start, x.end, False
            t = self.as_type(x, "time", node, op)
            return t, t, True

        as_, ae, ai = parts(a)
        bs, be, bi = parts(b)
        if ai and bi:
            return self.cmp(op, as_, bs)
        both_eq = self.e("({0} = {1} AND {2} = {3})", as_, bs, ae, be, type="bool")
        if op == "eq":
            return both_eq
        if op == "ne":
            return self.e("(NOT COALESCE({0}, " + self.false + "))", both_eq, type="bool", nullable=False)
        if bi:  # interval vs instant t
            if op == "lt":
                return self.e("({0} <= {1} AND {2} < {1})", ae, bs, as_, type="bool")
            if op == "le":
                return self.e("({0} <= {1})", ae, bs, type="bool")
            if op == "gt":
                return self.e("({0} > {1})", as_, bs, type="bool")
            return self.e("({0} >= {1})", as_, bs, type="bool")
        if ai:  # instant t vs interval
            if op == "lt":
                return self.e("({0} < {1})", as_, bs, type="bool")
            if op == "le":
                return self.e("({0} <= {1})", as_, bs, type="bool")
            if op == "gt":
                return self.e("({0} >= {1} AND {2} < {0})", as_, be, bs, type="bool")
            return self.e("({0} >= {1})", as_, be, type="bool")
        if op == "lt":
            return self.e("({0} <= {1} AND {2} < {1})", ae, bs, as_, type="bool")
        if op == "gt":
            return self.e("({0} >= {1} AND {2} < {0})", as_, be, bs, type="bool")
        if op == "le":
            return self.e("({0} <= {1} OR {2})", ae, bs, both_eq, type="bool")
        return self.e("({0} >= {1} OR {2})", as_, be, both_eq, type="bool")

    # -- arithmetic -----------------------------------------------------------------------------
    def shift(self, t: E, td: Any, node: ast.Node) -> E:
        if not isinstance(td, timedelta):
            raise NotImplementedFeature(f"{self.where}: only a constant duration can be added to a time.")
        if isinstance(t.const, datetime):
            try:
                return self.time_param(t.const + td)
            except OverflowError:
                raise self.bad(node, "the time is out of range") from None
        if abs(td) > timedelta(days=3_660_000):
            raise self.bad(node, "the duration is longer than 10000 years")
        micros = td // timedelta(microseconds=1)
        if micros % 1_000_000:
            raise NotImplementedFeature(f"{self.where}: durations with fractional seconds can only shift constant times.")
        secs = micros // 1_000_000
        if self.pg:
            d = self.param(float(secs), "number")
            return self.e(
                "to_char(CAST(substr({0}, 1, 26) AS TIMESTAMP) + make_interval(secs => {1}), "
                "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", t, d, type="time")
        d = self.param(f"{secs:+d} seconds", "text")
        return self.e("(strftime('%Y-%m-%dT%H:%M:%S', substr({0}, 1, 19), {1}) || substr({0}, 20))", t, d, type="time")

    def seconds(self, d: E) -> E:
        """A duration as a number of seconds (SQL durations already are)."""
        if d.const is _NOCONST:
            return d
        return self.param(d.const.total_seconds(), "number")

    def difference(self, a: E, b: E) -> E:
        """time sub time: a duration, as seconds in SQL (computed here when both are constants)."""
        if isinstance(a.const, datetime) and isinstance(b.const, datetime):
            return E("", (), "duration", const=a.const - b.const, nullable=False)
        if self.pg:
            ts = "CAST(substr({%d}, 1, 26) AS TIMESTAMP)"
            return self.e(f"EXTRACT(EPOCH FROM ({ts % 0} - {ts % 1}))", a, b, type="duration", numeric=True)
        return self.e("((julianday({0}) - julianday({1})) * 86400.0)", a, b, type="duration")

    def scale(self, a: E, b: E, op: str, node: ast.Node) -> E:
        """A duration times (or divided by) a constant number."""
        d, k = (a, b) if a.type == "duration" else (b, a)
        if op == "div" and d is b:
            raise self.bad(node, "a number cannot be divided by a duration")
        if k.type != "number":
            raise self.bad(node, f"a duration can only be multiplied by a number, not {k.type}")
        if d.const is _NOCONST:
            k = self.as_type(k, "number", node, op)
            x, y = ("CAST({0} AS NUMERIC)", "CAST({1} AS NUMERIC)") if self.pg else ("{0}", "{1}")
            tmpl = f"({x} * {y})" if op == "mul" else f"({x} / NULLIF({y}, 0))"
            return self.e(tmpl, d, k, type="duration", numeric=True)
        if not isinstance(k.const, (int, float)) or isinstance(k.const, bool):
            raise NotImplementedFeature(f"{self.where}: a duration can only be multiplied by a constant number.")
        try:
            value = d.const * k.const if op == "mul" else d.const / k.const
        except (OverflowError, ZeroDivisionError, ValueError):
            raise self.bad(node, "the duration is out of range") from None
        return E("", (), "duration", const=value, nullable=False)

    def arith(self, node: ast.BinOp) -> E:
        op = node.op
        a, b = self.compile(node.left), self.compile(node.right)
        if a.type == "duration" and b.type == "duration" and op in ("add", "sub"):
            if a.const is _NOCONST or b.const is _NOCONST:
                x, y = ("CAST({0} AS NUMERIC)", "CAST({1} AS NUMERIC)") if self.pg else ("{0}", "{1}")
                return self.e(f"({x} " + ("+" if op == "add" else "-") + f" {y})", self.seconds(a), self.seconds(b),
                              type="duration", numeric=True)
            return E("", (), "duration", const=a.const + b.const if op == "add" else a.const - b.const, nullable=False)
        if op == "sub" and a.type in ("time", "interval", "date") and b.type in ("time", "interval", "date"):
            return self.difference(self.as_type(a, "time", node, op), self.as_type(b, "time", node, op))
        if b.type == "duration" and op in ("add", "sub") and a.type in ("time", "interval", "date"):
            td = b.const if op == "add" else (-b.const if isinstance(b.const, timedelta) else None)
            if a.type == "interval" and a.start is not None and a.end is not None:
                s, en = self.shift(a.start, td, node), self.shift(a.end, td, node)
                return E(s.sql, s.params, "interval", start=s, end=en)
            return self.shift(self.as_type(a, "time", node, op), td, node)
        if a.type == "duration" and op == "add" and b.type in ("time", "date"):
            return self.shift(self.as_type(b, "time", node, op), a.const, node)
        if "duration" in (a.type, b.type) and op in ("mul", "div"):
            return self.scale(a, b, op, node)
        a = self.as_type(a, "number", node, op)
        b = self.as_type(b, "number", node, op)
        # PostgreSQL computes in NUMERIC (no overflow errors from user input); division is decimal on both.
        x, y = ("CAST({0} AS NUMERIC)", "CAST({1} AS NUMERIC)") if self.pg else ("{0}", "{1}")
        if op == "add":
            return self.e(f"({x} + {y})", a, b, type="number", numeric=True)
        if op == "sub":
            return self.e(f"({x} - {y})", a, b, type="number", numeric=True)
        if op == "mul":
            return self.e(f"({x} * {y})", a, b, type="number", numeric=True)
        if op == "div":
            if self.pg:
                return self.e(f"({x} / NULLIF({y}, 0))", a, b, type="number", numeric=True)
            return self.e("(CAST({0} AS REAL) / NULLIF({1}, 0))", a, b, type="number")
        if op == "mod":
            if self.pg:
                return self.e(f"MOD({x}, NULLIF({y}, 0))", a, b, type="number", numeric=True)
            return self.e("({0} - NULLIF({1}, 0) * CAST(CAST({0} AS REAL) / NULLIF({1}, 0) AS INTEGER))", a, b,
                          type="number")
        raise self.bad(node, f"unknown operator {op}")


def compile_filter(node: ast.Node, resolve: Resolver, conn: Any, *, where: str = "$filter") -> tuple[str, list[Any]]:
    """SQL for a boolean expression and its ``?`` parameters. ``conn`` is a Connection (or Database/Dialect)."""
    c = Compiler(resolve, conn, where)
    try:
        e = c.compile(node)
    except RecursionError:
        raise _too_complex(where) from None
    e = c.as_type(e, "bool", node, where)
    return e.sql, list(e.params)


def _too_complex(where: str) -> BadRequest:
    return BadRequest(f"{where}: the expression is too deeply nested; simplify it (fewer terms or less nesting).")


def compile_expression(node: ast.Node, resolve: Resolver, conn: Any, *, where: str = "$filter") -> E:
    """Any expression (for $orderby, computed columns…): returns the :class:`E` with sql, params and type."""
    try:
        return Compiler(resolve, conn, where).compile(node)
    except RecursionError:
        raise _too_complex(where) from None


def inline(sql: str, params: Sequence[Any], conn: Any) -> str:
    """Replace ``?`` placeholders (outside quotes) by SQL literals. Used for ORDER BY fragments."""
    pg = getattr(getattr(conn, "dialect", conn), "name", "") == "postgresql"
    out: list[str] = []
    it = iter(params)
    quote: str | None = None
    for ch in sql:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append(_sql_literal(next(it), pg))
        else:
            out.append(ch)
    return "".join(out)


def _sql_literal(v: Any, pg: bool) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return ("TRUE" if v else "FALSE") if pg else ("1" if v else "0")
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        h = bytes(v).hex()
        return f"'\\x{h}'::bytea" if pg else f"X'{h}'"
    if pg:  # hex, so that no quote, percent sign or question mark reaches the driver
        return f"convert_from('\\x{str(v).encode().hex()}'::bytea, 'UTF8')"
    return "'" + str(v).replace("'", "''") + "'"


def compile_orderby_params(
    orderby: Sequence[ast.OrderBy], resolve: Resolver, conn: Any = None, *, where: str = "$orderby"
) -> tuple[str, list[Any]]:
    """``ORDER BY`` body with parameters: ascending puts nulls first, descending puts them last."""
    c = Compiler(resolve, conn, where)
    parts: list[str] = []
    params: list[Any] = []
    for item in orderby:
        try:
            e = c.compile(item.expr)
        except RecursionError:
            raise _too_complex(where) from None
        if e.type == "interval" and e.start is not None:
            e = e.start
        elif e.type == "json":
            e = c.json_value(e)
        elif e.type in ("geometry", "duration"):
            raise c.bad(item.expr, f"cannot order by a {e.type} value")
        if e.const is not _NOCONST or e.type == "null":
            continue  # a constant does not change the order (and a bare number would name a column)
        direction = "DESC" if item.descending else "ASC"
        nulls = ""
        if c.pg and e.nullable:
            nulls = " NULLS LAST" if item.descending else " NULLS FIRST"
        parts.append(f"{e.sql} {direction}{nulls}")
        params.extend(e.params)
    return (", ".join(parts) if parts else "(1 = 1)"), params


def compile_orderby(orderby: Sequence[ast.OrderBy], resolve: Resolver, conn: Any = None, *, where: str = "$orderby") -> str:
    """``ORDER BY`` body with constants written inline (no parameters)."""
    sql, params = compile_orderby_params(orderby, resolve, conn, where=where)
    return inline(sql, params, conn) if params else sql


__all__ = [
    "Column", "Resolver", "E", "Compiler", "compile_filter", "compile_expression", "compile_orderby",
    "compile_orderby_params", "inline", "store_time",
]
