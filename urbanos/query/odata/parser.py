"""Precedence-climbing parser for OData ``$filter`` and ``$orderby`` expressions.

Precedence, loosest first (all binary operators associate to the left)::

    or
    and
    not                      (applies to the comparison that follows: ``not a eq 1`` is ``not (a eq 1)``)
    eq ne
    gt ge lt le
    add sub
    mul div mod
    - (negation), not        (unary, inside arithmetic)
    literals, property paths (a/b/c), function calls, ( … )
"""

from __future__ import annotations

from functools import lru_cache

from urbanos.errors import BadRequest
from urbanos.query import ast
from urbanos.query.odata.lexer import END, IDENT, LIT, Token, error, tokenize

# name -> (min args, max args)
FUNCTIONS: dict[str, tuple[int, int]] = {
    # strings
    "substringof": (2, 2), "contains": (2, 2), "startswith": (2, 2), "endswith": (2, 2), "length": (1, 1),
    "indexof": (2, 2), "substring": (2, 3), "tolower": (1, 1), "toupper": (1, 1), "trim": (1, 1),
    "concat": (2, 2),
    # dates and times
    "year": (1, 1), "month": (1, 1), "day": (1, 1), "hour": (1, 1), "minute": (1, 1), "second": (1, 1),
    "fractionalseconds": (1, 1), "date": (1, 1), "time": (1, 1), "totaloffsetminutes": (1, 1),
    "now": (0, 0), "mindatetime": (0, 0), "maxdatetime": (0, 0),
    # math
    "round": (1, 1), "floor": (1, 1), "ceiling": (1, 1),
    # geospatial
    "geo.distance": (2, 2), "geo.length": (1, 1), "geo.intersects": (2, 2),
    "st_equals": (2, 2), "st_disjoint": (2, 2), "st_touches": (2, 2), "st_within": (2, 2),
    "st_overlaps": (2, 2), "st_crosses": (2, 2), "st_intersects": (2, 2), "st_contains": (2, 2),
    "st_relate": (3, 3),
    # time intervals (FROST-Server extension)
    "before": (2, 2), "after": (2, 2), "meets": (2, 2), "during": (2, 2), "overlaps": (2, 2),
    "starts": (2, 2), "finishes": (2, 2),
}
EQUALITY = frozenset(("eq", "ne"))
RELATIONAL = frozenset(("gt", "ge", "lt", "le"))
ADDITIVE = frozenset(("add", "sub"))
MULTIPLICATIVE = frozenset(("mul", "div", "mod"))
KEYWORDS = EQUALITY | RELATIONAL | ADDITIVE | MULTIPLICATIVE | {"and", "or", "not", "asc", "desc"}
MAX_DEPTH = 50


