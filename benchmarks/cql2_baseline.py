"""The CQL2 compiler as it was before CQL2 moved onto the shared query tree (``urbanos.query.cql2`` and
``urbanos.storage.compile``): kept only as the baseline of ``benchmarks/cql2_filter.py``, which measures it
beside the shared compiler in the same run. Not used by the platform.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import shapely
import shapely.ops
from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry

from urbanos.core.time import format_stored as format_datetime
from urbanos.errors import BadRequest
from urbanos.features.ogcapi import crs as crsmod
from urbanos.query import limits

MAX_DEPTH = 40
MAX_LENGTH = limits.CQL2_MAX_LENGTH
MAX_NESTING = limits.CQL2_MAX_NESTING  # of the text, before the native parser sees it
MAX_OPERATORS = limits.CQL2_MAX_OPERATORS
MAX_JSON_NESTING = limits.JSON_MAX_NESTING
LOW, HIGH = "0000-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"
GEOM_NAMES = ("geometry", "geom", "the_geom")
_SPATIAL = {
    "s_intersects": "intersects", "s_equals": "equals", "s_disjoint": "disjoint", "s_touches": "touches",
    "s_within": "within", "s_overlaps": "overlaps", "s_crosses": "crosses", "s_contains": "contains",
}
_INVERSE = {"within": "contains", "contains": "within"}
_CMP = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ARITH = {"+": "+", "-": "-", "*": "*", "/": "/"}
_TYPE_SQL = {"number": "DOUBLE PRECISION", "string": "TEXT", "datetime": "TEXT", "date": "TEXT"}


CollectionMeta = Any  # the features registry record: name, table_name, time_field, field(name)


def parse_datetime(value: Any) -> datetime:
    """The features' reader of dates and date-times at the time (ISO 8601, naive means UTC, ASCII only)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        s = str(value).strip()
        if not s:
            raise ValueError("empty date-time")
        if not s.isascii():
            raise ValueError("not an ISO 8601 date-time (ASCII digits and separators only)")
        s = s.replace(" ", "T", 1) if re.match(r"^[0-9]{4}-[0-9][0-9]-[0-9][0-9] [0-9]", s) else s
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        s = s.replace("/", "-") if re.match(r"^[0-9]{4}/[0-9][0-9]/[0-9][0-9]", s) else s
        dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _bad(msg: str) -> BadRequest:
    return BadRequest(f"filter: {msg}", code="InvalidParameterValue")


def parse(text: str | None, lang: str | None) -> Any:
    """The CQL2 JSON tree of a ``filter`` parameter (``filter-lang`` cql2-text or cql2-json)."""
    if text is None:
        return None
    lang = (lang or "cql2-text").strip().lower()
    if len(text) > MAX_LENGTH:
        raise _bad(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}: shorten it.")
    if lang == "cql2-json":
        # bounded before parsing: the compiler and shapely recurse over the tree
        if (problem := limits.json_problem(text, max_nesting=MAX_JSON_NESTING)) is not None:
            raise _bad(problem)
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise _bad(f"not valid JSON: {exc}.") from None
    if lang != "cql2-text":
        raise BadRequest(f"filter-lang: {lang!r} is not supported; use cql2-text or cql2-json.", code="InvalidParameterValue")
    if not text.strip():
        raise _bad("the expression is empty.")
    # The parser is native code that recurses once per level: too deep a text overflows the stack and kills the
    # process, so the text is measured first (parentheses, prefixes, operator chains; see urbanos.query.limits).
    if (problem := limits.cql2_text_problem(text, max_length=MAX_LENGTH, max_nesting=MAX_NESTING,
                                            max_operators=MAX_OPERATORS)) is not None:
        raise _bad(problem)
    import cql2 as cql2lib

    try:
        return cql2lib.parse_text(text).to_json()
    except Exception as exc:  # noqa: BLE001 - the parser raises its own error types
        raise _bad(f"not valid CQL2 text: {str(exc).strip()[:300]}") from None


