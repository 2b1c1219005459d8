"""Arithmetic: numbers, durations, a time shifted by a duration, the difference of two times (``docs/query.md``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from urbanos.errors import NotImplementedFeature
from urbanos.query import ast
from urbanos.storage.compile.base import CompilerBase
from urbanos.storage.compile.expr import NOCONST, E

_TIMES = ("time", "interval", "date")
_SQL_ARITH = {"add": "+", "sub": "-", "mul": "*"}


class Arithmetic(CompilerBase):
    def neg(self, node: ast.Neg) -> E:
        a = self.compile(node.operand)
        if a.type == "duration":
            if a.const is NOCONST:
                return self.e("(-{0})", a, type="duration")
            return E("", (), "duration", const=-a.const, nullable=False)
        a = self.as_type(a, "number", node, "-")
        if isinstance(a.const, (int, float)) and not isinstance(a.const, bool):
            return self.param(-a.const, "number")
        return self.e("(-{0})", a, type="number")

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
        if d.const is NOCONST:
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
        if d.const is NOCONST:
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
        if not self.rules.decimal:
            return self.sql_arith(node, a, b)
        if "duration" in (a.type, b.type) or (op == "sub" and a.type in _TIMES and b.type in _TIMES):
            timed = self.time_arith(node, a, b)
            if timed is not None:
                return timed
        a = self.as_type(a, "number", node, op)
        b = self.as_type(b, "number", node, op)
        # PostgreSQL computes in NUMERIC (no overflow errors from user input); division is decimal on both.
        x, y = ("CAST({0} AS NUMERIC)", "CAST({1} AS NUMERIC)") if self.pg else ("{0}", "{1}")
        if op in _SQL_ARITH:
            return self.e(f"({x} {_SQL_ARITH[op]} {y})", a, b, type="number", numeric=True)
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

    def time_arith(self, node: ast.BinOp, a: E, b: E) -> E | None:
        """Durations and times: sums and differences of durations, a time shifted by one, the difference of two
        times, a duration scaled by a number (None: not a case of these)."""
        op = node.op
        if a.type == "duration" and b.type == "duration" and op in ("add", "sub"):
            if a.const is NOCONST or b.const is NOCONST:
                x, y = ("CAST({0} AS NUMERIC)", "CAST({1} AS NUMERIC)") if self.pg else ("{0}", "{1}")
                return self.e(f"({x} " + ("+" if op == "add" else "-") + f" {y})", self.seconds(a), self.seconds(b),
                              type="duration", numeric=True)
            return E("", (), "duration", const=a.const + b.const if op == "add" else a.const - b.const, nullable=False)
        if op == "sub" and a.type in _TIMES and b.type in _TIMES:
            return self.difference(self.as_type(a, "time", node, op), self.as_type(b, "time", node, op))
        if b.type == "duration" and op in ("add", "sub") and a.type in _TIMES:
            td = b.const if op == "add" else (-b.const if isinstance(b.const, timedelta) else None)
            if a.type == "interval" and a.start is not None and a.end is not None:
                s, en = self.shift(a.start, td, node), self.shift(a.end, td, node)
                return E(s.sql, s.params, "interval", start=s, end=en)
            return self.shift(self.as_type(a, "time", node, op), td, node)
        if a.type == "duration" and op == "add" and b.type in ("time", "date"):
            return self.shift(self.as_type(b, "time", node, op), a.const, node)
        if "duration" in (a.type, b.type) and op in ("mul", "div"):
            return self.scale(a, b, op, node)
        return None

    def sql_arith(self, node: ast.BinOp, a: E, b: E) -> E:
        """The SQL operators on two numbers (division by zero gives null)."""
        op = node.op
        if a.type != "number" or b.type != "number":
            raise self.bad(node, f"{op} needs numbers")
        if op == "div":
            return self.e("({0} / NULLIF({1}, 0))", a, b, type="number")
        if op not in _SQL_ARITH:
            raise self.bad(node, f"unknown operator {op}")
        return self.e("({0} " + _SQL_ARITH[op] + " {1})", a, b, type="number")


__all__ = ["Arithmetic"]
