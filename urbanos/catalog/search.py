"""Solr-style ``q`` / ``fq`` parsing and their translation to SQL (no Solr needed).

Syntax: bare words and ``"quoted phrases"`` (full text), ``field:value``, ``field:"phrase"``,
``field:prefix*``, ``field:*`` (has a value), ``field:(a OR b)``, ranges ``field:[a TO b]`` and
``{a TO b}`` (exclusive) with ``*`` and ``NOW``, ``NOW-7DAYS`` style date math, boolean ``AND``, ``OR``,
``NOT``, ``&&``, ``||``, ``+term``, ``-term`` and parentheses. Terms without an operator are ANDed.

Full text runs on SQLite FTS5 (bm25 ranking) or PostgreSQL tsvector (ts_rank_cd) over the words and stems
of :mod:`urbanos.catalog.stemming`: a word matches its English and German forms (``districts`` finds
``district``, ``Bezirk`` finds ``Bezirke``, ``strasse`` finds ``Straße``), on both back ends alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from urbanos.catalog import stemming
from urbanos.catalog.model import FACET_TABLE_FIELDS
from urbanos.catalog.uuids import DATASET_UUID_SQL, as_uuid
from urbanos.core import time as isotime
from urbanos.errors import BadRequest


class SearchQueryError(BadRequest):
    """The search query cannot be parsed (CKAN: 400 Search Query Error)."""

    code = "search_query_error"


@dataclass
class Node:
    op: str  # and | or | not | text | field | all
    children: list[Node] | None = None
    field: str = ""
    value: str = ""
    phrase: bool = False
    rng: tuple[str, str, bool, bool] | None = None


_WORD_END = set(' \t\r\n()"')


def _tokens(s: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    i, n = 0, len(s)
    while i < n:
        ch = s[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()":
            out.append((ch, ch))
            i += 1
            continue
        if s.startswith("&&", i):
            out.append(("AND", "AND"))
            i += 2
            continue
        if s.startswith("||", i):
            out.append(("OR", "OR"))
            i += 2
            continue
        if ch in "+-!" and i + 1 < n and not s[i + 1].isspace():
            out.append(("NOT", "NOT") if ch in "-!" else ("PLUS", "+"))
            i += 1
            continue
        if ch == '"':
            j, buf = i + 1, []
            while j < n and s[j] != '"':
                if s[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(s[j])
                j += 1
            if j >= n:
                raise SearchQueryError(f"Unclosed quote in query at position {i + 1}.")
            out.append(("PHRASE", "".join(buf)))
            i = j + 1
            continue
        j = i
        while j < n and s[j] not in _WORD_END and not (s[j] in "[{" and j > i and s[j - 1] == ":"):
            if s[j] == "\\" and j + 1 < n:
                j += 1
            j += 1
        word = s[i:j].replace("\\", "")
        if word.endswith(":") and len(word) > 1 and not word.startswith(":"):
            field = word[:-1]
            if j < n and s[j] == '"':
                k = s.find('"', j + 1)
                if k < 0:
                    raise SearchQueryError(f"Unclosed quote in query at position {j + 1}.")
                out.append(("FIELD", (field, s[j + 1:k], True)))
                i = k + 1
                continue
            if j < n and s[j] in "[{":
                m = re.match(r"([\[{])\s*(\S+)\s+TO\s+(\S+?)\s*([\]}])", s[j:])
                if not m:
                    raise SearchQueryError(f"Bad range for field {field!r}: expected [from TO to].")
                out.append(("RANGE", (field, m.group(2), m.group(3), m.group(1) == "[", m.group(4) == "]")))
                i = j + m.end()
                continue
            if j < n and s[j] == "(":
                out.append(("FIELDGROUP", field))
                i = j + 1
                out.append(("(", "("))
                continue
            raise SearchQueryError(f"Field {field!r} has no value.")
        if word in ("AND", "OR", "NOT"):
            out.append((word, word))
        elif ":" in word and not word.startswith(":") and not word.startswith("http"):
            field, _, value = word.partition(":")
            if not value:
                raise SearchQueryError(f"Field {field!r} has no value.")
            out.append(("FIELD", (field, value, False)))
        else:
            out.append(("WORD", word))
        i = j
    return out


MAX_NESTING = 32


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.t = tokens
        self.i = 0
        self.depth = 0
        self.default_field: list[str] = []

    def enter(self) -> None:
        """One more level of parentheses or NOT/-/+ prefixes (the parser recurses once per level)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise SearchQueryError(f"The query nests more than {MAX_NESTING} levels of parentheses and NOT, - or + "
                                   "prefixes; remove redundant ones.")

    def peek(self) -> str | None:
        return self.t[self.i][0] if self.i < len(self.t) else None

    def take(self) -> tuple[str, Any]:
        tok = self.t[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.t:
            return Node("all")
        node = self.or_expr()
        if self.i < len(self.t):
            raise SearchQueryError(f"Unexpected {self.t[self.i][1]!r} in query.")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Node("or", parts)

    def and_expr(self) -> Node:
        parts = [self.unary()]
        while self.peek() not in (None, "OR", ")"):
            if self.peek() == "AND":
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Node("and", parts)

    def unary(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise SearchQueryError("The query ends where a term is expected.")
        if kind == "NOT":
            self.take()
            self.enter()
            node = Node("not", [self.unary()])
            self.depth -= 1
            return node
        if kind == "PLUS":
            self.take()
            self.enter()
            node = self.unary()
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        kind, val = self.take()
        if kind == "(":
            self.enter()
            node = self.or_expr()
            self.depth -= 1
            if self.peek() != ")":
                raise SearchQueryError("Missing closing parenthesis in query.")
            self.take()
            return node
        if kind == "FIELDGROUP":
            self.take()  # the "(" emitted with it
            self.default_field.append(val)
            self.enter()
            node = self.or_expr()
            self.depth -= 1
            self.default_field.pop()
            if self.peek() != ")":
                raise SearchQueryError("Missing closing parenthesis in query.")
            self.take()
            return node
        if kind in ("WORD", "PHRASE"):
            if self.default_field:
                return Node("field", field=self.default_field[-1], value=val, phrase=kind == "PHRASE")
            if kind == "WORD" and val in ("*", "*:*"):
                return Node("all")
            return Node("text", value=val, phrase=kind == "PHRASE")
        if kind == "FIELD":
            field, value, phrase = val
            if field == "*" and value == "*":
                return Node("all")
            return Node("field", field=field, value=value, phrase=phrase)
        if kind == "RANGE":
            field, lo, hi, inc_lo, inc_hi = val
            return Node("field", field=field, rng=(lo, hi, inc_lo, inc_hi))
        raise SearchQueryError(f"Unexpected {val!r} in query.")


def parse(query: str) -> Node:
    if len(query) > 4000:
        raise SearchQueryError("The query is longer than 4000 characters.")
    return _Parser(_tokens(query or "")).parse()


# -- translation to SQL ------------------------------------------------------------------------------
_DATE_FIELDS = {"metadata_modified": "d.modified_at", "metadata_created": "d.created_at"}
_COLUMN_FIELDS = {"name": "d.name", "organization": "d.owner_org", "owner_org": "d.owner_org", "access_level": "d.access_level"}
_TEXT_FIELDS = {"text", "notes", "description", "title", "q"}
SORT_FIELDS = {"score": None, "metadata_modified": "d.modified_at", "metadata_created": "d.created_at", "name": "d.name",
               "title_string": "d.title", "title": "d.title", "id": DATASET_UUID_SQL}
"""Sort fields and their SQL: ``id`` sorts by the dataset's UUID as text (a random order that stays the same)."""
_DATEMATH = re.compile(r"^NOW(?:([+-])([0-9]{1,9})(DAY|DAYS|HOUR|HOURS|MONTH|MONTHS|YEAR|YEARS))?(?:/(DAY|HOUR))?$")


def _date(value: str, field: str) -> str:
    v = value.strip().upper()
    m = _DATEMATH.match(v)
    if m:
        now = datetime.now(UTC)
        if m.group(1):
            n = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
            unit = m.group(3).rstrip("S")
            days = {"DAY": 1, "HOUR": 1 / 24, "MONTH": 30.44, "YEAR": 365.25}[unit]
            try:
                now = now + timedelta(days=n * days)
            except OverflowError:
                raise SearchQueryError(f"{value!r} lies outside the years 1 to 9999 for {field}.") from None
        if m.group(4) == "DAY":
            now = now.replace(hour=0, minute=0, second=0, microsecond=0)
        elif m.group(4) == "HOUR":
            now = now.replace(minute=0, second=0, microsecond=0)
        return isotime.format_stored(now)
    try:
        dt = isotime.parse_utc(value.strip())
    except (ValueError, OverflowError):
        raise SearchQueryError(f"{value!r} is not a date for {field} (use ISO 8601 such as 2024-01-02T03:04:05Z, "
                               "* or NOW).") from None
    return isotime.format_stored(dt)


class Compiler:
    """Turns a parsed query into ``(sql, params)`` over ``datasets d`` and collects ranking terms."""

    def __init__(self, dialect: str, prefix: bool = False) -> None:
        self.dialect = dialect
        self.prefix = prefix
        """The search box's reading: every bare word of at least ``PREFIX_MIN`` characters also matches as the
        start of a longer word (``distr`` finds ``districts``). CKAN's ``q`` only where it ends in ``*``."""
        self.text = stemming.TextQuery(dialect)
        self.rank_terms: list[str] = []
        """The match expressions of the full-text terms that rank the results."""

    # full-text predicate for one word or phrase
    def fts_query(self, value: str, phrase: bool) -> str | None:
        """The match expression of a word, ``prefix*`` or phrase (None: it has no letters or digits). A word
        matches its folded form or its English or German stem; a phrase its words or their stems in order."""
        words: list[tuple[str, bool]] = []
        for piece in re.findall(r"\w+\*?", stemming.fold(value), flags=re.UNICODE):
            toks = stemming.tokens(piece.rstrip("*"))
            last = piece.endswith("*") or (self.prefix and not phrase)
            words += [(t, last and i == len(toks) - 1 and (piece.endswith("*") or len(t) >= stemming.PREFIX_MIN))
                      for i, t in enumerate(toks)]
        if not words:
            return None
        if phrase:
            return self.text.phrase_of([t for t, _p in words])
        return self.text.words(words)

    def fts_sql(self, query: str) -> tuple[str, list[Any]]:
        if self.dialect == "sqlite":
            return "d.id IN (SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH ?)", [query]
        return "d.id IN (SELECT dataset_id FROM catalog_search WHERE tsv @@ CAST(? AS tsquery))", [query]

    def compile(self, node: Node, positive: bool = True) -> tuple[str, list[Any]]:
        if node.op == "all":
            return "1=1", []
        if node.op in ("and", "or"):
            parts = [self.compile(ch, positive) for ch in node.children or []]
            joiner = " AND " if node.op == "and" else " OR "
            return "(" + joiner.join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
        if node.op == "not":
            sql, params = self.compile((node.children or [])[0], not positive)
            return f"(NOT {sql})", params
        if node.op == "text":
            fq = self.fts_query(node.value, node.phrase)
            if fq is None:
                return "1=1", []
            if positive:
                self.rank_terms.append(fq)
            return self.fts_sql(fq)
        return self.field(node, positive)

    def field(self, node: Node, positive: bool) -> tuple[str, list[Any]]:
        f, v = node.field, node.value
        if f in _TEXT_FIELDS:
            if node.rng:
                raise SearchQueryError(f"Field {f!r} does not take a range.")
            if f == "title":
                if v == "*":
                    return "d.title <> ''", []
                return "LOWER(d.title) LIKE ?", [f"%{v.strip('*').lower()}%"]
            return self.compile(Node("text", value=v, phrase=node.phrase), positive)
        if f in _DATE_FIELDS:
            col = _DATE_FIELDS[f]
            if node.rng:
                lo, hi, inc_lo, inc_hi = node.rng
                parts, params = [], []
                if lo != "*":
                    parts.append(f"{col} {'>=' if inc_lo else '>'} ?")
                    params.append(_date(lo, f))
                if hi != "*":
                    parts.append(f"{col} {'<=' if inc_hi else '<'} ?")
                    params.append(_date(hi, f))
                return ("(" + " AND ".join(parts) + ")" if parts else "1=1"), params
            if v == "*":
                return "1=1", []
            return f"{col} LIKE ?", [_date(v, f)[: max(len(v.strip()), 10)] + "%"] if "T" not in v else [_date(v, f)]
        if node.rng:
            raise SearchQueryError(f"Ranges are supported on metadata_modified and metadata_created, not on {f!r}.")
        if f in ("capacity",):
            if v not in ("public", "private"):
                raise SearchQueryError("capacity is public or private.")
            return ("d.access_level = 'open'" if v == "public" else "d.access_level <> 'open'"), []
        if f in ("type", "dataset_type"):
            return ("1=1" if v in ("dataset", "*") else "1=0"), []
        if f == "id":  # the dataset's UUID (any case); the integer key is not public
            if v == "*":
                return "1=1", []
            u = as_uuid(v.strip())
            return ("d.id IN (SELECT dataset_id FROM catalog_dataset_ids WHERE uuid = ?)", [u]) if u else ("1=0", [])
        if f in _COLUMN_FIELDS:
            col = _COLUMN_FIELDS[f]
            if v == "*":
                return f"{col} IS NOT NULL", []
            if v.endswith("*") and not node.phrase:
                return f"{col} LIKE ?", [v[:-1] + "%"]
            if col == "d.owner_org" and as_uuid(v.strip()) is not None:  # the organisation's UUID, or a name like one
                return (f"({col} = ? OR {col} IN (SELECT o.name FROM organizations o JOIN catalog_org_ids i ON i.org_id = o.id"
                        " WHERE i.uuid = ?))"), [v, as_uuid(v.strip())]
            return f"{col} = ?", [v]
        if f in FACET_TABLE_FIELDS:
            if v == "*":
                return "d.id IN (SELECT dataset_id FROM catalog_facets WHERE field = ?)", [f]
            if f == "res_format":
                v = v.upper()
            if v.endswith("*") and not node.phrase:
                return "d.id IN (SELECT dataset_id FROM catalog_facets WHERE field = ? AND value LIKE ?)", [f, v[:-1] + "%"]
            return "d.id IN (SELECT dataset_id FROM catalog_facets WHERE field = ? AND value = ?)", [f, v]
        raise SearchQueryError(f"Unknown search field {f!r}.")

    def rank_query(self) -> str | None:
        if not self.rank_terms:
            return None
        joiner = " OR " if self.dialect == "sqlite" else " | "
        return joiner.join(f"({p})" for p in self.rank_terms)


def parse_sort(sort: str | None) -> list[tuple[str | None, str, str]]:
    """``"score desc, metadata_modified desc"`` -> [(column or None for score, field, direction)]."""
    out: list[tuple[str | None, str, str]] = []
    for part in (sort or "score desc, metadata_modified desc").split(","):
        bits = part.split()
        if not bits:
            continue
        field = bits[0]
        direction = bits[1].lower() if len(bits) > 1 else "asc"
        if field not in SORT_FIELDS or direction not in ("asc", "desc") or len(bits) > 2:
            raise SearchQueryError(f"Cannot sort by {part.strip()!r}: sort on one of {', '.join(sorted(SORT_FIELDS))} with asc or desc.")
        out.append((SORT_FIELDS[field], field, direction))
    return out


__all__ = ["SearchQueryError", "parse", "Compiler", "parse_sort", "SORT_FIELDS"]