class Compiler:
    def __init__(self, meta: CollectionMeta, dialect: str, spatial: Any, filter_crs: str = crsmod.CRS84) -> None:
        self.meta = meta
        self.pg = dialect == "postgresql"
        self.sp = spatial
        self.crs = filter_crs
        self.table = meta.table_name

    # -- entry ------------------------------------------------------------------------------------
    def compile(self, node: Any) -> tuple[str, list[Any]]:
        try:
            sql, params = self._bool(node, 0)
        except RecursionError:
            raise _bad("the expression is nested too deeply.") from None
        return sql, params

    # -- boolean expressions ----------------------------------------------------------------------
    def _bool(self, node: Any, depth: int) -> tuple[str, list[Any]]:
        if depth > MAX_DEPTH:
            raise _bad("the expression is nested too deeply.")
        if isinstance(node, bool):
            return ("1=1" if node else "1=0"), []
        if not isinstance(node, dict) or "op" not in node:
            if isinstance(node, dict) and "property" in node:
                sql, params, typ = self._scalar(node, depth + 1)
                if typ != "boolean":
                    raise _bad(f"property {node['property']!r} is not a boolean.")
                return f"({sql} = {self._lit(True, 'boolean')})", [*params, self._bool_param(True)]
            raise _bad(f"expected a predicate, got {_show(node)}.")
        op = str(node["op"]).lower()
        args = node.get("args")
        if not isinstance(args, list):
            raise _bad(f"operator {op!r} needs an args array.")
        if op in ("and", "or"):
            if len(args) < 2:
                raise _bad(f"{op} needs at least two arguments.")
            parts = [self._bool(a, depth + 1) for a in args]
            return "(" + f" {op.upper()} ".join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
        if op == "not":
            self._arity(op, args, 1)
            sql, params = self._bool(args[0], depth + 1)
            return f"(NOT COALESCE({sql}, {'FALSE' if self.pg else '0'}))", params
        if op in _CMP:
            self._arity(op, args, 2)
            (a, pa, ta), (b, pb, tb) = self._scalar(args[0], depth + 1), self._scalar(args[1], depth + 1)
            self._compatible(op, ta, tb)
            return f"({a} {_CMP[op]} {b})", [*pa, *pb]
        if op == "like":
            return self._like(args, depth)
        if op == "between":
            self._arity(op, args, 3)
            (a, pa, ta), (lo, pl, tl), (hi, ph, th) = (self._scalar(x, depth + 1) for x in args)
            self._compatible(op, ta, tl)
            self._compatible(op, ta, th)
            return f"({a} BETWEEN {lo} AND {hi})", [*pa, *pl, *ph]
        if op == "in":
            self._arity(op, args, 2)
            if not isinstance(args[1], list) or not args[1]:
                raise _bad("in needs a non-empty list.")
            a, pa, ta = self._scalar(args[0], depth + 1)
            items = [self._scalar(x, depth + 1) for x in args[1]]
            for _, _, t in items:
                self._compatible(op, ta, t)
            return f"({a} IN ({', '.join(i[0] for i in items)}))", [*pa, *(p for i in items for p in i[1])]
        if op == "isnull":
            self._arity(op, args, 1)
            if isinstance(args[0], dict) and args[0].get("property") in self._geom_names():
                return "(geom IS NULL)", []
            a, pa, _ = self._scalar(args[0], depth + 1)
            return f"({a} IS NULL)", pa
        if op in _SPATIAL or op == "s_dwithin":
            return self._spatial(op, args)
        if op.startswith("t_"):
            return self._temporal(op, args, depth)
        if op.startswith("a_"):
            raise _bad(f"array operator {op!r} is not supported.")
        raise _bad(f"unknown or unsupported operator {op!r}.")

    # -- scalar expressions: (sql, params, type) --------------------------------------------------
    def _scalar(self, node: Any, depth: int) -> tuple[str, list[Any], str]:
        if depth > MAX_DEPTH:
            raise _bad("the expression is nested too deeply.")
        if isinstance(node, bool):
            return self._lit(node, "boolean"), [self._bool_param(node)], "boolean"
        if isinstance(node, int | float):
            if not math.isfinite(float(node)) or abs(float(node)) > 1e300:
                raise _bad(f"{node!r} is not a usable number.")
            return self._lit(float(node), "number"), [float(node)], "number"
        if isinstance(node, str):
            return self._lit(node, "string"), [node], "string"
        if not isinstance(node, dict):
            raise _bad(f"unexpected value {_show(node)}.")
        if "property" in node:
            return self._property(node["property"])
        if "timestamp" in node:
            return self._lit("", "datetime"), [self._instant(node["timestamp"])], "datetime"
        if "date" in node:
            return self._lit("", "date"), [self._date(node["date"])], "date"
        if "op" in node:
            op = str(node["op"]).lower()
            args = node.get("args")
            if not isinstance(args, list):
                raise _bad(f"operator {op!r} needs an args array.")
            if op in ("casei", "lower", "upper"):
                self._arity(op, args, 1)
                a, pa, ta = self._scalar(args[0], depth + 1)
                if ta != "string":
                    raise _bad(f"{op} needs a string.")
                return f"LOWER({a})", pa, "string"
            if op in _ARITH:
                self._arity(op, args, 2)
                (a, pa, ta), (b, pb, tb) = self._scalar(args[0], depth + 1), self._scalar(args[1], depth + 1)
                if ta != "number" or tb != "number":
                    raise _bad(f"{op} needs numbers.")
                if op == "/":
                    return f"({a} / NULLIF({b}, 0))", [*pa, *pb], "number"
                return f"({a} {op} {b})", [*pa, *pb], "number"
            raise _bad(f"function or operator {op!r} is not supported here.")
        raise _bad(f"unexpected value {_show(node)}.")

    def _property(self, name: Any) -> tuple[str, list[Any], str]:
        if not isinstance(name, str):
            raise _bad("a property name must be a string.")
        f = self.meta.field(name)
        if f is not None:
            t = {"integer": "number", "number": "number", "boolean": "boolean", "datetime": "datetime", "date": "date"}.get(
                f.type, "string")
            return f"{self.table}.{f.column}", [], t
        if name == "id":
            return f"{self.table}.fid", [], "number"
        if name in self._geom_names():
            raise _bad(f"the geometry {name!r} can only be used in spatial operators.")
        raise _bad(f"{name!r} is not a queryable of collection {self.meta.name!r}.")

    def _geom_names(self) -> tuple[str, ...]:
        return GEOM_NAMES if self.meta.field("geometry") is None else ("geom", "the_geom")

    def _lit(self, _value: Any, typ: str) -> str:
        if typ == "boolean":
            return "CAST(? AS BOOLEAN)" if self.pg else "CAST(? AS INTEGER)"
        if typ == "number":
            return "CAST(? AS DOUBLE PRECISION)" if self.pg else "CAST(? AS REAL)"
        return "CAST(? AS TEXT)"

    def _bool_param(self, v: bool) -> Any:
        return v if self.pg else int(v)

    @staticmethod
    def _arity(op: str, args: list[Any], n: int) -> None:
        if len(args) != n:
            raise _bad(f"{op} takes {n} argument{'s' if n > 1 else ''}, got {len(args)}.")

    @staticmethod
    def _compatible(op: str, a: str, b: str) -> None:
        time = {"datetime", "date"}
        if a == b or (a in time and b in time):
            return
        raise _bad(f"{op} cannot compare a {a} with a {b}.")

    @staticmethod
    def _instant(v: Any) -> str:
        try:
            return format_datetime(parse_datetime(str(v)))
        except (ValueError, TypeError, OverflowError):
            raise _bad(f"{v!r} is not an RFC 3339 timestamp.") from None

    @staticmethod
    def _date(v: Any) -> str:
        try:
            return parse_datetime(str(v)).date().isoformat()
        except (ValueError, TypeError, OverflowError):
            raise _bad(f"{v!r} is not a date.") from None

    # -- LIKE -------------------------------------------------------------------------------------
    def _like(self, args: list[Any], depth: int) -> tuple[str, list[Any]]:
        self._arity("like", args, 2)
        a, pa, ta = self._scalar(args[0], depth + 1)
        pat = args[1]
        casei = False
        if isinstance(pat, dict) and str(pat.get("op", "")).lower() in ("casei", "lower") and isinstance(pat.get("args"), list):
            casei = True
            if len(pat["args"]) != 1:
                raise _bad("casei takes one argument.")
            pat = pat["args"][0]
        if ta != "string" or not isinstance(pat, str):
            raise _bad("like needs a string property and a string pattern.")
        if casei or a.startswith("LOWER("):
            return f"(LOWER({a}) LIKE LOWER(CAST(? AS TEXT)) ESCAPE '\\')", [*pa, pat]
        if self.pg:
            return f"({a} LIKE CAST(? AS TEXT) ESCAPE '\\')", [*pa, pat]
        return f"({a} GLOB ?)", [*pa, _glob(pat)]

    # -- spatial ----------------------------------------------------------------------------------
    def _geometry_literal(self, node: Any) -> BaseGeometry:
        try:
            if isinstance(node, dict) and "bbox" in node:
                b = [float(x) for x in node["bbox"]]
                if len(b) == 6:
                    b = [b[0], b[1], b[3], b[4]]
                if len(b) != 4:
                    raise ValueError("a bbox has 4 or 6 numbers")
                g = box(*crsmod.bbox_to_storage(b, self.crs)) if self.crs != crsmod.CRS84 else box(*b)
                return g
            if isinstance(node, dict) and "type" in node:
                g = shape(node)
                g = shapely.force_2d(g)
                if not g.is_valid and g.geom_type in ("Polygon", "MultiPolygon"):
                    raise ValueError("the polygon is not valid")
                if not math.isfinite(float(shapely.get_coordinates(g).sum() if not g.is_empty else 0.0)):
                    raise ValueError("coordinates are not finite")
                return crsmod.to_storage(g, self.crs) if self.crs != crsmod.CRS84 else g
        except BadRequest:
            raise
        except Exception as exc:  # noqa: BLE001 - shapely raises many types for bad input
            raise _bad(f"invalid geometry: {exc}") from None
        raise _bad(f"expected a geometry, got {_show(node)}.")

    def _spatial(self, op: str, args: list[Any]) -> tuple[str, list[Any]]:
        n = 3 if op == "s_dwithin" else 2
        self._arity(op, args, n)
        a, b = args[0], args[1]
        is_prop = [isinstance(x, dict) and "property" in x for x in (a, b)]
        for x, p in zip((a, b), is_prop, strict=True):
            if p and x["property"] not in self._geom_names():
                raise _bad(f"{x['property']!r} is not a geometry property (use 'geometry').")
        name = "dwithin" if op == "s_dwithin" else _SPATIAL[op]
        distance = None
        if op == "s_dwithin":
            try:
                distance = float(args[2])
            except (TypeError, ValueError):
                raise _bad("s_dwithin needs a distance in metres.") from None
            if not math.isfinite(distance) or distance < 0:
                raise _bad("s_dwithin needs a non-negative distance in metres.")
        if all(is_prop):
            if name in ("intersects", "equals", "within", "contains"):
                return "(geom IS NOT NULL)", []
            if name == "dwithin":
                return "(geom IS NOT NULL)", []
            return "1=0", []
        if not any(is_prop):
            ga, gb = self._geometry_literal(a), self._geometry_literal(b)
            if name == "dwithin":
                ok = bool(_geodesic_buffer(ga, distance or 0.0).intersects(gb))
            else:
                ok = bool(getattr(shapely, name)(ga, gb))
            return ("1=1" if ok else "1=0"), []
        if is_prop[1]:
            name = _INVERSE.get(name, name)
            lit = self._geometry_literal(a)
        else:
            lit = self._geometry_literal(b)
        if name == "dwithin":
            lit, name, distance = _geodesic_buffer(lit, distance or 0.0), "intersects", None
        sql, params = self.sp.predicate(name, self.table, "geom", lit, distance=distance, id_column="fid")
        return f"({sql})", list(params)

    # -- temporal ---------------------------------------------------------------------------------
    def _interval(self, node: Any) -> tuple[str, str]:
        if isinstance(node, dict) and "timestamp" in node:
            v = self._instant(node["timestamp"])
            return v, v
        if isinstance(node, dict) and "date" in node:
            d = parse_datetime(self._date(node["date"]))
            return format_datetime(d), format_datetime(d + timedelta(days=1) - timedelta(microseconds=1))
        if isinstance(node, dict) and "interval" in node:
            iv = node["interval"]
            if not isinstance(iv, list) or len(iv) != 2:
                raise _bad("an interval has two ends.")
            ends = []
            for i, e in enumerate(iv):
                if isinstance(e, dict):
                    s, t = self._interval(e)
                    ends.append(s if i == 0 else t)
                elif e in ("..", "", None):
                    ends.append(LOW if i == 0 else HIGH)
                elif isinstance(e, str) and len(e) == 10:
                    d = parse_datetime(self._date(e))
                    ends.append(format_datetime(d) if i == 0 else format_datetime(d + timedelta(days=1) - timedelta(microseconds=1)))
                else:
                    ends.append(self._instant(e))
            if ends[0] > ends[1]:
                raise _bad("the interval ends before it starts.")
            return ends[0], ends[1]
        raise _bad(f"expected a timestamp, date or interval, got {_show(node)}.")

    def _time_column(self, node: Any) -> str:
        if not (isinstance(node, dict) and "property" in node):
            raise _bad("temporal operators need a temporal property and a time literal.")
        name = node["property"]
        if name in ("datetime", "time") and self.meta.time_field and self.meta.field(name) is None:
            return f"{self.table}.t"
        f = self.meta.field(name)
        if f is None:
            raise _bad(f"{name!r} is not a queryable of collection {self.meta.name!r}.")
        if self.meta.time_field == name:
            return f"{self.table}.t"
        if f.type in ("datetime", "date"):
            return f"{self.table}.{f.column}"
        raise _bad(f"{name!r} is not a temporal property.")

    def _temporal(self, op: str, args: list[Any], depth: int) -> tuple[str, list[Any]]:
        self._arity(op, args, 2)
        a, b = args
        swapped = False
        if not (isinstance(a, dict) and "property" in a):
            a, b, swapped = b, a, True
        col = self._time_column(a)
        s, e = self._interval(b)
        rel = op[2:].lower()
        if swapped:
            rel = {"before": "after", "after": "before", "meets": "metby", "metby": "meets", "overlaps": "overlappedby",
                   "overlappedby": "overlaps", "starts": "startedby", "startedby": "starts", "begins": "begunby",
                   "begunby": "begins", "during": "contains", "contains": "during", "finishes": "finishedby",
                   "finishedby": "finishes", "ends": "endedby", "endedby": "ends"}.get(rel, rel)
        p = col
        table: dict[str, tuple[str, list[Any]]] = {
            "before": (f"{p} < ?", [s]),
            "after": (f"{p} > ?", [e]),
            "meets": (f"{p} = ?", [s]),
            "metby": (f"{p} = ?", [e]),
            "overlaps": ("1=0", []),
            "overlappedby": ("1=0", []),
            "starts": (f"({p} = ? AND {p} < ?)", [s, e]),
            "begins": (f"({p} = ? AND {p} < ?)", [s, e]),
            "startedby": ("1=0", []),
            "begunby": ("1=0", []),
            "during": (f"({p} > ? AND {p} < ?)", [s, e]),
            "contains": (f"({p} = ? AND {p} = ?)", [s, e]) if s == e else ("1=0", []),
            "finishes": (f"({p} > ? AND {p} = ?)", [s, e]),
            "ends": (f"({p} > ? AND {p} = ?)", [s, e]),
            "finishedby": ("1=0", []),
            "endedby": ("1=0", []),
            "equals": (f"({p} = ? AND {p} = ?)", [s, e]),
            "intersects": (f"({p} >= ? AND {p} <= ?)", [s, e]),
            "disjoint": (f"({p} < ? OR {p} > ?)", [s, e]),
        }
        if rel not in table:
            raise _bad(f"unknown temporal operator {op!r}.")
        sql, params = table[rel]
        return f"({sql})", params


