"""Comparisons: null, JSON values, numbers and text, times and half-open intervals (``docs/query.md``)."""

from __future__ import annotations

from urbanos.query import ast
from urbanos.storage.compile.base import CompilerBase
from urbanos.storage.compile.expr import NOCONST, E

_SQL_OP = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_SCALAR = frozenset(("text", "number", "bool", "time", "date"))
_TEMPORAL = frozenset(("time", "date"))


class Comparisons(CompilerBase):
    def cmp(self, op: str, a: E, b: E) -> E:
        if a.numeric or b.numeric:  # compare in NUMERIC: a cast to float8 could overflow
            a = self.e("CAST({0} AS NUMERIC)", a, type=a.type, numeric=True)
            b = self.e("CAST({0} AS NUMERIC)", b, type=b.type, numeric=True)
        if op == "ne" and self.rules.ne_includes_null:
            tmpl = "({0} IS DISTINCT FROM {1})" if self.pg else "({0} IS NOT {1})"
            return self.e(tmpl, a, b, type="bool", nullable=False)
        return self.e("({0} " + _SQL_OP[op] + " {1})", a, b, type="bool")

    def compatible(self, node: ast.Node, what: str, a: E, b: E) -> None:
        """Without coercion: values of one type, or a date and a time (compared as text, in time order)."""
        if a.type in _SCALAR and b.type in _SCALAR and (a.type == b.type or (a.type in _TEMPORAL and b.type in _TEMPORAL)):
            return
        raise self.bad(node, f"{what} cannot compare a {a.type} with a {b.type}")

    def compare(self, node: ast.BinOp) -> E:
        op = node.op
        a, b = self.compile(node.left), self.compile(node.right)
        if not self.rules.coerce:
            self.compatible(node, op, a, b)
            return self.cmp(op, a, b)
        if b.type == "null" or a.type == "null":
            return self.compare_null(node, a if b.type == "null" else b)
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
            return self.cmp(op, self.as_type(a, want, node, op), self.as_type(b, want, node, op))
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

    def compare_null(self, node: ast.BinOp, x: E) -> E:
        """``x eq null`` / ``x ne null``."""
        op = node.op
        if op not in ("eq", "ne"):
            raise self.bad(node, "null can only be compared with eq or ne")
        if x.type == "null":
            return E("(1 = 1)" if op == "eq" else "(1 = 0)", (), "bool", nullable=False)
        if x.type == "json":
            isnull = self.json_as(x, "isnull")
            return isnull if op == "eq" else self.e("(NOT {0})", isnull, type="bool", nullable=False)
        if x.type == "interval" and x.start is not None:
            x = x.start
        if x.type == "duration" and x.const is not NOCONST:
            raise self.bad(node, "a duration cannot be null")
        return self.e("({0} IS " + ("NULL)" if op == "eq" else "NOT NULL)"), x, type="bool", nullable=False)

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


__all__ = ["Comparisons"]
