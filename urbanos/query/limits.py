"""Bounds on untrusted expression text, measured on the text before any parser sees it.

Some parsers the platform hands user text to recurse once per level of nesting, in native code (the ``cql2``
package, GEOS) or in Python (sqlglot): deep enough input overflows the thread's stack and kills the process, or
costs exponential time. The functions here measure the text with a flat scan (no recursion, linear time) and
return a message naming the limit and the fix when the text is over it, or ``None``. Callers raise that message
as their standard's 400.

What is measured:

- **nesting**: parentheses and brackets outside string literals, plus prefix operators (``NOT``, unary ``-``/``+``)
  that are still open at a point, the way a recursive-descent parser stacks them: ``NOT NOT NOT a`` and
  ``((a))`` both nest three deep at ``a`` (counting the outermost level);
- **operators**: binary arithmetic operators (a chain ``1+1+1…`` is a tree as deep as it is long);
- **JSON nesting**: arrays and objects, outside strings.

Nothing here does I/O; every function is linear in the length of its input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# -- CQL2 text -------------------------------------------------------------------------------------------------------

CQL2_MAX_LENGTH = 20_000
CQL2_MAX_NESTING = 64
CQL2_MAX_OPERATORS = 256
JSON_MAX_NESTING = 100
BODY_MAX_NESTING = 64  # JSON request bodies: far below orjson's limits (1024 to read, 254 to write back)
GEOJSON_MAX_NESTING = 16
WKT_MAX_NESTING = 16
SQL_MAX_NESTING = 24
SQL_MAX_BRACKETS = 6

_CQL2_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<word>[^\W\d][\w.:]*)
  | (?P<quote>['"])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
# words that are operators (after them a '-' or '+' is a sign, not a subtraction)
_CQL2_KEYWORDS = frozenset({"AND", "OR", "NOT", "IS", "LIKE", "IN", "BETWEEN", "DIV"})
_WKT_WORDS = frozenset({"POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON",
                        "GEOMETRYCOLLECTION", "BBOX", "ENVELOPE"})
_WKT_DIMS = frozenset({"Z", "M", "ZM"})
_BINARY = frozenset("+-*/%^")


@dataclass(frozen=True)
class Shape:
    """What :func:`cql2_text_shape` measured: the deepest nesting and the number of binary arithmetic operators;
    ``unclosed`` is the 0-based position of a quote that is never closed (or -1)."""

    nesting: int
    operators: int
    unclosed: int = -1


def cql2_text_shape(text: str) -> Shape:
    """Measure CQL2 text (strings in ``'…'`` and identifiers in ``"…"``, each with its quote doubled inside)."""
    stack: list[tuple[int, bool]] = []  # (nesting before the group, inside a geometry literal)
    base, run, deepest, operators = 0, 0, 0, 0
    operand = False  # the previous token ends an operand (so '-' after it subtracts)
    wkt_next = False  # the previous word names a geometry: its '(' opens a geometry literal
    in_wkt = False
    pos, n = 0, len(text)
    match = _CQL2_TOKEN.match
    while pos < n:
        m = match(text, pos)
        assert m is not None  # the last alternative matches any character
        kind = m.lastgroup
        tok = m.group()
        pos = m.end()
        if kind == "space":
            continue
        if kind == "quote":
            end = _closing_quote(text, pos, tok)
            if end < 0:
                return Shape(max(deepest, base + run), operators, pos - 1)
            pos = end + 1
            operand, run, wkt_next = True, 0, False
            continue
        if kind == "number":
            operand, run, wkt_next = True, 0, False
            continue
        if kind == "word":
            upper = tok.upper()
            if upper in _WKT_WORDS:
                wkt_next, operand, run = True, True, 0
            elif upper in _WKT_DIMS and wkt_next:
                pass
            elif upper == "NOT" and not operand:
                run += 1
                deepest = max(deepest, base + run)
                wkt_next = False
            elif upper in _CQL2_KEYWORDS:
                if upper == "DIV" and operand:
                    operators += 1
                operand, wkt_next = False, False
            else:
                operand, run, wkt_next = True, 0, False
            continue
        # punctuation
        if tok in "([":
            stack.append((base, in_wkt))
            in_wkt = in_wkt or wkt_next
            base = base + run + 1
            run, operand, wkt_next = 0, False, False
            deepest = max(deepest, base)
        elif tok in ")]":
            if stack:
                base, in_wkt = stack.pop()
            run, operand, wkt_next = 0, True, False
        elif tok in _BINARY:
            if in_wkt and tok in "+-":
                pass  # a sign inside coordinates
            elif operand:
                operators += 1
                operand = False
            elif tok in "+-":
                run += 1
                deepest = max(deepest, base + run)
            wkt_next = False
        else:  # , = < > ! and anything else
            operand, wkt_next = False, False
            if tok == ",":
                run = 0
    return Shape(max(deepest, base + run), operators)


def _closing_quote(text: str, start: int, quote: str) -> int:
    """Index of the quote closing a literal whose content starts at ``start`` (a doubled quote is content)."""
    i = start
    while True:
        j = text.find(quote, i)
        if j < 0:
            return -1
        if j + 1 < len(text) and text[j + 1] == quote:
            i = j + 2
            continue
        return j


def cql2_text_problem(text: str, *, max_length: int = CQL2_MAX_LENGTH, max_nesting: int = CQL2_MAX_NESTING,
                      max_operators: int = CQL2_MAX_OPERATORS) -> str | None:
    """Why CQL2 text must not reach the parser, or None."""
    if len(text) > max_length:
        return f"the expression is {len(text)} characters long; the limit is {max_length}: shorten it."
    shape = cql2_text_shape(text)
    if shape.unclosed >= 0:
        return (f"the quoted text at position {shape.unclosed + 1} is not closed "
                "(a quote inside text is written twice: 'it''s').")
    if shape.nesting > max_nesting:
        return (f"the expression nests {shape.nesting} levels deep (parentheses, brackets and NOT or sign prefixes); "
                f"the limit is {max_nesting}: remove redundant parentheses and repeated NOTs or signs.")
    if shape.operators > max_operators:
        return (f"the expression has {shape.operators} arithmetic operators; the limit is {max_operators}: "
                "simplify the arithmetic.")
    return None


# -- JSON ------------------------------------------------------------------------------------------------------------

_JSON_SPECIAL = re.compile(rb'["\[\]{}]')
_JSON_STRING_END = re.compile(rb'(?:[^"\\]|\\.)*"', re.DOTALL)


def json_nesting(raw: str | bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text (strings skipped; malformed text measured as far as
    it goes)."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    depth = deepest = 0
    pos = 0
    search = _JSON_SPECIAL.search
    while True:
        m = search(data, pos)
        if m is None:
            return deepest
        ch = m.group()
        pos = m.end()
        if ch == b'"':
            end = _JSON_STRING_END.match(data, pos)
            if end is None:
                return deepest
            pos = end.end()
        elif ch in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
        elif depth:
            depth -= 1


def json_problem(raw: str | bytes, *, max_nesting: int = JSON_MAX_NESTING, what: str = "the JSON document") -> str | None:
    """Why a JSON document must not be parsed (``what`` names it in the message), or None."""
    depth = json_nesting(raw)
    if depth > max_nesting:
        return f"{what} nests {depth} arrays and objects deep; the limit is {max_nesting}: flatten it."
    return None


# -- WKT -------------------------------------------------------------------------------------------------------------

def wkt_problem(text: str, *, max_nesting: int = WKT_MAX_NESTING) -> str | None:
    """Why a WKT geometry must not reach GEOS (nested geometry collections recurse in native code), or None."""
    depth = deepest = 0
    for ch in text:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")" and depth:
            depth -= 1
    if deepest > max_nesting:
        return (f"the geometry nests {deepest} levels of parentheses; the limit is {max_nesting}: "
                "flatten nested GEOMETRYCOLLECTIONs.")
    return None


# -- SQL (sqlglot) ---------------------------------------------------------------------------------------------------

def sql_problem(sql: str, *, max_length: int = 100_000, max_nesting: int = SQL_MAX_NESTING,
                max_brackets: int = SQL_MAX_BRACKETS) -> str | None:
    """Why a SQL statement must not reach sqlglot's parser, or None.

    Measured on sqlglot's own tokens (PostgreSQL dialect), so strings, quoted names and comments are skipped
    exactly as the parser skips them: parentheses, ``CASE … END`` and prefix ``NOT``/``-``/``+``/``~`` runs nest
    (each level costs the parser about twenty Python frames), and brackets are bounded on their own (the parser
    backtracks at each nested ``ARRAY[``, in time exponential in their depth)."""
    if len(sql) > max_length:
        return f"the statement is {len(sql)} characters long; the limit is {max_length}: shorten it."
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    try:
        from sqlglot.dialects.postgres import Postgres

        tokens = Postgres().tokenize(sql)
    except SqlglotError:
        return None  # the parser reports the syntax error itself (its tokenizer is flat)
    opens = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.CASE}
    closes = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.END}
    prefix = {TokenType.NOT, TokenType.DASH, TokenType.PLUS, TokenType.TILDE}
    operand_ends = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.END, TokenType.NUMBER, TokenType.STRING,
                    TokenType.VAR, TokenType.IDENTIFIER, TokenType.NULL, TokenType.TRUE, TokenType.FALSE,
                    TokenType.STAR}
    stack: list[int] = []
    base = run = deepest = brackets = deep_brackets = 0
    operand = False
    for tok in tokens:
        t = tok.token_type
        if t in opens:
            stack.append(base)
            base = base + run + 1
            run = 0
            deepest = max(deepest, base)
            if t == TokenType.L_BRACKET:
                brackets += 1
                deep_brackets = max(deep_brackets, brackets)
            operand = False
        elif t in closes:
            if stack:
                base = stack.pop()
            if t == TokenType.R_BRACKET and brackets:
                brackets -= 1
            run, operand = 0, True
        elif t in prefix and not operand:
            run += 1
            deepest = max(deepest, base + run)
        else:
            operand = t in operand_ends
            if operand:
                run = 0
    deepest = max(deepest, base + run)
    if deepest > max_nesting:
        return (f"the statement nests {deepest} levels deep (parentheses, CASE and NOT or sign prefixes); the limit "
                f"is {max_nesting}: flatten subqueries into WITH clauses and remove redundant parentheses.")
    if deep_brackets > max_brackets:
        return f"the statement nests {deep_brackets} levels of brackets; the limit is {max_brackets}: flatten the arrays."
    return None


__all__ = [
    "Shape", "cql2_text_shape", "cql2_text_problem", "json_nesting", "json_problem", "wkt_problem", "sql_problem",
    "CQL2_MAX_LENGTH", "CQL2_MAX_NESTING", "CQL2_MAX_OPERATORS", "JSON_MAX_NESTING", "BODY_MAX_NESTING",
    "GEOJSON_MAX_NESTING", "WKT_MAX_NESTING",
    "SQL_MAX_NESTING", "SQL_MAX_BRACKETS",
]
