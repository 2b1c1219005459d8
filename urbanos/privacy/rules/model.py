"""Privacy rules: what a steward declares for a dataset, checked when it is declared (422 naming the field, nothing
stored), and said in plain language (English and German) for the dataset page and DCAT.

A declaration is ``{"rules": [rule, ...]}``; each rule has a ``kind`` and, optionally, ``role`` (the least role, for
the dataset's organisation, that sees the raw rows: ``steward`` by default; admins always do) and a narrowing
(``datastreams``: SensorThings Datastream ids, or ``collections``: feature collection names). Kinds:

* ``redact``: ``fields`` are removed (top-level keys, ``properties`` and ``parameters`` entries, record columns);
* ``pseudonymise``: ``fields`` become ``HMAC-SHA256(key, value)`` with the key of ``purpose`` and ``period``
  (``day``, ``month`` or ``year``), kept outside the database (:mod:`urbanos.privacy.rules.keys`);
* ``k-threshold``: a cell whose count (``field``, ``result`` by default) is below ``k`` is withheld and counted;
* ``aggregate``: rows are released only as aggregates per ``bucket_minutes`` × area (``h3_resolution`` or the
  polygons of the feature collection ``boundaries``), with ``statistic`` (``sum``, ``count`` or ``mean``) and an
  optional ``k`` below which a cell is withheld.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from urbanos.errors import ValidationFailed
from urbanos.governance.identity import ROLES

KINDS = ("redact", "pseudonymise", "k-threshold", "aggregate", "dp")
PERIODS = ("day", "month", "year")
STATISTICS = ("sum", "count", "mean")
MAX_RULES = 20
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$")
_PURPOSE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")


@dataclass(frozen=True)
class Rule:
    kind: str
    role: str = "steward"
    fields: tuple[str, ...] = ()
    purpose: str = ""
    period: str = "month"
    k: int = 0
    field: str = "result"
    bucket_minutes: int = 0
    h3_resolution: int | None = None
    boundaries: str | None = None
    statistic: str = "sum"
    epsilon: float = 0.0
    budget: float = 0.0
    bounds: tuple[float, float] = (0.0, 0.0)
    datastreams: tuple[int, ...] = ()
    collections: tuple[str, ...] = ()
    index: int = 0

    @property
    def label(self) -> str:
        """How errors and notes name the rule."""
        return f"rule {self.index + 1} ({self.kind})"

    def narrowed(self) -> bool:
        return bool(self.datastreams or self.collections)

    def covers(self, meta: dict[str, Any] | None) -> bool:
        """Does the rule apply to a row described by ``meta``? Unknown rows are covered (fail closed)."""
        if not self.narrowed():
            return True
        if meta is None:
            return True
        ds, coll = meta.get("datastream"), meta.get("collection")
        if ds is None and coll is None:
            return True
        return (ds is not None and int(ds) in self.datastreams) or (coll is not None and coll in self.collections)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "role": self.role}
        if self.kind in ("redact", "pseudonymise"):
            out["fields"] = list(self.fields)
        if self.kind == "pseudonymise":
            out.update(purpose=self.purpose, period=self.period)
        if self.kind == "k-threshold":
            out.update(k=self.k, field=self.field)
        if self.kind == "aggregate":
            out.update(bucket_minutes=self.bucket_minutes, statistic=self.statistic)
            if self.h3_resolution is not None:
                out["h3_resolution"] = self.h3_resolution
            if self.boundaries is not None:
                out["boundaries"] = self.boundaries
            if self.k:
                out["k"] = self.k
        if self.kind == "dp":
            out.update(epsilon=self.epsilon, budget=self.budget, period=self.period, bounds=list(self.bounds))
        if self.datastreams:
            out["datastreams"] = list(self.datastreams)
        if self.collections:
            out["collections"] = list(self.collections)
        return out


@dataclass(frozen=True)
class RuleSet:
    dataset_id: int
    version: int
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    actor: str = ""
    at: str = ""


def _fail(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{name}: {message}", status=422, code="invalid_privacy_rule", detail={name: [message]})


def _int(r: dict[str, Any], key: str, where: str, lo: int, hi: int, default: int | None = None) -> int:
    v = r.get(key, default)
    if v is None or isinstance(v, bool) or not isinstance(v, int):
        raise _fail(f"{where}.{key}", f"an integer from {lo} to {hi} is required")
    if not lo <= v <= hi:
        raise _fail(f"{where}.{key}", f"{v} is outside {lo}..{hi}")
    return v


def _names(r: dict[str, Any], key: str, where: str, pattern: re.Pattern[str], required: bool) -> tuple[str, ...]:
    v = r.get(key)
    if v is None and not required:
        return ()
    if not isinstance(v, list) or (required and not v) or len(v) > 50:
        raise _fail(f"{where}.{key}", "a non-empty list (at most 50) of names is required")
    for x in v:
        if not isinstance(x, str) or not pattern.match(x):
            raise _fail(f"{where}.{key}", f"{x!r} is not a field name")
    return tuple(v)


def parse_rule(r: Any, i: int) -> Rule:
    """One rule of a declaration, checked by itself (names of collections and fields are checked by the caller)."""
    where = f"rules[{i}]"
    if not isinstance(r, dict):
        raise _fail(where, "an object is required")
    kind = r.get("kind")
    if kind not in KINDS:
        raise _fail(f"{where}.kind", f"one of {', '.join(KINDS)} is required")
    known = {"kind", "role", "fields", "purpose", "period", "k", "field", "bucket_minutes", "h3_resolution", "boundaries",
             "statistic", "datastreams", "collections", "epsilon", "budget", "bounds"}
    extra = sorted(set(r) - known)
    if extra:
        raise _fail(f"{where}.{extra[0]}", "is not a property of a privacy rule")
    role = r.get("role", "steward")
    if role not in ROLES or role == "reader":
        raise _fail(f"{where}.role", "one of publisher, steward or admin is required")
    ds = r.get("datastreams")
    if ds is not None and (not isinstance(ds, list) or not ds or len(ds) > 100
                           or any(isinstance(x, bool) or not isinstance(x, int) or x < 1 for x in ds)):
        raise _fail(f"{where}.datastreams", "a non-empty list of Datastream ids is required")
    colls = _names(r, "collections", where, _FIELD, False)
    if ds and colls:
        raise _fail(f"{where}.collections", "narrow a rule by datastreams or by collections, not both")
    args: dict[str, Any] = {"kind": kind, "role": role, "datastreams": tuple(ds or ()), "collections": colls, "index": i}
    if kind in ("redact", "pseudonymise"):
        args["fields"] = _names(r, "fields", where, _FIELD, True)
    if kind == "pseudonymise":
        purpose = r.get("purpose")
        if not isinstance(purpose, str) or not _PURPOSE.match(purpose):
            raise _fail(f"{where}.purpose", "a purpose name (lower-case letters, digits and '-') is required")
        period = r.get("period", "month")
        if period not in PERIODS:
            raise _fail(f"{where}.period", f"one of {', '.join(PERIODS)} is required")
        args.update(purpose=purpose, period=period)
    if kind == "k-threshold":
        args["k"] = _int(r, "k", where, 2, 1_000_000)
        f = r.get("field", "result")
        if not isinstance(f, str) or not _FIELD.match(f):
            raise _fail(f"{where}.field", "a field name is required")
        args["field"] = f
    if kind == "aggregate":
        args["bucket_minutes"] = _int(r, "bucket_minutes", where, 1, 60 * 24 * 366)
        res, bounds = r.get("h3_resolution"), r.get("boundaries")
        if (res is None) == (bounds is None):
            raise _fail(f"{where}.h3_resolution", "give either h3_resolution or boundaries (a feature collection)")
        if res is not None:
            args["h3_resolution"] = _int(r, "h3_resolution", where, 0, 15)
        else:
            if not isinstance(bounds, str) or not _FIELD.match(bounds):
                raise _fail(f"{where}.boundaries", "the name of a feature collection is required")
            args["boundaries"] = bounds
        stat = r.get("statistic", "sum")
        if stat not in STATISTICS:
            raise _fail(f"{where}.statistic", f"one of {', '.join(STATISTICS)} is required")
        args["statistic"] = stat
        if "k" in r:
            args["k"] = _int(r, "k", where, 2, 1_000_000)
    if kind == "dp":
        args.update(_dp(r, where))
    return Rule(**args)


def _number(r: dict[str, Any], key: str, where: str, lo: float, hi: float, default: float | None = None) -> float:
    v = r.get(key, default)
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
        raise _fail(f"{where}.{key}", "a number is required")
    if not lo <= v <= hi:
        raise _fail(f"{where}.{key}", f"{v} is outside {lo}..{hi}")
    return float(v)


def _dp(r: dict[str, Any], where: str) -> dict[str, Any]:
    """Differential privacy: ``epsilon`` per release, ``budget`` per ``period``, ``bounds`` of one value (sums)."""
    out: dict[str, Any] = {"epsilon": _number(r, "epsilon", where, 1e-6, 10.0),
                           "budget": _number(r, "budget", where, 0.0, 1e6)}
    period = r.get("period", "month")
    if period not in PERIODS:
        raise _fail(f"{where}.period", f"one of {', '.join(PERIODS)} is required")
    b = r.get("bounds", [0, 1000])
    if (not isinstance(b, list) or len(b) != 2 or any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in b)
            or not b[0] < b[1]):
        raise _fail(f"{where}.bounds", "[lower, upper] with lower < upper is required")
    out.update(period=period, bounds=(float(b[0]), float(b[1])))
    return out


def parse_declaration(body: Any) -> list[Rule]:
    """The rules of a PUT body; ValidationFailed (422) naming the first bad field."""
    if not isinstance(body, dict):
        raise _fail("body", "a JSON object with a 'rules' list is required")
    extra = sorted(set(body) - {"rules"})
    if extra:
        raise _fail(extra[0], "is not a property of a rules declaration")
    rules = body.get("rules")
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise _fail("rules", f"a list of at most {MAX_RULES} rules is required")
    out = [parse_rule(r, i) for i, r in enumerate(rules)]
    aggs = [r for r in out if r.kind == "aggregate" and not r.narrowed()]
    if len(aggs) > 1:
        raise _fail(f"rules[{aggs[1].index}].kind", "a dataset has at most one aggregate rule for all its rows")
    return out


def rule_from_json(data: dict[str, Any], i: int) -> Rule:
    return parse_rule(data, i)


_ROLE_DE = {"publisher": "Veröffentlichende", "steward": "Verantwortliche (Stewards)", "admin": "Administration"}


def _scope(r: Rule, de: bool) -> str:
    if r.datastreams:
        ids = ", ".join(str(x) for x in r.datastreams)
        return f" (nur Datenströme {ids})" if de else f" (Datastreams {ids} only)"
    if r.collections:
        names = ", ".join(r.collections)
        return f" (nur Sammlungen {names})" if de else f" (collections {names} only)"
    return ""


def describe(r: Rule, lang: str = "en") -> str:
    """One rule in plain language."""
    de = lang == "de"
    f = ", ".join(r.fields)
    if r.kind == "redact":
        text = f"Die Felder {f} werden entfernt" if de else f"The fields {f} are removed"
    elif r.kind == "pseudonymise":
        per = {"day": "Tag", "month": "Monat", "year": "Jahr"}[r.period] if de else r.period
        text = (f"Die Felder {f} werden durch Pseudonyme ersetzt (HMAC-SHA256, Schlüssel für den Zweck {r.purpose!r}, "
                f"neu je {per})" if de else
                f"The fields {f} are replaced by pseudonyms (HMAC-SHA256, a key for purpose {r.purpose!r}, new each {per})")
    elif r.kind == "k-threshold":
        text = (f"Werte von {r.field} unter {r.k} werden zurückgehalten; die Antwort nennt, wie viele" if de else
                f"Values of {r.field} below {r.k} are withheld; the answer says how many")
    elif r.kind == "dp":
        text = (f"Nur Anzahlen und Summen mit Differential Privacy (Laplace, ε = {r.epsilon:g} je Abfrage, Budget "
                f"{r.budget:g} je {r.period}); keine Einzelwerte" if de else
                f"Only counts and sums with differential privacy (Laplace, ε = {r.epsilon:g} per release, a budget of "
                f"{r.budget:g} per {r.period}); no single rows")
    else:
        area = (f"H3-Zellen der Auflösung {r.h3_resolution}" if de else f"H3 cells of resolution {r.h3_resolution}") \
            if r.h3_resolution is not None else (f"die Gebiete der Sammlung {r.boundaries}" if de
                                                 else f"the areas of collection {r.boundaries}")
        stat = {"sum": "Summe", "count": "Anzahl", "mean": "Mittelwert"}[r.statistic] if de else r.statistic
        text = (f"Nur Aggregate ({stat}) je {r.bucket_minutes} Minuten und {area}; keine Einzelwerte" if de else
                f"Only aggregates ({stat}) per {r.bucket_minutes} minutes and {area}; no single rows")
        if r.k:
            text += (f"; Zellen unter {r.k} werden zurückgehalten" if de else f"; cells below {r.k} are withheld")
    who = (f"für alle außer {_ROLE_DE[r.role]} der Organisation" if de else
           f"for everyone below the {r.role} role of the organisation")
    return f"{text}{_scope(r, de)}, {who}."


def boundaries_reach(ds_id: Any, ds_org: str | None, ds_level: str, b_id: Any, b_org: str | None, b_level: str) -> bool:
    """May everyone who may read dataset ``ds`` read the boundary collection's dataset ``b`` too? The area names
    are in every aggregate. Open and registered boundaries reach every reader of a non-open dataset; internal ones
    those of an internal dataset of the same organisation; confidential ones (read by grant) only their own
    dataset's readers. An open dataset needs open boundaries."""
    if b_id == ds_id or b_level == "open":
        return True
    if ds_level == "open":
        return False
    if b_level == "registered":
        return True
    return b_level == "internal" and ds_level == "internal" and b_org == ds_org


__all__ = ["Rule", "RuleSet", "KINDS", "parse_declaration", "parse_rule", "describe", "rule_from_json",
           "boundaries_reach"]
