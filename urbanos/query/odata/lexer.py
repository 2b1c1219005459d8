"""Tokenizer for OData ``$filter``/``$orderby`` expressions (the SensorThings subset).

One compiled regular expression recognises every token at a position; literal
values (times, durations, geometries) are converted here so that the parser
only sees typed tokens. Every error is a :class:`~urbanos.errors.BadRequest`
whose message names the 1-based character position and what was expected.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from urbanos.errors import BadRequest
from urbanos.query import ast
from urbanos.query.limits import wkt_problem

# Token kinds
LIT, IDENT, LPAREN, RPAREN, COMMA, SLASH, MINUS, END = "lit", "ident", "(", ")", ",", "/", "-", "end"

_DT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|z|[+-][0-9]{2}:?[0-9]{2})?"
_TOKEN = re.compile(
    r"""
    \s*(?:
    (?P<interval>(?:@DT@)/(?:@DT@|P[0-9WDTHMS.]+))(?![\w:.])
  | (?P<datetime>@DT@)(?![\w:.])
  | (?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})(?![\w:.])
  | (?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)(?![\w:.])
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)(?P<numtail>[\w.]?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<typed>(?i:geography|geometry|duration|datetime|datetimeoffset|date|time)'(?:[^']|'')*')
  | (?P<ident>[^\W\d][\w@]*(?::[^\W\d][\w@]*)?(?:\.[^\W\d]\w*)*|[@$][\w@]*(?:\.[^\W\d]\w*)*)
  | (?P<punct>[(),/-])
    )"""
    .replace("@DT@", _DT),
    re.VERBOSE,
)
_UNTERMINATED = re.compile(r"(?:geography|geometry|duration|datetime|datetimeoffset|date|time)?'", re.IGNORECASE)
_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<w>[0-9]+)W)?(?:(?P<d>[0-9]+)D)?(?:T(?:(?P<h>[0-9]+)H)?(?:(?P<m>[0-9]+)M)?(?:(?P<s>[0-9]+(?:\.[0-9]+)?)S)?)?"
)
_ASCII_DT = re.compile(rf"{_DT}")
_TIME_OF_DAY = re.compile(r"[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?")
_INT64 = 2**63 - 1
MAX_TEXT = 100_000


class Token:
    __slots__ = ("kind", "value", "pos", "text")

    def __init__(self, kind: str, value: Any, pos: int, text: str) -> None:
        self.kind = kind
        self.value = value  # ast.Literal for LIT, lower-case name for IDENT (text keeps the original)
        self.pos = pos
        self.text = text

    def describe(self) -> str:
        if self.kind == END:
            return "the end of the expression"
        return repr(self.text if len(self.text) <= 40 else self.text[:37] + "...")

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Token({self.kind}, {self.text!r}@{self.pos})"


def error(where: str, pos: int, message: str) -> BadRequest:
    """A BadRequest naming the option, the 1-based position and what went wrong."""
    return BadRequest(f"{where}: at position {pos + 1}: {message}", detail={"option": where, "position": pos + 1})


def parse_datetime(text: str) -> datetime:
    """ISO 8601 date-time; ``Z`` or an offset gives an aware value, none means UTC. ASCII only (Python's reader
    takes any character between the date and the time)."""
    if not _ASCII_DT.fullmatch(text):
        raise ValueError("expected an ISO 8601 date-time such as 2024-01-02T03:04:05Z (ASCII digits)")
    s = text
    if s[-1] in "Zz":
        s = s[:-1] + "+00:00"
    # Python accepts at most 6 fraction digits: cut the rest.
    m = re.match(r"^(.*T[0-9]{2}:[0-9]{2}:[0-9]{2})\.([0-9]+)(.*)$", s)
    if m:
        s = f"{m.group(1)}.{(m.group(2) + '000000')[:6]}{m.group(3)}"
    m = re.match(r"^(.*)([+-])([0-9]{2})([0-9]{2})$", s)
    if m and ":" not in s[-5:]:
        s = f"{m.group(1)}{m.group(2)}{m.group(3)}:{m.group(4)}"
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt.astimezone(UTC)  # OverflowError for instants outside years 1..9999 in UTC
    return dt


def parse_duration(text: str) -> timedelta:
    """ISO 8601 day-time duration (weeks, days, hours, minutes, seconds) as a timedelta."""
    m = _DURATION.fullmatch(text)
    if not m or text.rstrip("-") in ("P", "PT") or text.endswith("T"):
        raise ValueError("expected an ISO 8601 duration such as P1DT2H30M (years and months are not supported)")
    g = m.groupdict()
    td = timedelta(
        weeks=int(g["w"] or 0),
        days=int(g["d"] or 0),
        hours=int(g["h"] or 0),
        minutes=int(g["m"] or 0),
        seconds=float(g["s"] or 0),
    )
    return -td if g["sign"] else td


def parse_time(text: str) -> time:
    if not _TIME_OF_DAY.fullmatch(text):
        raise ValueError("expected a time of day such as 13:30:00 (ASCII digits)")
    parts = text.split(":")
    sec = parts[2] if len(parts) > 2 else "0"
    whole, _, frac = sec.partition(".")
    return time(int(parts[0]), int(parts[1]), int(whole), int((frac + "000000")[:6]))


def parse_geometry(text: str) -> Any:
    """WKT (optionally ``SRID=4326;``-prefixed) to a shapely geometry."""
    import shapely

    body = text.strip()
    if (problem := wkt_problem(body)) is not None:
        raise ValueError(problem)
    if body[:5].upper() == "SRID=":
        srid, sep, body = body.partition(";")
        if not sep or srid[5:].strip() not in ("4326", "0"):
            raise ValueError("only SRID 4326 (WGS84) geometries are supported")
    try:
        geom = shapely.from_wkt(body, on_invalid="raise")
    except Exception:
        # OGC 15-078r6 and 18-088 print POINT(-122, 43) in their examples: accept that one form too.
        m = re.fullmatch(r"\s*POINT\s*\(\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*\)\s*", body, re.IGNORECASE)
        if not m:
            raise
        geom = shapely.from_wkt(f"POINT ({m.group(1)} {m.group(2)})", on_invalid="raise")
    if geom is None or geom.is_empty:
        raise ValueError("the geometry is empty")
    if not shapely.is_valid(geom):
        raise ValueError(f"the geometry is not valid: {shapely.is_valid_reason(geom)}")
    return geom


def _literal(kind: str, text: str) -> ast.Literal:
    if kind == "interval":
        a, _, b = text.partition("/")
        start = parse_datetime(a)
        end = start + parse_duration(b) if b.startswith("P") else parse_datetime(b)
        if end < start:
            raise ValueError("the interval ends before it starts")
        return ast.Literal((start, end), ast.INTERVAL)
    if kind == "datetime":
        return ast.Literal(parse_datetime(text), ast.DATETIME)
    if kind == "date":
        return ast.Literal(date.fromisoformat(text), ast.DATE)
    if kind == "time":
        return ast.Literal(parse_time(text), ast.TIME)
    raise AssertionError(kind)


def _typed(text: str) -> ast.Literal:
    prefix, _, rest = text.partition("'")
    body = rest[:-1].replace("''", "'")
    p = prefix.lower()
    if p in ("geography", "geometry"):
        return ast.Literal(parse_geometry(body), ast.GEOMETRY)
    if p == "duration":
        return ast.Literal(parse_duration(body.strip()), ast.DURATION)
    if p in ("datetime", "datetimeoffset"):
        b = body.strip()
        return _literal("interval" if "/" in b else "datetime", b)
    if p == "date":
        return ast.Literal(date.fromisoformat(body.strip()), ast.DATE)
    return ast.Literal(parse_time(body.strip()), ast.TIME)


def tokenize(text: str, where: str = "$filter") -> list[Token]:
    if len(text) > MAX_TEXT:
        raise error(where, MAX_TEXT, f"the expression is longer than {MAX_TEXT} characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(where, exc.start, "the text is not valid Unicode") from None
    out: list[Token] = []
    pos, n = 0, len(text)
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            rest = len(text) - len(text[pos:].lstrip())
            if rest == n:
                break  # only whitespace is left
            pos = rest
            if _UNTERMINATED.match(text, pos):
                raise error(where, pos, "the quoted text is not closed (a quote inside text is written '')")
            raise error(where, pos, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind == "numtail":
            kind = "number"
        assert kind is not None
        pos = m.start(kind)
        tok_text = m.group(kind)
        try:
            if kind == "number":
                if m.group("numtail"):
                    bad = re.match(r"[\w.]+", text[pos:]).group(0)  # type: ignore[union-attr]
                    raise error(where, pos, f"{bad[:40]!r} is not a number")
                num = m.group("number")
                tok_text = num
                if "." in num or "e" in num or "E" in num:
                    f = float(num)
                    if not math.isfinite(f):
                        raise error(where, pos, f"the number {num} is out of range")
                    tok = Token(LIT, ast.Literal(f, ast.FLOAT), pos, num)
                else:
                    i = int(num)
                    lit = ast.Literal(i, ast.INT) if i <= _INT64 else ast.Literal(float(i), ast.FLOAT)
                    tok = Token(LIT, lit, pos, num)
                out.append(tok)
                pos += len(num)
                continue
            if "\x00" in tok_text:
                raise error(where, pos + tok_text.index("\x00"), "text cannot contain the NUL character")
            if kind == "string":
                tok = Token(LIT, ast.Literal(tok_text[1:-1].replace("''", "'"), ast.STRING), pos, tok_text)
            elif kind in ("interval", "datetime", "date", "time"):
                tok = Token(LIT, _literal(kind, tok_text), pos, tok_text)
            elif kind == "typed":
                tok = Token(LIT, _typed(tok_text), pos, tok_text)
            elif kind == "ident":
                low = tok_text.lower()
                if low == "true" or low == "false":
                    tok = Token(LIT, ast.Literal(low == "true", ast.BOOL), pos, tok_text)
                elif low == "null":
                    tok = Token(LIT, ast.Literal(None, ast.NULL), pos, tok_text)
                else:
                    tok = Token(IDENT, low, pos, tok_text)
            else:  # punct
                tok = Token(tok_text, None, pos, tok_text)
        except BadRequest:
            raise
        except Exception as exc:  # noqa: BLE001 - any conversion failure is the client's input
            reason = str(exc).split("\n")[0][:200] or exc.__class__.__name__
            raise error(where, pos, f"{tok_text[:60]!r} is not a valid literal ({reason})") from None
        out.append(tok)
        pos = m.end()
    out.append(Token(END, None, n, ""))
    return out


__all__ = ["Token", "tokenize", "error", "parse_datetime", "parse_duration", "parse_geometry", "LIT", "IDENT", "END"]