class Parser:
    __slots__ = ("toks", "i", "where", "depth")

    def __init__(self, text: str, where: str) -> None:
        self.where = where
        self.toks = tokenize(text, where)
        self.i = 0
        self.depth = 0

    # -- helpers -------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def fail(self, expected: str, tok: Token | None = None) -> BadRequest:
        t = tok or self.tok
        return error(self.where, t.pos, f"expected {expected}, found {t.describe()}")

    def word(self, names: frozenset[str] | tuple[str, ...]) -> str | None:
        t = self.toks[self.i]
        if t.kind == IDENT and t.value in names:
            self.i += 1
            return str(t.value)
        return None

    def expect(self, kind: str, what: str) -> Token:
        t = self.toks[self.i]
        if t.kind != kind:
            raise self.fail(what)
        self.i += 1
        return t

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise error(self.where, self.tok.pos, f"the expression is nested more than {MAX_DEPTH} levels deep")

    # -- grammar -------------------------------------------------------------------------------
    def expression(self) -> ast.Node:
        left = self.conjunction()
        while self.word(("or",)):
            left = ast.BinOp("or", left, self.conjunction())
        return left

    def conjunction(self) -> ast.Node:
        left = self.negation()
        while self.word(("and",)):
            left = ast.BinOp("and", left, self.negation())
        return left

    def negation(self) -> ast.Node:
        t = self.tok
        if t.kind == IDENT and t.value == "not" and self.toks[self.i + 1].kind not in ("/", "(", END):
            self.i += 1
            self.enter()
            node = ast.Not(self.negation())
            self.depth -= 1
            return node
        return self.equality()

    def equality(self) -> ast.Node:
        left = self.relational()
        while op := self.word(EQUALITY):
            left = ast.BinOp(op, left, self.relational())
        return left

    def relational(self) -> ast.Node:
        left = self.additive()
        while op := self.word(RELATIONAL):
            left = ast.BinOp(op, left, self.additive())
        return left

    def additive(self) -> ast.Node:
        left = self.multiplicative()
        while op := self.word(ADDITIVE):
            left = ast.BinOp(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> ast.Node:
        left = self.unary()
        while op := self.word(MULTIPLICATIVE):
            left = ast.BinOp(op, left, self.unary())
        return left

    def unary(self) -> ast.Node:
        t = self.tok
        if t.kind == "-":
            nxt = self.toks[self.i + 1]
            if nxt.kind == LIT and nxt.pos == t.pos + 1 and nxt.value.kind in (ast.INT, ast.FLOAT):
                self.i += 2
                return ast.Literal(-nxt.value.value, nxt.value.kind)
            self.i += 1
            self.enter()
            node: ast.Node = ast.Neg(self.unary())
            self.depth -= 1
            return node
        if t.kind == IDENT and t.value == "not" and self.toks[self.i + 1].kind not in ("/", END):
            self.i += 1
            self.enter()
            node = ast.Not(self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> ast.Node:
        t = self.tok
        if t.kind == LIT:
            self.i += 1
            return t.value  # type: ignore[no-any-return]
        if t.kind == "(":
            self.i += 1
            self.enter()
            node = self.expression()
            self.depth -= 1
            self.expect(")", "')' or an operator")
            return node
        if t.kind == IDENT:
            if self.toks[self.i + 1].kind == "(":
                return self.call()
            if "." in t.text and not t.text.startswith("@"):
                raise error(self.where, t.pos, f"{t.text!r} is a function and needs '(' and its arguments")
            if t.value in KEYWORDS and t.value != "not":
                raise self.fail("a value, a property or a function")
            return self.path()
        raise self.fail("a value, a property or a function")

    def path(self) -> ast.Property:
        parts = [self.tok.text]
        self.i += 1
        while self.tok.kind == "/":
            self.i += 1
            t = self.tok
            if t.kind != IDENT or ("." in t.text and not t.text.startswith("@")):
                raise self.fail("a property name after '/'")
            parts.append(t.text)
            self.i += 1
        return ast.Property(tuple(parts))

    def call(self) -> ast.Call:
        t = self.tok
        name = str(t.value)
        arity = FUNCTIONS.get(name)
        if arity is None:
            raise error(self.where, t.pos, f"unknown function {t.text!r}")
        self.i += 2
        self.enter()
        args: list[ast.Node] = []
        if self.tok.kind != ")":
            args.append(self.expression())
            while self.tok.kind == ",":
                self.i += 1
                args.append(self.expression())
        self.expect(")", "',' or ')' to close the arguments of " + name)
        self.depth -= 1
        lo, hi = arity
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} or {hi}"
            raise error(self.where, t.pos, f"{name} takes {want} argument{'s' if hi != 1 else ''}, not {len(args)}")
        return ast.Call(name, tuple(args))

    def finish(self, what: str = "an operator or the end of the expression") -> None:
        if self.tok.kind != END:
            raise self.fail(what)


def parse_filter(text: str, where: str = "$filter") -> ast.Node:
    """Parse a ``$filter`` expression into an :mod:`urbanos.query.ast` tree (BadRequest on any error).

    Trees are immutable, so the last 1024 distinct expressions are kept: a dashboard polling the same
    filter parses it once."""
    if not isinstance(text, str):
        raise BadRequest(f"{where} must be text.")
    if len(text) > 4096:
        return _parse_filter(text, where)
    return _parse_filter_cached(text, where)


def _parse_filter(text: str, where: str) -> ast.Node:
    p = Parser(text, where)
    if p.tok.kind == END:
        raise error(where, 0, "expected an expression, found nothing")
    node = p.expression()
    p.finish()
    return node


_parse_filter_cached = lru_cache(maxsize=1024)(_parse_filter)


def parse_orderby(text: str, where: str = "$orderby") -> tuple[ast.OrderBy, ...]:
    """``expr [asc|desc], …`` into OrderBy items."""
    p = Parser(text, where)
    items: list[ast.OrderBy] = []
    while True:
        if p.tok.kind in (END, ","):
            raise p.fail("an expression to order by")
        expr = p.expression()
        direction = p.word(("asc", "desc"))
        items.append(ast.OrderBy(expr, direction == "desc"))
        if p.tok.kind == END:
            return tuple(items)
        if p.tok.kind != ",":
            raise p.fail("'asc', 'desc', ',' or the end of $orderby")
        p.i += 1


__all__ = ["FUNCTIONS", "parse_filter", "parse_orderby", "Parser"]