def _glob(pattern: str) -> str:
    """A CQL2 LIKE pattern (% _ with backslash escapes) as a case-sensitive SQLite GLOB."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(f"[{nxt}]" if nxt in "*?[" else nxt)
            i += 2
            continue
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _geodesic_buffer(geom: BaseGeometry, metres: float) -> BaseGeometry:
    """``geom`` grown by ``metres``: buffered in an azimuthal equidistant projection centred on it."""
    from pyproj import CRS, Transformer

    if geom.is_empty:
        return geom
    if metres > 2_000_000:
        raise _bad("s_dwithin distances above 2000 km are not supported.")
    c = geom.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m")
    fwd = Transformer.from_crs("OGC:CRS84", aeqd, always_xy=True)
    back = Transformer.from_crs(aeqd, "OGC:CRS84", always_xy=True)
    local = shapely.ops.transform(fwd.transform, geom)
    grown = local.buffer(metres, quad_segs=32) if metres > 0 else local
    return shapely.ops.transform(back.transform, grown)


def _show(node: Any) -> str:
    s = orjson.dumps(node, default=str).decode() if not isinstance(node, str) else repr(node)
    return s[:80]


__all__ = ["parse", "Compiler", "MAX_DEPTH", "MAX_LENGTH", "MAX_NESTING", "MAX_OPERATORS", "MAX_JSON_NESTING"]
